"""Account operations. They flush but never commit: the view commits once per action."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts import sessions
from portal.accounts.models import GRANTABLE_ROLES, PasswordResetToken, Role, RoleGrant, User
from portal.core.audit import record_audit
from portal.core.errors import DomainError
from portal.core.identity import looks_like_phone, normalize_phone
from portal.core.notifications import notify
from portal.core.security import hash_password, needs_rehash, password_problem, verify_password
from portal.core.time import as_utc, utcnow
from portal.extensions import db

# A real hash of a random password: verifying against it when no account matches makes a wrong
# identifier take as long as a wrong password, so timing does not reveal who has an account.
_dummy_hash: str | None = None


def _timing_dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


def find_user_by_identifier(identifier: str) -> User | None:
    """The account with this email or phone (any common way of writing it), or None."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if looks_like_phone(identifier):
        phone = normalize_phone(identifier)
        if phone is None:
            return None
        return db.session.scalar(select(User).where(User.phone == phone))
    return db.session.scalar(select(User).where(func.lower(User.email) == identifier.lower()))


def _check_contact_free(email: str | None, phone: str | None, exclude: User | None = None) -> None:
    if email:
        other = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if other is not None and (exclude is None or other.id != exclude.id):
            raise DomainError(
                "email", _("An account with this email already exists; log in instead")
            )
    if phone:
        other = db.session.scalar(select(User).where(User.phone == phone))
        if other is not None and (exclude is None or other.id != exclude.id):
            raise DomainError(
                "phone", _("An account with this phone number already exists; log in instead")
            )


def _flush_contacts() -> None:
    """Flush a new or changed email/phone; a concurrent request may have taken it meanwhile.

    The check in _check_contact_free gives the friendly message in the usual case; the unique
    constraints decide the race, and the loser gets the same message instead of an error page.
    """
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise DomainError(
            "email", _("An account with this email or phone number already exists; log in instead")
        ) from exc


def _check_new_password(password: str, field: str) -> None:
    if password_problem(password):
        raise DomainError(field, _("Choose a password of 8 to 128 characters that is not common"))


def register_user(
    *,
    full_name: str,
    password: str,
    email: str | None = None,
    phone: str | None = None,
    consent: bool,
) -> User:
    """Create a resident account, recording consent to the current privacy notice and its time."""
    if not consent:
        raise DomainError("consent", _("Agree to the privacy notice to create an account"))
    if not email and not phone:
        raise DomainError("phone", _("Enter a mobile phone number or an email address"))
    if phone:
        normalized = normalize_phone(phone)
        if normalized is None:
            raise DomainError("phone", _("Enter a mobile number like 0812 3456 7890"))
        phone = normalized
    email = email.lower() if email else None
    _check_new_password(password, "password")
    _check_contact_free(email, phone)
    user = User(
        full_name=full_name,
        email=email,
        phone=phone,
        password_hash=hash_password(password),
        consent_at=utcnow(),
        consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
    )
    db.session.add(user)
    _flush_contacts()
    notify(
        user.id,
        _("Welcome to Portal Layanan Deli Serdang"),
        _("Complete your profile with your address so that services can come to your door."),
        "/accounts/profile/edit",
    )
    return user


def authenticate(identifier: str, password: str) -> User | None:
    """The user if the identifier and password match an enabled account, else None.

    Rehashes the password when the Argon2 parameters have changed since it was stored.
    """
    user = find_user_by_identifier(identifier)
    if user is None:
        verify_password(_timing_dummy(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if user.is_disabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise DomainError("current_password", _("Your current password is not correct"))
    _check_new_password(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    _invalidate_reset_tokens(user)
    record_audit("password_changed", actor=user, target_user=user)
    db.session.flush()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invalidate_reset_tokens(user: User) -> None:
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )


def create_password_reset(email: str) -> tuple[User, str] | None:
    """A fresh single-use token for the account with this email, or None if there is none.

    The caller says the same thing either way, so the form does not reveal who has an account.
    """
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None or user.is_disabled:
        return None
    _invalidate_reset_tokens(user)
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["PASSWORD_RESET_TTL_SECONDS"]
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            expires_at=utcnow() + dt.timedelta(seconds=ttl),
        )
    )
    db.session.flush()
    return user, token


