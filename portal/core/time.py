"""Times are stored in UTC and shown in WIB (Asia/Jakarta)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import parse_pattern
from flask_babel import format_date, format_datetime, get_locale

WIB = ZoneInfo("Asia/Jakarta")

# Date and time fields the portal's formats use, computed directly. Babel's own formatter resolves
# the locale, time zone and every field through several layers per call (about 20 us); a statement
# or queue shows 25-50 times per page, so the formats are compiled once per (locale, pattern).
# tests/core/test_time.py checks the output equals Babel's for every pattern in use.
_Field = Callable[[dt.date, Locale], str]
_FIELDS: dict[str, _Field] = {
    "d": lambda v, _loc: str(v.day),
    "dd": lambda v, _loc: f"{v.day:02d}",
    "M": lambda v, _loc: str(v.month),
    "MM": lambda v, _loc: f"{v.month:02d}",
    "MMM": lambda v, loc: loc.months["format"]["abbreviated"][v.month],
    "MMMM": lambda v, loc: loc.months["format"]["wide"][v.month],
    "y": lambda v, _loc: str(v.year),
    "yyyy": lambda v, _loc: f"{v.year:04d}",
    "EEE": lambda v, loc: loc.days["format"]["abbreviated"][v.weekday()],
    "EEEE": lambda v, loc: loc.days["format"]["wide"][v.weekday()],
    "H": lambda v, _loc: str(v.hour),  # type: ignore[attr-defined]
    "HH": lambda v, _loc: f"{v.hour:02d}",  # type: ignore[attr-defined]
    "mm": lambda v, _loc: f"{v.minute:02d}",  # type: ignore[attr-defined]
}


@lru_cache(maxsize=64)
def _compiled(locale: str, fmt: str) -> Callable[[dt.date], str] | None:
    """A fast formatter for `fmt` in `locale`, or None when it uses a field not listed above."""
    template = parse_pattern(fmt).format
    keys = re.findall(r"%\((\w+)\)s", template)
    if not all(key in _FIELDS for key in keys):
        return None
    loc = Locale.parse(locale)
    fields = [(key, _FIELDS[key]) for key in keys]

    def render(value: dt.date) -> str:
        return template % {key: field(value, loc) for key, field in fields}

    return render


def _fast(fmt: str) -> Callable[[dt.date], str] | None:
    locale = get_locale()
    return _compiled(str(locale), fmt) if locale is not None else None


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
    fast = _fast(fmt)
    if fast is not None:
        return fast(as_utc(value).astimezone(WIB)) + " WIB"
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
    if day is None:
        return ""
    fast = _fast(fmt)
    return fast(day) if fast is not None else format_date(day, fmt)


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
