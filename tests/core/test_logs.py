"""Security logs as an operator reads them: one JSON object per line, in UTC, impossible to forge
with a crafted value, with the events that matter and without NIKs, KKs or passwords.

Records are captured with caplog and written with the portal's own JsonFormatter (and its
request filter), exactly as they would reach the log collector.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.core.actions import perform
from portal.core.errors import DomainError
from portal.core.logs import JsonFormatter, RequestInfoFilter, log_event
from portal.core.time import today_wib
from portal.extensions import db
from portal.sadoku import services as sadoku
from portal.sadoku.models import DocumentRequest, Status
from tests.conftest import answer_mfa, log_in, post
from tests.factories import (
    VALID_KK,
    VALID_NIK,
    make_document_type,
    make_pickup,
    make_request,
    make_unit,
    make_user,
    tiny_pdf,
    tiny_png,
)

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# 16 digits in a row or with the separators people type between them.
SIXTEEN_DIGITS = re.compile(r"(?<!\d)(?:\d[ .\-/_]?){15}\d(?!\d)")
SCRUBBED = "[16-digit number removed]"

RESIDENT_PASSWORD = "teh-manis-dingin-sore"
WRONG_PASSWORD = "tebakan-salah-sekali"
OFFICER_PASSWORD = "stempel-biru-kantor-camat"
ADMIN_PASSWORD = "kunci-lemari-arsip-lama"
RESIDENT_PHONE_DIGITS = "81298765432"


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at INFO for the portal's loggers, with the request details the app adds."""
    caplog.set_level(logging.INFO, logger="portal")
    request_filter = RequestInfoFilter()
    caplog.handler.addFilter(request_filter)
    yield caplog
    caplog.handler.removeFilter(request_filter)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(record) for record in caplog.records]


def _entries(caplog: pytest.LogCaptureFixture) -> list[dict]:
    entries = []
    for line in _lines(caplog):
        assert "\n" not in line and "\r" not in line, line
        entry = json.loads(line)
        assert isinstance(entry, dict)
        entries.append(entry)
    return entries


def _spaced(number: str) -> re.Pattern[str]:
    """`number` with anything (or nothing) of up to 3 characters between its digits."""
    return re.compile(r"\D{0,3}".join(number))


# --- the format -----------------------------------------------------------------------------------


def test_every_line_is_one_json_object_with_a_utc_timestamp(captured, monkeypatch):
    # Whatever the server's local time zone, the time written is UTC.
    monkeypatch.setenv("TZ", "Asia/Jakarta")
    time.tzset()
    try:
        log_event("login", user_id=7)
        logging.getLogger("portal.test").warning("plain message with\nsecond line")
        try:
            raise ValueError("broken\nacross lines")
        except ValueError:
            logging.getLogger("portal.test").exception("unhandled error")
        lines = _lines(captured)
    finally:
        monkeypatch.undo()
        time.tzset()

    assert len(lines) == 3
    entries = [json.loads(line) for line in lines]
    for line, entry, record in zip(lines, entries, captured.records, strict=True):
        assert line.count("\n") == 0 and line.startswith("{") and line.endswith("}")
        assert TS_RE.match(entry["ts"]), entry["ts"]
        written = dt.datetime.fromisoformat(entry["ts"].replace("Z", "+00:00"))
        assert abs(written.timestamp() - record.created) < 0.001
        assert entry["level"] in {"info", "warning", "error"}
    assert entries[0]["event"] == "login" and entries[0]["user_id"] == 7
    assert entries[1]["message"] == "plain message with\nsecond line"
    assert "broken\nacross lines" in entries[2]["exception"]


def test_a_crafted_value_stays_inside_one_string_value(captured):
    forged = json.dumps({"event": "login", "user_id": 1, "level": "info"})
    evil = f"budi@contoh.id\n{forged}\r\n\x1b[2J\x1b[31mADMIN LOGIN OK\x1b[0m\u2028{forged}"
    log_event("login_failed", identifier=evil)

    (line,) = _lines(captured)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    entry = json.loads(line)
    assert entry["event"] == "login_failed" and entry["identifier"] == evil
    assert sum(1 for key in entry if key == "event") == 1 and "user_id" not in entry


def test_a_crafted_identifier_at_the_login_form_cannot_forge_an_event(client, captured):
    forged = json.dumps({"event": "login", "user_id": 1})
    post(
        client,
        "/accounts/login",
        {"identifier": f"x@contoh.id\n{forged}\x1b[0m", "password": WRONG_PASSWORD},
    )
    events = [e for e in _entries(captured) if e["event"] in {"login", "login_failed"}]
    assert [e["event"] for e in events] == ["login_failed"]
    assert WRONG_PASSWORD not in json.dumps(events)


