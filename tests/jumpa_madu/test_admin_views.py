"""Jumpa Madu administration: units, categories, a unit's prices (admins and its own officers).

Pages are read in English (the `lang` cookie), so assertions do not depend on the catalogue.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.core.errors import DomainError
from portal.core.time import as_utc, utcnow
from portal.extensions import db
from portal.jumpa_madu import services
from portal.jumpa_madu.models import Measure, Price, UnitType, WasteCategory, WasteUnit
from tests.conftest import csrf_token, log_in, post
from tests.factories import category, make_unit, make_user

ADMIN = "/admin/jumpa-madu"

UNIT_FORM = {
    "name": "Bank Sampah Melati",
    "type": "bank_sampah",
    "kecamatan": "12.07.28",
    "desa": "12.07.28.1008",
    "street": "Jl. Melati No. 3",
    "rt": "",
    "rw": "",
    "landmark": "",
    "latitude": "",
    "longitude": "",
    "radius_km": "7,5",
    "pickup_days": ["0", "2", "4"],
    "time_windows": "13:00-15:00\r\n08:00-10:00\r\n",
    "min_weight_kg": "3",
    "phone": "0812 6000 0200",
    "resident_share_pct": "85",
    "is_active": "y",
}


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


@pytest.fixture
def admin(login_as):  # type: ignore[no-untyped-def]
    return login_as(Role.ADMIN)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _unit_ids(app: Flask, count: int = 2) -> list[int]:
    with app.test_request_context():
        return [make_unit().id for _ in range(count)]


def _urls(app: Flask, unit_id: int, category_id: int) -> list[tuple[str, str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("jumpa_madu_admin."):
            continue
        url = rule.rule.replace("<int:unit_id>", str(unit_id))
        url = url.replace("<int:category_id>", str(category_id))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, url))
    return urls


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [None, Role.SADOKU_OFFICER, Role.SADOKU_COURIER, Role.WASTE_OFFICER]
)
def test_everyone_but_admins_and_unit_officers_gets_403(app: Flask, role: Role | None):
    """A waste officer without a unit is refused too: they belong nowhere yet."""
    unit_id = _unit_ids(app, 1)[0]
    client = app.test_client()
    with app.test_request_context():
        cat_id = category("pet").id
        email = make_user(roles=(role,) if role else ()).email
    assert log_in(client, email).status_code == 303
    token = csrf_token(client)
    urls = _urls(app, unit_id, cat_id)
    assert len(urls) == 13
    for endpoint, method, url in urls:
        status = client.open(url, method=method, data={"csrf_token": token}).status_code
        assert status == 403, (role, endpoint, method, status)


def test_unit_officer_manages_only_their_own_units_prices(app: Flask, client, login_as):
    own, other = _unit_ids(app)
    with app.test_request_context():
        cat_id = category("pet").id
    login_as(Role.WASTE_OFFICER, scope=str(own))
    token = csrf_token(client)
    for endpoint, method, url in _urls(app, own, cat_id):
        status = client.open(url, method=method, data={"csrf_token": token}).status_code
        if endpoint.endswith((".unit_prices", ".unit_price_edit")):
            expected = 422 if method == "POST" else 200  # the empty form comes back
        else:
            expected = 403
        assert status == expected, (endpoint, method, status)
    for endpoint, method, url in _urls(app, other, cat_id):
        if endpoint.endswith((".unit_prices", ".unit_price_edit")):
            status = client.open(url, method=method, data={"csrf_token": token}).status_code
            assert status == 404, (endpoint, method, status)
    response = post(client, f"{ADMIN}/units/{own}/prices/{cat_id}", {"price": "4.000"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{ADMIN}/units/{own}/prices")
    page = text(client.get(f"{ADMIN}/units/{own}/prices"))
    assert "Rp 4.000" in page
    assert f'href="{ADMIN}/units/{own}/edit"' not in page  # the unit's settings are admins'
    response = post(client, f"{ADMIN}/units/{other}/prices/{cat_id}", {"price": "4000"})
    assert response.status_code == 404
    with app.test_request_context():
        assert services.unit_prices(db.session.get(WasteUnit, other))[cat_id].price == 3500


# --- units --------------------------------------------------------------------------------------


def test_admin_adds_a_unit_which_starts_from_the_default_prices(app: Flask, client, admin):
    form = text(client.get(f"{ADMIN}/units/new"))
    for name in ("name", "type", "kecamatan", "street", "radius_km", "time_windows", "phone"):
        assert f'name="{name}"' in form
    assert form.count('name="pickup_days"') == 7
    assert 'value="90"' in form and 'value="3.0"' in form  # share and minimum weight defaults
    with app.test_request_context():
        services.seed_categories()
        db.session.commit()
    response = post(client, f"{ADMIN}/units/new", UNIT_FORM)
    assert response.status_code == 303, text(response)[:2000]
    with app.test_request_context():
        unit = db.session.scalar(select(WasteUnit).where(WasteUnit.name == "Bank Sampah Melati"))
        assert unit.type == UnitType.BANK_SAMPAH
        assert (unit.radius_km, unit.pickup_days, unit.time_windows) == (
            7.5,
            [0, 2, 4],
            ["08:00-10:00", "13:00-15:00"],
        )
        assert (unit.min_weight_g, unit.resident_share_pct, unit.is_active) == (3000, 85, True)
        assert (unit.phone, unit.desa_code, unit.street) == (
            "+6281260000200",
            "12.07.28.1008",
            "Jl. Melati No. 3",
        )
        prices = services.unit_prices(unit)
        assert len(prices) == len(services.active_categories())
        assert prices[category("pet").id].price == 3500
        unit_id = unit.id
    assert response.headers["Location"].endswith(f"{ADMIN}/units/{unit_id}/edit")
    page = text(client.get(response.headers["Location"]))
    assert "Bank Sampah Melati" in page and f'<span class="code" id="unit-number">{unit_id}' in page


def test_unit_form_errors_are_422_and_keep_what_was_typed(app: Flask, client, admin):
    data = {**UNIT_FORM, "name": "", "radius_km": "7,3", "pickup_days": []}
    response = post(client, f"{ADMIN}/units/new", data, htmx="content")
    page = text(response)
    assert response.status_code == 422
    assert "<title>Error:" in page
    assert "Enter the unit's name" in page
    assert "Enter the radius in steps of 0,5 km" in page
    assert 'value="Jl. Melati No. 3"' in page and "13:00-15:00" in page
    # What only the service can judge lands on its field too: the days and the windows.
    data = {**UNIT_FORM, "time_windows": "10:00-08:00"}
    page = text(post(client, f"{ADMIN}/units/new", data))
    assert "Write each time window as start-end" in page
    assert 'href="#time_windows"' in page
    page = text(post(client, f"{ADMIN}/units/new", {**UNIT_FORM, "pickup_days": []}))
    assert "Choose at least one pickup day" in page and 'href="#pickup_days"' in page
    with app.test_request_context():
        assert db.session.scalar(select(func.count(WasteUnit.id))) == 0


def test_unit_name_must_be_unique(app: Flask, client, admin):
    with app.test_request_context():
        make_unit(name="Bank Sampah Melati")
    response = post(client, f"{ADMIN}/units/new", UNIT_FORM)
    assert response.status_code == 422
    assert "Another unit already has this name" in text(response)


def test_admin_edits_a_unit_and_sees_its_officers(app: Flask, client, admin):
    with app.test_request_context():
        unit = make_unit(name="Bank Sampah Mawar", radius_km=5.0)
        unit_id = unit.id
        officer = make_user(full_name="Agus Petugas", roles=(Role.WASTE_OFFICER,), scope=unit.scope)
        officer_id = officer.id
        make_user(full_name="Petugas Lain", roles=(Role.WASTE_OFFICER,), scope="999")
    url = f"{ADMIN}/units/{unit_id}/edit"
    page = text(client.get(url))
    assert 'value="Bank Sampah Mawar"' in page and 'value="5.0"' in page
    assert "08:00-10:00\n13:00-15:00</textarea>" in page
    assert f'href="/admin/users/{officer_id}"' in page and "Agus Petugas" in page
    assert "Petugas Lain" not in page
    assert f'href="{ADMIN}/units/{unit_id}/prices"' in page
    data = {**UNIT_FORM, "name": "Bank Sampah Mawar", "radius_km": "10", "is_active": ""}
    response = post(client, url, data, htmx="content")
    assert response.status_code == 204 and "HX-Location" in response.headers
    with app.test_request_context():
        unit = db.session.get(WasteUnit, unit_id)
        assert (unit.radius_km, unit.is_active, unit.pickup_days) == (10.0, False, [0, 2, 4])
    index = text(client.get(f"{ADMIN}/units"))
    row = re.search(r"<tr>\s*<th scope=\"row\"><a[^>]*>Bank Sampah Mawar.*?</tr>", index, re.S)
    row = row.group(0)
    assert "Not active" in row and "10 km" in row
    assert re.search(r'data-label="Officers">1</td>', row)
    assert client.get(f"{ADMIN}/units/9999/edit").status_code == 404


def test_admin_links_include_jumpa_madu(client, admin):
    page = text(client.get("/admin/users"))
    assert f'href="{ADMIN}/units"' in page and f'href="{ADMIN}/categories"' in page


# --- categories ---------------------------------------------------------------------------------


def test_admin_adds_and_edits_a_category(app: Flask, client, admin):
    with app.test_request_context():
        services.seed_categories()
        db.session.commit()
    page = text(client.get(f"{ADMIN}/categories"))
    assert "Minyak jelantah" in page and "kardus" in page
    data = {
        "slug": "kertas-buram",
        "name": "Kertas buram",
        "measure": "kg",
        "co2e_g_per_unit": "3000",
        "position": "20",
        "is_active": "y",
    }
    response = post(client, f"{ADMIN}/categories/new", data)
    assert response.status_code == 303
    with app.test_request_context():
        cat = db.session.scalar(select(WasteCategory).where(WasteCategory.slug == "kertas-buram"))
        assert (cat.name, cat.measure, cat.co2e_g_per_unit, cat.position, cat.is_active) == (
            "Kertas buram",
            Measure.KG,
            3000,
            20,
            True,
        )
        cat_id = cat.id
    url = f"{ADMIN}/categories/{cat_id}/edit"
    assert 'value="Kertas buram"' in text(client.get(url))
    response = post(client, url, {**data, "measure": "litre", "is_active": ""})
    assert response.status_code == 303
    with app.test_request_context():
        cat = db.session.get(WasteCategory, cat_id)
        assert (cat.measure, cat.is_active) == (Measure.LITRE, False)
    clash = post(client, url, {**data, "slug": "pet"})
    assert clash.status_code == 422
    assert "Another category already uses this short name" in text(clash)
    bad = post(client, f"{ADMIN}/categories/new", {**data, "slug": "Bad Slug", "measure": "ton"})
    assert bad.status_code == 422
    assert "Use only lowercase letters" in text(bad) and "Choose kg or litre" in text(bad)
    assert client.get(f"{ADMIN}/categories/9999/edit").status_code == 404


# --- prices -------------------------------------------------------------------------------------


def test_a_price_change_keeps_the_old_price_on_record(app: Flask, client, admin):
    with app.test_request_context():
        unit_id, pet_id = make_unit().id, category("pet").id
    url = f"{ADMIN}/units/{unit_id}/prices"
    page = text(client.get(url))
    current = re.search(r'<tr id="price-pet">.*?</tr>', page, re.S).group(0)
    assert "Rp 3.500" in current and "Starting price list" not in current  # set by make_unit
    form = text(client.get(f"{url}/{pet_id}"))
    assert "Now: Rp 3.500 per kg" in form and 'type="datetime-local"' in form
    response = post(client, f"{url}/{pet_id}", {"price": "Rp 4.200"}, htmx="content")
    assert response.status_code == 204 and url in response.headers["HX-Location"]
    page = text(client.get(url))
    current = re.search(r'<tr id="price-pet">.*?</tr>', page, re.S).group(0)
    assert "Rp 4.200" in current and "Rp 3.500" not in current
    history = re.search(r'<table class="jm-card-table" id="price-history">.*?</table>', page, re.S)
    assert "Rp 4.200" in history.group(0) and "Rp 3.500" in history.group(0)
    with app.test_request_context():
        rows = db.session.scalars(
            select(Price.price).where(Price.unit_id == unit_id, Price.category_id == pet_id)
        ).all()
        assert sorted(rows) == [3500, 4200]


def test_price_takes_effect_at_a_wib_moment_and_can_stop(app: Flask, client, admin):
    with app.test_request_context():
        unit_id, pet_id, kardus_id = make_unit().id, category("pet").id, category("kardus").id
    url = f"{ADMIN}/units/{unit_id}/prices"
    later = (utcnow() + dt.timedelta(days=30)).date()
    response = post(client, f"{url}/{pet_id}", {"price": "3900", "effective_at": f"{later}T08:00"})
    assert response.status_code == 303
    with app.test_request_context():
        row = db.session.scalar(select(Price).where(Price.price == 3900))
        # 08:00 in Deli Serdang (UTC+7) is 01:00 UTC.
        assert as_utc(row.effective_at) == dt.datetime.combine(later, dt.time(1), tzinfo=dt.UTC)
        unit = db.session.get(WasteUnit, unit_id)
        assert services.unit_prices(unit)[pet_id].price == 3500  # not yet
    page = text(client.get(url))
    assert "Scheduled" in page and "Rp 3.900" in page
    response = post(client, f"{url}/{kardus_id}", {"price": "", "stop_buying": "y"})
    assert response.status_code == 303
    page = text(client.get(url))
    assert "Not bought" in re.search(r'<tr id="price-kardus">.*?</tr>', page, re.S).group(0)
    assert "Stopped buying" in page
    with app.test_request_context():
        assert kardus_id not in services.unit_prices(db.session.get(WasteUnit, unit_id))


def test_price_form_refusals(app: Flask, client, admin):
    with app.test_request_context():
        unit_id, pet_id = make_unit().id, category("pet").id
    url = f"{ADMIN}/units/{unit_id}/prices/{pet_id}"
    empty = post(client, url, {"price": ""})
    assert empty.status_code == 422
    assert "Enter the new price, or tick that the unit stops buying" in text(empty)
    assert post(client, url, {"price": "3,5"}).status_code == 422
    same = post(client, url, {"price": "3500"})
    assert same.status_code == 422 and "This is already the price in force" in text(same)
    past = post(client, url, {"price": "4000", "effective_at": "2020-01-01T08:00"})
    assert past.status_code == 422
    assert "cannot take effect in the past" in text(past)
    assert 'value="4000"' in text(past)
    assert client.get(f"{ADMIN}/units/{unit_id}/prices/9999").status_code == 404
    assert client.get(f"{ADMIN}/units/9999/prices").status_code == 404


# --- officers belong to one existing unit ---------------------------------------------------------


def test_waste_officer_grant_needs_an_existing_unit_and_only_one(ctx):
    admin_user = make_user(roles=(Role.ADMIN,))
    user = make_user()
    unit, other = make_unit(), make_unit()
    for scope in ("", "BSI-BERSERI", "9999"):
        with pytest.raises(DomainError) as refused:
            accounts.grant_role(admin_user, user, Role.WASTE_OFFICER, scope)
        assert refused.value.field == "scope"
    accounts.grant_role(admin_user, user, Role.WASTE_OFFICER, f" {unit.id} ")
    assert services.officer_unit(user) is unit
    with force_locale("en"), pytest.raises(DomainError) as refused:
        accounts.grant_role(admin_user, user, Role.WASTE_OFFICER, str(other.id))
    assert refused.value.field == "scope" and "another unit" in refused.value.message
    assert not user.has_role(Role.WASTE_OFFICER, other.scope)


def test_grant_form_explains_the_unit_number(app: Flask, client, admin):
    with app.test_request_context():
        target_id = make_user().id
    page = text(client.get(f"/admin/users/{target_id}"))
    assert "the unit number" in page
    response = post(
        client, f"/admin/users/{target_id}/roles", {"role": "waste_officer", "scope": "X"}
    )
    assert response.status_code == 422
    assert "Enter the number of an existing waste unit" in text(response)
    with app.test_request_context():
        assert not db.session.get(User, target_id).grants
