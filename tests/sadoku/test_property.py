"""Random sequences of SADOKU actions, legal and illegal, never break a request's invariants.

A Hypothesis state machine plays resident, officers and couriers on one request. Each action is
one transaction (inside a SAVEPOINT here): it either makes exactly the move the transition table
allows, or is refused with DomainError and leaves nothing behind. After every step the status,
the timeline, the code, the due date and `closed_at` must still agree with each other.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from typing import Any, ClassVar

from flask import Flask
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.core.errors import DomainError
from portal.core.time import today_wib
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import (
    TRANSITIONS,
    Actor,
    DocumentRequest,
    FailureReason,
    Relation,
    RequestEvent,
    Status,
)
from tests.conftest import REFERENCE_TABLES, empty_tables
from tests.factories import checked_png, make_request, make_user

SETTINGS = settings(
    max_examples=40,
    stateful_step_count=15,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the project
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODE_RE = re.compile(r"^SDK-\d{4}-\d{6}$")
KK = "Kartu Keluarga (KK)"
STARTS = [
    "draft",
    "submitted",
    "needs_correction",
    "verified",
    "in_process",
    "ready_for_delivery",
    "out_for_delivery",
    "delivery_failed",
    "collect_at_office",
]
# Each service action and the status it aims for.
STEP_TARGETS = {
    "submit": Status.SUBMITTED,
    "cancel": Status.CANCELLED,
    "verify": Status.VERIFIED,
    "correct": Status.NEEDS_CORRECTION,
    "resubmit": Status.SUBMITTED,
    "reject": Status.REJECTED,
    "print": Status.IN_PROCESS,
    "ready": Status.READY_FOR_DELIVERY,
    "assign": Status.OUT_FOR_DELIVERY,
    "deliver": Status.DELIVERED,
    "fail": Status.DELIVERY_FAILED,
    "hold": Status.COLLECT_AT_OFFICE,
    "collect": Status.COLLECTED,
}
ACTIONS = list(STEP_TARGETS)


def _reachable() -> set[Status]:
    seen, todo = {Status.DRAFT}, [Status.DRAFT]
    while todo:
        here = todo.pop()
        for frm, to in TRANSITIONS:
            if frm == here and to not in seen:
                seen.add(to)
                todo.append(to)
    return seen


REACHABLE = _reachable()


# The people are made once per test; everything else is emptied between examples.
KEPT_TABLES = REFERENCE_TABLES | {"users", "role_grants"}


def _clean_database() -> None:
    """Empty every table but the gazetteer and the accounts, so each example starts afresh."""
    db.session.rollback()
    empty_tables(KEPT_TABLES)
    db.session.expire_all()


class RequestMachine(RuleBasedStateMachine):
    """One request, a resident, an officer, the courier and another courier."""

    flask_app: ClassVar[Flask]
    user_ids: ClassVar[dict[str, int]]

    def __init__(self) -> None:
        super().__init__()
        self._ctx = self.flask_app.test_request_context()
        self._ctx.push()
        _clean_database()

        def load(name: str) -> User:
            user = db.session.get(User, self.user_ids[name])
            assert user is not None
            return user

        self.owner, self.officer = load("owner"), load("officer")
        self.courier, self.other_courier = load("courier"), load("other_courier")
        self.req: DocumentRequest | None = None
        self.final: Status | None = None
        self.names = 0

    def teardown(self) -> None:
        try:
            _clean_database()
        finally:
            self._ctx.pop()

    @initialize(start=st.sampled_from(STARTS))
    def open_request(self, start: str) -> None:
        self.req = make_request(
            owner=self.owner,
            status=start,
            officer=self.officer,
            courier=self.courier,
        )

    # --- the actions -------------------------------------------------------------------------

    def _action(self, name: str, variant: int) -> tuple[Status, Actor, bool, Callable[[], Any]]:
        """(target status, who the table must allow, whether the inputs are acceptable, call)."""
        req, owner, officer = self.req, self.owner, self.officer
        assert req is not None
        tomorrow = today_wib() + dt.timedelta(days=1)
        # Deliveries: 0 another courier (refused), 1 an officer, else the assigned courier.
        deliverer = (self.other_courier, officer, self.courier, self.courier)[variant]
        deliverer_ok = variant != 0
        marked = [i for i in req.correction_items if i.startswith("attachment:")]
        self.names += 1

        def resubmit() -> Any:
            if variant:
                for item in marked:
                    name = item.removeprefix("attachment:")
                    services.add_attachment(req, name, checked_png(), owner)
            return services.resubmit_request(req, owner, subject={"name": f"Nama {self.names}"})

        items = ([], ["subject_name"], [f"attachment:{KK}"], ["recipient", f"attachment:{KK}"])
        table: dict[str, tuple[Status, Actor, bool, Callable[[], Any]]] = {
            "submit": (
                Status.SUBMITTED,
                Actor.RESIDENT,
                variant != 0,
                lambda: services.submit_request(req, owner, declaration=variant != 0),
            ),
            "cancel": (
                Status.CANCELLED,
                Actor.RESIDENT,
                True,
                lambda: services.cancel_request(req, owner, "Tidak jadi" if variant else ""),
            ),
            "verify": (
                Status.VERIFIED,
                Actor.OFFICER,
                variant != 0,
                lambda: services.verify_request(req, owner if variant == 0 else officer),
            ),
            "correct": (
                Status.NEEDS_CORRECTION,
                Actor.OFFICER,
                variant != 0,
                lambda: services.request_correction(req, officer, items[variant], "Perbaiki"),
            ),
            "resubmit": (Status.SUBMITTED, Actor.RESIDENT, bool(variant or not marked), resubmit),
            "reject": (
                Status.REJECTED,
                Actor.OFFICER,
                variant != 0,
                lambda: services.reject_request(req, officer, "" if variant == 0 else "Ditolak"),
            ),
            "print": (
                Status.IN_PROCESS,
                Actor.OFFICER,
                variant != 0,
                lambda: services.start_printing(req, self.courier if variant == 0 else officer),
            ),
            "ready": (
                Status.READY_FOR_DELIVERY,
                Actor.OFFICER,
                True,
                lambda: services.mark_ready(req, officer),
            ),
            "assign": (
                Status.OUT_FOR_DELIVERY,
                Actor.OFFICER,
                variant >= 2,
                lambda: services.assign_courier(
                    req,
                    officer,
                    owner if variant == 1 else self.courier,
                    tomorrow - dt.timedelta(days=2) if variant == 0 else tomorrow,
                ),
            ),
            "deliver": (
                Status.DELIVERED,
                Actor.OFFICER,
                deliverer_ok,
                lambda: services.mark_delivered(
                    req,
                    deliverer,
                    received_by="Budi Santoso",
                    relation=Relation.SELF,
                    photo=checked_png("serah-terima.png"),
                ),
            ),
            "fail": (
                Status.DELIVERY_FAILED,
                Actor.OFFICER,
                deliverer_ok and variant != 3,
                lambda: services.mark_delivery_failed(
                    req, deliverer, None if variant == 3 else FailureReason.NOT_HOME
                ),
            ),
            "hold": (
                Status.COLLECT_AT_OFFICE,
                Actor.OFFICER,
                variant != 0,
                lambda: services.hold_at_office(req, self.courier if variant == 0 else officer),
            ),
            "collect": (
                Status.COLLECTED,
                Actor.OFFICER,
                True,
                lambda: services.mark_collected(req, officer),
            ),
        }
        return table[name]

    def _attempt(self, call: Callable[[], Any]) -> bool:
        """Run one action in a SAVEPOINT; True when it went through, False when refused."""
        req = self.req
        assert req is not None
        nested = db.session.begin_nested()
        try:
            call()
            db.session.flush()
        except DomainError:
            nested.rollback()
            return False
        nested.commit()
        db.session.commit()
        return True

    def _check_outcome(
        self, ok: bool, before: Status, events_before: int, target: Status | None
    ) -> None:
        req = self.req
        assert req is not None
        if ok:
            assert (before, req.status) in TRANSITIONS
            if target is not None:
                assert req.status == target
            assert self._db_events() == events_before + 1
            assert len(req.events) == events_before + 1
        else:
            assert req.status == before
            assert self._db_events() == events_before
            assert len(req.events) == events_before

    def _db_events(self) -> int:
        assert self.req is not None
        return (
            db.session.scalar(
                select(func.count(RequestEvent.id)).where(RequestEvent.request_id == self.req.id)
            )
            or 0
        )

    def _run(self, name: str, variant: int) -> None:
        assert self.req is not None
        before, events_before = self.req.status, len(self.req.events)
        target, who, inputs_ok, call = self._action(name, variant)
        ok = self._attempt(call)
        # Submitting is for drafts only, resubmitting for corrected requests only.
        source_ok = {"submit": Status.DRAFT, "resubmit": Status.NEEDS_CORRECTION}.get(name, before)
        legal = TRANSITIONS.get((before, target)) == who and inputs_ok and source_ok == before
        assert ok == legal, (name, variant, before, target)
        event(f"{before} -> {self.req.status}" if ok else f"refused {name}")
        self._check_outcome(ok, before, events_before, target)

    @precondition(lambda self: self.req is not None)
    @rule(name=st.sampled_from(ACTIONS), variant=st.integers(min_value=0, max_value=3))
    def act(self, name: str, variant: int) -> None:
        """Anyone tries anything, with good or bad inputs."""
        self._run(name, variant)

    @precondition(lambda self: self.req is not None and not self.req.status.is_final)
    @rule(pick=st.integers(min_value=0, max_value=5), variant=st.integers(min_value=1, max_value=3))
    def advance(self, pick: int, variant: int) -> None:
        """One of the moves the table allows now, with good inputs (so long paths get explored)."""
        assert self.req is not None
        status = self.req.status
        options = [
            name
            for name in ACTIONS
            if (status, STEP_TARGETS[name]) in TRANSITIONS
            and {"submit": Status.DRAFT, "resubmit": Status.NEEDS_CORRECTION}.get(name, status)
            == status
        ]
        assert options, status
        self._run(options[pick % len(options)], variant)

    @precondition(lambda self: self.req is not None and self.req.status != Status.DRAFT)
    @rule(pick=st.integers(min_value=0, max_value=2 * len(Status)))
    def raw_move(self, pick: int) -> None:
        """A move the table does not give this actor, straight on the model: always refused."""
        req = self.req
        assert req is not None
        before, events_before = req.status, len(req.events)
        illegal = [
            (to, who) for to in Status for who in Actor if TRANSITIONS.get((before, to)) != who
        ]
        target_status, as_ = illegal[pick % len(illegal)]
        actor = self.owner if as_ == Actor.RESIDENT else self.officer
        ok = self._attempt(lambda: req.move_to(target_status, actor=actor, as_=as_))
        assert not ok
        self._check_outcome(ok, before, events_before, target_status)

    # --- what must always hold ----------------------------------------------------------------

    @invariant()
    def request_is_consistent(self) -> None:
        req = self.req
        if req is None:
            return
        status = req.status
        assert status in REACHABLE
        assert services.timeline_matches_status(req)
        events = req.events
        assert len(events) == self._db_events()
        if events:
            assert events[0].from_status == Status.DRAFT
            for prev, nxt in itertools.pairwise(events):
                assert nxt.from_status == prev.to_status
            assert all((e.from_status, e.to_status) in TRANSITIONS for e in events)
            assert events[-1].to_status == status
        assert (req.closed_at is not None) == status.is_final
        if self.final is not None:
            assert status == self.final, "a final status was left"
        if status.is_final:
            self.final = status
        if status == Status.DRAFT:
            assert req.code is None and req.due_date is None and not events
        else:
            assert req.code is not None and CODE_RE.match(req.code)
            assert req.due_date is not None and req.submitted_at is not None
        if status == Status.OUT_FOR_DELIVERY:
            assert req.courier_id == self.courier.id and req.delivery_date is not None
        if status == Status.NEEDS_CORRECTION:
            assert req.correction_items
        else:
            assert req.correction_items == []


def test_random_action_sequences_keep_every_invariant(app: Flask) -> None:
    with app.app_context():
        courier = (Role.SADOKU_COURIER,)
        users = {
            "owner": make_user(),
            "officer": make_user(roles=(Role.SADOKU_OFFICER,)),
            "courier": make_user(roles=courier),
            "other_courier": make_user(roles=courier),
        }
        user_ids = {name: user.id for name, user in users.items()}
    machine = type("Machine", (RequestMachine,), {"flask_app": app, "user_ids": user_ids})
    run_state_machine_as_test(machine, settings=SETTINGS)


def test_every_status_is_reachable_from_a_draft() -> None:
    # A status nobody can reach would be dead code in every view; one outside the table too.
    assert set(Status) == REACHABLE
    assert {s for s in Status if not s.is_final} == {frm for frm, _to in TRANSITIONS}
