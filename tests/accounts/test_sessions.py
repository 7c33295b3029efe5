"""Server-side sessions as people notice them: logging out really logs out, a password change or
an admin ends the other devices, staff are logged out after 30 idle minutes or 12 hours, and the
devices page says where the account is logged in.

Times are moved by editing the session rows, as if the minutes had passed.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.accounts.models import Role, UserSession
from portal.core.audit import AuditLog
from portal.core.time import as_utc, utcnow
from portal.extensions import db
from tests.conftest import csrf_token, log_in, post
from tests.factories import DEFAULT_PASSWORD, make_user

PROFILE = "/accounts/profile"
NEW_PASSWORD = "sandi-baru-yang-cukup-panjang"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _new_user(app: Flask, *roles: Role, **fields) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = make_user(roles=roles, **fields)
        return SimpleNamespace(id=user.id, email=user.email)


def _client(app: Flask, email: str, user_agent: str | None = None) -> FlaskClient:
    """Another browser (or phone) logged in as `email`."""
    other = app.test_client()
    other.set_cookie("lang", "en")
    if user_agent:
        other.environ_base["HTTP_USER_AGENT"] = user_agent
    assert log_in(other, email).status_code == 303
    return other


def _logged_in(client: FlaskClient) -> bool:
    """What the person sees: their profile (200) or the login page (a redirect to it)."""
    response = client.get(PROFILE)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    return False


def _rows(app: Flask, user_id: int) -> list[UserSession]:
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def _open_rows(app: Flask, user_id: int) -> list[UserSession]:
    return [r for r in _rows(app, user_id) if r.ended_at is None]


def _age(app: Flask, user_id: int, **ago: dt.timedelta) -> None:
    """Move the open sessions' `last_seen_at` / `created_at` back, as if that time had passed."""
    now = utcnow()
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .values({column: now - delta for column, delta in ago.items()})
        )
        db.session.commit()


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie_value: str) -> FlaskClient:
    """A browser that presents a copied session cookie (a stolen or an old one)."""
    thief = app.test_client()
    thief.set_cookie("lang", "en")
    thief.set_cookie("session", cookie_value)
    return thief


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


# --- logging in and out ---------------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server_so_a_copied_cookie_is_useless(client, app, login_as):
    user = login_as()
    copied = _cookie(client)
    assert _logged_in(_replay(app, copied))

    assert post(client, "/accounts/logout").status_code == 303
    assert not _logged_in(client)
    replayed = _replay(app, copied)
    assert not _logged_in(replayed)
    home = text(replayed.get("/"))
    assert "Log in" in home and "Log out" not in home
    (row,) = _rows(app, user.id)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_login_starts_a_new_session_so_a_cookie_from_before_carries_no_login(client, app):
    user = _new_user(app)
    csrf_token(client)  # an anonymous visit: the browser already has a session cookie
    before = _cookie(client)
    assert log_in(client, user.email).status_code == 303
    assert _cookie(client) != before
    assert _logged_in(client)
    assert not _logged_in(_replay(app, before))

    # Each login is its own server-side session with its own token.
    post(client, "/accounts/logout")
    assert log_in(client, user.email).status_code == 303
    first, second = _rows(app, user.id)
    assert first.token_hash != second.token_hash
    assert first.ended_at is not None and second.ended_at is None


