"""Jumpa Madu demo data: three units with prices, the demo officer, pickups and wallets.

Everything goes through the same services residents and officers use, so timelines, weighings
and the ledger are real. The history is then spread over the past weeks (demo data only): the
pickups' times are backdated afterwards, the weighings are recorded "as of" their day (so they
use the prices in force then), and the ledger rows are stamped with that time as they are
inserted (never updated: the ledger stays append-only). Running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from portal.accounts.models import Role, RoleGrant, User
from portal.core.time import today_wib, utcnow, wib_date
from portal.extensions import db
from portal.jumpa_madu import ledger, services
from portal.jumpa_madu.models import (
    PayoutMethod,
    Pickup,
    PickupStatus,
    Price,
    UnitType,
    WasteCategory,
    WasteUnit,
)

# The first unit is the demo officer's. Radii are wide enough to cover the demo residents.
DEMO_UNITS: list[dict[str, Any]] = [
    {
        "name": "Bank Sampah Induk Deli Serdang",
        "type": UnitType.BANK_SAMPAH_INDUK,
        "kecamatan_code": "12.07.28",
        "desa_code": "12.07.28.1008",  # Lubuk Pakam III
        "street": "Jl. Tengku Raja Muda No. 8",
        "radius_km": 10.0,
        "pickup_days": [0, 1, 2, 3, 4, 5],
        "time_windows": "08:00-10:00\n10:00-12:00\n14:00-16:00",
        "min_weight_g": 3000,
        "phone": "081260000101",
        "resident_share_pct": 90,
    },
    {
        "name": "Bank Sampah Tanjung Morawa",
        "type": UnitType.BANK_SAMPAH,
        "kecamatan_code": "12.07.02",
        "desa_code": "12.07.02.1026",  # Pekan Tanjung Morawa
        "street": "Jl. Sultan Serdang, Gg. Pasar",
        "radius_km": 8.0,
        "pickup_days": [1, 3, 5],
        "time_windows": "08:00-11:00\n14:00-16:00",
        "min_weight_g": 5000,
        "phone": "081260000102",
        "resident_share_pct": 85,
    },
    {
        "name": "TPS3R Percut Sei Tuan",
        "type": UnitType.TPS3R,
        "kecamatan_code": "12.07.26",
        "desa_code": "12.07.26.2017",  # Bandar Setia
        "street": "Jl. Pendidikan, Dusun V",
        "radius_km": 8.0,
        "pickup_days": [0, 2, 4],
        "time_windows": "07:00-09:00\n15:00-17:00",
        "min_weight_g": 3000,
        "phone": "081260000103",
        "resident_share_pct": 90,
    },
]

# Streets in Lubuk Pakam III, for a resident whose own address is outside the first unit's area.
FALLBACK_STREETS = ["Jl. Sudirman No. 21", "Jl. Galang Gg. Amal No. 4", "Jl. Diponegoro No. 7"]

# (resident index, final status, days ago it was weighed or closed, weights in grams per slug).
# In time order, oldest first: the ledger's statement runs in posting order.
DEMO_PICKUPS: list[tuple[int, PickupStatus, int, dict[str, int]]] = [
    (0, PickupStatus.CONFIRMED, 45, {"pet": 4000, "kardus": 6000, "hvs": 2000, "kaleng": 1500}),
    (1, PickupStatus.CONFIRMED, 35, {"pet": 2500, "koran": 5000, "besi": 3000}),
    (0, PickupStatus.CONFIRMED, 21, {"pet": 3500, "gelas-pp": 2000, "minyak-jelantah": 3000,
                                     "aluminium": 800}),
    (1, PickupStatus.CONFIRMED, 12, {"kardus": 7000, "hdpe": 1500, "botol-kaca": 4000}),
    (2, PickupStatus.CONFIRMED, 9, {"pet": 3000, "tutup-botol": 1000, "plastik-campur": 2500}),
    (1, PickupStatus.CANCELLED, 6, {}),
    (0, PickupStatus.REJECTED, 5, {}),
    (2, PickupStatus.NOBODY_HOME, 3, {}),
    (1, PickupStatus.DISPUTED, 2, {"pet": 2000, "kardus": 2000, "duplex": 1000}),
    (0, PickupStatus.WEIGHED, 1, {"pet": 2300, "kardus": 1500, "plastik-keras": 1200}),
    (2, PickupStatus.ON_THE_WAY, 0, {}),
    (0, PickupStatus.SCHEDULED, 0, {}),
    (1, PickupStatus.REQUESTED, 0, {}),
    (2, PickupStatus.REQUESTED, 0, {}),
]  # fmt: skip

# (resident index, outcome, days ago asked, amount, method); after the credits that fund them.
DEMO_WITHDRAWALS: list[tuple[int, str, int, int, PayoutMethod]] = [
    (0, "paid", 20, 25_000, PayoutMethod.EWALLET),
    (1, "paid", 10, 20_000, PayoutMethod.CASH),
    (0, "rejected", 8, 15_000, PayoutMethod.BANK),
    (0, "requested", 0, 10_000, PayoutMethod.CASH),
]

_PATHS = {
    PickupStatus.REQUESTED: [],
    PickupStatus.CANCELLED: [PickupStatus.CANCELLED],
    PickupStatus.SCHEDULED: [PickupStatus.SCHEDULED],
    PickupStatus.ON_THE_WAY: [PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY],
    PickupStatus.NOBODY_HOME: [
        PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY, PickupStatus.NOBODY_HOME,
    ],
    PickupStatus.REJECTED: [PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY, PickupStatus.REJECTED],
    PickupStatus.WEIGHED: [PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY, PickupStatus.WEIGHED],
    PickupStatus.DISPUTED: [
        PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY, PickupStatus.WEIGHED,
        PickupStatus.DISPUTED,
    ],
    PickupStatus.CONFIRMED: [
        PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY, PickupStatus.WEIGHED,
        PickupStatus.CONFIRMED,
    ],
}  # fmt: skip


_ANSWERED = (PickupStatus.CONFIRMED, PickupStatus.DISPUTED)


def seed_jumpa_madu_demo(officer: User, residents: list[User]) -> None:
    """Create what is missing: units, prices, the officer's unit, and once the pickup history.

    `officer` becomes an officer of the first unit (an existing waste-officer grant, such as one
    without a unit, is moved to it). Flushes, never commits; the caller discards queued mail.
    """
    services.seed_categories()
    units = [_unit(data, officer) for data in DEMO_UNITS]
    _make_officer_of(officer, units[0])
    db.session.flush()
    if not residents:
        return
    if db.session.scalar(select(Pickup.id).where(Pickup.unit_id == units[0].id).limit(1)):
        return  # the history was made on an earlier run
    _history(units[0], officer, residents)
    db.session.flush()


# --- units and prices ---------------------------------------------------------------------------


def _unit(data: dict[str, Any], officer: User) -> WasteUnit:
    unit = db.session.scalar(select(WasteUnit).where(WasteUnit.name == data["name"]))
    if unit is not None:
        services.seed_unit_prices(unit, None)  # only categories added since
        return unit
    unit = services.save_unit(
        None, officer, **data, rt=None, rw=None, landmark=None, latitude=None, longitude=None
    )
    started = utcnow() - dt.timedelta(days=60)
    first = data is DEMO_UNITS[0]
    if first:
        _past_pet_prices(unit, officer, started)
    services.seed_unit_prices(unit, None, at=started)
    if first:  # a change announced for next week, through the service
        services.set_price(
            unit, _category("aluminium"), 8000, officer, utcnow() + dt.timedelta(days=7)
        )
    return unit


def _past_pet_prices(unit: WasteUnit, officer: User, started: dt.datetime) -> None:
    """PET went from Rp 3.000 to Rp 3.500 thirty days ago: both prices stay on record.

    `set_price` refuses the past, so these rows are written as they were made at the time.
    """
    pet = _category("pet")
    db.session.add(Price(unit_id=unit.id, category_id=pet.id, price=3000, effective_at=started))
    db.session.add(
        Price(
            unit_id=unit.id,
            category_id=pet.id,
            price=3500,
            effective_at=utcnow() - dt.timedelta(days=30),
            created_by_id=officer.id,
        )
    )
    db.session.flush()


def _category(slug: str) -> WasteCategory:
    category = db.session.scalar(select(WasteCategory).where(WasteCategory.slug == slug))
    assert category is not None, slug
    return category


def _make_officer_of(officer: User, unit: WasteUnit) -> None:
    grant = next((g for g in officer.grants if g.role == Role.WASTE_OFFICER), None)
    if grant is None:
        db.session.add(RoleGrant(user=officer, role=Role.WASTE_OFFICER, scope=unit.scope))
    elif grant.scope != unit.scope:
        grant.scope = unit.scope


# --- pickups and wallets ------------------------------------------------------------------------


@contextmanager
def _ledger_time(when: dt.datetime) -> Iterator[None]:
    """Ledger rows inserted in this block carry `when` as their time (demo history only)."""

    def stamp(_mapper: Any, _connection: Any, target: Any) -> None:
        target.created_at = when

    models = (ledger.LedgerTransaction, ledger.LedgerEntry)
    for model in models:
        event.listen(model, "before_insert", stamp)
    try:
        yield
    finally:
        for model in models:
            event.remove(model, "before_insert", stamp)


def _history(unit: WasteUnit, officer: User, residents: list[User]) -> None:
    """Pickups in every status and withdrawals, merged in time order (oldest first)."""
    now = utcnow()
    steps: list[tuple[dt.datetime, Callable[[], None]]] = []
    for n, (who, status, days_ago, weights) in enumerate(DEMO_PICKUPS):
        resident = residents[who % len(residents)]
        address = _address_for(resident, unit, n)
        when = now - dt.timedelta(days=days_ago, hours=2)
        steps.append(
            (
                when,
                lambda r=resident, a=address, s=status, w=weights, t=when: _pickup(
                    unit, officer, r, a, s, w, t
                ),
            )
        )
    for who, outcome, days_ago, amount, method in DEMO_WITHDRAWALS:
        resident = residents[who % len(residents)]
        when = now - dt.timedelta(days=days_ago, hours=1)
        steps.append(
            (
                when,
                lambda r=resident, o=outcome, a=amount, m=method, t=when: _withdrawal(
                    unit, officer, r, o, a, m, t
                ),
            )
        )
    for _when, step in sorted(steps, key=lambda item: item[0]):
        step()


def _address_for(resident: User, unit: WasteUnit, n: int) -> dict[str, Any]:
    """The resident's own address when the unit covers it, else one in Lubuk Pakam III."""
    if resident.has_address:
        point = services.address_point(resident.address_data())
        if point is not None and any(u.id == unit.id for u, _km in services.covering_units(point)):
            return resident.address_data()
    return {
        "kecamatan_code": "12.07.28",
        "desa_code": "12.07.28.1008",
        "street": FALLBACK_STREETS[n % len(FALLBACK_STREETS)],
        "rt": "002",
        "rw": "001",
        "landmark": None,
        "latitude": None,
        "longitude": None,
    }


