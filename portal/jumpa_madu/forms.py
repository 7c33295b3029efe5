"""Jumpa Madu forms for residents: request a pickup, dispute a weighing, withdraw from the wallet.

Format checks live here (a weight with one decimal, a whole rupiah amount, the fields a payout
method needs); coverage, dates, minimum weights and balances are the services' rules
(DomainError on the matching field name: `unit_id`, `preferred_date`, `window`, `estimates`,
`amount`, `bank_name`...).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.core.forms import BaseForm
from portal.jumpa_madu.models import (
    EWALLET_PROVIDERS,
    PAYOUT_METHOD_LABELS,
    PayoutMethod,
    WasteCategory,
)
from portal.jumpa_madu.services import kg_to_grams
from portal.wilayah.forms import AddressFields

ACCEPT_PHOTOS = ".jpg,.jpeg,.png,.webp,image/jpeg,image/png,image/webp"
ADDRESS_FIELD_NAMES = (
    "kecamatan",
    "desa",
    "street",
    "rt",
    "rw",
    "landmark",
    "latitude",
    "longitude",
)


def weight_field_name(category_id: int) -> str:
    return f"weight_{category_id}"


class WeightInput:
    """An optional weight in kg (or litres) with at most one decimal, comma or dot."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            kg_to_grams(field.data)
        except ValueError:
            raise ValidationError(
                _l("Enter the weight as a number with at most one decimal, like 2,5")
            ) from None


