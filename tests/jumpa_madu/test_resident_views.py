"""Jumpa Madu for residents: the service page, requesting a pickup, following it, the wallet.

Pages are read in English (the `lang` cookie), so assertions do not depend on the Indonesian
catalogue; most of them look at status codes, amounts, codes, ids, names and hrefs anyway.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import PayoutMethod, Pickup, PickupStatus, Withdrawal
from portal.jumpa_madu.views import STATEMENT_PER_PAGE
from tests.conftest import post
from tests.factories import (
    FAR_ADDRESS,
    LUBUK_PAKAM_ADDRESS,
    category,
    fund_wallet,
    make_pickup,
    make_unit,
    make_user,
    tiny_png,
)

NEW = "/jumpa-madu/pickups/new"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@pytest.fixture
def resident(login_as):
    return login_as(full_name="Siti Aminah", address=LUBUK_PAKAM_ADDRESS)


def _user(app, user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def _unit(app, **fields):
    with app.test_request_context():
        unit = make_unit(**fields)
        return (
            unit.id,
            unit.name,
            jm.pickup_days_ahead(unit)[0],
            category("pet").id,
            category("kardus").id,
        )


def _pickup(app, owner_id: int | None = None, **kw) -> int:
    with app.test_request_context():
        user = _user(app, owner_id) if owner_id else None
        return make_pickup(user=user, **kw).id


def _address_form(**change: str) -> dict:
    data = {
        "kecamatan": LUBUK_PAKAM_ADDRESS["kecamatan_code"],
        "desa": LUBUK_PAKAM_ADDRESS["desa_code"],
        "street": "Jl. Sudirman No. 5",
        "rt": "1",
        "rw": "2",
        "landmark": "Dekat masjid",
        "latitude": "",
        "longitude": "",
    }
    data.update(change)
    return data


def _far_address_form() -> dict:
    return _address_form(
        kecamatan=FAR_ADDRESS["kecamatan_code"],
        desa=FAR_ADDRESS["desa_code"],
        street=FAR_ADDRESS["street"],
        rt="",
        rw="",
    )


def _send_form(unit_id: int, day, weights: dict[int, str], **change: str) -> dict:
    data = _address_form(
        action="send",
        unit_id=str(unit_id),
        preferred_date=day.isoformat(),
        window="08:00-10:00",
        note="Karung di samping pagar",
    )
    data.update({f"weight_{cid}": value for cid, value in weights.items()})
    data.update(change)
    return data


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- the service page and the placeholder prices page --------------------------------------------


def test_index_is_public_and_links_to_the_flow(client, app):
    _unit(app)
    response = client.get("/jumpa-madu/")
    page = text(response)
    assert response.status_code == 200
    assert 'href="/jumpa-madu/pickups/new"' in page
    assert 'href="/jumpa-madu/prices"' in page
    assert 'href="/jumpa-madu/wallet"' in page
    assert "Kardus" in page and "Minyak jelantah" in page and "(per L)" in page
    assert "jm-available" not in page  # nothing personal for visitors


def test_index_boosted_navigation_gets_only_main(client, app):
    response = client.get("/jumpa-madu/", headers={"HX-Request": "true", "HX-Target": "content"})
    assert response.status_code == 200
    assert "<!doctype html>" not in text(response)
    assert '<main id="content"' in text(response)
    assert "HX-Target" in response.headers["Vary"]


def test_index_shows_a_residents_balance_and_open_pickups(client, app, resident):
    with app.test_request_context():
        user = _user(app, resident.id)
        fund_wallet(user, 12_500)
        make_pickup(user=user)
        make_pickup(user=user, status="cancelled")
    response = client.get("/jumpa-madu/")
    page = text(response)
    assert re.search(r'id="jm-available">Rp 12\.500<', page)
    assert re.search(r'id="jm-open-pickups">1<', page)
    assert response.headers["Cache-Control"] == "no-store"


# --- requesting a pickup: finding the unit ----------------------------------------------------


def test_request_needs_login(client):
    response = client.get(NEW)
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


def test_profile_address_proposes_the_nearest_covering_unit(client, app, resident):
    unit_id, name, _day, pet, _kardus = _unit(app)
    response = client.get(NEW)
    page = text(response)
    assert response.status_code == 200
    assert 'value="Jl. Sudirman No. 5"' in page  # prefilled from the profile
    assert name in page
    assert re.search(rf'name="unit_id" value="{unit_id}"[^>]*checked', page)
    assert f'name="weight_{pet}"' in page and "Rp 3.500" in page
    assert 'name="action" value="send"' in page
    assert 'id="pickup-unit-part"' in page


def test_without_a_profile_address_the_address_comes_first(client, app, login_as):
    _unit(app)
    login_as()
    page = text(client.get(NEW))
    assert 'name="action" value="find"' in page
    assert 'name="unit_id"' not in page
    assert 'value="send"' not in page


def test_find_units_re_renders_the_same_page_with_the_units(client, app, login_as):
    _unit_id, name, day, pet, _ = _unit(app)
    login_as()
    response = post(client, NEW, _address_form(action="find"))
    page = text(response)
    assert response.status_code == 200
    assert name in page and f'name="weight_{pet}"' in page
    assert 'value="Dekat masjid"' in page  # the address typed stays in the form
    assert f'value="{day.isoformat()}"' in page and 'value="08:00-10:00"' in page
    # The address travels in the POST body only.
    assert 'action="/jumpa-madu/pickups/new"' in page


def test_find_with_an_incomplete_address_is_422(client, app, login_as):
    _unit(app)
    login_as()
    response = post(client, NEW, _address_form(action="find", street=""))
    assert response.status_code == 422
    page = text(response)
    assert "error-summary" in page and 'href="#street"' in page
    assert 'name="unit_id"' not in page


def test_no_covering_unit_lists_the_nearest_for_drop_off(client, app, login_as):
    _unit_id, name, *_ = _unit(app)
    login_as()
    response = post(client, NEW, {**_far_address_form(), "action": "find"})
    page = text(response)
    assert response.status_code == 200
    assert 'id="no-unit"' in page
    assert name in page and 'href="tel:+62' in page and "Lubuk Pakam III" in page
    assert 'name="unit_id"' not in page
    assert 'value="send"' not in page  # the rest of the form is not offered


def test_sending_to_an_address_no_unit_covers_is_refused(client, app, login_as):
    unit_id, _name, day, pet, _ = _unit(app)
    login_as()
    data = {**_send_form(unit_id, day, {pet: "5"}), **_far_address_form(), "action": "send"}
    response = post(client, NEW, data)
    assert response.status_code == 422
    assert 'id="no-unit"' in text(response)
    assert _count(app, Pickup) == 0


def _two_units(app):
    with app.test_request_context():
        a = make_unit(name="Bank Sampah Anggrek")
        b = make_unit(name="Bank Sampah Bougenvil", time_windows="15:00-17:00")
        return a.id, b.id


def test_changing_the_unit_without_javascript(client, app, login_as):
    _a, b = _two_units(app)
    login_as()
    response = post(client, NEW, _address_form(action="unit", unit_id=str(b)))
    page = text(response)
    assert response.status_code == 200
    assert re.search(rf'name="unit_id" value="{b}"[^>]*checked', page)
    assert 'value="15:00-17:00"' in page and 'value="08:00-10:00"' not in page
    assert "Show this unit" in page  # the no-JavaScript button


def test_changing_the_unit_with_htmx_swaps_only_the_unit_part(client, app, login_as):
    _a, b = _two_units(app)
    login_as()
    response = post(
        client, NEW, _address_form(action="unit", unit_id=str(b)), htmx="pickup-unit-part"
    )
    page = text(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="pickup-unit-part">')
    assert "<main" not in page and "address-widget" not in page
    assert 'value="15:00-17:00"' in page and "Bank Sampah Bougenvil" in page
    assert "HX-Target" in response.headers["Vary"]
    # The unit radios ask for exactly this partial.
    full = text(post(client, NEW, _address_form(action="find")))
    assert 'hx-target="#pickup-unit-part"' in full and 'hx-post="/jumpa-madu/pickups/new"' in full


# --- requesting a pickup: sending it ----------------------------------------------------------


def test_sending_a_pickup(client, app, resident):
    unit_id, _name, day, pet, kardus = _unit(app)
    response = post(client, NEW, _send_form(unit_id, day, {pet: "2,5", kardus: "1.5"}))
    assert response.status_code == 303
    match = re.fullmatch(r"/jumpa-madu/pickups/(\d+)", response.headers["Location"])
    assert match
    with app.app_context():
        pickup = db.session.get(Pickup, int(match.group(1)))
        assert pickup.user_id == resident.id and pickup.unit_id == unit_id
        assert pickup.status == PickupStatus.REQUESTED
        assert {e.category_id: e.weight_g for e in pickup.estimates} == {pet: 2500, kardus: 1500}
        assert pickup.preferred_date == day and pickup.preferred_window == "08:00-10:00"
        assert pickup.landmark == "Dekat masjid" and pickup.rt == "001"
        assert pickup.resident_note == "Karung di samping pagar"
        code = pickup.code
    page = text(client.get(response.headers["Location"]))
    assert code in page and "flash-success" in page


def test_sending_a_pickup_with_htmx_redirects_by_header(client, app, resident):
    unit_id, _name, day, pet, _ = _unit(app)
    response = post(client, NEW, _send_form(unit_id, day, {pet: "4"}), htmx="content")
    assert response.status_code == 204
    assert "/jumpa-madu/pickups/" in response.headers["HX-Location"]


def test_below_the_minimum_is_422_on_the_estimates_and_keeps_everything(client, app, resident):
    unit_id, _name, day, pet, kardus = _unit(app)
    response = post(
        client,
        NEW,
        _send_form(unit_id, day, {pet: "1,5", kardus: "0,5"}, landmark="Rumah cat hijau"),
    )
    page = text(response)
    assert response.status_code == 422
    assert page.count("Error:") >= 1 and 'href="#estimates"' in page
    assert re.search(r'id="estimates" class="jm-estimates field-invalid"', page)
    assert "3 kg" in page and "2 kg" in page  # the minimum and what was entered
    assert 'value="1,5"' in page and 'value="0,5"' in page
    assert 'value="Rumah cat hijau"' in page and "Karung di samping pagar" in page
    assert re.search(rf'value="{day.isoformat()}"[^>]*checked', page)
    assert _count(app, Pickup) == 0


def test_a_weight_that_is_not_a_number_is_refused(client, app, resident):
    unit_id, _name, day, pet, _ = _unit(app)
    response = post(client, NEW, _send_form(unit_id, day, {pet: "dua kilo"}))
    assert response.status_code == 422
    assert f'href="#weight_{pet}"' in text(response)
    assert 'value="dua kilo"' in text(response)


def test_missing_date_and_window_are_refused(client, app, resident):
    unit_id, _name, day, pet, _ = _unit(app)
    response = post(client, NEW, _send_form(unit_id, day, {pet: "4"}, preferred_date="", window=""))
    page = text(response)
    assert response.status_code == 422
    assert 'href="#preferred_date"' in page and 'href="#window"' in page


def test_a_unit_that_does_not_cover_the_address_is_refused(client, app, resident):
    unit_id, _name, day, pet, _ = _unit(app)
    with app.test_request_context():
        far = make_unit(**{**FAR_ADDRESS, "landmark": None, "latitude": None, "longitude": None})
        far_id = far.id
    response = post(client, NEW, _send_form(far_id, day, {pet: "4"}))
    assert response.status_code == 422
    assert 'href="#unit_id"' in text(response)
    assert re.search(rf'name="unit_id" value="{unit_id}"[^>]*checked', text(response))
    assert _count(app, Pickup) == 0


def test_photo_is_stored_and_served_only_to_its_owner(client, app, resident):
    unit_id, _name, day, pet, _ = _unit(app)
    data = _send_form(unit_id, day, {pet: "4"})
    data["photo"] = (io.BytesIO(tiny_png()), "sampah.png")
    response = post(client, NEW, data, content_type="multipart/form-data")
    assert response.status_code == 303
    url = response.headers["Location"] + "/photo"
    assert 'href="' + url + '"' in text(client.get(response.headers["Location"]))
    photo = client.get(url)
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert "no-store" in photo.headers["Cache-Control"]
    client.set_cookie("lang", "en")
    other = app.test_client()
    with app.app_context():
        ident = make_user().email
    from tests.conftest import log_in

    assert log_in(other, ident).status_code == 303
    assert other.get(url).status_code == 404


def test_a_photo_that_is_not_an_image_is_refused_and_nothing_saved(client, app, resident):
    unit_id, _name, day, pet, _ = _unit(app)
    data = _send_form(unit_id, day, {pet: "4"})
    data["photo"] = (io.BytesIO(b"not an image at all"), "sampah.png")
    response = post(client, NEW, data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'href="#photo"' in text(response)
    assert _count(app, Pickup) == 0


# --- following a pickup -------------------------------------------------------------------------


def test_my_pickups_lists_mine_newest_first(client, app, resident):
    first = _pickup(app, resident.id)
    second = _pickup(app, resident.id, status="scheduled")
    _pickup(app)  # someone else's
    page = text(client.get("/jumpa-madu/pickups"))
    assert page.index(f"JM-{second:06d}") < page.index(f"JM-{first:06d}")
    assert page.count('class="jm-card"') == 2
    assert "3,5 kg" in page  # 2.5 kg PET + 1 kg cardboard estimated


def test_pickup_page_polls_until_final(client, app, resident):
    pickup_id = _pickup(app, resident.id, status="scheduled")
    url = f"/jumpa-madu/pickups/{pickup_id}"
    response = client.get(url)
    page = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert 'id="pickup-status"' in page and 'hx-trigger="every ' in page
    assert 'href="tel:+62' in page and "Jl. Sudirman No. 5" in page

    partial = client.get(url, headers={"HX-Request": "true", "HX-Target": "pickup-status"})
    body = text(partial)
    assert body.lstrip().startswith('<section id="pickup-status"')
    assert "<main" not in body

    boosted = client.get(url, headers={"HX-Request": "true", "HX-Target": "content"})
    assert '<main id="content"' in text(boosted) and "<!doctype" not in text(boosted)

    done = _pickup(app, resident.id, status="cancelled")
    assert "hx-trigger" not in text(
        client.get(
            f"/jumpa-madu/pickups/{done}",
            headers={"HX-Request": "true", "HX-Target": "pickup-status"},
        )
    )


def test_another_residents_pickup_is_404_everywhere(client, app, resident):
    other = _pickup(app, status="weighed")
    base = f"/jumpa-madu/pickups/{other}"
    assert client.get(base).status_code == 404
    assert client.get(base + "/dispute").status_code == 404
    assert client.get(base + "/photo").status_code == 404
    assert post(client, base + "/confirm").status_code == 404
    assert post(client, base + "/cancel").status_code == 404
    assert post(client, base + "/dispute", {"reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(Pickup, other).status == PickupStatus.WEIGHED


def test_weighed_pickup_shows_the_lines_and_confirm_credits_the_wallet(client, app, resident):
    pickup_id = _pickup(app, resident.id, status="weighed")
    url = f"/jumpa-madu/pickups/{pickup_id}"
    page = text(client.get(url))
    assert "Rp 7.245" in page and "Rp 1.485" in page and "Rp 8.730" in page
    assert "2,3 kg" in page and "Rp 3.500 per kg" in page
    assert 'id="confirm-due"' in page
    assert f'action="{url}/confirm"' in page and f'href="{url}/dispute"' in page

    response = post(client, url + "/confirm")
    assert response.status_code == 303 and response.headers["Location"] == url
    with app.app_context():
        assert db.session.get(Pickup, pickup_id).status == PickupStatus.CONFIRMED
        assert ledger.wallet_balance(resident.id) == 8730
    wallet = text(client.get("/jumpa-madu/wallet"))
    assert re.search(r'id="wallet-available">Rp 8\.730<', wallet)
    # A second confirm (double submit) credits nothing more.
    post(client, url + "/confirm")
    with app.app_context():
        assert ledger.wallet_balance(resident.id) == 8730


def test_confirm_with_htmx(client, app, resident):
    pickup_id = _pickup(app, resident.id, status="weighed")
    response = post(client, f"/jumpa-madu/pickups/{pickup_id}/confirm", htmx="content")
    assert response.status_code == 204 and "HX-Location" in response.headers


def test_dispute_needs_a_reason(client, app, resident):
    pickup_id = _pickup(app, resident.id, status="weighed")
    url = f"/jumpa-madu/pickups/{pickup_id}/dispute"
    page = text(client.get(url))
    assert 'name="reason"' in page and "Rp 8.730" in page

    response = post(client, url, {"reason": "  "})
    assert response.status_code == 422
    assert 'href="#reason"' in text(response)

    response = post(client, url, {"reason": "Kardus saya 2 kg"}, htmx="content")
    assert response.status_code == 204
    with app.app_context():
        pickup = db.session.get(Pickup, pickup_id)
        assert pickup.status == PickupStatus.DISPUTED
        assert pickup.dispute_reason == "Kardus saya 2 kg"
        assert ledger.wallet_balance(resident.id) == 0


def test_dispute_page_of_a_pickup_not_weighed_goes_back(client, app, resident):
    pickup_id = _pickup(app, resident.id)
    response = client.get(f"/jumpa-madu/pickups/{pickup_id}/dispute")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/jumpa-madu/pickups/{pickup_id}"


def test_cancel_before_the_collector_sets_off(client, app, resident):
    pickup_id = _pickup(app, resident.id, status="scheduled")
    url = f"/jumpa-madu/pickups/{pickup_id}"
    assert f'action="{url}/cancel"' in text(client.get(url))
    response = post(client, url + "/cancel")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Pickup, pickup_id).status == PickupStatus.CANCELLED
    assert "flash-success" in text(client.get(url))


def test_cancel_is_refused_once_on_the_way(client, app, resident):
    pickup_id = _pickup(app, resident.id, status="on_the_way")
    url = f"/jumpa-madu/pickups/{pickup_id}"
    assert f'action="{url}/cancel"' not in text(client.get(url))
    response = post(client, url + "/cancel")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Pickup, pickup_id).status == PickupStatus.ON_THE_WAY
    assert "flash-error" in text(client.get(url))


def test_reweighed_pickup_shows_the_earlier_weighing_collapsed(client, app, resident):
    with app.test_request_context():
        pickup = make_pickup(user=_user(app, resident.id), status="disputed")
        officer = db.session.get(User, pickup.events[-2].actor_id)
        jm.record_weighing(pickup, officer, {category("pet").id: 2500, category("kardus").id: 1500})
        db.session.commit()
        pickup_id = pickup.id
    page = text(client.get(f"/jumpa-madu/pickups/{pickup_id}"))
    assert page.count('<details class="jm-earlier">') == 1
    assert "Rp 8.730" in page  # the first weighing, replaced
    assert "Rp 9.360" in page  # 2.5 kg x 3.500 x 90% + 1.5 kg x 1.100 x 90% = 7.875 + 1.485


# --- the wallet -----------------------------------------------------------------------------------


def test_wallet_is_personal_and_not_stored(client, app, resident):
    response = client.get("/jumpa-madu/wallet")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert re.search(r'id="wallet-available">Rp 0<', text(response))


def test_statement_running_balance_after_credit_and_withdrawal(client, app, resident):
    with app.test_request_context():
        unit = make_unit()
        fund_wallet(_user(app, resident.id), 20_000, unit)
        unit_id = unit.id
    response = post(
        client,
        "/jumpa-madu/wallet/withdraw",
        {"amount": "12.500", "unit_id": str(unit_id), "method": "cash"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/jumpa-madu/wallet"
    page = text(client.get("/jumpa-madu/wallet"))
    assert re.search(r'id="wallet-available">Rp 7\.500<', page)
    assert re.search(r'id="wallet-withdrawing">Rp 12\.500<', page)
    rows = re.findall(
        r'data-label="Amount">([^<]+)</td>\s*<td class="num" data-label="Balance">([^<]+)<', page
    )
    assert rows == [("-Rp 12.500", "Rp 7.500"), ("+Rp 20.000", "Rp 20.000")]
    assert "TRK-" in page and "flash-success" in page


def test_statement_pages_swap_with_htmx(client, app, resident):
    with app.test_request_context():
        user, unit = _user(app, resident.id), make_unit()
        for _ in range(STATEMENT_PER_PAGE + 1):
            fund_wallet(user, 1000, unit, commit=False)
        db.session.commit()
    page = text(client.get("/jumpa-madu/wallet"))
    assert page.count('data-label="Balance"') == STATEMENT_PER_PAGE
    assert 'href="/jumpa-madu/wallet?page=2"' in page and 'hx-target="#statement"' in page
    response = client.get(
        "/jumpa-madu/wallet?page=2", headers={"HX-Request": "true", "HX-Target": "statement"}
    )
    body = text(response)
    assert body.lstrip().startswith('<div id="statement">')
    assert body.count('data-label="Balance"') == 1 and "Rp 1.000</td>" in body
    assert response.headers["Cache-Control"] == "no-store"


def test_wallet_shows_monthly_totals_and_impact(client, app, resident):
    _confirmed = _pickup(app, resident.id, status="confirmed")
    page = text(client.get("/jumpa-madu/wallet"))
    assert 'id="monthly-totals"' in page and "Rp 8.730" in page
    assert 'id="impact"' in page and "2,3 kg" in page and "1,5 kg" in page
    # 2.3 kg PET x 1240 g + 1.5 kg cardboard x 3460 g = 2852 + 5190 = 8042 g, shown to 0.1 kg
    assert "about 8 kg CO2e" in page and "US EPA WARM" in page


# --- withdrawing ----------------------------------------------------------------------------------


def test_withdraw_page_shows_balance_minimum_and_every_method(client, app, resident):
    with app.test_request_context():
        fund_wallet(_user(app, resident.id), 15_000)
    response = client.get("/jumpa-madu/wallet/withdraw")
    page = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert re.search(r'id="wallet-available">Rp 15\.000<', page)
    assert re.search(r'id="withdrawal-minimum">Rp 10\.000<', page)
    for name in (
        "bank_name",
        "account_number",
        "account_holder",
        "ewallet_provider",
        "ewallet_number",
    ):
        assert f'name="{name}"' in page
    assert re.search(r'name="method" value="cash"\s+checked', page)
    assert "ShopeePay" in page


def test_withdrawal_over_the_balance_is_refused_and_nothing_held(client, app, resident):
    with app.test_request_context():
        unit = make_unit()
        fund_wallet(_user(app, resident.id), 15_000, unit)
        unit_id = unit.id
    response = post(
        client,
        "/jumpa-madu/wallet/withdraw",
        {"amount": "20.000", "unit_id": str(unit_id), "method": "cash"},
    )
    assert response.status_code == 422
    page = text(response)
    assert 'href="#amount"' in page and 'value="20.000"' in page
    assert _count(app, Withdrawal) == 0
    with app.app_context():
        assert ledger.wallet_balance(resident.id) == 15_000


def test_withdrawal_below_the_minimum_and_bad_amounts(client, app, resident):
    with app.test_request_context():
        unit = make_unit()
        fund_wallet(_user(app, resident.id), 50_000, unit)
        unit_id = unit.id
    for amount in ("5.000", "10,5", "sepuluh ribu", ""):
        response = post(
            client,
            "/jumpa-madu/wallet/withdraw",
            {"amount": amount, "unit_id": str(unit_id), "method": "cash"},
        )
        assert response.status_code == 422, amount
        assert 'href="#amount"' in text(response)
    assert _count(app, Withdrawal) == 0


def test_bank_fields_are_needed_only_for_a_bank_transfer(client, app, resident):
    with app.test_request_context():
        unit = make_unit()
        fund_wallet(_user(app, resident.id), 50_000, unit)
        unit_id = unit.id
    url = "/jumpa-madu/wallet/withdraw"
    response = post(client, url, {"amount": "10000", "unit_id": str(unit_id), "method": "bank"})
    page = text(response)
    assert response.status_code == 422
    for name in ("bank_name", "account_number", "account_holder"):
        assert f'href="#{name}"' in page
    assert 'href="#ewallet_number"' not in page

    response = post(
        client,
        url,
        {"amount": "10000", "unit_id": str(unit_id), "method": "bank", "bank_name": "BRI",
         "account_number": "12", "account_holder": "Siti Aminah"},
    )  # fmt: skip
    assert response.status_code == 422 and 'href="#account_number"' in text(response)

    response = post(
        client,
        url,
        {"amount": "10000", "unit_id": str(unit_id), "method": "ewallet",
         "ewallet_provider": "DANA", "ewallet_number": "0812 9876 5432",
         "bank_name": "ignored"},
    )  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        withdrawal = db.session.scalar(select(Withdrawal))
        assert withdrawal.amount == 10_000 and withdrawal.bank_name is None
        assert withdrawal.ewallet_number == "+6281298765432"
        withdrawal_id = withdrawal.id
    page = text(client.get("/jumpa-madu/wallet"))
    assert "DANA 0812" in page and "6281298765432" not in page and "081298765432" not in page
    show = client.get(f"/jumpa-madu/wallet/withdrawals/{withdrawal_id}")
    assert show.status_code == 200 and show.headers["Cache-Control"] == "no-store"
    assert f"TRK-{withdrawal_id:06d}" in text(show) and "Rp 10.000" in text(show)


def test_withdrawal_with_htmx_redirects_by_header(client, app, resident):
    with app.test_request_context():
        unit = make_unit()
        fund_wallet(_user(app, resident.id), 50_000, unit)
        unit_id = unit.id
    response = post(
        client,
        "/jumpa-madu/wallet/withdraw",
        {"amount": "Rp 10.000", "unit_id": str(unit_id), "method": "cash"},
        htmx="content",
    )
    assert response.status_code == 204
    assert "/jumpa-madu/wallet" in response.headers["HX-Location"]
    with app.app_context():
        assert ledger.wallet_balance(resident.id) == 40_000


def test_another_residents_withdrawal_is_404(client, app, resident):
    with app.test_request_context():
        owner, unit = make_user(), make_unit()
        fund_wallet(owner, 20_000, unit)
        withdrawal = jm.request_withdrawal(owner, unit, 10_000, PayoutMethod.CASH)
        db.session.commit()
        withdrawal_id = withdrawal.id
    assert client.get(f"/jumpa-madu/wallet/withdrawals/{withdrawal_id}").status_code == 404
    assert "TRK-" not in text(client.get("/jumpa-madu/wallet"))


def test_wallet_shows_the_reference_of_a_paid_and_the_reason_of_a_rejected_withdrawal(
    client, app, resident
):
    from portal.accounts.models import Role

    with app.test_request_context():
        user, unit = _user(app, resident.id), make_unit()
        officer = make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope, commit=False)
        fund_wallet(user, 50_000, unit)
        paid = jm.request_withdrawal(user, unit, 10_000, PayoutMethod.CASH)
        jm.approve_withdrawal(paid, officer)
        jm.pay_withdrawal(paid, officer, "KW-0042")
        rejected = jm.request_withdrawal(
            user, unit, 15_000, PayoutMethod.BANK, bank_name="BRI",
            account_number="1234567890123", account_holder="Siti Aminah",
        )  # fmt: skip
        jm.reject_withdrawal(rejected, officer, "Nama rekening tidak cocok")
        db.session.commit()
    page = text(client.get("/jumpa-madu/wallet"))
    assert "KW-0042" in page and "Nama rekening tidak cocok" in page
    assert "1234567890123" not in page and "BRI 1234" in page  # masked
    assert re.search(r'id="wallet-available">Rp 40\.000<', page)