def test_a_password_typed_into_the_identifier_field_is_not_logged(client, app, captured):
    with app.app_context():
        make_user(email="budi@contoh.id")
    for typo in ("kopi susu pagi hari", "rahasia123"):
        assert log_in(client, typo, WRONG_PASSWORD).status_code == 422
    entries = [e for e in _entries(captured) if e["event"] == "login_failed"]
    assert len(entries) == 2
    logged = "\n".join(_lines(captured))
    assert "kopi susu" not in logged and "rahasia" not in logged and "123" not in logged


def test_a_nik_shaped_number_is_removed_even_if_a_caller_passes_one(captured):
    log_event("oops", note=f"NIK {VALID_NIK}, KK 1207 2801 0120 0001, 1207.2801.0101.9000")
    (line,) = _lines(captured)
    assert not SIXTEEN_DIGITS.search(line) and line.count(SCRUBBED) == 3


# --- a whole day of the portal --------------------------------------------------------------------


def _browser(app: Flask) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("lang", "en")
    return other


def _staff_login(client: FlaskClient, email: str, password: str, *, wrong_code_first: bool = False):  # type: ignore[no-untyped-def]
    response = post(client, "/accounts/login", {"identifier": email, "password": password})
    assert response.status_code == 303
    if wrong_code_first:
        wrong = post(client, "/accounts/login/mfa", {"code": "000000"})
        assert wrong.status_code == 422
    assert answer_mfa(client, response.headers["Location"], email).status_code == 303


