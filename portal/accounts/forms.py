"""Account forms: register, log in, passwords, profile, and the admin's role and search forms."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.accounts.models import GRANTABLE_ROLES
from portal.core.forms import BaseForm
from portal.core.identity import kk_problem, nik_problem, normalize_phone
from portal.core.security import PASSWORD_MAX, PASSWORD_MIN, password_problem
from portal.wilayah.forms import AddressFields


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class EmailAddress:
    """A syntactically valid email address (no DNS look-up: forms must not wait on the network).

    The reserved `.test` domain is accepted only in demo mode, where the demo accounts live.
    """

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            validate_email(
                field.data,
                check_deliverability=False,
                test_environment=bool(current_app.config.get("DEMO_MODE")),
            )
        except EmailNotValidError as exc:
            raise ValidationError(_l("Enter an email address like nama@contoh.id")) from exc


class PhoneNumber:
    """An Indonesian mobile number (+628...)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and normalize_phone(field.data) is None:
            raise ValidationError(_l("Enter a mobile number like 0812 3456 7890"))


class NewPassword:
    """8 to 128 characters, not one of the most common passwords; no composition rules."""

    def __call__(self, form: Any, field: Any) -> None:
        problem = password_problem(field.data or "")
        if problem == "short":
            raise ValidationError(_l("Use at least %(n)d characters", n=PASSWORD_MIN))
        if problem == "long":
            raise ValidationError(_l("Use at most %(n)d characters", n=PASSWORD_MAX))
        if problem == "common":
            raise ValidationError(
                _l("This password is too common and easy to guess; choose another")
            )


class NikNumber:
    """A NIK as described in DOMAIN.md; the message says what is wrong with it."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        problem = nik_problem(field.data)
        if problem == "length":
            raise ValidationError(_l("A NIK has exactly 16 digits"))
        if problem == "date":
            raise ValidationError(_l("Digits 7 to 12 of a NIK are a birth date; check them"))
        if problem in ("serial", "region"):
            raise ValidationError(_l("This is not a valid NIK; check it against your KTP or KK"))


class KkNumber:
    """A nomor KK (family card number)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        problem = kk_problem(field.data)
        if problem == "length":
            raise ValidationError(_l("A KK number has exactly 16 digits"))
        if problem:
            raise ValidationError(_l("This is not a valid KK number; check it against your KK"))


class ContactFields:
    """Phone and/or email: at least one is needed to log in and to be reached."""

    phone = StringField(
        _l("Mobile phone number"),
        description=_l("For example 0812 3456 7890"),
        # Kept as typed (re-shown that way on errors); the service stores the +62 form.
        validators=[Optional(), PhoneNumber()],
    )
    email = EmailField(
        _l("Email address"),
        description=_l("Needed to reset a forgotten password by email"),
        validators=[
            Optional(),
            Length(max=254),
            EmailAddress(),
        ],
        filters=[_lower],
    )

    def validate_phone(self, field: Any) -> None:
        if not field.data and not self.email.data:
            raise ValidationError(_l("Enter a mobile phone number or an email address"))


class RegisterForm(ContactFields, BaseForm):
    full_name = StringField(
        _l("Full name"),
        description=_l("As written on your KTP"),
        validators=[
            InputRequired(message=_l("Enter your full name")),
            Length(min=2, max=120, message=_l("Enter a name of 2 to 120 characters")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 8 characters. A few words you remember are easy and strong."),
        validators=[InputRequired(message=_l("Choose a password")), NewPassword()],
    )
    consent = BooleanField(
        _l(
            "I have read the privacy notice and agree that my data is used "
            "to provide these services"
        ),
        validators=[InputRequired(message=_l("Agree to the privacy notice to create an account"))],
    )


class LoginForm(BaseForm):
    identifier = StringField(
        _l("Mobile phone number or email"),
        validators=[InputRequired(message=_l("Enter your mobile phone number or email"))],
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(message=_l("Enter your password"))]
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class PasswordResetRequestForm(BaseForm):
    email = EmailField(
        _l("Email address"),
        validators=[
            InputRequired(message=_l("Enter the email address of your account")),
            EmailAddress(),
        ],
        filters=[_lower],
    )


class PasswordResetForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        description=_l("At least 8 characters. A few words you remember are easy and strong."),
        validators=[InputRequired(message=_l("Choose a new password")), NewPassword()],
    )


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(message=_l("Enter your current password"))],
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 8 characters. A few words you remember are easy and strong."),
        validators=[InputRequired(message=_l("Choose a new password")), NewPassword()],
    )


class ProfileForm(AddressFields, ContactFields, BaseForm):
    ADDRESS_REQUIRED = False

    full_name = StringField(
        _l("Full name"),
        validators=[
            InputRequired(message=_l("Enter your full name")),
            Length(min=2, max=120, message=_l("Enter a name of 2 to 120 characters")),
        ],
    )
    nik = StringField(
        _l("NIK (optional)"),
        description=_l("16 digits, on your KTP or KK. Only you and authorised officers see it."),
        validators=[Optional(), NikNumber()],
        filters=[lambda v: v.replace(" ", "") if isinstance(v, str) else v],
    )
    current_password = PasswordField(
        _l("Current password"),
        description=_l(
            "Needed only when you change your phone number or email: they are how you log in "
            "and reset your password."
        ),
        validators=[Optional(), Length(max=PASSWORD_MAX)],
    )


class RoleGrantForm(BaseForm):
    role = SelectField(_l("Role"), validators=[InputRequired(message=_l("Choose a role"))])
    scope = StringField(
        _l("Waste unit (for Jumpa Madu officers)"),
        description=_l(
            "For a Jumpa Madu unit officer: the unit number, as listed on the units page; "
            "leave empty for other roles"
        ),
        validators=[Optional(), Length(max=64)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels are lazy: build choices per request so they follow the chosen language.
        self.role.choices = [SelectChoice(r.value, r.label) for r in GRANTABLE_ROLES]


class ConfirmForm(BaseForm):
    """A button-only form: carries the CSRF token for a state change."""


class MfaCodeForm(BaseForm):
    """The 6-digit code of an authenticator app (or, at login and step-up, a recovery code)."""

    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(message=_l("Enter the code from your authenticator app")),
            Length(max=20, message=_l("Enter the 6 digits from your app, or a recovery code")),
        ],
    )


class PasswordConfirmForm(BaseForm):
    """Step-up for an account without a second factor: type the password again."""

    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Enter your password")),
            Length(max=PASSWORD_MAX),
        ],
    )
