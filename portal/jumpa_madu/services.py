"""Jumpa Madu operations: units and prices, pickups from request to payment, and withdrawals.

Services take model objects and plain data, `flush()` but never commit (the view's `perform`
commits once per action), and refuse with `DomainError`. Every status change goes through the
model's `move_to`, every rupiah through `ledger.post`.

Payout arithmetic (documented in the README, proved by a property test):
    line value          = round_half_up(weight_g x price_per_kg / 1000)
    line resident share = round_half_up(weight_g x price_per_kg x share_pct / 100000)
    weighing totals     = the sums of its lines; the unit keeps value - resident share
Rounding is per line and half up (0.5 rupiah goes up), on integers only: no floats touch money.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Role, RoleGrant, User
from portal.core.audit import record_audit
from portal.core.counts import COUNT_CAP, capped_count, list_cap
from portal.core.errors import DomainError
from portal.core.geo import Point, distance_km, gazetteer_point, nearest_neighbour_route
from portal.core.identity import normalize_phone
from portal.core.money import format_rupiah
from portal.core.notifications import tell
from portal.core.time import as_utc, format_day, today_wib, utcnow, wib_date, wib_day_bounds
from portal.core.uploads import CheckedUpload, get_storage
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu.ledger import AccountKind, TxnKind
from portal.jumpa_madu.models import (
    EWALLET_PROVIDERS,
    PICKUP_NEXT_STEPS,
    RESIDENT_CANCELLABLE,
    Actor,
    Measure,
    PayoutMethod,
    Pickup,
    PickupEstimate,
    PickupEvent,
    PickupStatus,
    Price,
    UnitType,
    WasteCategory,
    WasteUnit,
    Weighing,
    WeighingLine,
    Withdrawal,
    WithdrawalStatus,
)
from portal.wilayah.models import ADDRESS_COLUMNS

WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAX_LINE_G = 1_000_000  # one tonne of one category from one house is a typing error

# The categories a fresh installation starts with (DOMAIN.md section 4): name as the units say it,
# a starting price in the middle of the published range (Rp per kg, per litre for oil), and the
# CO2e avoided per kg recycled instead of landfilled, in grams. The factors are rounded from the
# US EPA WARM model (v16, recycling vs. landfilling, MTCO2E per short ton x 1.102), the usual
# open source for this; used cooking oil is the avoided diesel of biodiesel made from it (about
# 2.5 kg CO2e per litre, ISCC-style default). They are indicative and admins can edit them.
CATEGORIES: list[dict[str, Any]] = [
    {"slug": "pet", "name": "Botol PET bersih (tanpa tutup/label)", "price": 3500, "co2e": 1240},
    {"slug": "gelas-pp", "name": "Gelas plastik (PP)", "price": 3500, "co2e": 1000},
    {"slug": "tutup-botol", "name": "Tutup botol / tutup galon", "price": 2500, "co2e": 1000},
    {"slug": "hdpe", "name": "HDPE (botol sampo/deterjen, jeriken)", "price": 5000, "co2e": 890},
    {
        "slug": "plastik-keras",
        "name": "Plastik keras campur (wadah PP)",
        "price": 3500,
        "co2e": 1000,
    },
    {
        "slug": "plastik-campur",
        "name": "Plastik campur / kresek / sachet",
        "price": 1000,
        "co2e": 1000,
    },
    {"slug": "kardus", "name": "Kardus", "price": 1100, "co2e": 3460},
    {"slug": "hvs", "name": "Kertas HVS / kantor", "price": 1300, "co2e": 3150},
    {"slug": "koran", "name": "Koran", "price": 1300, "co2e": 2990},
    {"slug": "duplex", "name": "Duplex (karton tipis berwarna)", "price": 450, "co2e": 3460},
    {"slug": "besi", "name": "Besi", "price": 2800, "co2e": 2020},
    {"slug": "kaleng", "name": "Kaleng", "price": 1800, "co2e": 2020},
    {"slug": "aluminium", "name": "Aluminium", "price": 7500, "co2e": 10070},
    {"slug": "tembaga", "name": "Tembaga", "price": 52000, "co2e": 4950},
    {"slug": "botol-kaca", "name": "Botol kaca", "price": 250, "co2e": 310},
    {
        "slug": "minyak-jelantah",
        "name": "Minyak jelantah",
        "price": 4500,
        "co2e": 2500,
        "measure": Measure.LITRE,
    },
]


# --- arithmetic -------------------------------------------------------------------------------


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves up (both >= 0)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def line_amounts(weight_g: int, unit_price: int, share_pct: int) -> tuple[int, int]:
    """(value, resident share) of one weighing line in rupiah; see the module docstring."""
    return (
        round_half_up(weight_g * unit_price, 1000),
        round_half_up(weight_g * unit_price * share_pct, 100_000),
    )


def kg_to_grams(value: Any) -> int:
    """A weight typed in kg (0.1 kg steps, comma or dot) as integer grams; refuses anything else."""
    text = str(value).strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,4}(\.\d)?", text):
        raise ValueError(text)
    whole, _sep, tenth = text.partition(".")
    return int(whole) * 1000 + int(tenth or 0) * 100


def format_weight(grams: int, measure: Measure | str = Measure.KG) -> str:
    """1500 -> "1,5 kg" (Indonesian decimal comma), or litres for oil."""
    measure = Measure(measure)
    whole, rest = divmod(int(grams), 1000)
    text = f"{whole:,}".replace(",", ".")
    if rest:
        text += "," + f"{rest:03d}".rstrip("0")
    return f"{text} {measure.symbol}"


def format_total(lines: Iterable[Any]) -> str:
    """The total of weighing or quote lines: "3,8 kg", or "3,8 kg + 2 L" when oil is in it.

    Kilograms and litres are not added together; each measure gets its own total.
    """
    totals: dict[Measure, int] = {}
    for line in lines:
        measure = Measure(line.category.measure)
        totals[measure] = totals.get(measure, 0) + line.weight_g
    if not totals:
        return format_weight(0)
    return " + ".join(format_weight(g, m) for m, g in sorted(totals.items()))


# --- categories, units and prices -----------------------------------------------------------


def seed_categories() -> int:
    """Add the default categories that are missing. Idempotent."""
    existing = set(db.session.scalars(select(WasteCategory.slug)))
    added = 0
    for position, data in enumerate(CATEGORIES):
        if data["slug"] not in existing:
            db.session.add(
                WasteCategory(
                    slug=data["slug"],
                    name=data["name"],
                    measure=data.get("measure", Measure.KG),
                    co2e_g_per_unit=data["co2e"],
                    position=position,
                )
            )
            added += 1
    db.session.flush()
    return added


def default_price(category: WasteCategory) -> int | None:
    for data in CATEGORIES:
        if data["slug"] == category.slug:
            return int(data["price"])
    return None


def active_categories() -> list[WasteCategory]:
    return list(
        db.session.scalars(
            select(WasteCategory)
            .where(WasteCategory.is_active.is_(True))
            .order_by(WasteCategory.position, WasteCategory.name)
        )
    )


def all_categories() -> list[WasteCategory]:
    return list(
        db.session.scalars(
            select(WasteCategory).order_by(WasteCategory.position, WasteCategory.name)
        )
    )


def save_category(category: WasteCategory | None, **data: Any) -> WasteCategory:
    """Create or update a category; the slug stays unique."""
    slug = data.get("slug") or (category.slug if category else None)
    clash = db.session.scalar(select(WasteCategory).where(WasteCategory.slug == slug))
    if clash is not None and clash is not category:
        raise DomainError("slug", _("Another category already uses this short name"))
    if category is None:
        position = db.session.scalar(select(func.max(WasteCategory.position))) or 0
        category = WasteCategory(position=position + 1)
        db.session.add(category)
    for key, value in data.items():
        setattr(category, key, value)
    db.session.flush()
    return category


def parse_windows(text: str) -> list[str]:
    """Time windows typed one per line or comma-separated, as "08:00-10:00"."""
    windows = [w.strip().replace(" ", "").replace(".", ":") for w in re.split(r"[,\n]", text or "")]
    windows = [w for w in windows if w]
    for window in windows:
        match = WINDOW_RE.match(window)
        if match is None or window[:5] >= window[6:]:
            raise DomainError(
                "time_windows",
                _("Write each time window as start-end, for example 08:00-10:00"),
            )
    if not windows:
        raise DomainError("time_windows", _("Give at least one pickup time window"))
    if len(set(windows)) != len(windows):
        raise DomainError("time_windows", _("Each time window may appear only once"))
    return sorted(windows)


def save_unit(unit: WasteUnit | None, actor: User, **data: Any) -> WasteUnit:
    """Create or update a waste unit (admins; an officer for their own unit)."""
    name = (data.get("name") or "").strip()
    clash = db.session.scalar(select(WasteUnit).where(func.lower(WasteUnit.name) == name.lower()))
    if clash is not None and clash is not unit:
        raise DomainError("name", _("Another unit already has this name"))
    days = sorted({int(d) for d in data.pop("pickup_days", [])})
    if not days or any(d < 0 or d > 6 for d in days):
        raise DomainError("pickup_days", _("Choose at least one pickup day"))
    windows = data.pop("time_windows")
    windows = (
        parse_windows(windows) if isinstance(windows, str) else parse_windows("\n".join(windows))
    )
    if data.get("phone"):
        phone = normalize_phone(data["phone"])
        if phone is None:
            raise DomainError("phone", _("Enter a valid Indonesian phone number"))
        data["phone"] = phone
    point = _unit_point_from(data)
    if point is None:
        raise DomainError("desa_code", _("Choose the unit's kecamatan and desa/kelurahan"))
    created = unit is None
    if unit is None:
        unit = WasteUnit()
        db.session.add(unit)
    unit.pickup_days = days
    unit.time_windows = windows
    for key, value in data.items():
        setattr(unit, key, value)
    db.session.flush()
    record_audit(
        "jm_unit_created" if created else "jm_unit_changed",
        actor=actor,
        unit_id=unit.id,
        name=unit.name,
    )
    return unit


def _unit_point_from(data: dict[str, Any]) -> Point | None:
    if data.get("latitude") is not None and data.get("longitude") is not None:
        return Point(float(data["latitude"]), float(data["longitude"]))
    return gazetteer_point(data.get("desa_code"), data.get("kecamatan_code"))


def unit_point(unit: WasteUnit) -> Point | None:
    """Where the unit is: its pin, else the centroid of its desa."""
    if unit.has_pin:
        return Point(unit.latitude, unit.longitude)  # type: ignore[arg-type]
    return gazetteer_point(unit.desa_code, unit.kecamatan_code)


def all_units(active_only: bool = False) -> list[WasteUnit]:
    """Units by name, with their desa and kecamatan loaded in the same round (no N+1).

    `unit_point` and the gazetteer find a loaded desa in the session's identity map, so
    `units_by_distance` makes the same few queries however many units there are.
    """
    stmt = (
        select(WasteUnit)
        .options(selectinload(WasteUnit.desa), selectinload(WasteUnit.kecamatan))
        .order_by(WasteUnit.name)
    )
    if active_only:
        stmt = stmt.where(WasteUnit.is_active.is_(True))
    return list(db.session.scalars(stmt))


def officer_unit(user: User) -> WasteUnit | None:
    """The unit a waste officer belongs to (the scope of their grant), or None."""
    for grant in user.grants:
        if grant.role == Role.WASTE_OFFICER and grant.scope.isdigit():
            return db.session.get(WasteUnit, int(grant.scope))
    return None


def can_manage_unit(user: User, unit: WasteUnit) -> bool:
    return user.has_role(Role.ADMIN) or user.has_role(Role.WASTE_OFFICER, scope=unit.scope)


def unit_officer_counts() -> dict[int, int]:
    """{unit_id: number of active officers}, for the admin's list of units in one query."""
    rows = db.session.execute(
        select(RoleGrant.scope, func.count(RoleGrant.id))
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == Role.WASTE_OFFICER, User.is_disabled.is_(False))
        .group_by(RoleGrant.scope)
    ).all()
    return {int(scope): count for scope, count in rows if scope.isdigit()}


