"""Admin pages: find accounts, grant and revoke roles, disable accounts, read the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.accounts import mfa, services, sessions
from portal.accounts.forms import ConfirmForm, RoleGrantForm
from portal.accounts.models import Role, User
from portal.accounts.permissions import fresh_auth_required, get_user_or_404, role_required
from portal.core.actions import perform
from portal.core.audit import AuditLog
from portal.core.htmx import hx_redirect, render_page
from portal.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 25


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def user_index():
    """All accounts (GET, paged), or a search (POST).

    Searches go in the body, not the URL: a phone number or email in `?q=` would end up in
    access logs, browser history and Referer headers. GOV.UK Notify's admin does the same.
    """
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        query, page = request.form.get("q", "").strip()[:100], 1
    else:
        query, page = "", _page()
    users, total = services.search_users(query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_page(
        "admin/user_index.html",
        partial="admin/_user_results.html",
        target="user-results",
        users=users,
        total=total,
        query=query,
        page=page,
        # A search shows its first page only; past that, the admin narrows the search.
        pages=1 if query else max(1, -(-total // PAGE_SIZE)),
    )


def _user_page(user: User, *, grant_form: RoleGrantForm | None = None, status: int = 200):
    grant_form = grant_form or RoleGrantForm()
    audit = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.target_user_id == user.id)
        .order_by(AuditLog.id.desc())
        .limit(20)
    ).all()
    return render_page(
        "admin/user_show.html",
        user=user,
        grant_form=grant_form,
        form=grant_form,
        confirm_form=ConfirmForm(),
        audit=audit,
        open_sessions=len(sessions.open_sessions(user)),
        status=status,
    )


@bp.route("/users/<int:user_id>")
@role_required(Role.ADMIN)
def user_show(user_id: int):
    return _user_page(get_user_or_404(user_id, current_user))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@role_required(Role.ADMIN)
@fresh_auth_required
def role_create(user_id: int):
    user = get_user_or_404(user_id, current_user)
    form = RoleGrantForm()
    if form.validate_on_submit():
        grant = perform(
            lambda: services.grant_role(
                current_user, user, Role(form.role.data), form.scope.data or ""
            ),
            form,
        )
        if grant.ok:
            flash(_("Role granted."), "success")
            return hx_redirect(url_for("admin.user_show", user_id=user.id))
    return _user_page(user, grant_form=form, status=422)


@bp.route("/users/<int:user_id>/roles/<int:grant_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
@fresh_auth_required
def role_delete(user_id: int, grant_id: int):
    user = get_user_or_404(user_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if perform(lambda: services.revoke_role(current_user, user, grant_id)).ok:
        flash(_("Role removed."), "success")
    return hx_redirect(url_for("admin.user_show", user_id=user.id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@role_required(Role.ADMIN)
def user_disable(user_id: int):
    return _set_disabled(user_id, True)


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@role_required(Role.ADMIN)
def user_enable(user_id: int):
    return _set_disabled(user_id, False)


def _set_disabled(user_id: int, disabled: bool):
    user = get_user_or_404(user_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if perform(lambda: services.set_disabled(current_user, user, disabled)).ok:
        flash(_("Account disabled.") if disabled else _("Account enabled."), "success")
    return hx_redirect(url_for("admin.user_show", user_id=user.id))


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@role_required(Role.ADMIN)
def user_sessions_end(user_id: int):
    user = get_user_or_404(user_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ended = perform(lambda: services.end_sessions(current_user, user))
    if ended.ok:
        flash(_("Logged out on %(count)s device(s).", count=ended.value or 0), "success")
    return hx_redirect(url_for("admin.user_show", user_id=user.id))


@bp.route("/users/<int:user_id>/mfa/reset", methods=["POST"])
@role_required(Role.ADMIN)
@fresh_auth_required
def user_mfa_reset(user_id: int):
    """A lost phone and lost recovery codes: the person sets up the app again at next login."""
    user = get_user_or_404(user_id, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if perform(
        lambda: (mfa.reset(current_user, user), services.end_sessions(current_user, user))
    ).ok:
        flash(_("Two-step verification reset; the account must set it up again."), "success")
    return hx_redirect(url_for("admin.user_show", user_id=user.id))


@bp.route("/audit")
@role_required(Role.ADMIN)
def audit_index():
    page = _page()
    entries = db.session.scalars(
        select(AuditLog)
        .order_by(AuditLog.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(
                User.id.in_({e.actor_id for e in entries} | {e.target_user_id for e in entries})
            )
        )
    }
    return render_page(
        "admin/audit_index.html",
        entries=entries[:PAGE_SIZE],
        users=users,
        page=page,
        has_next=len(entries) > PAGE_SIZE,
    )
