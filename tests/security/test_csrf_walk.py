"""The CSRF walk: every state-changing endpoint refuses a request without a valid token.

The endpoints come from `app.url_map` (every POST/PUT/PATCH/DELETE), so a new one is walked
without anyone adding it here. Each is sent by a persona the access matrix lets use it (a
refusal by role would prove nothing about CSRF), with no token, a made-up token, and a real
token of another browser's session (in the form, and in htmx's X-CSRFToken header). Every one
must get the CSRF error page (400), and the database must be exactly as before, row for row.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.extensions import db
from tests.conftest import csrf_token
from tests.security.test_access_matrix import ACCESS, rule_for
from tests.security.world import (
    ALLOWED,
    HOME,
    PERSONAS,
    STATE_CHANGING,
    Call,
    calls,
    client_for,
    is_csrf_refusal,
    make_world,
)

# Bookkeeping a request may write before any view runs: the session's "last seen" time (written
# at most once a minute). Anything else that changes is a write that slipped past the CSRF check.
IGNORED_COLUMNS = {"user_sessions": {"last_seen_at"}}


def snapshot(app: Flask) -> dict[str, str]:
    """A fingerprint of every table's rows, so "nothing changed" means nothing at all."""
    prints = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            ignored = IGNORED_COLUMNS.get(table.name, set())
            columns = [c for c in table.columns if c.name not in ignored]
            rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            prints[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        db.session.remove()
    return prints


def persona_for(endpoint: str, method: str) -> str:
    """The first persona the access table lets through (or, for log out, sends home)."""
    rule = rule_for(endpoint, method)
    for wanted in (ALLOWED, HOME):
        for persona in PERSONAS:
            if rule.expect(persona) == wanted:
                return persona
    raise AssertionError(f"nobody may use {method} {endpoint}: fix its row in ACCESS")


def attempts(other_token: str) -> list[tuple[str, dict[str, Any]]]:
    """Ways a forged request arrives: no token, a made-up one, another session's real one."""
    htmx = {"HX-Request": "true", "HX-Target": "content"}
    return [
        ("no token", {}),
        ("made-up token", {"data": {"csrf_token": "IjEyMyI.forged.token"}}),
        ("another session's token", {"data": {"csrf_token": other_token}}),
        (
            "another session's token as htmx header",
            {"headers": {**htmx, "X-CSRFToken": other_token}},
        ),
        ("no token, htmx", {"headers": htmx}),
    ]


def _send(client: FlaskClient, call: Call, extra: dict[str, Any]) -> Any:
    data = {**call.data, **extra.get("data", {})}
    return client.open(call.url, method=call.method, data=data, headers=extra.get("headers", {}))


@pytest.mark.usefixtures("no_rate_limits")
def test_state_changing_requests_without_a_valid_token_change_nothing(app: Flask):
    world = make_world(app)
    walk = [c for c in calls(app, world) if c.method in STATE_CHANGING and c.endpoint in ACCESS]
    # Endpoints without a row or URL arguments are named by the access matrix's own tests.
    assert len(walk) > 50, "the walk lost the state-changing endpoints"
    other_token = csrf_token(app.test_client())
    clients: dict[str, FlaskClient] = {}
    before = snapshot(app)
    failures = []
    for call in walk:
        persona = persona_for(call.endpoint, call.method)
        if persona not in clients:
            clients[persona] = client_for(app, world, persona)
            # Logging in writes (a session row): that is the new baseline, not a leak.
            before = snapshot(app)
        for label, extra in attempts(other_token):
            response = _send(clients[persona], call, extra)
            if not is_csrf_refusal(app, response):
                failures.append(
                    f"{call.method} {call.endpoint} as {persona}, {label}: "
                    f"{response.status_code} {response.headers.get('Location', '')}"
                )
        after = snapshot(app)
        changed = sorted(name for name in after if after[name] != before.get(name))
        if changed:
            failures.append(f"{call.method} {call.endpoint} as {persona} changed {changed}")
            before = after
    assert not failures, f"{len(failures)} forged request(s) got through:\n" + "\n".join(failures)


@pytest.mark.usefixtures("no_rate_limits")
def test_the_walk_would_notice_a_write(app: Flask):
    """The fingerprint is not blind: a real (valid-token) action shows up in it."""
    world = make_world(app)
    client = client_for(app, world, "resident_a")
    before = snapshot(app)
    response = client.post("/notifications/read-all", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    after = snapshot(app)
    assert [name for name in after if after[name] != before[name]] == ["notifications"]
