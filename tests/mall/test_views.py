"""Deli Serdang Mall for visitors over HTTP: the catalogue (search, filters, load more, next
page), product and shop pages, the counted WhatsApp redirect, reports and public photos.

Pages are read in English (the `lang` cookie), so assertions do not depend on the catalogue.
"""

from __future__ import annotations

import io
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, func, select

from portal.core.time import today_wib
from portal.core.uploads import ALLOWED_PHOTO_KINDS, check_upload, get_storage
from portal.extensions import db
from portal.mall import services as mall
from portal.mall.models import Product, ProductStat, Report, ReportReason, Shop
from portal.wilayah.models import Desa
from tests.conftest import post
from tests.factories import make_product, make_shop

HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "catalogue-results"}
HTMX_LIST = {"HX-Request": "true", "HX-Target": "product-list"}
CARD_RE = re.compile(r'<li class="mall-card" id="product-(\d+)"')
# Kecamatan codes of the gazetteer, so shops are spread over several.
KECAMATAN = ["12.07.28", "12.07.27", "12.07.26", "12.07.25", "12.07.24", "12.07.23"]


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def cards(page: str) -> list[int]:
    return [int(i) for i in CARD_RE.findall(page)]


class _Upload(io.BytesIO):
    filename = "foto.png"


def _photo(size: tuple[int, int] = (800, 600), colour: str = "orange") -> Any:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return check_upload(
        _Upload(buf.getvalue()), field="photo", allowed=ALLOWED_PHOTO_KINDS, max_bytes=5 << 20
    )


def _in_app(app: Flask, fn: Callable[[], Any]) -> Any:
    with app.test_request_context():
        value = fn()
        db.session.commit()
        return value


def _product(app: Flask, *, photo: bool = False, shop: dict | None = None, **fields: Any) -> int:
    def build() -> int:
        product = make_product(shop=make_shop(**(shop or {})), **fields)
        if photo:
            mall.add_photo(product, product.shop.owner, _photo())
        return product.id

    return _in_app(app, build)


def _many(app: Flask, count: int, shops: int = 6, **fields: Any) -> list[int]:
    """`count` published products spread over `shops` shops in different kecamatan."""

    def build() -> list[int]:
        existing = list(db.session.scalars(select(Shop).order_by(Shop.id)))
        while len(existing) < shops:
            code = KECAMATAN[len(existing) % len(KECAMATAN)]
            desa = db.session.scalar(select(func.min(Desa.code)).where(Desa.kecamatan_code == code))
            existing.append(make_shop(kecamatan_code=code, desa_code=desa, commit=False))
        ids = []
        for i in range(count):
            product = make_product(shop=existing[i % shops], commit=False, **fields)
            mall.add_photo(product, product.shop.owner, _photo((60, 40)))
            ids.append(product.id)
        return ids

    return _in_app(app, build)


def _count_queries(app: Flask, client: FlaskClient, url: str, **kw: Any) -> int:
    with app.test_request_context():
        engine = db.engine
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(url, **kw).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


# --- the catalogue --------------------------------------------------------------------------------


def test_catalogue_lists_public_products_with_price_shop_place_and_badges(app: Flask, client):
    fixed = _product(
        app,
        photo=True,
        name="Keripik Pisang Manis",
        shop={"name": "Dapur Bu Sri", "halal_number": "ID12110000123450823"},
    )
    ranged = _product(
        app, name="Ulos Ragi Hotang", price_kind="range", price_min=450_000, price_max=900_000
    )
    ask = _product(app, name="Meja Jati", price_kind="ask", price_min=None)
    response = client.get("/mall/")
    page = text(response)
    assert response.status_code == 200
    assert "HX-Target" in response.headers["Vary"]
    assert set(cards(page)) == {fixed, ranged, ask}
    card = page[page.index(f'id="product-{fixed}"') :]
    card = card[: card.index("</li>")]
    assert "Keripik Pisang Manis" in card and "Rp 25.000" in card and "/ pcs" in card
    assert "Dapur Bu Sri" in card and "Lubuk Pakam" in card
    assert "Verified" in card and "Halal" in card and "Available" in card
    assert re.search(r'<img src="/mall/photos/mall/[^"]+" alt="" width="\d+" height="\d+"', card)
    assert f'href="/mall/products/{fixed}"' in card
    assert "Rp 450.000 – Rp 900.000" in page
    ask_card = page[page.index(f'id="product-{ask}"') :]
    assert "Ask the seller" in ask_card[: ask_card.index("</li>")]
    assert 'class="mall-no-photo"' in ask_card[: ask_card.index("</li>")]