def _pickup(
    unit: WasteUnit,
    officer: User,
    resident: User,
    address: dict[str, Any],
    status: PickupStatus,
    weights: dict[str, int],
    done_at: dt.datetime,
) -> None:
    """One pickup driven to `status`; a past one gets the times of `done_at` (the last step)."""
    today = today_wib()
    live = status in (PickupStatus.REQUESTED, PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY)
    asked_at = done_at - dt.timedelta(days=2) if not live else done_at
    asked_day = wib_date(asked_at)
    preferred = services.pickup_days_ahead(unit, 1, today=asked_day if not live else today)[0]
    estimates = {
        _category(slug).id: grams
        for slug, grams in (weights or {"pet": 2500, "kardus": 2000}).items()
    }
    pickup = services.request_pickup(
        resident,
        unit,
        address=address,
        estimates=estimates,
        preferred_date=preferred,
        window=unit.time_windows[0],
        note="Di depan rumah ada pohon mangga." if status == PickupStatus.REQUESTED else "",
        today=asked_day if not live else today,
    )
    day = today if status == PickupStatus.ON_THE_WAY else (preferred if live else wib_date(done_at))
    # The collector's visit: the last step, or a few hours before the resident answered.
    weighed_at = done_at - dt.timedelta(hours=3 if status in _ANSWERED else 0)
    for step in _PATHS[status]:
        if step == PickupStatus.CANCELLED:
            services.cancel_pickup(
                pickup, resident, "Sampah sudah saya antar sendiri ke bank sampah."
            )
        elif step == PickupStatus.SCHEDULED:
            services.schedule_pickup(
                pickup,
                officer,
                day=day,
                window=unit.time_windows[0],
                collector=officer,
                today=min(day, today),
            )
        elif step == PickupStatus.ON_THE_WAY:
            services.start_route(pickup, officer)
        elif step == PickupStatus.NOBODY_HOME:
            services.record_outcome(
                pickup, officer, step, "Rumah kosong, pagar terkunci. Kami jadwalkan ulang."
            )
        elif step == PickupStatus.REJECTED:
            services.record_outcome(
                pickup, officer, step, "Sampah belum dipilah dan masih basah. Mohon dipilah dulu."
            )
        elif step == PickupStatus.WEIGHED:
            services.record_weighing(
                pickup,
                officer,
                {_category(slug).id: grams for slug, grams in weights.items()},
                note="Ditimbang di depan rumah.",
                now=weighed_at,
            )
        elif step == PickupStatus.DISPUTED:
            services.dispute_weighing(
                pickup,
                resident,
                "Kardus saya sekitar 3 kg, bukan 2 kg.",
                now=weighed_at + dt.timedelta(hours=1),
            )
        elif step == PickupStatus.CONFIRMED:
            with _ledger_time(done_at):
                services.confirm_weighing(pickup, resident)
    if not live:
        _backdate(pickup, asked_at, weighed_at, done_at)


