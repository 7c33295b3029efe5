"""Jumpa Madu in a real browser: a resident's pickup from the request to the money in hand.

The resident (one phone) asks for a pickup; the unit's officer (another phone) schedules it,
sets off from the day list, weighs it with the amount shown live before saving; the resident
confirms, sees the balance, withdraws; the officer approves and pays; the resident's statement
and withdrawal show it. Every page is checked with axe and must fit a 360 px screen.

Elements are found by id, name, href or status class (`chip-<status>`) so the tests do not
depend on wording; the texts checked are names, codes and amounts ("Rp 8.730"), the same in
every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from portal.accounts.models import Role, User
from portal.core.time import today_wib
from portal.extensions import db
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import Pickup, PickupStatus, WithdrawalStatus
from tests.browser.conftest import OpenPage, assert_fits, log_in, url_is
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    category,
    make_unit,
    make_user,
)

AssertAccessible = Callable[[Page], None]

RESIDENT_NAME = "Siti Rahmawati"
OFFICER_NAME = "Petugas Bank Sampah"
UNIT_NAME = "Bank Sampah Melati"
OTHER_UNIT_NAME = "TPS3R Gunung Meriah"
CODE_RE = r"JM-\d{6}"
LUBUK_PAKAM = "12.07.28"
LUBUK_PAKAM_III = "12.07.28.1008"
ELSEWHERE = {"kecamatan_code": "12.07.01", "desa_code": "12.07.01.2001"}  # another kecamatan
AMOUNT = "Rp 8.730"  # 2,3 kg PET at Rp 3.500 + 1,5 kg cardboard at Rp 1.100, 90% share
REFERENCE = "KWT-0001"


@dataclass
class Cast:
    resident_email: str
    officer_email: str
    unit_id: int
    pet_id: int
    kardus_id: int


# --- helpers --------------------------------------------------------------------------------------


def _chip(scope: Page | Locator, status: PickupStatus | WithdrawalStatus) -> Locator:
    return scope.locator(f".chip-{status.value.replace('_', '-')}")


def _seed(app: Flask) -> Cast:
    """A bank sampah in Lubuk Pakam with default prices, its officer, and a resident there."""
    with app.app_context():
        unit = make_unit(name=UNIT_NAME)
        resident = make_user(
            full_name=RESIDENT_NAME, phone="0812 3456 7890", address=LUBUK_PAKAM_ADDRESS
        )
        officer = make_user(full_name=OFFICER_NAME, roles=(Role.WASTE_OFFICER,), scope=unit.scope)
        return Cast(
            resident.email, officer.email, unit.id, category("pet").id, category("kardus").id
        )


def _request_pickup(
    page: Page, live_server: str, cast: Cast, check: AssertAccessible | None
) -> str:
    """From the Jumpa Madu page, the resident asks for a pickup; returns its code."""

    def checked() -> None:
        assert_fits(page)
        if check is not None:
            check(page)

    page.goto(f"{live_server}/jumpa-madu/")
    checked()
    page.locator("main a.button[href$='/jumpa-madu/pickups/new']").click()
    expect(page).to_have_url(url_is("/jumpa-madu/pickups/new"))
    # The profile's address is filled in, and the unit that collects there already proposed.
    expect(page.locator("select#kecamatan")).to_have_value(LUBUK_PAKAM)
    expect(page.locator("select#desa")).to_have_value(LUBUK_PAKAM_III)
    checked()

    # Stage 1 again, explicitly: "find units near me" posts the address back.
    page.locator("button[name=action][value=find]").click()
    unit_radio = page.locator(f"input[name=unit_id][value='{cast.unit_id}']")
    expect(unit_radio).to_be_checked()
    part = page.locator("#pickup-unit-part")
    expect(part.locator(".jm-unit-facts strong")).to_have_text(UNIT_NAME)
    checked()

    # Stage 2: estimates (3,5 kg, above the 3 kg minimum), the first date and window offered.
    part.locator(f"#weight_{cast.pet_id}").fill("2,5")
    part.locator(f"#weight_{cast.kardus_id}").fill("1")
    part.locator("input[name=preferred_date]").first.check()
    part.locator("input[name=window]").first.check()
    checked()
    part.locator("button[name=action][value=send]").click()

    expect(page).to_have_url(url_is(r"/jumpa-madu/pickups/\d+"))
    h1 = page.locator("main h1")
    expect(h1).to_contain_text(UNIT_NAME)
    code = re.search(CODE_RE, h1.inner_text())
    assert code is not None, h1.inner_text()
    expect(
        _chip(page.locator("#pickup-status .status-line"), PickupStatus.REQUESTED)
    ).to_be_visible()
    checked()
    return code.group(0)


def _weigh(page: Page, cast: Cast) -> None:
    page.locator(f"#weight_{cast.pet_id}").fill("2.3")
    page.locator(f"#weight_{cast.kardus_id}").fill("1.5")


# --- the whole path -------------------------------------------------------------------------------


def test_pickup_weighed_confirmed_withdrawn_and_paid(
    app: Flask,
    page: Page,
    open_page: OpenPage,
    live_server: str,
    assert_accessible: AssertAccessible,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cast = _seed(app)
    # The default smallest withdrawal (Rp 10.000) is more than one pickup pays.
    monkeypatch.setitem(app.config, "JUMPA_MADU_MIN_WITHDRAWAL", 5_000)
    today = today_wib().isoformat()

    def check(p: Page) -> None:
        assert_fits(p)
        assert_accessible(p)

    # The resident asks for a pickup, then finds it in their list.
    log_in(page, live_server, cast.resident_email)
    code = _request_pickup(page, live_server, cast, assert_accessible)
    page.locator("main a.back-link[href$='/jumpa-madu/pickups']").click()
    card = page.locator("main li.jm-card", has_text=code)
    expect(_chip(card, PickupStatus.REQUESTED)).to_be_visible()
    expect(card).to_contain_text(UNIT_NAME)
    check(page)

    # The officer finds it in the unit's queue and schedules it for today, going themselves.
    officer = open_page()
    log_in(officer, live_server, cast.officer_email)
    officer.locator("header nav.account-nav a[href$='/jumpa-madu/unit/pickups']").click()
    expect(officer).to_have_url(url_is("/jumpa-madu/unit/pickups"))
    row = officer.locator("#queue-results li.jm-queue-row", has_text=code)
    expect(row).to_contain_text(RESIDENT_NAME)
    check(officer)
    row.locator("a.code").click()
    expect(officer.locator("main h1")).to_contain_text(code)
    expect(officer.locator("main a[href='tel:+6281234567890']")).to_be_visible()
    check(officer)
    officer.locator("#pickup-actions a[href$='/schedule']").click()
    expect(officer).to_have_url(url_is(r"/jumpa-madu/unit/pickups/\d+/schedule"))
    officer.locator("#day").fill(today)
    expect(officer.locator("select#collector_id option:checked")).to_have_text(OFFICER_NAME)
    check(officer)
    officer.locator("main form button.button[type=submit]").click()
    expect(officer).to_have_url(url_is(r"/jumpa-madu/unit/pickups/\d+"))
    expect(_chip(officer.locator("main .status-line"), PickupStatus.SCHEDULED)).to_be_visible()

    # Today's day list: set off, then weigh at the door.
    officer.locator("main a[href$='/jumpa-madu/unit/pickups']").first.click()
    officer.locator("main nav a[href$='/jumpa-madu/unit/route']").click()
    expect(officer).to_have_url(url_is("/jumpa-madu/unit/route"))
    stop = officer.locator("li.stop-card", has_text=code)
    expect(_chip(stop, PickupStatus.SCHEDULED)).to_be_visible()
    check(officer)
    stop.locator("form[action$='/start'] button").click()
    expect(officer).to_have_url(url_is("/jumpa-madu/unit/route"))  # back to the list
    expect(_chip(stop, PickupStatus.ON_THE_WAY)).to_be_visible()
    stop.locator("a[href$='/weigh']").click()
    expect(officer).to_have_url(url_is(r"/jumpa-madu/unit/pickups/\d+/weigh"))
    check(officer)
    _weigh(officer, cast)
    # The amounts come in as the weights are typed, before anything is saved.
    quote = officer.locator("#weigh-quote")
    expect(quote.locator("tfoot")).to_contain_text(AMOUNT)
    expect(quote.locator("button[name=action][value=save]")).to_be_visible()
    check(officer)
    quote.locator("button[name=action][value=save]").click()
    expect(officer).to_have_url(url_is(r"/jumpa-madu/unit/pickups/\d+"))
    expect(_chip(officer.locator("main .status-line"), PickupStatus.WEIGHED)).to_be_visible()
    expect(officer.locator("#weighing-1 tfoot")).to_contain_text(AMOUNT)
    check(officer)

    # The resident sees the weighing and confirms it: the money is in the wallet.
    page.locator(f"main li.jm-card a.code:text-is('{code}')").click()
    status = page.locator("#pickup-status")
    expect(_chip(status.locator(".status-line"), PickupStatus.WEIGHED)).to_be_visible()
    expect(status.locator("table tfoot")).to_contain_text(AMOUNT)
    check(page)
    status.locator("form[action$='/confirm'] button").click()
    expect(
        _chip(page.locator("#pickup-status .status-line"), PickupStatus.CONFIRMED)
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text(AMOUNT)
    check(page)

    page.locator("main a.back-link[href$='/jumpa-madu/pickups']").click()
    page.locator("main a[href$='/jumpa-madu/wallet']").click()
    expect(page).to_have_url(url_is("/jumpa-madu/wallet"))
    expect(page.locator("#wallet-available")).to_have_text(AMOUNT)
    lines = page.locator("#statement tbody tr")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("+" + AMOUNT)
    check(page)

    # They withdraw Rp 5.000 in cash at the unit.
    page.locator("main a[href$='/jumpa-madu/wallet/withdraw']").click()
    expect(page).to_have_url(url_is("/jumpa-madu/wallet/withdraw"))
    expect(page.locator("#wallet-available")).to_have_text(AMOUNT)
    expect(page.locator("input[name=method][value=cash]")).to_be_checked()
    check(page)
    page.locator("#amount").fill("5.000")
    page.locator("main form button.button[type=submit]").click()
    expect(page).to_have_url(url_is("/jumpa-madu/wallet"))
    expect(page.locator("#wallet-available")).to_have_text("Rp 3.730")
    expect(page.locator("#wallet-withdrawing")).to_have_text("Rp 5.000")
    withdrawal = page.locator("#withdrawals li.jm-card").first
    expect(_chip(withdrawal, WithdrawalStatus.REQUESTED)).to_be_visible()
    w_code = withdrawal.locator("a.code").inner_text().strip()

    # The officer approves it, pays it with a receipt number, and sees it in today's report.
    officer.locator("main a[href$='/jumpa-madu/unit/pickups']").first.click()
    officer.locator("main nav a[href$='/jumpa-madu/unit/withdrawals']").click()
    expect(officer).to_have_url(url_is("/jumpa-madu/unit/withdrawals"))
    open_row = officer.locator("#open-withdrawals li", has_text=w_code)
    expect(open_row).to_contain_text(RESIDENT_NAME)
    expect(open_row).to_contain_text("Rp 5.000")
    check(officer)
    open_row.locator("form[action$='/approve'] button").click()
    expect(_chip(open_row, WithdrawalStatus.APPROVED)).to_be_visible()
    open_row.locator("a[href$='/pay']").click()
    expect(officer).to_have_url(url_is(r"/jumpa-madu/unit/withdrawals/\d+/pay"))
    check(officer)
    officer.locator("#reference").fill(REFERENCE)
    officer.locator("main form button.button[type=submit]").click()
    expect(officer).to_have_url(url_is("/jumpa-madu/unit/withdrawals"))
    paid = officer.locator("#recent-withdrawals li", has_text=w_code)
    expect(_chip(paid, WithdrawalStatus.PAID)).to_be_visible()
    expect(paid).to_contain_text(REFERENCE)
    check(officer)
    officer.locator("main nav a[href$='/jumpa-madu/unit/cash-report']").click()
    expect(officer).to_have_url(url_is("/jumpa-madu/unit/cash-report"))
    expect(officer.locator("#cash-paid tbody tr", has_text=REFERENCE)).to_contain_text("Rp 5.000")
    expect(officer.locator("#cash-totals")).to_contain_text(AMOUNT)  # credited today
    check(officer)

    # The resident's statement: the withdrawal, with the balance after it; paid, with reference.
    page.reload()
    lines = page.locator("#statement tbody tr")
    expect(lines).to_have_count(2)
    newest = lines.first
    expect(newest.locator("td").nth(1)).to_contain_text(w_code)
    expect(newest.locator("td").nth(2)).to_have_text("-Rp 5.000")
    expect(newest.locator("td").nth(3)).to_have_text("Rp 3.730")
    expect(lines.nth(1).locator("td").nth(3)).to_have_text(AMOUNT)
    expect(page.locator("#wallet-available")).to_have_text("Rp 3.730")
    expect(page.locator("#wallet-withdrawing")).to_have_text("Rp 0")
    withdrawal = page.locator("#withdrawals li.jm-card", has_text=w_code)
    expect(_chip(withdrawal, WithdrawalStatus.PAID)).to_be_visible()
    expect(withdrawal).to_contain_text(REFERENCE)
    check(page)
    withdrawal.locator("a.code").click()
    expect(page.locator("main h1")).to_contain_text(w_code)
    expect(_chip(page.locator("main .status-line"), WithdrawalStatus.PAID)).to_be_visible()
    expect(page.locator("main dl")).to_contain_text(REFERENCE)
    check(page)


# --- without JavaScript ---------------------------------------------------------------------------


def test_request_and_weigh_without_javascript(
    app: Flask, page_without_js: Page, open_page: OpenPage, live_server: str
) -> None:
    """Plain HTML forms: find units, send the request; check the amounts, then save.

    No axe here: its run never settles with JavaScript off; the same pages are checked above.
    """
    cast = _seed(app)
    page = page_without_js
    log_in(page, live_server, cast.resident_email)
    code = _request_pickup(page, live_server, cast, None)

    # The unit accepts it and sets off (not what this test is about; notices need a request).
    with app.test_request_context():
        pickup = db.session.get(Pickup, int(page.url.rsplit("/", 1)[1]))
        officer = db.session.scalar(db.select(User).where(User.email == cast.officer_email))
        assert pickup is not None and pickup.code == code and officer is not None
        jm.schedule_pickup(
            pickup, officer, day=today_wib(), window=pickup.preferred_window, collector=officer
        )
        jm.start_route(pickup, officer)
        db.session.commit()
        pickup_id = pickup.id

    officer_page = open_page(javascript=False)
    log_in(officer_page, live_server, cast.officer_email)
    officer_page.goto(f"{live_server}/jumpa-madu/unit/pickups/{pickup_id}/weigh")
    _weigh(officer_page, cast)
    expect(officer_page.locator("#weigh-quote button[name=action][value=save]")).to_have_count(0)
    officer_page.locator("button[name=action][value=preview]").click()
    quote = officer_page.locator("#weigh-quote")
    expect(quote.locator("tfoot")).to_contain_text(AMOUNT)
    expect(officer_page.locator(f"#weight_{cast.pet_id}")).to_have_value("2.3")
    assert_fits(officer_page)
    quote.locator("button[name=action][value=save]").click()
    expect(officer_page).to_have_url(url_is(f"/jumpa-madu/unit/pickups/{pickup_id}"))
    expect(_chip(officer_page.locator("main .status-line"), PickupStatus.WEIGHED)).to_be_visible()

    with app.app_context():
        pickup = db.session.get(Pickup, pickup_id)
        assert pickup is not None and pickup.status == PickupStatus.WEIGHED
        assert pickup.current_weighing is not None
        assert pickup.current_weighing.resident_amount == 8730


# --- the public prices page -----------------------------------------------------------------------


def test_prices_page_narrows_to_the_units_of_a_desa(
    app: Flask, page: Page, live_server: str, assert_accessible: AssertAccessible
) -> None:
    with app.app_context():
        here = make_unit(name=UNIT_NAME).id
        there = make_unit(name=OTHER_UNIT_NAME, **ELSEWHERE).id

    page.goto(f"{live_server}/jumpa-madu/")
    page.locator("main a[href$='/jumpa-madu/prices']").click()
    expect(page).to_have_url(url_is("/jumpa-madu/prices"))
    results = page.locator("#price-results")
    expect(results.locator("article.jm-unit-card")).to_have_count(2)
    expect(page.locator("select#desa optgroup")).to_have_count(22)  # all, by kecamatan
    assert_fits(page)
    assert_accessible(page)

    # htmx: no page load from here on (a full load would drop this marker).
    page.evaluate("window.jmMarker = 1")
    page.locator("select#kecamatan").select_option(LUBUK_PAKAM)
    desa = page.locator("#desa-field select#desa")
    expect(desa.locator("optgroup")).to_have_count(0)
    expect(desa.locator(f"option[value='{ELSEWHERE['desa_code']}']")).to_have_count(0)
    desa.select_option(LUBUK_PAKAM_III)
    page.locator("#price-finder button[type=submit]").click()

    expect(page).to_have_url(
        re.compile(rf"/jumpa-madu/prices\?kecamatan={LUBUK_PAKAM}&desa={LUBUK_PAKAM_III}$")
    )
    expect(results.locator("article.jm-unit-card")).to_have_count(1)
    card = results.locator(f"article#unit-{here}")
    expect(card.locator("h3")).to_have_text(UNIT_NAME)
    expect(card.locator(".jm-distance")).to_contain_text("km")
    expect(results.locator(f"article#unit-{there}")).to_have_count(0)
    expect(card.locator("tbody")).to_contain_text("Rp 3.500")  # PET, at the default price
    assert page.evaluate("window.jmMarker") == 1
    assert_fits(page)
    assert_accessible(page)

    # "Use my current location": the device's position is posted, not put in the URL.
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 3.7044, "longitude": 98.8012})  # far from both
    page.locator("#price-locate button[data-action=locate]").click()
    expect(results.locator("#no-unit")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"kecamatan={LUBUK_PAKAM}&desa={LUBUK_PAKAM_III}$"))
    assert page.evaluate("window.jmMarker") == 1
    assert_accessible(page)
