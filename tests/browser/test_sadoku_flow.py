"""SADOKU in a real browser: a resident's request from the home page to the hand-over, with the
officer and the courier each in their own browser, plus axe on every page and 360 px layouts.

Elements are found by id, name, href or status class (`chip-<status>`) so the tests do not
depend on wording; status labels are computed from the app's own catalogue in Indonesian, so
they hold whether or not the SADOKU translations are merged yet.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask_babel import force_locale
from playwright.sync_api import Locator, Page, expect

from portal.accounts.models import Role, User
from portal.core.time import today_wib
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import DocumentRequest, Status
from tests.browser.conftest import OpenPage, assert_fits, log_in, url_is
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    VALID_KK,
    VALID_NIK,
    make_document_type,
    make_request,
    make_user,
    tiny_png,
)

AssertAccessible = Callable[[Page], None]

FULL_NAME = "Siti Rahmawati"
PHONE = "0812 3456 7890"
CODE_RE = r"SDK-\d{4}-\d{6}"
LUBUK_PAKAM = "12.07.28"
LUBUK_PAKAM_III = "12.07.28.1008"
ELSEWHERE = {"kecamatan_code": "12.07.01", "desa_code": "12.07.01.2001"}  # another kecamatan
VERIFIED_TEMPLATE = "Data dan lampiran Anda sudah lengkap dan benar."  # seeded response
FIXED_NIK = "1207280202910003"  # valid: Lubuk Pakam, born 02-02-1991
DELIVERED_PATH = [
    Status.SUBMITTED,
    Status.VERIFIED,
    Status.IN_PROCESS,
    Status.READY_FOR_DELIVERY,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERED,
]


# --- helpers --------------------------------------------------------------------------------------


def _labels(app: Flask, statuses: list[Status]) -> list[str]:
    """The statuses' labels as an Indonesian reader sees them."""
    with app.test_request_context(), force_locale("id"):
        return [s.label for s in statuses]


def _submit(page: Page) -> None:
    """The page's main submit button (the `submit` macro's), not a link-styled one."""
    page.locator("main form button.button[type=submit]").click()


def _chip(scope: Page | Locator, status: Status) -> Locator:
    return scope.locator(f".chip-{status.value.replace('_', '-')}")


def _seed(app: Flask) -> None:
    """The default catalogue (KTP-el first) with its response templates."""
    with app.app_context():
        services.seed_catalogue()
        db.session.commit()


def _resident(app: Flask) -> tuple[str, int]:
    with app.app_context():
        user = make_user(
            full_name=FULL_NAME, phone=PHONE, nik=VALID_NIK, address=LUBUK_PAKAM_ADDRESS
        )
        return user.email, user.id


def _staff(app: Flask, role: Role, name: str) -> tuple[str, int]:
    with app.app_context():
        user = make_user(full_name=name, roles=(role,))
        return user.email, user.id


