"""Times are stored in UTC and shown in WIB (Asia/Jakarta)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import format_datetime

WIB = ZoneInfo("Asia/Jakarta")


def utcnow() -> dt.datetime:
    """Aware current time in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC, so attach it."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def format_wib(value: dt.datetime | None, fmt: str = "d MMM yyyy, HH.mm") -> str:
    """A stored UTC time as people in Deli Serdang read it: 22 Nov 2026, 23.19 WIB.

    Flask-Babel converts to BABEL_DEFAULT_TIMEZONE (Asia/Jakarta) and names months in the UI
    language.
    """
    if value is None:
        return ""
    return format_datetime(as_utc(value), fmt) + " WIB"
