"""Deli Serdang Mall forms for sellers: the shop, a product, the dashboard's quick edit, a photo.

Formats are checked here so every mistake shows at once; the legality numbers and the WhatsApp
number go through the same functions the services use (`normalize_legality`,
`normalize_phone`), so the form and the service can never disagree. Rules that need other
records (one shop per person, at most five photos) are the services' (DomainError on the field
of the same name).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from portal.core.errors import DomainError
from portal.core.forms import BaseForm, MultiCheckboxField
from portal.core.identity import local_phone, normalize_phone
from portal.mall.models import (
    AVAILABILITY_LABELS,
    UNITS,
    Availability,
    MallCategory,
    PriceKind,
    Product,
    Shop,
)
from portal.mall.services import normalize_legality
from portal.wilayah.forms import AddressFields

ACCEPT_PHOTOS = ".jpg,.jpeg,.png,.webp,image/jpeg,image/png,image/webp"
MAX_PRICE = 1_000_000_000  # Rp 1 billion: more is a typo (and near a 32-bit integer's limit)

PRICE_KIND_LABELS = {
    PriceKind.FIXED: _l("One price"),
    PriceKind.RANGE: _l("A price range (from ... to ...)"),
    PriceKind.ASK: _l("Ask the seller (no price shown)"),
}
SHIPPING_LABELS = {
    "pickup": _l("Buyers pick it up"),
    "local": _l("Local delivery (in Deli Serdang)"),
    "national": _l("Ships across Indonesia"),
}
SHIPPING_COLUMNS = {
    "pickup": "ships_pickup",
    "local": "ships_local",
    "national": "ships_national",
}


def parse_rupiah(value: Any) -> int | None:
    """ "25.000", "25000", "Rp 25.000" -> 25000; decimals, letters or nothing -> None."""
    text = re.sub(r"^rp\.?", "", str(value or "").strip(), flags=re.IGNORECASE)
    text = re.sub(r"[\s.]", "", text)
    if not re.fullmatch(r"\d{1,11}", text):
        return None
    return int(text)


def format_price_input(value: int | None) -> str:
    """25000 -> "25.000": what the seller sees in the price box, as they would type it."""
    return "" if value is None else f"{value:,}".replace(",", ".")


def _price(value: Any, message: Any) -> int:
    amount = parse_rupiah(value)
    if amount is None:
        raise ValidationError(message)
    if amount > MAX_PRICE:
        raise ValidationError(_l("Check the price: it is more than Rp 1.000.000.000"))
    return amount


def _category_choices(categories: list[MallCategory], placeholder: Any) -> list[SelectChoice]:
    return [SelectChoice("", placeholder)] + [SelectChoice(str(c.id), c.name) for c in categories]


class Picked:
    """One of the field's real choices, or this message: core's `Chosen` for choices given as
    `SelectChoice` (which the `radios` macro needs) as well as plain tuples."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        values = {str(next(iter(choice))) for choice in field.choices or []} - {""}
        if field.data in (None, "") or str(field.data) not in values:
            raise StopValidation(self.message)


