"""Deli Serdang Mall: categories, shops (with legality and verification), products and photos,
daily view/WhatsApp counts, and reports of listings.

The shop's state machine is one table, `SHOP_TRANSITIONS`; products move draft / published /
hidden, and a moderator's block keeps a product hidden whatever its seller does.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User, enum_column
from portal.core.errors import DomainError
from portal.core.time import utcnow
from portal.extensions import db
from portal.wilayah.models import AddressMixin

MAX_PHOTOS = 5


class MallCategory(db.Model):
    """A category of shops and products (Kuliner, Fesyen...); admins manage the list."""

    __tablename__ = "mall_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ShopStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    CHANGES_REQUESTED = "changes_requested"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return str(SHOP_STATUS_LABELS[self])


SHOP_STATUS_LABELS = {
    ShopStatus.DRAFT: _l("Draft"),
    ShopStatus.SUBMITTED: _l("Waiting for verification"),
    ShopStatus.VERIFIED: _l("Verified"),
    ShopStatus.CHANGES_REQUESTED: _l("Changes requested"),
    ShopStatus.SUSPENDED: _l("Suspended"),
}


class ShopActor(enum.StrEnum):
    SELLER = "seller"
    ADMIN = "admin"


SHOP_TRANSITIONS: dict[tuple[ShopStatus, ShopStatus], ShopActor] = {
    (ShopStatus.DRAFT, ShopStatus.SUBMITTED): ShopActor.SELLER,
    (ShopStatus.SUBMITTED, ShopStatus.VERIFIED): ShopActor.ADMIN,
    (ShopStatus.SUBMITTED, ShopStatus.CHANGES_REQUESTED): ShopActor.ADMIN,
    (ShopStatus.CHANGES_REQUESTED, ShopStatus.SUBMITTED): ShopActor.SELLER,
    (ShopStatus.VERIFIED, ShopStatus.SUSPENDED): ShopActor.ADMIN,
    # Changed legality numbers go back to the regency before the badge shows again.
    (ShopStatus.VERIFIED, ShopStatus.SUBMITTED): ShopActor.SELLER,
    (ShopStatus.SUSPENDED, ShopStatus.VERIFIED): ShopActor.ADMIN,
}

# Shops whose published products the public sees. Unverified shops are listed (without the
# badge) so a new seller is findable at once; suspended and draft shops are not.
PUBLIC_SHOP_STATUSES = frozenset(
    {ShopStatus.SUBMITTED, ShopStatus.VERIFIED, ShopStatus.CHANGES_REQUESTED}
)


class Shop(AddressMixin, db.Model):
    """A UMKM seller's shop: profile, contact, legality numbers and its verification status."""

    __tablename__ = "mall_shops"
    __table_args__ = (
        CheckConstraint("pirt_expiry_year IS NULL OR pirt_expiry_year BETWEEN 2000 AND 2100",
                        name="pirt_year"),
        Index("ix_mall_shops_status", "status", "kecamatan_code"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    owner_name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mall_categories.id"))
    whatsapp: Mapped[str] = mapped_column(String(16))
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    logo_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    nib: Mapped[str | None] = mapped_column(String(13))
    pirt_number: Mapped[str | None] = mapped_column(String(15))
    pirt_expiry_year: Mapped[int | None] = mapped_column(Integer)
    halal_number: Mapped[str | None] = mapped_column(String(40))
    halal_expiry: Mapped[dt.date | None] = mapped_column(Date)
    bpom_number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[ShopStatus] = mapped_column(
        enum_column(ShopStatus, 20), default=ShopStatus.DRAFT
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    category: Mapped[MallCategory | None] = relationship()

    @property
    def is_verified(self) -> bool:
        return self.status == ShopStatus.VERIFIED

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_SHOP_STATUSES

    def badges(self, today: dt.date | None = None) -> list[str]:
        """Legality badges in force: halal (not expired), P-IRT (not expired), BPOM."""
        today = today or dt.date.today()
        found = []
        if self.halal_number and (self.halal_expiry is None or self.halal_expiry >= today):
            found.append("halal")
        if self.pirt_number and (self.pirt_expiry_year or 0) >= today.year:
            found.append("pirt")
        if self.bpom_number:
            found.append("bpom")
        return found

    def move_to(self, to: ShopStatus, as_: ShopActor) -> None:
        if SHOP_TRANSITIONS.get((self.status, to)) != as_:
            from flask_babel import gettext as _

            raise DomainError(
                None,
                _(
                    "A shop that is \u201c%(frm)s\u201d cannot become \u201c%(to)s\u201d.",
                    frm=self.status.label,
                    to=to.label,
                ),
            )
        self.status = to

    def __repr__(self) -> str:
        return f"<Shop {self.slug} {self.status}>"


class PriceKind(enum.StrEnum):
    FIXED = "fixed"
    RANGE = "range"
    ASK = "ask"


class Availability(enum.StrEnum):
    AVAILABLE = "available"
    PREORDER = "preorder"
    OUT_OF_STOCK = "out_of_stock"

    @property
    def label(self) -> str:
        return str(AVAILABILITY_LABELS[self])


AVAILABILITY_LABELS = {
    Availability.AVAILABLE: _l("Available"),
    Availability.PREORDER: _l("Pre-order"),
    Availability.OUT_OF_STOCK: _l("Out of stock"),
}


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    HIDDEN = "hidden"

    @property
    def label(self) -> str:
        return str(PRODUCT_STATUS_LABELS[self])


PRODUCT_STATUS_LABELS = {
    ProductStatus.DRAFT: _l("Draft"),
    ProductStatus.PUBLISHED: _l("Published"),
    ProductStatus.HIDDEN: _l("Hidden"),
}

UNITS = ("pcs", "kg", "gram", "liter", "pack", "box", "botol", "lusin", "meter", "set", "porsi")


class Product(db.Model):
    """A listing. `search_text` is the folded text (name, description, shop name) that both
    databases' full-text indexes read; services keep it in step."""

    __tablename__ = "mall_products"
    __table_args__ = (
        CheckConstraint("price_min IS NULL OR price_min >= 0", name="price_min"),
        CheckConstraint(
            "price_max IS NULL OR (price_min IS NOT NULL AND price_max >= price_min)",
            name="price_range",
        ),
        CheckConstraint("min_order >= 1", name="min_order"),
        # Catalogue orderings, each ending in id so keyset pagination has a unique key.
        Index("ix_mall_products_public_new", "status", "published_at", "id"),
        Index("ix_mall_products_public_price", "status", "price_min", "id"),
        Index("ix_mall_products_shop", "shop_id", "status", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("mall_shops.id"))
    name: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mall_categories.id"), index=True)
    price_kind: Mapped[PriceKind] = mapped_column(
        enum_column(PriceKind, 8), default=PriceKind.FIXED
    )
    price_min: Mapped[int | None] = mapped_column(Integer)
    price_max: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    min_order: Mapped[int] = mapped_column(Integer, default=1)
    availability: Mapped[Availability] = mapped_column(
        enum_column(Availability, 16), default=Availability.AVAILABLE
    )
    description: Mapped[str] = mapped_column(Text, default="")
    ships_pickup: Mapped[bool] = mapped_column(Boolean, default=True)
    ships_local: Mapped[bool] = mapped_column(Boolean, default=False)
    ships_national: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ProductStatus] = mapped_column(
        enum_column(ProductStatus, 12), default=ProductStatus.DRAFT
    )
    # Set by a moderator: the product stays hidden until an admin lifts it.
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    shop: Mapped[Shop] = relationship()
    category: Mapped[MallCategory | None] = relationship()
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product", order_by="ProductPhoto.position", cascade="all, delete-orphan"
    )

    @property
    def cover(self) -> ProductPhoto | None:
        return self.photos[0] if self.photos else None

    @property
    def is_public(self) -> bool:
        return (
            self.status == ProductStatus.PUBLISHED
            and self.blocked_reason is None
            and self.shop.is_public
        )

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.name!r}>"


class ProductPhoto(db.Model):
    """A product photo: a WebP at display size and a <= 400 px WebP thumbnail, both public and
    immutable under random keys (so they can be cached for a year)."""

    __tablename__ = "mall_product_photos"
    __table_args__ = (Index("ix_mall_product_photos_product", "product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("mall_products.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    thumb_key: Mapped[str] = mapped_column(String(120), unique=True)
    thumb_width: Mapped[int] = mapped_column(Integer)
    thumb_height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="photos")


class ProductStat(db.Model):
    """Views and WhatsApp clicks of one product on one day (WIB), for the seller's dashboard."""

    __tablename__ = "mall_product_stats"
    __table_args__ = (UniqueConstraint("product_id", "day", name="uq_mall_stat_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("mall_products.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(Integer, default=0)
    wa_clicks: Mapped[int] = mapped_column(Integer, default=0)


class ReportReason(enum.StrEnum):
    PROHIBITED = "prohibited"
    FRAUD = "fraud"
    MISLEADING = "misleading"
    OFFENSIVE = "offensive"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(REPORT_REASON_LABELS[self])


REPORT_REASON_LABELS = {
    ReportReason.PROHIBITED: _l("Prohibited or dangerous goods"),
    ReportReason.FRAUD: _l("Looks like a scam"),
    ReportReason.MISLEADING: _l("Wrong or misleading information"),
    ReportReason.OFFENSIVE: _l("Offensive content"),
    ReportReason.OTHER: _l("Something else"),
}


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    HIDDEN = "hidden"
    WARNED = "warned"
    SUSPENDED = "suspended"
    DISMISSED = "dismissed"

    @property
    def label(self) -> str:
        return str(REPORT_STATUS_LABELS[self])


REPORT_STATUS_LABELS = {
    ReportStatus.OPEN: _l("Open"),
    ReportStatus.HIDDEN: _l("Listing hidden"),
    ReportStatus.WARNED: _l("Seller warned"),
    ReportStatus.SUSPENDED: _l("Shop suspended"),
    ReportStatus.DISMISSED: _l("Dismissed"),
}


class Report(db.Model):
    """Someone's report of a listing, waiting in the admins' moderation queue."""

    __tablename__ = "mall_reports"
    __table_args__ = (Index("ix_mall_reports_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("mall_products.id", ondelete="CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason, 16))
    detail: Mapped[str] = mapped_column(Text, default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, 12), default=ReportStatus.OPEN
    )
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    product: Mapped[Product] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
