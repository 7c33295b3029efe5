"""SADOKU services around the state machine: races, notifications, audit, tracking, holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Role, User
from portal.core.audit import AuditLog
from portal.core.errors import DomainError
from portal.core.notifications import Notification
from portal.core.time import add_working_days, today_wib
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import (
    NEXT_STEPS,
    DocumentRequest,
    FailureReason,
    Holiday,
    Relation,
    RequestEvent,
    Status,
)
from tests.factories import VALID_NIK, checked_png, make_request, make_user

RACE_MESSAGE = "Someone else changed this request at the same time. Reload it and try again."


def _officer() -> User:
    return make_user(roles=(Role.SADOKU_OFFICER,))


def _courier() -> User:
    return make_user(roles=(Role.SADOKU_COURIER,))


def _reloaded(req: DocumentRequest) -> DocumentRequest:
    db.session.expire_all()
    fresh = db.session.get(DocumentRequest, req.id)
    assert fresh is not None
    return fresh


def _event_count(request_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(RequestEvent.id)).where(RequestEvent.request_id == request_id)
        )
        or 0
    )


# --- two officers at once -----------------------------------------------------------------------


@contextmanager
def _services_use(session: Session) -> Iterator[None]:
    """Let the services (which use `db.session`) run in `session`, as another request would."""
    registry = db.session.registry
    previous = registry()
    registry.set(session)
    try:
        yield
    finally:
        registry.set(previous)


MOVES: dict[str, tuple[Status, Callable[[DocumentRequest, User], Any]]] = {
    "verify": (Status.VERIFIED, lambda req, officer: services.verify_request(req, officer)),
    "reject": (
        Status.REJECTED,
        lambda req, officer: services.reject_request(req, officer, "Data tidak sesuai"),
    ),
}


@pytest.mark.parametrize("winner", ["verify", "reject"])
@pytest.mark.parametrize("winner_session", ["main", "other"])
def test_two_officers_acting_at_once_only_one_wins(ctx, winner, winner_session):
    officer_a, officer_b = _officer(), _officer()
    req = make_request(status="submitted")
    rid, owner_id, version = req.id, req.user_id, req.version
    notes_before = _notification_count(owner_id)
    loser = "reject" if winner == "verify" else "verify"

    other = Session(db.engine)
    try:
        # Both officers open the request: each session reads the same status and version.
        main = db.session()
        loaded = {}
        for name, session, officer in (("main", main, officer_a), ("other", other, officer_b)):
            seen = session.get(DocumentRequest, rid)
            assert seen is not None and seen.status == Status.SUBMITTED
            assert seen.version == version
            assert len(seen.events) == 1
            loaded[name] = (session, seen, session.get(User, officer.id))
        loser_session = "other" if winner_session == "main" else "main"

        # The first click is committed...
        session, seen, officer = loaded[winner_session]
        with _services_use(session):
            MOVES[winner][1](seen, officer)
            session.commit()

        # ...the second comes from the page loaded before, and is refused by the version check.
        session, seen, officer = loaded[loser_session]
        with _services_use(session):
            with pytest.raises(DomainError) as info:
                MOVES[loser][1](seen, officer)
            assert info.value.message == _(RACE_MESSAGE)
            session.rollback()
    finally:
        other.close()

    winner_officer = officer_a if winner_session == "main" else officer_b
    req = _reloaded(req)
    assert req.status == MOVES[winner][0]
    assert req.version == version + 1
    assert _event_count(rid) == 2
    assert [(e.from_status, e.to_status) for e in req.events] == [
        (Status.DRAFT, Status.SUBMITTED),
        (Status.SUBMITTED, MOVES[winner][0]),
    ]
    assert req.events[-1].actor_id == winner_officer.id
    assert services.timeline_matches_status(req)
    # The resident is told once, about the move that happened.
    assert _notification_count(owner_id) == notes_before + 1


# --- notifications ------------------------------------------------------------------------------


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every email handed to send_mail (after a commit), instead of sending it."""
    sent: list[tuple[str, str, str]] = []
    monkeypatch.setattr(
        "portal.core.notifications.send_mail",
        lambda to, subject, body: sent.append((to, subject, body)),
    )
    return sent


def _notification_count(user_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user_id)
        )
        or 0
    )


def _latest_notification(user_id: int) -> Notification:
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc())
    )
    assert note is not None
    return note