def unit_officers(unit: WasteUnit) -> list[User]:
    """The collectors of a unit: its officers, active ones only."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == Role.WASTE_OFFICER,
                RoleGrant.scope == unit.scope,
                User.is_disabled.is_(False),
            )
            .order_by(User.full_name)
        )
    )


def current_prices(
    unit_ids: Sequence[int], at: dt.datetime | None = None
) -> dict[int, dict[int, Price]]:
    """{unit_id: {category_id: Price}} in force at `at` (now), for many units in one query.

    A price of None means the unit stopped buying that category, so it is left out.
    """
    if not unit_ids:
        return {}
    at = at or utcnow()
    latest = (
        select(
            Price.unit_id,
            Price.category_id,
            func.max(Price.effective_at).label("effective_at"),
        )
        .where(Price.unit_id.in_(unit_ids), Price.effective_at <= at)
        .group_by(Price.unit_id, Price.category_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(Price)
        .join(
            latest,
            (Price.unit_id == latest.c.unit_id)
            & (Price.category_id == latest.c.category_id)
            & (Price.effective_at == latest.c.effective_at),
        )
        .order_by(Price.id)
    )
    prices: dict[int, dict[int, Price]] = {uid: {} for uid in unit_ids}
    for price in rows:  # two rows with one effective time: the later-made one wins
        prices[price.unit_id][price.category_id] = price
    return {
        uid: {cid: p for cid, p in by_cat.items() if p.price is not None}
        for uid, by_cat in prices.items()
    }


def unit_prices(unit: WasteUnit, at: dt.datetime | None = None) -> dict[int, Price]:
    return current_prices([unit.id], at)[unit.id]


def set_price(
    unit: WasteUnit,
    category: WasteCategory,
    price: int | None,
    actor: User,
    effective_at: dt.datetime | None = None,
) -> Price:
    """A new price for a category from `effective_at` (now); the old price stays on record."""
    now = utcnow()
    effective_at = as_utc(effective_at) if effective_at else now
    if effective_at < now - dt.timedelta(minutes=5):
        raise DomainError("effective_at", _("A price change cannot take effect in the past"))
    if price is not None and (price < 0 or price > 1_000_000):
        raise DomainError("price", _("Enter a price between Rp 0 and Rp 1.000.000"))
    current = unit_prices(unit, effective_at).get(category.id)
    if (current.price if current else None) == price:
        raise DomainError("price", _("This is already the price in force"))
    row = Price(
        unit_id=unit.id,
        category_id=category.id,
        price=price,
        effective_at=effective_at,
        created_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    record_audit(
        "jm_price_changed",
        actor=actor,
        unit_id=unit.id,
        category=category.slug,
        old=current.price if current else None,
        new=price,
    )
    return row


def price_history(unit: WasteUnit, limit: int = 100) -> list[Price]:
    return list(
        db.session.scalars(
            select(Price)
            .where(Price.unit_id == unit.id)
            .options(selectinload(Price.category), selectinload(Price.created_by))
            .order_by(Price.effective_at.desc(), Price.id.desc())
            .limit(limit)
        )
    )


def seed_unit_prices(unit: WasteUnit, actor: User | None, at: dt.datetime | None = None) -> int:
    """Give a new unit the default starting prices (it edits them afterwards)."""
    at = at or utcnow()
    have = unit_prices(unit, at)
    added = 0
    for category in active_categories():
        if category.id not in have and (value := default_price(category)) is not None:
            db.session.add(
                Price(
                    unit_id=unit.id,
                    category_id=category.id,
                    price=value,
                    effective_at=at,
                    created_by_id=actor.id if actor else None,
                )
            )
            added += 1
    db.session.flush()
    return added


# --- coverage ---------------------------------------------------------------------------------


def address_point(address: dict[str, Any]) -> Point | None:
    """The point a pickup goes to: the map pin when given, else the desa centroid."""
    if address.get("latitude") is not None and address.get("longitude") is not None:
        return Point(float(address["latitude"]), float(address["longitude"]))
    return gazetteer_point(address.get("desa_code"), address.get("kecamatan_code"))


def units_by_distance(point: Point) -> list[tuple[WasteUnit, float]]:
    """Active units nearest first, with the geodesic distance in km."""
    found = []
    for unit in all_units(active_only=True):
        where = unit_point(unit)
        if where is not None:
            found.append((unit, distance_km(point, where)))
    found.sort(key=lambda pair: (pair[1], pair[0].name))
    return found


def covering_units(point: Point) -> list[tuple[WasteUnit, float]]:
    """Units whose service radius covers the point, nearest first (the first is proposed)."""
    return [(unit, km) for unit, km in units_by_distance(point) if km <= unit.radius_km]


def pickup_days_ahead(
    unit: WasteUnit, count: int = 10, today: dt.date | None = None
) -> list[dt.date]:
    """The unit's next pickup dates from tomorrow on (a same-day pickup cannot be planned)."""
    day = (today or today_wib()) + dt.timedelta(days=1)
    days: list[dt.date] = []
    if not unit.pickup_days:
        return days
    while len(days) < count:
        if day.weekday() in unit.pickup_days:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


