"""Jumpa Madu rules: prices and their snapshots, unit choice, pickups, weighings, withdrawals."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from portal.accounts.models import Role
from portal.core.errors import DomainError
from portal.core.geo import Point
from portal.core.time import today_wib, utcnow
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import (
    PICKUP_TRANSITIONS,
    WITHDRAWAL_TRANSITIONS,
    Actor,
    PayoutMethod,
    Pickup,
    PickupStatus,
    Price,
    Withdrawal,
    WithdrawalStatus,
)
from tests.factories import (
    FAR_ADDRESS,
    LUBUK_PAKAM_ADDRESS,
    category,
    fund_wallet,
    make_pickup,
    make_unit,
    make_user,
)

PHONE = "0812345678"
BANK, EWALLET = PayoutMethod.BANK, PayoutMethod.EWALLET
ADDRESS = {**LUBUK_PAKAM_ADDRESS, "landmark": None, "latitude": None, "longitude": None}


def _officer(unit):
    return make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope)


def _request(user, unit, **overrides):
    data = {
        "address": ADDRESS,
        "estimates": {category("pet").id: 3000},
        "preferred_date": jm.pickup_days_ahead(unit)[0],
        "window": unit.time_windows[0],
    }
    data.update(overrides)
    return jm.request_pickup(user, unit, **data)


# --- arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(0, 1000, 0), (499, 1000, 0), (500, 1000, 1), (1500, 1000, 2), (2499, 1000, 2), (7, 2, 4)],
)
def test_rounding_is_half_up(num, den, expected):
    assert jm.round_half_up(num, den) == expected


def test_line_amounts_follow_the_documented_formula():
    # 2,3 kg PET at Rp 3.500/kg = Rp 8.050; 90% = Rp 7.245.
    assert jm.line_amounts(2300, 3500, 90) == (8050, 7245)
    # 0,1 kg at Rp 250/kg = Rp 25; 90% = 22,5 -> 23 (half up).
    assert jm.line_amounts(100, 250, 90) == (25, 23)


@pytest.mark.parametrize(
    ("typed", "grams"), [("2,5", 2500), ("2.5", 2500), ("3", 3000), ("0,1", 100), (" 12 ", 12000)]
)
def test_weights_are_typed_in_tenths_of_a_kilo(typed, grams):
    assert jm.kg_to_grams(typed) == grams


@pytest.mark.parametrize("typed", ["", "2,55", "-1", "abc", "1e3", "10000"])
def test_other_weights_are_refused(typed):
    with pytest.raises(ValueError):
        jm.kg_to_grams(typed)


def test_a_total_keeps_kilograms_and_litres_apart(ctx):
    pickup = make_pickup(status="weighed", weights={"pet": 2300, "minyak-jelantah": 2000})
    assert jm.format_total(pickup.current_weighing.lines) == "2,3 kg + 2 L"
    assert jm.format_total(make_pickup(status="weighed").current_weighing.lines) == "3,8 kg"


def test_weights_are_shown_the_indonesian_way():
    assert jm.format_weight(2500) == "2,5 kg"
    assert jm.format_weight(12000) == "12 kg"
    assert jm.format_weight(1250, "litre") == "1,25 L"


# --- prices -----------------------------------------------------------------------------------


def test_a_price_change_is_a_new_row_and_the_old_price_stays(ctx):
    unit = make_unit()
    admin = make_user(roles=(Role.ADMIN,))
    pet = category("pet")
    before = jm.unit_prices(unit)[pet.id]
    assert before.price == 3500
    jm.set_price(unit, pet, 4000, admin)
    db.session.commit()
    assert jm.unit_prices(unit)[pet.id].price == 4000
    history = [p.price for p in jm.price_history(unit) if p.category_id == pet.id]
    assert history == [4000, 3500]
    # The price in force at an earlier time is still the old one.
    assert jm.unit_prices(unit, utcnow() - dt.timedelta(hours=1))[pet.id].price == 3500


def test_a_future_price_takes_effect_only_from_its_time(ctx):
    unit = make_unit()
    admin = make_user(roles=(Role.ADMIN,))
    pet = category("pet")
    tomorrow = utcnow() + dt.timedelta(days=1)
    jm.set_price(unit, pet, 5000, admin, effective_at=tomorrow)
    assert jm.unit_prices(unit)[pet.id].price == 3500
    assert jm.unit_prices(unit, tomorrow + dt.timedelta(minutes=1))[pet.id].price == 5000


def test_price_changes_in_the_past_or_unchanged_are_refused(ctx):
    unit = make_unit()
    admin = make_user(roles=(Role.ADMIN,))
    pet = category("pet")
    with pytest.raises(DomainError) as info:
        jm.set_price(unit, pet, 4000, admin, effective_at=utcnow() - dt.timedelta(days=1))
    assert info.value.field == "effective_at"
    with pytest.raises(DomainError):
        jm.set_price(unit, pet, 3500, admin)


def test_a_unit_can_stop_buying_a_category(ctx):
    unit = make_unit()
    admin = make_user(roles=(Role.ADMIN,))
    copper = category("tembaga")
    jm.set_price(unit, copper, None, admin)
    assert copper.id not in jm.unit_prices(unit)
    with pytest.raises(DomainError) as info:
        _request(make_user(), unit, estimates={copper.id: 3000})
    assert info.value.field == "estimates"


def test_current_prices_of_many_units_take_one_query(ctx):
    unit_ids = [make_unit().id for _ in range(4)]
    statements = []

    def count(*_args):
        statements.append(1)

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        prices = jm.current_prices(unit_ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert all(len(prices[uid]) == 16 for uid in unit_ids)


def test_a_weighing_keeps_the_price_and_share_it_used(ctx):
    pickup = make_pickup(status="weighed")
    weighing = pickup.current_weighing
    pet_line = next(line for line in weighing.lines if line.category.slug == "pet")
    admin = make_user(roles=(Role.ADMIN,))
    jm.set_price(pickup.unit, category("pet"), 9000, admin)
    pickup.unit.resident_share_pct = 50
    db.session.commit()
    db.session.refresh(weighing)
    assert pet_line.unit_price == 3500
    assert db.session.get(Price, pet_line.price_id).price == 3500
    assert weighing.resident_share_pct == 90
    jm.confirm_weighing(pickup, pickup.user)
    db.session.commit()
    assert ledger.wallet_balance(pickup.user_id) == 8730


# --- unit choice --------------------------------------------------------------------------------


def test_the_nearest_covering_unit_is_proposed_first(ctx):
    near = make_unit(name="Dekat")  # in Lubuk Pakam III
    further = make_unit(name="Agak jauh", desa_code="12.07.28.2001")  # Sekip, ~2 km away
    out_of_reach = make_unit(name="Jauh", **{k: v for k, v in FAR_ADDRESS.items()})
    point = jm.address_point(ADDRESS)
    covering = jm.covering_units(point)
    assert [u.name for u, _km in covering] == ["Dekat", "Agak jauh"]
    assert covering[0][1] < covering[1][1] < 5
    assert out_of_reach not in [u for u, _km in covering]
    assert near is covering[0][0] and further is covering[1][0]


def test_a_map_pin_wins_over_the_desa_centroid(ctx):
    make_unit(name="Sekip", desa_code="12.07.28.2001", radius_km=1)
    # The Lubuk Pakam III centroid is ~2 km from Sekip: not covered by a 1 km radius...
    assert jm.covering_units(jm.address_point(ADDRESS)) == []
    # ...but a pin next to Sekip is.
    pinned = {**ADDRESS, "latitude": 3.5712, "longitude": 98.8885}
    assert jm.address_point(pinned) == Point(3.5712, 98.8885)
    assert [u.name for u, _km in jm.covering_units(jm.address_point(pinned))] == ["Sekip"]


def test_an_address_nobody_covers_gets_the_nearest_units_for_drop_off(ctx):
    make_unit(name="A")
    make_unit(name="B", desa_code="12.07.28.2001")
    point = jm.address_point({**FAR_ADDRESS})
    assert jm.covering_units(point) == []
    nearest = jm.units_by_distance(point)
    assert len(nearest) == 2 and nearest[0][1] > 5


def test_a_request_with_a_unit_that_does_not_cover_the_address_is_refused(ctx):
    unit = make_unit()
    with pytest.raises(DomainError) as info:
        _request(make_user(), unit, address={**FAR_ADDRESS, "latitude": None, "longitude": None})
    assert info.value.field == "unit_id"


def test_inactive_units_are_neither_proposed_nor_accepted(ctx):
    unit = make_unit(is_active=False)
    assert jm.covering_units(jm.address_point(ADDRESS)) == []
    with pytest.raises(DomainError):
        _request(make_user(), unit)


# --- requesting -------------------------------------------------------------------------------


def test_a_request_stores_the_estimates_distance_and_a_first_timeline_entry(ctx):
    unit = make_unit()
    officer = _officer(unit)
    pickup = _request(
        make_user(), unit, estimates={category("pet").id: 2500, category("kardus").id: 1000}
    )
    db.session.commit()
    assert pickup.status == PickupStatus.REQUESTED
    assert pickup.estimated_g == 3500
    assert pickup.distance_km == 0
    assert pickup.code == f"JM-{pickup.id:06d}"
    assert [(e.from_status, e.to_status) for e in pickup.events] == [
        (PickupStatus.REQUESTED, PickupStatus.REQUESTED)
    ]
    # The unit's officers hear about it.
    titles = db.session.scalars(
        text("SELECT title FROM notifications WHERE user_id = :u"), {"u": officer.id}
    ).all()
    assert any(pickup.code in title for title in titles)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"preferred_date": "today"}, "preferred_date"),
        ({"preferred_date": "sunday"}, "preferred_date"),
        ({"window": "06:00-07:00"}, "window"),
        ({"estimates": {}}, "estimates"),
        ({"estimates": "light"}, "estimates"),
        ({"address": {**ADDRESS, "street": None}}, "street"),
    ],
    ids=["today", "not-a-pickup-day", "window", "nothing", "below-minimum", "no-street"],
)
def test_bad_requests_are_refused_on_the_right_field(ctx, change, field):
    unit = make_unit()
    if change.get("preferred_date") == "today":
        change["preferred_date"] = today_wib()
    elif change.get("preferred_date") == "sunday":
        day = today_wib() + dt.timedelta(days=1)
        while day.weekday() != 6:
            day += dt.timedelta(days=1)
        change["preferred_date"] = day
    if change.get("estimates") == "light":
        change["estimates"] = {category("pet").id: 1500, category("kardus").id: 1400}
    with pytest.raises(DomainError) as info:
        _request(make_user(), unit, **change)
    assert info.value.field == field


def test_the_minimum_weight_message_says_what_was_entered(ctx):
    unit = make_unit(min_weight_g=5000)
    with force_locale("en"), pytest.raises(DomainError) as info:
        _request(make_user(), unit, estimates={category("pet").id: 4500})
    assert "at least 5 kg" in info.value.message and "4,5 kg" in info.value.message


# --- transitions --------------------------------------------------------------------------------


def test_every_pickup_transition_is_in_the_table_and_nothing_else(ctx):
    user = make_user()
    for frm in PickupStatus:
        for to in PickupStatus:
            for actor in Actor:
                pickup = Pickup(status=frm)
                pickup.events = []
                allowed = actor in PICKUP_TRANSITIONS.get((frm, to), frozenset())
                if allowed:
                    pickup.move_to(to, actor=user, as_=actor)
                    assert pickup.status == to
                else:
                    with pytest.raises(DomainError):
                        pickup.move_to(to, actor=user, as_=actor)
                    assert pickup.status == frm


def test_every_withdrawal_transition_is_in_the_table_and_nothing_else():
    for frm in WithdrawalStatus:
        for to in WithdrawalStatus:
            w = Withdrawal(status=frm)
            if (frm, to) in WITHDRAWAL_TRANSITIONS:
                w.move_to(to)
                assert w.status == to
            else:
                with pytest.raises(DomainError):
                    w.move_to(to)


def test_the_resident_cancels_before_the_collector_sets_off_but_not_after(ctx):
    for status in ("requested", "scheduled"):
        pickup = make_pickup(status=status)
        jm.cancel_pickup(pickup, pickup.user)
        assert pickup.status == PickupStatus.CANCELLED
    pickup = make_pickup(status="on_the_way")
    with pytest.raises(DomainError):
        jm.cancel_pickup(pickup, pickup.user)
    assert pickup.status == PickupStatus.ON_THE_WAY


def test_an_officer_of_another_unit_cannot_act(ctx):
    pickup = make_pickup(status="requested")
    stranger = _officer(make_unit())
    day = jm.pickup_days_ahead(pickup.unit)[0]
    with pytest.raises(DomainError):
        jm.schedule_pickup(pickup, stranger, day=day, window="08:00-10:00", collector=None)
    with pytest.raises(DomainError):
        jm.cancel_pickup(pickup, stranger, "Tidak bisa")
    assert pickup.status == PickupStatus.REQUESTED


def test_a_collector_must_belong_to_the_unit(ctx):
    pickup = make_pickup(status="requested")
    officer = _officer(pickup.unit)
    other = _officer(make_unit())
    day = jm.pickup_days_ahead(pickup.unit)[0]
    with pytest.raises(DomainError) as info:
        jm.schedule_pickup(pickup, officer, day=day, window="08:00-10:00", collector=other)
    assert info.value.field == "collector_id"


def test_outcomes_need_a_note_and_nobody_home_can_be_rescheduled(ctx):
    pickup = make_pickup(status="on_the_way")
    officer = _officer(pickup.unit)
    with pytest.raises(DomainError):
        jm.record_outcome(pickup, officer, PickupStatus.NOBODY_HOME, "  ")
    jm.record_outcome(pickup, officer, PickupStatus.NOBODY_HOME, "Rumah terkunci")
    day = jm.pickup_days_ahead(pickup.unit)[1]
    jm.schedule_pickup(pickup, officer, day=day, window="13:00-15:00", collector=officer)
    assert pickup.status == PickupStatus.SCHEDULED and pickup.scheduled_date == day


# --- weighing, confirming, disputing -----------------------------------------------------------


def test_a_weighing_pays_nothing_until_it_is_confirmed(ctx):
    pickup = make_pickup(status="weighed")
    w = pickup.current_weighing
    assert (w.gross_amount, w.resident_amount, w.unit_amount) == (9700, 8730, 970)
    assert ledger.wallet_balance(pickup.user_id) == 0
    assert jm.wallet_summary(pickup.user).pending == 8730
    assert as_naive(pickup.confirm_due_at) - as_naive(w.recorded_at) == dt.timedelta(hours=48)
    jm.confirm_weighing(pickup, pickup.user)
    db.session.commit()
    assert ledger.wallet_balance(pickup.user_id) == 8730
    assert jm.wallet_summary(pickup.user).pending == 0


def as_naive(value):
    return value.replace(tzinfo=None)


def test_confirming_twice_credits_once(ctx):
    pickup = make_pickup(status="confirmed")
    with pytest.raises(DomainError):
        jm.confirm_weighing(pickup, pickup.user)
    db.session.rollback()
    assert ledger.wallet_balance(pickup.user_id) == 8730


def test_only_the_resident_confirms_or_disputes(ctx):
    pickup = make_pickup(status="weighed")
    other = make_user()
    with pytest.raises(DomainError):
        jm.confirm_weighing(pickup, other)
    with pytest.raises(DomainError):
        jm.dispute_weighing(pickup, other, "Kurang")


def test_a_dispute_needs_a_reason_and_must_come_in_time(ctx):
    pickup = make_pickup(status="weighed")
    with pytest.raises(DomainError) as info:
        jm.dispute_weighing(pickup, pickup.user, " ")
    assert info.value.field == "reason"
    late = pickup.confirm_due_at.replace(tzinfo=dt.UTC) + dt.timedelta(minutes=1)
    with pytest.raises(DomainError):
        jm.dispute_weighing(pickup, pickup.user, "Kurang", now=late)


def test_a_reweigh_replaces_the_weighing_and_keeps_both(ctx):
    pickup = make_pickup(status="disputed")
    officer = _officer(pickup.unit)
    jm.record_weighing(pickup, officer, {category("pet").id: 2600, category("kardus").id: 1500})
    db.session.commit()
    first, second = pickup.weighings
    assert first.superseded_at is not None and second.superseded_at is None
    assert pickup.current_weighing is second
    assert pickup.status == PickupStatus.WEIGHED
    jm.confirm_weighing(pickup, pickup.user)
    db.session.commit()
    # 2,6 kg x 3.500 x 90% = 8.190, plus 1.485 for the cardboard.
    assert ledger.wallet_balance(pickup.user_id) == 8190 + 1485


def test_resolving_a_dispute_credits_the_weighing_with_the_answer(ctx):
    pickup = make_pickup(status="disputed")
    officer = _officer(pickup.unit)
    with pytest.raises(DomainError):
        jm.resolve_dispute(pickup, officer, "")
    jm.resolve_dispute(pickup, officer, "Sudah ditimbang ulang di depan warga; hasil sama.")
    db.session.commit()
    assert pickup.status == PickupStatus.CONFIRMED
    assert ledger.wallet_balance(pickup.user_id) == 8730


def test_confirm_due_confirms_only_overdue_weighings_and_is_idempotent(ctx, runner):
    due = make_pickup(status="weighed")
    fresh = make_pickup(status="weighed")
    disputed = make_pickup(status="disputed")
    later = utcnow() + dt.timedelta(hours=49)
    # `fresh` was weighed just now too; only move `due`'s deadline into the past.
    db.session.execute(
        text("UPDATE jm_pickups SET confirm_due_at = :t WHERE id = :id"),
        {"t": utcnow() - dt.timedelta(minutes=1), "id": due.id},
    )
    db.session.commit()
    assert jm.confirm_due() == 1
    db.session.commit()
    assert jm.confirm_due() == 0
    db.session.commit()
    db.session.expire_all()
    assert due.status == PickupStatus.CONFIRMED
    assert fresh.status == PickupStatus.WEIGHED
    assert due.events[-1].actor_kind == Actor.SYSTEM
    assert ledger.wallet_balance(due.user_id) == 8730
    # After 49 hours the fresh one confirms too, never the disputed one.
    assert jm.confirm_due(now=later) == 1
    db.session.commit()
    assert disputed.status == PickupStatus.DISPUTED
    result = runner.invoke(args=["jumpa-madu", "confirm-due"])
    assert result.exit_code == 0 and "0" in result.output
    assert ledger.check() == []


# --- withdrawals --------------------------------------------------------------------------------


def test_a_withdrawal_holds_the_money_at_once_and_paying_settles_it(ctx, app):
    unit = make_unit()
    officer = _officer(unit)
    user = make_user()
    fund_wallet(user, 50_000, unit)
    w = jm.request_withdrawal(user, unit, 20_000, PayoutMethod.CASH)
    db.session.commit()
    assert ledger.wallet_balance(user.id) == 30_000
    assert jm.wallet_summary(user).withdrawing == 20_000
    with pytest.raises(DomainError):
        jm.pay_withdrawal(w, officer, "KWT-1")  # not approved yet
    db.session.rollback()
    jm.approve_withdrawal(w, officer)
    jm.pay_withdrawal(w, officer, "KWT-1")
    db.session.commit()
    assert w.status == WithdrawalStatus.PAID and w.reference == "KWT-1"
    assert ledger.wallet_balance(user.id) == 30_000
    assert jm.wallet_summary(user).withdrawing == 0
    payable = ledger.unit_account(ledger.AccountKind.UNIT_PAYABLE, unit.id)
    assert payable.balance == -30_000  # the unit still owes the resident what is in the wallet
    assert ledger.check() == []


def test_a_rejected_withdrawal_gives_the_money_back(ctx):
    unit = make_unit()
    officer = _officer(unit)
    user = make_user()
    fund_wallet(user, 50_000, unit)
    w = jm.request_withdrawal(user, unit, 50_000, PayoutMethod.CASH)
    with pytest.raises(DomainError):
        jm.reject_withdrawal(w, officer, "")
    jm.reject_withdrawal(w, officer, "Nomor rekening tidak aktif")
    db.session.commit()
    assert ledger.wallet_balance(user.id) == 50_000
    with pytest.raises(DomainError):
        jm.approve_withdrawal(w, officer)


@pytest.mark.parametrize(
    ("amount", "method", "details", "field"),
    [
        (5_000, PayoutMethod.CASH, {}, "amount"),
        (60_000, PayoutMethod.CASH, {}, "amount"),
        (10_000, BANK, {"bank_name": "BRI", "account_holder": "Ani"}, "account_number"),
        (10_000, BANK, {"account_number": "12345678", "account_holder": "A"}, "bank_name"),
        (10_000, EWALLET, {"ewallet_provider": "BTC", "ewallet_number": PHONE}, "ewallet_provider"),
        (10_000, EWALLET, {"ewallet_provider": "DANA", "ewallet_number": "12"}, "ewallet_number"),
    ],
    ids=["below-minimum", "above-balance", "no-account", "no-bank", "bad-ewallet", "bad-number"],
)  # fmt: skip
def test_bad_withdrawals_are_refused_and_hold_nothing(ctx, amount, method, details, field):
    unit = make_unit()
    user = make_user()
    fund_wallet(user, 50_000, unit)
    with pytest.raises(DomainError) as info:
        jm.request_withdrawal(user, unit, amount, method, **details)
    assert info.value.field == field
    db.session.rollback()
    assert ledger.wallet_balance(user.id) == 50_000
    assert db.session.scalar(select(func.count(Withdrawal.id))) == 0


def test_payout_details_are_stored_normalised_and_shown_masked(ctx):
    unit = make_unit()
    user = make_user()
    fund_wallet(user, 50_000, unit)
    bank = jm.request_withdrawal(
        user, unit, 10_000, PayoutMethod.BANK,
        bank_name="BRI", account_number="0123-4567-8901", account_holder="Ani",
    )  # fmt: skip
    wallet = jm.request_withdrawal(
        user,
        unit,
        10_000,
        PayoutMethod.EWALLET,
        ewallet_provider="DANA",
        ewallet_number="0812 3456 7890",
    )
    assert bank.account_number == "012345678901"
    assert "5678901" not in bank.destination and bank.destination.startswith("BRI")
    assert wallet.ewallet_number == "+6281234567890"
    assert "34567" not in wallet.destination


def test_the_cash_report_counts_the_days_payouts_by_method(ctx):
    unit = make_unit()
    officer = _officer(unit)
    user = make_user()
    fund_wallet(user, 100_000, unit)
    for amount, method, extra in (
        (10_000, PayoutMethod.CASH, {}),
        (15_000, PayoutMethod.CASH, {}),
        (
            20_000,
            PayoutMethod.EWALLET,
            {"ewallet_provider": "OVO", "ewallet_number": "081299990000"},
        ),
    ):
        w = jm.request_withdrawal(user, unit, amount, method, **extra)
        jm.approve_withdrawal(w, officer)
        jm.pay_withdrawal(w, officer, f"REF-{amount}")
    unpaid = jm.request_withdrawal(user, unit, 10_000, PayoutMethod.CASH)
    db.session.commit()
    report = jm.cash_report(unit, today_wib())
    assert report.by_method[PayoutMethod.CASH] == 25_000
    assert report.by_method[PayoutMethod.EWALLET] == 20_000
    assert report.total_paid == 45_000
    assert unpaid not in report.paid
    assert report.credited == 100_000
    assert jm.cash_report(unit, today_wib() - dt.timedelta(days=1)).total_paid == 0


def test_monthly_totals_and_impact(ctx):
    pickup = make_pickup(status="confirmed")
    user, unit = pickup.user, pickup.unit
    fund_wallet(user, 20_000, unit)
    w = jm.request_withdrawal(user, unit, 10_000, PayoutMethod.CASH)
    officer = _officer(unit)
    jm.reject_withdrawal(w, officer, "Uji")
    jm.request_withdrawal(user, unit, 12_000, PayoutMethod.CASH)
    db.session.commit()
    (month,) = jm.monthly_totals(user)
    assert month.earned == 8730 + 20_000
    assert month.withdrawn == 12_000  # the rejected one came back
    impact = {line.category.slug: line for line in jm.impact(user)}
    assert impact["pet"].grams == 2300 and impact["kardus"].grams == 1500
    # 2,3 kg PET x 1.240 g CO2e/kg = 2.852 g; 1,5 kg cardboard x 3.460 = 5.190 g.
    assert impact["pet"].co2e_g == 2852 and impact["kardus"].co2e_g == 5190


def test_monthly_totals_read_only_the_months_shown(ctx):
    """Twelve WIB months back from today's month, the current one included; older entries are
    not read at all (they made the wallet slower every year)."""
    user = make_user()
    fund_wallet(user, 5_000, make_unit())
    db.session.commit()
    this_month = today_wib().replace(day=1)

    def months_later(n: int) -> dt.date:
        day = this_month
        for _ in range(n):
            day = (day + dt.timedelta(days=32)).replace(day=1)
        return day

    assert [m.earned for m in jm.monthly_totals(user, today=months_later(11))] == [5_000]
    assert jm.monthly_totals(user, today=months_later(12)) == []
    assert [m.earned for m in jm.monthly_totals(user, months=2, today=months_later(1))] == [5_000]
    assert jm.monthly_totals(user, months=2, today=months_later(2)) == []


def test_seeding_categories_twice_adds_them_once(ctx):
    jm.seed_categories()
    assert jm.seed_categories() == 0
    slugs = [c.slug for c in jm.active_categories()]
    assert len(slugs) == 16 and "minyak-jelantah" in slugs
    assert category("minyak-jelantah").measure == "litre"