def reset_token_user(token: str) -> User | None:
    """The user a still-valid token belongs to, or None if it is unknown, used or expired."""
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token))
    )
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= utcnow():
        return None
    return row.user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password with a reset token, and use the token up (atomically: once only)."""
    _check_new_password(new_password, "password")
    now = utcnow()
    # A conditional UPDATE claims the token; two simultaneous submissions cannot both succeed.
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == _token_hash(token),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordResetToken.user_id)
        .execution_options(synchronize_session="fetch")
    ).scalar()
    if claimed is None:
        raise DomainError(
            None, _("This reset link has expired or was already used; ask for a new one")
        )
    user = db.session.get(User, claimed)
    assert user is not None
    user.password_hash = hash_password(new_password)
    _invalidate_reset_tokens(user)
    # Whoever knew the old password is logged out everywhere.
    sessions.end_all(user, "password_reset")
    record_audit("password_reset", actor=user, target_user=user)
    db.session.flush()
    return user


@dataclass
class ProfileData:
    full_name: str
    email: str | None
    phone: str | None
    nik: str | None
    address: dict[str, Any]


def update_profile(user: User, data: ProfileData, current_password: str | None = None) -> User:
    """Save the profile and default address; the contact details must stay unique.

    The phone and email are the login and the password-reset channel: changing them needs the
    current password (ASVS 7.5.1), so a borrowed, still logged-in phone cannot take the account.
    """
    if not data.email and not data.phone:
        raise DomainError("phone", _("Enter a mobile phone number or an email address"))
    phone = normalize_phone(data.phone) if data.phone else None
    if data.phone and phone is None:
        raise DomainError("phone", _("Enter a mobile number like 0812 3456 7890"))
    email = data.email.lower() if data.email else None
    contact_changed = (email, phone) != ((user.email or "").lower() or None, user.phone)
    if contact_changed and user.id is not None and user.password_hash:
        if not current_password:
            raise DomainError(
                "current_password",
                _("Enter your current password to change your phone number or email"),
            )
        if not verify_password(user.password_hash, current_password):
            raise DomainError("current_password", _("Your current password is not correct"))
    _check_contact_free(email, phone, exclude=user)
    user.full_name = data.full_name
    user.email = email
    user.phone = phone
    user.nik = data.nik or None
    for key, value in data.address.items():
        setattr(user, key, value)
    _flush_contacts()
    return user


def grant_role(actor: User, user: User, role: Role, scope: str = "") -> RoleGrant:
    """Give a role (audited). Admins grant officer and admin roles; seller comes from a shop."""
    if role not in GRANTABLE_ROLES:
        raise DomainError("role", _("This role cannot be granted by hand"))
    scope = (scope or "").strip() if role == Role.WASTE_OFFICER else ""
    if role == Role.WASTE_OFFICER:
        _check_waste_unit_scope(user, scope)
    if user.has_role(role, scope):
        raise DomainError("role", _("The account already has this role"))
    grant = RoleGrant(user=user, role=role, scope=scope, granted_by_id=actor.id)
    db.session.add(grant)
    record_audit("role_granted", actor=actor, target_user=user, role=role.value, scope=scope)
    db.session.flush()
    return grant


def _check_waste_unit_scope(user: User, scope: str) -> None:
    """A waste officer belongs to one existing unit: the scope is that unit's number."""
    from portal.jumpa_madu.models import WasteUnit

    if not scope.isdigit() or db.session.get(WasteUnit, int(scope)) is None:
        raise DomainError(
            "scope", _("Enter the number of an existing waste unit, as listed on the units page")
        )
    if any(g.role == Role.WASTE_OFFICER and g.scope != scope for g in user.grants):
        raise DomainError(
            "scope",
            _("This account is already an officer of another unit; remove that role first"),
        )


