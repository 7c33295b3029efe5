"""Deli Serdang Mall demo data: idempotent, big enough to try the catalogue, every shop state,
a reported listing, and real stored WebP photos.

One test seeds once (about 15 s: it draws and encodes some 380 photos) and checks everything.
"""

from __future__ import annotations

import io
import time

from PIL import Image
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.core.notifications import discard_queued_mail
from portal.core.uploads import get_storage
from portal.extensions import db
from portal.mall import services
from portal.mall.demo import seed_mall_demo
from portal.mall.models import (
    MallCategory,
    Product,
    ProductPhoto,
    ProductStatus,
    Report,
    ReportStatus,
    Shop,
    ShopStatus,
)
from portal.mall.services import PHOTO_SIZES
from tests.factories import make_user

COUNTED = (Shop, Product, ProductPhoto, Report)


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED)


def test_demo_is_idempotent_and_has_shops_products_photos_and_reports(ctx):
    seller = make_user(full_name="Rudi Penjual Siregar", phone="081260000002")
    admin = make_user(full_name="Admin Portal", roles=(Role.ADMIN,))
    started = time.perf_counter()
    seed_mall_demo(seller, admin)
    discard_queued_mail()
    took = time.perf_counter() - started
    first = _counts()
    seed_mall_demo(seller, admin)
    discard_queued_mail()
    assert _counts() == first
    assert took < 30, took  # on SQLite, photos included
    print(f"\nmall demo seeded in {took:.1f} s: shops, products, photos, reports = {first}")
    _check_shops(seller)
    _check_products()
    _check_reports()
    _check_photos()


def _check_shops(seller) -> None:  # type: ignore[no-untyped-def]
    shops = list(db.session.scalars(select(Shop)))
    assert len(shops) >= 30
    assert len({s.kecamatan_code for s in shops}) >= 15
    statuses = [s.status for s in shops]
    assert set(statuses) == set(ShopStatus)
    assert statuses.count(ShopStatus.SUSPENDED) == 1 and statuses.count(ShopStatus.DRAFT) == 1
    assert statuses.count(ShopStatus.CHANGES_REQUESTED) == 1
    assert statuses.count(ShopStatus.SUBMITTED) >= 2
    # The demo seller has a verified shop with several products, and the seller role.
    own = services.shop_of(seller)
    assert own is not None and own.status == ShopStatus.VERIFIED and seller.has_role(Role.SELLER)
    assert len(services.shop_products(own)) >= 8
    assert services.stats_30_days(own)  # views and clicks for the dashboard
    # Other sellers log in with demo accounts of their own.
    owners = {s.owner.email for s in shops if s.id != own.id}
    assert len(owners) == len(shops) - 1
    assert all(e.startswith("umkm") and e.endswith("@demo.test") for e in owners)
    # Legality: halal, P-IRT and BPOM badges on some shops; an expired P-IRT without its badge.
    badges = [set(s.badges()) for s in shops]
    assert any("halal" in b for b in badges) and any("pirt" in b for b in badges)
    assert any("bpom" in b for b in badges)
    assert any(s.pirt_number and "pirt" not in s.badges() for s in shops)
    assert sum(1 for s in shops if s.nib) >= 15
    assert sum(1 for s in shops if s.logo_key) >= 20


def _check_products() -> None:
    products = list(db.session.scalars(select(Product)))
    assert len(products) >= 300
    slugs = set(db.session.scalars(select(MallCategory.slug)))
    assert {p.category.slug for p in products} == slugs and len(slugs) == 7
    kinds = [p.price_kind.value for p in products]
    assert set(kinds) == {"fixed", "range", "ask"} and 0 < kinds.count("ask") < 30
    assert {p.availability.value for p in products} == {"available", "preorder", "out_of_stock"}
    assert sum(1 for p in products if p.is_public) >= 250
    assert any(p.status == ProductStatus.DRAFT for p in products)
    # The catalogue finds demo products by word.
    page = services.catalogue(services.CatalogueQuery(q="keripik"))
    assert page.products and all(p.is_public for p in page.products)


def _check_reports() -> None:
    # One listing waiting for the moderators; another one they have already hidden.
    open_reports = services.open_reports()
    assert len(open_reports) == 1 and open_reports[0].product.is_public
    hidden = db.session.scalar(select(Report).where(Report.status == ReportStatus.HIDDEN))
    assert hidden is not None and hidden.product.blocked_reason
    assert not hidden.product.is_public


def _check_photos() -> None:
    assert db.session.scalar(select(func.count(Product.id)).where(~Product.photos.any())) == 0
    storage = get_storage()
    display, thumb_max = PHOTO_SIZES
    photos = list(db.session.scalars(select(ProductPhoto).limit(20)))
    for photo in photos:
        for key, width, height, limit in (
            (photo.key, photo.width, photo.height, display),
            (photo.thumb_key, photo.thumb_width, photo.thumb_height, thumb_max),
        ):
            data = storage.read(key)
            assert key.endswith(".webp") and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
            with Image.open(io.BytesIO(data)) as image:
                assert image.size == (width, height)
            assert max(width, height) <= limit
    assert {(p.width, p.height, p.thumb_width, p.thumb_height) for p in photos} == {
        (480, 360, 400, 300)
    }
    logo = db.session.scalar(select(Shop).where(Shop.logo_key.is_not(None)).limit(1))
    assert storage.read(logo.logo_key)[8:12] == b"WEBP"
