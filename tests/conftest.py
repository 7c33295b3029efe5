"""Shared fixtures: one app per test session, a clean database per test, logged-in clients.

The same suite runs on SQLite (a temporary file, so threads share it) and on PostgreSQL when
TEST_DATABASE_URL is set. View tests do not push an app context of their own: the test client
would reuse it, and Flask's `g` (and Flask-Login's cached user) would leak between requests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from config import ProductionConfig, TestConfig
from portal import create_app
from portal.accounts.services import find_user_by_identifier
from portal.core.geo import geocode_cache
from portal.extensions import db, limiter
from portal.mall.search import FTS_TABLE
from portal.wilayah.services import load_gazetteer
from tests.factories import DEFAULT_PASSWORD, make_user

REFERENCE_TABLES = {"kecamatan", "desa"}
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def _test_config(tmp_dir: str) -> type[TestConfig]:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/portal-test.db"
    return type(
        "SessionTestConfig",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_ROOT": os.path.join(tmp_dir, "uploads")},
    )


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(_test_config(str(tmp_path_factory.mktemp("db"))))
    with app.app_context():
        _drop_everything()
        db.create_all()
        load_gazetteer()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _drop_everything() -> None:
    """Start from an empty schema, whatever an earlier (interrupted) run left behind."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()


def empty_tables(keep: set[str]) -> None:
    """Delete every row of every table not in `keep`, and restart the ids at 1.

    On PostgreSQL this is a DELETE with triggers off (the ledger's append-only trigger, and the
    foreign-key checks, since every table is emptied) plus a reset of the sequences: about seven
    times faster than TRUNCATE of every table, which rewrites their files each time.
    """
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in keep]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            conn.execute(table.delete())
        if conn.dialect.name == "sqlite" and "mall_products" not in keep:
            # Not in the metadata, so emptied by name (a constant, not input).
            conn.execute(text(f"DELETE FROM {FTS_TABLE}"))  # noqa: S608
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(table_name, column_name), 1, false) "
                    "FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND column_default LIKE 'nextval%' AND table_name <> ALL(:keep)"
                ),
                {"keep": list(keep)},
            )


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    yield
    with app.app_context():
        db.session.remove()
        empty_tables(REFERENCE_TABLES)
        limiter.reset()
    geocode_cache.clear()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context (and a request context) for service-layer tests."""
    with app.test_request_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get("/privacy").get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post(client: FlaskClient, url: str, data: dict | None = None, *, htmx: str | None = None, **kw):  # type: ignore[no-untyped-def]
    """POST a form with the session's CSRF token; `htmx` names the HX-Target to imitate htmx."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    headers = dict(kw.pop("headers", {}) or {})
    if htmx is not None:
        headers.update({"HX-Request": "true", "HX-Target": htmx})
    return client.post(url, data=data, headers=headers, **kw)


def log_in(client: FlaskClient, identifier: str, password: str = DEFAULT_PASSWORD):  # type: ignore[no-untyped-def]
    """Log in through the form; for staff, also answer the two-step code as the app would."""
    response = post(client, "/accounts/login", {"identifier": identifier, "password": password})
    if response.status_code == 303 and "/accounts/login/mfa" in response.headers["Location"]:
        return answer_mfa(client, response.headers["Location"], identifier)
    return response


def answer_mfa(client: FlaskClient, location: str, identifier: str):  # type: ignore[no-untyped-def]
    """Post the current TOTP code of the demo secret. A code is accepted once per 30 s step, so
    the account's last used step is cleared first: tests log the same officer in many times."""
    from urllib.parse import parse_qs, urlsplit

    with client.application.app_context():
        user = find_user_by_identifier(identifier)
        assert user is not None and user.totp_secret, "staff test users are enrolled"
        user.totp_last_step = None
        db.session.commit()
        code = pyotp.TOTP(user.totp_secret).now()
    query = parse_qs(urlsplit(location).query)
    data = {"code": code, "next": query.get("next", [""])[0]}
    return post(client, "/accounts/login/mfa", data)


@pytest.fixture
def login_as(app: Flask, client: FlaskClient) -> Callable[..., SimpleNamespace]:
    """Create a user (optionally with roles) and log the test client in through the login form."""

    def _login(*roles, **fields) -> SimpleNamespace:  # type: ignore[no-untyped-def]
        with app.app_context():
            user = make_user(roles=roles, **fields)
            info = SimpleNamespace(
                id=user.id, email=user.email, phone=user.phone, password=DEFAULT_PASSWORD
            )
        response = log_in(client, info.email or info.phone)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return info

    return _login


class ProductionForTests(ProductionConfig):
    """The production configuration with stand-in secrets (production refuses the dev ones)."""

    SECRET_KEY = "production-like-secret-key-0123456789-abcdefghijklmnop"
    DATA_ENCRYPTION_KEYS = "k1:" + "MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM="
    DATA_LOOKUP_KEY = "NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ="
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024


@pytest.fixture
def production_app(tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """An app as production builds it (ProxyFix, __Host- cookie...), on its own SQLite file."""
    config = type(
        "ProductionForTest",
        (ProductionForTests,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/production.db"},
    )
    production = create_app(config)
    with production.app_context():
        db.create_all()
    yield production
    with production.app_context():
        db.session.remove()
        db.engine.dispose()
