"""`flask backup` and the restore path in the README: the restored copy has the same books, and
`flask jumpa-madu ledger-check` passes on it.

SQLite always, on a database file of its own. PostgreSQL when TEST_DATABASE_URL names one (as CI
does): pg_dump of the test database, pg_restore into a fresh `portal_restore_<random>` database,
dropped afterwards. Missing pg_dump or pg_restore there is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from config import TestConfig
from portal import create_app
from portal.accounts.models import Role, User
from portal.backup import libpq_url
from portal.core.notifications import discard_queued_mail
from portal.extensions import db
from portal.jumpa_madu.demo import seed_jumpa_madu_demo
from portal.jumpa_madu.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from portal.jumpa_madu.models import Pickup, Withdrawal
from portal.wilayah.services import load_gazetteer
from tests.factories import LUBUK_PAKAM_ADDRESS, make_user

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
WRITTEN = re.compile(r"Backup written: (\S+)")


def _app_for(url: str, tmp_path: Path) -> Flask:
    config = type(
        "BackupTestConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_ROOT": str(tmp_path / "uploads")},
    )
    return create_app(config)


def _make_books(app: Flask) -> dict:
    """Residents, a unit, pickups weighed and paid, withdrawals: a ledger with history."""
    with app.test_request_context():
        officer = make_user(full_name="Agus Petugas", roles=(Role.WASTE_OFFICER,), scope="")
        residents = [
            make_user(full_name="Siti Warga", address=LUBUK_PAKAM_ADDRESS),
            make_user(full_name="Rudi Penjual", address=LUBUK_PAKAM_ADDRESS),
            make_user(full_name="Ani Lubis", address=LUBUK_PAKAM_ADDRESS),
        ]
        seed_jumpa_madu_demo(officer, residents)
        discard_queued_mail()
        db.session.commit()
        books = _books()
    assert books["transactions"] > 5 and books["withdrawals"] > 0  # there is something to lose
    return books


def _books() -> dict:
    """What a restore must bring back: every balance, and the number of rows that make them."""
    return {
        "balances": dict(
            db.session.execute(select(LedgerAccount.key, LedgerAccount.balance)).all()
        ),
        "transactions": db.session.scalar(select(func.count(LedgerTransaction.id))),
        "entries": db.session.scalar(select(func.count(LedgerEntry.id))),
        "pickups": db.session.scalar(select(func.count(Pickup.id))),
        "withdrawals": db.session.scalar(select(func.count(Withdrawal.id))),
        "users": db.session.scalar(select(func.count(User.id))),
    }


def _backup(app: Flask, *args: str) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", *args])
    assert result.exit_code == 0, result.output
    found = WRITTEN.search(result.output)
    assert found, result.output
    path = Path(found.group(1))
    assert path.is_file() and path.stat().st_size > 0
    # It holds personal data: readable by its owner only.
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    return path


def _restored_books(url: str, tmp_path: Path) -> dict:
    """Open the restored database as the portal would and run the operators' ledger check."""
    restored = _app_for(url, tmp_path)
    try:
        check = restored.test_cli_runner().invoke(args=["jumpa-madu", "ledger-check"])
        assert check.exit_code == 0, check.output
        assert "Ledger OK" in check.output
        with restored.app_context():
            return _books()
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


def test_sqlite_backup_restores_into_a_fresh_database_with_the_same_balanced_books(tmp_path):
    live = tmp_path / "live.db"
    app = _app_for(f"sqlite:///{live}", tmp_path)
    with app.app_context():
        db.create_all()
        load_gazetteer()
        db.session.commit()
    before = _make_books(app)

    # A transaction left open by another process is not half in the backup (online backup API).
    writer = sqlite3.connect(live)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE jm_ledger_accounts SET balance = balance + 1")
    try:
        path = _backup(app, "--dir", str(tmp_path / "backups"))
    finally:
        writer.rollback()
        writer.close()
    with app.app_context():
        db.engine.dispose()

    # The README's restore: copy the backup file to where DATABASE_URL points, then check.
    restored = tmp_path / "restored.db"
    shutil.copyfile(path, restored)
    assert _restored_books(f"sqlite:///{restored}", tmp_path) == before


def test_backup_keeps_only_the_newest_when_asked(tmp_path):
    app = _app_for(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)
    with app.app_context():
        db.create_all()
    target = tmp_path / "backups"
    first = _backup(app, "--dir", str(target))
    os.utime(first, (1, 1))  # an old one
    second = _backup(app, "--dir", str(target), "--keep", "1")
    assert sorted(target.iterdir()) == [second]
    with app.app_context():
        db.engine.dispose()


if TEST_DATABASE_URL.startswith("postgresql"):

    @contextmanager
    def _fresh_postgresql_database() -> Iterator[str]:
        """A new, empty `portal_restore_<random>` database next to the test one, dropped after."""
        import psycopg

        url = make_url(TEST_DATABASE_URL)
        name = f"portal_restore_{secrets.token_hex(4)}"
        conninfo, env = libpq_url(url)
        with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def test_postgresql_pg_dump_restores_into_a_fresh_database_with_the_same_balanced_books(
        app, tmp_path
    ):
        for tool in ("pg_dump", "pg_restore"):
            assert shutil.which(tool), f"{tool} is needed (apt-get install postgresql-client)"
        before = _make_books(app)
        path = _backup(app, "--dir", str(tmp_path / "backups"))

        with _fresh_postgresql_database() as restored_url:
            # The README's restore: pg_restore --no-owner --exit-on-error -d <new database> <file>
            conninfo, env = libpq_url(make_url(restored_url))
            subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "-d", conninfo, str(path)],
                env={**os.environ, **env},
                check=True,
                capture_output=True,
            )
            assert _restored_books(restored_url, tmp_path) == before
