"""The account journey in a real browser (JavaScript on, htmx 2, phone-sized screen), plus axe.

Elements are found by id, name, href or role so the tests do not depend on the wording; the few
texts checked are Indonesian, the default UI language.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Locator, Page, expect

from portal.accounts.models import Role
from portal.core.notifications import notify
from portal.extensions import db
from tests.browser.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, LUBUK_PAKAM_ADDRESS, make_user

FULL_NAME = "Siti Rahmawati"
PHONE_TYPED = "0812 3456 7890"
PHONE_DIGITS = "081234567890"
PHONE_E164 = "+6281234567890"
EMAIL = "siti.rahmawati@contoh.id"
PASSWORD = "kopi-susu-pagi-hari"

LUBUK_PAKAM = "12.07.28"
LUBUK_PAKAM_III = "12.07.28.1008"
DESA_ELSEWHERE = "12.07.01.2001"  # in another kecamatan

AssertAccessible = Callable[[Page], None]


def _url(path: str) -> re.Pattern[str]:
    """The page URL ends with this path (no query string, no fragment)."""
    return re.compile(re.escape(path) + r"$")


def _account_nav(page: Page) -> Locator:
    return page.locator("header nav.account-nav")


def _log_in(
    page: Page, live_server: str, identifier: str, password: str = DEFAULT_PASSWORD
) -> None:
    log_in(page, live_server, identifier, password)
    expect(_account_nav(page).locator("a[href$='/accounts/profile']")).to_be_visible()


def test_register_add_address_log_out_and_in_again(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    nav = _account_nav(page)
    nav.locator("a[href$='/accounts/register']").click()
    expect(page).to_have_url(_url("/accounts/register"))

    page.locator("#full_name").fill(FULL_NAME)
    page.locator("#phone").fill(PHONE_TYPED)
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("#consent").check()
    page.locator("main form button[type=submit]").click()

    # Registered and logged in: straight to the profile form to add an address.
    expect(page).to_have_url(_url("/accounts/profile/edit"))
    expect(nav.locator("a[href$='/accounts/profile']")).to_be_visible()
    expect(nav.locator("a[href$='/accounts/login']")).to_have_count(0)
    expect(page.locator("#full_name")).to_have_value(FULL_NAME)

    # Choosing a kecamatan makes htmx replace #desa-field with that kecamatan's desa only.
    page.locator("select#kecamatan").select_option(LUBUK_PAKAM)
    desa = page.locator("#desa-field select#desa")
    expect(desa.locator(f"option[value='{DESA_ELSEWHERE}']")).to_have_count(0)
    expect(desa.locator(f"option[value='{LUBUK_PAKAM_III}']")).to_have_count(1)
    expect(desa.locator("optgroup")).to_have_count(0)
    desa.select_option(LUBUK_PAKAM_III)
    page.locator("#street").fill("Jl. Sudirman No. 5")
    page.locator("#rt").fill("001")
    page.locator("#rw").fill("002")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(_url("/accounts/profile"))
    summary = page.locator("main dl.summary-list")
    expect(summary).to_contain_text("Lubuk Pakam III")
    expect(summary).to_contain_text("Jl. Sudirman No. 5")
    expect(summary).to_contain_text(FULL_NAME)
    expect(summary).to_contain_text("0812\u2022\u2022\u2022\u2022\u2022890")  # masked ...
    html = page.content()
    assert PHONE_DIGITS not in html  # ... but never the whole number
    assert PHONE_E164 not in html

    # Log out with the header's button: the header offers to log in again.
    nav.get_by_role("button").click()
    expect(page).to_have_url(_url("/"))
    expect(nav.locator("a[href$='/accounts/login']")).to_be_visible()
    expect(nav.locator("a[href$='/accounts/profile']")).to_have_count(0)

    # The phone number works as a login whatever way it is written.
    _log_in(page, live_server, PHONE_DIGITS, PASSWORD)
    expect(page.locator("main")).to_contain_text("Siti")


def test_invalid_register_form_is_swapped_in_place(
    page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    page.goto(f"{live_server}/accounts/register")
    page.evaluate("window.__marker = 'same-document'")

    page.locator("#full_name").fill(FULL_NAME)
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill("pendek")
    page.locator("main form button[type=submit]").click()

    summary = page.locator("main .error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#password']")).to_have_count(1)
    expect(summary.locator("a[href='#consent']")).to_have_count(1)
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#consent")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#full_name")).to_have_value(FULL_NAME)
    expect(page.locator("#email")).to_have_value(EMAIL)
    expect(page).to_have_title(re.compile(r"^Galat: "))
    expect(page).to_have_url(_url("/accounts/register"))
    # htmx swapped the 422 response into the page: no reload happened.
    assert page.evaluate("window.__marker") == "same-document"
    # As after a page load, keyboard and screen-reader users start at the error summary.
    expect(summary).to_be_focused()

    # An error link moves to its field.
    summary.locator("a[href='#password']").click()
    expect(page.locator("#password")).to_be_focused()
    assert_accessible(page)


def test_public_pages_are_accessible(
    page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    for path in (
        "/",
        "/accounts/register",
        "/accounts/login",
        "/accounts/password-reset",
        "/privacy",
        "/wilayah/desa",
        "/halaman-yang-tidak-ada",
    ):
        page.goto(live_server + path)
        expect(page.locator("main#content h1")).to_be_visible()
        assert_accessible(page)


def test_resident_pages_are_accessible(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.app_context():
        user = make_user(phone=PHONE_TYPED, address=LUBUK_PAKAM_ADDRESS)
        notify(user.id, "Dokumen Anda sudah dicetak", "Kurir akan mengantarnya besok.")
        notify(user.id, "Selamat datang", url="/accounts/profile")
        db.session.commit()
        email = user.email
    _log_in(page, live_server, email)

    page.goto(f"{live_server}/accounts/profile")
    expect(page.locator("main dl.summary-list")).to_contain_text("Lubuk Pakam III")
    assert_accessible(page)

    page.goto(f"{live_server}/accounts/profile/edit")
    expect(page.locator("select#desa")).to_have_value(LUBUK_PAKAM_III)
    # The self-hosted Leaflet has drawn the map (its tiles are blocked) and the pin buttons.
    expect(page.locator("[data-address-map] .map.leaflet-container")).to_be_visible()
    expect(page.locator("[data-address-map] .map-actions")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/accounts/password")
    expect(page.locator("#current_password")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/notifications")
    notes = page.locator("main .notification-list")
    expect(notes).to_contain_text("Dokumen Anda sudah dicetak")
    expect(notes).to_contain_text("Selamat datang")
    assert_accessible(page)


def test_admin_user_list_is_accessible(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.app_context():
        admin = make_user(full_name="Admin Kabupaten", roles=(Role.ADMIN,))
        make_user(full_name="Budi Santoso", phone="0813 1111 2222")
        email = admin.email
    _log_in(page, live_server, email)

    page.goto(f"{live_server}/admin/users")
    expect(page.locator("#user-results table tbody tr")).to_have_count(2)
    assert_accessible(page)

    # Active search: results follow the typing, and the phone never reaches the address bar.
    page.locator("#user-search").press_sequentially("0813 1111")
    expect(page.locator("#user-results table tbody tr")).to_have_count(1)
    expect(page.locator("#user-results")).to_contain_text("Budi Santoso")
    expect(page).to_have_url(_url("/admin/users"))

    # The account page with its role and disable forms.
    page.locator("#user-results a", has_text="Budi Santoso").click()
    expect(page.locator("main h1")).to_have_text("Budi Santoso")
    assert_accessible(page)


def test_map_pin_is_saved_with_the_profile(app: Flask, page: Page, live_server: str) -> None:
    with app.app_context():
        email = make_user(address=LUBUK_PAKAM_ADDRESS).email
    _log_in(page, live_server, email)
    page.goto(f"{live_server}/accounts/profile/edit")
    the_map = page.locator("[data-address-map] .map.leaflet-container")
    expect(the_map).to_be_visible()
    the_map.click(position={"x": 150, "y": 120})
    # The map starts on the desa centroid, so a pin near its middle is inside Lubuk Pakam.
    expect(page.locator("#latitude")).to_have_value(re.compile(r"^3\.5\d+$"))
    expect(page.locator("#longitude")).to_have_value(re.compile(r"^98\.8\d+$"))
    expect(page.locator(".pin-status")).not_to_have_text(re.compile("belum"))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(_url("/accounts/profile"))
    expect(page.locator("main dl.summary-list")).to_contain_text("Titik peta")


def test_register_and_profile_work_without_javascript(
    page_without_js: Page, live_server: str
) -> None:
    page = page_without_js
    page.goto(f"{live_server}/accounts/register")
    page.locator("#full_name").fill(FULL_NAME)
    page.locator("#phone").fill(PHONE_TYPED)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    # No consent: the server answers 422 with the summary and keeps what was typed.
    expect(page.locator("main .error-summary a[href='#consent']")).to_be_visible()
    expect(page.locator("#full_name")).to_have_value(FULL_NAME)
    expect(page.locator("#phone")).to_have_value(PHONE_TYPED)
    page.locator("#password").fill(PASSWORD)
    page.locator("#consent").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(_url("/accounts/profile/edit"))

    # Without htmx the desa list is the full one, grouped by kecamatan.
    expect(page.locator("select#desa optgroup")).to_have_count(22)
    expect(page.locator("[data-address-map] .map-actions")).to_be_hidden()
    page.locator("select#kecamatan").select_option(LUBUK_PAKAM)
    page.locator("select#desa").select_option(DESA_ELSEWHERE)  # a slip: another kecamatan's desa
    page.locator("#street").fill("Jl. Sudirman No. 5")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .error-summary a[href='#desa']")).to_be_visible()
    expect(page.locator("#street")).to_have_value("Jl. Sudirman No. 5")
    page.locator("select#desa").select_option(LUBUK_PAKAM_III)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(_url("/accounts/profile"))
    expect(page.locator("main dl.summary-list")).to_contain_text("Lubuk Pakam III")

    # Log out is a plain form POST too.
    page.locator("header nav.account-nav").get_by_role("button").click()
    expect(page.locator("header nav.account-nav a[href$='/accounts/login']")).to_be_visible()
