"""perform(): one action, one transaction; a refusal undoes everything and says why."""

from __future__ import annotations

from flask import get_flashed_messages
from sqlalchemy import func, select

from portal.accounts.forms import LoginForm
from portal.accounts.models import User
from portal.core.actions import perform
from portal.core.errors import DomainError
from portal.extensions import db
from tests.factories import make_user


def _count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def test_success_is_committed(app, ctx):
    outcome = perform(lambda: make_user(commit=False).id)
    assert outcome.ok and outcome.value is not None
    db.session.rollback()  # nothing left to roll back: it was committed
    assert _count() == 1


def test_refusal_rolls_back_what_the_action_already_did(app, ctx):
    def half_done() -> None:
        make_user(commit=False)  # flushed, not committed
        raise DomainError("identifier", "Tidak boleh")

    form = LoginForm(meta={"csrf": False})
    outcome = perform(half_done, form)
    assert not outcome.ok and outcome.error.message == "Tidak boleh"
    assert form.identifier.errors == ["Tidak boleh"]
    assert form.errors == {"identifier": ["Tidak boleh"]}
    assert _count() == 0


def test_refusal_without_a_form_is_flashed(app, ctx):
    def refuse() -> None:
        raise DomainError(None, "Peran ini sudah dihapus")

    assert not perform(refuse).ok
    assert get_flashed_messages(with_categories=True) == [("error", "Peran ini sudah dihapus")]


def test_a_form_level_refusal_goes_to_the_summary(app, ctx):
    def refuse() -> None:
        raise DomainError(None, "Tautan sudah kedaluwarsa")

    form = LoginForm(meta={"csrf": False})
    perform(refuse, form)
    assert form.form_errors == ["Tautan sudah kedaluwarsa"] and form.has_errors
