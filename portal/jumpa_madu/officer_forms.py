"""Jumpa Madu forms for unit officers: scheduling, weighing, outcomes, payouts, assisted pickups.

Choices that depend on the unit (time windows, collectors, pickup days) and the per-category
weight fields (one per category the unit buys) are set per request by the view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.accounts.forms import PhoneNumber
from portal.accounts.models import User
from portal.core.forms import BaseForm, Chosen
from portal.core.time import format_day
from portal.jumpa_madu.models import PickupStatus, WasteCategory
from portal.jumpa_madu.services import kg_to_grams
from portal.wilayah.forms import AddressFields

MAX_PHOTOS = 3
WEIGHT_PREFIX = "weight_"


class WeightValue:
    """A weight in kg (litres) in 0.1 steps, with a comma or a dot; empty means none."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data in (None, ""):
            return
        try:
            grams = kg_to_grams(field.data)
        except ValueError:
            raise ValidationError(
                _l("Enter the weight as a number in steps of 0.1, like 2.5")
            ) from None
        # Shown back with a dot, the only decimal mark a number input accepts as its value.
        whole, rest = divmod(grams, 1000)
        field.data = f"{whole}.{rest // 100}" if rest else str(whole)


class WeightFields:
    """One optional decimal field per category the unit buys, added by `with_weights`."""

    categories: list[WasteCategory]

    def weight_fields(self) -> list[tuple[WasteCategory, Any]]:
        return [(c, getattr(self, f"{WEIGHT_PREFIX}{c.id}")) for c in self.categories]

    def weights(self) -> dict[int, int]:
        """Grams per category id for the fields filled in (call after validation)."""
        found: dict[int, int] = {}
        for category, field in self.weight_fields():
            if field.data not in (None, "") and not field.errors:
                grams = kg_to_grams(field.data)
                if grams:
                    found[category.id] = grams
        return found


def with_weights(
    form_class: type[BaseForm], categories: Iterable[WasteCategory], **kwargs: Any
) -> Any:
    """An instance of `form_class` with a weight field for each category (bound to the request
    unless `formdata=None` is passed)."""
    categories = list(categories)
    fields = {
        f"{WEIGHT_PREFIX}{c.id}": StringField(
            f"{c.name} ({c.measure.symbol})", validators=[Optional(), WeightValue()]
        )
        for c in categories
    }
    form = type(form_class.__name__, (form_class,), fields)(**kwargs)
    form.categories = categories
    return form


# --- pickups ------------------------------------------------------------------------------------


class ActionForm(BaseForm):
    """A button that only needs the CSRF token (set off, approve); refusals go on the form."""


class ScheduleForm(BaseForm):
    day = DateField(_l("Pickup date"), validators=[InputRequired(message=_l("Enter the date"))])
    window = SelectField(
        _l("Time window"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose a time window"))],
    )
    collector_id = SelectField(_l("Collector"), choices=[], validate_choice=False)

    def load_choices(self, windows: Iterable[str], collectors: Iterable[User]) -> None:
        self.window.choices = [("", _l("Choose a time window"))] + [(w, w) for w in windows]
        self.collectors = {str(c.id): c for c in collectors}
        self.collector_id.choices = [("", _l("Not chosen yet"))] + [
            (key, c.full_name) for key, c in self.collectors.items()
        ]

    def validate_collector_id(self, field: Any) -> None:
        if field.data and field.data not in self.collectors:
            raise ValidationError(_l("Choose a collector from the list"))

    def chosen_collector(self) -> User | None:
        return self.collectors.get(self.collector_id.data or "")


class WeighForm(WeightFields, BaseForm):
    photos = MultipleFileField(
        _l("Photos of the weighing (optional)"),
        description=_l("Up to 3 photos: the scale, the bags. JPEG, PNG or WebP."),
    )
    note = TextAreaField(
        _l("Note for the resident (optional)"), validators=[Optional(), Length(max=2000)]
    )
    # What the officer was shown: "<category:grams,...>=<resident amount>", so a save always
    # matches the amounts on the screen (see the view).
    quoted = HiddenField()

    def chosen_files(self) -> list[Any]:
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]

    def validate_photos(self, field: Any) -> None:
        if len(self.chosen_files()) > MAX_PHOTOS:
            raise ValidationError(_l("Attach at most 3 photos"))


