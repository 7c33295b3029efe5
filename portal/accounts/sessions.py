"""Server-side login sessions: a random token in the cookie, its hash in `user_sessions`.

Flask's own session is a signed cookie: the server cannot take it back. Tying each login to a row
that every request checks lets the portal end a session on the server (logout, password change,
"log out other devices", an admin's order, a disabled account) and enforce idle and absolute
limits, which are short for staff (ASVS 7.3: 30 minutes idle, 12 hours in all).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import defer, joinedload

from portal.accounts.models import User, UserSession
from portal.core.logs import log_after_commit, log_event
from portal.core.time import as_utc, utcnow
from portal.extensions import db

SESSION_KEY = "sid"
# last_seen_at is written at most this often: idle limits are minutes, not seconds.
TOUCH_EVERY = dt.timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _limits(user: User) -> tuple[dt.timedelta, dt.timedelta]:
    """(idle, absolute) lifetime: staff get the short ones, residents stay logged in longer."""
    cfg = current_app.config
    if user.is_staff:
        return (
            dt.timedelta(seconds=cfg["STAFF_SESSION_IDLE_SECONDS"]),
            dt.timedelta(seconds=cfg["STAFF_SESSION_MAX_SECONDS"]),
        )
    return (
        dt.timedelta(seconds=cfg["RESIDENT_SESSION_IDLE_SECONDS"]),
        dt.timedelta(seconds=cfg["RESIDENT_SESSION_MAX_SECONDS"]),
    )


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("SamsungBrowser/", "Samsung Internet"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))  # fmt: skip
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))  # fmt: skip


def device_label(user_agent: str | None) -> str:
    """A name people recognise on the sessions page ("Chrome, Android"), not the raw header."""
    ua = user_agent or ""
    browser = next((name for key, name in _BROWSERS if key in ua), "")
    system = next((name for key, name in _SYSTEMS if key in ua), "")
    label = ", ".join(part for part in (browser, system) if part)
    return label or re.sub(r"[^\w .,/()-]", "", ua)[:60]


def start(user: User, *, remember: bool = False, mfa: bool = False) -> UserSession:
    """Log `user` in on this browser with a fresh token (no session fixation). Flushes."""
    session.clear()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user=user,
        token_hash=_hash(token),
        created_at=now,
        last_seen_at=now,
        reauth_at=now,
        mfa_at=now if mfa else None,
        remember=remember,
        ip=request.remote_addr,
        device=device_label(request.user_agent.string)[:80],
    )
    db.session.add(row)
    db.session.flush()
    session[SESSION_KEY] = token
    # A remembered login outlives the browser; the server still enforces the limits above.
    session.permanent = remember
    login_user(user, remember=False)
    g.user_session = row
    return row


def current() -> UserSession | None:
    """This request's open session row (set while loading the user), or None."""
    return g.get("user_session")


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the cookie's token must name an open, unexpired session.

    One query loads the session row and its user together; a session past its idle or absolute
    limit is ended here (and logged), so the next request is anonymous.
    """
    token = session.get(SESSION_KEY)
    if not token or not user_id.isdigit():
        return None
    found = (
        db.session.execute(
            select(UserSession, User)
            .join(User, UserSession.user_id == User.id)
            .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            # The roles in the same round trip (the relationship's own loader would add one);
            # the NIK stays encrypted until a page reads it. (Not the TOTP secret: the MFA gate
            # reads it on every staff request, and deferring it would cost a query each time.)
            .options(joinedload(User.grants), defer(User.nik))
        )
        .unique()
        .first()
    )
    if found is None:
        session.pop(SESSION_KEY, None)
        return None
    row, user = found
    if user.id != int(user_id) or not user.is_active:
        return None
    now = utcnow()
    idle, absolute = _limits(user)
    reason = None
    if now - as_utc(row.last_seen_at) > idle:
        reason = "idle"
    elif now - as_utc(row.created_at) > absolute:
        reason = "expired"
    if reason:
        _end_rows(select(UserSession.id).where(UserSession.id == row.id), reason, commit=True)
        log_event("session_expired", user_id=user.id, reason=reason)
        session.pop(SESSION_KEY, None)
        return None
    if now - as_utc(row.last_seen_at) > TOUCH_EVERY:
        _touch(row, now)
    g.user_session = row
    return user


def _touch(row: UserSession, now: dt.datetime) -> None:
    """Record activity in its own short transaction: the request's own work is not committed."""
    try:
        with db.engine.begin() as conn:
            conn.execute(
                update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
            )
    except SQLAlchemyError:  # best effort: a busy database must not turn a page into an error
        current_app.logger.warning("could not record session activity")
        return
    db.session.expire(row, ["last_seen_at"])


def _end_rows(ids_query, reason: str, *, commit: bool = False) -> int:  # type: ignore[no-untyped-def]
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.id.in_(ids_query), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if commit:
        db.session.commit()
    return result.rowcount or 0


def end_current(reason: str = "logout") -> None:
    """Logout: the row is ended, the cookie emptied. Flushes; the view commits."""
    row = current()
    if row is not None:
        _end_rows(select(UserSession.id).where(UserSession.id == row.id), reason)
    logout_user()
    session.clear()


def end_all(user: User, reason: str, *, keep: UserSession | None = None) -> int:
    """End every open session of `user` (except `keep`); returns how many ended. Flushes."""
    query = select(UserSession.id).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    ended = _end_rows(query, reason)
    if ended:
        log_after_commit("sessions_ended", user_id=user.id, count=ended, reason=reason)
    return ended


def end_one(user: User, session_id: int, reason: str = "ended_by_user") -> bool:
    """End one of `user`'s own sessions by its row id (the sessions page's "end" button)."""
    return bool(
        _end_rows(
            select(UserSession.id).where(
                UserSession.id == session_id, UserSession.user_id == user.id
            ),
            reason,
        )
    )


def rotate(user: User) -> UserSession:
    """After a password change: every other device is logged out and this one gets a new token.

    The new session keeps the second-factor state of the old one: the person just proved they
    know the password, and is already through MFA on this browser.
    """
    old = current()
    mfa_at = old.mfa_at if old is not None else None
    remember = old.remember if old is not None else False
    end_all(user, "password_changed")
    row = start(user, remember=remember)
    row.mfa_at = mfa_at
    db.session.flush()
    return row


def end_everyone(reason: str) -> int:
    """Log every user out everywhere (a suspected breach: SECURITY.md's runbook). Flushes."""
    ended = _end_rows(select(UserSession.id).where(UserSession.ended_at.is_(None)), reason)
    log_after_commit("sessions_ended", scope="all", count=ended, reason=reason)
    return ended


def open_sessions(user: User) -> list[UserSession]:
    """The devices where `user` is logged in, the most recently used first (expired ones too
    are ended on their next request; listing them until then is honest)."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def mark_verified(*, mfa: bool) -> None:
    """The person just proved who they are again (second factor or step-up): sensitive actions
    open up, and the token is renewed (ASVS 7.2.4), so one copied before the code is worthless."""
    row = current()
    if row is None:
        return
    now = utcnow()
    row.reauth_at = now
    if mfa:
        row.mfa_at = now
    token = secrets.token_urlsafe(32)
    row.token_hash = _hash(token)
    session[SESSION_KEY] = token
    db.session.flush()


def auth_is_recent() -> bool:
    """True when the login or the last step-up is within STEPUP_MAX_AGE_SECONDS."""
    row = current()
    if row is None:
        return False
    age = utcnow() - as_utc(row.reauth_at)
    return age <= dt.timedelta(seconds=current_app.config["STEPUP_MAX_AGE_SECONDS"])