# --- pickups: the resident --------------------------------------------------------------------


def request_pickup(
    resident: User,
    unit: WasteUnit,
    *,
    address: dict[str, Any],
    estimates: dict[int, int],
    preferred_date: dt.date,
    window: str,
    note: str = "",
    photo: CheckedUpload | None = None,
    assisted_by: User | None = None,
    today: dt.date | None = None,
) -> Pickup:
    """File a pickup with one unit that covers the address, on one of its days and windows."""
    today = today or today_wib()
    if not unit.is_active:
        raise DomainError("unit_id", _("This unit is not taking pickups at the moment"))
    if not address.get("desa_code") or not address.get("street"):
        raise DomainError("street", _("Enter the street and house number for the pickup"))
    point = address_point(address)
    if point is None:
        raise DomainError("desa_code", _("Choose the kecamatan and desa/kelurahan"))
    where = unit_point(unit)
    km = distance_km(point, where) if where is not None else None
    if km is None or km > unit.radius_km:
        raise DomainError(
            "unit_id",
            _("%(unit)s does not collect at this address. Choose another unit.", unit=unit.name),
        )
    if preferred_date <= today:
        raise DomainError("preferred_date", _("Choose a date from tomorrow on"))
    if preferred_date.weekday() not in unit.pickup_days:
        raise DomainError(
            "preferred_date",
            _(
                "%(unit)s collects only on %(days)s",
                unit=unit.name,
                days=", ".join(unit.pickup_day_labels),
            ),
        )
    if window not in unit.time_windows:
        raise DomainError("window", _("Choose one of the unit's time windows"))
    prices = unit_prices(unit)
    lines = {cid: grams for cid, grams in estimates.items() if grams}
    if not lines:
        raise DomainError("estimates", _("Enter the estimated weight of at least one category"))
    if any(cid not in prices for cid in lines):
        raise DomainError("estimates", _("The unit does not buy one of the categories you chose"))
    if any(grams < 0 or grams > MAX_LINE_G for grams in lines.values()):
        raise DomainError("estimates", _("Enter weights between 0,1 and 1000 kg"))
    total = sum(lines.values())
    if total < unit.min_weight_g:
        raise DomainError(
            "estimates",
            _(
                "%(unit)s collects at least %(min)s per pickup; you entered %(total)s.",
                unit=unit.name,
                min=format_weight(unit.min_weight_g),
                total=format_weight(total),
            ),
        )
    pickup = Pickup(
        user=resident,
        unit=unit,
        status=PickupStatus.REQUESTED,
        preferred_date=preferred_date,
        preferred_window=window,
        distance_km=round(km, 2),
        resident_note=(note or "").strip(),
        assisted_by=assisted_by,
        assisted_consent_at=utcnow() if assisted_by is not None else None,
        **{column: address.get(column) for column in ADDRESS_COLUMNS},
    )
    for cid, grams in lines.items():
        pickup.estimates.append(PickupEstimate(category_id=cid, weight_g=grams))
    if photo is not None:
        pickup.photo_key = get_storage().save(photo.data, photo.extension, namespace="jumpa_madu")
        pickup.photo_type = photo.content_type
    pickup.events.append(
        PickupEvent(
            from_status=PickupStatus.REQUESTED,
            to_status=PickupStatus.REQUESTED,
            actor_id=(assisted_by or resident).id,
            actor_kind=Actor.OFFICER if assisted_by else Actor.RESIDENT,
            note=_stored(lambda: _("Filed at the unit's counter")) if assisted_by else "",
        )
    )
    db.session.add(pickup)
    _flush()
    if assisted_by is not None:
        record_audit(
            "jm_assisted_pickup", actor=assisted_by, target_user=resident, pickup_id=pickup.id
        )
    for officer in unit_officers(unit):
        from portal.core.notifications import notify

        notify(
            officer.id,
            _stored(lambda: _("New pickup %(code)s", code=pickup.code)),
            _stored(
                lambda: _(
                    "Preferred: %(day)s, %(window)s", day=format_day(preferred_date), window=window
                )
            ),
            url_for("jumpa_madu_officer.pickup_show", pickup_id=pickup.id),
        )
    return pickup


