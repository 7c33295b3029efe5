"""The request state machine: every listed move works, every other move is refused and harmless.

First through `DocumentRequest.move_to` over the whole Status x Status x Actor space, then through
the services officers, couriers and residents actually call, with their extra rules (roles, the
assigned courier, reasons, corrections, dates, the tracking code and the due date).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.core.errors import DomainError
from portal.core.time import add_working_days, today_wib, utcnow
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import (
    FINAL_STATUSES,
    TRANSITIONS,
    Actor,
    DocumentRequest,
    FailureReason,
    Relation,
    RequestEvent,
    Status,
    allowed_moves,
)
from tests.factories import (
    VALID_NIK,
    checked_png,
    make_document_type,
    make_request,
    make_user,
)

KK_ATTACHMENT = "Kartu Keluarga (KK)"
CODE_RE = re.compile(r"^SDK-\d{4}-\d{6}$")
OTHER_NIK = "1207284505850002"  # a woman's NIK (day + 40), Lubuk Pakam, born 05-05-1985


def _officer(**fields: Any) -> User:
    return make_user(roles=(Role.SADOKU_OFFICER,), **fields)


def _courier(**fields: Any) -> User:
    return make_user(roles=(Role.SADOKU_COURIER,), **fields)


def _event_count(req: DocumentRequest) -> int:
    """Timeline rows as the database has them (not the possibly stale in-memory list)."""
    return (
        db.session.scalar(
            select(func.count(RequestEvent.id)).where(RequestEvent.request_id == req.id)
        )
        or 0
    )


def _reloaded(req: DocumentRequest) -> DocumentRequest:
    """Forget what this session holds and read the request again, as the next page view would."""
    db.session.expire_all()
    fresh = db.session.get(DocumentRequest, req.id)
    assert fresh is not None
    return fresh


def _at(status: Status, **kw: Any) -> DocumentRequest:
    return make_request(status=status.value, **kw)


# --- the model: the whole Status x Status x Actor space ---------------------------------------


@pytest.mark.parametrize(
    ("frm", "to", "who"),
    [(frm, to, who) for (frm, to), who in TRANSITIONS.items()],
    ids=[f"{frm}->{to}" for frm, to in TRANSITIONS],
)
def test_every_listed_move_succeeds_and_is_recorded(ctx, frm, to, who):
    req = _at(frm)
    officer = _officer()
    actor = req.user if who == Actor.RESIDENT else officer
    if frm == Status.DRAFT:
        # submit_request gives the code; the database refuses a sent request without one.
        req.code = services.tracking_code(req, utcnow())
    before = _event_count(req)

    event = req.move_to(
        to, actor=actor, as_=who, public_note="  Catatan publik ", internal_note=" Intern  "
    )
    db.session.commit()

    req = _reloaded(req)
    assert req.status == to
    assert _event_count(req) == before + 1
    stored = db.session.get(RequestEvent, event.id)
    assert stored is not None and stored.request_id == req.id
    assert (stored.from_status, stored.to_status) == (frm, to)
    assert stored.actor_id == actor.id
    assert (stored.public_note, stored.internal_note) == ("Catatan publik", "Intern")
    assert req.events[-1].id == event.id
    assert (req.closed_at is not None) == (to in FINAL_STATUSES)
    assert services.timeline_matches_status(req)


@pytest.mark.parametrize("frm", list(Status), ids=[s.value for s in Status])
def test_every_unlisted_move_is_refused_and_changes_nothing(ctx, frm):
    req = _at(frm)
    # The factory reaches every status through the services, with a matching timeline.
    assert req.status == frm and services.timeline_matches_status(req)
    assert (req.code is None) == (frm == Status.DRAFT)
    officer = _officer()
    events_before = [(e.id, e.from_status, e.to_status) for e in req.events]
    closed_before = req.closed_at
    refused = 0
    for to in Status:
        for who in Actor:
            if TRANSITIONS.get((frm, to)) == who:
                continue
            actor = req.user if who == Actor.RESIDENT else officer
            with pytest.raises(DomainError) as info:
                req.move_to(to, actor=actor, as_=who, public_note="x")
            refused += 1
            assert info.value.field is None
            assert frm.label in info.value.message, (frm, to, who)
            assert to.label in info.value.message, (frm, to, who)
            assert req.status == frm
            assert [(e.id, e.from_status, e.to_status) for e in req.events] == events_before
    assert refused == 2 * len(Status) - len(allowed_moves(frm, Actor.RESIDENT)) - len(
        allowed_moves(frm, Actor.OFFICER)
    )
    db.session.commit()
    req = _reloaded(req)
    assert req.status == frm
    assert [(e.id, e.from_status, e.to_status) for e in req.events] == events_before
    assert req.closed_at == closed_before


def test_the_resident_cannot_make_officer_moves_and_vice_versa(ctx):
    submitted = _at(Status.SUBMITTED)
    with pytest.raises(DomainError):
        submitted.move_to(Status.VERIFIED, actor=submitted.user, as_=Actor.RESIDENT)
    with pytest.raises(DomainError):
        submitted.move_to(Status.CANCELLED, actor=_officer(), as_=Actor.OFFICER)
    assert submitted.status == Status.SUBMITTED
    # The table itself splits the moves: no (from, to) pair belongs to both.
    for status in Status:
        resident = set(allowed_moves(status, Actor.RESIDENT))
        officer = set(allowed_moves(status, Actor.OFFICER))
        assert not resident & officer
    assert set(allowed_moves(Status.SUBMITTED, Actor.RESIDENT)) == {Status.CANCELLED}
    assert set(allowed_moves(Status.SUBMITTED, Actor.OFFICER)) == {
        Status.VERIFIED,
        Status.NEEDS_CORRECTION,
        Status.REJECTED,
    }


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES), ids=str)
def test_final_statuses_allow_no_move(ctx, final):
    assert final.is_final and not final.is_open
    assert allowed_moves(final, Actor.RESIDENT) == allowed_moves(final, Actor.OFFICER) == []
    req = _at(final)
    assert req.closed_at is not None
    for to in Status:
        for who in Actor:
            with pytest.raises(DomainError):
                req.move_to(to, actor=req.user, as_=who)
    assert req.status == final


# --- through the services: the resident ------------------------------------------------------


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.VERIFIED])
def test_the_resident_can_cancel_before_printing(ctx, status):
    req = _at(status)
    services.cancel_request(req, req.user, "  Sudah tidak perlu ")
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.CANCELLED
    assert req.closed_at is not None
    assert req.events[-1].public_note == "Sudah tidak perlu"
    assert req.events[-1].actor_id == req.user_id


@pytest.mark.parametrize(
    "status",
    [
        Status.NEEDS_CORRECTION,
        Status.IN_PROCESS,
        Status.READY_FOR_DELIVERY,
        Status.OUT_FOR_DELIVERY,
        Status.DELIVERY_FAILED,
        Status.COLLECT_AT_OFFICE,
        Status.DELIVERED,
        Status.COLLECTED,
        Status.REJECTED,
        Status.CANCELLED,
    ],
    ids=str,
)
def test_the_resident_cannot_cancel_once_printing_started(ctx, status):
    req = _at(status)
    before = _event_count(req)
    with pytest.raises(DomainError) as info:
        services.cancel_request(req, req.user)
    assert Status.CANCELLED.label in info.value.message
    db.session.rollback()
    req = _reloaded(req)
    assert req.status == status
    assert _event_count(req) == before


# --- through the services: officers' moves need the officer role ------------------------------


def _officer_actions() -> list[tuple[Status, str, Any]]:
    tomorrow = today_wib() + dt.timedelta(days=1)
    return [
        (Status.SUBMITTED, "verify", lambda r, u: services.verify_request(r, u)),
        (
            Status.SUBMITTED,
            "correct",
            lambda r, u: services.request_correction(r, u, ["subject_name"], "Perbaiki nama"),
        ),
        (Status.SUBMITTED, "reject", lambda r, u: services.reject_request(r, u, "Tidak lengkap")),
        (Status.VERIFIED, "print", lambda r, u: services.start_printing(r, u)),
        (Status.IN_PROCESS, "ready", lambda r, u: services.mark_ready(r, u)),
        (
            Status.READY_FOR_DELIVERY,
            "assign",
            lambda r, u: services.assign_courier(r, u, _courier(), tomorrow),
        ),
        (Status.DELIVERY_FAILED, "hold", lambda r, u: services.hold_at_office(r, u)),
        (Status.COLLECT_AT_OFFICE, "collect", lambda r, u: services.mark_collected(r, u)),
    ]


@pytest.mark.parametrize("who", ["owner", "resident", "courier"])
@pytest.mark.parametrize(
    ("status", "name", "action"), _officer_actions(), ids=[a[1] for a in _officer_actions()]
)
def test_officer_moves_are_refused_without_the_officer_role(ctx, who, status, name, action):
    req = _at(status)
    user = {"owner": lambda: req.user, "resident": make_user, "courier": _courier}[who]()
    before = _event_count(req)
    with pytest.raises(DomainError) as info:
        action(req, user)
    assert info.value.message == _("Only SADOKU officers can do this")
    db.session.rollback()
    req = _reloaded(req)
    assert req.status == status
    assert _event_count(req) == before


@pytest.mark.parametrize(
    ("status", "name", "action"), _officer_actions(), ids=[a[1] for a in _officer_actions()]
)
def test_officer_moves_work_for_officers_and_admins(ctx, status, name, action):
    for roles in ((Role.SADOKU_OFFICER,), (Role.ADMIN,)):
        req = _at(status)
        user = make_user(roles=roles)
        event = action(req, user)
        db.session.commit()
        req = _reloaded(req)
        assert req.status == event.to_status != status
        assert (status, req.status) in TRANSITIONS
        assert req.events[-1].actor_id == user.id


# --- couriers ---------------------------------------------------------------------------------


def _deliver(req: DocumentRequest, user: User) -> RequestEvent:
    return services.mark_delivered(
        req, user, received_by="Budi Santoso", relation=Relation.SELF, photo=checked_png()
    )


def _fail(req: DocumentRequest, user: User) -> RequestEvent:
    return services.mark_delivery_failed(req, user, FailureReason.NOT_HOME)


@pytest.mark.parametrize(("action", "to"), [(_deliver, "delivered"), (_fail, "delivery_failed")])
def test_only_the_assigned_courier_may_record_the_delivery(ctx, action, to):
    assigned = _courier()
    req = _at(Status.OUT_FOR_DELIVERY, courier=assigned)
    before = _event_count(req)
    for intruder in (_courier(), make_user(), req.user):
        with pytest.raises(DomainError) as info:
            action(req, intruder)
        assert info.value.message == _("Only the assigned courier or a SADOKU officer can do this")
        db.session.rollback()
        req = _reloaded(req)
        assert req.status == Status.OUT_FOR_DELIVERY
        assert _event_count(req) == before
    action(req, db.session.get(User, assigned.id))
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status(to)
    assert req.events[-1].actor_id == assigned.id
    if to == "delivered":
        assert req.received_by == "Budi Santoso" and req.received_relation == Relation.SELF
        assert req.handover_photo is not None and req.delivered_at is not None
    else:
        assert req.failure_reason == FailureReason.NOT_HOME


def test_delivery_needs_a_recipient_a_photo_and_a_failure_reason(ctx):
    courier = _courier()
    req = _at(Status.OUT_FOR_DELIVERY, courier=courier)
    with pytest.raises(DomainError) as info:
        services.mark_delivered(
            req, courier, received_by="", relation=Relation.SELF, photo=checked_png()
        )
    assert info.value.field == "received_by"
    with pytest.raises(DomainError) as info:
        services.mark_delivered(
            req, courier, received_by="Budi", relation=Relation.FAMILY, photo=None
        )
    assert info.value.field == "photo"
    with pytest.raises(DomainError) as info:
        services.mark_delivery_failed(req, courier, None)
    assert info.value.field == "failure_reason"
    db.session.rollback()
    assert _reloaded(req).status == Status.OUT_FOR_DELIVERY


# --- assigning couriers ------------------------------------------------------------------------


def test_bulk_assign_is_all_or_nothing(ctx):
    officer, courier = _officer(), _courier()
    ready = [_at(Status.READY_FOR_DELIVERY, officer=officer) for _ in range(2)]
    not_ready = _at(Status.VERIFIED, officer=officer)
    ids = [r.id for r in ready]
    before = {r.id: _event_count(r) for r in ready}
    tomorrow = today_wib() + dt.timedelta(days=1)

    # The not-ready one comes last, after the others were already moved in this transaction.
    with pytest.raises(DomainError) as info:
        services.bulk_assign([*ready, not_ready], officer, courier, tomorrow)
    assert info.value.field == "requests"
    assert not_ready.code in info.value.message
    db.session.rollback()

    db.session.expire_all()
    for rid in ids:
        req = db.session.get(DocumentRequest, rid)
        assert req is not None
        assert req.status == Status.READY_FOR_DELIVERY
        assert req.courier_id is None and req.delivery_date is None
        assert _event_count(req) == before[rid]
    assert _reloaded(not_ready).status == Status.VERIFIED

    ready = [db.session.get(DocumentRequest, rid) for rid in ids]
    assert services.bulk_assign(ready, officer, courier, tomorrow) == 2
    db.session.commit()
    for rid in ids:
        req = _reloaded(db.session.get(DocumentRequest, rid))
        assert req.status == Status.OUT_FOR_DELIVERY
        assert (req.courier_id, req.delivery_date) == (courier.id, tomorrow)


def test_bulk_assign_needs_a_selection(ctx):
    with pytest.raises(DomainError) as info:
        services.bulk_assign([], _officer(), _courier(), today_wib())
    assert info.value.field == "requests"


def test_assign_courier_refuses_a_past_date_and_a_non_courier(ctx):
    officer = _officer()
    req = _at(Status.READY_FOR_DELIVERY, officer=officer)
    courier = _courier()
    disabled = _courier()
    disabled.is_disabled = True
    db.session.commit()
    yesterday = today_wib() - dt.timedelta(days=1)

    cases = [
        (courier, yesterday, "delivery_date"),
        (courier, None, "delivery_date"),
        (make_user(), today_wib(), "courier"),
        (officer, today_wib(), "courier"),
        (disabled, today_wib(), "courier"),
        (None, today_wib(), "courier"),
    ]
    for who, day, field in cases:
        with pytest.raises(DomainError) as info:
            services.assign_courier(req, officer, who, day)
        assert info.value.field == field, (who, day)
        db.session.rollback()
        req = _reloaded(req)
        assert req.status == Status.READY_FOR_DELIVERY and req.courier_id is None

    # Today is not in the past.
    services.assign_courier(req, officer, db.session.get(User, courier.id), today_wib())
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.OUT_FOR_DELIVERY and req.delivery_date == today_wib()


def test_a_failed_delivery_can_be_sent_out_again(ctx):
    officer, courier = _officer(), _courier()
    req = _at(Status.DELIVERY_FAILED, officer=officer, courier=courier)
    assert req.failure_reason == FailureReason.NOT_HOME
    later = today_wib() + dt.timedelta(days=3)
    services.assign_courier(req, officer, courier, later)
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.OUT_FOR_DELIVERY
    assert req.delivery_date == later and req.failure_reason is None


# --- rejecting and corrections -----------------------------------------------------------------


def test_reject_needs_a_reason(ctx):
    officer = _officer()
    req = _at(Status.SUBMITTED)
    for reason in ("", "   "):
        with pytest.raises(DomainError) as info:
            services.reject_request(req, officer, reason)
        assert info.value.field == "public_note"
    db.session.rollback()
    req = _reloaded(req)
    assert req.status == Status.SUBMITTED
    services.reject_request(req, officer, "Belum perekaman biometrik")
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.REJECTED
    assert req.events[-1].public_note == "Belum perekaman biometrik"


def test_request_correction_needs_items_and_a_note_and_stores_the_items(ctx):
    officer = _officer()
    req = _at(Status.SUBMITTED)
    for items, note, field in (
        ([], "Perbaiki", "items"),
        (["not_a_field", "attachment:Unknown"], "Perbaiki", "items"),
        (["subject_nik"], "", "public_note"),
        (["subject_nik"], "   ", "public_note"),
    ):
        with pytest.raises(DomainError) as info:
            services.request_correction(req, officer, items, note)
        assert info.value.field == field
        db.session.rollback()
        req = _reloaded(req)
        assert req.status == Status.SUBMITTED and req.correction_items == []

    services.request_correction(
        req,
        officer,
        ["subject_nik", "bogus", f"attachment:{KK_ATTACHMENT}", "address"],
        "NIK dan KK tidak terbaca",
    )
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.NEEDS_CORRECTION
    assert req.correction_items == ["subject_nik", f"attachment:{KK_ATTACHMENT}", "address"]
    assert req.events[-1].public_note == "NIK dan KK tidak terbaca"


def _needs_correction(items: list[str]) -> DocumentRequest:
    req = _at(Status.SUBMITTED)
    services.request_correction(req, _officer(), items, "Mohon perbaiki")
    db.session.commit()
    return req


def test_resubmit_changes_only_the_marked_items(ctx):
    req = _needs_correction(["subject_nik"])
    old = (req.subject_name, req.subject_kk, req.street, req.recipient_name)
    services.resubmit_request(
        req,
        req.user,
        subject={"name": "Nama Lain", "nik": OTHER_NIK, "kk": "1207280101200099"},
        address={**req.address_data(), "street": "Jl. Lain No. 9"},
        recipient={"name": "Orang Lain", "phone": "081299998888"},
        note="Sudah diperbaiki",
    )
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.SUBMITTED
    assert req.subject_nik == OTHER_NIK
    assert (req.subject_name, req.subject_kk, req.street, req.recipient_name) == old
    assert req.correction_items == []
    assert req.events[-1].from_status == Status.NEEDS_CORRECTION
    assert req.events[-1].public_note == "Sudah diperbaiki"


def test_resubmit_checks_the_corrected_values(ctx):
    req = _needs_correction(["subject_nik", "recipient"])
    with pytest.raises(DomainError) as info:
        services.resubmit_request(req, req.user, subject={"nik": "1234"})
    assert info.value.field == "subject_nik"
    db.session.rollback()
    req = _reloaded(req)
    with pytest.raises(DomainError) as info:
        services.resubmit_request(req, req.user, recipient={"name": "Siti", "phone": "12345"})
    assert info.value.field == "recipient_phone"
    db.session.rollback()
    req = _reloaded(req)
    assert req.status == Status.NEEDS_CORRECTION and req.subject_nik == VALID_NIK


def test_resubmit_restarts_the_service_standard(ctx):
    req = _needs_correction(["subject_name"])
    req.submitted_at = utcnow() - dt.timedelta(days=20)
    req.due_date = today_wib() - dt.timedelta(days=10)
    db.session.commit()
    services.resubmit_request(req, req.user, subject={"name": "Budi S."})
    db.session.commit()
    req = _reloaded(req)
    assert req.subject_name == "Budi S."
    assert req.due_date == add_working_days(today_wib(), req.document_type.service_days)


def test_resubmit_needs_a_fresh_upload_for_a_marked_attachment(ctx):
    req = _needs_correction([f"attachment:{KK_ATTACHMENT}"])
    old_ids = {a.id for a in req.current_attachments}
    before = _event_count(req)
    with pytest.raises(DomainError) as info:
        services.resubmit_request(req, req.user)
    assert KK_ATTACHMENT in info.value.message
    db.session.rollback()
    req = _reloaded(req)
    assert req.status == Status.NEEDS_CORRECTION and _event_count(req) == before

    # An attachment the officer did not mark cannot be swapped meanwhile.
    other_type = make_document_type(attachment_names=[KK_ATTACHMENT, "Surat kuasa"])
    two = _at(Status.SUBMITTED, document_type=other_type)
    services.request_correction(two, _officer(), [f"attachment:{KK_ATTACHMENT}"], "Buram")
    with pytest.raises(DomainError):
        services.add_attachment(two, "Surat kuasa", checked_png(), two.user)
    db.session.rollback()

    services.add_attachment(req, KK_ATTACHMENT, checked_png("kk-baru.png"), req.user)
    services.resubmit_request(req, req.user)
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.SUBMITTED
    current = {a.name: a for a in req.current_attachments}
    assert sorted(current) == sorted(req.document_type.attachment_names)
    assert current[KK_ATTACHMENT].id not in old_ids
    assert current[KK_ATTACHMENT].filename == "kk-baru.png"
    # The unmarked attachment is the one sent originally.
    assert all(a.id in old_ids for name, a in current.items() if name != KK_ATTACHMENT)
    # The replaced file stays in the history.
    assert {a.id for a in req.attachments} >= old_ids


def test_resubmit_only_from_needs_correction(ctx):
    req = _at(Status.SUBMITTED)
    with pytest.raises(DomainError):
        services.resubmit_request(req, req.user)
    assert req.status == Status.SUBMITTED


# --- submitting -------------------------------------------------------------------------------


def _assert_still_draft(req: DocumentRequest) -> None:
    db.session.rollback()
    req = _reloaded(req)
    assert req.status == Status.DRAFT
    assert req.code is None and req.submitted_at is None and req.due_date is None
    assert _event_count(req) == 0


def test_submit_refuses_without_the_declaration(ctx):
    req = _at(Status.DRAFT)
    with pytest.raises(DomainError) as info:
        services.submit_request(req, req.user, declaration=False)
    assert info.value.field == "declaration"
    _assert_still_draft(req)


def test_submit_refuses_with_a_missing_attachment(ctx):
    req = _at(Status.DRAFT)
    req.current_attachments[0].replaced_at = utcnow()
    with pytest.raises(DomainError) as info:
        services.submit_request(req, req.user, declaration=True)
    assert KK_ATTACHMENT in info.value.message
    _assert_still_draft(req)


NIK_LENGTH = "A NIK has exactly 16 digits"
NIK_DATE = "Digits 7 to 12 of a NIK are a birth date; check them"
NIK_INVALID = "This is not a valid NIK; check it against your KTP or KK"
KK_LENGTH = "A KK number has exactly 16 digits"
KK_INVALID = "This is not a valid KK number; check it against your KK"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject_nik", "1234", NIK_LENGTH),
        ("subject_nik", "abcdefghijklmnop", NIK_LENGTH),
        ("subject_nik", "1207283201900001", NIK_DATE),
        ("subject_nik", "1207280101900000", NIK_INVALID),
        ("subject_kk", "12072801012000", KK_LENGTH),
        ("subject_kk", "1207283201200001", KK_INVALID),
    ],
)
def test_submit_refuses_an_invalid_nik_or_kk(ctx, field, value, message):
    req = _at(Status.DRAFT)
    setattr(req, field, value)
    with pytest.raises(DomainError) as info:
        services.submit_request(req, req.user, declaration=True)
    assert info.value.field == field
    # The resident reads the same sentence as on the account forms, not a code like "length".
    assert info.value.message == _(message)
    _assert_still_draft(req)


def test_submit_gives_a_code_a_due_date_and_the_first_event(ctx):
    req = _at(Status.DRAFT)
    services.submit_request(req, req.user, declaration=True)
    db.session.commit()
    req = _reloaded(req)
    assert req.status == Status.SUBMITTED
    assert req.code is not None and CODE_RE.match(req.code)
    assert req.code.endswith(f"-{req.id:06d}")
    assert req.code[4:8] == f"{today_wib():%y%m}"
    assert req.declared_at is not None and req.submitted_at is not None
    assert [(e.from_status, e.to_status) for e in req.events] == [(Status.DRAFT, Status.SUBMITTED)]
    assert req.events[0].actor_id == req.user_id
    with pytest.raises(DomainError):
        services.submit_request(req, req.user, declaration=True)


def _freeze(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """Submit at `moment` (UTC): both the services' clock and today_wib follow it."""
    monkeypatch.setattr(services, "utcnow", lambda: moment)
    monkeypatch.setattr("portal.core.time.utcnow", lambda: moment)


