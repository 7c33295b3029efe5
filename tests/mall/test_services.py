"""Deli Serdang Mall rules: shop verification, legality formats, products, photos, counts,
the WhatsApp link and moderation."""

from __future__ import annotations

import io
import urllib.parse

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.core.errors import DomainError
from portal.core.uploads import ALLOWED_PHOTO_KINDS, check_upload, get_storage
from portal.extensions import db
from portal.mall import services as mall
from portal.mall.models import (
    SHOP_TRANSITIONS,
    ProductStat,
    ProductStatus,
    ReportReason,
    ReportStatus,
    Shop,
    ShopActor,
    ShopStatus,
)
from tests.factories import make_product, make_shop, make_user


class _Upload(io.BytesIO):
    filename = "foto.png"


def _photo(size: tuple[int, int] = (1600, 1200), colour: str = "orange"):
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return check_upload(
        _Upload(buf.getvalue()), field="photo", allowed=ALLOWED_PHOTO_KINDS, max_bytes=5 << 20
    )


def _admin():
    return make_user(roles=(Role.ADMIN,))


# --- shops --------------------------------------------------------------------------------------


def test_every_shop_transition_is_in_the_table_and_nothing_else():
    for frm in ShopStatus:
        for to in ShopStatus:
            for actor in ShopActor:
                shop = Shop(status=frm)
                if SHOP_TRANSITIONS.get((frm, to)) == actor:
                    shop.move_to(to, actor)
                    assert shop.status == to
                else:
                    with pytest.raises(DomainError):
                        shop.move_to(to, actor)


def test_verifying_a_shop_grants_the_seller_role_and_the_badge(ctx):
    shop = make_shop(status="submitted")
    assert not shop.owner.has_role(Role.SELLER)
    mall.verify_shop(shop, _admin())
    db.session.commit()
    assert shop.is_verified and shop.verified_at is not None
    assert shop.owner.has_role(Role.SELLER)


def test_changes_requested_then_submitted_again(ctx):
    shop = make_shop(status="submitted")
    admin = _admin()
    with pytest.raises(DomainError):
        mall.request_changes(shop, admin, " ")
    mall.request_changes(shop, admin, "Foto logo buram")
    assert shop.status == ShopStatus.CHANGES_REQUESTED and shop.status_reason == "Foto logo buram"
    mall.submit_shop(shop, shop.owner)
    assert shop.status == ShopStatus.SUBMITTED and shop.status_reason == ""


def test_only_admins_verify_and_only_owners_edit(ctx):
    shop = make_shop(status="submitted")
    stranger = make_user()
    with pytest.raises(DomainError):
        mall.verify_shop(shop, stranger)
    with pytest.raises(DomainError):
        mall.save_shop(shop, stranger, name="Toko Curian", whatsapp="081200001111")
    with pytest.raises(DomainError):
        mall.save_product(shop, None, stranger, name="X", price_min=1, unit="pcs")


def test_one_shop_per_person_with_a_unique_web_address(ctx):
    a = make_shop(name="Dapur Bu Sari")
    b = make_shop(name="Dapur  Bu Sári!")
    assert a.slug == "dapur-bu-sari" and b.slug == "dapur-bu-sari-2"
    with pytest.raises(DomainError):
        mall.open_shop(a.owner, name="Toko Kedua", whatsapp="081200001111", owner_name="A")


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("nib", "1234 5678 90123", "1234567890123"),
        ("pirt_number", "P-IRT No. 2061207010123-29", "206120701012329"),
        ("halal_number", "id 1211 0000 1234 50822", "ID12110000123450822"),
        ("bpom_number", "BPOM RI MD 224510101234", "MD224510101234"),
    ],
)
def test_legality_numbers_are_normalised(field, value, stored):
    assert mall.normalize_legality({field: value})[field] == stored


def test_the_p_irt_expiry_year_is_its_last_two_digits():
    assert mall.normalize_legality({"pirt_number": "2061207010123-29"})["pirt_expiry_year"] == 2029


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nib", "12345"),
        ("pirt_number", "12345678"),
        ("halal_number", "HALAL-123"),
        ("bpom_number", "XX123456"),
    ],
)
def test_bad_legality_numbers_are_refused_on_their_field(field, value):
    with pytest.raises(DomainError) as info:
        mall.normalize_legality({field: value})
    assert info.value.field == field


def test_badges_follow_the_legality_and_its_expiry(ctx):
    import datetime as dt

    shop = make_shop(
        halal_number="ID12110000123450822",
        halal_expiry=dt.date(2030, 1, 1),
        pirt_number="206120701012324",  # expired in 2024
        bpom_number="MD224510101234",
    )
    assert shop.badges(dt.date(2026, 11, 22)) == ["halal", "bpom"]
    assert shop.badges(dt.date(2031, 1, 1)) == ["bpom"]


