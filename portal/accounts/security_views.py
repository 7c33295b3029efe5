"""Two-step verification (set-up, login code, step-up) and the list of logged-in devices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import mfa, sessions
from portal.accounts.forms import ConfirmForm, MfaCodeForm, PasswordConfirmForm
from portal.accounts.permissions import fresh_auth_required, safe_referrer
from portal.accounts.views import _auth_limits, _next_url
from portal.core.actions import perform
from portal.core.errors import DomainError
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, is_htmx, render_page
from portal.core.logs import log_after_commit, log_event
from portal.core.security import verify_password
from portal.extensions import db

bp = Blueprint("account_security", __name__, url_prefix="/accounts")

# Reachable while a staff session still lacks its second factor: nothing that shows or changes
# anyone's data.
MFA_EXEMPT = frozenset(
    {
        "account_security.mfa_verify",
        "account_security.mfa_setup",
        "account_security.password_confirm",
        "accounts.session_delete",
        "main.language_set",
        "main.healthz",
        "main.privacy",
        "static",
    }
)


def check_exempt_endpoints(app: Any) -> None:
    """A renamed endpoint must not silently fall out of the exempt list."""
    missing = {e for e in MFA_EXEMPT if e not in app.view_functions}
    if missing:
        raise RuntimeError(f"MFA_EXEMPT names endpoints that do not exist: {sorted(missing)}")


def enforce_mfa() -> Any:
    """Before every request: a session that needs a second factor gets nothing else until it
    has one (set up the app first if there is none yet). Staff always need it; so does anyone
    who chose to set it up."""
    if not current_user.is_authenticated or request.endpoint in MFA_EXEMPT:
        return None
    if not (current_user.needs_mfa or current_user.mfa_enrolled):
        return None
    row = sessions.current()
    if row is not None and row.mfa_at is not None:
        return None
    endpoint = "mfa_verify" if current_user.mfa_enrolled else "mfa_setup"
    target = request.full_path.rstrip("?") if request.method == "GET" else safe_referrer()
    url = url_for(f"account_security.{endpoint}", next=target)
    if is_htmx():
        return hx_redirect(url, full=True)
    return redirect(url, code=303)


@bp.route("/login/mfa", methods=["GET", "POST"])
@login_required
@_auth_limits
def mfa_verify():
    """The second login step, and the step-up before sensitive actions: enter a code."""
    if not current_user.mfa_enrolled:
        return redirect(url_for(".mfa_setup", next=_next_url("")), code=303)
    row = sessions.current()
    stepping_up = row is not None and row.mfa_at is not None
    form = MfaCodeForm()
    if form.validate_on_submit():
        outcome = perform(lambda: _verified(form.code.data), form)
        if outcome.ok:
            if outcome.value == "recovery":
                flash(
                    _(
                        "You used a recovery code. %(left)s left: make new ones on the "
                        "two-step verification page.",
                        left=mfa.recovery_codes_left(current_user),
                    ),
                    "info",
                )
            return hx_redirect(_next_url(url_for("main.home")), full=True)
        log_event("mfa_failed", user_id=current_user.id)
    return render_form(
        "accounts/mfa_verify.html", form, next=_next_url(""), stepping_up=stepping_up
    )


def _verified(code: str) -> str:
    kind = mfa.verify(current_user, code)
    sessions.mark_verified(mfa=True)
    log_after_commit("mfa_verified", user_id=current_user.id, kind=kind)
    return kind


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
@_auth_limits
def password_confirm():
    """Step-up for accounts without a second factor: the password again."""
    if current_user.mfa_enrolled:
        return redirect(url_for(".mfa_verify", next=_next_url("")), code=303)
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if perform(lambda: _password_confirmed(form.password.data), form).ok:
            return hx_redirect(_next_url(url_for("main.home")), full=True)
        log_event("step_up_failed", user_id=current_user.id)
    return render_form("accounts/password_confirm.html", form, next=_next_url(""))


def _password_confirmed(password: str) -> None:
    if not verify_password(current_user.password_hash, password):
        raise DomainError("password", _("Your password is not correct"))
    sessions.mark_verified(mfa=False)
    log_after_commit("step_up_verified", user_id=current_user.id)


@bp.route("/mfa/setup", methods=["GET", "POST"])
@login_required
@_auth_limits
def mfa_setup():
    """Scan the QR code, type the first code: recovery codes are shown once."""
    if current_user.mfa_enrolled:
        return redirect(url_for(".mfa_show"), code=303)
    secret = perform(lambda: mfa.begin_enrolment(current_user)).value
    if secret is None:
        abort(409)
    form = MfaCodeForm()
    if form.validate_on_submit():
        outcome = perform(lambda: _enrolled(form.code.data), form)
        if outcome.ok:
            return render_page(
                "accounts/mfa_codes.html",
                codes=outcome.value,
                next=_next_url(url_for("main.home")),
                first_time=True,
            )
    uri = mfa.provisioning_uri(current_user, secret)
    return render_form(
        "accounts/mfa_setup.html",
        form,
        qr=mfa.qr_data_uri(uri),
        secret=mfa.grouped(secret),
        next=_next_url(""),
        required=current_user.needs_mfa,
    )


def _enrolled(code: str) -> list[str]:
    codes = mfa.confirm_enrolment(current_user, code)
    sessions.mark_verified(mfa=True)
    return codes


@bp.route("/mfa")
@login_required
def mfa_show():
    return render_page(
        "accounts/mfa_show.html",
        left=mfa.recovery_codes_left(current_user) if current_user.mfa_enrolled else 0,
        confirm_form=ConfirmForm(),
    )


@bp.route("/mfa/recovery-codes", methods=["POST"])
@login_required
@fresh_auth_required
def mfa_recovery_codes():
    if not current_user.mfa_enrolled or not ConfirmForm().validate_on_submit():
        abort(400)
    codes = perform(lambda: mfa.regenerate_recovery_codes(current_user)).value
    return render_page("accounts/mfa_codes.html", codes=codes, next=url_for(".mfa_show"))


@bp.route("/sessions")
@login_required
def session_index():
    """Where am I logged in? Each device with its last use, and a way to end it."""
    return render_page(
        "accounts/session_index.html",
        rows=sessions.open_sessions(current_user),
        this=sessions.current(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@login_required
@fresh_auth_required
def session_end(session_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    this = sessions.current()
    if this is not None and this.id == session_id:
        sessions.end_current()
        db.session.commit()
        flash(_("You have logged out."), "info")
        return hx_redirect(url_for("main.home"), full=True)
    if not perform(lambda: sessions.end_one(current_user, session_id)).value:
        abort(404)
    flash(_("That device is logged out."), "success")
    return hx_redirect(url_for(".session_index"))


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
@fresh_auth_required
def session_end_others():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ended = perform(
        lambda: sessions.end_all(current_user, "other_devices", keep=sessions.current())
    ).value
    flash(
        _("Logged out on %(count)s other device(s).", count=ended or 0)
        if ended
        else _("You were not logged in anywhere else."),
        "success",
    )
    return hx_redirect(url_for(".session_index"))
