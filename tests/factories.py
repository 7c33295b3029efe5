"""Plain factory functions with defaults for every field. They commit, so views can see the rows."""

from __future__ import annotations

import itertools
from typing import Any

from portal.accounts import services
from portal.accounts.models import Role, RoleGrant, User
from portal.extensions import db

DEFAULT_PASSWORD = "kopi-susu-pagi-hari"
_seq = itertools.count(1)


def make_user(
    *,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    password: str = DEFAULT_PASSWORD,
    roles: tuple[Role, ...] | list[Role] = (),
    scope: str = "",
    nik: str | None = None,
    address: dict[str, Any] | None = None,
    commit: bool = True,
) -> User:
    """A resident account (with extra roles if asked). Needs an app context."""
    n = next(_seq)
    user = services.register_user(
        full_name=full_name or f"Warga Uji {n}",
        email=email if email is not None else f"warga{n}@uji.test",
        phone=phone,
        password=password,
        consent=True,
    )
    if nik is not None:
        user.nik = nik
    for key, value in (address or {}).items():
        setattr(user, key, value)
    for role in roles:
        db.session.add(
            RoleGrant(user=user, role=role, scope=scope if role == Role.WASTE_OFFICER else "")
        )
    db.session.flush()
    if commit:
        db.session.commit()
    return user


LUBUK_PAKAM_ADDRESS = {
    "kecamatan_code": "12.07.28",
    "desa_code": "12.07.28.1008",
    "street": "Jl. Sudirman No. 5",
    "rt": "001",
    "rw": "002",
}
