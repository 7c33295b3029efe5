"""Jumpa Madu for unit officers over HTTP: queue, pickup detail and moves, weighing with the
amounts shown before saving, day list, withdrawals, cash report and assisted pickups.

Pages are read in English (lang cookie) so assertions do not depend on the Indonesian catalogue.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portal.accounts.models import Role, User
from portal.core.time import today_wib
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import (
    PayoutMethod,
    Pickup,
    PickupStatus,
    WasteUnit,
    Withdrawal,
    WithdrawalStatus,
)
from tests.conftest import csrf_token, log_in, post
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    category,
    fund_wallet,
    make_pickup,
    make_unit,
    make_user,
    tiny_png,
)

BASE = "/jumpa-madu/unit"
QUEUE = f"{BASE}/pickups"
CODE_RE = re.compile(r"JM-\d{6}")
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


def _unit_id(app: Flask, **fields: Any) -> int:
    with app.test_request_context():
        return make_unit(**fields).id


@pytest.fixture
def unit_id(app: Flask) -> int:
    return _unit_id(app)


@pytest.fixture
def officer(login_as, unit_id: int) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    info = login_as(Role.WASTE_OFFICER, scope=str(unit_id), full_name="Petugas Bank Sampah")
    info.unit_id = unit_id
    return info


def _pickup(app: Flask, unit_id: int, status: str = "requested", **kw: Any) -> SimpleNamespace:
    """A pickup of `unit_id` driven to `status`; plain data back, no ORM object leaves."""
    with app.test_request_context():
        unit = db.session.get(WasteUnit, unit_id)
        if "phone" in kw:
            kw["user"] = make_user(phone=kw.pop("phone"), address=LUBUK_PAKAM_ADDRESS, commit=False)
        if "officer_id" in kw:
            kw["officer"] = db.session.get(User, kw.pop("officer_id"))
        pickup = make_pickup(status=status, unit=unit, **kw)
        return SimpleNamespace(
            id=pickup.id,
            code=pickup.code,
            user_id=pickup.user_id,
            url=f"{QUEUE}/{pickup.id}",
            day=pickup.scheduled_date or pickup.preferred_date,
        )


def _status(app: Flask, pickup_id: int) -> PickupStatus:
    with app.test_request_context():
        return db.session.scalar(select(Pickup.status).where(Pickup.id == pickup_id))


def _balance(app: Flask, user_id: int) -> int:
    with app.test_request_context():
        return ledger.wallet_balance(user_id)


def _ledger_ok(app: Flask) -> bool:
    with app.test_request_context():
        return ledger.check() == []


def _withdrawal(
    app: Flask, unit_id: int, amount: int = 20_000, status: str = "requested", **kw: Any
) -> SimpleNamespace:
    """A resident funded with `amount` who asked for all of it, by bank transfer by default."""
    with app.test_request_context():
        unit = db.session.get(WasteUnit, unit_id)
        resident = make_user(full_name=kw.pop("name", "Ibu Sari"))
        fund_wallet(resident, amount, unit)
        method = kw.pop("method", PayoutMethod.BANK)
        details = (
            {"bank_name": "BRI", "account_number": "0123456789012", "account_holder": "Sari"}
            if method is PayoutMethod.BANK
            else {}
        )
        w = jm.request_withdrawal(resident, unit, amount, method, **details)
        if status in ("approved", "paid"):
            officer = make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope, commit=False)
            jm.approve_withdrawal(w, officer)
            if status == "paid":
                jm.pay_withdrawal(w, officer, kw.pop("reference", "KW-1"))
        db.session.commit()
        return SimpleNamespace(id=w.id, code=w.code, user_id=resident.id)


def _withdrawal_status(app: Flask, withdrawal_id: int) -> WithdrawalStatus:
    with app.test_request_context():
        return db.session.get(Withdrawal, withdrawal_id).status


def _location(response: Any) -> str:
    """Where a successful action sends the browser: the 303 Location or htmx's HX-Location."""
    if response.status_code == 204:
        return json.loads(response.headers["HX-Location"])["path"]
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"]


def _codes(html: str) -> list[str]:
    seen: list[str] = []
    for code in CODE_RE.findall(html):
        if code not in seen:
            seen.append(code)
    return seen


# --- access -------------------------------------------------------------------------------------


PAGES = ["/pickups", "/route", "/withdrawals", "/cash-report", "/assisted"]