class LegalityCheck:
    """One legality number, checked by the service's own `normalize_legality`."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            normalize_legality({field.name: field.data})
        except DomainError as exc:
            raise ValidationError(exc.message) from None


class ShopForm(AddressFields, BaseForm):
    """Open or edit a shop: profile, business address, contact, logo and legality numbers."""

    name = StringField(
        _l("Shop name"),
        validators=[
            InputRequired(message=_l("Enter the shop's name")),
            Length(max=80, message=_l("Use at most 80 characters")),
        ],
    )
    owner_name = StringField(
        _l("Owner's name"),
        description=_l("The person buyers deal with"),
        validators=[
            InputRequired(message=_l("Enter the owner's name")),
            Length(max=120, message=_l("Use at most 120 characters")),
        ],
    )
    description = TextAreaField(
        _l("About the shop"),
        description=_l("What you make or sell, since when, what makes it special"),
        validators=[Optional(), Length(max=2000, message=_l("Use at most 2000 characters"))],
    )
    category_id = SelectField(
        _l("Main category"),
        choices=[],
        validate_choice=False,
        validators=[Picked(_l("Choose the shop's category"))],
    )
    whatsapp = StringField(
        _l("WhatsApp number"),
        description=_l(
            "Buyers contact you on this number; it is shown on your shop page. "
            "For example 0812 3456 7890"
        ),
        validators=[InputRequired(message=_l("Enter the shop's WhatsApp number"))],
    )
    opening_hours = StringField(
        _l("Opening hours (optional)"),
        description=_l("For example Senin-Sabtu 08.00-17.00"),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters"))],
    )
    logo = FileField(
        _l("Logo or shop photo (optional)"),
        description=_l("JPEG, PNG or WebP, at most 5 MB. A square picture looks best."),
    )
    nib = StringField(
        _l("NIB (optional)"),
        description=_l("Business number from OSS: 13 digits, like 1234567890123"),
        validators=[LegalityCheck()],
    )
    pirt_number = StringField(
        _l("P-IRT number (optional)"),
        description=_l(
            "Home-industry food permit: 15 digits as on the label, like P-IRT No. "
            "1234567890123-45. The last two digits are the year it expires."
        ),
        validators=[LegalityCheck()],
    )
    halal_number = StringField(
        _l("Halal certificate number (optional)"),
        description=_l("From BPJPH (SIHALAL): ID followed by digits, like ID12110000123450123"),
        validators=[LegalityCheck()],
    )
    halal_expiry = StringField(
        _l("Halal certificate valid until (optional)"),
        description=_l("Leave empty when the certificate has no expiry date"),
    )
    bpom_number = StringField(
        _l("BPOM registration number (optional)"),
        description=_l("For processed food, cosmetics or herbal products, like MD 224510001234"),
        validators=[LegalityCheck()],
    )

    def load_choices(self, categories: list[MallCategory]) -> None:
        self.load_address_choices()
        self.category_id.choices = _category_choices(categories, _l("Choose a category"))

    def fill_from(self, shop: Shop) -> None:
        """Prefill the edit form from the shop, in the shapes people type."""
        for name in ("name", "owner_name", "description", "opening_hours"):
            getattr(self, name).data = getattr(shop, name) or ""
        self.category_id.data = str(shop.category_id or "")
        self.whatsapp.data = local_phone(shop.whatsapp)
        self.nib.data = shop.nib or ""
        self.pirt_number.data = (
            f"{shop.pirt_number[:13]}-{shop.pirt_number[13:]}" if shop.pirt_number else ""
        )
        self.halal_number.data = shop.halal_number or ""
        self.halal_expiry.data = shop.halal_expiry.isoformat() if shop.halal_expiry else ""
        self.bpom_number.data = shop.bpom_number or ""
        self.fill_address(shop)

    def validate_whatsapp(self, field: Any) -> None:
        if field.data and normalize_phone(field.data) is None:
            raise ValidationError(_l("Enter a mobile number, like 0812 3456 7890"))

    def validate_halal_expiry(self, field: Any) -> None:
        if not field.data:
            return
        if self._expiry() is None:
            raise ValidationError(_l("Enter the date as on the certificate, like 2029-12-31"))
        if not self.halal_number.data:
            raise ValidationError(_l("Enter the halal certificate number too, or remove the date"))

    def _expiry(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.halal_expiry.data or "")
        except ValueError:
            return None

    def shop_data(self) -> dict[str, Any]:
        """The fields for `open_shop` / `save_shop` (the logo goes to `set_logo` on its own)."""
        return {
            "name": self.name.data,
            "owner_name": self.owner_name.data,
            "description": self.description.data or "",
            "category_id": int(self.category_id.data),
            "whatsapp": self.whatsapp.data,
            "opening_hours": self.opening_hours.data or "",
            "nib": self.nib.data,
            "pirt_number": self.pirt_number.data,
            "halal_number": self.halal_number.data,
            "halal_expiry": self._expiry(),
            "bpom_number": self.bpom_number.data,
            **self.address_data(),
        }


class ProductForm(BaseForm):
    """Add or edit a product: name, category, price, unit, order size, availability, shipping."""

    name = StringField(
        _l("Product name"),
        validators=[
            InputRequired(message=_l("Enter the product's name")),
            Length(max=120, message=_l("Use at most 120 characters")),
        ],
    )
    category_id = SelectField(
        _l("Category"),
        choices=[],
        validate_choice=False,
        validators=[Picked(_l("Choose the product's category"))],
    )
    price_kind = RadioField(
        _l("Price"),
        choices=[SelectChoice(k.value, PRICE_KIND_LABELS[k]) for k in PriceKind],
        validate_choice=False,
        validators=[Picked(_l("Choose how the price is shown"))],
    )
    price_min = StringField(
        _l("Price, or the lowest price of the range, in rupiah"),
        description=_l("Whole rupiah, like 25.000"),
    )
    price_max = StringField(
        _l("Highest price of the range, in rupiah"),
        description=_l("Only for a price range, like 40.000"),
    )
    unit = SelectField(
        _l("Sold per"),
        choices=[SelectChoice(u, u) for u in UNITS],
        validate_choice=False,
        validators=[Picked(_l("Choose a unit from the list"))],
    )
    min_order = StringField(
        _l("Minimum order"),
        description=_l("How many units a buyer orders at least"),
        validators=[InputRequired(message=_l("Enter the minimum order, like 1"))],
    )
    availability = RadioField(
        _l("Availability"),
        choices=[SelectChoice(a.value, AVAILABILITY_LABELS[a]) for a in Availability],
        validate_choice=False,
        validators=[Picked(_l("Choose whether the product is available"))],
    )
    description = TextAreaField(
        _l("Description"),
        description=_l("Ingredients, size, taste, how long it keeps, how to order"),
        validators=[Optional(), Length(max=4000, message=_l("Use at most 4000 characters"))],
    )
    shipping = MultiCheckboxField(
        _l("How buyers get it"),
        choices=[SelectChoice(k, label) for k, label in SHIPPING_LABELS.items()],
    )

    def load_choices(self, categories: list[MallCategory]) -> None:
        self.category_id.choices = _category_choices(categories, _l("Choose a category"))

    def set_defaults(self, shop: Shop) -> None:
        """A new product: one price, per piece, available, picked up, in the shop's category."""
        self.category_id.data = str(shop.category_id or "")
        self.price_kind.data = PriceKind.FIXED.value
        self.unit.data = "pcs"
        self.min_order.data = "1"
        self.availability.data = Availability.AVAILABLE.value
        self.shipping.data = ["pickup"]

    def fill_from(self, product: Product) -> None:
        self.name.data = product.name
        self.category_id.data = str(product.category_id or "")
        self.price_kind.data = product.price_kind.value
        self.price_min.data = format_price_input(product.price_min)
        self.price_max.data = format_price_input(product.price_max)
        self.unit.data = product.unit
        self.min_order.data = str(product.min_order)
        self.availability.data = product.availability.value
        self.description.data = product.description or ""
        self.shipping.data = [k for k, col in SHIPPING_COLUMNS.items() if getattr(product, col)]

    def _kind(self) -> PriceKind | None:
        try:
            return PriceKind(self.price_kind.data)
        except ValueError:
            return None

    def validate_shipping(self, field: Any) -> None:
        if any(value not in SHIPPING_LABELS for value in field.data or []):
            raise ValidationError(_l("Choose from the options shown"))

    def validate_price_min(self, field: Any) -> None:
        kind = self._kind()
        if kind is PriceKind.FIXED:
            if not field.data:
                raise ValidationError(_l("Enter the price in rupiah, like 25.000"))
            _price(field.data, _l("Enter the price as whole rupiah, like 25.000"))
        elif kind is PriceKind.RANGE:
            if not field.data:
                raise ValidationError(_l("Enter the lowest price, like 25.000"))
            _price(field.data, _l("Enter the lowest price as whole rupiah, like 25.000"))

    def validate_price_max(self, field: Any) -> None:
        if self._kind() is not PriceKind.RANGE:
            return
        if not field.data:
            raise ValidationError(_l("Enter the highest price, like 40.000"))
        high = _price(field.data, _l("Enter the highest price as whole rupiah, like 40.000"))
        low = parse_rupiah(self.price_min.data)
        if low is not None and high <= low:
            raise ValidationError(_l("The highest price must be more than the lowest"))

    def validate_min_order(self, field: Any) -> None:
        if not re.fullmatch(r"\d{1,6}", field.data or "") or int(field.data) < 1:
            raise ValidationError(_l("Enter the minimum order as a whole number, like 1"))

    def product_data(self) -> dict[str, Any]:
        """The fields for `save_product`."""
        kind = self._kind() or PriceKind.FIXED
        chosen = set(self.shipping.data or [])
        return {
            "name": self.name.data,
            "category_id": int(self.category_id.data),
            "price_kind": kind,
            "price_min": parse_rupiah(self.price_min.data) if kind is not PriceKind.ASK else None,
            "price_max": parse_rupiah(self.price_max.data) if kind is PriceKind.RANGE else None,
            "unit": self.unit.data,
            "min_order": int(self.min_order.data),
            "availability": Availability(self.availability.data),
            "description": self.description.data or "",
            **{col: key in chosen for key, col in SHIPPING_COLUMNS.items()},
        }