def cancel_pickup(pickup: Pickup, actor: User, reason: str = "") -> PickupEvent:
    """The resident cancels before the collector sets off; an officer may, with a reason."""
    if actor.id == pickup.user_id and not _is_unit_officer(actor, pickup.unit):
        if pickup.status not in RESIDENT_CANCELLABLE:
            raise DomainError(
                None,
                _("The collector is already on the way; the pickup can no longer be cancelled."),
            )
        event = pickup.move_to(PickupStatus.CANCELLED, actor=actor, as_=Actor.RESIDENT, note=reason)
        _flush()
        return event
    _require_unit_officer(actor, pickup.unit)
    if not reason.strip():
        raise DomainError("note", _("Tell the resident why the pickup is cancelled"))
    event = pickup.move_to(PickupStatus.CANCELLED, actor=actor, as_=Actor.OFFICER, note=reason)
    _announce(pickup, event, actor)
    return event


def user_pickups(user: User, limit: int = 50) -> list[Pickup]:
    return list(
        db.session.scalars(
            select(Pickup)
            .where(Pickup.user_id == user.id)
            .options(selectinload(Pickup.unit), selectinload(Pickup.estimates))
            .order_by(Pickup.created_at.desc(), Pickup.id.desc())
            .limit(limit)
        )
    )


def confirm_weighing(pickup: Pickup, resident: User) -> PickupEvent:
    """The resident accepts the weighing: the resident's share is credited to the wallet, once."""
    if resident.id != pickup.user_id:
        raise DomainError(None, _("Only the resident can confirm their weighing."))
    if pickup.status == PickupStatus.CONFIRMED:
        raise DomainError(None, _("This weighing is already confirmed and paid into your wallet."))
    event = pickup.move_to(PickupStatus.CONFIRMED, actor=resident, as_=Actor.RESIDENT)
    _credit(pickup, resident)
    _flush()
    return event


def dispute_weighing(
    pickup: Pickup, resident: User, reason: str, now: dt.datetime | None = None
) -> PickupEvent:
    """The resident disagrees with the weighing, within the confirmation period."""
    if resident.id != pickup.user_id:
        raise DomainError(None, _("Only the resident can dispute their weighing."))
    if not (reason or "").strip():
        raise DomainError("reason", _("Say what is wrong with the weighing"))
    now = now or utcnow()
    if (
        pickup.status == PickupStatus.WEIGHED
        and pickup.confirm_due_at
        and as_utc(pickup.confirm_due_at) <= now
    ):
        raise DomainError(None, _("The time to dispute this weighing has passed."))
    event = pickup.move_to(PickupStatus.DISPUTED, actor=resident, as_=Actor.RESIDENT, note=reason)
    pickup.dispute_reason = reason.strip()
    _flush()
    for officer in unit_officers(pickup.unit):
        from portal.core.notifications import notify

        notify(
            officer.id,
            _stored(lambda: _("Weighing disputed: %(code)s", code=pickup.code)),
            reason.strip(),
            url_for("jumpa_madu_officer.pickup_show", pickup_id=pickup.id),
        )
    return event


def confirm_due(now: dt.datetime | None = None) -> int:
    """Confirm every weighing whose confirmation period has passed without a dispute.

    Idempotent and safe to run from cron every few minutes, even twice at once: each pickup is
    confirmed in its own savepoint, a lost race (the other run, or the resident confirming at
    that moment) is skipped, and the credit's unique key means money moves once whatever happens.
    """
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            select(Pickup.id)
            .where(Pickup.status == PickupStatus.WEIGHED, Pickup.confirm_due_at <= now)
            .order_by(Pickup.id)
        )
    )
    done = 0
    for pickup_id in ids:
        try:
            with db.session.begin_nested():
                pickup = db.session.get(Pickup, pickup_id, populate_existing=True)
                if pickup is None or pickup.status != PickupStatus.WEIGHED:
                    continue
                note = _stored(
                    lambda: _("Confirmed automatically: no answer within the confirmation period")
                )
                event = pickup.move_to(
                    PickupStatus.CONFIRMED, actor=None, as_=Actor.SYSTEM, note=note
                )
                _credit(pickup, None)
                db.session.flush()
                _tell_resident(pickup, event)
            done += 1
        except (DomainError, StaleDataError):
            continue
    return done


# --- pickups: the unit officer ----------------------------------------------------------------


def schedule_pickup(
    pickup: Pickup,
    officer: User,
    *,
    day: dt.date,
    window: str,
    collector: User | None,
    today: dt.date | None = None,
) -> PickupEvent:
    """Accept (or reschedule) a pickup: date, time window and the collector who goes."""
    _require_unit_officer(officer, pickup.unit)
    if day < (today or today_wib()):
        raise DomainError("day", _("Choose today or a later date"))
    if not window:
        raise DomainError("window", _("Choose a time window"))
    if collector is not None and not _is_unit_officer(collector, pickup.unit, strict=True):
        raise DomainError("collector_id", _("The collector must be an officer of this unit"))
    event = pickup.move_to(
        PickupStatus.SCHEDULED,
        actor=officer,
        as_=Actor.OFFICER,
        note=_stored(
            lambda: _("Pickup on %(day)s, %(window)s", day=format_day(day), window=window)
        ),
    )
    pickup.scheduled_date = day
    pickup.scheduled_window = window
    pickup.collector = collector
    _announce(pickup, event, officer)
    return event


def start_route(pickup: Pickup, officer: User) -> PickupEvent:
    """The collector sets off: from now the resident can no longer cancel."""
    _require_unit_officer(officer, pickup.unit)
    event = pickup.move_to(PickupStatus.ON_THE_WAY, actor=officer, as_=Actor.OFFICER)
    _announce(pickup, event, officer)
    return event


