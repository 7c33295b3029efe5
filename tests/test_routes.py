"""Every endpoint is either on the public allow-list or refuses anonymous visitors.

A new view that forgets `login_required` / `role_required` fails here, not in production.
"""

from __future__ import annotations

from flask import Flask

from portal.accounts.models import Role
from tests.conftest import csrf_token

PUBLIC_ENDPOINTS = {
    "static",
    "main.home",
    "main.privacy",
    "main.language_set",
    "main.healthz",
    "wilayah.desa_options",
    "accounts.account_new",
    "accounts.session_new",
    "accounts.password_reset_request",
    "accounts.password_reset_edit",
    "sadoku.index",
    "sadoku.document_type_show",
    "sadoku.track",
    "jumpa_madu.index",
    "jumpa_madu.price_index",
    "mall.index",
    "mall.product_show",
    "mall.product_whatsapp",
    "mall.product_report",
    "mall.shop_show",
    "mall.photo",
}
ADMIN_ENDPOINTS_PREFIXES = ("admin.", "sadoku_admin.", "jumpa_madu_admin.", "mall_admin.")
SAMPLE_ARGS = {"int": 1, "default": "x", "string": "x", "path": "x"}


def _urls(app: Flask):
    for rule in app.url_map.iter_rules():
        args = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__.lower()
            args[name] = 1 if "integer" in converter else "x"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_endpoint_is_public_or_protected(app: Flask):
    client = app.test_client()
    token = csrf_token(client)
    unprotected = []
    for endpoint, method, url in _urls(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.open(url, method=method, data={"csrf_token": token})
        location = response.headers.get("Location", "")
        if not (response.status_code == 302 and "/accounts/login" in location):
            unprotected.append((endpoint, method, response.status_code))
    assert unprotected == []


def test_the_allow_list_names_only_real_endpoints(app: Flask):
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= PUBLIC_ENDPOINTS


def test_admin_endpoints_refuse_every_non_admin_role(app: Flask, login_as):
    for role in (None, Role.SADOKU_OFFICER, Role.SADOKU_COURIER, Role.WASTE_OFFICER, Role.SELLER):
        client = app.test_client()
        from tests.factories import make_user

        with app.app_context():
            user = make_user(roles=(role,) if role else ())
            ident = user.email
        from tests.conftest import log_in

        assert log_in(client, ident).status_code == 303
        token = csrf_token(client)
        for endpoint, method, url in _urls(app):
            if endpoint.startswith(ADMIN_ENDPOINTS_PREFIXES):
                status = client.open(url, method=method, data={"csrf_token": token}).status_code
                assert status == 403, (role, endpoint, method, status)
