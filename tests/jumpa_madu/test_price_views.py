"""The public prices page: units covering a chosen place, their current prices, htmx results.

Pages are read in English (the `lang` cookie), so assertions do not depend on the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from portal.accounts.models import Role
from portal.extensions import db
from portal.jumpa_madu import services
from tests.conftest import post
from tests.factories import FAR_ADDRESS, LUBUK_PAKAM_ADDRESS, category, make_unit, make_user

URL = "/jumpa-madu/prices"
HTMX = {"HX-Request": "true", "HX-Target": "price-results"}
# Desa around Lubuk Pakam III, each within 5 km of it: units there all cover it.
NEARBY_DESA = [
    ("12.07.28", "12.07.28.1008"),
    ("12.07.28", "12.07.28.1010"),
    ("12.07.28", "12.07.28.1011"),
    ("12.07.28", "12.07.28.2001"),
    ("12.07.28", "12.07.28.2002"),
    ("12.07.28", "12.07.28.1013"),
]


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _units(app: Flask, count: int, **fields) -> list[int]:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        ids = []
        for kec, desa in NEARBY_DESA[:count]:
            ids.append(make_unit(kecamatan_code=kec, desa_code=desa, **fields).id)
        return ids


def _cards(page: str) -> list[str]:
    return re.findall(r'<article class="jm-unit-card" id="unit-(\d+)"', page)


def test_anyone_sees_every_active_units_prices_without_logging_in(app: Flask, client):
    with app.test_request_context():
        unit = make_unit(name="Bank Sampah Melati", phone="081260000200")
        make_unit(name="Bank Sampah Tutup", is_active=False)
        unit_id = unit.id
    response = client.get(URL)
    page = text(response)
    assert response.status_code == 200
    assert "Vary" in response.headers and "HX-Target" in response.headers["Vary"]
    assert _cards(page) == [str(unit_id)]
    assert "Bank Sampah Tutup" not in page
    card = page[page.index(f'id="unit-{unit_id}"') :]
    assert "Rp 3.500</span> / kg" in card  # PET
    assert "Rp 4.500</span> / L" in card  # used cooking oil, per litre
    assert "you receive Rp 3.150" in card  # 90% of Rp 3.500
    assert 'href="tel:+6281260000200"' in card and "081260000200" in card
    assert "Monday, Tuesday" in card and "08:00-10:00, 13:00-15:00" in card
    assert "3 kg" in card
    assert 'id="price-finder"' in page and 'name="kecamatan"' in page and 'name="desa"' in page


def test_choosing_a_desa_shows_the_units_covering_it_nearest_first(app: Flask, client):
    with app.test_request_context():
        near = make_unit(name="Bank Sampah Dekat").id  # in Lubuk Pakam III itself
        farther = make_unit(
            name="Bank Sampah Agak Jauh", kecamatan_code="12.07.28", desa_code="12.07.28.2002"
        ).id
        far = make_unit(name="Bank Sampah Percut", **FAR_ADDRESS).id
    args = {
        "kecamatan": LUBUK_PAKAM_ADDRESS["kecamatan_code"],
        "desa": LUBUK_PAKAM_ADDRESS["desa_code"],
    }
    page = text(client.get(URL, query_string=args))
    assert _cards(page) == [str(near), str(farther)]
    assert "2 units pick up at Lubuk Pakam III (kelurahan), Kecamatan Lubuk Pakam" in page
    assert re.search(r'class="jm-distance">[\d.,]+ km away', page)
    # The chosen place stays selected, and the desa list is the kecamatan's own.
    assert re.search(r'<option value="12.07.28.1008"[^>]* selected>', page)
    assert '<option value="12.07.28" selected>' in page and "<optgroup" not in page
    assert str(far) not in _cards(page)  # Percut Sei Tuan is ~18 km away
    # The covering units, the same as the pickup form proposes them.
    with app.test_request_context():
        point = services.address_point(LUBUK_PAKAM_ADDRESS)
        assert [u.id for u, _km in services.covering_units(point)] == [near, farther]


def test_a_place_no_unit_covers_lists_the_three_nearest_for_drop_off(app: Flask, client):
    ids = _units(app, 4)
    args = {"kecamatan": FAR_ADDRESS["kecamatan_code"], "desa": FAR_ADDRESS["desa_code"]}
    page = text(client.get(URL, query_string=args))
    assert 'id="no-unit"' in page
    assert "No unit picks up at Pematang Lalang, Kecamatan Percut Sei Tuan yet" in page
    assert "bring your sorted waste to one of the nearest units" in page
    cards = _cards(page)
    assert len(cards) == 3 and set(cards) <= {str(i) for i in ids}
    assert page.count("km away") == 3


def test_a_device_position_and_a_kecamatan_alone_also_choose_a_place(app: Flask, client):
    unit_id = _units(app, 1)[0]
    # "Use my current location" posts the position; it never goes into a URL...
    pin = text(post(client, URL, {"lat": "3.5560", "lon": "98.8750"}))
    assert _cards(pin) == [str(unit_id)] and "the map pin (3.55600, 98.87500)" in pin
    page = text(client.get(URL))
    assert 'id="price-locate" method="post"' in page and "data-locate-form" in page
    # ...and one put in a URL by hand is ignored rather than kept in links and logs.
    far = {"lat": "3.7044", "lon": "98.8012"}
    assert "Prices at every unit" in text(client.get(URL, query_string=far))
    assert "No unit picks up" in text(post(client, URL, far))
    with_htmx = post(client, URL, {"lat": "3.5560", "lon": "98.8750"}, htmx="price-results")
    assert text(with_htmx).startswith('<div id="price-results"')
    kec = text(client.get(URL, query_string={"kecamatan": "12.07.28"}))
    assert _cards(kec) == [str(unit_id)] and "the centre of Kecamatan Lubuk Pakam" in kec
    # Edited URLs: an unknown code or a pin outside Deli Serdang chooses nothing (all units).
    for args in ({"kecamatan": "99.99.99"}, {"desa": "x"}):
        response = client.get(URL, query_string=args)
        assert response.status_code == 200
        assert "Prices at every unit" in text(response)
    for data in ({"lat": "-6.2", "lon": "106.8"}, {"lat": "abc", "lon": ""}):
        response = post(client, URL, data)
        assert response.status_code == 200
        assert "Prices at every unit" in text(response)
    # A desa from another kecamatan than the chosen one falls back to the kecamatan.
    mixed = text(client.get(URL, query_string={"kecamatan": "12.07.28", "desa": "12.07.26.2001"}))
    assert "the centre of Kecamatan Lubuk Pakam" in mixed


def test_htmx_gets_only_the_results_and_the_form_pushes_the_url(app: Flask, client):
    unit_id = _units(app, 1)[0]
    args = {"kecamatan": "12.07.28", "desa": "12.07.28.1008"}
    response = client.get(URL, query_string=args, headers=HTMX)
    page = text(response)
    assert response.status_code == 200
    assert page.strip().startswith('<div id="price-results"') and "<html" not in page
    assert _cards(page) == [str(unit_id)] and "<form" not in page
    # A boosted navigation gets the whole <main>; a plain request the whole document.
    boosted = text(
        client.get(URL, query_string=args, headers={"HX-Request": "true", "HX-Target": "content"})
    )
    assert '<main id="content"' in boosted and "<html" not in boosted
    full = text(client.get(URL, query_string=args))
    assert "<html" in full and 'id="price-results"' in full
    form = re.search(r'<form id="price-finder"[^>]*>', full).group(0)
    assert 'method="get"' in form and 'hx-target="#price-results"' in form
    assert 'hx-push-url="true"' in form
    kec_select = re.search(r'<select id="kecamatan"[^>]*>', full, re.S).group(0)
    assert 'hx-get="/wilayah/desa"' in kec_select and 'hx-target="#desa-field"' in kec_select
    assert 'hx-push-url="false"' in kec_select


def test_a_price_change_shows_the_new_price_not_the_old(app: Flask, client):
    with app.test_request_context():
        unit = make_unit()
        unit_id = unit.id
        officer = make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope)
        services.set_price(unit, category("pet"), 4100, officer)
        services.set_price(unit, category("kardus"), None, officer)  # stops buying
        db.session.commit()
    page = text(client.get(URL))
    card = page[page.index(f'id="unit-{unit_id}"') :]
    pet_row = re.search(r"Botol PET bersih.*?</tr>", card, re.S).group(0)
    assert "Rp 4.100" in pet_row and "Rp 3.500" not in pet_row
    assert "Kardus" not in card


def test_the_query_count_does_not_grow_with_the_number_of_units(app: Flask, client):
    def count(args: dict) -> int:  # type: ignore[type-arg]
        with _counting(app) as queries:
            response = client.get(URL, query_string=args)
        assert response.status_code == 200
        return len(queries)

    place = {"kecamatan": "12.07.28", "desa": "12.07.28.1008"}
    _units(app, 3)
    few = (count({}), count(place), len(_cards(text(client.get(URL, query_string=place)))))
    _units(app, 3)
    many = (count({}), count(place), len(_cards(text(client.get(URL, query_string=place)))))
    assert few[2] == 3 and many[2] == 6
    assert few[:2] == many[:2]


@contextmanager
def _counting(app: Flask) -> Iterator[list[str]]:
    queries: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
            queries.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield queries
    finally:
        event.remove(engine, "before_cursor_execute", before)