def test_residents_get_403_and_visitors_are_sent_to_log_in(
    app: Flask, client: FlaskClient, login_as, unit_id: int
):
    pickup = _pickup(app, unit_id)
    withdrawal = _withdrawal(app, unit_id)
    anonymous = app.test_client()
    response = anonymous.get(f"{BASE}/pickups")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]

    login_as()
    for page in PAGES:
        assert client.get(BASE + page).status_code == 403, page
    for suffix in ("", "/schedule", "/weigh", "/outcome", "/resolve", "/cancel", "/photo"):
        assert client.get(pickup.url + suffix).status_code == 403, suffix
    assert post(client, pickup.url + "/start").status_code == 403
    assert post(client, f"{BASE}/withdrawals/{withdrawal.id}/approve").status_code == 403
    assert client.get(f"{BASE}/withdrawals/{withdrawal.id}/pay").status_code == 403


def test_every_officer_endpoint_needs_a_log_in(app: Flask):
    anonymous = app.test_client()
    token = csrf_token(anonymous)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("jumpa_madu_officer.")]
    assert len(rules) == 17
    for rule in rules:
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = anonymous.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (rule.endpoint, method)
            assert "/accounts/login" in response.headers["Location"]


def test_an_officer_of_another_unit_gets_404_and_cannot_act(
    app: Flask, client: FlaskClient, officer
):
    other_unit = _unit_id(app)
    theirs = _pickup(app, other_unit, status="scheduled")
    on_the_way = _pickup(app, other_unit, status="on_the_way")
    withdrawal = _withdrawal(app, other_unit)
    for suffix in ("", "/schedule", "/weigh", "/outcome", "/resolve", "/cancel", "/photo"):
        assert client.get(theirs.url + suffix).status_code == 404, suffix
    assert post(client, theirs.url + "/start").status_code == 404
    assert post(client, theirs.url + "/cancel", {"note": "x"}).status_code == 404
    weigh = {"weight_1": "2.0", "action": "save"}
    assert post(client, on_the_way.url + "/weigh", weigh).status_code == 404
    assert _status(app, theirs.id) == PickupStatus.SCHEDULED
    assert _status(app, on_the_way.id) == PickupStatus.ON_THE_WAY

    w = f"{BASE}/withdrawals/{withdrawal.id}"
    assert post(client, w + "/approve").status_code == 404
    assert client.get(w + "/reject").status_code == 404
    assert post(client, w + "/reject", {"reason": "no"}).status_code == 404
    assert post(client, w + "/pay", {"reference": "X"}).status_code == 404
    assert _withdrawal_status(app, withdrawal.id) == WithdrawalStatus.REQUESTED
    # Nor does another unit's work show in this officer's lists.
    assert theirs.code not in client.get(f"{QUEUE}?tab=scheduled").get_data(as_text=True)
    assert withdrawal.code not in client.get(f"{BASE}/withdrawals").get_data(as_text=True)


def test_admin_picks_a_unit_by_id_and_defaults_to_the_first_active(
    app: Flask, client: FlaskClient, login_as
):
    first = _unit_id(app, name="AAA Bank Sampah Pertama")
    second = _unit_id(app, name="BBB Bank Sampah Kedua")
    p1, p2 = _pickup(app, first), _pickup(app, second)
    login_as(Role.ADMIN)
    html = client.get(QUEUE).get_data(as_text=True)
    assert _codes(html) == [p1.code]
    html = client.get(f"{QUEUE}?unit={second}").get_data(as_text=True)
    assert _codes(html) == [p2.code]
    assert f'href="{QUEUE}?tab=scheduled&amp;unit={second}"' in html
    assert 'id="unit-picker"' in html
    assert client.get(f"{QUEUE}?unit=99999").status_code == 404
    # An admin may open and act on any unit's pickup.
    assert client.get(p2.url).status_code == 200
    for page in PAGES:
        assert client.get(f"{BASE}{page}?unit={second}").status_code == 200, page


def test_admin_without_any_unit_is_told_so(app: Flask, client: FlaskClient, login_as):
    login_as(Role.ADMIN)
    response = client.get(QUEUE)
    assert response.status_code == 404
    assert "No waste unit yet" in response.get_data(as_text=True)


# --- the queue ----------------------------------------------------------------------------------


def test_queue_tabs_with_counts_and_rows(app: Flask, client: FlaskClient, officer):
    new = _pickup(app, officer.unit_id)
    scheduled = _pickup(app, officer.unit_id, status="scheduled")
    _pickup(app, officer.unit_id, status="weighed")
    html = client.get(QUEUE).get_data(as_text=True)
    assert _codes(html) == [new.code]
    assert re.search(r'tab=new"[^>]*aria-current="page"', html)
    assert re.search(r'New <span class="count">1</span>', html)
    assert re.search(r'Scheduled <span class="count">1</span>', html)
    assert re.search(r'Weighed <span class="count">1</span>', html)
    assert re.search(r'Closed <span class="count">0</span>', html)
    row = client.get(f"{QUEUE}?tab=scheduled").get_data(as_text=True)
    assert _codes(row) == [scheduled.code]
    assert "Lubuk Pakam III (kelurahan)" in row
    assert "3,5 kg" in row  # the estimate: 2.5 kg PET + 1 kg cardboard
    # An unknown tab (an edited URL) shows the new ones rather than an error.
    assert _codes(client.get(f"{QUEUE}?tab=nonsense").get_data(as_text=True)) == [new.code]


