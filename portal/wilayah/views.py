"""The desa/kelurahan select for a chosen kecamatan (the address widget's htmx fragment)."""

from __future__ import annotations

from flask import Blueprint, request

from portal.core.htmx import render_page
from portal.wilayah.services import all_kecamatan, desa_grouped, desa_of

bp = Blueprint("wilayah", __name__, url_prefix="/wilayah")


@bp.route("/desa")
def desa_options():
    """Desa of one kecamatan. htmx swaps the `desa-field` partial; a plain request gets a page."""
    kecamatan = request.args.get("kecamatan", "")[:8]
    selected = request.args.get("desa", "")[:13]
    kecs = all_kecamatan()
    kec = next((k for k in kecs if k.code == kecamatan), None)
    chosen = desa_of(kec.code) if kec else []
    return render_page(
        "wilayah/desa_index.html",
        partial="wilayah/_desa_field.html",
        target="desa-field",
        kecamatan=kec,
        kecamatan_list=kecs,
        desa_list=chosen,
        desa_groups=[(kec, chosen)] if kec else desa_grouped(),
        selected=selected,
        grouped=kec is None,
    )
