"""Jumpa Madu demo data: idempotent, every pickup status, balanced books, the officer's unit."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import Role, RoleGrant
from portal.core.notifications import discard_queued_mail
from portal.extensions import db
from portal.jumpa_madu import ledger, services
from portal.jumpa_madu.demo import DEMO_UNITS, seed_jumpa_madu_demo
from portal.jumpa_madu.models import (
    Pickup,
    PickupStatus,
    Price,
    WasteUnit,
    Weighing,
    Withdrawal,
    WithdrawalStatus,
)
from tests.factories import LUBUK_PAKAM_ADDRESS, category, make_user

COUNTED = (WasteUnit, Price, Pickup, Weighing, Withdrawal, RoleGrant)


def _counts() -> tuple[int, ...]:
    rows = [db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED]
    rows.append(db.session.scalar(select(func.count(ledger.LedgerTransaction.id))))
    return tuple(rows)


def _people():  # type: ignore[no-untyped-def]
    # As portal/demo.py leaves him: a waste-officer grant that names no unit yet.
    officer = make_user(full_name="Agus Petugas", roles=(Role.WASTE_OFFICER,), scope="")
    residents = [
        make_user(full_name="Siti Warga", phone="081260000001", address=LUBUK_PAKAM_ADDRESS),
        # Tanjung Morawa: outside the first unit's area, so their pickups use another address.
        make_user(
            full_name="Rudi Penjual",
            address={"kecamatan_code": "12.07.02", "desa_code": "12.07.02.2001", "street": "Km 17"},
        ),
        make_user(full_name="Ani Lubis"),  # no address at all
    ]
    return officer, residents


def test_demo_runs_twice_without_duplicating(ctx):
    officer, residents = _people()
    seed_jumpa_madu_demo(officer, residents)
    discard_queued_mail()
    first = _counts()
    seed_jumpa_madu_demo(officer, residents)
    discard_queued_mail()
    assert _counts() == first
    assert first[0] == 3 and first[2] == 14


def test_demo_has_three_units_every_pickup_status_and_balanced_books(ctx):
    officer, residents = _people()
    seed_jumpa_madu_demo(officer, residents)
    discard_queued_mail()
    units = [
        db.session.scalar(select(WasteUnit).where(WasteUnit.name == d["name"])) for d in DEMO_UNITS
    ]
    assert len({u.kecamatan_code for u in units}) == 3
    first = units[0]
    # The officer belongs to the first unit; the grant without a unit was moved, not doubled.
    grants = [g for g in officer.grants if g.role == Role.WASTE_OFFICER]
    assert [g.scope for g in grants] == [str(first.id)]
    assert services.officer_unit(officer) is first
    statuses = set(db.session.scalars(select(Pickup.status)))
    assert statuses == set(PickupStatus)
    assert all(p.unit_id == first.id for p in db.session.scalars(select(Pickup)))
    assert ledger.check() == []
    # Every unit has prices; the first one's PET went from Rp 3.000 to Rp 3.500.
    for unit in units:
        assert len(services.unit_prices(unit)) == len(services.active_categories())
    pet = category("pet")
    history = [p.price for p in services.price_history(first) if p.category_id == pet.id]
    assert history == [3500, 3000]
    # Weighings used the price in force on their day: old ones paid Rp 3.000 for PET.
    lines = [
        line
        for w in db.session.scalars(select(Weighing))
        for line in w.lines
        if line.category_id == pet.id
    ]
    assert {line.unit_price for line in lines} == {3000, 3500}
    # Wallets with history: credits, a paid, a rejected and a requested withdrawal.
    withdrawals = services.user_withdrawals(residents[0])
    assert {w.status for w in withdrawals} == {
        WithdrawalStatus.PAID,
        WithdrawalStatus.REJECTED,
        WithdrawalStatus.REQUESTED,
    }
    summary = services.wallet_summary(residents[0])
    assert summary.available > 0 and summary.withdrawing == 10_000 and summary.pending > 0
    lines, total = services.wallet_statement(residents[0])
    assert total >= 6
    dates = [line.created_at for line in lines]
    assert dates == sorted(dates, reverse=True)  # backdated in posting order
    months = services.monthly_totals(residents[0])
    assert sum(m.earned for m in months) > 0


def test_demo_without_residents_still_sets_up_units_and_the_officer(ctx):
    officer = make_user(full_name="Agus Petugas")
    seed_jumpa_madu_demo(officer, [])
    first = db.session.scalar(select(WasteUnit).where(WasteUnit.name == DEMO_UNITS[0]["name"]))
    assert officer.has_role(Role.WASTE_OFFICER, first.scope)
    assert db.session.scalar(select(func.count(Pickup.id))) == 0
