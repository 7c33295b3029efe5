"""Deli Serdang Mall in a real browser: from a resident's new shop to a visitor's WhatsApp chat.

A resident (one phone) opens a shop with a halal certificate and sends it for verification; an
admin (another phone) verifies it; the seller adds a product typed "25.000", uploads a photo and
publishes it; an anonymous visitor (a third phone) searches the catalogue as they type, finds
the product, sees its photo, price, badges and the WhatsApp button, and opens the shop. Every
page is checked with axe and must fit a 360 px screen.

Elements are found by id, name, href or class, so the tests do not depend on wording; the texts
checked are names and amounts ("Rp 25.000"), the same in every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.mall import services as mall
from portal.mall.models import MallCategory, Product, Shop
from tests.browser.conftest import OpenPage, assert_fits, log_in, url_is
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    make_product,
    make_shop,
    make_user,
)

AssertAccessible = Callable[[Page], None]

RESIDENT_NAME = "Ani Lestari"
SHOP_NAME = "Keripik Bu Ani"
PRODUCT_NAME = "Keripik Pisang Manis"
OTHER_PRODUCT = "Ulos Batak Tenun"
HALAL_NUMBER = "ID12110000123450822"
WHATSAPP = "0812 3456 7890"
WA_PREFIX = "https://wa.me/6281234567890?text="
LUBUK_PAKAM = LUBUK_PAKAM_ADDRESS["kecamatan_code"]
LUBUK_PAKAM_III = LUBUK_PAKAM_ADDRESS["desa_code"]


@dataclass
class Cast:
    resident_email: str
    admin_email: str
    kuliner_id: int


# --- helpers --------------------------------------------------------------------------------------


PHOTO_LOADED = """() => {
    const img = document.querySelector('main .mall-gallery img');
    return img !== null && img.complete && img.naturalWidth > 0;
}"""


def _product_photo(tmp_path: Path) -> Path:
    """A phone-camera-like picture (a small PNG) to upload."""
    path = tmp_path / "keripik.png"
    Image.new("RGB", (800, 600), (230, 180, 40)).save(path, "PNG")
    return path


def _seed(app: Flask) -> Cast:
    """The categories, a resident with a phone and address, an admin, and another shop's product."""
    with app.test_request_context():
        mall.seed_categories()
        resident = make_user(full_name=RESIDENT_NAME, phone=WHATSAPP, address=LUBUK_PAKAM_ADDRESS)
        admin = make_user(full_name="Admin Kabupaten", roles=(Role.ADMIN,))
        make_product(name=OTHER_PRODUCT, description="Tenunan tangan.")
        kuliner = db.session.scalar(select(MallCategory).where(MallCategory.slug == "kuliner"))
        assert kuliner is not None
        return Cast(resident.email, admin.email, kuliner.id)


def _id_of(app: Flask, model: type, name: str) -> int:
    with app.test_request_context():
        found = db.session.scalar(select(model.id).where(model.name == name))
        assert found is not None, name
        return int(found)


# --- the whole path -------------------------------------------------------------------------------


