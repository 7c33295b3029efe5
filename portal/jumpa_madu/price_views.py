"""The public prices page: what the waste units serving a place pay for sorted waste.

Anyone may look, without logging in. The place is a kecamatan and desa (Kemendagri codes) or a
map pin, sent by GET: place codes are not personal data, so a result can be shared as a link.
`views.price_index` (GET /jumpa-madu/prices) returns `render_price_index()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField

from portal.core.forms import BaseForm, float_or_none
from portal.core.geo import Point, format_km
from portal.core.htmx import render_page
from portal.core.identity import local_phone
from portal.core.time import wib_date
from portal.jumpa_madu import services
from portal.jumpa_madu.models import GRAMS_PER_UNIT, Price, WasteCategory, WasteUnit
from portal.wilayah.forms import LAT_RANGE, LON_RANGE
from portal.wilayah.services import (
    DesaEntry,
    KecamatanEntry,
    all_kecamatan,
    desa_grouped,
    desa_of,
    find_desa,
)

NEAREST_SHOWN = 3  # units listed for drop-off when none collects at the chosen place


class PriceFinderForm(BaseForm):
    """Where the visitor wants prices for: a place by GET (shareable), a position by POST.

    It changes nothing, so it carries no CSRF field of its own; a POST still passes the app's
    CSRF check.
    """

    class Meta:
        csrf = False

    kecamatan = SelectField(_l("Kecamatan"), choices=[], validate_choice=False)
    desa = SelectField(_l("Desa / kelurahan"), choices=[], validate_choice=False)
    lat = HiddenField(_l("Map pin latitude"))
    lon = HiddenField(_l("Map pin longitude"))

    def pin(self) -> tuple[float, float] | None:
        """The map pin when both halves are numbers inside Deli Serdang; else no pin."""
        lat, lon = float_or_none(self.lat.data), float_or_none(self.lon.data)
        if lat is None or lon is None:
            return None
        if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
            return None
        return lat, lon


@dataclass
class Place:
    """What was chosen, as far as it is real: unknown codes from an edited URL are ignored."""

    kecamatan: KecamatanEntry | None = None
    desa: DesaEntry | None = None
    pin: tuple[float, float] | None = None
    point: Point | None = None

    @property
    def chosen(self) -> bool:
        return self.point is not None


@dataclass
class PriceRow:
    category: WasteCategory
    price: Price
    resident_price: int  # what the resident receives per kg (litre) after the unit's share

    @property
    def since(self) -> dt.date:
        return wib_date(self.price.effective_at)


@dataclass
class UnitCard:
    unit: WasteUnit
    distance: str | None  # "2,3 km", or None when no place was chosen
    rows: list[PriceRow] = field(default_factory=list)


def _place(form: PriceFinderForm, kecamatan_list: list[KecamatanEntry]) -> Place:
    place = Place()
    kec_code = form.kecamatan.data or ""
    place.kecamatan = next((k for k in kecamatan_list if k.code == kec_code), None)
    if form.desa.data:
        desa = find_desa(form.desa.data[:13])
        if desa is not None and (place.kecamatan is None or desa.kecamatan_code == kec_code):
            place.desa = desa
            place.kecamatan = place.kecamatan or next(
                (k for k in kecamatan_list if k.code == desa.kecamatan_code), None
            )
    place.pin = form.pin()
    if place.pin is not None:
        place.point = services.address_point({"latitude": place.pin[0], "longitude": place.pin[1]})
    elif place.kecamatan is not None:
        place.point = services.address_point(
            {
                "desa_code": place.desa.code if place.desa else None,
                "kecamatan_code": place.kecamatan.code,
            }
        )
    return place


def _cards(pairs: list[tuple[WasteUnit, float | None]]) -> list[UnitCard]:
    """Each unit with its prices in force: one query for all the units, whatever their number."""
    prices = services.current_prices([unit.id for unit, _km_ in pairs])
    categories = {c.id: c for c in services.all_categories()}
    cards = []
    for unit, km in pairs:
        rows = [
            PriceRow(
                categories[cid],
                price,
                services.line_amounts(GRAMS_PER_UNIT, price.price or 0, unit.resident_share_pct)[1],
            )
            for cid, price in prices.get(unit.id, {}).items()
            if cid in categories and categories[cid].is_active
        ]
        rows.sort(key=lambda row: (row.category.position, row.category.name))
        cards.append(UnitCard(unit, f"{format_km(km)} km" if km is not None else None, rows))
    return cards


def render_price_index() -> Response:
    """The page, or only its results for htmx (HX-Target: price-results)."""
    if request.method == "POST":
        # "Use my location": the device's position comes in the body, never in the URL (a
        # home's GPS point is personal data), so this lookup is not pushed to the address bar.
        form = PriceFinderForm(formdata=request.form)
    else:
        args = request.args.copy()
        args.pop("lat", None), args.pop("lon", None)
        form = PriceFinderForm(formdata=args)
    kecamatan_list = all_kecamatan()
    place = _place(form, kecamatan_list)
    covering: list[tuple[WasteUnit, float]] = []
    nearest: list[tuple[WasteUnit, float]] = []
    if place.point is not None:
        covering = services.covering_units(place.point)
        if not covering:
            nearest = services.units_by_distance(place.point)[:NEAREST_SHOWN]
        shown: list[tuple[WasteUnit, Any]] = list(covering or nearest)
    else:
        shown = [(unit, None) for unit in services.all_units(active_only=True)]
    # The desa select: the chosen kecamatan's desa, or all of them grouped (works without JS).
    desa_list = desa_of(place.kecamatan.code) if place.kecamatan else []
    return render_page(
        "jumpa_madu/price_index.html",
        partial="jumpa_madu/_price_results.html",
        target="price-results",
        finder=form,
        kecamatan_list=kecamatan_list,
        desa_list=desa_list,
        desa_groups=[] if place.kecamatan else desa_grouped(),
        place=place,
        cards=_cards(shown),
        covered=bool(covering),
        local_phone=local_phone,
    )
