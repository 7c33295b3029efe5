"""A courier's day: nearest-neighbour order from Disdukcapil, legs in geodesic kilometres."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from portal.accounts.models import Role, User
from portal.core.geo import Point, distance_km, nearest_neighbour_route
from portal.core.time import today_wib
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import DocumentRequest
from portal.wilayah.models import Desa
from tests.factories import make_request, make_user

# --- the algorithm on hand-made points ----------------------------------------------------------

ORIGIN = (0.0, 0.0)


def _names(route: list[tuple[str, Point, float]]) -> list[str]:
    return [name for name, _point, _km in route]


def test_an_empty_day_is_an_empty_route():
    assert nearest_neighbour_route(ORIGIN, []) == []


def test_the_route_always_goes_to_the_nearest_unvisited_stop():
    stops = [
        ("far", Point(0.0, 3.0)),
        ("near", Point(0.0, 1.0)),
        ("middle", Point(0.0, 2.0)),
    ]
    route = nearest_neighbour_route(ORIGIN, stops)
    assert _names(route) == ["near", "middle", "far"]
    assert [point for _n, point, _km in route] == [
        Point(0.0, 1.0),
        Point(0.0, 2.0),
        Point(0.0, 3.0),
    ]


def test_nearest_neighbour_is_not_sorting_by_distance_from_the_start():
    # From the start, "west" (1.5 degrees) is nearer than "east2" (2), but once at "east1" the
    # courier carries on east before turning back.
    stops = [
        ("west", Point(0.0, -1.5)),
        ("east2", Point(0.0, 2.0)),
        ("east1", Point(0.0, 1.0)),
    ]
    route = nearest_neighbour_route(Point(*ORIGIN), stops)
    assert _names(route) == ["east1", "east2", "west"]


def test_each_leg_is_the_geodesic_distance_from_the_previous_stop():
    stops = [
        ("b", Point(3.4463, 98.8693)),
        ("a", Point(3.5559, 98.8751)),
        ("c", Point(3.26, 98.71)),
    ]
    start = (3.559, 98.874)
    route = nearest_neighbour_route(start, stops)
    assert _names(route) == ["a", "b", "c"]
    here: tuple[float, float] = start
    for _name, point, km in route:
        assert km == pytest.approx(distance_km(here, point))
        assert km > 0
        here = point.as_tuple()
    # One degree of longitude is about 111 km at the equator: legs are kilometres.
    leg = nearest_neighbour_route(ORIGIN, [("x", Point(0.0, 1.0))])[0][2]
    assert leg == pytest.approx(111.32, abs=0.05)


def test_ties_keep_the_input_order():
    # Two requests for the same house (one family), and one farther away.
    same = Point(0.0, 1.0)
    stops = [("second", same), ("first", same), ("later", Point(0.0, 2.0))]
    assert _names(nearest_neighbour_route(ORIGIN, stops)) == ["second", "first", "later"]
    swapped = [stops[1], stops[0], stops[2]]
    assert _names(nearest_neighbour_route(ORIGIN, swapped)) == ["first", "second", "later"]
    legs = [km for _n, _p, km in nearest_neighbour_route(ORIGIN, stops)]
    assert legs[1] == 0


def test_the_input_list_is_left_alone():
    stops = [("far", Point(0.0, 3.0)), ("near", Point(0.0, 1.0))]
    nearest_neighbour_route(ORIGIN, stops)
    assert [name for name, _point in stops] == ["far", "near"]


# --- a courier's deliveries for a day -----------------------------------------------------------

NEAR = "12.07.28.1008"  # Lubuk Pakam III, next to the office
MIDDLE = "12.07.19.2001"  # Tanjung Gusti (Galang), about 12 km south
FAR = "12.07.20.2001"  # Tiga Juhar (STM Hulu), about 37 km south-west


def _desa(code: str) -> Desa:
    desa = db.session.get(Desa, code)
    assert desa is not None, code
    return desa


def _deliver_to(
    courier: User, day: dt.date, desa_code: str, pin: tuple[float, float] | None = None
) -> DocumentRequest:
    desa = _desa(desa_code)
    address = {"kecamatan_code": desa.kecamatan_code, "desa_code": desa.code}
    if pin is not None:
        address.update(latitude=pin[0], longitude=pin[1])
    return make_request(
        status="out_for_delivery", courier=courier, delivery_date=day, address=address
    )


def test_courier_route_orders_the_days_deliveries_from_the_office(app: Flask, ctx):
    office = app.config["DISDUKCAPIL_POINT"]
    courier = make_user(roles=(Role.SADOKU_COURIER,))
    day = today_wib() + dt.timedelta(days=1)
    # Created far first, so the input order (by id) is not the route.
    far = _deliver_to(courier, day, FAR)
    near = _deliver_to(courier, day, NEAR)
    middle = _deliver_to(courier, day, MIDDLE)
    # Not on this route: another courier's, and this courier's for another day.
    _deliver_to(make_user(roles=(Role.SADOKU_COURIER,)), day, NEAR)
    _deliver_to(courier, day + dt.timedelta(days=1), NEAR)

    route = services.courier_route(courier, day)
    assert [req.id for req, _p, _km in route] == [near.id, middle.id, far.id]
    here = office
    for (_req, point, km), code in zip(route, (NEAR, MIDDLE, FAR), strict=True):
        desa = _desa(code)
        assert point.source == "desa"
        assert point.as_tuple() == pytest.approx((desa.lat, desa.lon))
        assert km == pytest.approx(distance_km(here, point))
        here = point.as_tuple()
    assert route[0][2] < 2 and 5 < route[1][2] < 25 and route[2][2] > 15


def test_a_pinned_address_is_used_instead_of_the_desa_centroid(app: Flask, ctx):
    courier = make_user(roles=(Role.SADOKU_COURIER,))
    day = today_wib() + dt.timedelta(days=2)
    near = _deliver_to(courier, day, NEAR)
    # Registered in far-away Tiga Juhar, but the resident pinned a house next to the office.
    pin = (3.5588, 98.8738)
    pinned = _deliver_to(courier, day, FAR, pin=pin)
    middle = _deliver_to(courier, day, MIDDLE)

    route = services.courier_route(courier, day)
    assert [req.id for req, _p, _km in route] == [pinned.id, near.id, middle.id]
    point = route[0][1]
    assert point.source == "pin" and point.as_tuple() == pytest.approx(pin)
    assert route[0][2] == pytest.approx(distance_km(app.config["DISDUKCAPIL_POINT"], pin))
    assert services.request_point(pinned) == point
    assert services.request_point(near).source == "desa"


def test_a_delivered_request_stays_on_the_day_list(ctx):
    courier = make_user(roles=(Role.SADOKU_COURIER,))
    day = today_wib() + dt.timedelta(days=1)
    done = make_request(status="delivered", courier=courier, delivery_date=day)
    waiting = _deliver_to(courier, day, MIDDLE)
    assert [req.id for req, _p, _km in services.courier_route(courier, day)] == [
        done.id,
        waiting.id,
    ]
    assert services.courier_route(courier, day + dt.timedelta(days=5)) == []