def record_outcome(pickup: Pickup, officer: User, outcome: PickupStatus, note: str) -> PickupEvent:
    """Nobody home, or the waste was not sorted (rejected): always with a note for the resident."""
    _require_unit_officer(officer, pickup.unit)
    if outcome not in (PickupStatus.NOBODY_HOME, PickupStatus.REJECTED):
        raise DomainError("outcome", _("Choose what happened"))
    if not (note or "").strip():
        raise DomainError("note", _("Write a note for the resident"))
    event = pickup.move_to(outcome, actor=officer, as_=Actor.OFFICER, note=note)
    pickup.outcome_note = note.strip()
    _announce(pickup, event, officer)
    return event


@dataclass
class QuoteLine:
    category: WasteCategory
    price: Price
    weight_g: int
    gross_amount: int
    resident_amount: int


@dataclass
class Quote:
    """What a weighing will pay, computed from the prices in force and the unit's share."""

    share_pct: int
    lines: list[QuoteLine] = field(default_factory=list)

    @property
    def gross_amount(self) -> int:
        return sum(line.gross_amount for line in self.lines)

    @property
    def resident_amount(self) -> int:
        return sum(line.resident_amount for line in self.lines)

    @property
    def unit_amount(self) -> int:
        return self.gross_amount - self.resident_amount

    @property
    def total_g(self) -> int:
        return sum(line.weight_g for line in self.lines)


def quote(unit: WasteUnit, weights: dict[int, int], at: dt.datetime | None = None) -> Quote:
    """Price actual weights (grams per category id) with the unit's prices now and its share."""
    prices = unit_prices(unit, at)
    categories = {c.id: c for c in all_categories()}
    result = Quote(share_pct=unit.resident_share_pct)
    for cid, grams in weights.items():
        if not grams:
            continue
        if grams < 0 or grams > MAX_LINE_G:
            raise DomainError("weights", _("Enter weights between 0,1 and 1000 kg"))
        price = prices.get(cid)
        if price is None or cid not in categories:
            raise DomainError("weights", _("The unit does not buy one of these categories"))
        gross, share = line_amounts(grams, price.price or 0, unit.resident_share_pct)
        result.lines.append(QuoteLine(categories[cid], price, grams, gross, share))
    result.lines.sort(key=lambda line: (line.category.position, line.category.name))
    return result


def record_weighing(
    pickup: Pickup,
    officer: User,
    weights: dict[int, int],
    *,
    photos: Iterable[CheckedUpload] = (),
    note: str = "",
    now: dt.datetime | None = None,
) -> Weighing:
    """Record what was weighed at the door (or re-weigh a disputed pickup).

    The prices in force and the unit's share are frozen on the weighing and its lines, so a later
    price change never changes what this pickup pays. The resident then has the confirmation
    period (48 hours) to confirm or dispute.
    """
    _require_unit_officer(officer, pickup.unit)
    now = now or utcnow()
    result = quote(pickup.unit, weights, now)
    if not result.lines:
        raise DomainError("weights", _("Enter the weight of at least one category"))
    reweigh = pickup.status == PickupStatus.DISPUTED
    previous = pickup.current_weighing
    event = pickup.move_to(
        PickupStatus.WEIGHED,
        actor=officer,
        as_=Actor.OFFICER,
        note=_stored(
            lambda: _(
                "%(weight)s, %(amount)s to the resident",
                weight=format_total(result.lines),
                amount=format_rupiah(result.resident_amount),
            )
        ),
    )
    if previous is not None:
        previous.superseded_at = now
    weighing = Weighing(
        number=len(pickup.weighings) + 1,
        resident_share_pct=result.share_pct,
        gross_amount=result.gross_amount,
        resident_amount=result.resident_amount,
        note=(note or "").strip(),
        recorded_by_id=officer.id,
        recorded_at=now,
        photo_keys=[
            get_storage().save(p.data, p.extension, namespace="jumpa_madu") for p in photos
        ],
    )
    for line in result.lines:
        weighing.lines.append(
            WeighingLine(
                category_id=line.category.id,
                price_id=line.price.id,
                weight_g=line.weight_g,
                unit_price=line.price.price or 0,
                gross_amount=line.gross_amount,
                resident_amount=line.resident_amount,
            )
        )
    pickup.weighings.append(weighing)
    pickup.confirm_due_at = now + dt.timedelta(hours=current_app.config["JUMPA_MADU_CONFIRM_HOURS"])
    _announce(pickup, event, officer)
    record_audit(
        "jm_weighing_recorded",
        actor=officer,
        target_user=pickup.user,
        pickup_id=pickup.id,
        number=weighing.number,
        resident_amount=weighing.resident_amount,
        reweigh=reweigh,
    )
    return weighing


def resolve_dispute(pickup: Pickup, officer: User, note: str) -> PickupEvent:
    """Settle a dispute without re-weighing: the weighing stands and is credited, with a note."""
    _require_unit_officer(officer, pickup.unit)
    if not (note or "").strip():
        raise DomainError("note", _("Write the answer to the resident's dispute"))
    event = pickup.move_to(PickupStatus.CONFIRMED, actor=officer, as_=Actor.OFFICER, note=note)
    pickup.outcome_note = note.strip()
    _credit(pickup, officer)
    _announce(pickup, event, officer)
    return event


def _credit(pickup: Pickup, actor: User | None) -> None:
    """Pay the current weighing's resident share into the wallet, exactly once per weighing."""
    weighing = pickup.current_weighing
    if weighing is None:
        raise DomainError(None, _("There is no weighing to confirm."))
    weighing.confirmed_at = utcnow()
    if weighing.resident_amount == 0:
        return
    wallet = ledger.wallet_account(pickup.user)
    payable = ledger.unit_account(AccountKind.UNIT_PAYABLE, pickup.unit_id)
    ledger.post(
        TxnKind.WEIGHING_CREDIT,
        f"weighing:{weighing.id}:credit",
        [(wallet, weighing.resident_amount), (payable, -weighing.resident_amount)],
        description=_stored(
            lambda: _("Waste sold: %(code)s, %(unit)s", code=pickup.code, unit=pickup.unit.name)
        ),
        actor=actor,
        pickup_id=pickup.id,
    )


# --- queues -----------------------------------------------------------------------------------

QUEUE_TABS: dict[str, tuple[PickupStatus, ...]] = {
    "new": (PickupStatus.REQUESTED,),
    "scheduled": (PickupStatus.SCHEDULED, PickupStatus.NOBODY_HOME),
    "on_the_way": (PickupStatus.ON_THE_WAY,),
    "weighed": (PickupStatus.WEIGHED,),
    "disputed": (PickupStatus.DISPUTED,),
    "closed": (PickupStatus.CONFIRMED, PickupStatus.REJECTED, PickupStatus.CANCELLED),
}