def _file_ktp_request(
    page: Page, live_server: str, check: AssertAccessible | None, *, javascript: bool = True
) -> str:
    """A logged-in resident goes from the home page through every step; returns the code."""

    def checked() -> None:
        if check is not None:
            check(page)

    page.goto(live_server + "/")
    checked()
    page.locator("#sadoku a[href$='/sadoku/']").click()
    expect(page).to_have_url(url_is("/sadoku/"))
    checked()
    page.locator("main a[href$='/sadoku/documents/ktp-el']").click()
    expect(page.locator("main h1")).to_have_text("KTP-el")
    checked()
    page.locator("main a[href*='/sadoku/requests/new']").click()
    expect(page).to_have_url(re.compile(r"/sadoku/requests/new\?type=ktp-el$"))

    # Step 1: the document page's link already chose KTP-el; the reason is the resident's.
    expect(page.locator("input[name=document_type][value=ktp-el]")).to_be_checked()
    page.locator("input[name=reason][value=new]").check()
    checked()
    _submit(page)

    # Step 2: their own document, name and NIK from the profile; the KK number is typed.
    expect(page).to_have_url(url_is(r"/sadoku/drafts/\d+/subject"))
    expect(page.locator("input[name=whose][value=self]")).to_be_checked()
    expect(page.locator("#subject_name")).to_have_value(FULL_NAME)
    expect(page.locator("#subject_nik")).to_have_value(VALID_NIK)
    page.locator("#subject_kk").fill(VALID_KK)
    checked()
    _submit(page)

    # Step 3: both required attachments, as photos from the phone.
    expect(page).to_have_url(url_is(r"/sadoku/drafts/\d+/attachments"))
    expect(page.locator("main form input[type=file]")).to_have_count(2)
    checked()
    for i, name in enumerate(("kk.png", "laporan-polisi.png")):
        page.set_input_files(
            f"#file_{i}", files=[{"name": name, "mimeType": "image/png", "buffer": tiny_png()}]
        )
    _submit(page)

    # Step 4: the address comes from the profile, the recipient is the resident.
    expect(page).to_have_url(url_is(r"/sadoku/drafts/\d+/delivery"))
    expect(page.locator("select#kecamatan")).to_have_value(LUBUK_PAKAM)
    expect(page.locator("select#desa")).to_have_value(LUBUK_PAKAM_III)
    # With htmx the desa list is the kecamatan's own; without it, all of them by kecamatan.
    expect(page.locator("select#desa optgroup")).to_have_count(0 if javascript else 22)
    expect(page.locator("#street")).to_have_value(LUBUK_PAKAM_ADDRESS["street"])
    expect(page.locator("#rt")).to_have_value("001")
    expect(page.locator("#rw")).to_have_value("002")
    expect(page.locator("#recipient_name")).to_have_value(FULL_NAME)
    expect(page.locator("#recipient_phone")).to_have_value("081234567890")
    checked()
    _submit(page)

    # Step 5: everything to check, the full NIK and KK included (the resident's own page).
    expect(page).to_have_url(url_is(r"/sadoku/drafts/\d+/summary"))
    summary = page.locator("main")
    for text in ("KTP-el", FULL_NAME, VALID_NIK, VALID_KK, "Jl. Sudirman No. 5", "kk.png"):
        expect(summary).to_contain_text(text)
    assert_fits(page)
    checked()
    page.locator("#declaration").check()
    _submit(page)

    expect(page).to_have_url(re.compile(rf"/sadoku/requests/{CODE_RE}/receipt$"))
    code = page.locator("main .receipt-code strong").inner_text().strip()
    assert re.fullmatch(CODE_RE, code), code
    assert VALID_NIK not in page.locator("main").inner_text()  # the receipt masks it
    expect(page.locator("main")).to_contain_text("0001")
    checked()
    return code


def _officer_move(
    page: Page, code: str, to: Status, fill: Callable[[], None] | None = None
) -> None:
    """From the officer's request page, open the form for `to`, fill it and send it."""
    page.locator(
        f"main .actions a[href$='/sadoku/officer/requests/{code}/status/{to.value}']"
    ).click()
    expect(page).to_have_url(url_is(f"/sadoku/officer/requests/{code}/status/{to.value}"))
    if fill is not None:
        fill()
    _submit(page)
    expect(page).to_have_url(url_is(f"/sadoku/officer/requests/{code}"))
    expect(_chip(page.locator("main .status-line"), to)).to_be_visible()


# --- the whole path -------------------------------------------------------------------------------


