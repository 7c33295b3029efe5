"""Working days, the WIB calendar day, and what officers see as overdue in their queue."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.core import time as core_time
from portal.core.time import add_working_days, today_wib, wib_date
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import DocumentRequest, Status
from portal.sadoku.services import QueueFilter, is_overdue, overdue_count, queue_query
from tests.factories import make_document_type, make_request, make_user

FRI = dt.date(2026, 8, 14)
SAT = dt.date(2026, 8, 15)
MON_17_AUG = dt.date(2026, 8, 17)  # Independence Day
THU = dt.date(2026, 2, 5)


# --- add_working_days ---------------------------------------------------------------------------


def test_the_calendar_used_here():
    assert (FRI.weekday(), SAT.weekday(), MON_17_AUG.weekday(), THU.weekday()) == (4, 5, 0, 3)


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        (FRI, 1, (), dt.date(2026, 8, 17)),  # Friday + 1: Monday
        (THU, 3, (), dt.date(2026, 2, 10)),  # Thursday + 3: Tuesday
        (THU, 1, (), dt.date(2026, 2, 6)),  # Thursday + 1: Friday
        (FRI, 5, (), dt.date(2026, 8, 21)),  # a full week
        (FRI, 1, (MON_17_AUG,), dt.date(2026, 8, 18)),  # over a Monday holiday
        (FRI, 2, (MON_17_AUG,), dt.date(2026, 8, 19)),
        (FRI, 1, (SAT,), dt.date(2026, 8, 17)),  # a holiday on a Saturday is not skipped twice
        (FRI, 1, (SAT, MON_17_AUG), dt.date(2026, 8, 18)),
        (SAT, 1, (), dt.date(2026, 8, 17)),  # submitted on a Saturday: Monday
        (SAT, 0, (), SAT),  # nothing to count: the start day
        (FRI, 0, (MON_17_AUG,), FRI),
        (dt.date(2026, 12, 31), 1, (dt.date(2027, 1, 1),), dt.date(2027, 1, 4)),  # year end
    ],
)
def test_add_working_days(start, days, holidays, expected):
    assert add_working_days(start, days, holidays) == expected


def test_holidays_before_the_start_do_not_count():
    assert add_working_days(FRI, 1, {dt.date(2026, 8, 13), FRI}) == MON_17_AUG


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(FRI, -1)


# --- the WIB day --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # 17:30 UTC is 00:30 the next day in Lubuk Pakam (UTC+7).
        (dt.datetime(2026, 3, 10, 17, 30, tzinfo=dt.UTC), dt.date(2026, 3, 11)),
        (dt.datetime(2026, 3, 10, 16, 59, tzinfo=dt.UTC), dt.date(2026, 3, 10)),
        (dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC), dt.date(2027, 1, 1)),
        (dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC), dt.date(2026, 3, 10)),
    ],
)
def test_today_wib_follows_the_jakarta_day(monkeypatch, utc, expected):
    monkeypatch.setattr(core_time, "utcnow", lambda: utc)
    assert today_wib() == expected
    assert wib_date(utc) == expected
    # SQLite hands back naive UTC times: the same day results.
    assert wib_date(utc.replace(tzinfo=None)) == expected


# --- overdue ------------------------------------------------------------------------------------


def _with_due(status: str, due: dt.date | None, **kw) -> DocumentRequest:  # type: ignore[no-untyped-def]
    req = make_request(status=status, **kw)
    if due is not None:
        req.due_date = due
    db.session.commit()
    return req


def test_is_overdue(ctx):
    today = today_wib()
    yesterday = today - dt.timedelta(days=1)
    assert is_overdue(_with_due("submitted", yesterday)) is True
    assert is_overdue(_with_due("delivery_failed", yesterday)) is True
    assert is_overdue(_with_due("submitted", today)) is False
    assert is_overdue(_with_due("submitted", today + dt.timedelta(days=3))) is False
    for closed in ("delivered", "collected", "rejected", "cancelled"):
        assert is_overdue(_with_due(closed, yesterday)) is False, closed
    draft = make_request(status="draft")
    draft.due_date = yesterday
    assert is_overdue(draft) is False
    # An explicit "today" (the queue passes one) decides, not the clock.
    req = _with_due("verified", today)
    assert is_overdue(req, today + dt.timedelta(days=1)) is True
    assert is_overdue(req, today) is False


def test_is_overdue_uses_the_wib_day(ctx, monkeypatch):
    req = _with_due("submitted", dt.date(2026, 3, 10))
    # 17:30 UTC on the due date is already the next day in WIB: overdue.
    monkeypatch.setattr(
        core_time, "utcnow", lambda: dt.datetime(2026, 3, 10, 17, 30, tzinfo=dt.UTC)
    )
    assert is_overdue(req) is True
    monkeypatch.setattr(
        core_time, "utcnow", lambda: dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC)
    )
    assert is_overdue(req) is False


def _codes(f: QueueFilter, today: dt.date | None = None) -> list[str]:
    return [r.code for r in db.session.scalars(queue_query(f, today))]


def _submitted_days_ago(req: DocumentRequest, days: int) -> None:
    req.submitted_at = req.submitted_at - dt.timedelta(days=days)
    db.session.commit()


def test_the_overdue_filter_lists_exactly_the_overdue_open_requests(ctx):
    today = today_wib()
    late_a = _with_due("submitted", today - dt.timedelta(days=1))
    late_b = _with_due("in_process", today - dt.timedelta(days=6))
    _with_due("verified", today)  # due today: not yet late
    _with_due("out_for_delivery", today + dt.timedelta(days=2))
    _with_due("cancelled", today - dt.timedelta(days=4))  # closed: never late
    _with_due("delivered", today - dt.timedelta(days=4))
    make_request(status="draft")
    _submitted_days_ago(late_b, 10)  # submitted earlier, so listed first

    assert _codes(QueueFilter(overdue=True)) == [late_b.code, late_a.code]
    assert services.overdue_count() == 2
    # Tomorrow, the one due today is late as well.
    tomorrow = today + dt.timedelta(days=1)
    assert len(_codes(QueueFilter(overdue=True), tomorrow)) == 3
    assert overdue_count(tomorrow) == 3


def test_the_overdue_count_stops_at_the_cap(ctx, monkeypatch):
    today = today_wib()
    for days in (1, 2, 3):
        _with_due("submitted", today - dt.timedelta(days=days))
    monkeypatch.setattr(services, "COUNT_CAP", 1)
    assert services.overdue_count() == 2  # cap + 1: "more than 1"
    monkeypatch.setattr(services, "COUNT_CAP", 5)
    assert services.overdue_count() == 3


def test_queue_filters_and_oldest_first(ctx):
    kk_type = make_document_type(attachment_names=["Surat nikah"], name="Kartu Keluarga")
    siti = make_user(full_name="Siti Aminah")
    first = make_request(status="submitted", subject_name="Rahmat Hidayat")
    second = make_request(status="verified", subject_name="Dewi Lestari", document_type=kk_type)
    third = make_request(
        status="submitted",
        owner=siti,
        subject_name="Putri Aminah",
        address={"kecamatan_code": "12.07.02", "desa_code": "12.07.02.2001"},
    )
    make_request(status="draft", subject_name="Rahmat Draft")
    _submitted_days_ago(third, 30)
    _submitted_days_ago(second, 20)
    _submitted_days_ago(first, 10)

    # Oldest first; drafts are the resident's and never appear.
    assert _codes(QueueFilter()) == [third.code, second.code, first.code]
    assert _codes(QueueFilter(status=Status.SUBMITTED)) == [third.code, first.code]
    assert _codes(QueueFilter(status=Status.DRAFT)) == []
    assert _codes(QueueFilter(status=Status.REJECTED)) == []
    assert _codes(QueueFilter(document_type_id=kk_type.id)) == [second.code]
    assert _codes(QueueFilter(kecamatan_code="12.07.02")) == [third.code]
    assert _codes(QueueFilter(kecamatan_code="12.07.28")) == [second.code, first.code]
    # Search by tracking code, exact, in any case and with spaces.
    assert _codes(QueueFilter(q=first.code)) == [first.code]
    assert _codes(QueueFilter(q=f" {first.code.lower()} ")) == [first.code]
    assert _codes(QueueFilter(q="SDK-0000-000000")) == []
    # Search by the subject's or the account holder's name, case-insensitively.
    assert _codes(QueueFilter(q="rahmat")) == [first.code]
    assert _codes(QueueFilter(q="DEWI lest")) == [second.code]
    assert _codes(QueueFilter(q="siti")) == [third.code]
    assert _codes(QueueFilter(q="aminah")) == [third.code]
    assert _codes(QueueFilter(q="tidak ada")) == []
    # Filters combine.
    assert _codes(QueueFilter(status=Status.SUBMITTED, q="aminah")) == [third.code]
    assert _codes(QueueFilter(status=Status.VERIFIED, q="aminah")) == []


def test_status_counts(ctx):
    officer = make_user(roles=(Role.SADOKU_OFFICER,))
    for status in ("submitted", "submitted", "verified", "cancelled", "draft", "draft"):
        make_request(status=status, officer=officer)
    counts = services.status_counts()
    assert Status.DRAFT not in counts
    assert set(counts) == {s for s in Status if s != Status.DRAFT}
    assert counts[Status.SUBMITTED] == 2
    assert counts[Status.VERIFIED] == 1
    assert counts[Status.CANCELLED] == 1
    assert sum(counts.values()) == 4
    total = db.session.scalars(select(DocumentRequest)).all()
    assert len(total) == 6


# Every pattern the templates and views pass to format_wib / format_day (grep `wib(` / `day(`).
TIME_PATTERNS = ("d MMM yyyy, HH.mm", "HH.mm")
DAY_PATTERNS = ("d MMMM yyyy", "d MMM yyyy", "EEEE, d MMMM yyyy", "EEE, d MMM yyyy", "MMMM yyyy")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_fast_formats_say_exactly_what_babel_says(app, lang):
    """The compiled formats must match Babel's, in both languages, across months, weekdays and the
    hours where the WIB day differs from the UTC day."""
    from babel.dates import format_date as babel_date
    from babel.dates import format_datetime as babel_datetime

    from portal.core.time import WIB, format_day, format_wib

    start = dt.datetime(2026, 1, 1, 16, 59, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(days=13 * i, hours=7 * i, minutes=11 * i) for i in range(40)]
    with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
        for moment in moments:
            for fmt in TIME_PATTERNS:
                expected = babel_datetime(moment, fmt, tzinfo=WIB, locale=lang) + " WIB"
                assert format_wib(moment, fmt) == expected
                assert format_wib(moment.replace(tzinfo=None), fmt) == expected  # SQLite: naive
            for fmt in DAY_PATTERNS:
                assert format_day(moment.date(), fmt) == babel_date(moment.date(), fmt, locale=lang)
        assert format_wib(start) == "1 Jan 2026, 23.59 WIB"  # 16.59 UTC
        assert format_wib(None) == ""
        assert format_day(None) == ""


def test_a_pattern_with_other_fields_still_formats_through_babel(app):
    from portal.core.time import format_day

    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert format_day(dt.date(2026, 11, 23), "QQQ yyyy") == "Q4 2026"
