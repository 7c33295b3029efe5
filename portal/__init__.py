"""Portal Layanan Deli Serdang: the application factory."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, Response, g, has_request_context, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, Config
from portal.core.htmx import CONTENT_TARGET, is_htmx
from portal.core.identity import mask_number, mask_phone
from portal.core.logs import log_event
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

ERROR_TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    413: _l("The upload is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}


def create_app(config_class: type[Config] | str | None = None) -> Flask:
    """Build the app. Without an argument, `PORTAL_CONFIG` chooses (default: production)."""
    if config_class is None or isinstance(config_class, str):
        name = config_class or os.environ.get("PORTAL_CONFIG", "production")
        config_class = CONFIGS[name]
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=os.path.join(os.path.dirname(os.path.dirname(__file__)), "instance"),
    )
    app.config.from_object(config_class)
    validate = getattr(config_class, "validate", None)
    if validate is not None:
        validate(app.config)
    app.config["CONTENT_SECURITY_POLICY"] = build_csp(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("ENV_NAME") == "production":
        # One nginx in front: trust one hop of X-Forwarded-For/-Proto for client IP and https.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    _configure_logging(app)

    db.init_app(app)
    from portal.mall.search import alembic_include_object

    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        include_object=alembic_include_object,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=os.path.join(app.root_path, "translations"),
    )
    from portal.core import i18n

    i18n.install(app, babel)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.session_new"
    login_manager.login_message = None
    # "basic", not "strong": residents on mobile data change IP often and must not be logged out.
    login_manager.session_protection = "basic"

    _import_models()
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_handlers(app)
    app.after_request(_security_headers)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _configure_logging(app: Flask) -> None:
    from portal.core.logs import configure

    configure(getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO))


def _import_models() -> None:
    # Every model module is imported so the metadata (and Alembic autogenerate) sees all tables.
    import portal.accounts.models
    import portal.core.audit
    import portal.core.notifications
    import portal.jumpa_madu.ledger
    import portal.jumpa_madu.models
    import portal.mall.models
    import portal.mall.search
    import portal.privacy.models
    import portal.sadoku.models
    import portal.wilayah.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.admin_views import bp as admin_bp
    from portal.accounts.security_views import bp as account_security_bp
    from portal.accounts.security_views import check_exempt_endpoints as check_mfa_exempt_endpoints
    from portal.accounts.security_views import enforce_mfa
    from portal.accounts.views import bp as accounts_bp
    from portal.jumpa_madu.admin_views import bp as jumpa_madu_admin_bp
    from portal.jumpa_madu.officer_views import bp as jumpa_madu_officer_bp
    from portal.jumpa_madu.views import bp as jumpa_madu_bp
    from portal.main.views import bp as main_bp
    from portal.mall.admin_views import bp as mall_admin_bp
    from portal.mall.seller_views import bp as mall_seller_bp
    from portal.mall.views import bp as mall_bp
    from portal.privacy.admin_views import bp as privacy_admin_bp
    from portal.privacy.views import bp as privacy_bp
    from portal.sadoku.admin_views import bp as sadoku_admin_bp
    from portal.sadoku.officer_views import bp as sadoku_officer_bp
    from portal.sadoku.views import bp as sadoku_bp
    from portal.wilayah.views import bp as wilayah_bp

    blueprints = (
        main_bp,
        accounts_bp,
        account_security_bp,
        admin_bp,
        wilayah_bp,
        sadoku_bp,
        sadoku_officer_bp,
        sadoku_admin_bp,
        jumpa_madu_bp,
        jumpa_madu_officer_bp,
        mall_bp,
        mall_seller_bp,
        mall_admin_bp,
        jumpa_madu_admin_bp,
        privacy_bp,
        privacy_admin_bp,
    )
    for bp in blueprints:
        app.register_blueprint(bp)
    app.before_request(enforce_mfa)
    check_mfa_exempt_endpoints(app)


def _select_locale() -> str:
    from flask import current_app

    lang = request.cookies.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@login_manager.user_loader
def _load_user(user_id: str) -> Any:
    from portal.accounts.sessions import load_user

    return load_user(user_id)


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    from flask import redirect

    from portal.core.htmx import hx_redirect

    target = request.full_path if request.method == "GET" else request.path
    target = target.rstrip("?")
    login = url_for("accounts.session_new", next=target)
    if is_htmx():
        return hx_redirect(login, full=True)
    return redirect(login)


def _register_template_helpers(app: Flask) -> None:
    from portal.core.audit import action_label
    from portal.core.counts import count_label
    from portal.core.money import format_rupiah
    from portal.core.time import format_day, format_wib
    from portal.core.uploads import human_size

    app.jinja_env.filters["rupiah"] = format_rupiah
    app.jinja_env.filters["mask_nik"] = mask_number
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["audit_label"] = action_label

    app.jinja_env.filters["wib"] = format_wib
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["filesize"] = human_size

    def field_attrs(field: Any, described_by: str, extra: dict[str, Any]) -> dict[str, Any]:
        """HTML attributes of a form control: aria-describedby, aria-invalid, plus extras."""
        attrs = dict(extra)
        if described_by.strip():
            attrs["aria-describedby"] = described_by.strip()
        if field.errors:
            attrs["aria-invalid"] = "true"
        return attrs

    app.jinja_env.globals["field_attrs"] = field_attrs
    app.jinja_env.globals["count_label"] = count_label
    from portal.accounts.models import Role

    app.jinja_env.globals["Role"] = Role

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_babel import get_locale

        from portal.core.notifications import unread_count

        unread = 0
        if current_user.is_authenticated:
            if "unread" not in g:
                try:
                    g.unread = unread_count(current_user.id)
                except SQLAlchemyError:  # an error page must still render when the DB is down
                    db.session.rollback()
                    g.unread = 0
            unread = g.unread
        return {
            "config": app.config,
            "current_lang": str(get_locale() or "id"),
            "unread_count": unread,
        }


def discard_session() -> None:
    """Undo the request's database work; when the connection is dead, drop it instead.

    A rollback on a connection the server closed (PostgreSQL restarting) raises; raised from an
    error handler or a teardown it would replace our error page with gunicorn's bare one.
    """
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session().invalidate()  # the scoped session's Session: the proxy lacks invalidate()


def _render_error(code: int, description: str | None = None) -> Response:
    fragment = is_htmx()

    def body() -> str:
        return render_template(
            f"errors/{code}.html" if code in (403, 404, 500) else "errors/generic.html",
            code=code,
            title=str(ERROR_TITLES.get(code, ERROR_TITLES[500])),
            description=description,
            htmx_fragment=fragment,
        )

    try:
        html = body()
    except SQLAlchemyError:
        # The database is unreachable, so the layout cannot look up who is logged in: show the
        # error page as to a visitor rather than fail while reporting the failure.
        discard_session()
        login_manager._update_request_context_with_user(None)
        html = body()
    response = Response(html, status=code, mimetype="text/html")
    if fragment:
        # Errors always replace the main content, whatever element the request aimed at.
        response.headers["HX-Retarget"] = f"#{CONTENT_TARGET}"
        response.headers["HX-Reswap"] = "outerHTML show:window:top"
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response:
        log_event("csrf_failed", logging.WARNING, endpoint=request.endpoint, reason=exc.description)
        return _render_error(
            400, _("The form expired or was sent from another site. Go back, reload and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        if exc.code is None or exc.code < 400:
            return exc
        if exc.code in (401, 403):
            log_event("access_denied", logging.WARNING, endpoint=request.endpoint)
        elif exc.code == 429:
            log_event("rate_limited", logging.WARNING, endpoint=request.endpoint)
        return _render_error(exc.code)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        discard_session()
        return _render_error(500)

    @app.teardown_appcontext
    def _release_session(_exc: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own teardown (registered earlier, so run later), whose
        # rollback would raise on a connection PostgreSQL closed, after the response was built.
        # close(), not rollback(): it ends the transaction the same way without expiring the
        # objects, which code holding them after the context (CLI tasks, tests) still reads.
        try:
            db.session.close()
        except SQLAlchemyError:
            db.session().invalidate()


def build_csp(cfg: Any) -> str:
    """The Content-Security-Policy: self, plus the pinned CDN and the map tile host only.

    Neither 'unsafe-inline' nor 'unsafe-eval' is needed: htmx runs with allowEval false and
    injects no styles, and there is no inline script.
    """
    cdn_hosts = sorted(
        {_origin(cfg["HTMX_URL"]), _origin(cfg["LEAFLET_JS_URL"]), _origin(cfg["LEAFLET_CSS_URL"])}
        - {""}
    )
    tiles = _origin(cfg["MAP_TILE_URL"])
    csp = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *cdn_hosts],
        "style-src": ["'self'", *cdn_hosts],
        "img-src": ["'self'", "data:", *([tiles] if tiles else [])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{k} {' '.join(v)}" for k, v in csp.items())


def _security_headers(response: Response) -> Response:
    """CSP and friends on every response."""
    from flask import current_app

    cfg = current_app.config
    response.headers.setdefault("Content-Security-Policy", cfg["CONTENT_SECURITY_POLICY"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(self), geolocation=(self), microphone=()"
    if cfg.get("SESSION_COOKIE_SECURE"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # Pages of a logged-in user carry personal data: never store them in shared caches. A response
    # that already says how to cache it (public Mall photos) is left alone without touching the
    # session, so it gets no `Vary: Cookie` and stays cacheable by nginx and browsers.
    # A public page showing someone's records (core.security.mark_personal_data) is never kept.
    logged_in = "Cache-Control" not in response.headers and getattr(
        current_user, "is_authenticated", False
    )
    if logged_in or g.get("personal_data"):
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
