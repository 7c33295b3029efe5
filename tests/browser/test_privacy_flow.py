"""Privacy in a real browser (JavaScript on, htmx 2): notices, "Data saya", deletion, and axe.

Elements are found by id, name or href so the tests do not depend on the wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.conftest import log_in
from tests.factories import DEFAULT_PASSWORD, make_user

AssertAccessible = Callable[[Page], None]


def test_the_notices_are_accessible(
    page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    for service in ("sadoku", "jumpa-madu", "mall"):
        page.goto(f"{live_server}/privacy/{service}")
        expect(page.locator("main#content h1")).to_be_visible()
        expect(page.locator("main #rights")).to_be_visible()
        assert_accessible(page)


def test_my_data_pages_are_accessible_and_a_bad_correction_stays_in_place(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.app_context():
        email = make_user().email
        db.session.commit()
    log_in(page, live_server, email)
    page.locator("header a[href$='/privacy/my-data']").click()
    expect(page.locator("form[action$='/privacy/my-data/export']")).to_be_visible()
    assert_accessible(page)

    for path in ("/privacy/consents", "/privacy/account/delete", "/privacy/corrections"):
        page.goto(live_server + path)
        expect(page.locator("main#content h1")).to_be_visible()
        assert_accessible(page)

    page.goto(live_server + "/privacy/corrections/new")
    page.locator("#area").check()
    page.locator("#what_is_wrong").fill("Nama saya salah eja")
    page.locator("form[action$='/privacy/corrections/new'] button[type=submit]").click()
    # The 422 is swapped in by htmx: the error summary shows, the typed text is kept.
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#what_is_wrong")).to_have_value("Nama saya salah eja")
    assert_accessible(page)
    page.locator("#correct_value").fill("Siti Rahmawati")
    page.locator("form[action$='/privacy/corrections/new'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/privacy/corrections/\d+$"))


def test_deleting_the_account_in_the_browser_logs_out(
    app: Flask, page: Page, live_server: str
) -> None:
    with app.app_context():
        email = make_user().email
        db.session.commit()
    log_in(page, live_server, email)
    page.goto(live_server + "/privacy/account/delete")
    page.locator("#understood").check()
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.locator("form[action$='/privacy/account/delete'] button[type=submit]").click()
    expect(page.locator("header a[href$='/accounts/login']")).to_be_visible()
    expect(page.locator("header a[href$='/privacy/my-data']")).to_have_count(0)
