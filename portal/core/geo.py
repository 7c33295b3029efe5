"""Distances and geocoding.

Distances are geodesic (WGS-84, geopy). Geocoding goes to Nominatim when GEOCODER=nominatim and
otherwise stays offline, answering from the gazetteer (desa centroid, then kecamatan centroid).
A network geocoder is never called inside a database transaction: a slow answer would hold locks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from geopy.adapters import URLLibAdapter
from geopy.distance import geodesic
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

# Deli Serdang's bounding box (with a margin); Nominatim results outside it are ignored.
VIEWBOX = ((3.95, 98.45), (2.95, 99.20))


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    source: str = "pin"  # pin | nominatim | desa | kecamatan

    def as_tuple(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def format_km(km: float) -> str:
    """A distance with one decimal in the reader's language: 2,4 in Indonesian, 2.4 in English."""
    from flask_babel import format_decimal

    return format_decimal(km, format="#,##0.0")


def distance_km(a: tuple[float, float] | Point, b: tuple[float, float] | Point) -> float:
    """Geodesic distance in kilometres between two (lat, lon) points."""
    pa = a.as_tuple() if isinstance(a, Point) else a
    pb = b.as_tuple() if isinstance(b, Point) else b
    return float(geodesic(pa, pb).km)


class _TTLCache:
    """A small thread-safe LRU cache with expiry, so repeated addresses do not hit Nominatim."""

    def __init__(self, size: int = 1024, ttl: float = 24 * 3600) -> None:
        self.size, self.ttl = size, ttl
        self._data: OrderedDict[str, tuple[float, Point | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Point | None]:
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] < time.monotonic():
                return False, None
            self._data.move_to_end(key)
            return True, item[1]

    def put(self, key: str, value: Point | None) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


geocode_cache = _TTLCache()


def _nominatim() -> RateLimiter:
    """Nominatim's geocode, spaced at least GEOCODER_MIN_DELAY_SECONDS apart in this process.

    The public server allows one request a second. geopy's RateLimiter (thread-safe) is kept per
    app and settings; its retries and exception swallowing are off so an outage is not
    mistaken for "address not found" (and cached as such).
    """
    cfg = current_app.config
    key = (
        cfg["NOMINATIM_DOMAIN"],
        cfg["NOMINATIM_SCHEME"],
        cfg["GEOCODER_USER_AGENT"],
        cfg["GEOCODER_TIMEOUT"],
        cfg["GEOCODER_MIN_DELAY_SECONDS"],
    )
    cache = current_app.extensions.setdefault("portal_geocoder", {})
    if key not in cache:
        nominatim = Nominatim(
            user_agent=cfg["GEOCODER_USER_AGENT"],
            timeout=cfg["GEOCODER_TIMEOUT"],
            domain=cfg["NOMINATIM_DOMAIN"],
            scheme=cfg["NOMINATIM_SCHEME"],
            # One try per address, whatever HTTP libraries happen to be installed: geopy picks
            # `requests` (which retries a timeout twice) when present, and a resident would wait
            # three timeouts before the desa-centre fallback.
            adapter_factory=URLLibAdapter,
        )
        cache[key] = RateLimiter(
            nominatim.geocode,
            min_delay_seconds=cfg["GEOCODER_MIN_DELAY_SECONDS"],
            max_retries=0,
            swallow_exceptions=False,
        )
    return cache[key]


_WROTE = "portal_geo_wrote"


@event.listens_for(Session, "after_flush")
def _remember_flushed_writes(session: Session, _ctx: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_flushed_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def _refuse_pending_writes() -> None:
    """Geocoding ends the current transaction, so it must not hold anything unsaved."""
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        raise RuntimeError("geocoding must not run inside a transaction with pending writes")


def _end_read_only_transaction() -> None:
    """Close a read-only transaction so no locks are held while the network answers."""
    _refuse_pending_writes()
    session = db.session()
    if session.in_transaction():
        session.rollback()


def gazetteer_point(desa_code: str | None, kecamatan_code: str | None) -> Point | None:
    """The desa centroid, else the kecamatan centroid, else None."""
    from portal.wilayah.services import find_desa, find_kecamatan

    if desa_code and (desa := find_desa(desa_code)) is not None:
        return Point(desa.lat, desa.lon, "desa")
    if kecamatan_code and (kec := find_kecamatan(kecamatan_code)) is not None:
        return Point(kec.lat, kec.lon, "kecamatan")
    return None


def geocode_address(
    street: str | None, desa_code: str | None, kecamatan_code: str | None
) -> Point | None:
    """Best point for an address: Nominatim (when configured and it answers), else the gazetteer.

    Call before starting the transaction that writes the result.
    """
    if current_app.config.get("GEOCODER") == "nominatim" and street:
        from portal.wilayah.models import Desa, Kecamatan

        # Checked before the reads below: their autoflush would hide pending writes.
        _refuse_pending_writes()
        desa = db.session.get(Desa, desa_code) if desa_code else None
        kec = db.session.get(Kecamatan, kecamatan_code) if kecamatan_code else None
        parts = [street, desa.name if desa else None, kec.name if kec else None, "Deli Serdang"]
        query = ", ".join(p for p in parts if p)
        _end_read_only_transaction()
        hit, cached = geocode_cache.get(query)
        if hit:
            point = cached
        else:
            point = None
            try:
                location = _nominatim()(query, country_codes="id", viewbox=VIEWBOX, bounded=True)
            except GeopyError as exc:
                # Not cached: a passing outage should not pin an address to the centroid for a day.
                log.warning("nominatim failed: %s", type(exc).__name__)
                location = False
            if location:
                point = Point(location.latitude, location.longitude, "nominatim")
            if location is not False:
                geocode_cache.put(query, point)
        if point is not None:
            return point
    return gazetteer_point(desa_code, kecamatan_code)


def nearest_neighbour_route(
    start: tuple[float, float] | Point, stops: Sequence[tuple[T, Point]]
) -> list[tuple[T, Point, float]]:
    """Order `stops` by always going to the nearest unvisited one: (item, point, leg km).

    Not the shortest tour (that is NP-hard), but a good, explainable day list for a courier or a
    pickup round of a few dozen stops; ties keep the input order so the result is repeatable.
    """
    here = start.as_tuple() if isinstance(start, Point) else start
    remaining = list(stops)
    route: list[tuple[T, Point, float]] = []
    while remaining:
        legs = [distance_km(here, point) for _item, point in remaining]
        best = min(range(len(remaining)), key=lambda i: legs[i])
        item, point = remaining.pop(best)
        route.append((item, point, legs[best]))
        here = point.as_tuple()
    return route
