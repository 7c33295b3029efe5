"""Deli Serdang Mall forms for visitors: the catalogue search (GET) and reporting a listing.

The search form only reads the query string, so a search can be shared as a link; values a
visitor edited into the URL that match no real choice are ignored rather than refused.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from portal.core.forms import BaseForm
from portal.mall.models import REPORT_REASON_LABELS, MallCategory, ReportReason
from portal.mall.services import CatalogueQuery
from portal.wilayah.services import KecamatanEntry

SORT_LABELS = {
    "relevance": _l("Best match"),
    "newest": _l("Newest"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
}


def parse_rupiah(value: Any) -> int | None:
    """ "25.000", "25000", "Rp 25.000" -> 25000; empty -> None; anything else -> ValueError."""
    text = re.sub(r"^rp\.?", "", str(value or "").strip(), flags=re.IGNORECASE)
    text = re.sub(r"[\s.]", "", text)
    if not text:
        return None
    if not re.fullmatch(r"\d{1,12}", text):
        raise ValueError(text)
    return int(text)


class RupiahInput:
    """An optional whole number of rupiah, with or without dots between thousands."""

    def __call__(self, form: Any, field: Any) -> None:
        try:
            parse_rupiah(field.data)
        except ValueError:
            raise ValidationError(
                _l("Enter a price in whole rupiah, like 25.000, or leave it empty")
            ) from None


class CatalogueForm(BaseForm):
    """The catalogue's search and filters, read from the query string.

    It changes nothing, so it carries no CSRF token (a GET form would put one in every URL).
    """

    class Meta:
        csrf = False

    q = StringField(_l("Search products"), validators=[Length(max=100)])
    category = SelectField(_l("Category"), choices=[], validate_choice=False)
    kecamatan = SelectField(_l("Kecamatan"), choices=[], validate_choice=False)
    price_min = StringField(_l("Lowest price (Rp)"), validators=[RupiahInput()])
    price_max = StringField(_l("Highest price (Rp)"), validators=[RupiahInput()])
    verified_only = BooleanField(_l("Verified shops only"))
    halal_only = BooleanField(_l("Halal certified only"))
    available_now = BooleanField(_l("Available now"))
    sort = SelectField(
        _l("Sort by"),
        choices=[SelectChoice(value, label) for value, label in SORT_LABELS.items()],
        default="relevance",
        validate_choice=False,
    )

    def set_choices(
        self, categories: list[MallCategory], kecamatan: list[KecamatanEntry]
    ) -> None:
        self.category.choices = [SelectChoice("", _l("All categories"))] + [
            SelectChoice(c.slug, c.name) for c in categories
        ]
        self.kecamatan.choices = [SelectChoice("", _l("All kecamatan"))] + [
            SelectChoice(k.code, k.name) for k in kecamatan
        ]

    def validate_price_max(self, field: Any) -> None:
        try:
            low, high = parse_rupiah(self.price_min.data), parse_rupiah(field.data)
        except ValueError:
            return  # the format error is already on the field
        if low is not None and high is not None and high < low:
            raise ValidationError(_l("The highest price must be at least the lowest price"))

    def _choice(self, field: Any) -> str:
        values = {str(choice.value) for choice in field.choices or []}
        return field.data if field.data and str(field.data) in values else ""

    def _price(self, field: Any) -> int | None:
        if field.errors:
            return None
        try:
            return parse_rupiah(field.data)
        except ValueError:
            return None

    def query(self) -> CatalogueQuery:
        """The search as the service takes it; a filter with an error is left out."""
        sort = self.sort.data if self.sort.data in SORT_LABELS else "relevance"
        return CatalogueQuery(
            q=(self.q.data or "")[:100] if not self.q.errors else "",
            category=self._choice(self.category),
            kecamatan=self._choice(self.kecamatan),
            price_min=self._price(self.price_min),
            price_max=self._price(self.price_max),
            verified_only=bool(self.verified_only.data),
            halal_only=bool(self.halal_only.data),
            available_now=bool(self.available_now.data),
            sort=sort,
        )

    def url_args(self) -> dict[str, str]:
        """The search as query-string arguments, only those that differ from the default."""
        query = self.query()
        args: dict[str, str] = {}
        if query.q:
            args["q"] = query.q
        if query.category:
            args["category"] = query.category
        if query.kecamatan:
            args["kecamatan"] = query.kecamatan
        for name in ("price_min", "price_max"):
            value = getattr(query, name)
            if value is not None:
                args[name] = str(value)
        for name in ("verified_only", "halal_only", "available_now"):
            if getattr(query, name):
                args[name] = "y"
        if query.sort != "relevance":
            args["sort"] = query.sort
        return args

    @property
    def is_filtered(self) -> bool:
        """Whether anything beyond the words typed narrows the results."""
        return any(key not in ("q", "sort") for key in self.url_args())


class ReportForm(BaseForm):
    """Report a listing to the moderators; the detail is required for "something else"
    (a service rule, checked again there)."""

    reason = RadioField(
        _l("What is wrong with this listing?"),
        choices=[SelectChoice(r.value, REPORT_REASON_LABELS[r]) for r in ReportReason],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose what is wrong with this listing"))],
    )
    detail = TextAreaField(
        _l("Details (optional)"),
        description=_l(
            "What should the moderators look at? Required for \u201cSomething else\u201d."
        ),
        validators=[Length(max=2000, message=_l("Use at most 2000 characters"))],
    )

    def validate_reason(self, field: Any) -> None:
        if field.data not in {r.value for r in ReportReason}:
            raise ValidationError(_l("Choose what is wrong with this listing"))

    def validate_detail(self, field: Any) -> None:
        if self.reason.data == ReportReason.OTHER.value and not (field.data or "").strip():
            raise ValidationError(_l("Say what is wrong with this listing"))