class QuickEditForm(BaseForm):
    """The dashboard's inline edit of one product: its (lowest) price and availability."""

    price_min = StringField(_l("Price in rupiah"))
    availability = SelectField(
        _l("Availability"),
        choices=[SelectChoice(a.value, AVAILABILITY_LABELS[a]) for a in Availability],
        validate_choice=False,
        validators=[Picked(_l("Choose whether the product is available"))],
    )

    def __init__(self, product: Product, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        if product.price_kind is PriceKind.RANGE:
            self.price_min.label.text = str(_l("Lowest price in rupiah"))
        if not self.is_submitted():
            self.price_min.data = format_price_input(product.price_min)
            self.availability.data = product.availability.value

    @property
    def asks_price(self) -> bool:
        return self.product.price_kind is PriceKind.ASK

    def validate_price_min(self, field: Any) -> None:
        if self.asks_price:
            return
        if not field.data:
            raise ValidationError(_l("Enter the price in rupiah, like 25.000"))
        _price(field.data, _l("Enter the price as whole rupiah, like 25.000"))

    def values(self) -> dict[str, Any]:
        return {
            "price_min": None if self.asks_price else parse_rupiah(self.price_min.data),
            "availability": Availability(self.availability.data),
        }


class PhotoForm(BaseForm):
    """One product photo (the page uploads them one at a time)."""

    photo = FileField(
        _l("Add a photo"),
        description=_l("JPEG, PNG or WebP, at most 5 MB. Up to 5 photos; the first is the cover."),
    )
