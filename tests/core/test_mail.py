"""Email through SMTP (a local aiosmtpd stub) or the log, the password-reset mail, and the bell."""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from portal.core.notifications import mark_read, notify, send_mail, unread_count
from portal.extensions import db
from tests.conftest import log_in, post
from tests.factories import DEFAULT_PASSWORD, make_user

NEW_PASSWORD = "nasi-goreng-kampung-99"
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/password-reset/[A-Za-z0-9_-]{20,})")


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch) -> Iterator[Mailbox]:
    """A local SMTP server, and the app configured to send through it."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, server_hostname="smtp.portal.test"
    )
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "")
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    try:
        yield mailbox
    finally:
        controller.stop()


# --- send_mail ------------------------------------------------------------------------------------


def test_without_mail_server_the_mail_goes_to_the_log(ctx, monkeypatch, caplog):
    monkeypatch.setitem(ctx.config, "MAIL_SERVER", "")

    def no_network(*args, **kwargs):
        raise AssertionError("send_mail opened a connection with MAIL_SERVER unset")

    monkeypatch.setattr(smtplib, "SMTP", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with caplog.at_level("INFO", logger="portal.core.notifications"):
        send_mail("siti@contoh.id", "Dokumen Anda siap diantar", "Kurir berangkat pukul 10.00.")
    assert "Dokumen Anda siap diantar" in caplog.text
    assert "Kurir berangkat pukul 10.00." in caplog.text  # so a developer can follow links


def test_outside_demo_mode_an_unsent_mail_body_never_reaches_the_log(ctx, monkeypatch, caplog):
    """A production server without MAIL_SERVER must not write reset links into its logs."""
    monkeypatch.setitem(ctx.config, "MAIL_SERVER", "")
    monkeypatch.setitem(ctx.config, "DEMO_MODE", False)
    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: pytest.fail("no SMTP without a server"))
    with caplog.at_level("INFO", logger="portal.core.notifications"):
        send_mail("siti@contoh.id", "Atur ulang kata sandi", "https://portal/reset/rahasia-token")
    assert "rahasia-token" not in caplog.text and "Atur ulang" not in caplog.text
    assert "MAIL_SERVER is not configured" in caplog.text


def test_send_mail_delivers_through_smtp(ctx, smtp):
    send_mail(
        "siti@contoh.id",
        "Pengambilan sampah – Selasa",
        "Halo Siti,\n\nPetugas datang hari Selasa, 08.00–10.00.\n",
    )
    assert len(smtp.messages) == 1
    mail_from, rcpt_tos, msg = smtp.messages[0]
    assert rcpt_tos == ["siti@contoh.id"]
    assert msg["To"] == "siti@contoh.id"
    assert msg["From"] == ctx.config["MAIL_DEFAULT_SENDER"]
    assert mail_from == "noreply@localhost"
    assert msg["Subject"] == "Pengambilan sampah – Selasa"
    body = msg.get_content()
    assert "Petugas datang hari Selasa, 08.00–10.00." in body
    assert msg.get_content_type() == "text/plain"


def test_send_mail_uses_the_configured_sender(ctx, smtp, monkeypatch):
    sender = "Disdukcapil Deli Serdang <dukcapil@uji.test>"
    monkeypatch.setitem(ctx.config, "MAIL_DEFAULT_SENDER", sender)
    send_mail("budi@contoh.id", "Uji", "Isi")
    mail_from, _, msg = smtp.messages[0]
    assert msg["From"] == sender
    assert mail_from == "dukcapil@uji.test"


# --- the password-reset email, end to end ---------------------------------------------------------


def _reset_path(mailbox: Mailbox, index: int = -1) -> str:
    _, _, msg = mailbox.messages[index]
    match = RESET_LINK.search(msg.get_content())
    assert match, msg.get_content()
    return match.group(1)


def test_password_reset_by_email(app, client, smtp):
    with app.app_context():
        user = make_user(full_name="Siti Aminah", email="siti@contoh.id")
        email_address = user.email
    client.set_cookie("lang", "en")

    response = post(client, "/accounts/password-reset", {"email": "Siti@Contoh.id"})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert len(smtp.messages) == 1
    _, rcpt_tos, msg = smtp.messages[0]
    assert rcpt_tos == [email_address]
    assert "password" in msg["Subject"].lower()
    assert "Siti" in msg.get_content()
    path = _reset_path(smtp)

    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Choose a new password" in html
    assert 'name="password"' in html

    response = post(client, path, {"password": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/login")

    assert log_in(client, email_address, DEFAULT_PASSWORD).status_code != 303
    assert log_in(client, email_address, NEW_PASSWORD).status_code == 303

    again = client.get(path)
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)
    reuse = post(client, path, {"password": "another-long-password-1"})
    assert reuse.status_code == 404


def test_only_the_newest_reset_link_works(app, client, smtp):
    with app.app_context():
        make_user(email="budi@contoh.id")
    client.set_cookie("lang", "en")
    post(client, "/accounts/password-reset", {"email": "budi@contoh.id"})
    post(client, "/accounts/password-reset", {"email": "budi@contoh.id"})
    assert len(smtp.messages) == 2
    first, second = _reset_path(smtp, 0), _reset_path(smtp, 1)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_unknown_email_gets_the_same_answer_and_no_mail(app, client, smtp):
    with app.app_context():
        make_user(email="siti@contoh.id")
    client.set_cookie("lang", "en")

    def page_for(address: str) -> tuple[int, str]:
        response = post(client, "/accounts/password-reset", {"email": address})
        html = response.get_data(as_text=True).replace(address, "EMAIL")
        # CSRF tokens are signed with the time in seconds, so two requests that straddle a
        # second differ there (in form fields and in the body's htmx headers) and nowhere else.
        html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "TOKEN"', html)
        return response.status_code, re.sub(r'value="[^"]{30,}"', 'value="TOKEN"', html)

    known = page_for("siti@contoh.id")
    smtp.messages.clear()
    unknown = page_for("tidak-ada@contoh.id")
    assert unknown == known
    assert smtp.messages == []


# --- in-app notifications (the bell) --------------------------------------------------------------


def test_notify_count_and_mark_read(ctx):
    siti = make_user()
    budi = make_user()
    base_siti, base_budi = unread_count(siti.id), unread_count(budi.id)  # welcome notes

    first = notify(siti.id, "Dokumen siap", "KTP Anda siap diantar.", url="/accounts/profile")
    notify(siti.id, "Jadwal pengambilan", "Selasa 08.00")
    notify(budi.id, "Pesanan diterima")
    db.session.commit()
    assert unread_count(siti.id) == base_siti + 2
    assert unread_count(budi.id) == base_budi + 1

    assert mark_read(siti.id, first.id) == 1
    db.session.commit()
    assert unread_count(siti.id) == base_siti + 1
    assert mark_read(siti.id, first.id) == 0  # already read

    # Nobody can mark someone else's notification.
    assert mark_read(budi.id, first.id) == 0
    other = notify(budi.id, "Milik Budi")
    db.session.commit()
    assert mark_read(siti.id, other.id) == 0
    db.session.commit()
    assert unread_count(budi.id) == base_budi + 2

    assert mark_read(siti.id) == base_siti + 1
    db.session.commit()
    assert unread_count(siti.id) == 0
    assert unread_count(budi.id) == base_budi + 2
