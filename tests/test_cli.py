"""Command-line tasks an operator runs: seeding and first-admin bootstrap."""

from __future__ import annotations

from sqlalchemy import func, select

from config import ProductionConfig
from portal.accounts.models import Role, RoleGrant, User
from portal.core.audit import AuditLog
from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from portal.extensions import db
from portal.wilayah.models import Desa, Kecamatan
from tests.conftest import log_in


def _counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (User, RoleGrant, AuditLog, Kecamatan, Desa)
        )


def test_seed_demo_is_idempotent_and_all_demo_logins_work(app, runner):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "warga@demo.test" in first.output and DEMO_PASSWORD in first.output
    counts = _counts(app)
    # 6 demo logins + 5 residents whose SADOKU requests fill the officer queue + 33 UMKM shop
    # owners; 4 staff roles + the seller role of the 29 shops that have been verified.
    assert counts[:2] == (44, 33) and counts[3:] == (22, 394)
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert _counts(app) == counts
    expected_roles = {
        "warga@demo.test": set(),
        "penjual@demo.test": {Role.SELLER},  # their demo shop is verified
        "petugas.sadoku@demo.test": {Role.SADOKU_OFFICER},
        "kurir.sadoku@demo.test": {Role.SADOKU_COURIER},
        "petugas.jumpamadu@demo.test": {Role.WASTE_OFFICER},
        "admin@demo.test": {Role.ADMIN},
    }
    assert {a[0] for a in DEMO_ACCOUNTS} == set(expected_roles)
    for email, roles in expected_roles.items():
        client = app.test_client()
        assert log_in(client, email, DEMO_PASSWORD).status_code == 303, email
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            assert user.roles == roles and user.has_address


def test_seed_demo_is_refused_outside_demo_mode(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code != 0 and "demo mode" in result.output
    assert _counts(app)[0] == 0


def test_seed_wilayah_is_idempotent(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["seed", "wilayah"])
        assert result.exit_code == 0 and "22 kecamatan, 394 desa" in result.output


def test_create_admin(app, runner):
    result = runner.invoke(
        args=["accounts", "create-admin", "--name", "Kepala Dinas", "--email", "kadis@contoh.id"],
        input="rahasia-dinas-kominfo\nrahasia-dinas-kominfo\n",
    )
    assert result.exit_code == 0, result.output
    client = app.test_client()
    login = log_in(client, "kadis@contoh.id", "rahasia-dinas-kominfo")
    # The first administrator sets up two-step verification before seeing any account.
    assert login.status_code == 303 and "/accounts/mfa/setup" in login.headers["Location"]
    refused = client.get("/admin/users")
    assert refused.status_code == 303 and "/accounts/mfa/setup" in refused.headers["Location"]
    with app.app_context():
        entry = db.session.scalar(select(AuditLog))
        assert entry.action == "role_granted" and entry.actor_id is None


def test_production_config_has_no_demo_mode():
    assert ProductionConfig.DEMO_MODE is False


def test_seed_demo_fills_sadoku_with_every_status_some_overdue(app, runner):
    from portal.sadoku import services as sadoku
    from portal.sadoku.models import DocumentRequest, DocumentType, Status

    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(DocumentType.id))) == 8
        requests = db.session.scalars(select(DocumentRequest)).all()
        assert {r.status for r in requests} == set(Status) - {Status.DRAFT}
        assert len({r.kecamatan_code for r in requests}) >= 5
        assert sadoku.overdue_count() >= 2
        assert all(sadoku.timeline_matches_status(r) for r in requests)