# --- products -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price_kind": "fixed", "price_min": None}, "price_min"),
        ({"price_kind": "range", "price_min": 50_000, "price_max": 40_000}, "price_max"),
        ({"unit": "ton"}, "unit"),
        ({"min_order": 0}, "min_order"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_products_are_refused_on_their_field(ctx, data, field):
    shop = make_shop()
    base = {"name": "Kopi", "price_kind": "fixed", "price_min": 10_000, "unit": "pcs"}
    with pytest.raises(DomainError) as info:
        mall.save_product(shop, None, shop.owner, **{**base, **data})
    assert info.value.field == field


def test_asking_the_seller_stores_no_price(ctx):
    product = make_product(price_kind="ask", price_min=99, price_max=100)
    assert product.price_min is None and product.price_max is None


def test_a_blocked_product_cannot_be_published_again(ctx):
    product = make_product()
    report = mall.report_product(product, ReportReason.PROHIBITED, "", None)
    mall.resolve_report(report, _admin(), ReportStatus.HIDDEN, "Barang terlarang")
    assert product.status == ProductStatus.HIDDEN and not product.is_public
    with pytest.raises(DomainError):
        mall.set_product_status(product, product.shop.owner, ProductStatus.PUBLISHED)


def test_photos_become_webp_display_and_thumbnail_at_most_five(ctx):
    product = make_product()
    owner = product.shop.owner
    photo = mall.add_photo(product, owner, _photo())
    assert (photo.width, photo.height) == (1200, 900)
    assert (photo.thumb_width, photo.thumb_height) == (400, 300)
    data = get_storage().read(photo.thumb_key)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    for colour in ("red", "green", "blue", "white"):
        mall.add_photo(product, owner, _photo((200, 100), colour))
    with pytest.raises(DomainError) as info:
        mall.add_photo(product, owner, _photo())
    assert info.value.field == "photo"


def test_moving_a_photo_changes_the_cover_and_removing_deletes_the_files(ctx):
    product = make_product()
    owner = product.shop.owner
    first = mall.add_photo(product, owner, _photo(colour="red"))
    second = mall.add_photo(product, owner, _photo(colour="blue"))
    mall.move_photo(second, owner, -1)
    assert product.cover is second
    keys = (first.key, first.thumb_key)
    mall.remove_photo(first, owner)
    db.session.commit()
    assert [p.id for p in product.photos] == [second.id]
    for key in keys:
        with pytest.raises(Exception):  # noqa: B017 - any storage error: the file is gone
            get_storage().read(key)


def test_duplicating_copies_details_and_photos_as_a_draft(ctx):
    product = make_product(
        name="Ulos Sadum", price_kind="range", price_min=300_000, price_max=600_000
    )
    mall.add_photo(product, product.shop.owner, _photo())
    copy = mall.duplicate_product(product, product.shop.owner)
    db.session.commit()
    assert copy.status == ProductStatus.DRAFT and copy.name.startswith("Ulos Sadum")
    assert (copy.price_min, copy.price_max) == (300_000, 600_000)
    assert len(copy.photos) == 1 and copy.photos[0].key != product.photos[0].key


def test_views_and_clicks_are_counted_per_day(ctx):
    product = make_product()
    for _ in range(3):
        mall.record_view(product)
    mall.record_whatsapp_click(product)
    db.session.commit()
    assert db.session.scalar(select(func.count(ProductStat.id))) == 1
    assert mall.stats_30_days(product.shop) == {product.id: (3, 1)}


def test_only_the_count_skips_the_wait_for_the_disk(ctx):
    """PostgreSQL: a view count commits without waiting for the WAL flush, and the next
    transaction on the same connection (a payment, say) waits again. SQLite has no such mode."""
    from sqlalchemy import text

    product = make_product()
    db.session.commit()
    if db.engine.dialect.name != "postgresql":
        mall.record_view(product)
        db.session.commit()
        assert mall.stats_30_days(product.shop) == {product.id: (1, 0)}
        return
    connection = db.session.connection()
    assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
    mall.record_view(product)
    assert connection.execute(text("SHOW synchronous_commit")).scalar() == "off"
    db.session.commit()
    assert db.session.connection().execute(text("SHOW synchronous_commit")).scalar() == "on"
    assert mall.stats_30_days(product.shop) == {product.id: (1, 0)}


def test_the_whatsapp_link_names_the_product_and_its_page(ctx):
    product = make_product(name="Keripik Pisang")
    link = mall.whatsapp_link(product, "https://portal.example/mall/products/1")
    assert link.startswith("https://wa.me/6281277770000?text=")
    text = urllib.parse.unquote(link.split("text=", 1)[1])
    assert "Keripik Pisang" in text and "https://portal.example/mall/products/1" in text


# --- moderation ---------------------------------------------------------------------------------


def test_reports_need_detail_for_other_and_are_handled_once(ctx):
    product = make_product()
    with pytest.raises(DomainError):
        mall.report_product(product, ReportReason.OTHER, " ", None)
    report = mall.report_product(product, ReportReason.FRAUD, "Minta transfer dulu", None)
    admin = _admin()
    with pytest.raises(DomainError):
        mall.resolve_report(report, admin, ReportStatus.WARNED, "")
    mall.resolve_report(report, admin, ReportStatus.WARNED, "Jangan minta transfer di muka")
    assert product.shop.warnings == 1 and report.status == ReportStatus.WARNED
    with pytest.raises(DomainError):
        mall.resolve_report(report, admin, ReportStatus.DISMISSED, "")


def test_suspending_through_a_report_takes_the_shop_offline(ctx):
    product = make_product()
    report = mall.report_product(product, ReportReason.FRAUD, "Penipuan", None)
    mall.resolve_report(report, _admin(), ReportStatus.SUSPENDED, "Penipuan berulang")
    assert product.shop.status == ShopStatus.SUSPENDED
    assert mall.public_product(product.id) is None
    assert mall.public_shop(product.shop.slug) is None


def test_new_legality_numbers_send_a_verified_shop_back_for_verification(ctx):
    shop = make_shop(name="Rumah Ulos")
    data = {"name": "Rumah Ulos Baru", "whatsapp": "081277770000", "owner_name": "A"}
    mall.save_shop(shop, shop.owner, **data)
    assert shop.status == ShopStatus.VERIFIED and shop.slug == "rumah-ulos"  # address kept
    mall.save_shop(shop, shop.owner, **data, halal_number="ID12110000123450822")
    assert shop.status == ShopStatus.SUBMITTED
