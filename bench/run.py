"""`make bench`: the portal's key pages against a Fortunes reference, behind nginx, with wrk.

For each dataset size (``--products``; the demo data alone when ``flask seed scale`` is missing):

1. A fresh database: SQLite in a temporary directory, or the PostgreSQL database named by
   ``BENCH_DATABASE_URL`` (it must be called ``portal_bench*``: it is dropped and made again).
   Schema, ``flask seed demo`` (the accounts that log in), ``flask seed scale --products N``,
   and the reference's ``fortune`` table.
2. gunicorn with the README's settings (gthread, 4 workers x 2 threads) for the portal
   (``PORTAL_CONFIG=production``, keys made for the run) and for bench/fortunes.py, both behind one
   nginx running deploy/nginx.conf rewritten for the loopback (bench/nginx.py), as this user.
3. Log in through nginx: a resident, the SADOKU officer and the unit officer (TOTP), and find the
   pages' URLs (a search with filters, a catalogue page some "next" links deep, a product, a shop,
   the pickup form and its CSRF token).
4. Per page: SQL queries of one request (a test client in this process, counting
   ``before_cursor_execute``), bytes raw and gzip through nginx (page and htmx fragment), then wrk
   at each connection count for ``--duration`` seconds; the reference at the same counts.

The largest size is the report; smaller sizes run at ``--growth-connections`` only, for the
growth ratio. Results: bench/results/<date>-<db>.json and a markdown table with PASS/MISS per budget
(bench/report.py). Installs Debian's nginx(-light) and wrk with apt-get when they are missing.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.nginx import Loopback, nginx_command, write_config  # noqa: E402
from loadtest.htmlforms import find_form, links  # noqa: E402
from loadtest.run import machine as host_machine  # noqa: E402

BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
PASSWORD = "demo-portal-2026"  # noqa: S105 - the documented demo password (demo mode only)
TOTP_SECRET = os.environ.get("BENCH_TOTP_SECRET", "DELISERDANGPORTALDEMOTOTPSECRET2")
HTMX_LOCAL = "/static/vendor/htmx-2.0.11.min.js"
# Lubuk Pakam III, inside the demo unit's area (as loadtest/locustfile.py uses it).
PICKUP_ADDRESS = {"kecamatan": "12.07.28", "desa": "12.07.28.1008", "rt": "003", "rw": "001"}
# Who reads each logged-in page: the demo accounts, replaced by the heaviest accounts that
# `flask seed scale` names at the end of its output (the most SADOKU requests, the longest wallet
# statement, the busiest unit), so the pages are measured where the data is largest.
ACCOUNTS = {
    "resident": "warga@demo.test",  # files the pickups (the demo address is in a unit's area)
    "sadoku_resident": "warga@demo.test",
    "wallet_resident": "warga@demo.test",
    "sadoku_officer": "petugas.sadoku@demo.test",
    "unit_officer": "petugas.jumpamadu@demo.test",
}
SCALE_SAMPLES = {
    "resident with the most SADOKU requests": "sadoku_resident",
    "resident with the longest wallet statement": "wallet_resident",
    "officer of the busiest unit": "unit_officer",
    "SADOKU officer": "sadoku_officer",
    "shop with the most products": "shop",
}


@dataclass
class Page:
    """One measured URL, with the session it needs and the htmx target of its fragment."""

    name: str
    path: str
    user: str | None = None
    method: str = "GET"
    body: str = ""
    fragment: str | None = "content"
    public: bool = False
    key: bool = True  # counts for the budgets (the photo row is informative)
    expect: int = 200


@dataclass
class Client:
    """A tiny cookie-keeping HTTP client for nginx on the loopback (no redirects followed)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: str | bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        hdrs = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = self.cookie_header()
        data = body.encode() if isinstance(body, str) else body
        if data:
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        conn.request(method, path, body=data or None, headers=hdrs)
        response = conn.getresponse()
        payload = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                self._store(value)
        headers_out = {k.lower(): v for k, v in response.getheaders()}
        conn.close()
        return response.status, headers_out, payload

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers=headers)

    def _store(self, header: str) -> None:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        attrs = rest.lower()
        if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
            self.cookies.pop(name.strip(), None)
        else:
            self.cookies[name.strip()] = value

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