def test_catalogue_hides_drafts_blocked_and_products_of_draft_or_suspended_shops(
    app: Flask, client
):
    shown = _product(app)
    draft = _product(app, status="draft")
    hidden = _product(app, status="hidden")
    suspended = _product(app, shop={"status": "suspended"})

    def blocked() -> int:
        product = make_product()
        product.blocked_reason = "Barang terlarang"
        return product.id

    blocked_id = _in_app(app, blocked)

    def draft_shop() -> int:
        shop = make_shop(status="draft")
        product = make_product(shop=shop)
        return product.id

    in_draft_shop = _in_app(app, draft_shop)
    listed = cards(text(client.get("/mall/")))
    assert listed == [shown]
    for product_id in (draft, hidden, suspended, blocked_id, in_draft_shop):
        assert client.get(f"/mall/products/{product_id}").status_code == 404


def test_products_of_a_shop_waiting_for_verification_are_listed_without_the_badge(
    app: Flask, client
):
    pending = _product(app, name="Dodol Durian", shop={"status": "submitted"})
    page = text(client.get("/mall/"))
    card = page[page.index(f'id="product-{pending}"') :]
    card = card[: card.index("</li>")]
    assert "Dodol Durian" in card and "Verified" not in card
    product_page = text(client.get(f"/mall/products/{pending}"))
    assert "mall-badge-verified" not in product_page
    assert "has not verified this shop yet" in product_page


def test_search_plain_returns_the_page_and_htmx_returns_only_the_results(app: Flask, client):
    kopi = _product(app, name="Kopi Gayo Arabika")
    _product(app, name="Keripik Singkong")
    plain = client.get("/mall/?q=kopi")
    assert plain.status_code == 200
    assert "<html" in text(plain) and 'id="catalogue-search"' in text(plain)
    assert cards(text(plain)) == [kopi]
    assert 'value="kopi"' in text(plain)
    partial = client.get("/mall/?q=kopi", headers=HTMX_RESULTS)
    body = text(partial)
    assert partial.status_code == 200
    assert body.lstrip().startswith('<section id="catalogue-results"')
    assert "<html" not in body and 'id="catalogue-search"' not in body
    assert cards(body) == [kopi]
    # A boosted navigation (HX-Target: content) gets the main content, form included.
    boosted = text(
        client.get("/mall/?q=kopi", headers={"HX-Request": "true", "HX-Target": "content"})
    )
    assert '<main id="content"' in boosted and "<html" not in boosted
    assert 'id="catalogue-search"' in boosted
    # Another target (or none) never gets the fragment.
    other = text(client.get("/mall/?q=kopi", headers={"HX-Request": "true", "HX-Target": "x"}))
    assert "<html" in other


def test_the_search_box_is_an_active_search_that_pushes_the_url(client):
    page = text(client.get("/mall/"))
    box = page[page.index('id="q"') : page.index(">", page.index('id="q"'))]
    assert 'hx-get="/mall/"' in box
    assert 'hx-trigger="input changed delay:300ms, search"' in box
    assert 'hx-target="#catalogue-results"' in box and 'hx-push-url="true"' in box
    assert 'hx-include="#catalogue-search"' in box
    assert 'method="get" action="/mall/"' in page


def test_filters_combine_and_the_next_page_link_keeps_them(app: Flask, client):
    ids = _many(app, 30, shops=2, name="Sambal Andaliman")
    url = "/mall/?q=sambal&kecamatan=12.07.28&verified_only=y&price_min=10.000&sort=newest"
    page = text(client.get(url))
    listed = cards(page)
    assert len(listed) == 15  # every other product is in the Lubuk Pakam shop
    assert set(listed) <= set(ids)
    # The form shows what was searched, so the URL and the page agree.
    assert 'value="sambal"' in page and 'value="10.000"' in page
    assert '<option selected value="12.07.28">' in page or 'value="12.07.28" selected' in page
    assert '<input checked id="verified_only" name="verified_only" type="checkbox"' in page
    assert '<input id="halal_only" name="halal_only" type="checkbox"' in page
    assert cards(text(client.get(url + "&price_max=30000"))) == listed
    assert cards(text(client.get(url + "&price_max=20000"))) == []
    assert cards(text(client.get(url.replace("10.000", "26.000")))) == []


