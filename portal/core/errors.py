"""Domain errors raised by services and shown to users by views."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused an action.

    `field` names the form field the message belongs to (None for the whole form), so the view can
    put the message next to what the user has to change.
    """

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
