"""Jumpa Madu administration forms: waste units, categories and a unit's prices.

Formats are checked here; everything that needs other records (unique names, the price in force,
time windows' shape) is the service's to refuse, and its message lands on the same field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.core.forms import BaseForm, Chosen, MultiCheckboxField
from portal.core.identity import local_phone
from portal.core.time import WIB
from portal.jumpa_madu.models import (
    GRAMS_PER_UNIT,
    WEEKDAY_LABELS,
    Measure,
    UnitType,
    WasteCategory,
    WasteUnit,
)
from portal.wilayah.forms import AddressFields

MAX_PRICE = 1_000_000


class DecimalCommaField(FloatField):
    """A number typed with a decimal comma (2,5) or point (2.5), as people here write it."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].strip().replace(",", ".")]
        super().process_formdata(valuelist)


class HalfSteps:
    """A multiple of 0.5 (the radius moves in half-kilometre steps)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is not None and abs(field.data * 2 - round(field.data * 2)) > 1e-9:
            raise ValidationError(self.message)


class UnitForm(AddressFields, BaseForm):
    """A bank sampah or TPS3R: where it is (its map pin), when and how it collects."""

    name = StringField(
        _l("Name"),
        description=_l("As residents know it, for example Bank Sampah Melati"),
        validators=[InputRequired(message=_l("Enter the unit's name")), Length(max=120)],
    )
    type = SelectField(
        _l("Type"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose the type of unit"))],
    )
    radius_km = DecimalCommaField(
        _l("Service radius in km"),
        description=_l("Homes this far from the unit can ask for a pickup: 0,5 to 50 km"),
        validators=[
            InputRequired(message=_l("Enter the service radius in km")),
            NumberRange(min=0.5, max=50, message=_l("Enter a radius from 0,5 to 50 km")),
            HalfSteps(_l("Enter the radius in steps of 0,5 km, like 5 or 7,5")),
        ],
    )
    pickup_days = MultiCheckboxField(_l("Pickup days"), choices=[], coerce=int)
    time_windows = TextAreaField(
        _l("Pickup time windows"),
        description=_l("One per line, like 08:00-10:00"),
        validators=[InputRequired(message=_l("Enter at least one time window")), Length(max=500)],
    )
    min_weight_kg = DecimalCommaField(
        _l("Minimum weight per pickup in kg"),
        description=_l("Smaller amounts can be brought to the unit instead"),
        validators=[
            InputRequired(message=_l("Enter the minimum weight in kg")),
            NumberRange(min=0, max=1000, message=_l("Enter a weight from 0 to 1000 kg")),
        ],
    )
    phone = StringField(
        _l("Contact phone (optional)"),
        description=_l("Shown to residents; a mobile number like 0812 3456 7890"),
        validators=[Optional(), Length(max=20)],
    )
    resident_share_pct = IntegerField(
        _l("Resident's share in %"),
        description=_l("Part of a weighing's value paid to the resident; the unit keeps the rest"),
        validators=[
            InputRequired(message=_l("Enter the resident's share in %")),
            NumberRange(min=0, max=100, message=_l("Enter a share from 0 to 100")),
        ],
    )
    is_active = BooleanField(_l("Active: residents can ask this unit for pickups"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = [("", _l("Choose a type"))] + [(t.value, t.label) for t in UnitType]
        self.pickup_days.choices = [(i, label) for i, label in enumerate(WEEKDAY_LABELS)]
        self.load_address_choices()

    def set_defaults(self) -> None:
        self.radius_km.data, self.min_weight_kg.data = 5.0, 3.0
        self.resident_share_pct.data, self.is_active.data = 90, True
        self.pickup_days.data = [0, 1, 2, 3, 4, 5]
        self.time_windows.data = "08:00-10:00\n13:00-15:00"

    def fill(self, unit: WasteUnit) -> None:
        self.name.data, self.type.data = unit.name, unit.type.value
        self.radius_km.data = unit.radius_km
        self.pickup_days.data = sorted(unit.pickup_days or [])
        self.time_windows.data = "\n".join(unit.time_windows or [])
        self.min_weight_kg.data = unit.min_weight_g / GRAMS_PER_UNIT
        self.phone.data = local_phone(unit.phone)
        self.resident_share_pct.data, self.is_active.data = unit.resident_share_pct, unit.is_active
        self.fill_address(unit)

    def data_for_service(self) -> dict[str, Any]:
        """Model attributes for `services.save_unit` (time windows as typed)."""
        return {
            "name": self.name.data,
            "type": UnitType(self.type.data),
            "radius_km": float(self.radius_km.data),
            "pickup_days": list(self.pickup_days.data or []),
            "time_windows": self.time_windows.data or "",
            "min_weight_g": round(float(self.min_weight_kg.data) * GRAMS_PER_UNIT),
            "phone": self.phone.data or None,
            "resident_share_pct": self.resident_share_pct.data,
            "is_active": bool(self.is_active.data),
            **self.address_data(),
        }


class CategoryForm(BaseForm):
    slug = StringField(
        _l("Short name"),
        description=_l("Lowercase letters, digits and hyphens, like pet or minyak-jelantah"),
        validators=[
            InputRequired(message=_l("Enter the short name")),
            Length(max=40, message=_l("Use at most 40 characters")),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message=_l("Use only lowercase letters, digits and hyphens, like pet"),
            ),
        ],
    )
    name = StringField(
        _l("Name"),
        description=_l("As the units and residents say it"),
        validators=[InputRequired(message=_l("Enter the category's name")), Length(max=80)],
    )
    measure = SelectField(
        _l("Measured in"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose kg or litre"))],
    )
    co2e_g_per_unit = IntegerField(
        _l("CO2e avoided in grams per kg (or litre)"),
        description=_l("Used for residents' impact; see the factor table in the README"),
        validators=[
            InputRequired(message=_l("Enter the grams of CO2e, 0 if unknown")),
            NumberRange(min=0, max=100_000, message=_l("Enter a number from 0 to 100000")),
        ],
    )
    position = IntegerField(
        _l("Position in lists"),
        description=_l("Lower numbers come first"),
        validators=[
            InputRequired(message=_l("Enter the position")),
            NumberRange(min=0, max=10_000, message=_l("Enter a number from 0 to 10000")),
        ],
    )
    is_active = BooleanField(_l("Active: units can buy this category"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measure.choices = [
            (Measure.KG.value, _l("Kilogram (kg)")),
            (Measure.LITRE.value, _l("Litre (L)")),
        ]

    def fill(self, category: WasteCategory) -> None:
        self.slug.data, self.name.data = category.slug, category.name
        self.measure.data = category.measure.value
        self.co2e_g_per_unit.data, self.position.data = category.co2e_g_per_unit, category.position
        self.is_active.data = category.is_active

    def data_for_service(self) -> dict[str, Any]:
        return {
            "slug": self.slug.data,
            "name": self.name.data,
            "measure": Measure(self.measure.data),
            "co2e_g_per_unit": self.co2e_g_per_unit.data,
            "position": self.position.data,
            "is_active": bool(self.is_active.data),
        }


def _rupiah_text(value: Any) -> Any:
    """ "Rp 3.500" or "3 500" typed as a price: keep only the digits."""
    if isinstance(value, str):
        return re.sub(r"(?i)^rp\.?|[\s.]", "", value.strip())
    return value


class PriceForm(BaseForm):
    """A new price for one category at one unit, from now or a later moment (WIB)."""

    price = StringField(
        _l("New price in Rp per %(measure)s", measure="kg"),
        # No Optional(): it would stop the chain before validate_price decides if it is needed.
        validators=[Length(max=12)],
        filters=[_rupiah_text],
    )
    stop_buying = BooleanField(_l("The unit stops buying this category"))
    effective_at = DateTimeLocalField(
        _l("Takes effect on (WIB)"),
        description=_l("Leave empty for now; or choose a later date and time"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )

    def set_measure(self, measure: Measure) -> None:
        self.price.label.text = _l("New price in Rp per %(measure)s", measure=measure.symbol)

    def validate_price(self, field: Any) -> None:
        if self.stop_buying.data:
            return
        if not field.data:
            raise ValidationError(
                _l("Enter the new price, or tick that the unit stops buying this category")
            )
        if not field.data.isdigit() or int(field.data) > MAX_PRICE:
            raise ValidationError(_l("Enter a whole number of rupiah from 0 to 1.000.000"))

    def new_price(self) -> int | None:
        """The price for the service: None means "no longer bought"."""
        return None if self.stop_buying.data else int(self.price.data)

    def effective_utc(self) -> dt.datetime | None:
        """The typed WIB moment in UTC, or None for "now"."""
        if self.effective_at.data is None:
            return None
        return self.effective_at.data.replace(tzinfo=WIB).astimezone(dt.UTC)
