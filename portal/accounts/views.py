"""Register, log in and out, passwords, and the resident's own profile."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegisterForm,
)
from portal.core.errors import DomainError
from portal.core.htmx import hx_redirect, render_page
from portal.core.identity import local_phone
from portal.core.notifications import send_mail
from portal.core.security import is_safe_next
from portal.extensions import db, limiter

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _ip_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT_IP"]


def _account_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT_ACCOUNT"]


def _account_key() -> str:
    """Rate-limit key for the account being tried, whatever way its phone or email is written."""
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


def _invalid(template: str, form, **ctx):  # type: ignore[no-untyped-def]
    """Re-render a form with its errors: 422, error summary, everything typed kept."""
    return render_page(template, form=form, status=422, **ctx)


@bp.route("/register", methods=["GET", "POST"])
@_auth_limits
def account_new():
    if current_user.is_authenticated:
        return hx_redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(
                full_name=form.full_name.data,
                email=form.email.data or None,
                phone=form.phone.data or None,
                password=form.password.data,
                consent=form.consent.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form.add_domain_error(exc)
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash(
                _("Your account is ready. Add your address so services can reach you."), "success"
            )
            return hx_redirect(url_for("accounts.profile_edit"), full=True)
    if form.is_submitted():
        return _invalid("accounts/account_new.html", form)
    return render_page("accounts/account_new.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@_auth_limits
def session_new():
    if current_user.is_authenticated:
        return hx_redirect(_next_url(url_for("main.home")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.identifier.data, form.password.data)
        if user is not None:
            db.session.commit()
            target = _next_url(url_for("main.home"))
            session.clear()  # a fresh session on login: no fixation of a session from before
            login_user(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.first_name), "success")
            return hx_redirect(target, full=True)
        db.session.rollback()
        form.form_errors.append(
            _("The phone number or email and password do not match an active account")
        )
        form.password.data = ""
    if form.is_submitted():
        return _invalid("accounts/session_new.html", form, next=_next_url(""))
    return render_page("accounts/session_new.html", form=form, next=_next_url(""))


@bp.route("/logout", methods=["POST"])
@login_required
def session_delete():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return hx_redirect(url_for("main.home"), full=True)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password_edit():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except DomainError as exc:
            db.session.rollback()
            form.add_domain_error(exc)
        else:
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return hx_redirect(url_for("accounts.profile_show"))
    if form.is_submitted():
        return _invalid("accounts/password_edit.html", form)
    return render_page("accounts/password_edit.html", form=form)


@bp.route("/password-reset", methods=["GET", "POST"])
@_auth_limits
def password_reset_request():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        created = services.create_password_reset(form.email.data)
        db.session.commit()
        if created is not None:
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
        return render_page("accounts/password_reset_sent.html", email=form.email.data)
    if form.is_submitted():
        return _invalid("accounts/password_reset_request.html", form)
    return render_page("accounts/password_reset_request.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@_auth_limits
def password_reset_edit(token: str):
    form = PasswordResetForm()
    if services.reset_token_user(token) is None:
        return render_page("accounts/password_reset_invalid.html", status=404)
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            form.add_domain_error(exc)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your password has been changed. Log in with the new password."), "success")
            return hx_redirect(url_for("accounts.session_new"), full=True)
    if form.is_submitted():
        return _invalid("accounts/password_reset_edit.html", form, token=token)
    return render_page("accounts/password_reset_edit.html", form=form, token=token)


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
        try:
            services.update_profile(current_user, data)
        except DomainError as exc:
            db.session.rollback()
            form.add_domain_error(exc)
        else:
            db.session.commit()
            flash(_("Your profile has been saved."), "success")
            return hx_redirect(url_for("accounts.profile_show"))
    if form.is_submitted():
        return _invalid("accounts/profile_edit.html", form)
    return render_page("accounts/profile_edit.html", form=form)
