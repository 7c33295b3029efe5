"""The database going away mid-request (PostgreSQL restarting) ends in our error page.

Found by `make loadtest`'s PostgreSQL restart: with the connection gone, the error handler's
rollback, the layout's "who is logged in" query, Flask-SQLAlchemy's teardown and the request
logger each raised again, and gunicorn answered with its own bare "Internal Server Error" instead
of the portal's page. Here the database driver fails the way psycopg does when the server closes
the connection: every statement and every rollback raises the driver's OperationalError.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask_login import current_user

from portal.core.logs import RequestInfoFilter
from portal.extensions import db


@pytest.fixture
def database_gone(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make every statement and rollback fail as on a closed connection."""

    def cut() -> None:
        with app.app_context():
            dialect = db.engine.dialect
        closed = dialect.loaded_dbapi.OperationalError

        def fail(*_args: object, **_kwargs: object) -> None:
            raise closed("server closed the connection unexpectedly")

        for name in ("do_execute", "do_execute_no_params", "do_executemany", "do_rollback"):
            monkeypatch.setattr(dialect, name, fail)

    return cut


def _is_our_error_page(html: str) -> bool:
    return '<main id="content"' in html and html.rstrip().endswith("</html>")


def test_a_logged_in_page_shows_our_error_page_while_the_database_is_gone_then_works(
    client, login_as, database_gone, monkeypatch
):
    login_as()
    assert client.get("/jumpa-madu/wallet").status_code == 200

    database_gone()
    response = client.get("/jumpa-madu/wallet")

    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert _is_our_error_page(html)
    assert "Traceback" not in html and "server closed" not in html

    monkeypatch.undo()  # the database is back: the same session works without a new login
    assert client.get("/jumpa-madu/wallet").status_code == 200


def test_an_error_logged_while_the_database_is_gone_keeps_the_user_and_the_page(
    app, client, login_as, database_gone, caplog, monkeypatch
):
    """The request logger names the user without asking the database for them."""
    user = login_as()

    def commit_then_lose_the_connection():
        assert current_user.is_authenticated
        db.session.commit()  # the user row is now expired: reading it would query
        database_gone()
        db.session.execute(db.text("SELECT 1"))

    monkeypatch.setitem(app.view_functions, "main.privacy", commit_then_lose_the_connection)
    request_filter = RequestInfoFilter()
    caplog.handler.addFilter(request_filter)
    try:
        with caplog.at_level(logging.ERROR):
            response = client.get("/privacy")
    finally:
        caplog.handler.removeFilter(request_filter)

    assert response.status_code == 500
    assert _is_our_error_page(response.get_data(as_text=True))
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged and logged[0].request_info["user_id"] == user.id
