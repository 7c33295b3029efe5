"""Times are stored in UTC and shown in WIB (Asia/Jakarta)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime

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


def wib_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a WIB calendar day in UTC, for querying stored times by local day.

    UTC, not WIB-aware values: SQLite compares stored naive UTC text, so the bounds must be UTC.
    """
    start = dt.datetime.combine(day, dt.time(), tzinfo=WIB).astimezone(dt.UTC)
    return start, start + dt.timedelta(days=1)


LONG_DAY = "EEEE, d MMMM yyyy"  # Senin, 23 November 2026


def format_day(day: dt.date | None, fmt: str = "d MMMM yyyy") -> str:
    """A calendar day (due date, delivery date, holiday) in the reader's language."""
    return format_date(day, fmt) if day is not None else ""


def today_wib() -> dt.date:
    """Today's date in Deli Serdang: service standards and delivery dates are WIB days."""
    return utcnow().astimezone(WIB).date()


def wib_date(value: dt.datetime) -> dt.date:
    """The WIB calendar day of a stored UTC time."""
    return as_utc(value).astimezone(WIB).date()


def add_working_days(start: dt.date, days: int, holidays: Collection[dt.date] = ()) -> dt.date:
    """The date `days` working days after `start`, skipping weekends and `holidays`.

    A request submitted on a Friday with a 1-day standard is due on Monday: the day it is
    submitted does not count, as with public-service standards (Permenpan-RB "hari kerja").
    """
    if days < 0:
        raise ValueError("days must not be negative")
    closed = set(holidays)
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            remaining -= 1
    return day
