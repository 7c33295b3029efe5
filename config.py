"""Configuration classes, all read from environment variables.

`create_app` picks one by name (``PORTAL_CONFIG``: development, test, production). Production is the
default so that a server started without configuration fails closed instead of running in demo mode.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

HTMX_VERSION = "2.0.11"
HTMX_CDN_URL = f"https://cdn.jsdelivr.net/npm/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
HTMX_SRI = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
LEAFLET_VERSION = "1.9.4"
LEAFLET_CDN = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist"
LEAFLET_JS_SRI = "sha384-cxOPjt7s7Iz04uaHJceBmS+qpjv2JkIHNVcuOrM+YHwZOmJGBXI00mdUXEq65HTH"
LEAFLET_CSS_SRI = "sha384-sHL9NAb7lN7rfvG5lfHpm643Xkcjzp4jFvuavGOndn6pjVqS6ny56CAt3nsEVT4H"

# Keys shorter than this, or these well-known placeholders, are refused in production.
MIN_SECRET_KEY_LENGTH = 32
WEAK_SECRET_KEYS = frozenset({"", "dev", "changeme", "secret", "development-only-not-secret"})
# Public, development-only keys for NIK/KK encryption (base64 of readable ASCII, NOT secret):
# development and tests use them; production refuses to start with them (portal/core/crypto.py).
DEV_DATA_ENCRYPTION_KEYS = "dev:REVWLU9OTFktTk9ULVNFQ1JFVC1uaWsta2sta2V5LTE="
DEV_DATA_LOOKUP_KEY = "REVWLU9OTFktTk9ULVNFQ1JFVC1sb29rdXAta2V5LTE="


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class Config:
    """Settings shared by every environment; each value can be overridden from the environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", "development-only-not-secret")
    # NIK and KK are stored encrypted with AES-256-GCM (portal/core/crypto.py).
    # DATA_ENCRYPTION_KEYS: comma-separated "<id>:<base64 of 32 random bytes>", NEWEST FIRST: the
    # first key encrypts new values, every listed key still decrypts (rotation: put the new key
    # first, restart, run `flask crypto reencrypt`, then drop the old key). The key id is stored
    # with each value, so never reuse an id for different key material.
    # DATA_LOOKUP_KEY: base64 of 32 random bytes, the HMAC-SHA256 key of the lookup hashes
    # (users.nik_hash) that find a NIK without decrypting every row; must differ from the others.
    # Generate with `flask crypto new-key v1` and `flask crypto new-key`. Same on every server.
    DATA_ENCRYPTION_KEYS = os.environ.get("DATA_ENCRYPTION_KEYS") or DEV_DATA_ENCRYPTION_KEYS
    DATA_LOOKUP_KEY = os.environ.get("DATA_LOOKUP_KEY") or DEV_DATA_LOOKUP_KEY
    # Office point (unverified in DOMAIN.md) where routes start; override per deployment.
    DISDUKCAPIL_POINT = (
        float(os.environ.get("DISDUKCAPIL_LAT", "3.559")),
        float(os.environ.get("DISDUKCAPIL_LON", "98.874")),
    )
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    DEMO_MODE = False
    # Where residents reach the portal; links in emails sent from CLI tasks (no request) use it.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # Uploads (SADOKU attachments, shop photos) are capped here before any view sees them.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)
    # Where private uploads live (default: instance/uploads); never under static/.
    UPLOAD_ROOT = os.environ.get("UPLOAD_ROOT") or None
    # Where `flask backup` writes database backups (default: instance/backups); keep it off-host.
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or None
    # One SADOKU attachment (scan or photo of a document) at most this size.
    SADOKU_MAX_UPLOAD_BYTES = _int("SADOKU_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    # How often an open request's page asks for its status (seconds); public tracking's limit.
    SADOKU_POLL_SECONDS = _int("SADOKU_POLL_SECONDS", 30)
    SADOKU_TRACK_RATE_LIMIT = os.environ.get("SADOKU_TRACK_RATE_LIMIT", "10 per minute;100 per day")
    # Retention (UU 27/2022, `flask privacy purge`): days after a request closes (delivered,
    # collected, rejected, cancelled) before its attachments are deleted and its delivery data
    # (address, pin, recipient, hand-over photo and position) anonymised; unsent drafts go too.
    SADOKU_RETENTION_DAYS = _int("SADOKU_RETENTION_DAYS", 365)
    # Jumpa Madu: hours a resident has to confirm or dispute a weighing before it confirms itself;
    # the smallest withdrawal in rupiah; one pickup or weighing photo at most this size.
    JUMPA_MADU_CONFIRM_HOURS = _int("JUMPA_MADU_CONFIRM_HOURS", 48)
    JUMPA_MADU_MIN_WITHDRAWAL = _int("JUMPA_MADU_MIN_WITHDRAWAL", 10_000)
    JUMPA_MADU_MAX_UPLOAD_BYTES = _int("JUMPA_MADU_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    # How often an open pickup's page asks for its status (seconds).
    JUMPA_MADU_POLL_SECONDS = _int("JUMPA_MADU_POLL_SECONDS", 30)
    # Days after a pickup closes before its address, pin, notes and photos are erased by
    # `flask privacy purge`; weighings and the wallet ledger are kept (financial records).
    JUMPA_MADU_RETENTION_DAYS = _int("JUMPA_MADU_RETENTION_DAYS", 365)
    # One Mall product photo or shop logo at most this size.
    MALL_MAX_UPLOAD_BYTES = _int("MALL_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    # Reports of Mall listings per client IP (anyone may report, so it is rate limited).
    MALL_REPORT_RATE_LIMIT = os.environ.get("MALL_REPORT_RATE_LIMIT", "5 per minute;30 per day")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30

    WTF_CSRF_TIME_LIMIT = (
        None  # the token lives as long as the session; forms left open stay usable
    )

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    LANGUAGES = ("id", "en")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Per client IP and per account (phone/email typed) on login, registration and reset.
    AUTH_RATE_LIMIT_IP = os.environ.get("AUTH_RATE_LIMIT_IP", "20 per minute;200 per day")
    AUTH_RATE_LIMIT_ACCOUNT = os.environ.get("AUTH_RATE_LIMIT_ACCOUNT", "5 per minute;30 per day")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Portal Deli Serdang <noreply@localhost>"
    )
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)

    GEOCODER = os.environ.get("GEOCODER", "offline")  # "offline" or "nominatim"
    NOMINATIM_DOMAIN = os.environ.get("NOMINATIM_DOMAIN", "nominatim.openstreetmap.org")
    NOMINATIM_SCHEME = os.environ.get("NOMINATIM_SCHEME", "https")
    GEOCODER_USER_AGENT = os.environ.get(
        "GEOCODER_USER_AGENT", "portal-deli-serdang/0.1 (admin@deliserdangkab.go.id)"
    )
    GEOCODER_TIMEOUT = _int("GEOCODER_TIMEOUT", 5)
    # Nominatim's usage policy: at most one request per second (per process here).
    GEOCODER_MIN_DELAY_SECONDS = float(os.environ.get("GEOCODER_MIN_DELAY_SECONDS", "1.0"))

    HTMX_URL = os.environ.get("HTMX_URL", HTMX_CDN_URL)
    HTMX_SRI = HTMX_SRI
    LEAFLET_JS_URL = os.environ.get("LEAFLET_JS_URL", f"{LEAFLET_CDN}/leaflet.js")
    LEAFLET_CSS_URL = os.environ.get("LEAFLET_CSS_URL", f"{LEAFLET_CDN}/leaflet.css")
    LEAFLET_JS_SRI = LEAFLET_JS_SRI
    LEAFLET_CSS_SRI = LEAFLET_CSS_SRI
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")

    # argon2-cffi's defaults (RFC 9106 low-memory profile); rehashed on login when these change.
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 64 * 1024)
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 4)

    # Sessions end on the server after this long without a request, or this long after login:
    # short for staff (ASVS 7.3), longer for residents on their own phones.
    STAFF_SESSION_IDLE_SECONDS = _int("STAFF_SESSION_IDLE_SECONDS", 30 * 60)
    STAFF_SESSION_MAX_SECONDS = _int("STAFF_SESSION_MAX_SECONDS", 12 * 3600)
    RESIDENT_SESSION_IDLE_SECONDS = _int("RESIDENT_SESSION_IDLE_SECONDS", 14 * 24 * 3600)
    RESIDENT_SESSION_MAX_SECONDS = _int("RESIDENT_SESSION_MAX_SECONDS", 30 * 24 * 3600)
    # A "keep me logged in" cookie lives this long; the server-side limits above still apply.
    PERMANENT_SESSION_LIFETIME = RESIDENT_SESSION_MAX_SECONDS
    # Paying out money, changing roles and seeing a full NIK need a login or code this recent.
    # Ended sessions (device name, IP address) are deleted by `flask privacy purge` after this.
    SESSION_RETENTION_DAYS = _int("SESSION_RETENTION_DAYS", 90)
    STEPUP_MAX_AGE_SECONDS = _int("STEPUP_MAX_AGE_SECONDS", 15 * 60)
    # The name authenticator apps show next to the codes.
    MFA_ISSUER = os.environ.get("MFA_ISSUER", "Portal Deli Serdang")

    PRIVACY_NOTICE_VERSION = "2026-11"
    PASSWORD_RESET_TTL_SECONDS = 3600
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")


