"""BaseForm: every form strips surrounding whitespace from text input before validating."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.errors import DomainError
from portal.core.htmx import render_page


def float_or_none(value: Any) -> float | None:
    """A number typed or sent by a script (map pin, GPS), or None when empty or not a number."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _choice_value(choice: Any) -> Any:
    """A choice's value, whether given as a (value, label) tuple or a WTForms SelectChoice."""
    return getattr(choice, "value", None) if hasattr(choice, "value") else choice[0]


class Chosen:
    """One of the field's real choices (not the "Choose..." placeholder), or this message.

    Replaces WTForms' own required and "Not a valid choice" checks, which would show two
    messages, one of them generic, for a radio group left unanswered.
    """

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        values = {str(_choice_value(c)) for c in field.choices or [] if _choice_value(c) != ""}
        if field.data in (None, "") or str(field.data) not in values:
            raise StopValidation(self.message)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes sharing one name (rendered by the `checkboxes` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Flask-WTF form with whitespace stripping and a way to show service errors on a field."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict) -> Any:
            filters = list(unbound_field.kwargs.get("filters") or [])
            # A password is checked exactly as typed (ASVS 6.2.8): spaces are part of it.
            if not issubclass(unbound_field.field_class, PasswordField):
                filters.insert(0, _strip)
            return unbound_field.bind(form=form, filters=filters, **options)

    def add_domain_error(self, error: DomainError) -> None:
        """Attach a service's DomainError to its field, or to the form as a whole."""
        field = getattr(self, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            self.form_errors.append(error.message)
        self._errors = None  # WTForms caches `errors`; recompute with the new message

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or bool(self.form_errors)


def render_form(template: str, form: BaseForm, **context: Any) -> Response:
    """Render a page with a form: 200 when first shown, 422 when a submission comes back.

    A form only comes back after a submission when it was refused, so 422 carries the error
    summary, the inline messages and everything typed (and htmx swaps it, see base.html).
    """
    status = 422 if form.is_submitted() else 200
    return render_page(template, form=form, status=status, **context)
