"""Migrations: upgrade from empty gives exactly the models' schema; downgrade to base works."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import TestConfig
from portal import create_app
from portal.extensions import db
from portal.mall.search import alembic_include_object


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A brand-new empty database of the same kind as the suite's (SQLite file or PostgreSQL)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    name = f"portal_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url: str):
    config = type("MigrationConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    app = create_app(config)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_object": alembic_include_object}
                ),
                db.metadata,
            )
        assert diff == [], f"models and migrations differ: {diff}"
        runner = app.test_cli_runner()
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names())
        assert tables <= {"alembic_version"}
        db.engine.dispose()