def test_password_change_logs_out_the_other_devices_and_keeps_this_one(client, app, login_as):
    user = login_as()
    phone = _client(app, user.email)
    this_cookie_before = _cookie(client)

    response = post(
        client,
        "/accounts/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert _logged_in(client)
    assert not _logged_in(phone)
    # This browser got a new token too: its cookie from before the change no longer works.
    assert not _logged_in(_replay(app, this_cookie_before))
    assert len(_open_rows(app, user.id)) == 1
    reasons = {r.end_reason for r in _rows(app, user.id) if r.ended_at is not None}
    assert reasons == {"password_changed"}


def test_log_out_other_devices_keeps_only_this_one(client, app, login_as):
    user = login_as()
    phone, laptop = _client(app, user.email), _client(app, user.email)
    page = text(client.get("/accounts/sessions"))
    assert "Log out all other devices" in page

    response = post(client, "/accounts/sessions/end-others")
    assert response.status_code == 303 and response.headers["Location"] == "/accounts/sessions"
    assert "Logged out on 2 other device(s)." in text(client.get("/accounts/sessions"))
    assert _logged_in(client)
    assert not _logged_in(phone) and not _logged_in(laptop)
    assert len(_open_rows(app, user.id)) == 1


def test_end_one_device_from_the_sessions_page(client, app, login_as):
    user = login_as()
    phone = _client(app, user.email, CHROME_ANDROID)
    laptop = _client(app, user.email, FIREFOX_WINDOWS)
    phone_row = next(r for r in _open_rows(app, user.id) if r.device == "Chrome, Android")
    page = text(client.get("/accounts/sessions"))
    assert f'action="/accounts/sessions/{phone_row.id}/end"' in page

    assert post(client, f"/accounts/sessions/{phone_row.id}/end").status_code == 303
    assert not _logged_in(phone)
    assert _logged_in(laptop) and _logged_in(client)
    assert "Chrome, Android" not in text(client.get("/accounts/sessions"))


def test_someone_elses_session_cannot_be_ended(client, app, login_as):
    other = _new_user(app)
    victim = _client(app, other.email)
    (victim_row,) = _open_rows(app, other.id)
    login_as()
    assert post(client, f"/accounts/sessions/{victim_row.id}/end").status_code == 404
    assert _logged_in(victim)


def test_ending_this_device_from_the_list_logs_out_here(client, app, login_as):
    user = login_as()
    (row,) = _open_rows(app, user.id)
    response = post(client, f"/accounts/sessions/{row.id}/end")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert not _logged_in(client)


def test_admin_logs_a_person_out_on_every_device_with_an_audit_entry(client, app, login_as):
    person = _new_user(app, full_name="Budi Santoso")
    phone, laptop = _client(app, person.email), _client(app, person.email)
    admin = login_as(Role.ADMIN)
    assert "Logged in on 2 devices." in text(client.get(f"/admin/users/{person.id}"))

    response = post(client, f"/admin/users/{person.id}/sessions/end")
    assert response.status_code == 303
    page = text(client.get(f"/admin/users/{person.id}"))
    assert "Logged out on 2 device(s)." in page and "Logged in on 0 devices." in page
    assert not _logged_in(phone) and not _logged_in(laptop)
    assert _logged_in(client)  # the admin's own session is untouched
    assert {r.end_reason for r in _rows(app, person.id)} == {"ended_by_admin"}
    with app.app_context():
        entry = db.session.scalar(
            select(AuditLog).where(AuditLog.action == "sessions_ended_by_admin")
        )
        assert entry.actor_id == admin.id and entry.target_user_id == person.id
        assert entry.detail["count"] == 2


def test_disabling_an_account_ends_its_sessions_even_if_it_is_enabled_again(client, app, login_as):
    person = _new_user(app)
    phone = _client(app, person.email)
    copied = _cookie(phone)
    login_as(Role.ADMIN)
    assert post(client, f"/admin/users/{person.id}/disable").status_code == 303
    assert not _logged_in(phone)
    assert post(client, f"/admin/users/{person.id}/enable").status_code == 303
    # Enabling the account again does not bring the old session back: the person logs in anew.
    assert not _logged_in(_replay(app, copied))
    assert {r.end_reason for r in _rows(app, person.id)} == {"account_disabled"}
    assert _logged_in(_client(app, person.email))


# --- time limits ----------------------------------------------------------------------------------


def test_staff_are_logged_out_after_30_idle_minutes(client, app, login_as):
    officer = login_as(Role.SADOKU_OFFICER)
    _age(app, officer.id, last_seen_at=dt.timedelta(minutes=29))
    assert _logged_in(client)
    _age(app, officer.id, last_seen_at=dt.timedelta(minutes=31))
    assert not _logged_in(client)
    (row,) = _rows(app, officer.id)
    assert row.end_reason == "idle"


def test_staff_are_logged_out_12_hours_after_login_even_when_busy(client, app, login_as):
    admin = login_as(Role.ADMIN)
    _age(app, admin.id, created_at=dt.timedelta(hours=11, minutes=59), last_seen_at=dt.timedelta())
    assert _logged_in(client)
    _age(app, admin.id, created_at=dt.timedelta(hours=12, minutes=1), last_seen_at=dt.timedelta())
    assert not _logged_in(client)
    (row,) = _rows(app, admin.id)
    assert row.end_reason == "expired"


def test_residents_stay_logged_in_after_31_idle_minutes_but_not_past_their_limits(
    client, app, login_as
):
    resident = login_as()
    _age(app, resident.id, last_seen_at=dt.timedelta(minutes=31))
    assert _logged_in(client)

    idle = dt.timedelta(seconds=app.config["RESIDENT_SESSION_IDLE_SECONDS"])
    _age(app, resident.id, last_seen_at=idle + dt.timedelta(minutes=1))
    assert not _logged_in(client)

    log_in(client, resident.email)
    absolute = dt.timedelta(seconds=app.config["RESIDENT_SESSION_MAX_SECONDS"])
    _age(app, resident.id, last_seen_at=dt.timedelta(), created_at=absolute - dt.timedelta(hours=1))
    assert _logged_in(client)
    _age(app, resident.id, last_seen_at=dt.timedelta(), created_at=absolute + dt.timedelta(hours=1))
    assert not _logged_in(client)
    assert [r.end_reason for r in _rows(app, resident.id)] == ["idle", "expired"]


def test_last_seen_is_written_at_most_once_a_minute(client, app, login_as):
    user = login_as()
    _age(app, user.id, last_seen_at=dt.timedelta(seconds=30))
    (before,) = _open_rows(app, user.id)
    for _ in range(3):
        assert _logged_in(client)
    (after,) = _open_rows(app, user.id)
    assert after.last_seen_at == before.last_seen_at

    _age(app, user.id, last_seen_at=dt.timedelta(seconds=90))
    assert _logged_in(client)
    (touched,) = _open_rows(app, user.id)
    assert utcnow() - as_utc(touched.last_seen_at) < dt.timedelta(seconds=10)


# --- the cookie and the devices page ------------------------------------------------------------


def test_production_session_cookie_is_a_host_prefixed_secure_cookie(production_app):
    with production_app.app_context():
        make_user(email="budi@contoh.id")
    browser = production_app.test_client()
    base = "https://portal.test"
    page = browser.get("/accounts/login", base_url=base)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', text(page))
    response = browser.post(
        "/accounts/login",
        base_url=base,
        data={
            "identifier": "budi@contoh.id",
            "password": DEFAULT_PASSWORD,
            "csrf_token": token.group(1),
        },
        headers={"Referer": f"{base}/accounts/login"},
    )
    assert response.status_code == 303, text(response)[:500]
    (header,) = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("__Host-session=")
    ]
    attributes = {part.strip().split("=")[0].lower(): part for part in header.split(";")[1:]}
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["path"].strip() == "Path=/"
    assert "domain" not in attributes
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]


def test_sessions_page_names_each_device_and_marks_this_one(client, app):
    user = _new_user(app)
    phone = _client(app, user.email, CHROME_ANDROID)
    _client(app, user.email, FIREFOX_WINDOWS)
    page = text(phone.get("/accounts/sessions"))
    assert "Firefox, Windows" in page and "Chrome, Android" in page
    assert "Mozilla/5.0" not in page  # the raw header is not what people read
    items = re.findall(r"<li>(.*?)</li>", page, re.S)
    marked = [item for item in items if "This device" in item]
    assert len(marked) == 1 and "Chrome, Android" in marked[0]
    assert "Log out all other devices" in page