def test_empty_results_say_so_and_offer_the_search_without_filters(app: Flask, client):
    _product(app, name="Kopi Sidikalang")
    page = text(client.get("/mall/?q=kopi&halal_only=y"))
    assert cards(page) == []
    assert "No products found" in page
    assert "Try removing some of them" in page
    assert 'href="/mall/?q=kopi"' in page
    assert "Check the spelling" in text(client.get("/mall/?q=zzzz"))


def test_an_invalid_price_is_refused_with_422_and_left_out_of_the_search(app: Flask, client):
    product = _product(app)
    response = client.get("/mall/?price_min=murah")
    assert response.status_code == 422
    page = text(response)
    assert "Error:" in page[: page.index("</title>")]
    assert 'href="#price_min"' in page and 'value="murah"' in page
    assert cards(page) == [product]
    partial = client.get("/mall/?price_min=10000&price_max=5000", headers=HTMX_RESULTS)
    assert partial.status_code == 422
    assert "Some filters were left out" in text(partial)


def test_load_more_appends_the_next_page_without_duplicates(app: Flask, client):
    ids = _many(app, 30)
    first = text(client.get("/mall/"))
    page_one = cards(first)
    assert len(page_one) == mall.PER_PAGE
    assert page_one == sorted(ids, reverse=True)[: mall.PER_PAGE]  # newest first
    more = re.search(r'<button[^>]*hx-get="([^"]+)"[^>]*>Load more</button>', first)
    assert more is not None
    assert 'hx-target="#product-list"' in more.group(0) and 'hx-swap="beforeend"' in more.group(0)
    next_url = more.group(1).replace("&amp;", "&")
    assert "cursor=" in next_url
    appended = client.get(next_url, headers=HTMX_LIST)
    body = text(appended)
    assert appended.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<li class="mall-card"')
    page_two = cards(body)
    assert len(page_two) == 6 and not set(page_two) & set(page_one)
    assert set(page_one) | set(page_two) == set(ids)
    # The button is replaced (out of band) by the next one: none, as this was the last page.
    assert '<div id="load-more" class="mall-more" hx-swap-oob="true">' in body
    assert "Load more" not in body


def test_next_page_link_works_without_javascript(app: Flask, client):
    ids = _many(app, 30)
    first = text(client.get("/mall/?sort=newest"))
    link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith("/mall/?") and "sort=newest" in url and "cursor=" in url
    second = client.get(url)
    page = text(second)
    assert second.status_code == 200 and "<html" in page
    assert set(cards(page)) == set(ids) - set(cards(first))
    assert "Back to the first page" in page and 'rel="next"' not in page


def test_load_more_works_for_search_and_price_order(app: Flask, client):
    ids = _many(app, 30, name="Rendang Daging")
    seen: list[int] = []
    url: str | None = "/mall/?q=rendang&sort=price_asc"
    while url:
        body = text(client.get(url, headers=HTMX_LIST if seen else {}))
        seen += cards(body)
        found = re.search(r'hx-get="([^"]+)"', body[body.index('id="load-more"') :])
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


def test_catalogue_uses_a_fixed_number_of_queries(app: Flask, client):
    urls = ("/mall/", "/mall/?q=produk&kecamatan=12.07.28&verified_only=y&sort=price_asc")
    _many(app, 6)
    few = [_count_queries(app, client, url) for url in urls]
    _many(app, 24, shops=12)  # six more shops, in other kecamatan too
    many = [_count_queries(app, client, url) for url in urls]
    assert many == few


# --- a product ------------------------------------------------------------------------------------


