"""Account hardening found by the ASVS walk: exact passwords, hashed recovery codes, a new token
after each code, re-authentication before ending other devices, an operator's "log everyone out",
and a mail connection that checks the server's certificate."""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl

import pyotp
import pytest
from sqlalchemy import select, update

from portal.accounts import mfa
from portal.accounts.models import MfaRecoveryCode, Role, User, UserSession
from portal.core.notifications import send_mail
from portal.core.time import utcnow
from portal.extensions import db
from tests.conftest import log_in, post
from tests.factories import make_user

SPACED = "  kopi susu pagi  "


def test_a_password_is_kept_exactly_as_typed_spaces_included(client, app):
    response = post(
        client,
        "/accounts/register",
        {"full_name": "Siti Aminah", "email": "siti@contoh.id", "password": SPACED, "consent": "y"},
    )
    assert response.status_code == 303
    post(client, "/accounts/logout")
    assert log_in(client, "siti@contoh.id", SPACED.strip()).status_code == 422
    assert log_in(client, "siti@contoh.id", SPACED).status_code == 303


def test_recovery_codes_are_stored_as_salted_password_hashes(ctx):
    user = make_user()
    user.totp_secret = mfa.begin_enrolment(user)
    codes = mfa.confirm_enrolment(user, pyotp.TOTP(user.totp_secret).now())
    hashes = db.session.scalars(
        select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == user.id)
    ).all()
    assert len(hashes) == len(codes) == 10
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


def test_entering_a_code_renews_the_session_token(app):
    with app.app_context():
        make_user(email="petugas@contoh.id", roles=(Role.SADOKU_OFFICER,))
    browser = app.test_client()
    response = post(
        browser,
        "/accounts/login",
        {"identifier": "petugas@contoh.id", "password": "kopi-susu-pagi-hari"},
    )
    assert "/accounts/login/mfa" in response.headers["Location"]
    before_code = _cookie(browser)
    assert post(browser, "/accounts/login/mfa", {"code": pyotp.TOTP(mfa.DEMO_TOTP_SECRET).now()})
    assert _cookie(browser) != before_code
    # The cookie from before the code opens nothing, not even the code page's session.
    copy = app.test_client()
    copy.set_cookie("session", before_code)
    assert copy.get("/sadoku/officer/requests").status_code == 302


def test_ending_other_devices_needs_a_recent_password(client, app, login_as):
    me = login_as()
    other = app.test_client()
    assert log_in(other, me.email).status_code == 303
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == me.id)
            .values(reauth_at=utcnow() - dt.timedelta(minutes=16))
        )
        db.session.commit()
    refused = post(client, "/accounts/sessions/end-others")
    assert refused.status_code == 303 and "/accounts/confirm" in refused.headers["Location"]
    assert other.get("/accounts/profile").status_code == 200  # nothing ended yet
    wrong = post(client, "/accounts/confirm", {"password": "bukan-sandinya"})
    assert wrong.status_code == 422
    assert post(client, "/accounts/confirm", {"password": me.password}).status_code == 303
    assert post(client, "/accounts/sessions/end-others").status_code == 303
    assert other.get("/accounts/profile").status_code == 302
    assert client.get("/accounts/profile").status_code == 200


def test_operator_can_log_everyone_out(app, runner, login_as):
    first = login_as()
    second = app.test_client()
    with app.app_context():
        make_user(email="lain@contoh.id")
    assert log_in(second, "lain@contoh.id").status_code == 303
    result = runner.invoke(args=["accounts", "end-all-sessions", "--yes"])
    assert result.exit_code == 0 and "2 session(s) ended" in result.output
    assert second.get("/accounts/profile").status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                select(UserSession).where(
                    UserSession.user_id == first.id, UserSession.ended_at.is_(None)
                )
            )
            is None
        )


def test_mail_over_starttls_checks_the_server_certificate(ctx, monkeypatch):
    contexts: list[ssl.SSLContext] = []

    class FakeSMTP:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
            return None

        def starttls(self, context: ssl.SSLContext | None = None) -> None:
            assert context is not None, "starttls without a context skips certificate checks"
            contexts.append(context)

        def login(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def send_message(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            pass

    monkeypatch.setitem(ctx.config, "MAIL_SERVER", "smtp.contoh.id")
    monkeypatch.setitem(ctx.config, "MAIL_USE_TLS", True)
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    send_mail("siti@contoh.id", "Uji", "Isi")
    assert contexts and contexts[0].verify_mode == ssl.CERT_REQUIRED
    assert contexts[0].check_hostname


@pytest.mark.parametrize("event", ["logout", "mfa_verified"])
def test_logout_and_a_verified_code_are_logged(app, caplog, event):
    with app.app_context():
        make_user(email="petugas@contoh.id", roles=(Role.ADMIN,))
    browser = app.test_client()
    with caplog.at_level("INFO", logger="portal"):
        assert log_in(browser, "petugas@contoh.id").status_code == 303
        post(browser, "/accounts/logout")
    assert any(getattr(r, "event", None) == event for r in caplog.records)


def test_a_refused_rate_limited_request_is_logged(app, client, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT_ACCOUNT", "1 per minute")
    with caplog.at_level("INFO", logger="portal"):
        for _ in range(2):
            response = post(
                client, "/accounts/login", {"identifier": "x@contoh.id", "password": "y"}
            )
    assert response.status_code == 429
    assert any(getattr(r, "event", None) == "rate_limited" for r in caplog.records)


def test_an_admin_cannot_reset_their_own_mfa_or_end_their_own_sessions_from_the_admin_page(
    client, app, login_as
):
    """Resetting your own second factor would let a stolen admin session remove the factor;
    your own devices are ended from your own devices page, after a fresh password."""
    admin = login_as(Role.ADMIN)
    for url in (f"/admin/users/{admin.id}/mfa/reset", f"/admin/users/{admin.id}/sessions/end"):
        assert post(client, url).status_code == 303
    with app.app_context():
        user = db.session.get(User, admin.id)
        assert user.mfa_enrolled
        assert db.session.scalar(
            select(UserSession).where(
                UserSession.user_id == admin.id, UserSession.ended_at.is_(None)
            )
        )
    assert client.get("/accounts/profile").status_code == 200
