"""Deli Serdang Mall administration forms: shop decisions, moderation of a report, categories.

Formats are checked here; what depends on the shop's or report's state (the transition table,
a report already handled, a short name in use) is the service's to refuse, and its message
lands on the same form.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Regexp, ValidationError

from portal.core.forms import BaseForm
from portal.mall.models import MallCategory, ReportStatus

REASON_MAX = 2000


class ActionForm(BaseForm):
    """A button that only needs the CSRF token (verify, reinstate, lift a block)."""


class ChangesForm(BaseForm):
    reason = TextAreaField(
        _l("What the seller must change"),
        description=_l("Sent to the seller and shown on their shop page. Be specific."),
        validators=[
            InputRequired(message=_l("Tell the seller what to change")),
            Length(max=REASON_MAX, message=_l("Use at most 2000 characters")),
        ],
    )


class SuspendForm(BaseForm):
    reason = TextAreaField(
        _l("Reason for the suspension"),
        description=_l(
            "Sent to the seller. While suspended, the shop and its products are not public."
        ),
        validators=[
            InputRequired(message=_l("Give the reason for the suspension")),
            Length(max=REASON_MAX, message=_l("Use at most 2000 characters")),
        ],
    )


RESOLVE_LABELS = {
    ReportStatus.HIDDEN: _l("Hide the listing"),
    ReportStatus.WARNED: _l("Warn the seller"),
    ReportStatus.SUSPENDED: _l("Suspend the shop"),
    ReportStatus.DISMISSED: _l("Dismiss the report"),
}
RESOLVE_HINTS = {
    ReportStatus.HIDDEN: _l("The product stays hidden until an admin lifts the block."),
    ReportStatus.WARNED: _l("The listing stays; the seller's warnings count goes up by one."),
    ReportStatus.SUSPENDED: _l("The whole shop and all its products leave the catalogue."),
    ReportStatus.DISMISSED: _l("Nothing is wrong with the listing; the seller is not told."),
}


class ResolveReportForm(BaseForm):
    action = RadioField(
        _l("What to do"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose what to do"))],
    )
    note = TextAreaField(
        _l("Note to the seller"),
        description=_l("Needed unless the report is dismissed: the seller reads it."),
        validators=[Length(max=REASON_MAX, message=_l("Use at most 2000 characters"))],
    )

    def set_actions(self, can_suspend: bool) -> None:
        """Suspension is offered only when the shop's state allows it (a verified shop)."""
        self.action.choices = [
            SelectChoice(status.value, label)
            for status, label in RESOLVE_LABELS.items()
            if can_suspend or status is not ReportStatus.SUSPENDED
        ]

    def validate_action(self, field: Any) -> None:
        if field.data not in {choice.value for choice in self.action.choices}:
            raise ValidationError(_l("Choose what to do"))

    def validate_note(self, field: Any) -> None:
        if self.action.data != ReportStatus.DISMISSED.value and not field.data:
            raise ValidationError(_l("Write the reason the seller will read"))

    def chosen(self) -> ReportStatus:
        return ReportStatus(self.action.data)


class CategoryForm(BaseForm):
    slug = StringField(
        _l("Short name"),
        description=_l(
            "Used in web addresses: lowercase letters, digits and hyphens, like kuliner"
        ),
        validators=[
            InputRequired(message=_l("Enter the short name")),
            Length(max=40, message=_l("Use at most 40 characters")),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message=_l("Use only lowercase letters, digits and hyphens, like kuliner"),
            ),
        ],
    )
    name = StringField(
        _l("Name"),
        description=_l("As sellers and buyers say it"),
        validators=[
            InputRequired(message=_l("Enter the category's name")),
            Length(max=80, message=_l("Use at most 80 characters")),
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
    is_active = BooleanField(_l("Active: sellers can choose this category"))

    def fill(self, category: MallCategory) -> None:
        self.slug.data, self.name.data = category.slug, category.name
        self.position.data, self.is_active.data = category.position, category.is_active

    def data_for_service(self) -> dict[str, Any]:
        return {
            "slug": self.slug.data,
            "name": self.name.data,
            "position": self.position.data,
            "is_active": bool(self.is_active.data),
        }
