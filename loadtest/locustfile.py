"""Mixed traffic for `make loadtest`: visitors, residents and officers on the real pages.

Every virtual user works like a browser without JavaScript: it loads a page, reads the form
(CSRF token included) and posts it, follows the 303 itself. Each write the portal accepts
(a 303 after a POST) is written to `writes.jsonl`; every response is written to
`requests.jsonl` with its time, so `loadtest/check.py` can prove afterwards that accepted writes
are in the database exactly once and tell the 5xx inside a fault window from those outside.

Environment: LOADTEST_OUT (directory for the two files, required), LOADTEST_TOTP_SECRET (the demo
staff TOTP secret; the default is the documented demo one).

Accounts: the demo accounts (portal/demo.py, portal/mall/demo.py), one virtual user per account,
so no two sessions share an account and a one-time TOTP code is never replayed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pyotp
from gevent import sleep as gsleep
from htmlforms import Form, find_form, links
from locust import HttpUser, between, events, task
from locust.exception import StopUser

PASSWORD = "demo-portal-2026"  # noqa: S105 - the documented demo password (demo mode only)
TOTP_SECRET = os.environ.get("LOADTEST_TOTP_SECRET", "DELISERDANGPORTALDEMOTOTPSECRET2")
OUT = os.environ.get("LOADTEST_OUT", "")

# Residents who already have money in the demo wallets come first: they can withdraw at once.
JM_RESIDENTS = [
    "warga@demo.test",
    "penjual@demo.test",
    "ani@demo.test",
    "bonar@demo.test",
    "cut@demo.test",
    "darma@demo.test",
    "evi@demo.test",
] + [f"umkm{i:02d}@demo.test" for i in range(1, 11)]
SADOKU_RESIDENTS = [f"umkm{i:02d}@demo.test" for i in range(11, 34)]
SADOKU_OFFICERS = ["petugas.sadoku@demo.test"]
UNIT_OFFICERS = ["petugas.jumpamadu@demo.test", "admin@demo.test"]

# Lubuk Pakam III, inside the demo officer's unit's area (portal/jumpa_madu/demo.py).
PICKUP_ADDRESS = {"kecamatan": "12.07.28", "desa": "12.07.28.1008", "rt": "003", "rw": "001"}
STREETS = ["Jl. Sudirman No. 21", "Jl. Galang Gg. Amal No. 4", "Jl. Diponegoro No. 7"]
SEARCH_WORDS = ["kopi", "keripik", "kue", "dodol", "sambal", "ikan", "bolu", "madu", "tas", "teri"]
MIN_WITHDRAWAL = 10_000
TRK_RE = re.compile(r"flash-success[^>]*>[^<]*\b(TRK-\d{6})\b")
AVAILABLE_RE = re.compile(r'id="wallet-available">\s*Rp\s*([\d.]+)')

_pools = {
    "jm": itertools.cycle(JM_RESIDENTS),
    "sadoku": itertools.cycle(SADOKU_RESIDENTS),
    "sadoku_officer": itertools.cycle(SADOKU_OFFICERS),
    "unit_officer": itertools.cycle(UNIT_OFFICERS),
}
_lock = threading.Lock()
_files: dict[str, Any] = {}
# Product and shop links seen by any visitor; later visitors open them as people follow links.
_seen_products: list[str] = []
_seen_shops: list[str] = []
_seen_photos: list[str] = []


def _out(name: str) -> Any:
    if name not in _files:
        if not OUT:
            raise RuntimeError("set LOADTEST_OUT to the directory for the result files")
        _files[name] = open(os.path.join(OUT, name), "a", buffering=1)  # noqa: SIM115
    return _files[name]


def record(kind: str, user: str, **data: Any) -> None:
    """One write the portal accepted (or whose outcome is unknown), for the checker."""
    line = json.dumps({"kind": kind, "user": user, "t": time.time(), **data})
    with _lock:
        _out("writes.jsonl").write(line + "\n")


def clean_error_page(response: Any, path: str) -> bool:
    """A 5xx the user can live with: our own complete error page, never a traceback.

    Ours means the layout's `<main id="content">` and the closing `</html>` (not a half page,
    not gunicorn's bare "Internal Server Error"); /healthz answers 503 with its JSON.
    """
    if response.status_code not in (500, 502, 503):
        return False
    body = response.text or ""
    if "Traceback" in body:
        return False
    ctype = response.headers.get("Content-Type", "")
    if path == "/healthz":
        return ctype.startswith("application/json") and '"status"' in body
    return (
        ctype.startswith("text/html")
        and 'id="content"' in body
        and body.rstrip().endswith("</html>")
    )


@events.request.add_listener
def _log_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: Any = None,
    start_time: float | None = None,
    url: str | None = None,
    **_kw: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    end = time.time()
    start = start_time if start_time else end - response_time / 1000
    entry: dict[str, Any] = {
        "start": round(start, 3),
        "end": round(start + response_time / 1000, 3),
        "method": request_type,
        "name": name,
        "status": status,
        "ms": round(response_time, 1),
    }
    if status >= 500:
        entry["clean"] = clean_error_page(response, urlsplit(url or "").path)
    if status == 0 or exception is not None:
        entry["error"] = type(getattr(response, "error", None) or exception).__name__
        entry["detail"] = str(getattr(response, "error", None) or exception)[:200]
    line = json.dumps(entry)
    with _lock:
        _out("requests.jsonl").write(line + "\n")


def tiny_png(seed: int) -> bytes:
    """A real 16x16 PNG (the upload check decodes and re-encodes it), different per call."""
    import struct
    import zlib

    rng = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(16 * 3)) for _ in range(16))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Failed(Exception):
    """A step got an error (5xx, connection reset, unexpected status): abandon this flow."""


class PortalUser(HttpUser):
    """Common plumbing: requests without automatic redirects, form posts, logging in."""

    abstract = True
    pool = ""
    email = ""

    def req(
        self,
        method: str,
        path: str,
        name: str | None = None,
        *,
        ok: tuple[int, ...] = (200,),
        soft: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """One request. `ok` and `soft` statuses count as successes (soft: a refusal such as a
        lost race, which is correct behaviour); anything else is a failure and raises Failed."""
        with self.client.request(
            method, path, name=name or path, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code in ok or response.status_code in soft:
                response.success()
                return response
            if response.status_code == 0:
                response.failure(f"connection error: {type(response.error).__name__}")
            else:
                response.failure(f"HTTP {response.status_code}")
            raise Failed(f"{method} {name or path}: {response.status_code}")

    def get(self, path: str, name: str | None = None, **kwargs: Any) -> Any:
        return self.req("GET", path, name, **kwargs)

    def form(self, path: str, action: str, name: str | None = None) -> Form:
        page = self.get(path, name)
        form = find_form(page.text, page.url, action)
        if form is None:
            raise Failed(f"no form posting to {action} on {path}")
        return form

    def post(
        self,
        form: Form,
        name: str,
        *,
        files: dict[str, Any] | None = None,
        soft: tuple[int, ...] = (),
        **values: str | list[str],
    ) -> Any:
        data = form.data(**values)
        if form.enctype == "multipart/form-data" and files is None:
            # An empty file part, as a browser sends for a file input left empty.
            files = {name_: ("", b"", "application/octet-stream") for name_ in form.files}
        return self.req(
            "POST", urlsplit(form.action).path, name, ok=(303,), soft=soft, data=data, files=files
        )

    def log_in(self) -> None:
        """Password, then (staff, once MFA is on) the TOTP step; works with and without it."""
        self.client.cookies.clear()  # a fresh start, also after a login cut short by a fault
        form = self.form("/accounts/login", "/accounts/login")
        response = self.post(form, "/accounts/login", identifier=self.email, password=PASSWORD)
        target = response.headers.get("Location", "")
        for attempt in range(2):
            if "/login/mfa" not in target and "/mfa" not in urlsplit(target).path:
                return
            if "setup" in target:
                raise StopUser(f"{self.email} must enrol TOTP first; the demo should enrol it")
            page = self.get(urlsplit(target).path, "/accounts/login/mfa")
            mfa = find_form(page.text, page.url, "mfa")
            if mfa is None:
                raise Failed("no TOTP form on the MFA page")
            done = self.post(mfa, "/accounts/login/mfa", soft=(422,), code=self._totp())
            if done.status_code == 303:
                return
            # A code is accepted once (replay protection): wait for the next 30-second step.
            gsleep(30 - time.time() % 30 + 0.5)
            target = "/accounts/login/mfa" if attempt == 0 else ""
        raise Failed(f"{self.email}: TOTP refused twice")

    @staticmethod
    def _totp() -> str:
        return pyotp.TOTP(TOTP_SECRET).now()

    def on_start(self) -> None:
        # One connection per request, as nginx talks to gunicorn in the documented deployment
        # (HTTP/1.0 upstream). Reusing idle connections straight to gunicorn races its 2 s
        # keep-alive timeout: a request sent as gunicorn closes the socket is reset.
        self.client.headers["Connection"] = "close"
        if self.pool:
            with _lock:
                self.email = next(_pools[self.pool])
            while True:
                try:
                    self.log_in()
                    return
                except Failed:
                    gsleep(1)  # a fault during login: try again, as a person would


def _run(flow: Any) -> None:
    # A failed step is already counted by locust; the next task starts afresh.
    with contextlib.suppress(Failed):
        flow()


# --- anonymous visitors of the Mall --------------------------------------------------------------


class MallVisitor(PortalUser):
    """Browses the catalogue, searches, opens products, shops and photos."""

    weight = 16
    wait_time = between(1, 3)

    def _remember(self, html: str) -> None:
        products = links(html, r"^/mall/products/\d+$")
        shops = links(html, r"^/mall/shops/[\w-]+$")
        photos = re.findall(r'src="(/mall/photos/[^"]+)"', html)
        with _lock:
            for target, found in ((_seen_products, products), (_seen_shops, shops)):
                for item in found:
                    if item not in target and len(target) < 500:
                        target.append(item)
            for item in photos[:4]:
                if item not in _seen_photos and len(_seen_photos) < 200:
                    _seen_photos.append(item)

    @task(4)
    def catalogue(self) -> None:
        def flow() -> None:
            page = self.get("/mall/")
            self._remember(page.text)
            more = links(page.text, r"^/mall/\?.*cursor=")
            if more and random.random() < 0.5:
                self._remember(self.get(more[0], "/mall/?cursor=[next page]").text)

        _run(flow)

    @task(3)
    def search(self) -> None:
        def flow() -> None:
            word = random.choice(SEARCH_WORDS)
            page = self.get(f"/mall/?q={word}", "/mall/?q=[word]")
            self._remember(page.text)

        _run(flow)

    @task(4)
    def product(self) -> None:
        def flow() -> None:
            if not _seen_products:
                return self.catalogue()
            page = self.get(random.choice(_seen_products), "/mall/products/[id]")
            self._remember(page.text)

        _run(flow)

    @task(2)
    def shop(self) -> None:
        def flow() -> None:
            if not _seen_shops:
                return self.catalogue()
            self._remember(self.get(random.choice(_seen_shops), "/mall/shops/[slug]").text)

        _run(flow)

    @task(2)
    def photo(self) -> None:
        if _seen_photos:
            _run(lambda: self.get(random.choice(_seen_photos), "/mall/photos/[key]"))

    @task(1)
    def public_pages(self) -> None:
        _run(lambda: self.get(random.choice(["/", "/sadoku/", "/jumpa-madu/"])))


# --- residents: SADOKU -------------------------------------------------------------------------


class SadokuResident(PortalUser):
    """Files SADOKU requests through the five steps (with an attachment) and follows them."""

    weight = 15
    wait_time = between(1, 3)
    pool = "sadoku"

    def on_start(self) -> None:
        super().on_start()
        self.codes: list[str] = []
        # A well-formed NIK and KK of this account's own (the NIK is saved to the profile).
        number = SADOKU_RESIDENTS.index(self.email) + 1 if self.email in SADOKU_RESIDENTS else 99
        self.nik = f"1207021505{90 + number % 10:02d}{number:04d}"[:16]
        self.kk = f"120702010120{number:04d}"

    @task(3)
    def submit_request(self) -> None:
        draft: dict[str, Any] = {}

        def flow() -> None:
            form = self.form("/sadoku/requests/new", "/sadoku/requests/new")
            doc = random.choice(form.choices["document_type"])
            step = self.post(
                form,
                "/sadoku/requests/new",
                document_type=doc,
                reason=random.choice(form.choices["reason"]),
            )
            subject_path = urlsplit(step.headers["Location"]).path
            draft["id"] = int(subject_path.split("/")[3])
            form = self.form(subject_path, "/subject", "/sadoku/drafts/[id]/subject")
            values = {"whose": "self", "subject_kk": self.kk}
            if not form.first("subject_nik"):
                values["subject_nik"] = self.nik
            step = self.post(form, "/sadoku/drafts/[id]/subject", **values)
            path = urlsplit(step.headers["Location"]).path
            form = self.form(path, "/attachments", "/sadoku/drafts/[id]/attachments")
            files = {
                field: (f"scan-{i}.png", tiny_png(random.getrandbits(32)), "image/png")
                for i, field in enumerate(form.files)
            }
            step = self.post(form, "/sadoku/drafts/[id]/attachments", files=files)
            path = urlsplit(step.headers["Location"]).path
            form = self.form(path, "/delivery", "/sadoku/drafts/[id]/delivery")
            values = {}
            if not form.first("desa"):
                values = {**PICKUP_ADDRESS, "street": random.choice(STREETS)}
            if not form.first("recipient_phone"):
                values["recipient_phone"] = f"0812{random.randrange(10**8):08d}"
            step = self.post(form, "/sadoku/drafts/[id]/delivery", **values)
            path = urlsplit(step.headers["Location"]).path
            form = self.form(path, "/summary", "/sadoku/drafts/[id]/summary")
            record("sadoku_submit_attempt", self.email, draft_id=draft["id"])
            step = self.post(form, "/sadoku/drafts/[id]/summary", declaration="y")
            receipt = urlsplit(step.headers["Location"]).path
            code = receipt.split("/")[3]
            record("sadoku_submit", self.email, code=code, draft_id=draft["id"], document=doc)
            self.codes.append(code)
            self.get(receipt, "/sadoku/requests/[code]/receipt")

        _run(flow)

    @task(2)
    def follow(self) -> None:
        def flow() -> None:
            self.get("/sadoku/requests")
            if self.codes:
                code = random.choice(self.codes)
                self.get(f"/sadoku/requests/{code}", "/sadoku/requests/[code]")

        _run(flow)

    @task(1)
    def notifications(self) -> None:
        _run(lambda: self.get("/notifications"))


# --- residents: Jumpa Madu ---------------------------------------------------------------------


class JumpaMaduResident(PortalUser):
    """Requests pickups, confirms weighings (money into the wallet) and withdraws."""

    weight = 15
    wait_time = between(1, 3)
    pool = "jm"

    def on_start(self) -> None:
        super().on_start()
        self.pickups: list[int] = []

    @task(3)
    def request_pickup(self) -> None:
        def flow() -> None:
            form = self.form("/jumpa-madu/pickups/new", "/jumpa-madu/pickups/new")
            street = random.choice(STREETS)
            page = self.req(
                "POST",
                "/jumpa-madu/pickups/new",
                "/jumpa-madu/pickups/new [find units]",
                data=form.data(**PICKUP_ADDRESS, street=street, action="find"),
            )
            form = find_form(page.text, page.url, "/jumpa-madu/pickups/new")
            if form is None or not form.choices.get("preferred_date"):
                raise Failed("no unit proposed for the demo address")
            weights = [n for n in form.values if n.startswith("weight_")]
            grams = {weights[0]: "2,5", weights[1]: "1,5"}
            record("pickup_attempt", self.email)
            step = self.post(
                form,
                "/jumpa-madu/pickups/new [send]",
                preferred_date=random.choice(form.choices["preferred_date"]),
                window=random.choice(form.choices["window"]),
                action="send",
                **grams,
            )
            pickup_id = int(urlsplit(step.headers["Location"]).path.rsplit("/", 1)[1])
            record("pickup", self.email, pickup_id=pickup_id, estimated_g=4000)
            self.pickups.append(pickup_id)
            self.get(f"/jumpa-madu/pickups/{pickup_id}", "/jumpa-madu/pickups/[id]")

        _run(flow)

    @task(3)
    def confirm_weighing(self) -> None:
        def flow() -> None:
            self.get("/jumpa-madu/pickups")
            for pickup_id in random.sample(self.pickups, min(3, len(self.pickups))):
                page = self.get(f"/jumpa-madu/pickups/{pickup_id}", "/jumpa-madu/pickups/[id]")
                form = find_form(page.text, page.url, f"/pickups/{pickup_id}/confirm")
                if form is None:
                    continue
                done = self.post(form, "/jumpa-madu/pickups/[id]/confirm")
                record("pickup_confirm", self.email, pickup_id=pickup_id)
                self.get(urlsplit(done.headers["Location"]).path, "/jumpa-madu/pickups/[id]")
                self.pickups.remove(pickup_id)
                return

        _run(flow)

    @task(2)
    def withdraw(self) -> None:
        attempted: dict[str, Any] = {}

        def flow() -> None:
            wallet = self.get("/jumpa-madu/wallet")
            found = AVAILABLE_RE.search(wallet.text)
            available = int(found.group(1).replace(".", "")) if found else 0
            if available < MIN_WITHDRAWAL:
                return
            # Whole hundreds, different almost every time, so the checker can also match by sum.
            amount = random.randrange(MIN_WITHDRAWAL, min(available, 40_000) + 1, 100)
            form = self.form("/jumpa-madu/wallet/withdraw", "/jumpa-madu/wallet/withdraw")
            record("withdrawal_attempt", self.email, amount=amount)
            attempted["amount"] = amount
            done = self.post(
                form,
                "/jumpa-madu/wallet/withdraw",
                soft=(422,),
                amount=f"{amount:,}".replace(",", "."),
                method="cash",
            )
            if done.status_code != 303:
                return
            # The code is in the flash message on the page the 303 leads to.
            attempted["accepted"] = True
            page = self.get("/jumpa-madu/wallet")
            code = TRK_RE.search(page.text)
            record(
                "withdrawal",
                self.email,
                amount=amount,
                withdrawal_id=int(code.group(1)[4:]) if code else None,
            )

        try:
            flow()
        except Failed:
            if "accepted" in attempted:  # accepted, but the page with its code did not load
                record("withdrawal", self.email, amount=attempted["amount"], withdrawal_id=None)

    @task(1)
    def wallet(self) -> None:
        _run(lambda: self.get("/jumpa-madu/wallet"))


# --- officers ------------------------------------------------------------------------------------


class SadokuOfficer(PortalUser):
    """Works the queue: submitted -> verified -> being printed -> ready for delivery."""

    fixed_count = len(SADOKU_OFFICERS)
    wait_time = between(0.3, 1)
    pool = "sadoku_officer"
    MOVES = (
        ("submitted", "verified"),
        ("verified", "in_process"),
        ("in_process", "ready_for_delivery"),
    )

    @task
    def move(self) -> None:
        def flow() -> None:
            frm, to = random.choice(self.MOVES)
            queue = self.get(f"/sadoku/officer/requests?status={frm}", "/sadoku/officer/requests")
            codes = links(queue.text, r"^/sadoku/officer/requests/SDK-[\d-]+$")
            if not codes:
                return
            code = random.choice(codes[:10]).rsplit("/", 1)[1]
            self.get(f"/sadoku/officer/requests/{code}", "/sadoku/officer/requests/[code]")
            path = f"/sadoku/officer/requests/{code}/status/{to}"
            page = self.get(path, f"/sadoku/officer/requests/[code]/status/{to}", soft=(409,))
            form = find_form(page.text, page.url, f"/status/{to}")
            if page.status_code == 409 or form is None:
                return  # someone moved it first
            done = self.post(form, f"/sadoku/officer/requests/[code]/status/{to}", soft=(409, 422))
            if done.status_code == 303:
                record("sadoku_move", self.email, code=code, frm=frm, to=to)

        _run(flow)


class UnitOfficer(PortalUser):
    """Jumpa Madu unit work: schedule new pickups, set off, weigh (check amounts, then save)."""

    fixed_count = len(UNIT_OFFICERS)
    wait_time = between(0.3, 1)
    pool = "unit_officer"
    BASE = "/jumpa-madu/unit/pickups"

    def _pick(self, tab: str) -> int | None:
        queue = self.get(f"{self.BASE}?tab={tab}", f"{self.BASE}?tab={tab}")
        ids = links(queue.text, r"^/jumpa-madu/unit/pickups/\d+(\?.*)?$")
        if not ids:
            return None
        return int(urlsplit(random.choice(ids[:10])).path.rsplit("/", 1)[1])

    @task(3)
    def weigh_pickup(self) -> None:
        def flow() -> None:
            pickup_id = self._pick("on_the_way")
            if pickup_id is None:
                return self.start_pickup()
            path = f"{self.BASE}/{pickup_id}/weigh"
            page = self.get(path, f"{self.BASE}/[id]/weigh", soft=(409,))
            form = find_form(page.text, page.url, "/weigh")
            if page.status_code == 409 or form is None:
                return
            weights = [n for n in form.values if n.startswith("weight_")]
            grams = {weights[0]: random.choice(["6,5", "8", "9,5"]), weights[2]: "3"}
            preview = self.post(form, f"{self.BASE}/[id]/weigh [check]", soft=(200, 422), **grams)
            form = find_form(preview.text, preview.url, "/weigh")
            if preview.status_code != 200 or form is None or not form.first("quoted"):
                return
            quoted = form.first("quoted")
            done = self.post(form, f"{self.BASE}/[id]/weigh [save]", soft=(200, 422), action="save")
            if done.status_code == 303:
                amount = int(quoted.rsplit("=", 1)[1])
                record("pickup_weigh", self.email, pickup_id=pickup_id, resident_amount=amount)

        _run(flow)

    @task(2)
    def start_pickup(self) -> None:
        def flow() -> None:
            pickup_id = self._pick("scheduled")
            if pickup_id is None:
                return self.schedule_pickup()
            page = self.get(f"{self.BASE}/{pickup_id}", f"{self.BASE}/[id]")
            form = find_form(page.text, page.url, f"/{pickup_id}/start")
            if form is None:
                return
            done = self.post(form, f"{self.BASE}/[id]/start", soft=(422,))
            if done.status_code == 303:
                record("pickup_start", self.email, pickup_id=pickup_id)

        _run(flow)

    @task(2)
    def schedule_pickup(self) -> None:
        def flow() -> None:
            pickup_id = self._pick("new")
            if pickup_id is None:
                return
            path = f"{self.BASE}/{pickup_id}/schedule"
            page = self.get(path, f"{self.BASE}/[id]/schedule", soft=(409,))
            form = find_form(page.text, page.url, "/schedule")
            if page.status_code == 409 or form is None:
                return
            values = {}
            if not form.first("collector_id"):
                collectors = [c for c in form.choices.get("collector_id", []) if c]
                if collectors:
                    values["collector_id"] = collectors[0]
            done = self.post(form, f"{self.BASE}/[id]/schedule", soft=(422,), **values)
            if done.status_code == 303:
                record("pickup_schedule", self.email, pickup_id=pickup_id)

        _run(flow)