def _stored_text(app: Flask, status: Status, code: str) -> tuple[str, str]:
    """Title and next step as stored: in the portal's default language, whoever acted."""
    with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
        return f"{code}: {status.label}", str(NEXT_STEPS[status])


Step = Callable[[DocumentRequest, dict[str, User]], Any]
TOMORROW = dt.timedelta(days=1)

STEPS: dict[str, tuple[Status, Step]] = {
    "submit": (Status.SUBMITTED, lambda r, u: services.submit_request(r, r.user, declaration=True)),
    "correct": (
        Status.NEEDS_CORRECTION,
        lambda r, u: services.request_correction(r, u["officer"], ["subject_name"], "Cek nama"),
    ),
    "resubmit": (
        Status.SUBMITTED,
        lambda r, u: services.resubmit_request(r, r.user, subject={"name": "Budi S."}),
    ),
    "verify": (Status.VERIFIED, lambda r, u: services.verify_request(r, u["officer"])),
    "print": (Status.IN_PROCESS, lambda r, u: services.start_printing(r, u["officer"])),
    "ready": (Status.READY_FOR_DELIVERY, lambda r, u: services.mark_ready(r, u["officer"])),
    "assign": (
        Status.OUT_FOR_DELIVERY,
        lambda r, u: services.assign_courier(r, u["officer"], u["courier"], today_wib() + TOMORROW),
    ),
    "fail": (
        Status.DELIVERY_FAILED,
        lambda r, u: services.mark_delivery_failed(r, u["courier"], FailureReason.NOT_HOME),
    ),
    "deliver": (
        Status.DELIVERED,
        lambda r, u: services.mark_delivered(
            r,
            u["courier"],
            received_by="Siti",
            relation=Relation.FAMILY,
            photo=checked_png(),
        ),
    ),
    "hold": (Status.COLLECT_AT_OFFICE, lambda r, u: services.hold_at_office(r, u["officer"])),
    "collect": (Status.COLLECTED, lambda r, u: services.mark_collected(r, u["officer"])),
    "reject": (
        Status.REJECTED,
        lambda r, u: services.reject_request(r, u["officer"], "Belum perekaman"),
    ),
    "cancel": (Status.CANCELLED, lambda r, u: services.cancel_request(r, r.user, "Batal")),
}

WALKS = {
    "office": [
        *("submit", "correct", "resubmit", "verify", "print"),
        *("ready", "assign", "fail", "hold", "collect"),
    ],
    "delivery": ["submit", "verify", "print", "ready", "assign", "fail", "assign", "deliver"],
    "cancel": ["submit", "verify", "cancel"],
    "reject": ["submit", "reject"],
}


@pytest.mark.parametrize("walk", list(WALKS))
def test_every_status_change_tells_the_owner_in_app_and_by_email(app, ctx, outbox, walk):
    owner = make_user(email="siti.aminah@uji.test")
    users = {"officer": _officer(), "courier": _courier()}
    req = make_request(owner=owner, status="draft")
    outbox.clear()
    for name in WALKS[walk]:
        status, step = STEPS[name]
        count = _notification_count(owner.id)
        step(req, users)
        # Nothing leaves before the transaction commits.
        assert outbox == []
        db.session.commit()
        assert req.status == status, name

        title, next_step = _stored_text(app, status, req.code)
        note = _latest_notification(owner.id)
        assert _notification_count(owner.id) == count + 1
        assert note.title == title
        assert next_step in note.body
        assert note.url == f"/sadoku/requests/{req.code}"
        if req.events[-1].public_note:
            assert req.events[-1].public_note in note.body

        assert len(outbox) == 1, name
        to, subject, body = outbox.pop()
        assert (to, subject) == ("siti.aminah@uji.test", title)
        assert next_step in body
        assert f"/sadoku/requests/{req.code}" in body


def test_a_rolled_back_change_sends_no_email_and_leaves_no_notification(ctx, outbox):
    req = make_request(status="submitted")
    owner_id = req.user_id
    count = _notification_count(owner_id)
    outbox.clear()
    services.verify_request(req, _officer())
    db.session.rollback()
    assert outbox == []
    # A later, unrelated commit does not send the dropped email either.
    make_user()
    assert outbox == []
    assert _notification_count(owner_id) == count
    assert _reloaded(req).status == Status.SUBMITTED


