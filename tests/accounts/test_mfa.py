"""Two-step verification as staff meet it: the code step after the password, forced set-up when
a role is granted, recovery codes, the step-up before money, roles and full NIKs, the admin's
reset, rate limits, and the demo accounts' published secret.

Codes are computed with pyotp from the account's secret, as an authenticator app would.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from portal.accounts import mfa
from portal.accounts import services as account_services
from portal.accounts.models import Role, User, UserSession
from portal.core.audit import AuditLog
from portal.core.time import utcnow
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import PayoutMethod, WasteUnit, Withdrawal, WithdrawalStatus
from tests.conftest import answer_mfa, log_in, post
from tests.factories import (
    DEFAULT_PASSWORD,
    VALID_KK,
    VALID_NIK,
    fund_wallet,
    make_request,
    make_unit,
    make_user,
)

MFA_PAGE = "/accounts/login/mfa"
SETUP_PAGE = "/accounts/mfa/setup"
STALE = dt.timedelta(minutes=16)
MASK = "\u2022"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


def _new_user(app: Flask, *roles: Role, **fields) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = make_user(roles=roles, **fields)
        return SimpleNamespace(id=user.id, email=user.email)


def _browser(app: Flask) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("lang", "en")
    return other


def _password_step(client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD):  # type: ignore[no-untyped-def]
    """Only the first login step: the password form."""
    return post(client, "/accounts/login", {"identifier": email, "password": password})


def _code(secret: str = mfa.DEMO_TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).now()


def _wrong_code(secret: str = mfa.DEMO_TOTP_SECRET) -> str:
    """A well-formed code that is not valid now (the one of ten minutes from now)."""
    return pyotp.TOTP(secret).at(time.time() + 600)


def _send_code(client: FlaskClient, code: str, next_url: str = ""):  # type: ignore[no-untyped-def]
    return post(client, MFA_PAGE, {"code": code, "next": next_url})


def _next_of(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("next", [""])[0]


def _make_stale(app: Flask, user_id: int, ago: dt.timedelta = STALE) -> None:
    """As if the login or the last code was `ago` ago (the session itself is still active)."""
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .values(reauth_at=utcnow() - ago)
        )
        db.session.commit()


def _audit_count(app: Flask, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        )


def _assert_sent_to_code_page(response, next_url: str | None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, text(response)[:300]
    location = response.headers["Location"]
    assert urlsplit(location).path == MFA_PAGE
    if next_url is not None:
        assert _next_of(location) == next_url


# --- the code step at login -----------------------------------------------------------------------


def test_staff_password_alone_reaches_nothing_but_the_code_page(client, app):
    admin = _new_user(app, Role.ADMIN)
    response = _password_step(client, admin.email)
    _assert_sent_to_code_page(response, "/")
    for url in (
        "/",
        "/accounts/profile",
        "/accounts/sessions",
        "/accounts/mfa",
        "/admin/users",
        "/admin/audit",
        "/sadoku/officer/requests",
        "/jumpa-madu/wallet",
    ):
        _assert_sent_to_code_page(client.get(url), url)
    # Posting is refused the same way (and changes nothing), htmx gets a full-page redirect.
    refused = post(
        client,
        "/accounts/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "sandi-baru-yang-panjang"},
    )
    _assert_sent_to_code_page(refused, None)
    htmx = client.get("/admin/users", headers={"HX-Request": "true", "HX-Target": "content"})
    assert htmx.status_code == 204 and urlsplit(htmx.headers["HX-Redirect"]).path == MFA_PAGE
    page = client.get(MFA_PAGE)
    assert page.status_code == 200 and "Two-step verification" in text(page)
    # The refused POST did not change the password.
    _assert_sent_to_code_page(_password_step(_browser(app), admin.email), "/")


def test_wrong_code_is_422_with_an_error_summary_and_the_right_code_lets_in(client, app):
    officer = _new_user(app, Role.SADOKU_OFFICER)
    _password_step(client, officer.email)
    wrong = _send_code(client, _wrong_code(), "/sadoku/officer/requests")
    assert wrong.status_code == 422
    page = text(wrong)
    assert 'class="error-summary"' in page and 'href="#code"' in page
    assert "That code is not right" in page and "Error:" in page
    _assert_sent_to_code_page(client.get("/sadoku/officer/requests"), "/sadoku/officer/requests")

    right = _send_code(client, _code(), "/sadoku/officer/requests")
    assert right.status_code == 303 and right.headers["Location"] == "/sadoku/officer/requests"
    assert client.get("/sadoku/officer/requests").status_code == 200


def test_a_code_cannot_be_used_twice(app):
    officer = _new_user(app, Role.WASTE_OFFICER, scope="")
    code = _code()
    first, second = _browser(app), _browser(app)
    _password_step(first, officer.email)
    assert _send_code(first, code).status_code == 303
    # Someone who saw the code (and knows the password) cannot use it on another browser.
    _password_step(second, officer.email)
    replay = _send_code(second, code)
    assert replay.status_code == 422 and "This code was already used" in text(replay)
    assert urlsplit(second.get("/accounts/profile").headers["Location"]).path == MFA_PAGE


def test_a_recovery_code_works_once(client, app):
    officer = _new_user(app, Role.SADOKU_COURIER)
    with app.test_request_context():
        codes = mfa.regenerate_recovery_codes(db.session.get(User, officer.id))
        db.session.commit()
    assert len(codes) == 10

    _password_step(client, officer.email)
    used = _send_code(client, codes[0], "/accounts/profile")
    assert used.status_code == 303 and used.headers["Location"] == "/accounts/profile"
    assert "You used a recovery code. 9 left" in text(client.get("/accounts/profile"))
    post(client, "/accounts/logout")

    _password_step(client, officer.email)
    again = _send_code(client, codes[0])
    assert again.status_code == 422 and "That code is not right" in text(again)
    # Another code, typed in capitals without the dash, still works.
    assert _send_code(client, codes[1].upper().replace("-", "")).status_code == 303
    assert _audit_count(app, "mfa_recovery_code_used") == 2


# --- enrolment ------------------------------------------------------------------------------------


def test_a_role_granted_to_a_logged_in_resident_forces_set_up_on_their_next_request(
    client, app, login_as
):
    person = login_as()
    assert client.get("/accounts/profile").status_code == 200
    with app.test_request_context():
        admin = make_user(roles=(Role.ADMIN,))
        account_services.grant_role(admin, db.session.get(User, person.id), Role.SADOKU_OFFICER)
        db.session.commit()

    response = client.get("/accounts/profile")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == SETUP_PAGE
    assert _next_of(response.headers["Location"]) == "/accounts/profile"
    assert client.get("/sadoku/officer/requests").status_code == 303

    page = text(client.get(response.headers["Location"]))
    qr = re.search(r'<img class="qr" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    assert qr and base64.b64decode(qr.group(1)).lstrip().startswith(b"<svg")
    with app.app_context():
        secret = db.session.get(User, person.id).totp_secret
    assert secret and mfa.grouped(secret) in page

    wrong = post(client, SETUP_PAGE, {"code": _wrong_code(secret), "next": "/accounts/profile"})
    assert wrong.status_code == 422 and 'class="error-summary"' in text(wrong)
    with app.app_context():
        assert not db.session.get(User, person.id).mfa_enrolled

    done = post(client, SETUP_PAGE, {"code": _code(secret), "next": "/accounts/profile"})
    assert done.status_code == 200
    assert "no-store" in done.headers["Cache-Control"]
    codes = re.findall(r"<code>([a-z2-7]{5}-[a-z2-7]{5})</code>", text(done))
    assert len(set(codes)) == 10
    assert 'href="/accounts/profile"' in text(done)
    assert client.get("/accounts/profile").status_code == 200
    assert _audit_count(app, "mfa_enrolled") == 1

    # The codes shown are real: one of them logs in on another device.
    phone = _browser(app)
    _assert_sent_to_code_page(_password_step(phone, person.email), "/")
    assert _send_code(phone, codes[3]).status_code == 303


# --- step-up before sensitive actions ------------------------------------------------------------


def _withdrawal(app: Flask, unit_id: int, status: str = "requested") -> SimpleNamespace:
    with app.test_request_context():
        unit = db.session.get(WasteUnit, unit_id)
        resident = make_user(full_name="Ibu Sari")
        fund_wallet(resident, 20_000, unit)
        w = jm.request_withdrawal(resident, unit, 20_000, PayoutMethod.CASH)
        if status == "approved":
            colleague = make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope, commit=False)
            jm.approve_withdrawal(w, colleague)
        db.session.commit()
        return SimpleNamespace(id=w.id, user_id=resident.id)


def _withdrawal_status(app: Flask, withdrawal_id: int) -> WithdrawalStatus:
    with app.app_context():
        return db.session.get(Withdrawal, withdrawal_id).status


def _transaction_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ledger.LedgerTransaction))


@pytest.fixture
def waste_officer(app: Flask, login_as) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        unit_id = make_unit().id
    info = login_as(Role.WASTE_OFFICER, scope=str(unit_id))
    info.unit_id = unit_id
    return info


def test_approving_a_withdrawal_needs_a_recent_code(client, app, waste_officer):
    w = _withdrawal(app, waste_officer.unit_id)
    listing = "/jumpa-madu/unit/withdrawals"
    _make_stale(app, waste_officer.id)
    refused = post(
        client,
        f"{listing}/{w.id}/approve",
        headers={"Referer": f"http://localhost{listing}"},
    )
    _assert_sent_to_code_page(refused, listing)
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.REQUESTED
    step_up = text(client.get(refused.headers["Location"]))
    assert "Confirm it is you" in step_up

    back = answer_mfa(client, refused.headers["Location"], waste_officer.email)
    assert back.status_code == 303 and back.headers["Location"] == listing
    assert post(client, f"{listing}/{w.id}/approve").status_code == 303
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.APPROVED


def test_paying_a_withdrawal_needs_a_recent_code(client, app, waste_officer):
    w = _withdrawal(app, waste_officer.unit_id, status="approved")
    pay = f"/jumpa-madu/unit/withdrawals/{w.id}/pay"
    transactions = _transaction_count(app)
    _make_stale(app, waste_officer.id)
    _assert_sent_to_code_page(client.get(pay), pay)
    refused = post(
        client, pay, {"reference": "KW-9"}, headers={"Referer": f"http://localhost{pay}"}
    )
    _assert_sent_to_code_page(refused, pay)
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.APPROVED
    assert _transaction_count(app) == transactions

    answer_mfa(client, refused.headers["Location"], waste_officer.email)
    assert client.get(pay).status_code == 200
    assert post(client, pay, {"reference": "KW-9"}).status_code == 303
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.PAID
    assert _transaction_count(app) == transactions + 1


def test_granting_and_revoking_a_role_need_a_recent_code(client, app, login_as):
    target = _new_user(app, full_name="Dewi Calon Petugas")
    admin = login_as(Role.ADMIN)
    page = f"/admin/users/{target.id}"
    referer = {"Referer": f"http://localhost{page}"}

    def grants() -> list[tuple[int, Role]]:
        with app.app_context():
            return [(g.id, g.role) for g in db.session.get(User, target.id).grants]

    _make_stale(app, admin.id)
    refused = post(client, f"{page}/roles", {"role": "sadoku_courier"}, headers=referer)
    _assert_sent_to_code_page(refused, page)
    assert grants() == [] and _audit_count(app, "role_granted") == 0
    answer_mfa(client, refused.headers["Location"], admin.email)
    assert post(client, f"{page}/roles", {"role": "sadoku_courier"}).status_code == 303
    ((grant_id, role),) = grants()
    assert role == Role.SADOKU_COURIER

    _make_stale(app, admin.id)
    refused = post(client, f"{page}/roles/{grant_id}/delete", headers=referer)
    _assert_sent_to_code_page(refused, page)
    assert grants() == [(grant_id, Role.SADOKU_COURIER)]
    answer_mfa(client, refused.headers["Location"], admin.email)
    assert post(client, f"{page}/roles/{grant_id}/delete").status_code == 303
    assert grants() == []

    # Within the 15 minutes no code is asked.
    _make_stale(app, admin.id, dt.timedelta(minutes=14))
    assert post(client, f"{page}/roles", {"role": "sadoku_courier"}).status_code == 303
    assert len(grants()) == 1


def test_sadoku_officer_sees_the_full_nik_only_within_15_minutes_of_a_code(client, app, login_as):
    officer = login_as(Role.SADOKU_OFFICER)
    with app.test_request_context():
        code = make_request(nik=VALID_NIK, kk=VALID_KK).code
    url = f"/sadoku/officer/requests/{code}"
    _make_stale(app, officer.id)

    page = text(client.get(url))
    assert VALID_NIK not in page and VALID_KK not in page
    assert VALID_NIK[:4] + MASK * 8 + VALID_NIK[-4:] in page
    assert _audit_count(app, "sadoku_nik_viewed") == 0
    link = re.search(r'href="(/accounts/login/mfa\?next=[^"]+)"', page)
    assert link and _next_of(link.group(1).replace("&amp;", "&")) == url

    back = answer_mfa(client, link.group(1).replace("&amp;", "&"), officer.email)
    assert back.headers["Location"] == url
    page = text(client.get(url))
    assert VALID_NIK in page and VALID_KK in page
    with app.app_context():
        (entry,) = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "sadoku_nik_viewed")
        ).all()
        assert entry.actor_id == officer.id and entry.detail["request"] == code


# --- the admin's reset, rate limits ---------------------------------------------------------------


def test_admin_mfa_reset_makes_the_person_set_up_again_and_ends_their_sessions(
    client, app, login_as
):
    officer = _new_user(app, Role.SADOKU_OFFICER)
    phone = _browser(app)
    assert log_in(phone, officer.email).status_code == 303
    assert phone.get("/sadoku/officer/requests").status_code == 200
    login_as(Role.ADMIN)
    assert "Reset" in text(client.get(f"/admin/users/{officer.id}"))

    assert post(client, f"/admin/users/{officer.id}/mfa/reset").status_code == 303
    assert phone.get("/sadoku/officer/requests").status_code == 302  # logged out
    with app.app_context():
        user = db.session.get(User, officer.id)
        assert not user.mfa_enrolled and user.totp_secret is None
    assert _audit_count(app, "mfa_reset") == 1

    # The old app's codes open nothing: the next login goes to a fresh set-up.
    response = _password_step(phone, officer.email)
    assert urlsplit(response.headers["Location"]).path == SETUP_PAGE
    old_code = _send_code(phone, _code())
    assert urlsplit(old_code.headers["Location"]).path == SETUP_PAGE
    assert urlsplit(phone.get("/sadoku/officer/requests").headers["Location"]).path == SETUP_PAGE
    assert phone.get(SETUP_PAGE).status_code == 200
    with app.app_context():
        new_secret = db.session.get(User, officer.id).totp_secret
    assert new_secret and new_secret != mfa.DEMO_TOTP_SECRET


def test_code_attempts_are_rate_limited_per_account(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT_ACCOUNT", "4 per minute")
    officer = _new_user(app, Role.SADOKU_OFFICER)
    _password_step(client, officer.email)  # the first of the account's 4 attempts
    statuses = [_send_code(client, _wrong_code()).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    # Even the right code waits now, and so does another browser on the same account...
    assert _send_code(client, _code()).status_code == 429
    assert _password_step(_browser(app), officer.email).status_code == 429
    # ...but another account is not held up.
    colleague = _new_user(app, Role.SADOKU_OFFICER)
    other = _browser(app)
    assert log_in(other, colleague.email).status_code == 303


# --- demo accounts --------------------------------------------------------------------------------


def test_seed_demo_enrols_demo_staff_with_the_published_secret_and_prints_it(
    app, runner, monkeypatch
):
    # The service demo data (tested in tests/test_cli.py) takes long and is not what this is about.
    monkeypatch.setattr("portal.demo._seed_services", lambda: None)
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert f"TOTP secret (demo only): {mfa.DEMO_TOTP_SECRET}" in result.output
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(select(User))}
        for email in ("admin@demo.test", "petugas.sadoku@demo.test", "kurir.sadoku@demo.test"):
            assert users[email].mfa_enrolled, email
            assert users[email].totp_secret == mfa.DEMO_TOTP_SECRET
        assert not users["warga@demo.test"].mfa_enrolled

    from portal.demo import DEMO_PASSWORD

    browser = _browser(app)
    _password_step(browser, "admin@demo.test", DEMO_PASSWORD)
    assert _send_code(browser, pyotp.TOTP(mfa.DEMO_TOTP_SECRET).now()).status_code == 303
    assert browser.get("/admin/users").status_code == 200


def test_a_fixed_secret_is_refused_outside_demo_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    with app.test_request_context():
        user = make_user()
        with pytest.raises(RuntimeError, match="demo mode"):
            mfa.enrol_with_secret(user, mfa.DEMO_TOTP_SECRET)
        db.session.rollback()
        assert not db.session.get(User, user.id).mfa_enrolled


def test_sellers_and_residents_log_in_with_the_password_alone(client, app):
    seller = _new_user(app, Role.SELLER)
    response = _password_step(client, seller.email)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert client.get("/accounts/profile").status_code == 200
