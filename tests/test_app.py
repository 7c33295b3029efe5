"""App-wide behaviour: configuration guards, security headers, errors, health check."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from config import ProductionConfig
from portal import create_app
from portal.extensions import db

# Real-looking (not development) NIK/KK keys: production refuses to start without them.
PRODUCTION_KEYS = {
    "DATA_ENCRYPTION_KEYS": "v1:" + "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=",
    "DATA_LOOKUP_KEY": "MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=",
}


def _production(**settings):
    return type(
        "Prod",
        (ProductionConfig,),
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", **PRODUCTION_KEYS, **settings},
    )


@pytest.mark.parametrize("key", ["", "dev", "changeme", "short-key", "development-only-not-secret"])
def test_production_refuses_to_start_with_a_weak_secret_key(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_production(SECRET_KEY=key))


def test_production_refuses_demo_mode_and_uses_secure_cookies():
    with pytest.raises(RuntimeError, match="DEMO_MODE"):
        create_app(_production(SECRET_KEY="x" * 48, DEMO_MODE=True))
    app = create_app(_production(SECRET_KEY="x" * 48))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["MAX_CONTENT_LENGTH"] > 0
    response = app.test_client().get("/healthz")
    assert "Strict-Transport-Security" in response.headers


def test_security_headers_on_every_response(client):
    for url in ("/", "/accounts/login", "/nope", "/healthz", "/static/css/portal.css"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        for directive in (
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "default-src 'self'",
        ):
            assert directive in csp, (url, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_csp_allows_only_self_and_the_pinned_cdn(app):
    production = create_app(_production(SECRET_KEY="x" * 48))
    csp = production.test_client().get("/").headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert script_src == "script-src 'self' https://cdn.jsdelivr.net"


def test_htmx_is_pinned_with_sri_and_a_self_hosted_copy_exists(app, client):
    import base64
    import hashlib
    from pathlib import Path

    page = client.get("/").get_data(as_text=True)
    assert f'integrity="{app.config["HTMX_SRI"]}"' in page
    vendored = Path(app.static_folder, "vendor", "htmx-2.0.11.min.js").read_bytes()
    digest = base64.b64encode(hashlib.sha384(vendored).digest()).decode()
    assert app.config["HTMX_SRI"] == f"sha384-{digest}"
    assert '"allowEval":false' in page and '"includeIndicatorStyles":false' in page
    assert '{"code":"422","swap":true}' in page


def test_logged_in_pages_are_not_cached(client, login_as):
    login_as()
    assert "no-store" in client.get("/accounts/profile").headers["Cache-Control"]


def test_error_pages_use_the_layout_and_htmx_retargets_them(client):
    plain = client.get("/tidak-ada")
    assert plain.status_code == 404 and '<main id="content"' in plain.get_data(as_text=True)
    htmx = client.get("/tidak-ada", headers={"HX-Request": "true", "HX-Target": "user-results"})
    assert htmx.headers["HX-Retarget"] == "#content"
    assert "<html" not in htmx.get_data(as_text=True)


def test_unexpected_errors_render_500_and_roll_back(app, client, monkeypatch):
    from portal.main import views

    def boom():
        raise ValueError("kaboom")

    monkeypatch.setitem(app.view_functions, "main.privacy", boom)
    response = client.get("/privacy")
    assert response.status_code == 500
    assert "kaboom" not in response.get_data(as_text=True)
    assert views  # the module stays importable


def test_upload_size_is_capped(app, client):
    too_big = app.config["MAX_CONTENT_LENGTH"] + 1
    response = client.post(
        "/accounts/login", data=b"x" * too_big, content_type="application/octet-stream"
    )
    assert response.status_code == 413


def test_healthz_ok_and_503_when_the_database_is_down(client, monkeypatch):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_home_explains_each_service_with_a_call_to_action(client, login_as):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in page
    # The Mall is live: browse products, or open a shop (login first).
    mall = page.split('id="mall"')[1].split("</section>")[0]
    assert 'href="/mall/"' in mall and 'href="/mall/my-shop/"' in mall
    # Jumpa Madu is live: a pickup request (login first), the public prices, how it works.
    jumpa = page.split('id="jumpa-madu"')[1].split("</section>")[0]
    for href in ("/jumpa-madu/pickups/new", "/jumpa-madu/prices", "/jumpa-madu/"):
        assert f'href="{href}"' in jumpa, href
    assert 'href="/jumpa-madu/wallet"' not in jumpa
    sadoku = page.split('id="sadoku"')[1].split("</section>")[0]
    # SADOKU is live: its section starts a request (login first) and offers public tracking.
    assert 'href="/sadoku/requests/new"' in sadoku and 'href="/sadoku/track"' in sadoku
    assert 'href="/sadoku/requests"' not in sadoku
    login_as()
    page = client.get("/").get_data(as_text=True)
    sadoku = page.split('id="sadoku"')[1].split("</section>")[0]
    assert "/accounts/register" not in sadoku and 'href="/sadoku/requests"' in sadoku
    jumpa = page.split('id="jumpa-madu"')[1].split("</section>")[0]
    assert 'href="/jumpa-madu/wallet"' in jumpa
    assert 'href="/mall/my-shop/"' in page.split('id="mall"')[1].split("</section>")[0]