def test_an_owner_without_email_gets_the_notification_but_no_mail(app, ctx, outbox):
    owner = make_user(email="", phone="081377778888")
    assert owner.email is None
    req = make_request(owner=owner, status="submitted")
    assert outbox == []
    count = _notification_count(owner.id)
    services.verify_request(req, _officer())
    db.session.commit()
    assert outbox == []
    assert _notification_count(owner.id) == count + 1
    _title, next_step = _stored_text(app, Status.VERIFIED, req.code)
    assert next_step in _latest_notification(owner.id).body


# --- audit of full NIK views --------------------------------------------------------------------


def test_record_nik_view_writes_an_audit_row(ctx):
    req = make_request(status="submitted")
    officer = _officer()
    services.record_nik_view(req, officer)
    db.session.commit()
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "sadoku_nik_viewed")).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.actor_id == officer.id
    assert row.target_user_id == req.user_id
    assert row.detail["request"] == req.code
    # The log says that the NIK was seen, never the NIK itself.
    assert VALID_NIK not in str(row.detail)


# --- public tracking ----------------------------------------------------------------------------


def test_track_needs_the_code_and_the_last_four_nik_digits(ctx):
    req = make_request(status="verified")
    code, last4 = req.code, VALID_NIK[-4:]
    assert services.track(code, last4) is req
    # Typed by hand: lower case and stray spaces still work.
    assert services.track(f"  {code.lower()} ", f" {last4} ") is req

    other = make_request(status="submitted")
    assert services.track(other.code, last4) is other
    for bad_code, digits in [
        (code, "0002"),
        (code, VALID_NIK[-5:]),
        (code, VALID_NIK[-3:]),
        (code, "00O1"),
        (code, "abcd"),
        (code, ""),
        ("SDK-0000-999999", last4),
        ("", last4),
        (code.replace("SDK", "SDX"), last4),
    ]:
        assert services.track(bad_code, digits) is None, (bad_code, digits)


def test_track_never_finds_a_draft(ctx):
    draft = make_request(status="draft")
    assert draft.code is None
    assert services.track("", VALID_NIK[-4:]) is None
    assert services.track("None", VALID_NIK[-4:]) is None
    assert services.track(f"SDK-{today_wib():%y%m}-{draft.id:06d}", VALID_NIK[-4:]) is None


# --- holidays -----------------------------------------------------------------------------------


def test_holidays_move_the_due_dates_of_open_requests_only(ctx):
    officer = _officer()
    open_reqs = [make_request(status=s) for s in ("submitted", "needs_correction", "in_process")]
    closed = make_request(status="cancelled")
    draft = make_request(status="draft")
    start = today_wib()
    days = open_reqs[0].document_type.service_days
    original = add_working_days(start, days)
    assert all(r.due_date == original for r in [*open_reqs, closed])
    holiday_day = add_working_days(start, 1)  # the next working day

    holiday = services.add_holiday(holiday_day, "Cuti bersama", officer)
    db.session.commit()
    moved = add_working_days(start, days, {holiday_day})
    assert moved > original
    for req in open_reqs:
        assert _reloaded(req).due_date == moved
    assert _reloaded(closed).due_date == original
    assert _reloaded(draft).due_date is None

    with pytest.raises(DomainError) as info:
        services.add_holiday(holiday_day, "Lagi", officer)
    assert info.value.field == "day"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Holiday.id))) == 1

    services.remove_holiday(db.session.get(Holiday, holiday.id), officer)
    db.session.commit()
    for req in open_reqs:
        assert _reloaded(req).due_date == original
    assert _reloaded(closed).due_date == original
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert "sadoku_holiday_added" in actions and "sadoku_holiday_removed" in actions


def test_a_holiday_after_the_due_date_changes_nothing(ctx):
    req = make_request(status="submitted")
    due = req.due_date
    services.add_holiday(due + dt.timedelta(days=1), "Nanti", _officer())
    db.session.commit()
    assert _reloaded(req).due_date == due


def test_notes_the_portal_writes_are_stored_in_indonesian_whatever_the_ui_language(ctx):
    """A courier using the English UI still leaves a note every resident can read."""
    from flask_babel import force_locale

    from portal.sadoku.models import FailureReason

    req = make_request(status="out_for_delivery")
    with force_locale("en"):
        event = services.mark_delivery_failed(req, req.courier, FailureReason.NOT_HOME)
    assert event.public_note == "Tidak ada orang di rumah" != "Nobody was at home"