def test_the_closed_tab_is_counted_up_to_a_cap(
    app: Flask, client: FlaskClient, officer, monkeypatch: pytest.MonkeyPatch
):
    """A unit's history only grows, so its closed pickups are counted no further than a cap;
    the open tabs stay exact."""
    from portal.jumpa_madu import services

    monkeypatch.setattr(services, "COUNT_CAP", 2)
    for _ in range(3):
        _pickup(app, officer.unit_id, status="cancelled")
        _pickup(app, officer.unit_id)
    html = client.get(QUEUE).get_data(as_text=True)
    assert re.search(r'New <span class="count">3</span>', html)
    assert re.search(r'Closed <span class="count">2\+</span>', html)
    # The list itself is capped no lower than one page: three closed pickups are a known total.
    closed = client.get(f"{QUEUE}?tab=closed").get_data(as_text=True)
    assert "3 pickups" in closed and len(_codes(closed)) == 3
    with app.test_request_context():
        unit = db.session.get(WasteUnit, officer.unit_id)
        assert services.queue_counts(unit)["closed"] == 3  # cap + 1: "more than 2"
        monkeypatch.setattr(services, "COUNT_CAP", 5)
        assert services.queue_counts(unit)["closed"] == 3
    for _ in range(24):
        _pickup(app, officer.unit_id, status="cancelled")
    closed = client.get(f"{QUEUE}?tab=closed").get_data(as_text=True)
    assert "More than 25 pickups." in closed  # 27: the first page does not count them all
    assert "Page 1</span>" in closed and "Page 1 of" not in closed
    last = client.get(f"{QUEUE}?tab=closed&page=2").get_data(as_text=True)
    assert len(_codes(last)) == 2 and "Page 2 of 2" in last