def test_request_travels_from_resident_to_hand_over(
    app: Flask,
    page: Page,
    open_page: OpenPage,
    live_server: str,
    assert_accessible: AssertAccessible,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed(app)
    resident_email, _ = _resident(app)
    officer_email, _ = _staff(app, Role.SADOKU_OFFICER, "Petugas Dukcapil")
    courier_email, courier_id = _staff(app, Role.SADOKU_COURIER, "Kurir Andi")
    today = today_wib().isoformat()
    labels = dict(zip(DELIVERED_PATH, _labels(app, DELIVERED_PATH), strict=True))

    log_in(page, live_server, resident_email)
    code = _file_ktp_request(page, live_server, assert_accessible)

    page.locator(f"main .actions a[href$='/sadoku/requests/{code}']").click()
    expect(page).to_have_url(url_is(f"/sadoku/requests/{code}"))
    expect(_chip(page.locator("#request-status .status-line"), Status.SUBMITTED)).to_have_text(
        labels[Status.SUBMITTED]
    )
    assert_fits(page)
    assert_accessible(page)
    # From now on the status asks for itself every second (the interval is in the page).
    monkeypatch.setitem(app.config, "SADOKU_POLL_SECONDS", 1)
    page.reload()
    expect(page.locator("#request-status")).to_have_attribute("hx-trigger", "every 1s")

    # The officer, on another phone, finds the request in the queue.
    officer = open_page()
    log_in(officer, live_server, officer_email)
    officer.locator("header nav.account-nav a[href$='/sadoku/officer/requests']").click()
    expect(officer).to_have_url(url_is("/sadoku/officer/requests"))
    row = officer.locator("#queue-results tbody tr", has_text=code)
    expect(_chip(row, Status.SUBMITTED)).to_be_visible()
    assert_accessible(officer)
    row.locator(f"a[href$='/sadoku/officer/requests/{code}']").click()
    expect(officer.locator("main h1")).to_contain_text(code)
    # The officer's job needs the whole NIK and KK.
    expect(officer.locator("main dd.identity-number").first).to_have_text(VALID_NIK)
    expect(officer.locator("main dd.identity-number").nth(1)).to_have_text(VALID_KK)
    assert_fits(officer)
    assert_accessible(officer)

    def verify_with_template() -> None:
        officer.get_by_label(VERIFIED_TEMPLATE).check()
        assert_accessible(officer)

    _officer_move(officer, code, Status.VERIFIED, verify_with_template)
    _officer_move(officer, code, Status.IN_PROCESS)
    _officer_move(officer, code, Status.READY_FOR_DELIVERY)

    def assign_courier() -> None:
        officer.locator("select#courier").select_option(str(courier_id))
        officer.locator("#delivery_date").fill(today)
        assert_accessible(officer)

    _officer_move(officer, code, Status.OUT_FOR_DELIVERY, assign_courier)
    expect(officer.locator("main")).to_contain_text("Kurir Andi")

    # The courier opens today's list and records the hand-over.
    courier = open_page()
    log_in(courier, live_server, courier_email)
    courier.locator("header nav.account-nav a[href$='/sadoku/officer/deliveries']").click()
    card = courier.locator("li.stop-card", has_text=code)
    expect(_chip(card, Status.OUT_FOR_DELIVERY)).to_be_visible()
    assert_fits(courier)
    assert_accessible(courier)
    card.locator(f"a.stop-code[href$='/sadoku/officer/requests/{code}']").click()
    # The courier's view of the request: what to deliver where, the NIK masked.
    expect(courier.locator("main h1")).to_contain_text(code)
    expect(courier.locator("main")).to_contain_text("Jl. Sudirman No. 5")
    expect(courier.locator("main")).to_contain_text(VALID_NIK[-4:])
    assert VALID_NIK not in courier.locator("main").inner_text()
    assert_fits(courier)
    assert_accessible(courier)
    courier.locator(f"main .actions a[href$='/requests/{code}/status/delivered']").click()
    expect(courier).to_have_url(url_is(f"/sadoku/officer/requests/{code}/status/delivered"))
    courier.locator("#received_by").fill(FULL_NAME)
    courier.locator("input[name=relation][value=self]").check()
    courier.set_input_files(
        "#photo",
        files=[{"name": "serah-terima.png", "mimeType": "image/png", "buffer": tiny_png()}],
    )
    assert_accessible(courier)
    _submit(courier)
    expect(courier).to_have_url(re.compile(rf"/sadoku/officer/deliveries\?date={today}$"))
    expect(_chip(courier.locator("li.stop-card", has_text=code), Status.DELIVERED)).to_be_visible()

    # Without reloading, the resident's page picks up the hand-over and stops asking.
    status = page.locator("#request-status")
    expect(_chip(status.locator(".status-line"), Status.DELIVERED)).to_have_text(
        labels[Status.DELIVERED], timeout=10_000
    )
    expect(status).not_to_have_attribute("hx-trigger", re.compile("every"))
    # The timeline, newest first, lists every status the request went through.
    chips = status.locator("ol.timeline .timeline-head .chip")
    expect(chips).to_have_text([labels[s] for s in reversed(DELIVERED_PATH)])
    expect(status.locator("ol.timeline")).to_contain_text(VERIFIED_TEMPLATE)  # officer's pick
    classes = chips.evaluate_all("els => els.map(e => e.className)")
    assert classes == [f"chip chip-{s.value.replace('_', '-')}" for s in reversed(DELIVERED_PATH)]
    assert_fits(page)
    assert_accessible(page)


def test_resident_can_file_a_request_without_javascript(
    app: Flask, page_without_js: Page, live_server: str
) -> None:
    _seed(app)
    email, _ = _resident(app)
    page = page_without_js
    log_in(page, live_server, email)
    # No axe here: its run is asynchronous and never settles with JavaScript off. The same
    # pages are checked with JavaScript on in the test above.
    code = _file_ktp_request(page, live_server, None, javascript=False)
    with app.app_context():
        req = db.session.scalar(db.select(DocumentRequest).where(DocumentRequest.code == code))
        assert req is not None
        assert req.status == Status.SUBMITTED
        assert [a.filename for a in req.current_attachments] == ["kk.png", "laporan-polisi.png"]
        assert (req.desa_code, req.recipient_phone) == (LUBUK_PAKAM_III, "+6281234567890")


# --- correction -----------------------------------------------------------------------------------


def test_officer_asks_to_fix_the_nik_and_the_resident_fixes_only_that(
    app: Flask,
    page: Page,
    open_page: OpenPage,
    live_server: str,
    assert_accessible: AssertAccessible,
) -> None:
    _seed(app)
    resident_email, resident_id = _resident(app)
    officer_email, _ = _staff(app, Role.SADOKU_OFFICER, "Petugas Dukcapil")
    with app.test_request_context():
        owner = db.session.get(User, resident_id)
        code = make_request(owner=owner, subject_name=FULL_NAME).code

    officer = open_page()
    log_in(officer, live_server, officer_email)
    officer.goto(f"{live_server}/sadoku/officer/requests/{code}")

    def mark_nik() -> None:
        officer.locator("input[name=items][value=subject_nik]").check()
        officer.get_by_label("NIK tidak sesuai dengan KK. Mohon periksa kembali.").check()
        assert_accessible(officer)

    _officer_move(officer, code, Status.NEEDS_CORRECTION, mark_nik)

    log_in(page, live_server, resident_email)
    page.goto(f"{live_server}/sadoku/requests/{code}")
    status = page.locator("#request-status")
    expect(_chip(status.locator(".status-line"), Status.NEEDS_CORRECTION)).to_be_visible()
    expect(status.locator(".notice li")).to_have_count(1)
    expect(status.locator(".notice")).to_contain_text("NIK tidak sesuai dengan KK")
    assert_accessible(page)
    status.locator(f"a[href$='/sadoku/requests/{code}/correct']").click()

    # Exactly the NIK can change (and a message to the officer may be added).
    expect(page).to_have_url(url_is(f"/sadoku/requests/{code}/correct"))
    controls = page.locator(
        "main form input:not([type=hidden]), main form select, main form textarea"
    )
    assert sorted(controls.evaluate_all("els => els.map(e => e.id)")) == ["note", "subject_nik"]
    expect(page.locator("#subject_nik")).to_have_value(VALID_NIK)
    assert_accessible(page)

    # A slip first: the form comes back in place with the error, then the fix is sent.
    page.locator("#subject_nik").fill("12345")
    _submit(page)
    expect(page.locator("main .error-summary a[href='#subject_nik']")).to_be_visible()
    expect(page.locator("#subject_nik")).to_have_value("12345")
    assert_accessible(page)
    page.locator("#subject_nik").fill(FIXED_NIK)
    page.locator("#note").fill("NIK sudah saya perbaiki.")
    _submit(page)
    expect(page).to_have_url(url_is(f"/sadoku/requests/{code}"))
    expect(_chip(page.locator("#request-status .status-line"), Status.SUBMITTED)).to_be_visible()
    expect(page.locator("main")).to_contain_text(FIXED_NIK[-4:])

    # Back in the officer's queue as submitted, with the new NIK on its page.
    officer.goto(f"{live_server}/sadoku/officer/requests")
    row = officer.locator("#queue-results tbody tr", has_text=code)
    expect(_chip(row, Status.SUBMITTED)).to_be_visible()
    row.locator(f"a[href$='/sadoku/officer/requests/{code}']").click()
    expect(officer.locator("main dd.identity-number").first).to_have_text(FIXED_NIK)
    expect(officer.locator("main")).to_contain_text("NIK sudah saya perbaiki.")


# --- public tracking ------------------------------------------------------------------------------


def test_anyone_can_track_with_the_code_and_nik_digits(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.test_request_context():
        owner = make_user(full_name=FULL_NAME, phone=PHONE)
        req = make_request(owner=owner, status="verified", subject_name="Budi Santoso")
        code = req.code
    label = _labels(app, [Status.VERIFIED])[0]

    page.goto(f"{live_server}/sadoku/")
    page.locator("main a[href$='/sadoku/track']").click()
    expect(page).to_have_url(url_is("/sadoku/track"))
    assert_accessible(page)
    page.locator("#code").fill(code.lower())  # typed in lower case: still found
    page.locator("#nik_last4").fill(VALID_NIK[-4:])
    _submit(page)

    result = page.locator("main .track-result")
    expect(result).to_contain_text(code)
    expect(_chip(result.locator("dl"), Status.VERIFIED)).to_have_text(label)
    expect(page.locator("#nik_last4")).to_have_value("")  # the digits are not echoed back
    text = page.locator("main").inner_text()
    for private in ("Budi Santoso", FULL_NAME, VALID_NIK, VALID_KK, "Sudirman", "0812"):
        assert private not in text, private
    assert_accessible(page)

    page.locator("#code").fill("SDK-0000-000000")
    page.locator("#nik_last4").fill(VALID_NIK[-4:])
    _submit(page)
    expect(page.locator("main .error-summary")).to_be_visible()
    expect(page.locator("main .track-result")).to_have_count(0)
    expect(page.locator("#code")).to_have_value("SDK-0000-000000")
    assert_accessible(page)


# --- the courier's day ----------------------------------------------------------------------------


def test_bulk_assigned_day_list_fits_a_phone(
    app: Flask,
    page: Page,
    open_page: OpenPage,
    live_server: str,
    assert_accessible: AssertAccessible,
) -> None:
    _seed(app)
    officer_email, officer_id = _staff(app, Role.SADOKU_OFFICER, "Petugas Dukcapil")
    courier_email, courier_id = _staff(app, Role.SADOKU_COURIER, "Kurir Andi")
    with app.test_request_context():
        officer_user = db.session.get(User, officer_id)
        codes = [
            make_request(status="ready_for_delivery", officer=officer_user, address=address).code
            for address in (None, ELSEWHERE)
        ]

    # The officer gives both ready requests to the courier for today in one go.
    officer = open_page()
    log_in(officer, live_server, officer_email)
    officer.goto(f"{live_server}/sadoku/officer/requests?status=ready_for_delivery")
    results = officer.locator("#queue-results")
    expect(results.locator("input[name=request_ids]")).to_have_count(2)
    assert_accessible(officer)
    for box in results.locator("input[name=request_ids]").all():
        box.check()
    results.locator("select#courier").select_option(str(courier_id))
    expect(results.locator("#delivery_date")).to_have_value(today_wib().isoformat())
    results.locator("button.button[type=submit]").click()
    expect(results.locator("input[name=request_ids]")).to_have_count(0)

    log_in(page, live_server, courier_email)
    page.locator("header nav.account-nav a[href$='/sadoku/officer/deliveries']").click()
    cards = page.locator("li.stop-card")
    expect(cards).to_have_count(2)
    for code in codes:
        card = cards.filter(has_text=code)
        expect(card).to_contain_text("km")
        expect(card.locator("a[href^='https://www.google.com/maps/search/']")).to_have_count(1)
        expect(card.locator(f"a[href$='/{code}/status/delivered']")).to_be_visible()
    assert_fits(page)
    assert_accessible(page)


# --- officers' and admins' pages ------------------------------------------------------------------


def test_admin_and_officer_pages_are_accessible_on_a_phone(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.test_request_context():
        make_document_type()  # the default catalogue and response templates
        admin = make_user(full_name="Admin Kabupaten", roles=(Role.ADMIN,))
        email = admin.email
        codes = [make_request(subject_name=n).code for n in ("Budi Santoso", "Rina Lestari")]
        make_request(status="verified", subject_name="Ahmad Yani")
    log_in(page, live_server, email)

    def check(url_end: str) -> None:
        expect(page).to_have_url(url_is(url_end))
        expect(page.locator("main#content h1")).to_be_visible()
        assert_fits(page)
        assert_accessible(page)

    # Document types: the list, then KTP-el's form.
    page.goto(f"{live_server}/admin/sadoku/document-types")
    check("/admin/sadoku/document-types")
    page.locator("main table a", has_text="KTP-el").click()
    expect(page.locator("#name")).to_have_value("KTP-el")
    check(r"/admin/sadoku/document-types/\d+/edit")

    # Holidays: add one, it is listed.
    page.goto(f"{live_server}/admin/sadoku/holidays")
    check("/admin/sadoku/holidays")
    day = today_wib() + dt.timedelta(days=20)
    page.locator("#day").fill(day.isoformat())
    page.locator("#name").fill("Cuti bersama")
    _submit(page)
    expect(page.locator("main table tbody")).to_contain_text("Cuti bersama")
    check("/admin/sadoku/holidays")

    # Response templates: the grouped list, then one template's form.
    page.locator("main nav a[href$='/admin/sadoku/templates']").click()
    check("/admin/sadoku/templates")
    page.locator("main a[href$='/edit']").first.click()
    expect(page.locator("#text")).not_to_have_value("")
    check(r"/admin/sadoku/templates/\d+/edit")

    # The queue, its filter (a plain GET form) and its active search.
    page.goto(f"{live_server}/sadoku/officer/requests")
    rows = page.locator("#queue-results tbody tr")
    expect(rows).to_have_count(3)
    check("/sadoku/officer/requests")
    page.locator("select#status").select_option(Status.SUBMITTED.value)
    page.locator("#queue-filter button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/sadoku/officer/requests\?.*status=submitted"))
    expect(rows).to_have_count(2)
    assert_accessible(page)
    page.locator("#q").press_sequentially("Rina")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(codes[1])
    assert_accessible(page)

    # Assisted mode: the counter form.
    page.goto(f"{live_server}/sadoku/officer/assisted")
    expect(page.locator("select#document_type option[value='']")).to_have_count(1)
    check("/sadoku/officer/assisted")
