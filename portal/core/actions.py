"""One user action = one transaction: run a service, commit it, or undo it and show why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash

from portal.core.errors import DomainError
from portal.extensions import db

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    """What happened: `ok` with the service's return value, or the DomainError that refused it."""

    ok: bool
    value: T | None = None
    error: DomainError | None = None


def perform(action: Callable[[], T], form: Any | None = None) -> Outcome[T]:
    """Run `action` (a service call) and commit; on DomainError roll back everything it did.

    The refusal goes onto the form's field when there is a form, otherwise into a flash message,
    so views never hold half-done changes and every area handles refusals the same way.
    """
    try:
        value = action()
    except DomainError as exc:
        db.session.rollback()
        if form is not None:
            form.add_domain_error(exc)
        else:
            flash(exc.message, "error")
        return Outcome(ok=False, error=exc)
    db.session.commit()
    return Outcome(ok=True, value=value)
