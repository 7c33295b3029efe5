"""Read-only queries behind the Mall's admin pages: shops by status (with one grouped count),
one shop's products and open reports, the moderation queue, and every category.

The rules (verification, suspension, moderation) stay in `services`; these only read, in a fixed
number of queries per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import User
from portal.extensions import db
from portal.mall import services
from portal.mall.models import (
    MallCategory,
    Product,
    ProductStatus,
    Report,
    ReportStatus,
    Shop,
    ShopStatus,
)

# The tabs of the shop list, in the order an admin works through them.
SHOP_TABS = (
    ShopStatus.SUBMITTED,
    ShopStatus.CHANGES_REQUESTED,
    ShopStatus.VERIFIED,
    ShopStatus.SUSPENDED,
    ShopStatus.DRAFT,
)
REPORT_QUEUE_LIMIT = 100

_SHOP_ORDER: dict[ShopStatus, tuple[Any, ...]] = {
    # Waiting longest first: verification is first come, first served.
    ShopStatus.SUBMITTED: (Shop.submitted_at.asc(), Shop.id.asc()),
    ShopStatus.CHANGES_REQUESTED: (Shop.updated_at.desc(), Shop.id.desc()),
    ShopStatus.VERIFIED: (Shop.verified_at.desc(), Shop.id.desc()),
    ShopStatus.SUSPENDED: (Shop.updated_at.desc(), Shop.id.desc()),
    ShopStatus.DRAFT: (Shop.created_at.desc(), Shop.id.desc()),
}


def shop_status_counts() -> dict[ShopStatus, int]:
    """How many shops are in each status, in one grouped query (zero for the empty ones)."""
    counts = dict.fromkeys(ShopStatus, 0)
    rows = db.session.execute(select(Shop.status, func.count(Shop.id)).group_by(Shop.status))
    for status, count in rows:
        counts[ShopStatus(status)] = int(count)
    return counts


def shops_in_status(status: ShopStatus, page: int = 1, per_page: int = 25) -> list[Shop]:
    """One page of shops in `status`, with owner, kecamatan and category loaded alongside."""
    return list(
        db.session.scalars(
            select(Shop)
            .where(Shop.status == status)
            .options(joinedload(Shop.owner), joinedload(Shop.kecamatan), joinedload(Shop.category))
            .order_by(*_SHOP_ORDER[status])
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )


@dataclass
class ShopOverview:
    """What an admin sees of a shop besides its own columns."""

    products: list[Product]
    counts: dict[ProductStatus, int]
    blocked: int
    open_reports: dict[int, int]  # product id -> open reports
    verified_by: User | None = None
    open_report_total: int = field(init=False)

    def __post_init__(self) -> None:
        self.open_report_total = sum(self.open_reports.values())


def shop_overview(shop: Shop) -> ShopOverview:
    products = services.shop_products(shop)
    counts = dict.fromkeys(ProductStatus, 0)
    for product in products:
        counts[product.status] += 1
    verified_by = db.session.get(User, shop.verified_by_id) if shop.verified_by_id else None
    return ShopOverview(
        products=products,
        counts=counts,
        blocked=sum(1 for p in products if p.blocked_reason is not None),
        open_reports=open_report_counts([p.id for p in products]),
        verified_by=verified_by,
    )


def open_report_counts(product_ids: list[int]) -> dict[int, int]:
    """{product id: number of open reports} for the given products, in one query."""
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(Report.product_id, func.count(Report.id))
        .where(Report.status == ReportStatus.OPEN, Report.product_id.in_(product_ids))
        .group_by(Report.product_id)
    )
    return {pid: int(n) for pid, n in rows}


def report_queue(limit: int = REPORT_QUEUE_LIMIT) -> tuple[list[Report], int, dict[int, int]]:
    """Open reports, oldest first, with product, photos, shop and reporter loaded; the total
    of open reports; and how many open reports each listed product has."""
    reports = list(
        db.session.scalars(
            select(Report)
            .where(Report.status == ReportStatus.OPEN)
            .options(
                joinedload(Report.product).joinedload(Product.shop),
                joinedload(Report.product).selectinload(Product.photos),
                joinedload(Report.reporter),
            )
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        )
    )
    total = db.session.scalar(
        select(func.count(Report.id)).where(Report.status == ReportStatus.OPEN)
    )
    counts = open_report_counts(sorted({r.product_id for r in reports}))
    return reports, int(total or 0), counts


def report_detail(report_id: int) -> Report | None:
    return db.session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .options(
            joinedload(Report.product).joinedload(Product.shop),
            joinedload(Report.product).selectinload(Product.photos),
            joinedload(Report.reporter),
        )
    )


def product_reports(product: Product) -> list[Report]:
    """Every report of a product, newest first (the moderator sees its history)."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.product_id == product.id)
            .options(selectinload(Report.reporter))
            .order_by(Report.created_at.desc(), Report.id.desc())
        )
    )


def all_categories() -> list[MallCategory]:
    """Every category, inactive ones too, in list order."""
    return list(
        db.session.scalars(select(MallCategory).order_by(MallCategory.position, MallCategory.name))
    )