def _sadoku_request(client: FlaskClient) -> str:
    """The resident's own SADOKU request, through the five steps of the form."""
    response = post(client, "/sadoku/requests/new", {"document_type": "ktp-el", "reason": "lost"})
    base = response.headers["Location"].rsplit("/", 1)[0]
    post(
        client,
        f"{base}/subject",
        {"whose": "self", "subject_name": "Siti Aminah", "subject_nik": VALID_NIK,
         "subject_kk": "1207 2801 0120 0001"},
    )  # fmt: skip
    post(
        client,
        f"{base}/attachments",
        {"file_0": (io.BytesIO(tiny_png()), "kk.png"), "file_1": (io.BytesIO(tiny_pdf()), "l.pdf")},
        content_type="multipart/form-data",
    )
    post(
        client,
        f"{base}/delivery",
        {"kecamatan": "12.07.28", "desa": "12.07.28.1008", "street": "Jl. Sudirman No. 5",
         "rt": "1", "rw": "2", "landmark": "", "latitude": "", "longitude": "",
         "recipient_name": "Siti Aminah", "recipient_phone": "0812 9876 5432"},
    )  # fmt: skip
    response = post(client, f"{base}/summary", {"declaration": "y"})
    match = re.search(r"/sadoku/requests/(SDK-\d{4}-\d{6})/receipt$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def test_a_day_of_the_portal_logs_the_events_and_no_nik_kk_or_password(app, captured):
    with app.test_request_context():
        make_document_type()
        unit_id = make_unit().id
        officer = make_user(roles=(Role.SADOKU_OFFICER,), password=OFFICER_PASSWORD)
        admin = make_user(roles=(Role.ADMIN,), password=ADMIN_PASSWORD)
        staff = SimpleNamespace(officer=officer.email, admin=admin.email)
        courier_id = make_user(full_name="Calon Kurir").id

    # A resident registers, and someone guesses at their account.
    resident = _browser(app)
    registered = post(
        resident,
        "/accounts/register",
        {"full_name": "Siti Aminah", "phone": "0812 9876 5432", "email": "siti@contoh.id",
         "password": RESIDENT_PASSWORD, "consent": "y"},
    )  # fmt: skip
    assert registered.status_code == 303
    attacker = _browser(app)
    for identifier in ("siti@contoh.id", "0812-9876-5432"):
        assert log_in(attacker, identifier, WRONG_PASSWORD).status_code == 422

    # The resident adds their NIK and sends a SADOKU request with NIK and KK.
    profile = post(
        resident,
        "/accounts/profile/edit",
        {"full_name": "Siti Aminah", "email": "siti@contoh.id", "phone": "0812 9876 5432",
         "nik": VALID_NIK, "kecamatan": "12.07.28", "desa": "12.07.28.1008",
         "street": "Jl. Sudirman No. 5", "rt": "", "rw": "", "landmark": "",
         "latitude": "", "longitude": ""},
    )  # fmt: skip
    assert profile.status_code == 303
    code = _sadoku_request(resident)
    assert resident.get("/admin/users").status_code == 403
    assert resident.post("/accounts/profile/edit", data={"nik": VALID_NIK}).status_code == 400

    # An officer (after one mistyped code) sees the full NIK and KK, and verifies the request.
    desk = _browser(app)
    _staff_login(desk, staff.officer, OFFICER_PASSWORD, wrong_code_first=True)
    page = desk.get(f"/sadoku/officer/requests/{code}").get_data(as_text=True)
    assert VALID_NIK in page and VALID_KK in page
    assert post(desk, f"/sadoku/officer/requests/{code}/status/verified").status_code == 303

    # Jumpa Madu: a weighing confirmed into the wallet, then a withdrawal.
    with app.test_request_context():
        from portal.jumpa_madu.models import WasteUnit

        me = db.session.scalar(select(User).where(User.email == "siti@contoh.id"))
        pickup_id = make_pickup(
            status="weighed",
            user=me,
            unit=db.session.get(WasteUnit, unit_id),
            weights={"pet": 5000},
        ).id
    assert post(resident, f"/jumpa-madu/pickups/{pickup_id}/confirm").status_code == 303
    withdrawn = post(
        resident,
        "/jumpa-madu/wallet/withdraw",
        {"amount": "10.000", "unit_id": str(unit_id), "method": "cash"},
    )
    assert withdrawn.status_code == 303

    # An admin gives someone a role.
    office = _browser(app)
    _staff_login(office, staff.admin, ADMIN_PASSWORD)
    granted = post(office, f"/admin/users/{courier_id}/roles", {"role": "sadoku_courier"})
    assert granted.status_code == 303

    lines = _lines(captured)
    entries = _entries(captured)
    for line in lines:
        assert not SIXTEEN_DIGITS.search(line), line
        assert SCRUBBED not in line, f"a caller logged a NIK-shaped number: {line}"
        for number in (VALID_NIK, VALID_KK):
            assert not _spaced(number).search(line), line
        for password in (RESIDENT_PASSWORD, WRONG_PASSWORD, OFFICER_PASSWORD, ADMIN_PASSWORD):
            assert password not in line, line
        assert RESIDENT_PHONE_DIGITS not in line and "Sudirman" not in line, line
        assert "siti@contoh.id" not in line, line

    events = {e["event"] for e in entries}
    for expected in (
        "account_registered",
        "login",
        "login_failed",
        "mfa_failed",
        "access_denied",
        "csrf_failed",
        "sadoku_nik_viewed",
        "status_changed",
        "ledger_transaction",
        "role_granted",
    ):
        assert expected in events, (expected, sorted(events))
    changes = {(e["table"], e["to"]) for e in entries if e["event"] == "status_changed"}
    assert {("sadoku_requests", "submitted"), ("sadoku_requests", "verified")} <= changes, changes
    assert ("jm_pickups", "confirmed") in changes, changes
    assert len([e for e in entries if e["event"] == "ledger_transaction"]) >= 2
    denied = next(e for e in entries if e["event"] == "access_denied")
    assert denied["path"] == "/admin/users" and denied["level"] == "warning"
    failed = [e for e in entries if e["event"] == "login_failed"]
    assert len(failed) == 2 and all("ip" in e for e in failed)
    for entry in entries:
        assert TS_RE.match(entry["ts"])


# --- only what was committed ----------------------------------------------------------------------


def test_a_rolled_back_action_logs_no_status_change(app, captured):
    with app.test_request_context():
        officer = make_user(roles=(Role.SADOKU_OFFICER,))
        courier = make_user(roles=(Role.SADOKU_COURIER,))
        ready = make_request(status="ready_for_delivery", officer=officer)
        waiting = make_request(status="submitted", officer=officer)
        day = today_wib() + dt.timedelta(days=1)
        ready_id = ready.id
        captured.clear()

        def assign_both_then_fail() -> None:
            # The first request really moves (and is flushed) before the second one refuses.
            sadoku.bulk_assign([ready], officer, courier, day)
            db.session.flush()
            raise DomainError("requests", "refused after the first move")

        assert not perform(assign_both_then_fail).ok
        outcome = perform(lambda: sadoku.bulk_assign([ready, waiting], officer, courier, day))
        assert not outcome.ok
        db.session.commit()  # a later, unrelated commit must not release what was undone
        assert (
            db.session.scalar(select(DocumentRequest.status).where(DocumentRequest.id == ready.id))
            == Status.READY_FOR_DELIVERY
        )
        assert "status_changed" not in {e["event"] for e in _entries(captured)}

        # The same move, committed, is logged (so the check above can fail).
        assert perform(lambda: sadoku.bulk_assign([ready], officer, courier, day)).ok
    changes = [e for e in _entries(captured) if e["event"] == "status_changed"]
    assert [(c["table"], c["id"], c["to"]) for c in changes] == [
        ("sadoku_requests", ready_id, "out_for_delivery")
    ]