def revoke_role(actor: User, user: User, grant_id: int) -> None:
    """Take a role away (audited). Admins cannot remove their own admin role (no lock-out)."""
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None:
        raise DomainError(None, _("This role was already removed"))
    if grant.role == Role.ADMIN and user.id == actor.id:
        raise DomainError(None, _("You cannot remove your own administrator role"))
    user.grants.remove(grant)
    record_audit(
        "role_revoked", actor=actor, target_user=user, role=grant.role.value, scope=grant.scope
    )
    db.session.flush()


def set_disabled(actor: User, user: User, disabled: bool) -> None:
    """Disable or re-enable an account (audited). A disabled account cannot log in."""
    if user.id == actor.id:
        raise DomainError(None, _("You cannot disable your own account"))
    if user.deleted_at is not None:
        raise DomainError(None, _("This account was deleted at its owner's request"))
    if user.is_disabled == disabled:
        return
    user.is_disabled = disabled
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        sessions.end_all(user, "account_disabled")
    record_audit(
        "account_disabled" if disabled else "account_enabled", actor=actor, target_user=user
    )
    db.session.flush()


def end_sessions(actor: User, user: User) -> int:
    """An admin logs someone out everywhere (a lost phone, a suspected break-in). Audited."""
    if user.id == actor.id:
        raise DomainError(None, _("To log yourself out elsewhere, use your own devices page."))
    ended = sessions.end_all(user, "ended_by_admin")
    record_audit("sessions_ended_by_admin", actor=actor, target_user=user, count=ended)
    db.session.flush()
    return ended


def search_users(query: str, *, limit: int = 25, offset: int = 0) -> tuple[list[User], int]:
    """Users whose name, email or phone contains the query, newest first, with the total count."""
    stmt = select(User)
    q = (query or "").strip()
    if q:
        like = f"%{q.lower()}%"
        conditions = [func.lower(User.full_name).like(like), func.lower(User.email).like(like)]
        phone = normalize_phone(q)
        if phone:
            conditions.append(User.phone == phone)
        elif digits := "".join(c for c in q if c in "0123456789"):
            # Part of a number as people type it (0813 1111) against the stored +62 form.
            if digits.startswith("0"):
                digits = "62" + digits[1:]
            conditions.append(User.phone.like(f"%{digits}%"))
        stmt = stmt.where(or_(*conditions))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = db.session.scalars(stmt.order_by(User.id.desc()).limit(limit).offset(offset)).all()
    return list(users), total


def bootstrap_admin(user: User) -> None:
    """Make `user` an admin without an acting admin (first install, from the command line)."""
    if user.has_role(Role.ADMIN):
        return
    db.session.add(RoleGrant(user=user, role=Role.ADMIN, scope=""))
    record_audit("role_granted", actor=None, target_user=user, role=Role.ADMIN.value, via="cli")
    db.session.flush()


def find_or_register_at_counter(
    phone: str, full_name: str | None, consent: bool
) -> tuple[User, bool]:
    """The resident an officer serves at a counter: found by phone, or a new account for them.

    Returns the account and whether it was created. The random password is never shown: the
    resident sets their own with "forgot password" once they add an email, or at a counter.
    Every service's assisted mode (SADOKU, Jumpa Madu) comes through here.
    """
    if not consent:
        raise DomainError(
            "consent", _("Confirm that the resident agreed to you filing this request for them")
        )
    owner = find_user_by_identifier(phone)
    if owner is None:
        if not full_name:
            raise DomainError(
                "full_name",
                _("No account has this phone number; enter the resident's full name to create one"),
            )
        owner = register_user(
            full_name=full_name,
            email=None,
            phone=phone,
            password=secrets.token_urlsafe(12),
            consent=True,
        )
        return owner, True
    if owner.is_disabled:
        raise DomainError("phone", _("The account with this phone number is disabled"))
    return owner, False
