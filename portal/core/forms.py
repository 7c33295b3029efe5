"""BaseForm: every form strips surrounding whitespace from text input before validating."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from portal.core.errors import DomainError


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Flask-WTF form with whitespace stripping and a way to show service errors on a field."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict) -> Any:
            filters = list(unbound_field.kwargs.get("filters") or [])
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
