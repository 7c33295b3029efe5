"""Access rules for views: who may open which endpoint, and whose records they may see."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from portal.accounts.models import Role, User
from portal.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: Role) -> Callable[[F], F]:
    """Require a logged-in user holding at least one of `roles` (403 otherwise).

    Role-gated pages are not secret, so 403 is honest; records of other people use
    `get_..._or_404` instead, so their existence is not confirmed.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def get_user_or_404(user_id: int, actor: User) -> User:
    """An account as seen by `actor`: admins see any account; anyone else only their own."""
    user = db.session.get(User, user_id)
    if user is None or (user.id != actor.id and not actor.is_admin):
        abort(404)
    return user
