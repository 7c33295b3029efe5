"""Properties of Jumpa Madu's money: the payout formula, and random action sequences that never
break the ledger.

The state machine plays a resident, the unit's officer, an officer of another unit and the cron
job over several pickups and withdrawals. Every action is one committed transaction or a refusal
that leaves nothing behind; after every step the books must balance, the wallet must equal what
the confirmed weighings paid minus what was withdrawn, and no weighing may be credited twice.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any, ClassVar

from flask import Flask
from hypothesis import HealthCheck, event, given, settings
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
from portal.core.time import utcnow
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.ledger import AccountKind, LedgerTransaction, TxnKind
from portal.jumpa_madu.models import (
    PICKUP_TRANSITIONS,
    WITHDRAWAL_TRANSITIONS,
    Actor,
    PayoutMethod,
    Pickup,
    PickupStatus,
    WasteUnit,
    Withdrawal,
    WithdrawalStatus,
)
from tests.conftest import REFERENCE_TABLES, empty_tables
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    category,
    fund_wallet,
    make_pickup,
    make_unit,
    make_user,
)

SETTINGS = settings(
    max_examples=50,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the payout formula -------------------------------------------------------------------------


def _half_up(value: Fraction) -> int:
    """Rounding half up, written differently from the code under test (Fraction, not //)."""
    whole = int(value)
    return whole + 1 if value - whole >= Fraction(1, 2) else whole


grams = st.integers(min_value=1, max_value=10_000).map(lambda tenths: tenths * 100)
prices = st.integers(min_value=0, max_value=70_000)
shares = st.integers(min_value=0, max_value=100)


@settings(max_examples=300, deadline=None, database=None)
@given(weight=grams, price=prices, share=shares)
def test_each_line_pays_weight_times_price_times_share_rounded_half_up(weight, price, share):
    gross, resident = jm.line_amounts(weight, price, share)
    assert gross == _half_up(Fraction(weight * price, 1000))
    assert resident == _half_up(Fraction(weight * price * share, 100_000))
    assert 0 <= resident <= gross
    # A line is never more than half a rupiah away from the exact amount.
    assert abs(resident - Fraction(weight * price * share, 100_000)) <= Fraction(1, 2)


def test_a_quote_sums_its_lines(app: Flask):
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        weights=st.dictionaries(
            st.sampled_from(["pet", "kardus", "aluminium", "tembaga", "minyak-jelantah"]),
            grams,
            min_size=1,
        ),
        share=shares,
    )
    def check(weights: dict[str, int], share: int) -> None:
        unit.resident_share_pct = share
        result = jm.quote(unit, {category(slug).id: g for slug, g in weights.items()})
        assert result.share_pct == share
        assert len(result.lines) == len(weights)
        for line in result.lines:
            assert (line.gross_amount, line.resident_amount) == jm.line_amounts(
                line.weight_g, line.price.price, share
            )
        assert result.resident_amount == sum(line.resident_amount for line in result.lines)
        assert result.unit_amount == result.gross_amount - result.resident_amount >= 0

    with app.test_request_context():
        unit = make_unit()
        check()


# --- the state machine --------------------------------------------------------------------------

KEPT_TABLES = REFERENCE_TABLES | {
    "users",
    "role_grants",
    "jm_units",
    "jm_categories",
    "jm_prices",
    "notifications",
}
WEIGHTS = [
    {"pet": 2300, "kardus": 1500},
    {"aluminium": 500},
    {"tembaga": 100, "botol-kaca": 5000},
    {"minyak-jelantah": 3000},
]


def _clean_database() -> None:
    """Empty the pickup and money tables between examples."""
    db.session.rollback()
    empty_tables(KEPT_TABLES)
    db.session.expire_all()