def test_queue_tab_links_swap_only_the_results_with_htmx(app: Flask, client: FlaskClient, officer):
    scheduled = _pickup(app, officer.unit_id, status="scheduled")
    page = client.get(QUEUE).get_data(as_text=True)
    assert 'hx-target="#queue-results"' in page and 'hx-push-url="true"' in page
    assert f'href="{QUEUE}?tab=scheduled"' in page  # works without JavaScript too
    response = client.get(f"{QUEUE}?tab=scheduled", headers={**HTMX, "HX-Target": "queue-results"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="queue-results"')
    assert "<h1>" not in body
    assert _codes(body) == [scheduled.code]
    assert "HX-Target" in response.headers["Vary"]
    boosted = client.get(f"{QUEUE}?tab=scheduled", headers={**HTMX, "HX-Target": "content"})
    assert "<h1>" in boosted.get_data(as_text=True)
    assert "<!doctype html>" not in boosted.get_data(as_text=True)


def _count_queries(app: Flask, client: FlaskClient, url: str) -> int:
    with app.test_request_context():
        engine = db.engine
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def _many(app: Flask, unit_id: int, n: int) -> None:
    """`n` scheduled pickups by different residents in different desa, each with a collector."""
    with app.test_request_context():
        unit = db.session.get(WasteUnit, unit_id)
        officers = [
            make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope, commit=False) for _ in range(2)
        ]
        desa = ["12.07.28.1008", "12.07.28.1009", "12.07.28.1010"]
        for i in range(n):
            make_pickup(
                status="scheduled",
                unit=unit,
                officer=officers[i % 2],
                address={"desa_code": desa[i % 3]},
                commit=False,
            )
        db.session.commit()


def test_queue_uses_a_fixed_number_of_queries(app: Flask, client: FlaskClient, officer):
    url = f"{QUEUE}?tab=scheduled"
    _many(app, officer.unit_id, 3)
    few = _count_queries(app, client, url)
    _many(app, officer.unit_id, 27)
    many = _count_queries(app, client, url)
    assert many == few
    second = client.get(f"{url}&page=2").get_data(as_text=True)
    assert len(_codes(second)) == 5
    assert "Page 2 of 2" in second


# --- one pickup ---------------------------------------------------------------------------------


def test_detail_shows_full_phone_address_map_link_and_allowed_actions(
    app: Flask, client: FlaskClient, officer
):
    with app.test_request_context():
        resident = make_user(
            phone="081234567801", full_name="Pak Budi", address=LUBUK_PAKAM_ADDRESS
        )
        resident_id = resident.id
    with app.test_request_context():
        unit = db.session.get(WasteUnit, officer.unit_id)
        pickup = make_pickup(
            user=db.session.get(User, resident_id),
            unit=unit,
            address={"latitude": 3.555, "longitude": 98.871, "landmark": "Dekat masjid"},
        )
        pickup.resident_note = "Karung di depan pagar"
        db.session.commit()
        url = f"{QUEUE}/{pickup.id}"
    html = client.get(url).get_data(as_text=True)
    assert "Pak Budi" in html
    assert 'href="tel:+6281234567801"' in html and "081234567801" in html
    assert "Jl. Sudirman No. 5" in html and "Dekat masjid" in html
    assert "https://www.google.com/maps/search/?api=1&amp;query=3.555000,98.871000" in html
    assert "Karung di depan pagar" in html
    assert f'href="{url}/schedule"' in html and f'href="{url}/cancel"' in html
    assert f'action="{url}/start"' not in html and f'href="{url}/weigh"' not in html


def test_detail_actions_follow_the_status(app: Flask, client: FlaskClient, officer):
    scheduled = _pickup(app, officer.unit_id, status="scheduled")
    html = client.get(scheduled.url).get_data(as_text=True)
    assert f'action="{scheduled.url}/start"' in html
    assert f'href="{scheduled.url}/schedule"' in html  # reschedule
    on_the_way = _pickup(app, officer.unit_id, status="on_the_way")
    html = client.get(on_the_way.url).get_data(as_text=True)
    assert f'href="{on_the_way.url}/weigh"' in html and f'href="{on_the_way.url}/outcome"' in html
    assert f'href="{on_the_way.url}/cancel"' not in html
    disputed = _pickup(app, officer.unit_id, status="disputed")
    html = client.get(disputed.url).get_data(as_text=True)
    assert f'href="{disputed.url}/weigh"' in html and f'href="{disputed.url}/resolve"' in html
    assert "Timbangan kurang" in html  # the dispute reason
    weighed = _pickup(app, officer.unit_id, status="weighed")
    html = client.get(weighed.url).get_data(as_text=True)
    assert 'id="pickup-actions"' not in html
    assert "Rp 8.730" in html  # the weighing's lines and total
    # An action page the status no longer allows says so.
    refused = client.get(weighed.url + "/schedule")
    assert refused.status_code == 409


def test_schedule_plain_and_htmx(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id)
    form = client.get(pickup.url + "/schedule").get_data(as_text=True)
    assert f'value="{pickup.day.isoformat()}"' in form  # the preferred date
    assert f'<option selected value="{officer.id}">' in form  # the officer goes by default
    bad = post(client, pickup.url + "/schedule", {"day": pickup.day.isoformat(), "window": ""})
    assert bad.status_code == 422
    assert "<title>Error:" in bad.get_data(as_text=True)
    data = {"day": pickup.day.isoformat(), "window": "13:00-15:00", "collector_id": str(officer.id)}
    response = post(client, pickup.url + "/schedule", data)
    assert _location(response) == pickup.url
    assert _status(app, pickup.id) == PickupStatus.SCHEDULED
    # Reschedule, the htmx way.
    data["window"] = "08:00-10:00"
    response = post(client, pickup.url + "/schedule", data, htmx="content")
    assert response.status_code == 204 and _location(response) == pickup.url
    with app.test_request_context():
        assert db.session.get(Pickup, pickup.id).scheduled_window == "08:00-10:00"
    past = dict(data, day=(today_wib() - dt.timedelta(days=1)).isoformat())
    assert post(client, pickup.url + "/schedule", past).status_code == 422


def test_set_off_plain_htmx_and_refused(app: Flask, client: FlaskClient, officer):
    a = _pickup(app, officer.unit_id, status="scheduled")
    assert _location(post(client, a.url + "/start")) == a.url
    assert _status(app, a.id) == PickupStatus.ON_THE_WAY
    b = _pickup(app, officer.unit_id, status="scheduled")
    assert post(client, b.url + "/start", htmx="content").status_code == 204
    assert _status(app, b.id) == PickupStatus.ON_THE_WAY
    # Setting off twice (a double tap) is refused with the reason.
    again = post(client, b.url + "/start")
    assert again.status_code == 422
    assert "cannot become" in again.get_data(as_text=True)
    assert "<title>Error:" in again.get_data(as_text=True)


# --- weighing -----------------------------------------------------------------------------------


def _weights(app: Flask, pet: str = "2,3", kardus: str = "1,5") -> dict[str, str]:
    with app.test_request_context():
        return {f"weight_{category('pet').id}": pet, f"weight_{category('kardus').id}": kardus}


def test_weigh_page_has_a_decimal_input_per_category(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    html = client.get(pickup.url + "/weigh").get_data(as_text=True)
    with app.test_request_context():
        pet_id = category("pet").id
        count = len(jm.unit_prices(db.session.get(WasteUnit, officer.unit_id)))
    assert html.count('inputmode="decimal"') == count
    assert re.search(rf'<input[^>]*name="weight_{pet_id}"[^>]*step="0.1"', html)
    assert 'hx-trigger="input changed delay:400ms"' in html
    assert 'hx-target="#weigh-quote"' in html
    assert 'name="action" value="preview"' in html
    assert "Save weighing" not in html  # only once the amounts have been shown


def test_preview_shows_the_amounts_and_saves_nothing(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    response = post(client, pickup.url + "/weigh", {**_weights(app), "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rp 8.730" in html  # 2.3 kg PET + 1.5 kg cardboard, 90% to the resident
    assert "Rp 7.245" in html and "Rp 1.485" in html and "Rp 9.700" in html
    assert "90%" in html
    assert 'value="2.3"' in html  # typed with a comma, shown back as a number input wants
    assert 'value="save"' in html and "Save weighing" in html
    assert _status(app, pickup.id) == PickupStatus.ON_THE_WAY
    with app.test_request_context():
        assert db.session.get(Pickup, pickup.id).weighings == []


def test_live_quote_returns_only_the_partial_and_never_saves(
    app: Flask, client: FlaskClient, officer
):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    response = post(
        client, pickup.url + "/weigh", {**_weights(app), "action": "save"}, htmx="weigh-quote"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="weigh-quote"')
    assert "Rp 8.730" in body and "<h1>" not in body
    assert _status(app, pickup.id) == PickupStatus.ON_THE_WAY
    bad = post(client, pickup.url + "/weigh", _weights(app, pet="2,35"), htmx="weigh-quote")
    assert bad.status_code == 200 and "steps of 0.1" in bad.get_data(as_text=True)


def _quoted(html: str) -> str:
    match = re.search(r'name="quoted" value="([^"]*)"', html)
    assert match
    return match.group(1)


def test_save_after_the_preview_records_the_weighing_and_credits_nothing_yet(
    app: Flask, client: FlaskClient, officer
):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    weights = _weights(app)
    preview = post(client, pickup.url + "/weigh", {**weights, "action": "preview"})
    data = {
        **weights,
        "quoted": _quoted(preview.get_data(as_text=True)),
        "action": "save",
        "note": "Ditimbang di depan rumah",
        "photos": [(io.BytesIO(tiny_png()), "scale.png"), (io.BytesIO(tiny_png()), "bags.png")],
    }
    response = post(client, pickup.url + "/weigh", data, content_type="multipart/form-data")
    assert _location(response) == pickup.url
    assert _status(app, pickup.id) == PickupStatus.WEIGHED
    assert _balance(app, pickup.user_id) == 0  # paid only once the resident confirms
    with app.test_request_context():
        weighing = db.session.get(Pickup, pickup.id).current_weighing
        assert weighing.resident_amount == 8730 and weighing.gross_amount == 9700
        assert len(weighing.photo_keys) == 2
    html = client.get(pickup.url).get_data(as_text=True)
    assert "Rp 8.730" in html
    photo = client.get(pickup.url + "/weighings/1/photos/1")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert client.get(pickup.url + "/weighings/1/photos/2").status_code == 404
    assert _ledger_ok(app)


def test_save_without_a_matching_preview_shows_the_amounts_first(
    app: Flask, client: FlaskClient, officer
):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    weights = _weights(app)
    preview = post(client, pickup.url + "/weigh", {**weights, "action": "preview"})
    quoted = _quoted(preview.get_data(as_text=True))
    # Weights changed after the check (no JavaScript): not saved, the new amounts are shown.
    changed = post(
        client,
        pickup.url + "/weigh",
        {**_weights(app, pet="3"), "quoted": quoted, "action": "save"},
    )
    assert changed.status_code == 422
    assert "Rp 10.935" in changed.get_data(as_text=True)  # 3 kg PET: 9.450 + 1.485
    assert _status(app, pickup.id) == PickupStatus.ON_THE_WAY
    unchecked = post(client, pickup.url + "/weigh", {**weights, "action": "save"})
    assert unchecked.status_code == 422
    assert _status(app, pickup.id) == PickupStatus.ON_THE_WAY


def test_weigh_refuses_bad_input(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    empty = post(client, pickup.url + "/weigh", {"action": "preview"})
    assert empty.status_code == 422
    assert "<title>Error:" in empty.get_data(as_text=True)
    bad = post(client, pickup.url + "/weigh", {**_weights(app, pet="2.35"), "action": "preview"})
    assert bad.status_code == 422
    assert 'value="2.35"' in bad.get_data(as_text=True)  # what was typed is kept
    weights = _weights(app)
    preview = post(client, pickup.url + "/weigh", {**weights, "action": "preview"})
    data = {
        **weights,
        "quoted": _quoted(preview.get_data(as_text=True)),
        "action": "save",
        "photos": [(io.BytesIO(b"not a picture"), "x.png")],
    }
    refused = post(client, pickup.url + "/weigh", data, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert _status(app, pickup.id) == PickupStatus.ON_THE_WAY
    four = {**data, "photos": [(io.BytesIO(tiny_png()), f"{i}.png") for i in range(4)]}
    refused = post(client, pickup.url + "/weigh", four, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "at most 3 photos" in refused.get_data(as_text=True)


def test_reweigh_of_a_disputed_pickup_keeps_both_weighings(
    app: Flask, client: FlaskClient, officer
):
    pickup = _pickup(app, officer.unit_id, status="disputed")
    weights = _weights(app, pet="2,5")
    preview = post(client, pickup.url + "/weigh", {**weights, "action": "preview"}, htmx="content")
    quoted = _quoted(preview.get_data(as_text=True))
    response = post(
        client,
        pickup.url + "/weigh",
        {**weights, "quoted": quoted, "action": "save"},
        htmx="content",
    )
    assert response.status_code == 204
    assert _status(app, pickup.id) == PickupStatus.WEIGHED
    with app.test_request_context():
        weighings = db.session.get(Pickup, pickup.id).weighings
        assert [w.number for w in weighings] == [1, 2]
        assert weighings[0].superseded_at is not None and weighings[1].superseded_at is None
    html = client.get(pickup.url).get_data(as_text=True)
    assert "Replaced by a re-weigh" in html


# --- outcomes, disputes, cancelling ----------------------------------------------------------


def test_outcome_needs_a_note(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id, status="on_the_way")
    assert client.get(pickup.url + "/outcome").status_code == 200
    bad = post(client, pickup.url + "/outcome", {"outcome": "nobody_home", "note": ""})
    assert bad.status_code == 422
    assert _status(app, pickup.id) == PickupStatus.ON_THE_WAY
    ok = post(client, pickup.url + "/outcome", {"outcome": "nobody_home", "note": "Rumah kosong"})
    assert _location(ok) == pickup.url
    assert _status(app, pickup.id) == PickupStatus.NOBODY_HOME
    other = _pickup(app, officer.unit_id, status="on_the_way")
    response = post(
        client,
        other.url + "/outcome",
        {"outcome": "rejected", "note": "Belum dipilah"},
        htmx="content",
    )
    assert response.status_code == 204
    assert _status(app, other.id) == PickupStatus.REJECTED


def test_resolving_a_dispute_credits_the_wallet_once(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id, status="disputed")
    assert post(client, pickup.url + "/resolve", {"note": ""}).status_code == 422
    ok = post(client, pickup.url + "/resolve", {"note": "Timbangan sudah ditera"})
    assert _location(ok) == pickup.url
    assert _status(app, pickup.id) == PickupStatus.CONFIRMED
    assert _balance(app, pickup.user_id) == 8730
    again = post(
        client, pickup.url + "/resolve", {"note": "Timbangan sudah ditera"}, htmx="content"
    )
    assert again.status_code == 422
    assert _balance(app, pickup.user_id) == 8730
    assert _ledger_ok(app)


def test_cancel_needs_a_reason(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id, status="scheduled")
    assert client.get(pickup.url + "/cancel").status_code == 200
    bad = post(client, pickup.url + "/cancel", {"note": ""})
    assert bad.status_code == 422 and "<title>Error:" in bad.get_data(as_text=True)
    ok = post(client, pickup.url + "/cancel", {"note": "Armada rusak"}, htmx="content")
    assert ok.status_code == 204
    assert _status(app, pickup.id) == PickupStatus.CANCELLED


def test_pickup_photo_is_served_to_the_unit_only(app: Flask, client: FlaskClient, officer):
    pickup = _pickup(app, officer.unit_id)
    assert client.get(pickup.url + "/photo").status_code == 404  # none attached
    with app.test_request_context():
        from portal.core.uploads import get_storage

        row = db.session.get(Pickup, pickup.id)
        row.photo_key = get_storage().save(tiny_png(), ".png", namespace="jumpa_madu")
        row.photo_type = "image/png"
        db.session.commit()
    response = client.get(pickup.url + "/photo")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    assert f'src="{pickup.url}/photo"' in client.get(pickup.url).get_data(as_text=True)


# --- the day list -------------------------------------------------------------------------------


def test_day_list_in_nearest_neighbour_order(app: Flask, client: FlaskClient, officer):
    with app.test_request_context():
        start = jm.unit_point(db.session.get(WasteUnit, officer.unit_id))
    far = _pickup(
        app,
        officer.unit_id,
        status="scheduled",
        address={"latitude": start.lat + 0.03, "longitude": start.lon},
    )
    near = _pickup(
        app,
        officer.unit_id,
        status="on_the_way",
        phone="081234567802",
        address={"latitude": start.lat + 0.01, "longitude": start.lon},
    )
    middle = _pickup(
        app,
        officer.unit_id,
        status="scheduled",
        address={"latitude": start.lat + 0.02, "longitude": start.lon},
    )
    day = far.day
    html = client.get(f"{BASE}/route?date={day.isoformat()}").get_data(as_text=True)
    assert _codes(html) == [near.code, middle.code, far.code]
    assert "1.1 km from the unit" in html
    assert "3.3 km in total" in html
    assert 'href="tel:+6281234567802"' in html and "Call 081234567802" in html
    assert html.count("https://www.google.com/maps/search/?api=1&amp;query=") == 3
    assert f'action="{middle.url}/start"' in html  # quick "set off" for a scheduled one
    assert f'href="{near.url}/weigh"' in html  # quick "weigh" for the one on the way
    previous = (day - dt.timedelta(days=1)).isoformat()
    assert f'href="{BASE}/route?date={previous}"' in html
    # Setting off from the list comes back to the list.
    back = f"{BASE}/route?date={day.isoformat()}"
    response = post(client, middle.url + "/start", {"back": back})
    assert _location(response) == back
    response = post(client, far.url + "/start", {"back": "https://evil.example/"})
    assert _location(response) == far.url
    # A mistyped date shows today.
    assert client.get(f"{BASE}/route?date=kemarin").status_code == 200


# --- withdrawals --------------------------------------------------------------------------------


def test_withdrawals_show_the_full_destination_oldest_first(
    app: Flask, client: FlaskClient, officer
):
    first = _withdrawal(app, officer.unit_id, name="Ibu Pertama")
    second = _withdrawal(app, officer.unit_id, name="Pak Kedua", method=PayoutMethod.CASH)
    paid = _withdrawal(app, officer.unit_id, status="paid", reference="KW-77")
    html = client.get(f"{BASE}/withdrawals").get_data(as_text=True)
    assert "0123456789012" in html  # the full account number: the officer pays it
    assert html.index(first.code) < html.index(second.code)
    recent = html[html.index('id="recent-withdrawals"') :]
    assert paid.code in recent and "KW-77" in recent
    assert f'action="{BASE}/withdrawals/{first.id}/approve"' in html


def test_approve_then_pay_once_even_when_submitted_twice(app: Flask, client: FlaskClient, officer):
    w = _withdrawal(app, officer.unit_id)
    url = f"{BASE}/withdrawals/{w.id}"
    assert _location(post(client, url + "/approve")) == f"{BASE}/withdrawals"
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.APPROVED
    twice = post(client, url + "/approve", htmx="content")
    assert twice.status_code == 422
    assert "<title>Error:" in twice.get_data(as_text=True)
    assert client.get(url + "/pay").status_code == 200
    assert post(client, url + "/pay", {"reference": ""}).status_code == 422
    first = post(client, url + "/pay", {"reference": "TRF-123"})
    assert _location(first) == f"{BASE}/withdrawals"
    second = post(client, url + "/pay", {"reference": "TRF-123"})
    assert second.status_code == 422
    assert "cannot become" in second.get_data(as_text=True)
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.PAID
    assert client.get(url + "/pay").status_code == 409
    with app.test_request_context():
        from portal.jumpa_madu.ledger import LedgerTransaction, TxnKind

        paid = db.session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.kind == TxnKind.WITHDRAWAL_PAID)
        ).all()
        assert len(paid) == 1
        assert ledger.check() == []
    assert _balance(app, w.user_id) == 0


def test_reject_returns_the_held_money(app: Flask, client: FlaskClient, officer):
    w = _withdrawal(app, officer.unit_id, amount=15_000)
    assert _balance(app, w.user_id) == 0  # held while requested
    url = f"{BASE}/withdrawals/{w.id}/reject"
    assert client.get(url).status_code == 200
    assert post(client, url, {"reason": ""}).status_code == 422
    response = post(client, url, {"reason": "Nomor rekening tidak aktif"}, htmx="content")
    assert response.status_code == 204
    assert _withdrawal_status(app, w.id) == WithdrawalStatus.REJECTED
    assert _balance(app, w.user_id) == 15_000
    assert post(client, url, {"reason": "lagi"}).status_code == 422
    assert _balance(app, w.user_id) == 15_000
    assert _ledger_ok(app)


# --- the cash report ----------------------------------------------------------------------------


def test_cash_report_totals(app: Flask, client: FlaskClient, officer):
    _withdrawal(app, officer.unit_id, amount=20_000, status="paid", reference="KW-1")
    _withdrawal(
        app,
        officer.unit_id,
        amount=12_000,
        status="paid",
        reference="KW-2",
        method=PayoutMethod.CASH,
    )
    _withdrawal(app, officer.unit_id, amount=30_000, status="approved")  # not paid: not counted
    pickup = _pickup(app, officer.unit_id, status="confirmed")
    today = today_wib().isoformat()
    html = client.get(f"{BASE}/cash-report?date={today}").get_data(as_text=True)
    assert "KW-1" in html and "KW-2" in html
    totals = html[html.index('id="cash-totals"') :]
    assert "Rp 20.000" in totals and "Rp 12.000" in totals
    assert "Rp 32.000" in totals  # total paid out
    # Credits that day: the three test fundings (Rp 62.000) and the confirmed pickup (Rp 8.730).
    assert "Rp 70.730" in totals
    assert "Rp 30.000" not in html
    assert pickup.code not in html
    yesterday = (today_wib() - dt.timedelta(days=1)).isoformat()
    assert f'href="{BASE}/cash-report?date={yesterday}"' in html
    empty = client.get(f"{BASE}/cash-report?date={yesterday}").get_data(as_text=True)
    assert "KW-1" not in empty


# --- assisted mode ------------------------------------------------------------------------------


def test_assisted_pickup_for_a_new_phone_makes_an_account_and_files_it(
    app: Flask, client: FlaskClient, officer
):
    url = f"{BASE}/assisted"
    assert 'name="consent"' in client.get(url).get_data(as_text=True)
    no_consent = post(client, url, {"stage": "find", "phone": "0813 7777 0001"})
    assert no_consent.status_code == 422
    no_name = post(client, url, {"stage": "find", "phone": "0813 7777 0001", "consent": "y"})
    assert no_name.status_code == 422
    found = post(
        client,
        url,
        {"stage": "find", "phone": "0813 7777 0001", "full_name": "Ibu Lestari", "consent": "y"},
    )
    html = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "Ibu Lestari" in html and "0813•••••001" in html
    assert 'name="phone" type="hidden" value="+6281377770001"' in html
    assert 'value="pickup"' in html
    with app.test_request_context():
        resident = db.session.scalar(select(User).where(User.phone == "+6281377770001"))
        assert resident is not None and resident.full_name == "Ibu Lestari"
        unit = db.session.get(WasteUnit, officer.unit_id)
        day = jm.pickup_days_ahead(unit)[0].isoformat()
        pet = category("pet").id
    data = {
        "stage": "pickup",
        "phone": "+6281377770001",
        "kecamatan": LUBUK_PAKAM_ADDRESS["kecamatan_code"],
        "desa": LUBUK_PAKAM_ADDRESS["desa_code"],
        "street": "Gg. Mawar 3",
        f"weight_{pet}": "1",
        "preferred_date": day,
        "window": "08:00-10:00",
    }
    too_little = post(client, url, data)
    assert too_little.status_code == 422  # below the unit's 3 kg minimum
    assert "Ibu Lestari" in too_little.get_data(as_text=True)
    response = post(client, url, {**data, f"weight_{pet}": "4,5"})
    location = _location(response)
    assert re.fullmatch(rf"{QUEUE}/\d+", location)
    assert "0813" not in location and "6281" not in location
    with app.test_request_context():
        pickup = db.session.get(Pickup, int(location.rsplit("/", 1)[1]))
        assert pickup.user.full_name == "Ibu Lestari"
        assert pickup.assisted_by_id == officer.id and pickup.assisted_consent_at is not None
        assert pickup.unit_id == officer.unit_id
        assert pickup.estimated_g == 4500
    assert "Filed at the counter by" in client.get(location).get_data(as_text=True)


def test_assisted_pickup_for_a_known_resident_prefills_the_address(
    app: Flask, client: FlaskClient, officer
):
    with app.test_request_context():
        make_user(phone="081377770002", full_name="Pak Rahmat", address=LUBUK_PAKAM_ADDRESS)
    found = post(
        client,
        f"{BASE}/assisted",
        {"stage": "find", "phone": "081377770002", "consent": "y"},
        htmx="content",
    )
    html = found.get_data(as_text=True)
    assert "Pak Rahmat" in html
    assert 'value="Jl. Sudirman No. 5"' in html
    lost = post(client, f"{BASE}/assisted", {"stage": "pickup", "phone": "+6281300000000"})
    assert lost.status_code == 422


def test_admin_without_a_unit_cannot_file_assisted_pickups(
    app: Flask, client: FlaskClient, login_as
):
    login_as(Role.ADMIN)
    page = client.get(f"{BASE}/assisted").get_data(as_text=True)
    assert 'name="consent"' not in page
    response = post(client, f"{BASE}/assisted", {"stage": "find", "phone": "081377770003"})
    assert response.status_code == 403


def test_a_second_client_for_the_officer_can_log_in(app: Flask, officer):
    """The fixture's officer really holds the unit's scope (guards the other tests' premise)."""
    other = app.test_client()
    assert log_in(other, officer.email).status_code == 303
    assert other.get(QUEUE).status_code == 200