class OutcomeForm(BaseForm):
    outcome = RadioField(
        _l("What happened?"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose what happened"))],
    )
    note = TextAreaField(
        _l("Note for the resident"),
        description=_l("Say what happened and what the resident can do next"),
        validators=[InputRequired(message=_l("Write a note for the resident")), Length(max=2000)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = [
            (s.value, s.label) for s in (PickupStatus.NOBODY_HOME, PickupStatus.REJECTED)
        ]


class ResolveForm(BaseForm):
    note = TextAreaField(
        _l("Answer to the resident"),
        description=_l("The weighing stands and is paid into the wallet; say why"),
        validators=[
            InputRequired(message=_l("Write the answer to the resident's dispute")),
            Length(max=2000),
        ],
    )


class CancelForm(BaseForm):
    note = TextAreaField(
        _l("Reason for cancelling"),
        description=_l("Sent to the resident"),
        validators=[
            InputRequired(message=_l("Tell the resident why the pickup is cancelled")),
            Length(max=2000),
        ],
    )


# --- withdrawals --------------------------------------------------------------------------------


class RejectWithdrawalForm(BaseForm):
    reason = TextAreaField(
        _l("Reason for rejecting"),
        description=_l("Sent to the resident; the money goes back to their wallet"),
        validators=[
            InputRequired(message=_l("Tell the resident why the withdrawal is rejected")),
            Length(max=2000),
        ],
    )


class PayWithdrawalForm(BaseForm):
    reference = StringField(
        _l("Receipt number or transfer reference"),
        description=_l("For cash, the number on the receipt the resident signed"),
        validators=[
            InputRequired(message=_l("Enter the receipt number or transfer reference")),
            Length(max=80),
        ],
    )


# --- assisted mode ------------------------------------------------------------------------------


class AssistedFindForm(BaseForm):
    """Stage 1: find the resident by phone, or make an account for them."""

    phone = StringField(
        _l("Resident's mobile phone number"),
        description=_l("Their account is found by this number; for example 0812 3456 7890"),
        validators=[
            InputRequired(message=_l("Enter the resident's mobile phone number")),
            PhoneNumber(),
        ],
    )
    full_name = StringField(
        _l("Resident's full name"),
        description=_l("Needed only when no account has this phone number: one is made for them"),
        validators=[
            Optional(),
            Length(min=2, max=120, message=_l("Enter a name of 2 to 120 characters")),
        ],
    )
    consent = BooleanField(
        _l(
            "The resident agreed that I file this pickup for them and that their data is "
            "processed for it"
        ),
        validators=[
            InputRequired(
                message=_l("Confirm that the resident agreed to you filing this pickup for them")
            )
        ],
    )


class AssistedPickupForm(WeightFields, AddressFields, BaseForm):
    """Stage 2: the pickup itself. The phone travels in the POST body, never in the URL."""

    phone = HiddenField(validators=[InputRequired(), PhoneNumber()])
    preferred_date = SelectField(
        _l("Pickup date"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose one of the unit's pickup days"))],
    )
    window = SelectField(
        _l("Time window"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose a time window"))],
    )
    note = TextAreaField(
        _l("Note for the collector (optional)"), validators=[Optional(), Length(max=1000)]
    )

    def load_choices(self, days: Iterable[dt.date], windows: Iterable[str]) -> None:
        self.load_address_choices()
        self.preferred_date.choices = [("", _l("Choose a date"))] + [
            (d.isoformat(), format_day(d, "EEEE, d MMMM yyyy")) for d in days
        ]
        self.window.choices = [("", _l("Choose a time window"))] + [(w, w) for w in windows]

    def chosen_date(self) -> dt.date:
        return dt.date.fromisoformat(self.preferred_date.data)