def test_product_page_shows_details_shop_share_and_whatsapp(app: Flask, client):
    def build() -> tuple[int, int, str]:
        shop = make_shop(name="Ulos Boru Tambunan", halal_number="ID12110000123450823")
        product = make_product(
            shop=shop,
            name="Ulos Sadum",
            price_kind="range",
            price_min=450_000,
            price_max=900_000,
            unit="pcs",
            min_order=2,
            availability="preorder",
            description="Tenun tangan.\nPesan 2 minggu sebelumnya.",
            ships_local=True,
            ships_national=True,
        )
        mall.add_photo(product, shop.owner, _photo((1600, 1200)))
        other = make_product(shop=shop, name="Songket Batubara")
        return product.id, other.id, shop.slug

    product_id, other_id, slug = _in_app(app, build)
    page = text(client.get(f"/mall/products/{product_id}"))
    assert "<h1" in page and "Ulos Sadum" in page
    assert "Rp 450.000 – Rp 900.000" in page
    assert "2 pcs" in page and "Pre-order" in page
    assert "Local delivery" in page and "Ships across Indonesia" in page
    assert "Tenun tangan." in page
    assert re.search(r'<img src="/mall/photos/mall/[^"]+" width="1200" height="900"', page)
    assert f'href="/mall/shops/{slug}"' in page and "Verified" in page and "Halal" in page
    assert f'href="/mall/products/{product_id}/whatsapp" rel="nofollow" hx-boost="false"' in page
    assert "Chat on WhatsApp" in page
    assert f'value="http://localhost/mall/products/{product_id}" readonly' in page
    share = re.search(r'href="(https://wa\.me/\?text=[^"]+)"', page)
    assert share is not None
    shared = urllib.parse.unquote(share.group(1).replace("&amp;", "&"))
    assert "Ulos Sadum" in shared and f"http://localhost/mall/products/{product_id}" in shared
    assert f'id="product-{other_id}"' in page  # more from this shop
    assert f'href="/mall/products/{product_id}/report"' in page


def test_product_page_has_open_graph_tags_with_an_absolute_image(app: Flask, client):
    product_id = _product(app, photo=True, name="Bika Ambon", shop={"name": "Toko Kue Ani"})
    page = text(client.get(f"/mall/products/{product_id}"))
    head = page[: page.index("</head>")]
    assert '<meta property="og:title" content="Bika Ambon">' in head
    assert '<meta property="og:type" content="product">' in head
    assert '<meta property="og:description" content="Rp 25.000 · Toko Kue Ani">' in head
    assert f'<meta property="og:url" content="http://localhost/mall/products/{product_id}">' in head
    image = re.search(r'<meta property="og:image" content="([^"]+)">', head)
    assert image is not None and image.group(1).startswith("http://localhost/mall/photos/mall/")
    photo = client.get(image.group(1).removeprefix("http://localhost"))
    assert photo.status_code == 200 and photo.mimetype == "image/webp"


def test_full_views_are_counted_but_not_head_or_partial_requests(app: Flask, client):
    product_id = _product(app)

    def views() -> int:
        with app.app_context():
            return (
                db.session.scalar(
                    select(ProductStat.views).where(
                        ProductStat.product_id == product_id, ProductStat.day == today_wib()
                    )
                )
                or 0
            )

    url = f"/mall/products/{product_id}"
    client.get(url)
    client.get(url, headers={"HX-Request": "true", "HX-Target": "content"})
    assert views() == 2
    client.head(url)
    client.get(url, headers={"HX-Request": "true", "HX-Target": "somewhere"})
    assert views() == 2


def test_whatsapp_redirect_counts_the_click_and_prefills_the_message(app: Flask, client):
    product_id = _product(
        app, name="Kopi Sidikalang", shop={"name": "Kopi Pak Ucok", "whatsapp": "081277771234"}
    )
    response = client.get(f"/mall/products/{product_id}/whatsapp")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("https://wa.me/6281277771234?text=")
    message = urllib.parse.unquote(location.split("?text=", 1)[1])
    assert "Kopi Sidikalang" in message and "Kopi Pak Ucok" in message
    assert f"http://localhost/mall/products/{product_id}" in message
    assert response.headers["Cache-Control"] == "no-store"
    htmx = client.get(f"/mall/products/{product_id}/whatsapp", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == location
    with app.app_context():
        stat = db.session.scalar(select(ProductStat).where(ProductStat.product_id == product_id))
        assert stat.wa_clicks == 2 and stat.views == 0


def test_whatsapp_redirect_is_404_for_a_product_that_is_not_public(app: Flask, client):
    draft = _product(app, status="draft")
    assert client.get(f"/mall/products/{draft}/whatsapp").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(ProductStat.id))) == 0


# --- reports --------------------------------------------------------------------------------------