class DevConfig(Config):
    """`make run`: SQLite in instance/, demo data and demo accounts allowed."""

    ENV_NAME = "development"
    DEMO_MODE = True


class TestConfig(Config):
    """The test suite: an isolated database (`TEST_DATABASE_URL` for PostgreSQL), local assets."""

    ENV_NAME = "test"
    TESTING = True
    DEMO_MODE = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - tests only
    DATA_ENCRYPTION_KEYS = DEV_DATA_ENCRYPTION_KEYS
    DATA_LOOKUP_KEY = DEV_DATA_LOOKUP_KEY
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    HTMX_URL = "/static/vendor/htmx-2.0.11.min.js"
    LEAFLET_JS_URL = "/static/vendor/leaflet-1.9.4/leaflet.js"
    LEAFLET_CSS_URL = "/static/vendor/leaflet-1.9.4/leaflet.css"
    MAIL_SERVER = ""
    GEOCODER = "offline"
    GEOCODER_MIN_DELAY_SECONDS = 0.0
    # Argon2 at full cost makes hundreds of test logins slow; the hashing code path is the same.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8 * 1024


class ProductionConfig(Config):
    """Behind nginx on PostgreSQL. Demo mode cannot be switched on here."""

    ENV_NAME = "production"
    DEMO_MODE = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # `__Host-`: the browser only accepts it over HTTPS, for the whole site, from this host alone
    # (no Domain attribute), so a sibling subdomain cannot plant or overwrite the session.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_PATH = "/"
    SESSION_COOKIE_DOMAIN = None
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls, settings: dict) -> None:
        """Refuse to start with a missing or weak secret key, or with demo mode switched on."""
        key = settings.get("SECRET_KEY") or ""
        if settings.get("DEMO_MODE"):
            raise RuntimeError("DEMO_MODE cannot be enabled in production")
        if key in WEAK_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        # NIK/KK encryption keys: present, well-formed, and not the public development keys.
        from portal.core.crypto import check_production_keys

        check_production_keys(settings.get("DATA_ENCRYPTION_KEYS"), settings.get("DATA_LOOKUP_KEY"))


CONFIGS: dict[str, type[Config]] = {
    "development": DevConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