def test_tracking_code_uses_the_wib_month_of_submission(ctx, monkeypatch):
    req = _at(Status.DRAFT)
    # 31 January 18:00 UTC is already 1 February 01:00 in Lubuk Pakam.
    _freeze(monkeypatch, dt.datetime(2026, 1, 31, 18, 0, tzinfo=dt.UTC))
    services.submit_request(req, req.user, declaration=True)
    db.session.commit()
    assert req.code == f"SDK-2602-{req.id:06d}"
    assert CODE_RE.match(req.code)


@pytest.mark.parametrize(
    ("moment", "service_days", "due"),
    [
        # Friday 30 Jan 2026, 10:00 WIB + 1 working day: Monday 2 Feb.
        (dt.datetime(2026, 1, 30, 3, 0, tzinfo=dt.UTC), 1, dt.date(2026, 2, 2)),
        # Friday 30 Jan 18:00 UTC is Saturday 31 Jan 01:00 WIB: + 1 is still Monday 2 Feb.
        (dt.datetime(2026, 1, 30, 18, 0, tzinfo=dt.UTC), 1, dt.date(2026, 2, 2)),
        # Thursday 29 Jan 16:59 UTC (23:59 WIB) + 3: Tuesday 3 Feb.
        (dt.datetime(2026, 1, 29, 16, 59, tzinfo=dt.UTC), 3, dt.date(2026, 2, 3)),
        # One minute later it is Friday in WIB: + 3 is Wednesday 4 Feb.
        (dt.datetime(2026, 1, 29, 17, 0, tzinfo=dt.UTC), 3, dt.date(2026, 2, 4)),
        # Monday 2 Feb + 5: Monday 9 Feb.
        (dt.datetime(2026, 2, 2, 2, 0, tzinfo=dt.UTC), 5, dt.date(2026, 2, 9)),
    ],
)
def test_due_date_counts_working_days_from_the_wib_date(
    ctx, monkeypatch, moment, service_days, due
):
    doc = make_document_type(service_days=service_days)
    req = _at(Status.DRAFT, document_type=doc)
    _freeze(monkeypatch, moment)
    services.submit_request(req, req.user, declaration=True)
    db.session.commit()
    assert _reloaded(req).due_date == due


def test_due_date_skips_holidays(ctx, monkeypatch):
    officer = _officer()
    services.add_holiday(dt.date(2026, 2, 2), "Libur uji", officer)
    db.session.commit()
    doc = make_document_type(service_days=1)
    req = _at(Status.DRAFT, document_type=doc)
    _freeze(monkeypatch, dt.datetime(2026, 1, 30, 3, 0, tzinfo=dt.UTC))  # Friday
    services.submit_request(req, req.user, declaration=True)
    db.session.commit()
    assert _reloaded(req).due_date == dt.date(2026, 2, 3)


def test_only_the_owner_can_cancel_or_resubmit(ctx):
    """Even a caller that skips the view's access check cannot act on another's request."""
    req = make_request(status="submitted")
    stranger = make_user()
    fixing = make_request(status="needs_correction")
    with force_locale("en"):
        with pytest.raises(DomainError, match="Only the resident"):
            services.cancel_request(req, stranger)
        with pytest.raises(DomainError, match="Only the resident"):
            services.resubmit_request(fixing, stranger, subject={"nik": VALID_NIK})
    db.session.rollback()
    assert (req.status, fixing.status) == (Status.SUBMITTED, Status.NEEDS_CORRECTION)
