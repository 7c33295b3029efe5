"""Access rules for views: who may open which endpoint, and whose records they may see."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import sessions
from portal.accounts.models import Role, User
from portal.core.htmx import hx_redirect
from portal.core.logs import log_event
from portal.core.security import is_safe_next
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


def safe_referrer() -> str | None:
    """Where a refused POST came from (same site only), to return there after a step-up."""
    ref = request.referrer or ""
    host = request.host_url
    if ref.startswith(host):
        path = "/" + ref[len(host) :]
        return path if is_safe_next(path) else None
    return None


def fresh_auth_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Sensitive actions (money out, roles, full NIK) need a login or step-up in the last
    STEPUP_MAX_AGE_SECONDS; otherwise the person re-enters a code first and comes back."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not sessions.auth_is_recent():
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            target = target or safe_referrer()
            log_event("step_up_required", endpoint=request.endpoint)
            flash(_("For your security, confirm it is you before you continue."), "info")
            step = "mfa_verify" if current_user.mfa_enrolled else "password_confirm"
            return hx_redirect(url_for(f"account_security.{step}", next=target), full=True)
        return view(*args, **kwargs)

    return wrapped
