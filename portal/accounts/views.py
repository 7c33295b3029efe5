"""Register, log in and out, passwords, and the resident's own profile."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from portal.accounts import services, sessions
from portal.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegisterForm,
)
from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, render_page
from portal.core.identity import (
    local_phone,
    looks_like_phone,
    mask_email,
    mask_phone,
    normalize_phone,
)
from portal.core.logs import log_event
from portal.core.notifications import send_mail
from portal.core.security import is_safe_next
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _ip_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT_IP"]


def _account_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT_ACCOUNT"]


def _account_key() -> str:
    """Rate-limit key for the account being tried, whatever way its phone or email is written.

    For the second login step the account is the one already identified by its password.
    """
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    raw = (
        request.form.get("identifier")
        or request.form.get("email")
        or request.form.get("phone")
        or ""
    )
    user = services.find_user_by_identifier(raw)
    return f"user:{user.id}" if user else f"id:{raw.strip().lower()[:254]}"


# One bucket per IP and one per account, shared by login, registration and reset, so spreading
# attempts over the three forms gains an attacker nothing.
_ip_bucket = limiter.shared_limit(_ip_limit, scope="auth-ip", methods=["POST"])
_account_bucket = limiter.shared_limit(
    _account_limit, scope="auth-account", key_func=_account_key, methods=["POST"]
)


def _auth_limits(view):  # type: ignore[no-untyped-def]
    """Per-IP and per-account limits on the POST of an authentication form."""
    return _account_bucket(_ip_bucket(view))


def _next_url(default: str) -> str:
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_next(target) else default


@bp.route("/register", methods=["GET", "POST"])
@_auth_limits
def account_new():
    if current_user.is_authenticated:
        return hx_redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.register_user(
                full_name=form.full_name.data,
                email=form.email.data or None,
                phone=form.phone.data or None,
                password=form.password.data,
                consent=form.consent.data,
            ),
            form,
        )
        if outcome.ok:
            sessions.start(outcome.value)
            db.session.commit()
            log_event("account_registered", user_id=outcome.value.id)
            flash(
                _("Your account is ready. Add your address so services can reach you."), "success"
            )
            return hx_redirect(url_for("accounts.profile_edit"), full=True)
    return render_form("accounts/account_new.html", form)


@bp.route("/login", methods=["GET", "POST"])
@_auth_limits
def session_new():
    if current_user.is_authenticated:
        return hx_redirect(_next_url(url_for("main.home")))
    form = LoginForm()
    if form.validate_on_submit():
        user = perform(
            lambda: services.authenticate(form.identifier.data, form.password.data)
        ).value
        if user is not None:
            target = _next_url(url_for("main.home"))
            # A fresh session on login: no fixation of a session from before.
            sessions.start(user, remember=form.remember.data)
            db.session.commit()
            log_event("login", user_id=user.id, second_factor_due=user.needs_mfa)
            if user.needs_mfa or user.mfa_enrolled:
                step = "mfa_verify" if user.mfa_enrolled else "mfa_setup"
                return hx_redirect(url_for(f"account_security.{step}", next=target), full=True)
            flash(_("Welcome, %(name)s.", name=user.first_name), "success")
            return hx_redirect(target, full=True)
        log_event("login_failed", identifier=_masked_identifier(form.identifier.data))
        form.form_errors.append(
            _("The phone number or email and password do not match an active account")
        )
    return render_form("accounts/session_new.html", form, next=_next_url(""))


_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NOT_AN_IDENTIFIER = "(neither a phone number nor an email)"


def _masked_identifier(raw: str) -> str:
    """What the log may say about a failed login: enough to spot an attack, not who it was.

    Anything that is not a phone number or an email is not written at all: people type their
    password into the wrong field, and mask_email/mask_phone would pass most of it through.
    """
    raw = (raw or "").strip()[:254]
    if looks_like_phone(raw):
        phone = normalize_phone(raw)
        return mask_phone(phone) if phone else _NOT_AN_IDENTIFIER
    return mask_email(raw) if _EMAIL_SHAPE.fullmatch(raw) else _NOT_AN_IDENTIFIER


@bp.route("/logout", methods=["POST"])
@login_required
def session_delete():
    user_id = current_user.id
    sessions.end_current("logout")
    db.session.commit()
    log_event("logout", user_id=user_id)
    flash(_("You have logged out."), "info")
    return hx_redirect(url_for("main.home"), full=True)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password_edit():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        change = perform(
            lambda: (
                services.change_password(user, form.current_password.data, form.new_password.data),
                sessions.rotate(user),
            ),
            form,
        )
        if change.ok:
            flash(
                _("Your password has been changed. Other devices have been logged out."),
                "success",
            )
            return hx_redirect(url_for("accounts.profile_show"))
    return render_form("accounts/password_edit.html", form)


@bp.route("/password-reset", methods=["GET", "POST"])
@_auth_limits
def password_reset_request():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        created = perform(lambda: services.create_password_reset(form.email.data)).value
        if created is not None:
            # After the commit: a slow mail server must not hold the transaction open.
            user, token = created
            link = url_for("accounts.password_reset_edit", token=token, _external=True)
            send_mail(
                user.email or "",
                _("Reset your Portal Layanan Deli Serdang password"),
                _(
                    "Hello %(name)s,\n\nOpen this link within 1 hour to choose a new password:\n"
                    "%(link)s\n\nThe link works once. "
                    "If you did not ask for it, ignore this email; "
                    "your password stays the same.\n",
                    name=user.first_name,
                    link=link,
                ),
            )
        # The same answer whether or not the address has an account.
        return render_page("accounts/password_reset_sent.html", email=form.email.data)
    return render_form("accounts/password_reset_request.html", form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@_auth_limits
def password_reset_edit(token: str):
    if services.reset_token_user(token) is None:
        return render_page("accounts/password_reset_invalid.html", status=404)
    form = PasswordResetForm()
    reset = form.validate_on_submit() and perform(
        lambda: services.reset_password(token, form.password.data), form
    )
    if reset and reset.ok:
        logout_user()
        session.clear()
        flash(_("Your password has been changed. Log in with the new password."), "success")
        return hx_redirect(url_for("accounts.session_new"), full=True)
    return render_form("accounts/password_reset_edit.html", form, token=token)


@bp.route("/profile")
@login_required
def profile_show():
    return render_page("accounts/profile_show.html", user=current_user)


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
def profile_edit():
    form = ProfileForm()
    form.load_address_choices()
    if request.method == "GET":
        form.full_name.data = current_user.full_name
        form.email.data = current_user.email or ""
        form.phone.data = local_phone(current_user.phone)
        form.nik.data = current_user.nik or ""
        form.fill_address(current_user)
    if form.validate_on_submit():
        data = services.ProfileData(
            full_name=form.full_name.data,
            email=form.email.data or None,
            phone=form.phone.data or None,
            nik=form.nik.data or None,
            address=form.address_data(),
        )
        if perform(
            lambda: services.update_profile(current_user, data, form.current_password.data),
            form,
        ).ok:
            flash(_("Your profile has been saved."), "success")
            return hx_redirect(url_for("accounts.profile_show"))
    return render_form("accounts/profile_edit.html", form)