def _backdate(
    pickup: Pickup, asked_at: dt.datetime, weighed_at: dt.datetime, done_at: dt.datetime
) -> None:
    """Give the pickup's timeline the times of its story (demo data only)."""
    pickup.created_at = asked_at
    at = {
        PickupStatus.REQUESTED: asked_at,
        PickupStatus.SCHEDULED: asked_at + dt.timedelta(hours=3),
        PickupStatus.ON_THE_WAY: weighed_at - dt.timedelta(hours=1),
        PickupStatus.WEIGHED: weighed_at,
    }
    for event_ in pickup.events:
        event_.created_at = at.get(event_.to_status, done_at)
    for weighing in pickup.weighings:
        if weighing.confirmed_at is not None:
            weighing.confirmed_at = done_at
    if pickup.closed_at is not None:
        pickup.closed_at = done_at
    db.session.flush()


def _withdrawal(
    unit: WasteUnit,
    officer: User,
    resident: User,
    outcome: str,
    amount: int,
    method: PayoutMethod,
    asked_at: dt.datetime,
) -> None:
    details: dict[str, Any] = {}
    if method is PayoutMethod.BANK:
        details = {
            "bank_name": "Bank Sumut",
            "account_number": "1234567890",
            "account_holder": resident.full_name,
        }
    elif method is PayoutMethod.EWALLET:
        details = {"ewallet_provider": "DANA", "ewallet_number": resident.phone or "081260000099"}
    with _ledger_time(asked_at):
        withdrawal = services.request_withdrawal(resident, unit, amount, method, **details)
    withdrawal.requested_at = asked_at
    decided_at = asked_at + dt.timedelta(hours=2)
    if outcome == "paid":
        services.approve_withdrawal(withdrawal, officer)
        with _ledger_time(decided_at + dt.timedelta(hours=1)):
            reference = (
                f"KW-DEMO-{withdrawal.id:04d}"
                if method is PayoutMethod.CASH
                else f"DANA-{70_000_000 + withdrawal.id:08d}"
            )
            services.pay_withdrawal(withdrawal, officer, reference)
        withdrawal.decided_at = decided_at
        withdrawal.paid_at = decided_at + dt.timedelta(hours=1)
    elif outcome == "rejected":
        with _ledger_time(decided_at):
            services.reject_withdrawal(
                withdrawal,
                officer,
                "Nama pemilik rekening tidak sama dengan nama akun. Silakan ajukan lagi.",
            )
        withdrawal.decided_at = decided_at
    db.session.flush()
