"""In-app notifications (the bell) and email delivery through SMTP or the log."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, Index, String, Text, event, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.time import utcnow
from portal.extensions import db

log = logging.getLogger(__name__)


class Notification(db.Model):
    """A message to one user, shown under the bell until read."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


def notify(user_id: int, title: str, body: str = "", url: str | None = None) -> Notification:
    """Queue an in-app notification in the current transaction."""
    note = Notification(user_id=user_id, title=title, body=body, url=url)
    db.session.add(note)
    return note


def tell(user: Any, title: str, body: str, path: str, link: str) -> None:
    """Tell a user in the app (the bell) and, when the account has an email, by email too.

    `path` is the in-app link and `link` the same page as an absolute URL for the email. Callers
    pass text already in the language it is stored in (see each service's `_stored`).
    """
    from flask_babel import gettext as _

    notify(user.id, title, body, path)
    if user.wants_email:  # an email address, and consent to email messages not withdrawn
        queue_mail(
            user.email,
            title,
            _(
                "Hello %(name)s,\n\n%(body)s\n\nOpen the portal to see more: %(link)s\n",
                name=user.first_name,
                body=body,
                link=link,
            ),
        )


def unread_count(user_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) unread notification of a user as read."""
    stmt = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    stmt = stmt.values(read_at=utcnow()).execution_options(synchronize_session="fetch")
    return db.session.execute(stmt).rowcount


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text email through SMTP when MAIL_SERVER is set, otherwise write it to the log.

    Called after the database commit, so a slow or failing mail server never holds a transaction.
    """
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    if not cfg.get("MAIL_SERVER"):
        # A mail body can hold a working reset link and personal details: only demo and test
        # installations, where nothing is real, write it to the log for the developer to read.
        if cfg.get("DEMO_MODE"):
            log.info("mail (MAIL_SERVER unset, not sent) subject=%r\n%s", subject, body)
        else:
            log.warning("mail not sent: MAIL_SERVER is not configured")
        return
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(msg)


_OUTBOX = "portal_mail_outbox"


def queue_mail(to: str | None, subject: str, body: str) -> None:
    """Send an email once the current transaction commits; drop it if it rolls back.

    Services call this next to `notify`, so a status change and its email happen together or
    not at all, and the SMTP conversation never runs while database locks are held.
    """
    if to:
        db.session().info.setdefault(_OUTBOX, []).append((to, subject, body))


def discard_queued_mail() -> int:
    """Forget the emails queued in this transaction (demo seeding must not mail .test addresses)."""
    return len(db.session().info.pop(_OUTBOX, []))


@event.listens_for(Session, "after_commit")
def _send_outbox(session: Session) -> None:
    for to, subject, body in session.info.pop(_OUTBOX, []):
        try:
            send_mail(to, subject, body)
        except (OSError, smtplib.SMTPException):
            # The in-app notification already carries the news; a mail outage must not turn a
            # committed action into an error page.
            log.exception("mail to a user could not be sent (subject %r)", subject)


@event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)
