"""Loading the gazetteer and answering questions about it.

The gazetteer (22 kecamatan, 394 desa) changes only when `flask wilayah load` runs, yet every
address form, price finder and queue filter read it: 416 rows turned into ORM objects on each
such page. `gazetteer()` keeps one read-only snapshot per database in the process; loading the
gazetteer in this process refreshes it, and servers pick up a load made elsewhere at restart
(README "Deployment").
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from portal.extensions import db
from portal.wilayah.models import Desa, Kecamatan, desa_label

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
    forget_gazetteer()
    return LoadResult(
        kecamatan=db.session.query(Kecamatan).count(), desa=db.session.query(Desa).count()
    )


@dataclass(frozen=True, slots=True)
class KecamatanEntry:
    """A kecamatan as pages and forms read it (the attributes of the Kecamatan model)."""

    code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DesaEntry:
    """A desa/kelurahan as pages and forms read it (the attributes of the Desa model)."""

    code: str
    kecamatan_code: str
    name: str
    type: str
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return desa_label(self.name, self.type)


@dataclass(frozen=True)
class Gazetteer:
    kecamatan: tuple[KecamatanEntry, ...]  # by name
    groups: tuple[tuple[KecamatanEntry, tuple[DesaEntry, ...]], ...]  # desa by name under each
    by_code: dict[str, KecamatanEntry | DesaEntry] = field(default_factory=dict)


_snapshots: dict[str, Gazetteer] = {}
_lock = threading.Lock()


def gazetteer() -> Gazetteer:
    """The snapshot of this database's gazetteer, read once per process."""
    key = db.engine.url.render_as_string(hide_password=True)
    found = _snapshots.get(key)
    if found is not None:
        return found
    with _lock:
        kecs = [
            KecamatanEntry(k.code, k.name, k.lat, k.lon)
            for k in db.session.scalars(select(Kecamatan).order_by(Kecamatan.name))
        ]
        desa: dict[str, list[DesaEntry]] = {}
        for d in db.session.scalars(select(Desa).order_by(Desa.name)):
            entry = DesaEntry(d.code, d.kecamatan_code, d.name, d.type, d.lat, d.lon)
            desa.setdefault(d.kecamatan_code, []).append(entry)
        groups = tuple((k, tuple(desa.get(k.code, ()))) for k in kecs)
        by_code: dict[str, KecamatanEntry | DesaEntry] = {k.code: k for k in kecs}
        by_code.update((d.code, d) for _k, group in groups for d in group)
        found = Gazetteer(tuple(kecs), groups, by_code)
        if kecs:  # an empty gazetteer (not loaded yet) is read again next time
            _snapshots[key] = found
        return found


def forget_gazetteer() -> None:
    """Drop the snapshots (after loading the gazetteer, and between test databases)."""
    _snapshots.clear()


def all_kecamatan() -> list[KecamatanEntry]:
    return list(gazetteer().kecamatan)


def desa_of(kecamatan_code: str | None) -> list[DesaEntry]:
    """The desa of one kecamatan, or every desa (ordered by kecamatan) when none is chosen."""
    return [
        d
        for kec, group in gazetteer().groups
        if not kecamatan_code or kec.code == kecamatan_code
        for d in group
    ]


def desa_grouped() -> list[tuple[KecamatanEntry, list[DesaEntry]]]:
    """Every desa under its kecamatan, both by name: the no-JavaScript desa list."""
    return [(k, list(group)) for k, group in gazetteer().groups]


def find_desa(code: str | None) -> DesaEntry | None:
    found = gazetteer().by_code.get(code or "")
    return found if isinstance(found, DesaEntry) else None


def find_kecamatan(code: str | None) -> KecamatanEntry | None:
    found = gazetteer().by_code.get(code or "")
    return found if isinstance(found, KecamatanEntry) else None