def test_an_anonymous_visitor_reports_a_listing(app: Flask, client):
    product_id = _product(app)
    url = f"/mall/products/{product_id}/report"
    form = client.get(url)
    assert form.status_code == 200
    page = text(form)
    for reason in ReportReason:
        assert f'value="{reason.value}"' in page
    response = post(client, url, {"reason": "fraud", "detail": "Minta transfer dulu"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/mall/products/{product_id}"
    assert "moderators will look at this listing" in text(client.get(response.headers["Location"]))
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert report.reason is ReportReason.FRAUD and report.reporter_id is None
        assert report.detail == "Minta transfer dulu" and report.product_id == product_id


def test_a_logged_in_reporter_is_recorded_and_htmx_gets_hx_location(app: Flask, client, login_as):
    product_id = _product(app)
    me = login_as()
    url = f"/mall/products/{product_id}/report"
    response = post(client, url, {"reason": "misleading"}, htmx="content")
    assert response.status_code == 204
    assert f"/mall/products/{product_id}" in response.headers["HX-Location"]
    with app.app_context():
        assert db.session.scalar(select(Report.reporter_id)) == me.id


def test_a_report_needs_a_reason_and_detail_for_something_else(app: Flask, client):
    product_id = _product(app)
    url = f"/mall/products/{product_id}/report"
    missing = post(client, url, {})
    assert missing.status_code == 422 and 'href="#reason"' in text(missing)
    other = post(client, url, {"reason": "other", "detail": "  "})
    assert other.status_code == 422
    page = text(other)
    assert 'href="#detail"' in page and "Say what is wrong with this listing" in page
    assert 'value="other" checked' in page
    htmx = post(client, url, {"reason": "other"}, htmx="content")
    assert htmx.status_code == 422 and '<main id="content"' in text(htmx)
    with app.app_context():
        assert db.session.scalar(select(func.count(Report.id))) == 0


def test_reports_are_rate_limited(app: Flask, client, monkeypatch):
    monkeypatch.setitem(app.config, "MALL_REPORT_RATE_LIMIT", "2 per minute")
    product_id = _product(app)
    url = f"/mall/products/{product_id}/report"
    statuses = [post(client, url, {"reason": "offensive"}).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    assert client.get(url).status_code == 200


def test_a_listing_that_is_not_public_cannot_be_reported(app: Flask, client):
    draft = _product(app, status="draft")
    assert client.get(f"/mall/products/{draft}/report").status_code == 404
    assert post(client, f"/mall/products/{draft}/report", {"reason": "fraud"}).status_code == 404


# --- a shop ---------------------------------------------------------------------------------------


def test_shop_page_shows_profile_legality_address_map_and_products(app: Flask, client):
    def build() -> tuple[str, int]:
        shop = make_shop(
            name="Madu Hutan Sibolangit",
            description="Madu murni dari hutan.",
            opening_hours="Setiap hari 09.00-18.00",
            nib="1234567890123",
            pirt_number="1234567890123-45",
            halal_number="ID12110000123450823",
            bpom_number="MD 224510001234",
            latitude=3.5521,
            longitude=98.8712,
            landmark="Dekat pasar",
        )
        mall.set_logo(shop, shop.owner, _photo((500, 500)))
        product = make_product(shop=shop, name="Madu Klanceng")
        make_product(shop=shop, status="draft", name="Madu Rahasia")
        return shop.slug, product.id

    slug, product_id = _in_app(app, build)
    page = text(client.get(f"/mall/shops/{slug}"))
    assert "Madu Hutan Sibolangit" in page and "Madu murni dari hutan." in page
    assert "Setiap hari 09.00-18.00" in page and "Verified" in page
    assert "1234567890123" in page
    assert "P-IRT No. 1234567890123-45" in page and "2045" in page
    assert "ID12110000123450823" in page and "BPOM RI MD224510001234" in page
    assert "Jl. Sudirman No. 5" in page and "Dekat pasar" in page and "Lubuk Pakam" in page
    assert 'href="https://wa.me/6281277770000"' in page
    assert re.search(
        r'<img class="mall-logo" src="/mall/photos/mall/[^"]+" alt="" width="400" height="400"',
        page,
    )
    assert 'data-shop-map data-lat="3.5521" data-lon="98.8712"' in page
    assert 'data-leaflet-js="/static/vendor/leaflet-1.9.4/leaflet.js"' in page
    assert "openstreetmap.org/?mlat=3.552100&amp;mlon=98.871200" in page
    assert cards(page) == [product_id] and "Madu Rahasia" not in page


def test_shop_without_a_pin_has_no_map_and_no_legality(app: Flask, client):
    slug = _in_app(app, lambda: make_shop(name="Toko Polos").slug)
    page = text(client.get(f"/mall/shops/{slug}"))
    assert "data-shop-map" not in page
    assert "has not entered any permit" in page
    assert "has not published any product yet" in page


def test_shop_pages_404_for_draft_suspended_and_unknown_shops(app: Flask, client):
    draft = _in_app(app, lambda: make_shop(status="draft").slug)
    suspended = _in_app(app, lambda: make_shop(status="suspended").slug)
    for slug in (draft, suspended, "tidak-ada"):
        assert client.get(f"/mall/shops/{slug}").status_code == 404
    pending = _in_app(app, lambda: make_shop(status="changes_requested").slug)
    page = text(client.get(f"/mall/shops/{pending}"))
    assert "has not verified this shop yet" in page and "mall-badge-verified" not in page


def test_shop_products_are_paginated_with_links(app: Flask, client):
    ids = _many(app, 30, shops=1)
    slug = _in_app(app, lambda: db.session.scalar(select(Shop.slug)))
    first = text(client.get(f"/mall/shops/{slug}"))
    assert len(cards(first)) == mall.PER_PAGE
    assert f'href="/mall/shops/{slug}?page=2" rel="next"' in first
    second = text(client.get(f"/mall/shops/{slug}?page=2"))
    assert set(cards(first)) | set(cards(second)) == set(ids)
    assert f'href="/mall/shops/{slug}" rel="prev"' in second and 'rel="next"' not in second
    assert client.get(f"/mall/shops/{slug}?page=9").status_code == 404


def test_shop_page_uses_a_fixed_number_of_queries(app: Flask, client):
    _many(app, 3, shops=1)
    slug = _in_app(app, lambda: db.session.scalar(select(Shop.slug)))
    few = _count_queries(app, client, f"/mall/shops/{slug}")
    _many(app, 27, shops=1)
    assert _count_queries(app, client, f"/mall/shops/{slug}") == few


# --- photos ---------------------------------------------------------------------------------------


def test_photos_are_served_as_webp_with_a_year_of_cache(app: Flask, client):
    product_id = _product(app, photo=True)

    def keys_of_cover() -> tuple[str, str]:
        cover = db.session.get(Product, product_id).photos[0]
        return cover.key, cover.thumb_key

    keys = _in_app(app, keys_of_cover)
    for key in keys:
        response = client.get(f"/mall/photos/{key}")
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WEBP"


def test_logo_keys_are_served_and_other_keys_are_not(app: Flask, client):
    def build() -> tuple[str, str]:
        shop = make_shop()
        mall.set_logo(shop, shop.owner, _photo((300, 300)))
        # A private file of another area stored in the same storage: never served here.
        private = get_storage().save(b"RIFF....WEBPVP8 ", ".webp", namespace="sadoku")
        return shop.logo_key, private

    logo, private = _in_app(app, build)
    assert client.get(f"/mall/photos/{logo}").status_code == 200
    assert client.get(f"/mall/photos/{private}").status_code == 404
    assert client.get("/mall/photos/mall/xx/not-a-key.webp").status_code == 404
    assert client.get("/mall/photos/../../etc/passwd").status_code == 404
    assert client.get("/mall/photos/mall/ab/ab%2e%2e.webp").status_code == 404


def test_a_removed_photo_is_no_longer_served(app: Flask, client):
    def build() -> str:
        product = make_product()
        photo = mall.add_photo(product, product.shop.owner, _photo())
        key = photo.key
        mall.remove_photo(photo, product.shop.owner)
        return key

    key = _in_app(app, build)
    assert client.get(f"/mall/photos/{key}").status_code == 404


def test_photos_of_a_logged_in_visitor_stay_publicly_cacheable(app: Flask, client, login_as):
    product_id = _product(app, photo=True)
    key = _in_app(app, lambda: db.session.get(Product, product_id).photos[0].thumb_key)
    login_as()
    response = client.get(f"/mall/photos/{key}")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_every_visitor_page_needs_no_login(app: Flask, client):
    product_id = _product(app)
    slug = _in_app(app, lambda: db.session.scalar(select(Shop.slug)))
    for url in ("/mall/", f"/mall/products/{product_id}", f"/mall/shops/{slug}",
                f"/mall/products/{product_id}/report"):  # fmt: skip
        assert client.get(url).status_code == 200, url
