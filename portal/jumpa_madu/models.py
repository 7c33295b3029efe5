"""Jumpa Madu: waste units, categories, versioned prices, pickups, weighings and withdrawals.

Two state machines live here, each in one table: a pickup's (`PICKUP_TRANSITIONS`) and a
withdrawal's (`WITHDRAWAL_TRANSITIONS`). Money itself is in `ledger.py`; these rows only say what
was weighed and asked for, with the prices and share they used frozen on the weighing.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User, enum_column
from portal.core.errors import DomainError
from portal.core.identity import mask_number, mask_phone
from portal.core.time import utcnow
from portal.extensions import db
from portal.wilayah.models import AddressMixin

GRAMS_PER_UNIT = 1000  # weights are integer grams (millilitres for oil), prices per kg (litre)


class UnitType(enum.StrEnum):
    BANK_SAMPAH = "bank_sampah"
    BANK_SAMPAH_INDUK = "bank_sampah_induk"
    TPS3R = "tps3r"

    @property
    def label(self) -> str:
        return str(UNIT_TYPE_LABELS[self])


UNIT_TYPE_LABELS = {
    UnitType.BANK_SAMPAH: _l("Bank sampah"),
    UnitType.BANK_SAMPAH_INDUK: _l("Bank sampah induk"),
    UnitType.TPS3R: _l("TPS3R"),
}

WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


class Measure(enum.StrEnum):
    """How a category is weighed: by kilogram, or by litre for used cooking oil."""

    KG = "kg"
    LITRE = "litre"

    @property
    def symbol(self) -> str:
        return "kg" if self is Measure.KG else "L"


class WasteUnit(AddressMixin, db.Model):
    """A bank sampah or TPS3R that collects from homes within `radius_km` of its location."""

    __tablename__ = "jm_units"
    __table_args__ = (
        CheckConstraint("radius_km > 0 AND radius_km <= 50", name="radius"),
        CheckConstraint("resident_share_pct BETWEEN 0 AND 100", name="share"),
        CheckConstraint("min_weight_g >= 0", name="min_weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[UnitType] = mapped_column(enum_column(UnitType))
    radius_km: Mapped[float] = mapped_column(default=5.0)
    # Weekdays (0 = Monday) the unit collects on, and the time windows residents may choose.
    pickup_days: Mapped[list[int]] = mapped_column(JSON, default=list)
    time_windows: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_weight_g: Mapped[int] = mapped_column(Integer, default=3000)
    phone: Mapped[str | None] = mapped_column(String(16))
    # Percent of a weighing's value paid to the resident; the rest is the unit's margin.
    resident_share_pct: Mapped[int] = mapped_column(Integer, default=90)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def scope(self) -> str:
        """The role-grant scope that makes a waste officer belong to this unit."""
        return str(self.id)

    @property
    def pickup_day_labels(self) -> list[str]:
        return [str(WEEKDAY_LABELS[d]) for d in sorted(self.pickup_days)]

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def __repr__(self) -> str:
        return f"<WasteUnit {self.id} {self.name}>"


class WasteCategory(db.Model):
    """A kind of sorted waste the units buy; `co2e_g_per_unit` feeds the resident's impact page."""

    __tablename__ = "jm_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    measure: Mapped[Measure] = mapped_column(enum_column(Measure, 8), default=Measure.KG)
    # Grams of CO2-equivalent avoided per kg (or litre) recycled; defaults in services.CATEGORIES.
    co2e_g_per_unit: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<WasteCategory {self.slug}>"


