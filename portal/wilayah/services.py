"""Loading the gazetteer and answering questions about it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from portal.extensions import db
from portal.wilayah.models import Desa, Kecamatan

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class LoadResult:
    kecamatan: int
    desa: int


def load_gazetteer(data_dir: Path = DATA_DIR) -> LoadResult:
    """Insert or update every kecamatan and desa from the shipped CSVs (idempotent; flushes)."""
    existing_kec = {k.code: k for k in db.session.scalars(select(Kecamatan))}
    with (data_dir / "kecamatan.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            kec = existing_kec.get(row["code"]) or Kecamatan(code=row["code"])
            kec.name, kec.lat, kec.lon = row["name"], float(row["lat"]), float(row["lon"])
            db.session.add(kec)
    db.session.flush()
    existing_desa = {d.code: d for d in db.session.scalars(select(Desa))}
    with (data_dir / "desa.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            desa = existing_desa.get(row["code"]) or Desa(code=row["code"])
            desa.kecamatan_code = row["kecamatan_code"]
            desa.name, desa.type = row["name"], row["type"]
            desa.lat, desa.lon = float(row["lat"]), float(row["lon"])
            db.session.add(desa)
    db.session.flush()
    return LoadResult(
        kecamatan=db.session.query(Kecamatan).count(), desa=db.session.query(Desa).count()
    )


def all_kecamatan() -> list[Kecamatan]:
    return list(db.session.scalars(select(Kecamatan).order_by(Kecamatan.name)))


def desa_of(kecamatan_code: str | None) -> list[Desa]:
    """The desa of one kecamatan, or every desa (ordered by kecamatan) when none is chosen."""
    stmt = select(Desa).join(Kecamatan)
    if kecamatan_code:
        stmt = stmt.where(Desa.kecamatan_code == kecamatan_code)
    return list(db.session.scalars(stmt.order_by(Kecamatan.name, Desa.name)))


def desa_grouped() -> list[tuple[Kecamatan, list[Desa]]]:
    """Every desa under its kecamatan, both by name: the no-JavaScript desa list."""
    groups: dict[str, list[Desa]] = {}
    for desa in desa_of(None):
        groups.setdefault(desa.kecamatan_code, []).append(desa)
    return [(k, groups.get(k.code, [])) for k in all_kecamatan()]
