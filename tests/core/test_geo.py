"""Distances and geocoding: gazetteer fallbacks, and Nominatim against a local stub (offline)."""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.core.geo import Point, distance_km, gazetteer_point, geocode_address
from portal.extensions import db
from portal.wilayah.models import Desa, Kecamatan

DATA = Path(__file__).resolve().parents[2] / "portal" / "data"
LUBUK_PAKAM = (3.554, 98.8799)
MEDAN = (3.5952, 98.6722)
DESA = "12.07.28.1008"  # Lubuk Pakam III
KECAMATAN = "12.07.28"  # Lubuk Pakam
STREET = "Jl. Sudirman No. 5"
STUB_POINT = (3.5601, 98.8702)


def _csv_point(filename: str, code: str) -> tuple[float, float]:
    """The centroid as shipped in the reference CSV, read independently of the loader."""
    with (DATA / filename).open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["code"] == code:
                return float(row["lat"]), float(row["lon"])
    raise AssertionError(f"{code} not in {filename}")


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


# --- distances -----------------------------------------------------------------------------------


def test_distance_lubuk_pakam_to_medan():
    d = distance_km(LUBUK_PAKAM, MEDAN)
    expected = _haversine_km(LUBUK_PAKAM, MEDAN)
    assert 23.0 < d < 24.0
    assert abs(d - expected) / expected < 0.005
    # Symmetric, accepts Points, and zero for the same place.
    assert distance_km(Point(*MEDAN), Point(*LUBUK_PAKAM)) == pytest.approx(d)
    assert distance_km(MEDAN, MEDAN) == 0


def test_distance_is_not_flat_earth_degrees():
    # One degree of latitude is about 110.6 km near the equator, not 1 and not 111.3 * cos(lat).
    assert distance_km((3.0, 98.8), (4.0, 98.8)) == pytest.approx(110.6, abs=0.2)


# --- gazetteer -----------------------------------------------------------------------------------


def test_gazetteer_point_prefers_the_desa_centroid(ctx):
    point = gazetteer_point(DESA, KECAMATAN)
    assert point is not None
    assert point.source == "desa"
    assert point.as_tuple() == pytest.approx(_csv_point("desa.csv", DESA))


def test_gazetteer_point_falls_back_to_the_kecamatan(ctx):
    for desa in (None, "", "12.07.28.9999"):
        point = gazetteer_point(desa, KECAMATAN)
        assert point is not None
        assert point.source == "kecamatan"
        assert point.as_tuple() == pytest.approx(_csv_point("kecamatan.csv", KECAMATAN))


def test_gazetteer_point_without_a_known_area_is_none(ctx):
    assert gazetteer_point(None, None) is None
    assert gazetteer_point("99.99.99.9999", "99.99.99") is None


def test_offline_geocoder_answers_from_the_gazetteer(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "GEOCODER", "offline")
    point = geocode_address(STREET, DESA, KECAMATAN)
    assert point == Point(*_csv_point("desa.csv", DESA), "desa")
    assert geocode_address(STREET, None, KECAMATAN).source == "kecamatan"
    assert geocode_address(None, None, None) is None


# --- Nominatim against a local stub ---------------------------------------------------------------


@dataclass
class StubNominatim:
    """What the stub answers next, and every request it received."""

    port: int = 0
    status: int = 200
    body: object = field(
        default_factory=lambda: [
            {
                "place_id": 1,
                "lat": str(STUB_POINT[0]),
                "lon": str(STUB_POINT[1]),
                "display_name": "Jalan Sudirman, Lubuk Pakam III, Deli Serdang, Sumatera Utara",
                "boundingbox": ["3.5590", "3.5612", "98.8690", "98.8714"],
            }
        ]
    )
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer_ok(self) -> None:
        self.status, self.body, self.delay = 200, StubNominatim().body, 0.0


