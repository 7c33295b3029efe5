"""User accounts, role grants and password-reset tokens."""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.core.crypto import LOOKUP_HASH_LENGTH, EncryptedString, nik_lookup_hash
from portal.core.identity import mask_email, mask_number, mask_phone
from portal.core.time import utcnow
from portal.extensions import db
from portal.wilayah.models import AddressMixin


class Role(enum.StrEnum):
    """Roles granted on top of "resident", which every account has.

    `seller` is granted when a shop is verified; SADOKU officers verify and process document
    requests and couriers deliver the ones assigned to them; a waste officer's scope is the unit
    they belong to; `admin` manages accounts.
    """

    SELLER = "seller"
    SADOKU_OFFICER = "sadoku_officer"
    SADOKU_COURIER = "sadoku_courier"
    WASTE_OFFICER = "waste_officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.SELLER: _l("UMKM seller"),
    Role.SADOKU_OFFICER: _l("SADOKU officer"),
    Role.SADOKU_COURIER: _l("SADOKU courier"),
    Role.WASTE_OFFICER: _l("Jumpa Madu unit officer"),
    Role.ADMIN: _l("Administrator"),
}
# Roles an admin may grant by hand; `seller` follows from shop verification instead.
GRANTABLE_ROLES = (Role.SADOKU_OFFICER, Role.SADOKU_COURIER, Role.WASTE_OFFICER, Role.ADMIN)


def enum_column(enum_cls: type[enum.Enum], length: int = 32, name: str | None = None) -> Enum:
    """A portable enum column: VARCHAR + CHECK on every database, storing the enum's values.

    `name` names the CHECK; give one when a table has two columns of the same enum, since
    PostgreSQL wants constraint names unique.
    """
    options = {"name": name} if name else {}
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **options,
    )


class User(AddressMixin, UserMixin, db.Model):
    """A person with one login for every service. Email and/or phone identify them."""

    __tablename__ = "users"
    # A deleted account (UU 27/2022 erasure) keeps its row under a pseudonym, with neither.
    __table_args__ = (
        CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL OR deleted_at IS NOT NULL", name="contact"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Encrypted at rest (portal/core/crypto.py); find a user by NIK through nik_hash, which
    # follows every change of nik (see _sync_nik_hash).
    nik: Mapped[str | None] = mapped_column(EncryptedString("users.nik"))
    nik_hash: Mapped[str | None] = mapped_column(String(LOOKUP_HASH_LENGTH), index=True)
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    consent_version: Mapped[str] = mapped_column(String(16))
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Erased at the person's request (portal/privacy): pseudonymous, disabled, never to log in.
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When the person withdrew consent to email messages; the in-app bell still works.
    email_opt_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # TOTP (RFC 6238) for staff: the shared secret, set at enrolment and confirmed by a first code;
    # the last time step accepted, so a code cannot be used twice (ASVS 6.5.x).
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString("users.totp_secret"))
    mfa_enrolled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="RoleGrant.user_id",
        order_by="RoleGrant.id",
    )

    # Flask-Login: a disabled account cannot log in and its open sessions stop working.
    @property
    def is_active(self) -> bool:
        return not self.is_disabled and self.deleted_at is None

    @property
    def wants_email(self) -> bool:
        """Whether messages about the person's requests may also go to their email address."""
        return bool(self.email) and self.email_opt_out_at is None

    def has_role(self, role: Role, scope: str | None = None) -> bool:
        return any(g.role == role and (scope is None or g.scope == scope) for g in self.grants)

    @property
    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_staff(self) -> bool:
        return bool(
            self.roles & {Role.ADMIN, Role.SADOKU_OFFICER, Role.SADOKU_COURIER, Role.WASTE_OFFICER}
        )

    @property
    def needs_mfa(self) -> bool:
        """Staff see other people's records or move money: they log in with a second factor."""
        return self.is_staff

    @property
    def mfa_enrolled(self) -> bool:
        return self.mfa_enrolled_at is not None and bool(self.totp_secret)

    @property
    def masked_nik(self) -> str:
        return mask_number(self.nik)

    @validates("nik")
    def _sync_nik_hash(self, key: str, value: str | None) -> str | None:
        # The ciphertext differs on every save, so equality lookups need this keyed hash.
        self.nik_hash = nik_lookup_hash(value)
        return value

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_email(self) -> str:
        return mask_email(self.email)

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name else ""

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleGrant(db.Model):
    """One role held by one user, with an optional scope (e.g. the waste unit of an officer)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "scope", name="uq_role_grants_user_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    scope: Mapped[str] = mapped_column(String(64), default="")
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])


class PasswordResetToken(db.Model):
    """A single-use reset link. Only the SHA-256 of the token is stored, never the token."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One logged-in device. The browser's cookie holds a random token; only its SHA-256 is here.

    Checked on every request, so a session ends on the server: at logout, password change,
    "log out other devices", an admin's order, a disabled account, or after idle/absolute time.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the second factor was last entered in this session (None: not yet, or not needed).
    mfa_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When the user last proved who they are (login or step-up): sensitive actions need it recent.
    reauth_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str] = mapped_column(String(80), default="")
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(24))

    user: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class MfaRecoveryCode(db.Model):
    """A single-use code for when the phone with the authenticator is lost. Stored hashed."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
