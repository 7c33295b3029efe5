"""User accounts, role grants and password-reset tokens."""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    __table_args__ = (CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="contact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    consent_version: Mapped[str] = mapped_column(String(16))
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

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
        return not self.is_disabled

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
    def masked_nik(self) -> str:
        return mask_number(self.nik)

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