def queue_query(unit: WasteUnit, tab: str) -> Select[tuple[Pickup]]:
    statuses = QUEUE_TABS.get(tab, QUEUE_TABS["new"])
    stmt = select(Pickup).where(Pickup.unit_id == unit.id, Pickup.status.in_(statuses))
    if tab == "scheduled":
        return stmt.order_by(Pickup.scheduled_date.nulls_last(), Pickup.scheduled_window, Pickup.id)
    if tab == "closed":
        return stmt.order_by(Pickup.closed_at.desc(), Pickup.id.desc())
    return stmt.order_by(Pickup.created_at, Pickup.id)


def queue_page(
    unit: WasteUnit, tab: str, page: int, per_page: int = 25
) -> tuple[list[Pickup], int]:
    stmt = queue_query(unit, tab)
    # The closed tab holds the unit's whole history: counted up to a cap (portal.core.counts).
    total = capped_count(stmt, list_cap(page, per_page, COUNT_CAP))
    rows = db.session.scalars(
        stmt.options(
            # The queue shows names and phones, never a NIK or a TOTP secret: left encrypted.
            selectinload(Pickup.user).options(defer(User.nik), defer(User.totp_secret)),
            selectinload(Pickup.estimates).selectinload(PickupEstimate.category),
            selectinload(Pickup.desa),
            selectinload(Pickup.collector).options(defer(User.nik), defer(User.totp_secret)),
        )
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    return list(rows), total or 0


# The tab whose count only grows with the unit's history; the others are its open work.
HISTORY_TAB = "closed"


def queue_counts(unit: WasteUnit) -> dict[str, int]:
    """Pickups per tab in two queries: open tabs exactly, the closed tab up to COUNT_CAP + 1."""
    open_statuses = [s for tab, group in QUEUE_TABS.items() if tab != HISTORY_TAB for s in group]
    by_status = dict(
        db.session.execute(
            select(Pickup.status, func.count(Pickup.id))
            .where(Pickup.unit_id == unit.id, Pickup.status.in_(open_statuses))
            .group_by(Pickup.status)
        ).all()
    )
    counts = {
        tab: sum(by_status.get(s, 0) for s in statuses)
        for tab, statuses in QUEUE_TABS.items()
        if tab != HISTORY_TAB
    }
    counts[HISTORY_TAB] = capped_count(queue_query(unit, HISTORY_TAB), COUNT_CAP)
    return counts


def pickup_point(pickup: Pickup) -> Point | None:
    return address_point(pickup.address_data())


def day_route(unit: WasteUnit, day: dt.date) -> list[tuple[Pickup, Point, float]]:
    """The day's scheduled and on-the-way pickups in nearest-neighbour order from the unit."""
    pickups = db.session.scalars(
        select(Pickup)
        .where(
            Pickup.unit_id == unit.id,
            Pickup.scheduled_date == day,
            Pickup.status.in_((PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY)),
        )
        .options(
            selectinload(Pickup.user),
            selectinload(Pickup.estimates).selectinload(PickupEstimate.category),
        )
        .order_by(Pickup.scheduled_window, Pickup.id)
    )
    stops = [(p, point) for p in pickups if (point := pickup_point(p)) is not None]
    start = unit_point(unit)
    if start is None:
        return [(p, point, 0.0) for p, point in stops]
    return nearest_neighbour_route(start, stops)


def start_assisted_pickup(
    officer: User, phone: str, full_name: str | None, consent: bool
) -> tuple[User, bool]:
    """At the unit's counter: the resident found by phone, or a new account made for them."""
    from portal.accounts import services as accounts

    if officer_unit(officer) is None:
        raise DomainError(None, _("Only a unit's officers file pickups for residents."))
    return accounts.find_or_register_at_counter(phone, full_name, consent)


# --- wallet -----------------------------------------------------------------------------------


@dataclass
class WalletSummary:
    available: int
    pending: int  # weighed, not yet confirmed (or disputed)
    withdrawing: int  # asked for, not yet paid


def wallet_summary(user: User) -> WalletSummary:
    pending = db.session.scalar(
        select(func.coalesce(func.sum(Weighing.resident_amount), 0))
        .join(Pickup, Pickup.id == Weighing.pickup_id)
        .where(
            Pickup.user_id == user.id,
            Pickup.status.in_((PickupStatus.WEIGHED, PickupStatus.DISPUTED)),
            Weighing.superseded_at.is_(None),
        )
    )
    withdrawing = db.session.scalar(
        select(func.coalesce(func.sum(Withdrawal.amount), 0)).where(
            Withdrawal.user_id == user.id,
            Withdrawal.status.in_((WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED)),
        )
    )
    return WalletSummary(ledger.wallet_balance(user.id), int(pending or 0), int(withdrawing or 0))


def wallet_statement(
    user: User, page: int = 1, per_page: int = 50
) -> tuple[list[ledger.StatementLine], int]:
    account_id = db.session.scalar(
        select(ledger.LedgerAccount.id).where(
            ledger.LedgerAccount.key == ledger.wallet_key(user.id)
        )
    )
    if account_id is None:
        return [], 0
    return ledger.statement(account_id, page=page, per_page=per_page)


@dataclass
class MonthTotal:
    month: dt.date  # first day of the month (WIB)
    earned: int
    withdrawn: int


def monthly_totals(
    user: User, months: int = 12, today: dt.date | None = None
) -> list[MonthTotal]:
    """Per month (WIB), what came in from sold waste and what went out in withdrawals.

    Only the entries of the months shown are read: the whole history made the wallet page
    slower with each year of pickups.
    """
    first = (today or today_wib()).replace(day=1)
    for _month in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    since, _end = wib_day_bounds(first)
    rows = db.session.execute(
        select(
            ledger.LedgerEntry.created_at, ledger.LedgerEntry.amount, ledger.LedgerTransaction.kind
        )
        .join(
            ledger.LedgerTransaction,
            ledger.LedgerTransaction.id == ledger.LedgerEntry.transaction_id,
        )
        .join(ledger.LedgerAccount, ledger.LedgerAccount.id == ledger.LedgerEntry.account_id)
        .where(
            ledger.LedgerAccount.key == ledger.wallet_key(user.id),
            ledger.LedgerEntry.created_at >= since,
        )
    ).all()
    earned: dict[dt.date, int] = defaultdict(int)
    out: dict[dt.date, int] = defaultdict(int)
    for created_at, amount, kind in rows:
        month = wib_date(created_at).replace(day=1)
        if kind == TxnKind.WEIGHING_CREDIT:
            earned[month] += amount
        elif kind in (TxnKind.WITHDRAWAL_HOLD, TxnKind.WITHDRAWAL_RELEASED):
            out[month] -= amount
        else:
            earned[month] += amount
    keys = sorted(set(earned) | set(out), reverse=True)[:months]
    return [MonthTotal(k, earned[k], out[k]) for k in keys]


@dataclass
class ImpactLine:
    category: WasteCategory
    grams: int

    @property
    def co2e_g(self) -> int:
        return round_half_up(self.grams * self.category.co2e_g_per_unit, 1000)


def impact(user: User) -> list[ImpactLine]:
    """Kg (litres) sold per category over confirmed pickups, for the impact panel."""
    rows = db.session.execute(
        select(WeighingLine.category_id, func.sum(WeighingLine.weight_g))
        .join(Weighing, Weighing.id == WeighingLine.weighing_id)
        .join(Pickup, Pickup.id == Weighing.pickup_id)
        .where(
            Pickup.user_id == user.id,
            Pickup.status == PickupStatus.CONFIRMED,
            Weighing.superseded_at.is_(None),
        )
        .group_by(WeighingLine.category_id)
    ).all()
    categories = {c.id: c for c in all_categories()}
    lines = [ImpactLine(categories[cid], int(grams)) for cid, grams in rows if cid in categories]
    lines.sort(key=lambda line: -line.grams)
    return lines


# --- withdrawals ------------------------------------------------------------------------------


def request_withdrawal(
    resident: User,
    unit: WasteUnit,
    amount: int,
    method: PayoutMethod,
    *,
    bank_name: str | None = None,
    account_number: str | None = None,
    account_holder: str | None = None,
    ewallet_provider: str | None = None,
    ewallet_number: str | None = None,
) -> Withdrawal:
    """Ask a unit to pay out wallet money. The amount is held at once, so it cannot be spent twice.

    The hold is the wallet's conditional update in `ledger.post`: of any number of requests racing
    for the same balance, only those that fit go through.
    """
    minimum = current_app.config["JUMPA_MADU_MIN_WITHDRAWAL"]
    if amount < minimum:
        raise DomainError(
            "amount", _("The smallest withdrawal is %(min)s", min=format_rupiah(minimum))
        )
    if not unit.is_active:
        raise DomainError("unit_id", _("This unit is not paying out at the moment"))
    withdrawal = Withdrawal(user=resident, unit=unit, amount=amount, method=method)
    if method is PayoutMethod.BANK:
        number = re.sub(r"[\s.-]", "", account_number or "")
        if not bank_name:
            raise DomainError("bank_name", _("Enter the bank's name"))
        if not re.fullmatch(r"\d{6,20}", number):
            raise DomainError("account_number", _("Enter the account number: 6 to 20 digits"))
        if not account_holder:
            raise DomainError("account_holder", _("Enter the account holder's name"))
        withdrawal.bank_name, withdrawal.account_number = bank_name, number
        withdrawal.account_holder = account_holder
    elif method is PayoutMethod.EWALLET:
        if ewallet_provider not in EWALLET_PROVIDERS:
            raise DomainError("ewallet_provider", _("Choose the e-wallet"))
        phone = normalize_phone(ewallet_number or "")
        if phone is None:
            raise DomainError("ewallet_number", _("Enter the phone number of the e-wallet"))
        withdrawal.ewallet_provider, withdrawal.ewallet_number = ewallet_provider, phone
    db.session.add(withdrawal)
    db.session.flush()
    wallet = ledger.wallet_account(resident)
    hold = ledger.unit_account(AccountKind.WITHDRAWAL_HOLD, unit.id)
    ledger.post(
        TxnKind.WITHDRAWAL_HOLD,
        f"withdrawal:{withdrawal.id}:hold",
        [(wallet, -amount), (hold, amount)],
        description=_stored(
            lambda: _("Withdrawal %(code)s: %(method)s", code=withdrawal.code, method=method.label)
        ),
        actor=resident,
        withdrawal_id=withdrawal.id,
    )
    for officer in unit_officers(unit):
        from portal.core.notifications import notify

        notify(
            officer.id,
            _stored(lambda: _("Withdrawal requested: %(code)s", code=withdrawal.code)),
            format_rupiah(amount),
            url_for("jumpa_madu_officer.withdrawal_index"),
        )
    return withdrawal


def approve_withdrawal(withdrawal: Withdrawal, officer: User) -> None:
    _require_unit_officer(officer, withdrawal.unit)
    withdrawal.move_to(WithdrawalStatus.APPROVED)
    withdrawal.decided_at, withdrawal.decided_by = utcnow(), officer
    _flush()
    _announce_withdrawal(withdrawal, officer, "jm_withdrawal_approved")


def reject_withdrawal(withdrawal: Withdrawal, officer: User, reason: str) -> None:
    """Refuse a withdrawal; the held money goes back to the wallet in the same transaction."""
    _require_unit_officer(officer, withdrawal.unit)
    if not (reason or "").strip():
        raise DomainError("reason", _("Tell the resident why the withdrawal is rejected"))
    withdrawal.move_to(WithdrawalStatus.REJECTED)
    withdrawal.decided_at, withdrawal.decided_by = utcnow(), officer
    withdrawal.reject_reason = reason.strip()
    _flush()
    wallet = ledger.wallet_account(withdrawal.user)
    hold = ledger.unit_account(AccountKind.WITHDRAWAL_HOLD, withdrawal.unit_id)
    ledger.post(
        TxnKind.WITHDRAWAL_RELEASED,
        f"withdrawal:{withdrawal.id}:release",
        [(hold, -withdrawal.amount), (wallet, withdrawal.amount)],
        description=_stored(
            lambda: _(
                "Withdrawal %(code)s rejected: %(reason)s",
                code=withdrawal.code,
                reason=reason.strip(),
            )
        ),
        actor=officer,
        withdrawal_id=withdrawal.id,
    )
    _announce_withdrawal(withdrawal, officer, "jm_withdrawal_rejected")


def pay_withdrawal(withdrawal: Withdrawal, officer: User, reference: str) -> None:
    """The unit paid: cash receipt number or transfer reference, and the hold is settled."""
    _require_unit_officer(officer, withdrawal.unit)
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("reference", _("Enter the receipt number or transfer reference"))
    withdrawal.move_to(WithdrawalStatus.PAID)
    withdrawal.paid_at, withdrawal.paid_by, withdrawal.reference = utcnow(), officer, reference
    _flush()
    hold = ledger.unit_account(AccountKind.WITHDRAWAL_HOLD, withdrawal.unit_id)
    payable = ledger.unit_account(AccountKind.UNIT_PAYABLE, withdrawal.unit_id)
    ledger.post(
        TxnKind.WITHDRAWAL_PAID,
        f"withdrawal:{withdrawal.id}:paid",
        [(hold, -withdrawal.amount), (payable, withdrawal.amount)],
        description=_stored(
            lambda: _(
                "Withdrawal %(code)s paid, reference %(ref)s", code=withdrawal.code, ref=reference
            )
        ),
        actor=officer,
        withdrawal_id=withdrawal.id,
    )
    _announce_withdrawal(withdrawal, officer, "jm_withdrawal_paid")


def user_withdrawals(user: User, limit: int = 50) -> list[Withdrawal]:
    return list(
        db.session.scalars(
            select(Withdrawal)
            .where(Withdrawal.user_id == user.id)
            .options(selectinload(Withdrawal.unit))
            .order_by(Withdrawal.requested_at.desc(), Withdrawal.id.desc())
            .limit(limit)
        )
    )


def unit_withdrawals(
    unit: WasteUnit, statuses: Sequence[WithdrawalStatus], limit: int = 100
) -> list[Withdrawal]:
    return list(
        db.session.scalars(
            select(Withdrawal)
            .where(Withdrawal.unit_id == unit.id, Withdrawal.status.in_(statuses))
            .options(selectinload(Withdrawal.user))
            .order_by(Withdrawal.requested_at, Withdrawal.id)
            .limit(limit)
        )
    )


def recent_unit_withdrawals(unit: WasteUnit, limit: int = 20) -> list[Withdrawal]:
    """The unit's latest paid or rejected withdrawals, newest decision first (officer's history)."""
    decided = func.coalesce(Withdrawal.paid_at, Withdrawal.decided_at, Withdrawal.requested_at)
    return list(
        db.session.scalars(
            select(Withdrawal)
            .where(
                Withdrawal.unit_id == unit.id,
                Withdrawal.status.in_((WithdrawalStatus.PAID, WithdrawalStatus.REJECTED)),
            )
            .options(selectinload(Withdrawal.user))
            .order_by(decided.desc(), Withdrawal.id.desc())
            .limit(limit)
        )
    )


def withdrawal_units(user: User) -> list[WasteUnit]:
    """Units a resident may withdraw at: those they sold to first, then every other active unit."""
    used = list(
        db.session.scalars(
            select(WasteUnit)
            .join(Pickup, Pickup.unit_id == WasteUnit.id)
            .where(Pickup.user_id == user.id, WasteUnit.is_active.is_(True))
            .group_by(WasteUnit.id)
            .order_by(func.max(Pickup.created_at).desc())
        )
    )
    others = [u for u in all_units(active_only=True) if u not in used]
    return used + others


@dataclass
class CashReport:
    unit: WasteUnit
    day: dt.date
    paid: list[Withdrawal]
    by_method: dict[PayoutMethod, int]
    credited: int  # resident shares credited that day for pickups of this unit

    @property
    def total_paid(self) -> int:
        return sum(self.by_method.values())


def cash_report(unit: WasteUnit, day: dt.date) -> CashReport:
    """One WIB day at a unit: withdrawals paid (by method, with references) and credits made."""
    start, end = wib_day_bounds(day)
    paid = list(
        db.session.scalars(
            select(Withdrawal)
            .where(
                Withdrawal.unit_id == unit.id,
                Withdrawal.status == WithdrawalStatus.PAID,
                Withdrawal.paid_at >= start,
                Withdrawal.paid_at < end,
            )
            .options(selectinload(Withdrawal.user), selectinload(Withdrawal.paid_by))
            .order_by(Withdrawal.paid_at)
        )
    )
    by_method: dict[PayoutMethod, int] = {m: 0 for m in PayoutMethod}
    for w in paid:
        by_method[w.method] += w.amount
    credited = db.session.scalar(
        select(func.coalesce(func.sum(ledger.LedgerEntry.amount), 0))
        .join(
            ledger.LedgerTransaction,
            ledger.LedgerTransaction.id == ledger.LedgerEntry.transaction_id,
        )
        .join(ledger.LedgerAccount, ledger.LedgerAccount.id == ledger.LedgerEntry.account_id)
        .where(
            ledger.LedgerTransaction.kind == TxnKind.WEIGHING_CREDIT,
            ledger.LedgerAccount.key == ledger.unit_key(AccountKind.UNIT_PAYABLE, unit.id),
            ledger.LedgerEntry.created_at >= start,
            ledger.LedgerEntry.created_at < end,
        )
    )
    return CashReport(unit, day, paid, by_method, -int(credited or 0))


# --- internals --------------------------------------------------------------------------------


def _is_unit_officer(user: User, unit: WasteUnit, strict: bool = False) -> bool:
    """An officer of this unit (or, unless `strict`, an admin acting for any unit)."""
    if user.has_role(Role.WASTE_OFFICER, scope=unit.scope):
        return True
    return not strict and user.has_role(Role.ADMIN)


def _require_unit_officer(user: User, unit: WasteUnit) -> None:
    if not _is_unit_officer(user, unit):
        raise DomainError(None, _("Only an officer of %(unit)s can do this.", unit=unit.name))


def _flush() -> None:
    """Flush, turning a lost race (someone else changed the record) into a clear refusal."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise DomainError(
            None, _("Someone else changed this at the same time. Reload the page and try again.")
        ) from exc


def _stored(make: Callable[[], str]) -> str:
    """Text written into a record is in Indonesian (the default), whoever's browser asked."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(make())


def _announce(pickup: Pickup, event: PickupEvent, actor: User) -> None:
    """After an office-side move: flush (refusing a lost race) and tell the resident."""
    _flush()
    _tell_resident(pickup, event)


def _tell_resident(pickup: Pickup, event: PickupEvent) -> None:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        title = _("Pickup %(code)s: %(status)s", code=pickup.code, status=event.to_status.label)
        parts = [event.note, str(PICKUP_NEXT_STEPS.get(event.to_status, ""))]
        body = "\n\n".join(p for p in parts if p)
        tell(
            pickup.user,
            title,
            body,
            url_for("jumpa_madu.pickup_show", pickup_id=pickup.id),
            url_for("jumpa_madu.pickup_show", pickup_id=pickup.id, _external=True),
        )


def _announce_withdrawal(withdrawal: Withdrawal, officer: User, action: str) -> None:
    """After an officer's decision on a withdrawal: the audit entry, then tell the resident."""
    record_audit(
        action,
        actor=officer,
        target_user=withdrawal.user,
        withdrawal_id=withdrawal.id,
        amount=withdrawal.amount,
    )
    _tell_about_withdrawal(withdrawal)


def _tell_about_withdrawal(withdrawal: Withdrawal) -> None:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        title = _(
            "Withdrawal %(code)s: %(status)s", code=withdrawal.code, status=withdrawal.status.label
        )
        body = format_rupiah(withdrawal.amount)
        if withdrawal.reject_reason:
            body += "\n\n" + withdrawal.reject_reason
        if withdrawal.reference:
            body += "\n\n" + _("Reference: %(ref)s", ref=withdrawal.reference)
        tell(
            withdrawal.user,
            title,
            body,
            url_for("jumpa_madu.wallet_show"),
            url_for("jumpa_madu.wallet_show", _external=True),
        )


def unit_types() -> list[UnitType]:
    return list(UnitType)