class Price(db.Model):
    """What a unit pays per kg (litre) of a category from `effective_at` on.

    Never edited: a change is a new row, so every weighing line can point at the price it used
    and the history of a unit's prices stays readable. `price` None means "no longer bought".
    """

    __tablename__ = "jm_prices"
    __table_args__ = (
        Index("ix_jm_prices_lookup", "unit_id", "category_id", "effective_at"),
        CheckConstraint("price IS NULL OR price >= 0", name="price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("jm_units.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("jm_categories.id"))
    price: Mapped[int | None] = mapped_column(Integer)
    effective_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit: Mapped[WasteUnit] = relationship()
    category: Mapped[WasteCategory] = relationship()
    created_by: Mapped[User | None] = relationship()


# --- pickups ------------------------------------------------------------------------------------


class PickupStatus(enum.StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    ON_THE_WAY = "on_the_way"
    WEIGHED = "weighed"
    DISPUTED = "disputed"
    CONFIRMED = "confirmed"
    NOBODY_HOME = "nobody_home"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(PICKUP_STATUS_LABELS[self])

    @property
    def is_final(self) -> bool:
        return self in FINAL_PICKUP_STATUSES


PICKUP_STATUS_LABELS = {
    PickupStatus.REQUESTED: _l("New"),
    PickupStatus.SCHEDULED: _l("Scheduled"),
    PickupStatus.ON_THE_WAY: _l("On the way"),
    PickupStatus.WEIGHED: _l("Weighed, awaiting confirmation"),
    PickupStatus.DISPUTED: _l("Disputed"),
    PickupStatus.CONFIRMED: _l("Confirmed and paid into the wallet"),
    PickupStatus.NOBODY_HOME: _l("Nobody home"),
    PickupStatus.REJECTED: _l("Not sorted / rejected"),
    PickupStatus.CANCELLED: _l("Cancelled"),
}

PICKUP_NEXT_STEPS = {
    PickupStatus.REQUESTED: _l(
        "The unit will confirm a date and time window. You will be told when it is scheduled."
    ),
    PickupStatus.SCHEDULED: _l(
        "Have the sorted waste ready on the date shown: clean, dry, one bag per category."
    ),
    PickupStatus.ON_THE_WAY: _l("The collector is on the way. Please be at home."),
    PickupStatus.WEIGHED: _l(
        "Check the weights and prices, then confirm or dispute within 48 hours. Without an "
        "answer the weighing is confirmed automatically."
    ),
    PickupStatus.DISPUTED: _l("The unit will look at your dispute and re-weigh or answer you."),
    PickupStatus.CONFIRMED: _l("The amount is in your wallet. You can withdraw it."),
    PickupStatus.NOBODY_HOME: _l(
        "The collector found nobody at home. The unit may set a new date."
    ),
    PickupStatus.REJECTED: _l(
        "The waste could not be bought (for example it was not sorted). See the unit's note."
    ),
    PickupStatus.CANCELLED: _l("The pickup is cancelled. Nothing more will happen."),
}

FINAL_PICKUP_STATUSES = frozenset(
    {PickupStatus.CONFIRMED, PickupStatus.REJECTED, PickupStatus.CANCELLED}
)
# Statuses in which a resident may still cancel: before the collector sets off.
RESIDENT_CANCELLABLE = frozenset({PickupStatus.REQUESTED, PickupStatus.SCHEDULED})


class Actor(enum.StrEnum):
    RESIDENT = "resident"
    OFFICER = "officer"
    SYSTEM = "system"


# The one pickup transition table: (from, to) -> who may make the move.
PICKUP_TRANSITIONS: dict[tuple[PickupStatus, PickupStatus], frozenset[Actor]] = {
    (PickupStatus.REQUESTED, PickupStatus.SCHEDULED): frozenset({Actor.OFFICER}),
    (PickupStatus.REQUESTED, PickupStatus.CANCELLED): frozenset({Actor.RESIDENT, Actor.OFFICER}),
    (PickupStatus.SCHEDULED, PickupStatus.SCHEDULED): frozenset({Actor.OFFICER}),
    (PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY): frozenset({Actor.OFFICER}),
    (PickupStatus.SCHEDULED, PickupStatus.CANCELLED): frozenset({Actor.RESIDENT, Actor.OFFICER}),
    (PickupStatus.ON_THE_WAY, PickupStatus.WEIGHED): frozenset({Actor.OFFICER}),
    (PickupStatus.ON_THE_WAY, PickupStatus.NOBODY_HOME): frozenset({Actor.OFFICER}),
    (PickupStatus.ON_THE_WAY, PickupStatus.REJECTED): frozenset({Actor.OFFICER}),
    (PickupStatus.NOBODY_HOME, PickupStatus.SCHEDULED): frozenset({Actor.OFFICER}),
    (PickupStatus.NOBODY_HOME, PickupStatus.CANCELLED): frozenset({Actor.OFFICER}),
    (PickupStatus.WEIGHED, PickupStatus.CONFIRMED): frozenset({Actor.RESIDENT, Actor.SYSTEM}),
    (PickupStatus.WEIGHED, PickupStatus.DISPUTED): frozenset({Actor.RESIDENT}),
    (PickupStatus.DISPUTED, PickupStatus.WEIGHED): frozenset({Actor.OFFICER}),
    (PickupStatus.DISPUTED, PickupStatus.CONFIRMED): frozenset({Actor.OFFICER}),
}


def allowed_pickup_moves(status: PickupStatus, actor: Actor) -> list[PickupStatus]:
    return [to for (frm, to), who in PICKUP_TRANSITIONS.items() if frm == status and actor in who]


def _refusal(kind: str, frm: Any, to: Any) -> str:
    from flask_babel import gettext as _

    if kind == "pickup":
        return _(
            "A pickup that is \u201c%(frm)s\u201d cannot become \u201c%(to)s\u201d.",
            frm=frm.label,
            to=to.label,
        )
    return _(
        "A withdrawal that is \u201c%(frm)s\u201d cannot become \u201c%(to)s\u201d.",
        frm=frm.label,
        to=to.label,
    )


class Pickup(AddressMixin, db.Model):
    """One resident's request to have sorted waste collected from an address by one unit."""

    __tablename__ = "jm_pickups"
    __table_args__ = (
        Index("ix_jm_pickups_unit_status", "unit_id", "status", "scheduled_date"),
        Index("ix_jm_pickups_user", "user_id", "created_at"),
        Index("ix_jm_pickups_confirm_due", "status", "confirm_due_at"),
        # The unit's "closed" tab, newest first: without it, a unit's whole history is sorted.
        Index("ix_jm_pickups_unit_closed", "unit_id", "closed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("jm_units.id"))
    status: Mapped[PickupStatus] = mapped_column(
        enum_column(PickupStatus), default=PickupStatus.REQUESTED
    )
    preferred_date: Mapped[dt.date] = mapped_column(Date)
    preferred_window: Mapped[str] = mapped_column(String(20))
    scheduled_date: Mapped[dt.date | None] = mapped_column(Date)
    scheduled_window: Mapped[str | None] = mapped_column(String(20))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    distance_km: Mapped[float | None] = mapped_column()
    resident_note: Mapped[str] = mapped_column(Text, default="")
    photo_key: Mapped[str | None] = mapped_column(String(120))
    photo_type: Mapped[str | None] = mapped_column(String(40))
    # Officer's note on an outcome (nobody home, rejected) or a resolved dispute.
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    confirm_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    assisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assisted_consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Optimistic lock: a double submit or two officers at once cannot both move the pickup.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[WasteUnit] = relationship()
    collector: Mapped[User | None] = relationship(foreign_keys=[collector_id])
    assisted_by: Mapped[User | None] = relationship(foreign_keys=[assisted_by_id])
    estimates: Mapped[list[PickupEstimate]] = relationship(
        back_populates="pickup", order_by="PickupEstimate.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[PickupEvent]] = relationship(
        back_populates="pickup", order_by="PickupEvent.id", cascade="all, delete-orphan"
    )
    weighings: Mapped[list[Weighing]] = relationship(
        back_populates="pickup", order_by="Weighing.number", cascade="all, delete-orphan"
    )

    @property
    def code(self) -> str:
        """What residents and officers say on the phone: JM-000123."""
        return f"JM-{self.id:06d}"

    @property
    def current_weighing(self) -> Weighing | None:
        """The weighing in force; a re-weigh supersedes the earlier one, which stays on record."""
        live = [w for w in self.weighings if w.superseded_at is None]
        return live[-1] if live else None

    @property
    def estimated_g(self) -> int:
        return sum(e.weight_g for e in self.estimates)

    def move_to(
        self, to: PickupStatus, *, actor: User | None, as_: Actor, note: str = ""
    ) -> PickupEvent:
        """Change status through the transition table, recording the move on the timeline."""
        who = PICKUP_TRANSITIONS.get((self.status, to))
        if who is None or as_ not in who:
            raise DomainError(None, _refusal("pickup", self.status, to))
        event = PickupEvent(
            from_status=self.status,
            to_status=to,
            actor_id=actor.id if actor is not None else None,
            actor_kind=as_,
            note=note.strip(),
        )
        self.events.append(event)
        self.status = to
        if to.is_final:
            self.closed_at = utcnow()
        return event

    def __repr__(self) -> str:
        return f"<Pickup {self.id} {self.status}>"


class PickupEstimate(db.Model):
    """What the resident expects to hand over, per category (the unit plans its trip with it)."""

    __tablename__ = "jm_pickup_estimates"
    __table_args__ = (
        UniqueConstraint("pickup_id", "category_id", name="uq_jm_estimate_category"),
        CheckConstraint("weight_g > 0", name="weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("jm_pickups.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("jm_categories.id"))
    weight_g: Mapped[int] = mapped_column(Integer)

    pickup: Mapped[Pickup] = relationship(back_populates="estimates")
    category: Mapped[WasteCategory] = relationship()


class PickupEvent(db.Model):
    """One status change on a pickup's timeline (a reschedule is SCHEDULED -> SCHEDULED)."""

    __tablename__ = "jm_pickup_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(
        ForeignKey("jm_pickups.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[PickupStatus] = mapped_column(
        enum_column(PickupStatus, name="jm_from_status")
    )
    to_status: Mapped[PickupStatus] = mapped_column(enum_column(PickupStatus, name="jm_to_status"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_kind: Mapped[Actor] = mapped_column(enum_column(Actor, 10, name="jm_actor"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pickup: Mapped[Pickup] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Weighing(db.Model):
    """What the collector weighed at the door, with the share and prices it used, frozen.

    A re-weigh after a dispute adds weighing number 2 and marks number 1 superseded, so both
    stay on record. The credit to the wallet happens once, when the pickup is confirmed.
    """

    __tablename__ = "jm_weighings"
    __table_args__ = (
        UniqueConstraint("pickup_id", "number", name="uq_jm_weighing_number"),
        CheckConstraint("resident_share_pct BETWEEN 0 AND 100", name="share"),
        CheckConstraint("resident_amount >= 0 AND resident_amount <= gross_amount", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pickup_id: Mapped[int] = mapped_column(ForeignKey("jm_pickups.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    resident_share_pct: Mapped[int] = mapped_column(Integer)
    gross_amount: Mapped[int] = mapped_column(Integer)
    resident_amount: Mapped[int] = mapped_column(Integer)
    photo_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    pickup: Mapped[Pickup] = relationship(back_populates="weighings")
    recorded_by: Mapped[User | None] = relationship()
    lines: Mapped[list[WeighingLine]] = relationship(
        back_populates="weighing", order_by="WeighingLine.id", cascade="all, delete-orphan"
    )

    @property
    def unit_amount(self) -> int:
        return self.gross_amount - self.resident_amount

    @property
    def total_g(self) -> int:
        return sum(line.weight_g for line in self.lines)


class WeighingLine(db.Model):
    """One category on a weighing: weight, the price row and price it used, and the amounts."""

    __tablename__ = "jm_weighing_lines"
    __table_args__ = (
        UniqueConstraint("weighing_id", "category_id", name="uq_jm_line_category"),
        CheckConstraint("weight_g > 0", name="weight"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    weighing_id: Mapped[int] = mapped_column(ForeignKey("jm_weighings.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("jm_categories.id"))
    price_id: Mapped[int] = mapped_column(ForeignKey("jm_prices.id"))
    weight_g: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)  # Rp per kg (litre), as it was
    gross_amount: Mapped[int] = mapped_column(Integer)
    resident_amount: Mapped[int] = mapped_column(Integer)

    weighing: Mapped[Weighing] = relationship(back_populates="lines")
    category: Mapped[WasteCategory] = relationship()


# --- withdrawals --------------------------------------------------------------------------------


class WithdrawalStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(WITHDRAWAL_STATUS_LABELS[self])

    @property
    def is_final(self) -> bool:
        return self in (WithdrawalStatus.PAID, WithdrawalStatus.REJECTED)


WITHDRAWAL_STATUS_LABELS = {
    WithdrawalStatus.REQUESTED: _l("Requested"),
    WithdrawalStatus.APPROVED: _l("Approved, awaiting payment"),
    WithdrawalStatus.PAID: _l("Paid"),
    WithdrawalStatus.REJECTED: _l("Rejected"),
}

WITHDRAWAL_TRANSITIONS: dict[tuple[WithdrawalStatus, WithdrawalStatus], Actor] = {
    (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED): Actor.OFFICER,
    (WithdrawalStatus.REQUESTED, WithdrawalStatus.REJECTED): Actor.OFFICER,
    (WithdrawalStatus.APPROVED, WithdrawalStatus.PAID): Actor.OFFICER,
    (WithdrawalStatus.APPROVED, WithdrawalStatus.REJECTED): Actor.OFFICER,
}


class PayoutMethod(enum.StrEnum):
    CASH = "cash"
    BANK = "bank"
    EWALLET = "ewallet"

    @property
    def label(self) -> str:
        return str(PAYOUT_METHOD_LABELS[self])


PAYOUT_METHOD_LABELS = {
    PayoutMethod.CASH: _l("Cash at the unit"),
    PayoutMethod.BANK: _l("Bank transfer"),
    PayoutMethod.EWALLET: _l("E-wallet"),
}

EWALLET_PROVIDERS = ("DANA", "OVO", "GoPay", "ShopeePay")


class Withdrawal(db.Model):
    """A resident asking for wallet money; the amount is held from the moment of asking."""

    __tablename__ = "jm_withdrawals"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_jm_withdrawals_unit_status", "unit_id", "status", "requested_at"),
        Index("ix_jm_withdrawals_user", "user_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("jm_units.id"))
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[WithdrawalStatus] = mapped_column(
        enum_column(WithdrawalStatus), default=WithdrawalStatus.REQUESTED
    )
    method: Mapped[PayoutMethod] = mapped_column(enum_column(PayoutMethod, 10))
    bank_name: Mapped[str | None] = mapped_column(String(60))
    account_number: Mapped[str | None] = mapped_column(String(30))
    account_holder: Mapped[str | None] = mapped_column(String(120))
    ewallet_provider: Mapped[str | None] = mapped_column(String(20))
    ewallet_number: Mapped[str | None] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(80))
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[WasteUnit] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])

    @property
    def code(self) -> str:
        return f"TRK-{self.id:06d}"

    @property
    def destination(self) -> str:
        """Where the money goes, masked: enough for the resident to recognise it."""
        if self.method is PayoutMethod.BANK:
            return f"{self.bank_name} {mask_number(self.account_number)}"
        if self.method is PayoutMethod.EWALLET:
            return f"{self.ewallet_provider} {mask_phone(self.ewallet_number)}"
        return self.unit.name if self.unit is not None else ""

    def move_to(self, to: WithdrawalStatus) -> None:
        if WITHDRAWAL_TRANSITIONS.get((self.status, to)) is None:
            raise DomainError(None, _refusal("withdrawal", self.status, to))
        self.status = to

    def __repr__(self) -> str:
        return f"<Withdrawal {self.id} {self.amount} {self.status}>"
