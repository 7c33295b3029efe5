"""Account services: registration, authentication, passwords, profile and roles (no HTTP)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import PasswordResetToken, Role, User
from portal.core.audit import AuditLog
from portal.core.errors import DomainError
from portal.core.notifications import unread_count
from portal.core.security import verify_password
from portal.core.time import utcnow
from portal.extensions import db
from tests.factories import DEFAULT_PASSWORD, LUBUK_PAKAM_ADDRESS, make_user


def _register(**kw):
    data = {
        "full_name": "Siti Aminah",
        "email": "siti@contoh.id",
        "phone": None,
        "password": DEFAULT_PASSWORD,
        "consent": True,
    }
    data.update(kw)
    return services.register_user(**data)


def test_register_normalises_phone_records_consent_and_welcomes(ctx):
    user = _register(email=None, phone="0812-3456-7890")
    assert user.phone == "+6281234567890"
    assert user.email is None
    assert user.consent_version == ctx.config["PRIVACY_NOTICE_VERSION"]
    assert abs((utcnow() - user.consent_at.replace(tzinfo=dt.UTC)).total_seconds()) < 60
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in user.password_hash
    assert unread_count(user.id) == 1  # the welcome notification


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"consent": False}, "consent"),
        ({"email": None, "phone": None}, "phone"),
        ({"phone": "061 123456"}, "phone"),
        ({"password": "password"}, "password"),
        ({"password": "short"}, "password"),
    ],
)
def test_register_refuses_bad_input(ctx, kwargs, field):
    with pytest.raises(DomainError) as err:
        _register(**kwargs)
    assert err.value.field == field
    assert db.session.scalar(select(User)) is None


def test_register_refuses_an_email_or_phone_already_used(ctx):
    _register(email="Siti@Contoh.id", phone="081234567890")
    with pytest.raises(DomainError) as err:
        _register(email="siti@contoh.ID", phone=None)
    assert err.value.field == "email"
    with pytest.raises(DomainError) as err:
        _register(email="lain@contoh.id", phone="+62 812 3456 7890")
    assert err.value.field == "phone"


@pytest.mark.parametrize(
    "identifier",
    ["siti@contoh.id", "SITI@contoh.id", "081234567890", "+62 812-3456-7890", "81234567890"],
)
def test_authenticate_by_email_or_phone_in_any_common_form(ctx, identifier):
    _register(phone="081234567890")
    user = services.authenticate(identifier, DEFAULT_PASSWORD)
    assert user is not None and user.last_login_at is not None


def test_authenticate_refuses_wrong_password_unknown_and_disabled(ctx):
    user = _register()
    assert services.authenticate("siti@contoh.id", "salah-sandi-123") is None
    assert services.authenticate("orang@lain.id", DEFAULT_PASSWORD) is None
    user.is_disabled = True
    assert services.authenticate("siti@contoh.id", DEFAULT_PASSWORD) is None


def test_login_rehashes_when_argon2_parameters_change(ctx, monkeypatch):
    user = _register()
    old_hash = user.password_hash
    monkeypatch.setitem(ctx.config, "ARGON2_TIME_COST", ctx.config["ARGON2_TIME_COST"] + 1)
    assert services.authenticate("siti@contoh.id", DEFAULT_PASSWORD) is user
    assert user.password_hash != old_hash
    assert f"t={ctx.config['ARGON2_TIME_COST']}" in user.password_hash
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


def test_change_password_needs_the_current_one(ctx):
    user = _register()
    with pytest.raises(DomainError) as err:
        services.change_password(user, "bukan-sandi-lama", "sandi-baru-yang-panjang")
    assert err.value.field == "current_password"
    services.change_password(user, DEFAULT_PASSWORD, "sandi-baru-yang-panjang")
    assert services.authenticate("siti@contoh.id", "sandi-baru-yang-panjang") is user
    assert services.authenticate("siti@contoh.id", DEFAULT_PASSWORD) is None


def test_reset_token_is_single_use(ctx):
    user = _register()
    created = services.create_password_reset("SITI@contoh.id")
    assert created is not None
    _, token = created
    assert services.reset_token_user(token) is user
    stored = db.session.scalar(select(PasswordResetToken))
    assert stored.token_hash != token  # only a hash is kept
    services.reset_password(token, "sandi-baru-yang-panjang")
    assert services.reset_token_user(token) is None
    with pytest.raises(DomainError):
        services.reset_password(token, "sandi-lain-yang-panjang")
    assert services.authenticate("siti@contoh.id", "sandi-baru-yang-panjang") is user


def test_reset_token_expires_after_an_hour(ctx):
    _register()
    _, token = services.create_password_reset("siti@contoh.id")
    row = db.session.scalar(select(PasswordResetToken))
    assert (
        dt.timedelta(minutes=59)
        < row.expires_at.replace(tzinfo=dt.UTC) - utcnow()
        <= dt.timedelta(hours=1)
    )
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.flush()
    assert services.reset_token_user(token) is None
    with pytest.raises(DomainError):
        services.reset_password(token, "sandi-baru-yang-panjang")


def test_a_new_reset_link_cancels_the_previous_one(ctx):
    _register()
    _, first = services.create_password_reset("siti@contoh.id")
    _, second = services.create_password_reset("siti@contoh.id")
    assert services.reset_token_user(first) is None
    assert services.reset_token_user(second) is not None


def test_reset_for_unknown_or_disabled_email_gives_nothing(ctx):
    user = _register()
    assert services.create_password_reset("tidak.ada@contoh.id") is None
    user.is_disabled = True
    assert services.create_password_reset("siti@contoh.id") is None


def test_update_profile_keeps_contacts_unique_and_saves_address(ctx):
    other = _register(email="lain@contoh.id", phone="081298765432")
    user = _register()
    data = services.ProfileData(
        full_name="Siti A.",
        email="siti@contoh.id",
        phone="+6281298765432",
        nik=None,
        address=dict(LUBUK_PAKAM_ADDRESS),
    )
    with pytest.raises(DomainError) as err:
        services.update_profile(user, data, DEFAULT_PASSWORD)
    assert err.value.field == "phone"
    data.phone = "0812-1111-2222"
    data.nik = "1207284506900001"
    services.update_profile(user, data, DEFAULT_PASSWORD)
    assert user.phone == "+6281211112222"
    assert user.desa.name == "Lubuk Pakam III" and user.kecamatan.name == "Lubuk Pakam"
    assert user.masked_nik == "1207" + "\u2022" * 8 + "0001"
    assert other.phone == "+6281298765432"


def test_changing_the_login_phone_or_email_needs_the_current_password(ctx):
    user = _register()
    data = services.ProfileData(
        full_name="Siti Aminah",
        email="siti.baru@contoh.id",
        phone=None,
        nik=None,
        address=dict(LUBUK_PAKAM_ADDRESS),
    )
    for password in (None, "bukan-kata-sandinya"):
        with pytest.raises(DomainError) as err:
            services.update_profile(user, data, password)
        assert err.value.field == "current_password"
    assert user.email == "siti@contoh.id"
    # The address alone (contacts unchanged, email in any case) needs no password.
    data.email = "SITI@contoh.id"
    services.update_profile(user, data)
    assert user.desa is not None
    data.email = "siti.baru@contoh.id"
    services.update_profile(user, data, DEFAULT_PASSWORD)
    assert user.email == "siti.baru@contoh.id"


def test_role_changes_are_audited(ctx):
    admin = make_user(roles=(Role.ADMIN,))
    user = make_user()
    grant = services.grant_role(admin, user, Role.SADOKU_OFFICER)
    assert user.has_role(Role.SADOKU_OFFICER)
    with pytest.raises(DomainError):
        services.grant_role(admin, user, Role.SADOKU_OFFICER)
    with pytest.raises(DomainError):
        services.grant_role(admin, user, Role.SELLER)  # comes from a verified shop only
    services.revoke_role(admin, user, grant.id)
    assert not user.has_role(Role.SADOKU_OFFICER)
    entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(e.action, e.actor_id, e.target_user_id, e.detail["role"]) for e in entries] == [
        ("role_granted", admin.id, user.id, "sadoku_officer"),
        ("role_revoked", admin.id, user.id, "sadoku_officer"),
    ]


def test_waste_officer_is_scoped_to_a_unit(ctx):
    from tests.factories import make_unit

    admin = make_user(roles=(Role.ADMIN,))
    user = make_user()
    unit, other = make_unit(), make_unit()
    services.grant_role(admin, user, Role.WASTE_OFFICER, unit.scope)
    assert user.has_role(Role.WASTE_OFFICER, unit.scope)
    assert not user.has_role(Role.WASTE_OFFICER, other.scope)


def test_admin_cannot_lock_themselves_out(ctx):
    admin = make_user(roles=(Role.ADMIN,))
    with pytest.raises(DomainError):
        services.revoke_role(admin, admin, admin.grants[0].id)
    with pytest.raises(DomainError):
        services.set_disabled(admin, admin, True)
    assert admin.is_admin and not admin.is_disabled


def test_disable_and_enable_are_audited_and_block_login(ctx):
    admin = make_user(roles=(Role.ADMIN,))
    user = make_user(email="budi@contoh.id")
    services.set_disabled(admin, user, True)
    assert services.authenticate("budi@contoh.id", DEFAULT_PASSWORD) is None
    services.set_disabled(admin, user, False)
    assert services.authenticate("budi@contoh.id", DEFAULT_PASSWORD) is user
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["account_disabled", "account_enabled"]


def test_audit_log_rows_cannot_be_changed(ctx):
    admin = make_user(roles=(Role.ADMIN,))
    user = make_user()
    services.set_disabled(admin, user, True)
    db.session.commit()
    entry = db.session.scalar(select(AuditLog))
    entry.action = "nothing_happened"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditLog)))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


def test_search_users_by_name_email_or_phone(ctx):
    make_user(full_name="Budi Santoso", email="budi@contoh.id", phone="081211110000")
    make_user(full_name="Siti Aminah", email="siti@contoh.id")
    assert [u.full_name for u in services.search_users("budi")[0]] == ["Budi Santoso"]
    assert [u.full_name for u in services.search_users("0812 1111 0000")[0]] == ["Budi Santoso"]
    assert [u.full_name for u in services.search_users("0812 1111")[0]] == ["Budi Santoso"]
    assert [u.full_name for u in services.search_users("SITI@")[0]] == ["Siti Aminah"]
    assert services.search_users("")[1] == 2


def test_a_registration_race_on_the_same_email_is_refused_cleanly(ctx, monkeypatch):
    """Two requests can both pass the look-up; the unique index decides, with a clear message."""
    _register(email="siti@contoh.id")
    db.session.commit()
    monkeypatch.setattr(services, "_check_contact_free", lambda *a, **k: None)
    with pytest.raises(DomainError) as err:
        _register(email="siti@contoh.id", full_name="Siti Kedua")
    assert err.value.field == "email"
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 1