# --- tools ------------------------------------------------------------------------------------


def ensure_tools() -> None:
    """Install Debian's nginx(-light) and wrk when missing (apt-get; sudo -n when not root)."""
    missing = []
    if not _nginx_binary():
        missing.append("nginx-light" if _apt_candidate("nginx-light") else "nginx")
    if not shutil.which("wrk"):
        missing.append("wrk")
    if not missing:
        return
    print(f"Installing {' '.join(missing)} (apt-get)")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    had_system_nginx = Path("/run/nginx.pid").exists()
    done = subprocess.run(
        [*sudo, "apt-get", "install", "-y", "--no-install-recommends", *missing], env=env
    )
    if done.returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], env=env, check=True)
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "--no-install-recommends", *missing],
            env=env,
            check=True,
        )
    if not had_system_nginx and Path("/run/nginx.pid").exists():
        # The package's post-install script started the system service; the bench runs its own.
        subprocess.run([*sudo, "nginx", "-s", "quit"], check=False)
    if not _nginx_binary() or not shutil.which("wrk"):
        raise SystemExit("nginx or wrk is still missing after apt-get install")


def _nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _apt_candidate(package: str) -> bool:
    done = subprocess.run(
        ["apt-cache", "policy", package], capture_output=True, text=True, check=False
    )
    match = re.search(r"Candidate:\s*(\S+)", done.stdout)
    return bool(match and match.group(1) != "(none)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- database ------------------------------------------------------------------------------------


def _admin_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.startswith("portal_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database must be portal_bench*")
    scheme = parts.scheme.split("+", 1)[0]
    return urlunsplit((scheme, parts.netloc, "/postgres", "", "")), name


def fresh_database(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        path = Path(urlsplit(database_url).path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _keys() -> dict[str, str]:
    """Keys made for this run: production refuses the public development ones."""

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_ENCRYPTION_KEYS": f"bench:{key()}",
        "DATA_LOOKUP_KEY": key(),
    }


def app_env(database_url: str, tmp: Path, keys: dict[str, str], config: str) -> dict[str, str]:
    """The app's environment: `development` to seed (demo mode), `production` to serve."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(
        keys,
        PORTAL_CONFIG=config,
        DATABASE_URL=database_url,
        UPLOAD_ROOT=str(tmp / "uploads"),
        BACKUP_DIR=str(tmp / "backups"),
        # htmx from the portal's own static files (the offline setting), so nginx serves and
        # measures it and nothing leaves the machine.
        HTMX_URL=HTMX_LOCAL,
        LEAFLET_JS_URL="/static/vendor/leaflet-1.9.4/leaflet.js",
        LEAFLET_CSS_URL="/static/vendor/leaflet-1.9.4/leaflet.css",
        RATELIMIT_STORAGE_URI="memory://",
        # Every login comes from 127.0.0.1; three accounts log in once per dataset.
        AUTH_RATE_LIMIT_IP="1000 per minute",
        PYTHONUNBUFFERED="1",
    )
    return env


def flask(env: dict[str, str], *args: str, capture: bool = True) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=capture,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write((done.stderr or "")[-3000:])
        raise SystemExit(f"flask {' '.join(args)} failed")
    return done.stdout or ""


def schema(env: dict[str, str], how: str) -> None:
    if how == "migrate":
        flask(env, "db", "upgrade")
        return
    code = (
        "from portal import create_app; from portal.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context(): db.create_all()\n"
    )
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True)


def has_scale_seed(env: dict[str, str]) -> bool:
    return " scale " in f" {flask(env, 'seed', '--help')} ".replace("\n", " ")


def seed(env: dict[str, str], products: int | None) -> tuple[float, dict[str, tuple[str, str]]]:
    """Demo accounts, then the scale data. Returns the seconds it took and the samples the scale
    seed names ({role: (login or path, what it is)})."""
    started = time.monotonic()
    flask(env, "seed", "demo")
    samples: dict[str, tuple[str, str]] = {}
    if products:
        print(f"  flask seed scale --products {products}")
        command = [
            str(BIN / "flask"),
            "--app",
            "wsgi",
            "seed",
            "scale",
            "--products",
            str(products),
        ]
        lines = []
        with subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                print("    " + line.rstrip()[:200])
        if proc.returncode != 0:
            raise SystemExit(f"flask seed scale --products {products} failed")
        samples = scale_samples(lines)
    code = (
        "import sqlalchemy as sa, os\n"
        "from bench.fortunes import install\n"
        "install(sa.create_engine(os.environ['DATABASE_URL']))\n"
    )
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True)
    return time.monotonic() - started, samples


def scale_samples(lines: list[str]) -> dict[str, tuple[str, str]]:
    """The accounts and shop listed after "Accounts to try" in `flask seed scale`'s output."""
    found: dict[str, tuple[str, str]] = {}
    listing = False
    for line in lines:
        if line.startswith("Accounts to try"):
            listing = True
            continue
        match = re.match(r"^\s+(\S+)\s+(\S.*?)\s*$", line) if listing else None
        if match is None:
            listing = listing and bool(line.strip()) and line.startswith(" ")
            continue
        login, what = match.groups()
        for prefix, role in SCALE_SAMPLES.items():
            if what == prefix or what.startswith(prefix + " ("):
                found[role] = (login, what)
    return found


# --- servers -------------------------------------------------------------------------------------


class Servers:
    """gunicorn (portal, reference) and nginx on the loopback, stopped by `stop()`."""

    def __init__(self, env: dict[str, str], tmp: Path, args: argparse.Namespace) -> None:
        self.where = Loopback(
            portal_port=_free_port(),
            reference_port=_free_port(),
            portal_upstream=_free_port(),
            reference_upstream=_free_port(),
            prefix=tmp / "nginx",
        )
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Any] = []
        self.tmp = tmp
        gunicorn = [
            str(BIN / "gunicorn"),
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "30",
        ]
        # Each master gets its own control socket (gunicorn >= 25 makes one in $HOME otherwise).
        self._start(
            [
                *gunicorn,
                "--control-socket",
                str(tmp / "gunicorn-portal.ctl"),
                "--bind",
                f"127.0.0.1:{self.where.portal_upstream}",
                "wsgi:app",
            ],
            env,
            "gunicorn-portal.log",
        )
        self._start(
            [
                *gunicorn,
                "--control-socket",
                str(tmp / "gunicorn-fortunes.ctl"),
                "--bind",
                f"127.0.0.1:{self.where.reference_upstream}",
                "bench.fortunes:create_app()",
            ],
            env,
            "gunicorn-fortunes.log",
        )
        config = write_config(self.where)
        check = subprocess.run(nginx_command(config, "-t"), capture_output=True, text=True)
        if check.returncode != 0:
            self.stop()
            raise SystemExit(f"nginx -t refused the loopback configuration:\n{check.stderr}")
        self._start(nginx_command(config, "-g", "daemon off;"), None, "nginx.out")
        self.portal = self.where.portal_port
        self.reference = self.where.reference_port
        _wait_ok(self.portal, "/healthz")
        _wait_ok(self.reference, "/fortunes")

    def _start(self, command: list[str], env: dict[str, str] | None, log: str) -> None:
        out = open(self.tmp / log, "ab")  # noqa: SIM115 - closed in stop()
        self.logs.append(out)
        self.procs.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for out in self.logs:
            out.close()
        self.procs = []


def _wait_ok(port: int, path: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            status, _, _ = Client(port).get(path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nothing answered 200 on 127.0.0.1:{port}{path}")


# --- logging in and finding the pages -------------------------------------------------------------


def log_in(port: int, email: str) -> Client:
    """Password, then the TOTP step for staff; returns a client holding the session cookie."""
    import pyotp

    client = Client(port)
    status, _, page = client.get("/accounts/login")
    form = find_form(page.decode(), f"http://127.0.0.1:{port}/accounts/login", "/accounts/login")
    if status != 200 or form is None:
        raise SystemExit("no login form")
    body = urlencode(form.data(identifier=email, password=PASSWORD))
    status, headers, _ = client.request("POST", "/accounts/login", body)
    target = urlsplit(headers.get("location", "")).path
    if status != 303:
        raise SystemExit(f"login of {email} answered {status}")
    if "/mfa" in target:
        status, _, page = client.get(target)
        form = find_form(page.decode(), f"http://127.0.0.1:{port}{target}", "mfa")
        if form is None:
            raise SystemExit(f"{email}: no TOTP form (enrolment needed?)")
        body = urlencode(form.data(code=pyotp.TOTP(TOTP_SECRET).now()))
        status, _, _ = client.request("POST", urlsplit(form.action).path, body)
        if status != 303:
            raise SystemExit(f"{email}: TOTP step answered {status}")
    return client


def discover(
    port: int,
    sessions: dict[str, Client],
    deep_pages: int,
    shop: str | None = None,
    search_word: str = "kopi",
) -> list[Page]:
    """The pages to measure, with real ids, filters and cursors read from the portal's pages."""
    anon = Client(port)
    base = f"http://127.0.0.1:{port}"
    _, _, first = anon.get("/mall/")
    html = first.decode()
    products = links(html, r"^/mall/products/\d+$")
    if not products:
        raise SystemExit("the catalogue shows no products: was the data seeded?")
    # The first listed product with a photo (most have one), so both dataset sizes measure the
    # same kind of product page.
    product = products[0]
    for candidate in products[:12]:
        _, _, product_page = anon.get(candidate)
        if b"/mall/photos/" in product_page:
            product = candidate
            break
    _, _, product_page = anon.get(product)
    shops = links(product_page.decode(), r"^/mall/shops/[\w-]+$")
    if not shops:
        raise SystemExit(f"no shop link on {product}")

    # A search a resident would make: one word (the same at every dataset size, so the growth
    # compares like with like), verified shops, a price cap, and the sort by price.
    search = {"q": search_word, "verified_only": "y"}
    form = find_form(html, f"{base}/mall/", "/mall/", method="get")
    if form is not None:
        sorts = form.choices.get("sort", [])
        if "price_asc" in sorts:
            search["sort"] = "price_asc"
        elif len(sorts) > 1:
            search["sort"] = sorts[1]
    search["price_max"] = "1000000"
    search_path = "/mall/?" + urlencode(search)

    deep_path, depth = "/mall/", 0
    for _ in range(deep_pages):
        nexts = links(html, r"^/mall/\?.*cursor=")
        if not nexts:
            break
        deep_path = nexts[-1]
        depth += 1
        _, _, body = anon.get(deep_path)
        html = body.decode()

    officer = sessions["sadoku_officer"]
    _, _, queue = officer.get("/sadoku/officer/requests")
    qform = find_form(
        queue.decode(), f"{base}/sadoku/officer/requests", "/sadoku/officer/requests", method="get"
    )
    queue_args = {"status": "submitted"}
    if qform is not None and len(qform.choices.get("document_type", [])) > 1:
        queue_args["document_type"] = qform.choices["document_type"][1]
    queue_path = "/sadoku/officer/requests?" + urlencode(queue_args)

    pages = [
        Page("home", "/", public=True),
        Page("catalogue search + filters", search_path, public=True, fragment="catalogue-results"),
        Page(
            f"catalogue page {depth + 1} (keyset)", deep_path, public=True, fragment="product-list"
        ),
        Page("product", product, public=True),
        Page("shop", shop or shops[0], public=True),
        Page("SADOKU: my requests", "/sadoku/requests", user="sadoku_resident"),
        Page(
            "SADOKU officer queue + filters",
            queue_path,
            user="sadoku_officer",
            fragment="queue-results",
        ),
        Page(
            "Jumpa Madu wallet statement",
            "/jumpa-madu/wallet",
            user="wallet_resident",
            fragment="statement",
        ),
        Page(
            "Jumpa Madu unit queue",
            "/jumpa-madu/unit/pickups?tab=new",
            user="unit_officer",
            fragment="queue-results",
        ),
    ]
    pages.append(_pickup_page(port, sessions["resident"]))
    photos = re.findall(r'src="(/mall/photos/[^"]+)"', first.decode())
    if photos:
        pages.append(Page("photo (thumbnail, nginx cache)", photos[0], fragment=None, key=False))
    return pages


def _pickup_page(port: int, resident: Client) -> Page:
    """The pickup request POST: a filled, valid form with its CSRF token; each one files one."""
    base = f"http://127.0.0.1:{port}"
    _, _, page = resident.get("/jumpa-madu/pickups/new")
    form = find_form(page.decode(), f"{base}/jumpa-madu/pickups/new", "/jumpa-madu/pickups/new")
    if form is None:
        raise SystemExit("no pickup form")
    body = urlencode(form.data(**PICKUP_ADDRESS, street="Jl. Sudirman No. 21", action="find"))
    status, _, page = resident.request("POST", "/jumpa-madu/pickups/new", body)
    form = find_form(page.decode(), f"{base}/jumpa-madu/pickups/new", "/jumpa-madu/pickups/new")
    if form is None or not form.choices.get("preferred_date"):
        raise SystemExit(f"no unit proposed for the demo address ({status})")
    weights = [n for n in form.values if n.startswith("weight_")]
    values: dict[str, str] = {
        "preferred_date": form.choices["preferred_date"][-1],
        "window": form.choices["window"][0],
        "action": "send",
        weights[0]: "2,5",
        weights[1]: "1,5",
    }
    data = [(k, v) for k, v in form.data(**values) if k not in form.files]
    return Page(
        "Jumpa Madu pickup request (POST)",
        "/jumpa-madu/pickups/new",
        user="resident",
        method="POST",
        body=urlencode(data),
        fragment=None,
        expect=303,
    )


# --- measuring -----------------------------------------------------------------------------------


class QueryCounter:
    """SQL statements of one request, counted in this process with a test client."""

    def __init__(self, env: dict[str, str], database_url: str) -> None:
        os.environ.update({k: v for k, v in env.items() if k not in ("PYTHONUNBUFFERED",)})
        from sqlalchemy import event

        from config import ProductionConfig
        from portal import create_app
        from portal.extensions import db

        config = type(
            "BenchConfig",
            (ProductionConfig,),
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": env["SECRET_KEY"],
                "DATA_ENCRYPTION_KEYS": env["DATA_ENCRYPTION_KEYS"],
                "DATA_LOOKUP_KEY": env["DATA_LOOKUP_KEY"],
                "HTMX_URL": HTMX_LOCAL,
                "LOG_LEVEL": "WARNING",  # the served app logs; this one only counts
            },
        )
        self.app = create_app(config)
        self.count = 0
        with self.app.app_context():
            self.engine = db.engine

        def _count(*_args: Any) -> None:
            self.count += 1

        event.listen(self.engine, "before_cursor_execute", _count)

    def queries(self, page: Page, cookies: dict[str, str]) -> int:
        client = self.app.test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if page.body else {}
        # Plain http, as nginx forwards it on the loopback (production's PREFERRED_URL_SCHEME
        # would make the test request https, where Flask-WTF also wants a Referer).
        base = "http://localhost"
        if page.method == "GET":
            # Warm-up: first-request work (locale, caches) is not the page's.
            client.get(page.path, base_url=base)
        self.count = 0
        response = client.open(
            page.path, method=page.method, data=page.body, headers=headers, base_url=base
        )
        if response.status_code != page.expect:
            print(f"  ! test client: {page.name} answered {response.status_code}")
        return self.count

    def close(self) -> None:
        self.engine.dispose()


def page_bytes(client: Client, page: Page) -> dict[str, int | None]:
    """Body bytes through nginx: raw, gzip, and the htmx fragment (gzip and raw)."""
    if page.method != "GET":
        return {"bytes_raw": None, "bytes_gzip": None, "fragment_raw": None, "fragment_gzip": None}
    _, _, raw = client.get(page.path)
    _, headers, packed = client.get(page.path, **{"Accept-Encoding": "gzip"})
    gz = len(packed) if headers.get("content-encoding") == "gzip" else len(gzip.compress(packed))
    out: dict[str, int | None] = {"bytes_raw": len(raw), "bytes_gzip": gz}
    out["fragment_raw"] = out["fragment_gzip"] = None
    if page.fragment:
        hx = {"HX-Request": "true", "HX-Target": page.fragment}
        _, _, frag = client.get(page.path, **hx)
        _, fh, fpacked = client.get(page.path, **hx, **{"Accept-Encoding": "gzip"})
        out["fragment_raw"] = len(frag)
        out["fragment_gzip"] = len(fpacked) if fh.get("content-encoding") == "gzip" else len(frag)
    return out


def first_load(client: Client, page: Page) -> dict[str, int]:
    """What a browser fetches for a first visit: the page, its CSS, scripts, icon and the images
    that are not lazy-loaded, compressed as nginx sends them."""
    _, headers, body = client.get(page.path, **{"Accept-Encoding": "gzip"})
    html = (gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body).decode()
    css = re.findall(r'<link[^>]+rel="(?:stylesheet|icon)"[^>]*href="(/[^"]+)"', html)
    css += re.findall(r'<link[^>]+href="(/[^"]+)"[^>]*rel="(?:stylesheet|icon)"', html)
    js = re.findall(r'<script[^>]+src="(/[^"]+)"', html)
    images = [
        m.group(1)
        for m in re.finditer(r'<img[^>]+src="(/[^"]+)"[^>]*>', html)
        if 'loading="lazy"' not in m.group(0)
    ]

    def size(path: str) -> int:
        _, _, data = client.get(path, **{"Accept-Encoding": "gzip"})
        return len(data)

    weights = {
        "html_gzip": len(body),
        "css_gzip": sum(size(p) for p in dict.fromkeys(css)),
        "js_gzip": sum(size(p) for p in dict.fromkeys(js)),
        "images": sum(size(p) for p in dict.fromkeys(images)),
        "image_count": len(dict.fromkeys(images)),
    }
    weights["total_gzip"] = sum(weights[k] for k in ("html_gzip", "css_gzip", "js_gzip", "images"))
    return weights


def thumbnails(client: Client, paths: list[str]) -> dict[str, Any]:
    sizes = {}
    for path in paths:
        _, _, data = client.get(path)
        sizes[path] = len(data)
    return {
        "count": len(sizes),
        "max_bytes": max(sizes.values(), default=0),
        "over_budget": [p for p, n in sizes.items() if n > report.THUMBNAIL_MAX],
    }


LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d, "status": %d, "p50": %d, "p95": %d, "p99": %d, '
    .. '"max": %d, "mean": %.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def wrk(port: int, page: Page, cookies: str, conns: int, seconds: float, tmp: Path) -> dict:
    """One wrk run; p50/p95/p99 from its latency histogram, errors from its counters."""
    headers = {"Accept-Encoding": "gzip"}
    if cookies:
        headers["Cookie"] = cookies
    if page.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://127.0.0.1:{port}"
        headers["Referer"] = f"http://127.0.0.1:{port}{page.path}"
    script = tmp / "bench.lua"
    script.write_text(
        LUA.format(
            method=json.dumps(page.method),
            body=json.dumps(page.body) if page.body else "nil",
            headers="\n".join(
                f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()
            ),
        )
    )
    command = [
        "wrk",
        "--threads",
        str(min(2, conns)),
        "--connections",
        str(conns),
        "--duration",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "--script",
        str(script),
        f"http://127.0.0.1:{port}{page.path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed on {page.name}: {done.stderr or done.stdout}")
    raw = json.loads(line[len("BENCH ") :])
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "max_ms": raw["max"] / 1000,
        "mean_ms": raw["mean"] / 1000,
        "status_errors": raw["status"],
        "socket_errors": raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        "bytes_per_request": raw["bytes"] / max(raw["requests"], 1),
    }


def _who(page: Page, samples: dict[str, tuple[str, str]]) -> str:
    """Whose page it is: the scale seed's heaviest account (or shop), else the demo's."""
    role = "shop" if page.name == "shop" else page.user
    if role is None:
        return ""
    if role in samples:
        return samples[role][1]
    return "demo account" if page.user else "a shop of the first catalogue page"


def _measure(
    port: int,
    page: Page,
    sessions: dict[str, Client],
    anon: Client,
    conns: int,
    seconds: float,
    tmp: Path,
) -> dict[str, Any]:
    """wrk on one page, then a check that its session still works (a redirect to the login
    page would otherwise count as a fast success)."""
    client = sessions[page.user] if page.user else anon
    run = wrk(port, page, client.cookie_header(), conns, seconds, tmp)
    status, _, _ = client.get(page.path if page.method == "GET" else "/jumpa-madu/wallet")
    run["session_ok"] = status == 200
    print(
        f"  c{conns:<3} {page.name:<40} {run['rps']:8.0f} req/s  p95 "
        f"{run['p95_ms']:7.1f} ms  errors {report.errors(run)}"
        + ("" if run["session_ok"] else f"  (afterwards: HTTP {status}, session lost?)")
    )
    return run


# --- one dataset size -----------------------------------------------------------------------------


def bench_size(
    args: argparse.Namespace,
    products: int | None,
    connections: list[int],
    keys: dict[str, str],
    tmp: Path,
    scale: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seed, serve, discover, measure; returns (size result, first-load and thumbnail data)."""
    label = f"{products:,} products".replace(",", ".") if scale and products else "demo data"
    print(f"== {label}")
    database_url = args.database_url or f"sqlite:///{tmp}/portal-bench.db"
    fresh_database(database_url)
    seed_env = app_env(database_url, tmp, keys, "development")
    schema(seed_env, args.schema)
    seconds, samples = seed(seed_env, products if scale else None)
    print(f"  seeded in {seconds:.0f} s")
    accounts = {**ACCOUNTS, **{k: v[0] for k, v in samples.items() if k in ACCOUNTS}}
    shop = samples["shop"][0] if "shop" in samples else None
    env = app_env(database_url, tmp, keys, "production")
    servers = Servers(env, tmp, args)
    counter = None
    try:
        logins = {login: log_in(servers.portal, login) for login in set(accounts.values())}
        sessions = {role: logins[login] for role, login in accounts.items()}
        pages = discover(servers.portal, sessions, args.deep_pages, shop, args.search)
        counter = QueryCounter(env, database_url)
        anon = Client(servers.portal)
        extra: dict[str, Any] = {}
        if args.weights:
            extra["first_load"] = {p.name: first_load(anon, p) for p in pages if p.public}
            _, _, html = anon.get("/mall/")
            extra["thumbnails"] = thumbnails(
                anon, re.findall(r'src="(/mall/photos/[^"]+)"', html.decode())
            )
        rows = []
        for page in pages:
            client = sessions[page.user] if page.user else anon
            row: dict[str, Any] = {
                "name": page.name,
                "path": page.path,
                "method": page.method,
                "key": page.key,
                "user": page.user,
                "as": _who(page, samples),
            }
            row["queries"] = counter.queries(page, client.cookies) if page.key else None
            row.update(page_bytes(client, page))
            rows.append(row)
        # Warm every worker and pool before timing anything.
        warm = Page("warm", "/fortunes")
        wrk(servers.reference, warm, "", 8, 2, tmp)
        for page in pages:
            if page.method == "GET":
                client = sessions[page.user] if page.user else anon
                wrk(servers.portal, page, client.cookie_header(), 8, 1, tmp)
        reference: dict[str, Any] = {}
        # Reads first, at every connection count; the write last, so the pickups it files do
        # not change the pages read after it.
        reads = [(p, r) for p, r in zip(pages, rows, strict=True) if p.method == "GET"]
        writes = [(p, r) for p, r in zip(pages, rows, strict=True) if p.method != "GET"]
        for batch in (reads, writes):
            for conns in connections:
                if batch is reads:
                    ref = wrk(servers.reference, warm, "", conns, args.duration, tmp)
                    reference[str(conns)] = ref
                    print(f"  c{conns:<3} {'reference (Fortunes)':<40} {ref['rps']:8.0f} req/s")
                for page, row in batch:
                    row.setdefault("runs", {})[str(conns)] = _measure(
                        servers.portal, page, sessions, anon, conns, args.duration, tmp
                    )
        return (
            {
                "label": label,
                "products": products if scale else None,
                "seed_seconds": round(seconds, 1),
                "reference": reference,
                "pages": rows,
            },
            extra,
        )
    finally:
        if counter is not None:
            counter.close()
        servers.stop()


# --- main -----------------------------------------------------------------------------------------


def machine() -> str:
    """The host as loadtest describes it, plus the nginx and wrk versions that served and drove."""
    nginx = subprocess.run([_nginx_binary() or "nginx", "-v"], capture_output=True, text=True)
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (
        f"{host_machine()}, "
        f"{nginx.stderr.strip().removeprefix('nginx version: ')}, "
        f"{(wrk_v.stdout or wrk_v.stderr).split(' [')[0].strip()}"
    )


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="PostgreSQL database named portal_bench* (dropped and recreated); default SQLite",
    )
    parser.add_argument(
        "--products",
        type=_ints,
        default=[10_000, 100_000],
        help="dataset sizes for `flask seed scale` (default 10000,100000)",
    )
    parser.add_argument("--connections", type=_ints, default=[1, 16, 50])
    parser.add_argument(
        "--growth-connections",
        type=int,
        default=1,
        help="connections for the smaller datasets (the growth ratio)",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--deep-pages",
        type=int,
        default=20,
        help="catalogue 'next' links followed for the deep page",
    )
    parser.add_argument(
        "--search", default="kopi", help="the word of the catalogue search (default kopi)"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--schema", choices=("migrate", "create-all"), default="migrate")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--no-weights",
        dest="weights",
        action="store_false",
        help="skip the first-load and thumbnail weights",
    )
    parser.add_argument("--out", help="result file (default bench/results/<date>-<db>.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_tools()
    db_kind = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    if db_kind == "postgresql":
        _admin_url(args.database_url)  # refuses a name that is not portal_bench*
    started = time.monotonic()
    load_before = os.getloadavg()
    keys = _keys()
    sizes: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        probe_url = args.database_url or f"sqlite:///{tmp}/probe.db"
        scale = has_scale_seed(app_env(probe_url, tmp, keys, "development"))
        if not scale:
            print("`flask seed scale` is missing: measuring the demo data only (no growth ratio)")
        products = sorted(args.products) if scale else [0]
        for i, n in enumerate(products):
            last = i == len(products) - 1
            conns = args.connections if last else [args.growth_connections]
            size, more = bench_size(args, n, conns, keys, tmp, scale)
            sizes.append(size)
            if last:
                extra = more
    finally:
        if not args.keep_db and args.database_url:
            drop_database(args.database_url)
    now = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "database": db_kind,
        "machine": machine(),
        "loadavg": f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after",
        "settings": {
            "connections": args.connections,
            "growth_connections": args.growth_connections,
            "duration_s": args.duration,
            "workers": args.workers,
            "threads": args.threads,
            "gunicorn": "gthread",
            "nginx_config": "deploy/nginx.conf (loopback copy)",
        },
        "sizes": sizes,
        **extra,
        "wall_seconds": round(time.monotonic() - started),
    }
    results["budgets"] = report.check_budgets(results)
    out = Path(args.out) if args.out else RESULTS / f"{now:%Y-%m-%d}-{db_kind}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(report.render(results))
    print(
        f"\nWritten {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} "
        f"in {results['wall_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
