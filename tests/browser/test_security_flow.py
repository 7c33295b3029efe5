"""Two-step verification and the devices page in a real browser, on a 360 px phone, with axe.

A new administrator sets up the authenticator app at the first login (reading the typed key off
the page, as someone without a camera would), keeps the recovery codes, sees their devices and
logs one out after confirming with a code again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pyotp
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from portal.accounts.models import Role, UserSession
from portal.core.time import utcnow
from portal.extensions import db, limiter
from tests.browser.conftest import PHONE_VIEWPORT, assert_fits, current_totp, log_in
from tests.factories import DEFAULT_PASSWORD, make_user

AssertAccessible = Callable[[Page], None]


def test_new_admin_sets_up_the_app_keeps_codes_and_ends_another_device(
    app: Flask,
    page: Page,
    browser: Browser,
    live_server: str,
    assert_accessible: AssertAccessible,
) -> None:
    with app.app_context():
        admin = make_user(full_name="Admin Baru", roles=(Role.ADMIN,), mfa=False)
        email, admin_id = admin.email, admin.id

    page.goto(f"{live_server}/accounts/login")
    page.locator("#identifier").fill(email)
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/mfa/setup"))
    expect(page.locator("img.qr")).to_be_visible()
    assert_accessible(page)
    assert_fits(page)

    # A wrong code comes back in place with the error summary; the right one turns it on.
    secret = page.locator("code.secret-key").inner_text().replace(" ", "")
    page.locator("#code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".error-summary")).to_be_visible()
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("ul.recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    assert_fits(page)
    page.locator("main a.button").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))

    # A second device (a laptop at the office) logs in with a code as well.
    other = browser.new_context(viewport=PHONE_VIEWPORT, locale="id-ID")
    laptop = other.new_page()
    log_in(laptop, live_server, email)
    other.close()

    page.goto(f"{live_server}/accounts/sessions")
    expect(page.locator("ul.device-list > li")).to_have_count(2)
    assert_accessible(page)
    assert_fits(page)

    # Fifteen minutes later (so the per-account limit of code attempts per minute has passed too),
    # ending the other device asks for a code first, then comes back.
    limiter.reset()
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == admin_id)
            .values(reauth_at=utcnow() - dt.timedelta(minutes=16))
        )
        db.session.commit()
    page.locator("form[action$='/sessions/end-others'] button").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/mfa\?next="))
    assert_accessible(page)
    assert_fits(page)
    page.locator("#code").fill(current_totp(email))
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/accounts/sessions$"))
    page.locator("form[action$='/sessions/end-others'] button").click()
    expect(page.locator("ul.device-list > li")).to_have_count(1)

    page.goto(f"{live_server}/accounts/mfa")
    expect(page.locator("main h1")).to_be_visible()
    assert_accessible(page)


def test_a_resident_confirms_with_the_password_before_ending_other_devices(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.app_context():
        user = make_user()
        email, user_id = user.email, user.id
    log_in(page, live_server, email)
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id)
            .values(reauth_at=utcnow() - dt.timedelta(minutes=16))
        )
        db.session.commit()
    page.goto(f"{live_server}/accounts/sessions")
    page.locator("ul.device-list form button").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm\?next="))
    assert_accessible(page)
    assert_fits(page)
    page.locator("#password").fill("bukan-kata-sandinya")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/accounts/sessions$"))