def test_shop_opened_verified_product_found_and_chat_offered(
    app: Flask,
    page: Page,
    open_page: OpenPage,
    live_server: str,
    assert_accessible: AssertAccessible,
    tmp_path: Path,
) -> None:
    cast = _seed(app)

    def check(p: Page) -> None:
        assert_fits(p)
        assert_accessible(p)

    # The resident opens a shop from the Mall's seller page.
    log_in(page, live_server, cast.resident_email)
    page.goto(f"{live_server}/mall/my-shop/")
    page.locator("main a#open-shop").click()
    expect(page).to_have_url(url_is("/mall/my-shop/new"))
    expect(page.locator("#owner_name")).to_have_value(RESIDENT_NAME)  # from the account
    check(page)
    page.locator("#name").fill(SHOP_NAME)
    page.locator("select#category_id").select_option(str(cast.kuliner_id))
    page.locator("#description").fill("Keripik pisang dan singkong buatan rumah.")
    page.locator("select#kecamatan").select_option(LUBUK_PAKAM)
    desa = page.locator("#desa-field select#desa")
    expect(desa.locator("optgroup")).to_have_count(0)  # htmx: this kecamatan's desa only
    desa.select_option(LUBUK_PAKAM_III)
    page.locator("#street").fill("Jl. Sudirman No. 7")
    page.locator("#whatsapp").fill(WHATSAPP)
    page.locator("#halal_number").fill(HALAL_NUMBER)
    check(page)
    page.locator("main form button.button[type=submit]").click()

    # The dashboard: a draft, sent for verification.
    expect(page).to_have_url(url_is("/mall/my-shop/"))
    expect(page.locator("main h1")).to_have_text(SHOP_NAME)
    expect(page.locator("#shop-status .chip-draft")).to_be_visible()
    check(page)
    page.locator("#next-step form[action$='/mall/my-shop/submit'] button").click()
    expect(page.locator("#shop-status .chip-submitted")).to_be_visible()
    shop_id = _id_of(app, Shop, SHOP_NAME)

    # The admin checks the legality data and verifies the shop.
    admin = open_page()
    log_in(admin, live_server, cast.admin_email)
    admin.goto(f"{live_server}/admin/mall/shops/{shop_id}")
    expect(admin.locator("#shop-status .chip-submitted")).to_be_visible()
    expect(admin.locator("#shop-legality")).to_contain_text(HALAL_NUMBER)
    check(admin)
    admin.locator("#shop-actions form[action$='/verify'] button").click()
    expect(admin).to_have_url(url_is(f"/admin/mall/shops/{shop_id}"))
    expect(admin.locator("#shop-status .chip-verified")).to_be_visible()
    check(admin)

    # The seller adds a product at "25.000", uploads a photo and publishes it.
    page.reload()
    expect(page.locator("#shop-status .chip-verified")).to_be_visible()
    page.locator("main .mall-shop-links a[href$='/mall/my-shop/products/new']").click()
    expect(page).to_have_url(url_is("/mall/my-shop/products/new"))
    page.locator("#name").fill(PRODUCT_NAME)
    page.locator("#price_min").fill("25.000")
    page.locator("#description").fill("Pisang kepok, digoreng renyah, manis legit.")
    page.locator("main form button.button[type=submit]").click()
    expect(page).to_have_url(url_is(r"/mall/my-shop/products/\d+/edit"))
    product_id = _id_of(app, Product, PRODUCT_NAME)
    expect(page.locator("#price_min")).to_have_value("25.000")
    photos = page.locator("#photos")
    photos.locator("input[type=file]").set_input_files(str(_product_photo(tmp_path)))
    photos.locator("form[action$='/photos'] button[type=submit]").click()
    thumb = page.locator("#photos .mall-photo-list img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("width", re.compile(r"^\d+$"))
    page.locator("#product-status button[name=status][value=published]").click()
    expect(page.locator("#product-status .chip-published")).to_be_visible()
    expect(page.locator(f"#product-status a[href$='/mall/products/{product_id}']")).to_be_visible()
    check(page)
    page.locator("main a.back-link[href$='/mall/my-shop/']").click()
    row = page.locator(f"#product-row-{product_id}")
    expect(row.locator(".mall-price")).to_contain_text("Rp 25.000")
    expect(row.locator("img.mall-thumb")).to_have_count(1)
    check(page)

    # An anonymous visitor searches the catalogue as they type: no page load.
    visitor = open_page()
    visitor.goto(f"{live_server}/mall/")
    cards = visitor.locator("#catalogue-results #product-list li.mall-card")
    expect(cards).to_have_count(2)
    check(visitor)
    visitor.evaluate("window.mallMarker = 1")
    visitor.locator("#q").press_sequentially("kerip", delay=30)
    expect(visitor).to_have_url(re.compile(r"/mall/\?(.*&)?q=kerip(&|$)"))
    expect(cards).to_have_count(1)
    card = visitor.locator(f"#product-{product_id}")
    expect(card.locator(".mall-card-title")).to_have_text(PRODUCT_NAME)
    expect(card.locator(".mall-price")).to_contain_text("Rp 25.000")
    expect(card.locator(".mall-card-shop")).to_contain_text(SHOP_NAME)
    assert visitor.evaluate("window.mallMarker") == 1
    check(visitor)

    # The product page: photo with its size, price, badges, the counted WhatsApp button.
    card.locator(".mall-card-title a").click()
    expect(visitor).to_have_url(url_is(f"/mall/products/{product_id}"))
    expect(visitor.locator("main h1")).to_have_text(PRODUCT_NAME)
    photo = visitor.locator("main .mall-gallery img").first
    expect(photo).to_have_attribute("width", re.compile(r"^[1-9]\d*$"))
    expect(photo).to_have_attribute("height", re.compile(r"^[1-9]\d*$"))
    visitor.wait_for_function(PHOTO_LOADED)  # served by mall.photo, not a broken image
    expect(visitor.locator("main .mall-price-big")).to_contain_text("Rp 25.000")
    head = visitor.locator("main .mall-product-head")
    expect(head.locator(".mall-badge-verified")).to_be_visible()
    expect(head.locator(".mall-badge-halal")).to_be_visible()
    button = visitor.locator("main a.mall-wa-button")
    expect(button).to_be_visible()
    href = button.get_attribute("href")
    assert href is not None and href.endswith(f"/mall/products/{product_id}/whatsapp"), href
    check(visitor)
    # Not followed to the internet: the redirect itself says where it goes.
    response = visitor.request.get(live_server + href, max_redirects=0)
    assert response.status == 302
    location = response.headers["location"]
    assert location.startswith(WA_PREFIX), location
    assert quote(PRODUCT_NAME) in location, location

    # The shop page, from the product's "sold by".
    visitor.locator("main .mall-shop-box a[href*='/mall/shops/']").click()
    expect(visitor).to_have_url(re.compile(r"/mall/shops/[a-z0-9-]+$"))
    expect(visitor.locator("main h1")).to_contain_text(SHOP_NAME)
    expect(visitor.locator("main h1 .mall-badge-verified")).to_be_visible()
    expect(visitor.locator("main .mall-legality")).to_contain_text(HALAL_NUMBER)
    expect(visitor.locator(f"main #product-{product_id}")).to_be_visible()
    check(visitor)

    with app.test_request_context():
        product = db.session.get(Product, product_id)
        assert product is not None and product.price_min == 25_000
        assert len(product.photos) == 1
        assert mall.stats_30_days(product.shop)[product_id][1] == 1  # the click was counted


# --- the dashboard's quick edit -------------------------------------------------------------------


def test_quick_edit_changes_the_price_in_place(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.test_request_context():
        seller = make_user(full_name=RESIDENT_NAME)
        shop = make_shop(owner=seller, name=SHOP_NAME)
        product = make_product(shop=shop, name=PRODUCT_NAME)
        email, product_id = seller.email, product.id

    log_in(page, live_server, email)
    page.goto(f"{live_server}/mall/my-shop/")
    row = page.locator(f"#product-row-{product_id}")
    expect(row.locator(".mall-price")).to_contain_text("Rp 25.000")
    page.evaluate("window.mallMarker = 1")
    row.locator("a[href$='/quick-edit']").click()
    price = row.locator(f"#q{product_id}-price_min")
    expect(price).to_have_value("25.000")
    assert_fits(page)
    assert_accessible(page)
    price.fill("30.000")
    row.locator("form.mall-quick-edit button[type=submit]").click()
    expect(row.locator("form")).to_have_count(0)
    expect(row.locator(".mall-price")).to_contain_text("Rp 30.000")
    expect(page).to_have_url(url_is("/mall/my-shop/"))
    assert page.evaluate("window.mallMarker") == 1
    assert_fits(page)

    with app.test_request_context():
        saved = db.session.get(Product, product_id)
        assert saved is not None and saved.price_min == 30_000


# --- without JavaScript ---------------------------------------------------------------------------


def test_catalogue_pages_and_search_without_javascript(
    app: Flask, page_without_js: Page, live_server: str
) -> None:
    """The plain "Next page" link and a GET search form. No axe: it never settles without JS."""
    with app.test_request_context():
        shop = make_shop(name=SHOP_NAME)
        for _n in range(mall.PER_PAGE + 5):
            make_product(shop=shop, commit=False)
        make_product(shop=shop, name="Dodol Durian Medan")
    page = page_without_js
    page.goto(f"{live_server}/mall/")
    cards = page.locator("#product-list li.mall-card")
    expect(cards).to_have_count(mall.PER_PAGE)
    assert_fits(page)

    page.locator("#load-more a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"/mall/\?(.*&)?cursor=[^&]+"))
    expect(cards).to_have_count(6)
    expect(page.locator("#load-more a[rel=next]")).to_have_count(0)
    assert_fits(page)

    page.locator("#q").fill("dodol")
    page.locator("#catalogue-search .search-row button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/mall/\?(.*&)?q=dodol(&|$)"))
    assert "cursor=" not in page.url
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".mall-card-title")).to_have_text("Dodol Durian Medan")
    expect(page.locator("#q")).to_have_value("dodol")
    assert_fits(page)
