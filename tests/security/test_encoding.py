"""Small proofs the ASVS walk asked for: stored markup comes out escaped, password fields are
plain password inputs that allow pasting, TRACE is refused, and behind nginx the client's own IP
(not nginx's) is the one rate limits and the audit log see."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import Role, UserSession
from portal.extensions import db
from tests.factories import DEFAULT_PASSWORD, make_user

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_typed_into_a_stored_field_is_shown_as_text(client, app, login_as):
    """A resident's name is shown to admins; whatever it holds must not run there."""
    with app.app_context():
        make_user(full_name=f"Budi {MARKUP}", email="budi@contoh.id")
    login_as(Role.ADMIN)
    with app.app_context():
        from portal.accounts.services import find_user_by_identifier

        budi_id = find_user_by_identifier("budi@contoh.id").id
    page = client.get(f"/admin/users/{budi_id}").get_data(as_text=True)
    assert MARKUP not in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_password_fields_are_password_inputs_that_allow_pasting(client):
    for url in ("/accounts/login", "/accounts/register"):
        html = client.get(url).get_data(as_text=True)
        inputs = re.findall(r"<input[^>]*name=\"password\"[^>]*>", html)
        assert inputs, url
        for tag in inputs:
            assert 'type="password"' in tag
            assert "onpaste" not in tag and 'autocomplete="off"' not in tag


def test_trace_is_refused(client):
    assert client.open("/", method="TRACE").status_code == 405


def test_behind_nginx_the_session_records_the_clients_ip_not_nginxs(production_app):
    """Production trusts one proxy hop: nginx's X-Forwarded-For names the real client, which the
    rate limits, the logs and the devices page then see; a forged extra hop is not believed."""
    with production_app.app_context():
        make_user(email="budi@contoh.id")
    browser = production_app.test_client()
    base = "https://portal.test"
    # What nginx sends: the client's own header (forged) plus the address nginx saw.
    hops = {"X-Forwarded-For": "10.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https"}
    page = browser.get("/accounts/login", base_url=base, headers=hops)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page.text)
    assert token
    response = browser.post(
        "/accounts/login",
        base_url=base,
        headers={**hops, "Referer": f"{base}/accounts/login"},
        data={
            "identifier": "budi@contoh.id",
            "password": DEFAULT_PASSWORD,
            "csrf_token": token.group(1),
        },
    )
    assert response.status_code == 303, response.text[:300]
    with production_app.app_context():
        assert db.session.scalars(select(UserSession.ip)).all() == ["203.0.113.9"]