def _handler(stub: StubNominatim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            stub.requests.append(
                {
                    "path": url.path,
                    "query": {k: v[0] for k, v in parse_qs(url.query).items()},
                    "user_agent": self.headers.get("User-Agent"),
                    "at": time.monotonic(),
                }
            )
            if stub.delay:
                stub.release.wait(stub.delay)
            payload = json.dumps(stub.body).encode()
            try:
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def nominatim(ctx, monkeypatch) -> Iterator[StubNominatim]:
    stub = StubNominatim()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(ctx.config, "GEOCODER", "nominatim")
    monkeypatch.setitem(ctx.config, "NOMINATIM_DOMAIN", f"127.0.0.1:{stub.port}")
    monkeypatch.setitem(ctx.config, "NOMINATIM_SCHEME", "http")
    monkeypatch.setitem(ctx.config, "GEOCODER_TIMEOUT", 1)
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _desa_centroid() -> Point:
    return Point(*_csv_point("desa.csv", DESA), "desa")


def test_nominatim_point_is_used(ctx, nominatim):
    point = geocode_address(STREET, DESA, KECAMATAN)
    assert point == Point(*STUB_POINT, "nominatim")

    assert len(nominatim.requests) == 1
    sent = nominatim.requests[0]
    assert sent["path"] == "/search"
    assert sent["user_agent"] == ctx.config["GEOCODER_USER_AGENT"]
    q = sent["query"]
    assert q["countrycodes"] == "id"
    assert STREET in q["q"]
    assert "Lubuk Pakam III" in q["q"]  # the desa
    assert "Lubuk Pakam," in q["q"]  # the kecamatan
    assert "Deli Serdang" in q["q"]
    # Results are restricted to (a box around) Deli Serdang.
    assert q["bounded"] == "1"
    lon1, lat1, lon2, lat2 = map(float, q["viewbox"].split(","))
    assert min(lat1, lat2) < STUB_POINT[0] < max(lat1, lat2)
    assert min(lon1, lon2) < STUB_POINT[1] < max(lon1, lon2)


def test_repeated_address_is_served_from_the_cache(ctx, nominatim):
    first = geocode_address(STREET, DESA, KECAMATAN)
    second = geocode_address(STREET, DESA, KECAMATAN)
    assert first == second == Point(*STUB_POINT, "nominatim")
    assert len(nominatim.requests) == 1
    # Another address is a new question.
    geocode_address("Jl. Tengku Raja Muda No. 1", DESA, KECAMATAN)
    assert len(nominatim.requests) == 2


def test_no_match_falls_back_to_the_desa_centroid(ctx, nominatim):
    nominatim.body = []
    assert geocode_address(STREET, DESA, KECAMATAN) == _desa_centroid()
    # "Not found" is an answer: it is remembered, so Nominatim is not asked again at once.
    assert geocode_address(STREET, DESA, KECAMATAN) == _desa_centroid()
    assert len(nominatim.requests) == 1


def test_without_street_nominatim_is_not_asked(ctx, nominatim):
    assert geocode_address(None, DESA, KECAMATAN) == _desa_centroid()
    assert geocode_address("", None, KECAMATAN).source == "kecamatan"
    assert nominatim.requests == []


@pytest.mark.parametrize("failure", ["server-error", "timeout"])
def test_outage_falls_back_and_is_not_cached(ctx, nominatim, failure, caplog):
    if failure == "server-error":
        nominatim.status, nominatim.body = 500, {"error": "internal"}
    else:
        nominatim.delay = 3.0  # longer than GEOCODER_TIMEOUT = 1

    with caplog.at_level("WARNING", logger="portal.core.geo"):
        assert geocode_address(STREET, DESA, KECAMATAN) == _desa_centroid()
    assert "nominatim failed" in caplog.text
    assert len(nominatim.requests) == 1

    nominatim.release.set()
    nominatim.answer_ok()
    assert geocode_address(STREET, DESA, KECAMATAN) == Point(*STUB_POINT, "nominatim")
    assert len(nominatim.requests) == 2


@pytest.mark.parametrize("pending", ["new", "dirty", "deleted", "flushed"])
def test_refuses_to_geocode_inside_a_transaction_with_pending_writes(ctx, nominatim, pending):
    if pending in ("new", "flushed"):
        db.session.add(Kecamatan(code="99.99.99", name="Kecamatan Uji", lat=3.5, lon=98.8))
        if pending == "flushed":
            db.session.flush()
    elif pending == "dirty":
        db.session.get(Desa, DESA).name = "Lubuk Pakam Tiga"
    else:
        db.session.delete(db.session.get(Desa, "12.07.28.1009"))
    with pytest.raises(RuntimeError, match="transaction"):
        geocode_address(STREET, DESA, KECAMATAN)
    assert nominatim.requests == []


def test_a_read_only_transaction_is_ended_before_the_network_call(ctx, nominatim):
    db.session.get(Desa, DESA)
    assert db.session().in_transaction()
    assert geocode_address(STREET, DESA, KECAMATAN).source == "nominatim"
    assert not db.session().in_transaction()


def test_requests_are_spaced_by_the_configured_delay(ctx, nominatim, monkeypatch):
    """Nominatim's usage policy allows one request a second; two addresses in a row wait."""
    monkeypatch.setitem(ctx.config, "GEOCODER_MIN_DELAY_SECONDS", 0.4)
    geocode_address(STREET, DESA, KECAMATAN)
    geocode_address("Jl. Tengku Raja Muda No. 1", DESA, KECAMATAN)
    first, second = nominatim.requests
    # Measured where the stub receives them, so the first request's own transit can eat a few
    # milliseconds of the gap on a loaded machine; without the delay the gap is ~0.01 s.
    assert second["at"] - first["at"] >= 0.35