class PickupForm(AddressFields, BaseForm):
    """Request a pickup: address, then the unit, estimated weights, date, window, note, photo.

    One weight field per active category (`for_categories`); the page shows only those the chosen
    unit buys. `unit_id`, `preferred_date` and `window` get their choices from the chosen unit.
    """

    unit_id = RadioField(
        _l("Unit that collects"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose the unit that collects your waste"))],
    )
    # Never shown as an input: the service's errors about the estimates as a whole land here.
    estimates = HiddenField(_l("Estimated weights"))
    preferred_date = RadioField(
        _l("Preferred date"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a date for the pickup"))],
    )
    window = RadioField(
        _l("Time window"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a time window"))],
    )
    note = TextAreaField(
        _l("Note for the collector (optional)"),
        description=_l("For example where to find the bags, or a gate code"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters"))],
    )
    photo = FileField(
        _l("Photo of the sorted waste (optional)"),
        description=_l("Helps the unit plan the trip. JPEG, PNG or WebP."),
    )

    category_ids: list[int]

    @classmethod
    def for_categories(cls, categories: list[WasteCategory]) -> PickupForm:
        fields = {
            weight_field_name(c.id): StringField(c.name, validators=[Optional(), WeightInput()])
            for c in categories
        }
        form = type("PickupRequestForm", (cls,), fields)()
        form.category_ids = [c.id for c in categories]
        form.load_address_choices()
        return form

    def weight_field(self, category_id: int) -> Any:
        return self[weight_field_name(category_id)]

    def validate_address(self) -> bool:
        """Check only the address (and the CSRF token): the first step, "find units near me"."""
        ok = True
        names = (
            ("csrf_token", *ADDRESS_FIELD_NAMES) if "csrf_token" in self else ADDRESS_FIELD_NAMES
        )
        for name in names:
            inline = getattr(type(self), f"validate_{name}", None)
            ok = self[name].validate(self, [inline] if inline else []) and ok
        self._errors = None
        return ok

    def estimate_grams(self, category_ids: list[int]) -> dict[int, int]:
        """{category id: grams} for the given categories that have a weight typed in."""
        grams = {}
        for cid in category_ids:
            value = self.weight_field(cid).data
            if value:
                grams[cid] = kg_to_grams(value)
        return grams

    def chosen_date(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.preferred_date.data or "")
        except ValueError:
            return None


class DisputeForm(BaseForm):
    reason = TextAreaField(
        _l("What is wrong with the weighing?"),
        description=_l("For example which category weighed less than at home, and by how much"),
        validators=[
            InputRequired(message=_l("Say what is wrong with the weighing")),
            Length(max=500, message=_l("Use at most 500 characters")),
        ],
    )


def parse_rupiah(value: Any) -> int | None:
    """ "10.000", "10000", "Rp 10.000" -> 10000; anything else (decimals, letters) -> None."""
    text = re.sub(r"^rp\.?", "", str(value or "").strip(), flags=re.IGNORECASE)
    text = re.sub(r"[\s.]", "", text)
    if not re.fullmatch(r"\d{1,12}", text):
        return None
    return int(text)


class WithdrawalForm(BaseForm):
    """Withdraw: amount, unit, payout method; each method's fields are checked only when chosen."""

    amount = StringField(
        _l("Amount in rupiah"),
        validators=[InputRequired(message=_l("Enter the amount you want to withdraw"))],
    )
    unit_id = SelectField(_l("Unit that pays you"), choices=[], validate_choice=False)
    method = RadioField(
        _l("How do you want to receive the money?"),
        choices=[SelectChoice(m.value, PAYOUT_METHOD_LABELS[m]) for m in PayoutMethod],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose how you want to receive the money"))],
    )
    bank_name = StringField(
        _l("Bank"),
        description=_l("For example BRI, BNI, Bank Sumut"),
        validators=[Length(max=60, message=_l("Use at most 60 characters"))],
    )
    account_number = StringField(
        _l("Account number"),
        validators=[Length(max=30, message=_l("Use at most 30 characters"))],
    )
    account_holder = StringField(
        _l("Account holder's name"),
        description=_l("As written in the bank book"),
        validators=[Length(max=120, message=_l("Use at most 120 characters"))],
    )
    ewallet_provider = SelectField(
        _l("E-wallet"),
        choices=[SelectChoice("", _l("Choose the e-wallet"))]
        + [SelectChoice(p, p) for p in EWALLET_PROVIDERS],
        validate_choice=False,
    )
    ewallet_number = StringField(
        _l("E-wallet phone number"),
        description=_l("The number the e-wallet is registered to. For example 0812 3456 7890"),
        validators=[Length(max=20, message=_l("Use at most 20 characters"))],
    )

    def load_units(self, units: list[Any]) -> None:
        self.unit_id.choices = [SelectChoice(str(u.id), u.name) for u in units]
        if not self.unit_id.data and units:
            self.unit_id.data = str(units[0].id)

    def amount_value(self) -> int | None:
        return parse_rupiah(self.amount.data)

    def payout_method(self) -> PayoutMethod | None:
        try:
            return PayoutMethod(self.method.data)
        except ValueError:
            return None

    def validate_amount(self, field: Any) -> None:
        if parse_rupiah(field.data) is None:
            raise ValidationError(_l("Enter a whole number of rupiah, like 10.000"))

    def validate_unit_id(self, field: Any) -> None:
        if field.data not in {c.value for c in self.unit_id.choices}:
            raise ValidationError(_l("Choose the unit that pays you"))

    def validate_method(self, field: Any) -> None:
        if self.payout_method() is None:
            raise ValidationError(_l("Choose how you want to receive the money"))

    def _needed(self, method: PayoutMethod, field: Any, message: Any) -> None:
        if self.payout_method() is method and not field.data:
            raise ValidationError(message)

    def validate_bank_name(self, field: Any) -> None:
        self._needed(PayoutMethod.BANK, field, _l("Enter the bank's name"))

    def validate_account_number(self, field: Any) -> None:
        self._needed(PayoutMethod.BANK, field, _l("Enter the account number"))

    def validate_account_holder(self, field: Any) -> None:
        self._needed(PayoutMethod.BANK, field, _l("Enter the account holder's name"))

    def validate_ewallet_provider(self, field: Any) -> None:
        self._needed(PayoutMethod.EWALLET, field, _l("Choose the e-wallet"))
        if field.data and field.data not in EWALLET_PROVIDERS:
            raise ValidationError(_l("Choose the e-wallet"))

    def validate_ewallet_number(self, field: Any) -> None:
        self._needed(PayoutMethod.EWALLET, field, _l("Enter the phone number of the e-wallet"))

    def payout_details(self) -> dict[str, str | None]:
        """The chosen method's fields for `request_withdrawal` (the others are left out)."""
        method = self.payout_method()
        if method is PayoutMethod.BANK:
            return {
                "bank_name": self.bank_name.data,
                "account_number": self.account_number.data,
                "account_holder": self.account_holder.data,
            }
        if method is PayoutMethod.EWALLET:
            return {
                "ewallet_provider": self.ewallet_provider.data,
                "ewallet_number": self.ewallet_number.data,
            }
        return {}