class MoneyMachine(RuleBasedStateMachine):
    flask_app: ClassVar[Flask]
    ids: ClassVar[dict[str, int]]

    def __init__(self) -> None:
        super().__init__()
        self._ctx = self.flask_app.test_request_context()
        self._ctx.push()
        _clean_database()
        self.pickups: list[int] = []
        self.withdrawals: list[int] = []
        self.clock = utcnow()
        self.funded = 0

    def teardown(self) -> None:
        try:
            _clean_database()
        finally:
            self._ctx.pop()

    def _user(self, name: str) -> User:
        user = db.session.get(User, self.ids[name])
        assert user is not None
        return user

    @property
    def unit(self) -> WasteUnit:
        unit = db.session.get(WasteUnit, self.ids["unit"])
        assert unit is not None
        return unit

    def _do(self, call: Any, legal: bool) -> bool:
        """Run one action as one transaction; it must succeed exactly when `legal`."""
        try:
            call()
        except DomainError:
            db.session.rollback()
            assert not legal, "a legal action was refused"
            return False
        db.session.commit()
        assert legal, "an illegal action went through"
        return True

    @initialize(
        starts=st.lists(
            st.sampled_from(["requested", "scheduled", "on_the_way", "weighed", "confirmed"]),
            min_size=1,
            max_size=3,
        ),
        variant=st.integers(0, 3),
        funding=st.sampled_from([0, 0, 25_000, 60_000]),
    )
    def first_pickups(self, starts: list[str], variant: int, funding: int) -> None:
        if funding:
            # Savings from before (posted like a weighing credit, outside any pickup).
            fund_wallet(self._user("resident"), funding, self.unit)
        self.funded = funding
        for start in starts:
            pickup = make_pickup(
                status=start,
                user=self._user("resident"),
                unit=self.unit,
                officer=self._user("officer"),
                weights=WEIGHTS[variant],
            )
            self.pickups.append(pickup.id)

    @rule(index=st.integers(0, 9), variant=st.integers(0, 3))
    def advance(self, index: int, variant: int) -> None:
        """The next step of the usual path, so long sequences reach weighing and payment."""
        pickup = db.session.get(Pickup, self.pickups[index % len(self.pickups)])
        assert pickup is not None
        nxt = {
            PickupStatus.REQUESTED: "schedule",
            PickupStatus.NOBODY_HOME: "schedule",
            PickupStatus.SCHEDULED: "start",
            PickupStatus.ON_THE_WAY: "weigh",
            PickupStatus.WEIGHED: ("confirm", "dispute")[variant % 2],
            PickupStatus.DISPUTED: ("weigh", "resolve")[variant % 2],
        }.get(pickup.status)
        if nxt is not None:
            self.act_on_pickup(index, nxt, variant)

    @precondition(lambda self: len(self.pickups) < 5)
    @rule()
    def request_pickup(self) -> None:
        unit = self.unit
        pickup = jm.request_pickup(
            self._user("resident"),
            unit,
            address={**LUBUK_PAKAM_ADDRESS, "landmark": None, "latitude": None, "longitude": None},
            estimates={category("pet").id: 3000},
            preferred_date=jm.pickup_days_ahead(unit)[0],
            window=unit.time_windows[0],
        )
        db.session.commit()
        self.pickups.append(pickup.id)

    @rule(
        index=st.integers(0, 9),
        action=st.sampled_from(
            [
                "schedule",
                "start",
                "weigh",
                "nobody_home",
                "reject",
                "confirm",
                "dispute",
                "resolve",
                "cancel_resident",
                "cancel_officer",
                "stranger_schedule",
            ]
        ),
        variant=st.integers(0, 3),
    )
    def act_on_pickup(self, index: int, action: str, variant: int) -> None:
        pickup = db.session.get(Pickup, self.pickups[index % len(self.pickups)])
        assert pickup is not None
        resident, officer = self._user("resident"), self._user("officer")
        status = pickup.status

        def can(to: PickupStatus, actor: Actor) -> bool:
            return actor in PICKUP_TRANSITIONS.get((status, to), frozenset())

        day = jm.pickup_days_ahead(pickup.unit)[variant % 3]
        weights = {category(s).id: g for s, g in WEIGHTS[variant].items()}
        calls = {
            "schedule": (
                lambda: jm.schedule_pickup(
                    pickup, officer, day=day, window="08:00-10:00", collector=officer
                ),
                can(PickupStatus.SCHEDULED, Actor.OFFICER),
            ),
            "start": (
                lambda: jm.start_route(pickup, officer),
                can(PickupStatus.ON_THE_WAY, Actor.OFFICER),
            ),
            "weigh": (
                lambda: jm.record_weighing(pickup, officer, weights, now=self.clock),
                can(PickupStatus.WEIGHED, Actor.OFFICER),
            ),
            "nobody_home": (
                lambda: jm.record_outcome(pickup, officer, PickupStatus.NOBODY_HOME, "Kosong"),
                can(PickupStatus.NOBODY_HOME, Actor.OFFICER),
            ),
            "reject": (
                lambda: jm.record_outcome(pickup, officer, PickupStatus.REJECTED, "Campur"),
                can(PickupStatus.REJECTED, Actor.OFFICER),
            ),
            "confirm": (
                lambda: jm.confirm_weighing(pickup, resident),
                can(PickupStatus.CONFIRMED, Actor.RESIDENT),
            ),
            "dispute": (
                lambda: jm.dispute_weighing(pickup, resident, "Kurang", now=self.clock),
                can(PickupStatus.DISPUTED, Actor.RESIDENT)
                and pickup.confirm_due_at is not None
                and _aware(pickup.confirm_due_at) > self.clock,
            ),
            "resolve": (
                lambda: jm.resolve_dispute(pickup, officer, "Hasil timbang sudah benar"),
                can(PickupStatus.CONFIRMED, Actor.OFFICER),
            ),
            "cancel_resident": (
                lambda: jm.cancel_pickup(pickup, resident),
                can(PickupStatus.CANCELLED, Actor.RESIDENT),
            ),
            "cancel_officer": (
                lambda: jm.cancel_pickup(pickup, officer, "Armada rusak"),
                can(PickupStatus.CANCELLED, Actor.OFFICER),
            ),
            "stranger_schedule": (
                lambda: jm.schedule_pickup(
                    pickup, self._user("stranger"), day=day, window="08:00-10:00", collector=None
                ),
                False,
            ),
        }
        call, legal = calls[action]
        done = self._do(call, legal)
        event(f"pickup {action}: {'done' if done else 'refused'}")

    @rule(hours=st.sampled_from([1, 47, 49]))
    def time_passes_and_cron_runs(self, hours: int) -> None:
        self.clock += dt.timedelta(hours=hours)
        due = db.session.scalar(
            select(func.count(Pickup.id)).where(
                Pickup.status == PickupStatus.WEIGHED, Pickup.confirm_due_at <= self.clock
            )
        )
        assert jm.confirm_due(now=self.clock) == due
        db.session.commit()
        assert jm.confirm_due(now=self.clock) == 0  # idempotent

    @rule(
        amount=st.sampled_from([5_000, 10_000, 12_345, 50_000]),
        method=st.sampled_from(list(PayoutMethod)),
    )
    def withdraw(self, amount: int, method: PayoutMethod) -> None:
        resident = self._user("resident")
        details = {
            PayoutMethod.CASH: {},
            PayoutMethod.BANK: {
                "bank_name": "BRI",
                "account_number": "1234567890",
                "account_holder": "Ani",
            },
            PayoutMethod.EWALLET: {"ewallet_provider": "DANA", "ewallet_number": "081234567890"},
        }[method]
        legal = amount >= 10_000 and amount <= ledger.wallet_balance(resident.id)
        holder: list[Withdrawal] = []
        if self._do(
            lambda: holder.append(
                jm.request_withdrawal(resident, self.unit, amount, method, **details)
            ),
            legal,
        ):
            self.withdrawals.append(holder[0].id)
        event(f"withdraw: {'done' if legal else 'refused'}")

    @rule(
        index=st.integers(0, 9),
        action=st.sampled_from(["approve", "reject", "pay", "stranger_pay"]),
    )
    def act_on_withdrawal(self, index: int, action: str) -> None:
        if not self.withdrawals:
            return
        w = db.session.get(Withdrawal, self.withdrawals[index % len(self.withdrawals)])
        assert w is not None
        officer = self._user("officer")

        def can(to: WithdrawalStatus) -> bool:
            return (w.status, to) in WITHDRAWAL_TRANSITIONS

        calls = {
            "approve": (lambda: jm.approve_withdrawal(w, officer), can(WithdrawalStatus.APPROVED)),
            "reject": (
                lambda: jm.reject_withdrawal(w, officer, "Data tidak cocok"),
                can(WithdrawalStatus.REJECTED),
            ),
            "pay": (lambda: jm.pay_withdrawal(w, officer, "KWT-9"), can(WithdrawalStatus.PAID)),
            "stranger_pay": (lambda: jm.pay_withdrawal(w, self._user("stranger"), "X"), False),
        }
        call, legal = calls[action]
        done = self._do(call, legal)
        event(f"withdrawal {action}: {'done' if done else 'refused'}")

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        assert ledger.check() == []

    @invariant()
    def wallet_is_what_was_earned_minus_what_was_withdrawn(self) -> None:
        resident = self.ids["resident"]
        earned = 0
        for pickup in db.session.scalars(select(Pickup).where(Pickup.user_id == resident)):
            credits = db.session.scalar(
                select(func.count(LedgerTransaction.id)).where(
                    LedgerTransaction.pickup_id == pickup.id,
                    LedgerTransaction.kind == TxnKind.WEIGHING_CREDIT,
                )
            )
            weighing = pickup.current_weighing
            if pickup.status == PickupStatus.CONFIRMED:
                assert weighing is not None and weighing.confirmed_at is not None
                assert credits == (1 if weighing.resident_amount else 0)
                earned += weighing.resident_amount
            else:
                assert credits == 0, "credited before confirmation"
        withdrawals = list(db.session.scalars(select(Withdrawal)))
        taken = sum(w.amount for w in withdrawals if w.status != WithdrawalStatus.REJECTED)
        held = sum(
            w.amount
            for w in withdrawals
            if w.status in (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED)
        )
        balance = ledger.wallet_balance(resident)
        assert balance == self.funded + earned - taken
        assert balance >= 0
        hold = db.session.scalar(
            select(ledger.LedgerAccount.balance).where(
                ledger.LedgerAccount.key
                == ledger.unit_key(AccountKind.WITHDRAWAL_HOLD, self.ids["unit"])
            )
        )
        assert (hold or 0) == held

    @invariant()
    def timeline_agrees_with_status(self) -> None:
        for pickup in db.session.scalars(select(Pickup)):
            assert pickup.events[-1].to_status == pickup.status
            assert (pickup.closed_at is not None) == pickup.status.is_final
            live = [w for w in pickup.weighings if w.superseded_at is None]
            assert len(live) <= 1


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def test_random_money_sequences_keep_the_books_right(app: Flask) -> None:
    with app.test_request_context():
        unit = make_unit(pickup_days=[0, 1, 2, 3, 4, 5, 6])
        ids = {
            "unit": unit.id,
            "resident": make_user().id,
            "officer": make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope).id,
            "stranger": make_user(roles=(Role.WASTE_OFFICER,), scope="999").id,
        }
    machine = type("Machine", (MoneyMachine,), {"flask_app": app, "ids": ids})
    run_state_machine_as_test(machine, settings=SETTINGS)
