"""`flask seed scale`: a regency-sized dataset in minutes, for the benchmark (issue 7).

At full size (``--products 100000``): 10,000 shops, 100,000 products, 50,000 residents, 200,000
SADOKU requests with their timelines, 100,000 Jumpa Madu pickups with weighings and about
1,000,000 ledger entries; a smaller ``--products`` scales every count in proportion.

Speed comes from planning every row in Python and writing it with SQLAlchemy Core bulk inserts
(``insert(table)`` with lists of dicts, executemany in batches, one transaction per batch), never
ORM objects per row. Ids are handed out here (after the table's highest id) so children can point
at parents without a round trip; PostgreSQL's sequences are moved past them at the end. Inserting
through the models' `Table` objects keeps the column types at work: NIK, KK and TOTP secrets go
through `EncryptedString` (encrypted with the current key) and enums are checked. One Argon2 hash
of the demo password serves every generated account (hashing 50,000 would take hours).

The data obeys the rules the services enforce, so every page works on it:

- SADOKU timelines start with the submission and move only along `TRANSITIONS`; the request's
  status, code, due date, closing time, courier and hand-over follow its last event. Attachment
  rows point at files that are not written (a download answers 404, like a purged one).
- Pickups move only along `PICKUP_TRANSITIONS`; weighings use the price in force at the time,
  frozen on each line; a confirmed pickup's resident share is credited once.
- The ledger: every transaction sums to zero, wallets never go below zero at any moment
  (withdrawals are simulated in time order per resident), ids follow time so statements' running
  balances are right, and the accounts are inserted with their final balances.
- Mall products are in the search index (SQLite FTS5 rows; PostgreSQL indexes `search_text`).
  Photos are not drawn: with ``--photos`` (default) products share the demo's photo files through
  hard links under new keys (keys are unique); without demo photos products have none.

Times spread over the last two years, busier lately; places follow the kecamatan's population.
Generated accounts use ``@scale.test`` addresses and the demo password; staff share the demo TOTP
secret. Demo mode only (the command refuses otherwise), on a database holding at most the demo.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
import os
import random
import secrets
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Engine

from portal.accounts.models import Role, RoleGrant, User
from portal.core.crypto import nik_lookup_hash
from portal.core.money import format_rupiah
from portal.core.time import LONG_DAY, WIB, add_working_days, format_day, wib_date
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu.models import (
    Measure,
    PayoutMethod,
    Pickup,
    PickupEstimate,
    PickupEvent,
    PickupStatus,
    Price,
    UnitType,
    WasteCategory,
    WasteUnit,
    Weighing,
    WeighingLine,
    Withdrawal,
    WithdrawalStatus,
)
from portal.mall.models import (
    Availability,
    MallCategory,
    PriceKind,
    Product,
    ProductPhoto,
    ProductStatus,
    Report,
    ReportReason,
    ReportStatus,
    Shop,
    ShopStatus,
)
from portal.mall.search import FTS_TABLE, fold
from portal.sadoku.models import (
    Attachment,
    DocumentRequest,
    DocumentType,
    FailureReason,
    Reason,
    Relation,
    RequestEvent,
    Status,
)
from portal.wilayah.models import Desa, Kecamatan

SCALE_DOMAIN = "scale.test"
BATCH_ROWS = 5000
YEARS = 2
# Demo data is small; a database holding more than this is not a demo database to grow.
DEMO_LIMITS = {"users": 200, "mall_products": 2000, "sadoku_requests": 500, "jm_pickups": 500}


@dataclass(frozen=True)
class Sizes:
    """How many rows of each kind to make."""

    shops: int
    products: int
    residents: int
    requests: int
    pickups: int
    ledger_entries: int  # a target: withdrawals are made only where the wallet allows them

    @classmethod
    def for_products(cls, products: int) -> Sizes:
        """Everything in proportion to the issue's full size (100,000 products)."""

        def part(full: int) -> int:
            return max(1, round(full * products / FULL_PRODUCTS))

        return cls(
            shops=part(10_000),
            products=max(1, products),
            residents=max(10, part(50_000)),
            requests=part(200_000),
            pickups=part(100_000),
            ledger_entries=part(1_000_000),
        )


FULL_PRODUCTS = 100_000


@dataclass
class ScaleReport:
    """What was made: rows and seconds per table, and accounts worth logging in as."""

    sizes: Sizes | None = None
    tables: dict[str, tuple[int, float]] = field(default_factory=dict)
    planning_seconds: float = 0.0
    check_seconds: float = 0.0
    total_seconds: float = 0.0
    ledger_problems: list[str] = field(default_factory=list)
    samples: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """The table the command prints: rows and seconds per table, the check, the logins."""
        lines = ["", f"{'table':<28} {'rows':>10} {'seconds':>9}"]
        for table, (rows, seconds) in self.tables.items():
            lines.append(f"{table:<28} {rows:>10,} {seconds:>9.1f}")
        lines.append(f"{'(planning in Python)':<28} {'':>10} {self.planning_seconds:>9.1f}")
        lines.append(f"{'(ledger check)':<28} {'':>10} {self.check_seconds:>9.1f}")
        lines.append(f"Total: {self.total_seconds:.1f} s")
        if not self.ledger_problems:
            lines.append(
                "Ledger OK: every transaction sums to zero and every balance matches its entries."
            )
        lines.append("Accounts to try (the demo password; staff use the demo TOTP secret):")
        lines += [f"  {login:<40} {what}" for login, what in self.samples]
        return lines


# --- guard --------------------------------------------------------------------------------------


def refusal(force: bool) -> str | None:
    """Why seeding must not run here (None: go ahead). Outside demo mode it never runs."""
    if not current_app.config.get("DEMO_MODE"):
        return "Scale data is only allowed in demo mode (never in production)."
    if force:
        return None
    counts = {
        name: db.session.scalar(text(f"SELECT count(*) FROM {name}"))  # noqa: S608 - constants
        for name in DEMO_LIMITS
    }
    over = [
        f"{name}: {counts[name]}" for name, limit in DEMO_LIMITS.items() if counts[name] > limit
    ]
    if over:
        return (
            "This database holds more than the demo data ("
            + ", ".join(over)
            + "). Use --force to add scale data anyway."
        )
    scale_users = db.session.scalar(
        select(func.count(User.id)).where(User.email.like(f"%@{SCALE_DOMAIN}"))
    )
    if scale_users:
        return "This database already holds scale data. Use --force to add more."
    return None


# --- word lists -----------------------------------------------------------------------------------

FEMALE = ("Siti", "Nur", "Dewi", "Sri", "Rina", "Yuliana", "Rosmawati", "Tiurma", "Lestari",
          "Putri", "Fitri", "Aisyah", "Maimunah", "Rotua", "Debora", "Ani", "Evi", "Wati",
          "Hotmaida", "Sarah", "Nurhayati", "Ratna", "Intan", "Rahmawati", "Sondang", "Ernita",
          "Juliana", "Kartini", "Halimah", "Mariani")  # fmt: skip
MALE = ("Ahmad", "Budi", "Rudi", "Agus", "Hendra", "Darwin", "Benny", "Sahat", "Janter", "Paino",
        "Rasmin", "Sukardi", "Rahmat", "Irwansyah", "Zulkifli", "Bonar", "Darma", "Togar", "Hasan",
        "Syahrial", "Edi", "Joko", "Wagino", "Ridwan", "Fauzi", "Andi", "Dedi", "Samuel",
        "Martin", "Ucok")  # fmt: skip
FAMILY = ("Nasution", "Lubis", "Siregar", "Harahap", "Simanjuntak", "Sinaga", "Ginting", "Tarigan",
          "Sembiring", "Sitepu", "Purba", "Saragih", "Manurung", "Situmorang", "Pane", "Daulay",
          "Hasibuan", "Pohan", "Rangkuti", "Batubara", "Hutagalung", "Panjaitan", "Sitompul",
          "Damanik", "Barus", "Matondang", "Tanjung", "Sihombing", "Pardede", "Wahyuni",
          "Hidayat", "Saputra", "Syahputra", "Pratama", "Wijaya", "Susanti", "Rahayu", "Hartono",
          "Santoso", "Harianja")  # fmt: skip
STREETS = ("Jl. Besar", "Jl. Pendidikan", "Jl. Masjid", "Jl. Pasar", "Jl. Sudirman",
           "Jl. Diponegoro", "Jl. Kartini", "Jl. Pahlawan", "Jl. Bakti", "Jl. Karya", "Jl. Mawar",
           "Jl. Melati", "Jl. Kenanga", "Jl. Merdeka", "Jl. Sekolah", "Jl. Lintas Sumatera",
           "Gg. Rukun", "Gg. Damai", "Gg. Amal", "Gg. Keluarga", "Gg. Sepakat")  # fmt: skip
DUSUN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

# Approximate population of each kecamatan (thousands, 2020 census): where people, requests,
# pickups and shops are. Codes missing here weigh 30.
KECAMATAN_WEIGHT = {
    "12.07.01": 3, "12.07.02": 230, "12.07.03": 22, "12.07.04": 42, "12.07.05": 100,
    "12.07.06": 46, "12.07.07": 41, "12.07.08": 36, "12.07.09": 25, "12.07.19": 75,
    "12.07.20": 15, "12.07.21": 100, "12.07.22": 75, "12.07.23": 290, "12.07.24": 180,
    "12.07.25": 80, "12.07.26": 470, "12.07.27": 70, "12.07.28": 100, "12.07.31": 43,
    "12.07.32": 55, "12.07.33": 65,
}  # fmt: skip

SHOP_CATEGORY_WEIGHT = {"kuliner": 40, "fesyen": 12, "kriya": 12, "pertanian": 14, "herbal": 10,
                        "dekorasi": 6, "jasa": 6}  # fmt: skip
SHOP_PREFIX = {
    "kuliner": ("Dapur", "Warung", "Kedai", "Rumah Kue", "Keripik", "Dodol", "Sambal", "Kopi"),
    "fesyen": ("Butik", "Ulos", "Songket", "Batik", "Konveksi", "Tenun"),
    "kriya": ("Anyaman", "Kerajinan", "Ukir", "Rotan", "Galeri"),
    "pertanian": ("Tani", "Kebun", "Ternak", "Tambak", "Hidroponik"),
    "herbal": ("Jamu", "Herbal", "Sabun Alami", "Madu"),
    "dekorasi": ("Mebel", "Dekor", "Furnitur", "Rumah Rotan"),
    "jasa": ("Jahit", "Servis", "Katering", "Laundry", "Rias"),
}
PRODUCT_VARIANTS = ("", "", "", "Original", "Spesial", "Premium", "Kemasan Hemat", "Isi 500 g",
                    "Ukuran Besar", "Rasa Pedas", "Oleh-oleh", "Asli", "Super", "Mini",
                    "Kemasan Keluarga")  # fmt: skip
PRODUCT_EXTRAS = ("", "Bisa dikirim ke seluruh Deli Serdang.", "Pesanan partai besar dilayani.",
                  "Dibuat setiap hari, tanpa pengawet.", "Tanyakan stok lewat WhatsApp dulu.",
                  "Cocok untuk oleh-oleh dan hantaran.")  # fmt: skip
HOURS = ("Senin-Sabtu 08.00-17.00", "Setiap hari 07.00-20.00", "Senin-Jumat 09.00-16.00", "")

CORRECTION_NOTES = (
    "Foto lampiran kurang jelas. Mohon unggah ulang yang terbaca.",
    "Nomor KK tidak sesuai dengan lampiran. Mohon periksa kembali.",
    "Alamat pengantaran belum lengkap. Tambahkan nomor rumah dan patokan.",
)
REJECT_REASONS = (
    "Formulir F-1.03 belum ditandatangani. Silakan ajukan kembali.",
    "Data lampiran tidak sesuai dengan data kependudukan. Silakan datang ke kantor Disdukcapil.",
    "Dokumen yang sama sudah diterbitkan bulan ini.",
)
CANCEL_REASONS = ("Sudah diurus langsung di kantor.", "Salah memilih jenis dokumen.", "")
PICKUP_CANCEL = ("Sampah sudah saya antar sendiri ke bank sampah.", "", "Saya pindah rumah.")
NOBODY_HOME_NOTE = "Rumah kosong, pagar terkunci. Kami jadwalkan ulang."
REJECTED_NOTE = "Sampah belum dipilah dan masih basah. Mohon dipilah dulu."
OFFICER_CANCEL = "Warga tidak dapat dihubungi untuk jadwal baru."
DISPUTE_REASON = "Timbangan kardus saya lebih berat dari yang dicatat."
RESOLVE_NOTE = "Sudah dicek ulang bersama warga; timbangan sudah sesuai."
WITHDRAWAL_REJECT = "Nama pemilik rekening tidak sama dengan nama akun. Silakan ajukan lagi."
COLLECT_NOTE = "Silakan ambil di loket Disdukcapil pada jam kerja."
BLOCKED_REASON = "Produk ini melanggar ketentuan Mall. Hubungi admin untuk membukanya kembali."


# --- bulk writing ---------------------------------------------------------------------------------


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Loader:
    """Bulk inserts in batches (one transaction each), with rows and seconds per table."""

    def __init__(self, engine: Engine, report: ScaleReport, progress: Callable[[str], None]):
        self.engine = engine
        self.report = report
        self.progress = progress
        self.tables: list[Table] = []

    def next_id(self, table: Table) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1

    def insert(self, table: Table, rows: Iterable[dict[str, Any]], name: str | None = None) -> int:
        """Write `rows` (made lazily, so their making is timed too) into `table`."""
        return self._run(name or table.name, insert(table), rows, table)

    def execute(self, name: str, statement: Any, rows: Iterable[dict[str, Any]]) -> int:
        return self._run(name, statement, rows, None)

    def _run(self, name: str, statement: Any, rows: Iterable[dict[str, Any]], table: Any) -> int:
        start = time.perf_counter()
        count = 0
        with self.engine.connect() as conn:
            for batch in _batches(rows, BATCH_ROWS):
                with conn.begin():
                    conn.execute(statement, batch)
                count += len(batch)
        seconds = time.perf_counter() - start
        old_count, old_seconds = self.report.tables.get(name, (0, 0.0))
        self.report.tables[name] = (old_count + count, old_seconds + seconds)
        if table is not None and table not in self.tables:
            self.tables.append(table)
        self.progress(f"  {name:<28} {count:>9,} rows {seconds:8.1f} s")
        return count

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids given here, then refresh the statistics."""
        start = time.perf_counter()
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                for table in self.tables:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                            f"(SELECT max(id) FROM {table.name}))"
                        )
                    )
        if self.engine.dialect.name == "postgresql":
            # What autovacuum does to a table some time after a bulk load: fresh statistics, and a
            # visibility map, without which every index-only scan reads the heap as well (the
            # SADOKU queue's capped counts took 11 ms instead of 2 on a just-seeded database).
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        self.report.tables["(sequences, vacuum)"] = (0, time.perf_counter() - start)


# --- shared planning helpers ----------------------------------------------------------------------


@dataclass
class _Place:
    desa_code: str
    kecamatan_code: str
    name: str
    kecamatan_name: str
    lat: float
    lon: float


@dataclass
class _Person:
    id: int
    created_at: dt.datetime
    full_name: str
    female: bool
    place: _Place
    street: str
    rt: str
    rw: str
    phone: str
    email: str | None
    nik: str
    kk: str
    role: str = "resident"
    store_nik: bool = False


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (the same formula as core.geo.distance_km, without Point objects)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class _Plan:
    """Random choices shared by every area: places, people, times."""

    def __init__(self, rng: random.Random, now: dt.datetime, places: list[_Place]):
        self.rng = rng
        self.now = now
        self.start = now - dt.timedelta(days=365 * YEARS)
        self.places = places
        counts = Counter(p.kecamatan_code for p in places)
        weights = [
            KECAMATAN_WEIGHT.get(p.kecamatan_code, 30) / counts[p.kecamatan_code] for p in places
        ]
        self._cum = list(_accumulate(weights))

    def place(self) -> _Place:
        return self.places[bisect.bisect(self._cum, self.rng.random() * self._cum[-1])]

    def after(self, earliest: dt.datetime, bias: float = 0.6) -> dt.datetime:
        """A time between `earliest` and now, more often recent (activity grows)."""
        span = (self.now - earliest).total_seconds()
        if span <= 0:
            return self.now
        return earliest + dt.timedelta(seconds=span * self.rng.random() ** bias)

    def hours(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(hours=self.rng.uniform(low, high))

    def street(self) -> str:
        if self.rng.random() < 0.3:
            return f"Dusun {self.rng.choice(DUSUN)}"
        return f"{self.rng.choice(STREETS)} No. {self.rng.randint(1, 180)}"


def _accumulate(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _region(place: _Place) -> str:
    """The NIK/KK region digits of a kecamatan: 12.07.28 -> 120728."""
    return place.kecamatan_code.replace(".", "")


def _nik(rng: random.Random, place: _Place, female: bool, serial: int) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 56))
    day = born.day + (40 if female else 0)
    return f"{_region(place)}{day:02d}{born.month:02d}{born.year % 100:02d}{serial % 9999 + 1:04d}"


def _kk(rng: random.Random, place: _Place, serial: int) -> str:
    issued = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
    return f"{_region(place)}{issued:%d%m%y}{serial % 9999 + 1:04d}"


def _token_key(namespace: str, extension: str) -> str:
    """A key of the shape `LocalStorage.save` makes (no file is written for it)."""
    token = secrets.token_urlsafe(24)
    return f"{namespace}/{token[:2]}/{token}{extension}"


# --- the command's entry point --------------------------------------------------------------------


def seed_scale(
    sizes: Sizes,
    *,
    seed: int = 2026,
    photos: bool = True,
    progress: Callable[[str], None] = lambda _line: None,
) -> ScaleReport:
    """Make the dataset and commit it batch by batch. Demo mode only (see `refusal`)."""
    from portal.jumpa_madu.services import seed_categories as seed_waste_categories
    from portal.mall.services import seed_categories as seed_mall_categories
    from portal.sadoku.services import seed_catalogue
    from portal.wilayah.services import load_gazetteer

    started = time.perf_counter()
    report = ScaleReport(sizes=sizes)
    # Reference data the generated rows point at (idempotent, as in `seed demo`).
    load_gazetteer()
    seed_catalogue()
    seed_waste_categories()
    seed_mall_categories()
    db.session.commit()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        rng = random.Random(seed)  # noqa: S311 - made-up data, reproducible from the seed
        world = _World(sizes, rng, photos, progress, report)
        world.run()
    db.session.expire_all()
    checked = time.perf_counter()
    report.ledger_problems = ledger.check()
    db.session.rollback()
    report.check_seconds = time.perf_counter() - checked
    report.total_seconds = time.perf_counter() - started
    return report


class _World:
    """Plans and writes every area in dependency order."""

    def __init__(
        self,
        sizes: Sizes,
        rng: random.Random,
        photos: bool,
        progress: Callable[[str], None],
        report: ScaleReport,
    ):
        self.sizes = sizes
        self.rng = rng
        self.photos = photos
        self.progress = progress
        self.report = report
        self.loader = _Loader(db.engine, report, progress)
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        kecamatan = {k.code: k.name for k in db.session.scalars(select(Kecamatan))}
        places = [
            _Place(d.code, d.kecamatan_code, d.name, kecamatan[d.kecamatan_code], d.lat, d.lon)
            for d in db.session.scalars(select(Desa).order_by(Desa.code))
        ]
        self.plan = _Plan(rng, self.now, places)
        self.admin_id = db.session.scalar(
            select(RoleGrant.user_id).where(RoleGrant.role == Role.ADMIN).limit(1)
        )
        self.password_hash = _password_hash()
        self.people: list[_Person] = []
        self.staff: dict[str, list[_Person]] = defaultdict(list)
        self.units: list[dict[str, Any]] = []
        self.unit_officers: dict[int, list[int]] = {}
        self._days: dict[tuple[dt.date, str], str] = {}
        # Text the services store, in the default language, with {placeholders} to fill.
        self.t_planned = _("Delivery planned for %(date)s.", date="{date}")
        self.t_received = _(
            "Received by %(name)s (%(relation)s).", name="{name}", relation="{relation}"
        )
        self.t_pickup_on = _("Pickup on %(day)s, %(window)s", day="{day}", window="{window}")
        self.t_weighed = _(
            "%(weight)s, %(amount)s to the resident", weight="{weight}", amount="{amount}"
        )
        self.t_auto = _("Confirmed automatically: no answer within the confirmation period")

    # -- orchestration --

    def run(self) -> None:
        t0 = time.perf_counter()
        self.progress(f"Seeding at scale: {self.sizes}")
        self.progress("Planning people, units, requests and pickups...")
        self._plan_people()
        self._plan_units()
        requests = self._plan_requests()
        pickups = self._plan_pickups()
        self.report.planning_seconds = time.perf_counter() - t0
        db.session.commit()  # end the reads' transaction before the writers start
        self.progress(f"  planned in {self.report.planning_seconds:.1f} s; writing:")
        self._write_people()
        self._write_mall()
        self._write_requests(requests)
        self._write_jumpa_madu(pickups)
        self.loader.finish()
        self._samples(requests, pickups)

    # -- people --

    def _person(self, pid: int, created: dt.datetime, role: str) -> _Person:
        rng = self.rng
        female = rng.random() < 0.5
        first = rng.choice(FEMALE if female else MALE)
        name = f"{first} {rng.choice(FAMILY)}"
        place = self.plan.place()
        return _Person(
            id=pid,
            created_at=created,
            full_name=name,
            female=female,
            place=place,
            street=self.plan.street(),
            rt=f"{rng.randint(1, 12):03d}",
            rw=f"{rng.randint(1, 8):03d}",
            phone=f"+62819{pid:08d}",
            email=None,
            nik=_nik(rng, place, female, pid),
            kk=_kk(rng, place, pid),
            role=role,
        )

    def _plan_people(self) -> None:
        """Staff first (they were there from the start), then residents in sign-up order."""
        users = User.__table__
        next_id = self.loader.next_id(users)

        def count(full: int) -> int:
            return max(2, round(full * self.sizes.products / FULL_PRODUCTS))

        staff_roles = [("petugas.sadoku", count(20)), ("kurir.sadoku", count(12))]
        staff_roles.append(("petugas.unit", count(60)))
        for prefix, count in staff_roles:
            for _n in range(count):
                person = self._person(next_id, self.plan.start - dt.timedelta(days=30), prefix)
                person.email = f"{prefix}{next_id}@{SCALE_DOMAIN}"
                self.staff[prefix].append(person)
                self.people.append(person)
                next_id += 1
        joined = sorted(
            self.plan.start
            - dt.timedelta(days=20)
            + (self.now - self.plan.start) * (self.rng.random() ** 0.9)
            for _ in range(self.sizes.residents)
        )
        for created in joined:
            person = self._person(next_id, created - dt.timedelta(days=1), "resident")
            if self.rng.random() < 0.5:
                person.email = f"warga{next_id}@{SCALE_DOMAIN}"
            self.people.append(person)
            next_id += 1
        self.residents = [p for p in self.people if p.role == "resident"]

    def _write_people(self) -> None:
        from portal.accounts.mfa import DEMO_TOTP_SECRET

        version = current_app.config["PRIVACY_NOTICE_VERSION"]

        def rows() -> Iterator[dict[str, Any]]:
            for p in self.people:
                staff = p.role != "resident"
                nik = p.nik if p.store_nik else None
                yield {
                    "id": p.id,
                    "full_name": p.full_name,
                    "email": p.email,
                    "phone": p.phone,
                    "password_hash": self.password_hash,
                    "nik": nik,  # encrypted by EncryptedString on the way in
                    "nik_hash": nik_lookup_hash(nik),
                    "consent_at": p.created_at,
                    "consent_version": version,
                    "is_disabled": False,
                    "created_at": p.created_at,
                    "last_login_at": self.plan.after(p.created_at, 0.3),
                    "totp_secret": DEMO_TOTP_SECRET if staff else None,
                    "mfa_enrolled_at": p.created_at if staff else None,
                    "kecamatan_code": p.place.kecamatan_code,
                    "desa_code": p.place.desa_code,
                    "street": p.street,
                    "rt": p.rt,
                    "rw": p.rw,
                    "landmark": None,
                    "latitude": None,
                    "longitude": None,
                }

        self.loader.insert(User.__table__, rows())

    def _grants(self, sellers: list[tuple[int, dt.datetime]]) -> None:
        grants = RoleGrant.__table__
        next_id = self.loader.next_id(grants)
        roles = {
            "petugas.sadoku": Role.SADOKU_OFFICER,
            "kurir.sadoku": Role.SADOKU_COURIER,
        }
        rows: list[dict[str, Any]] = []

        def add(user_id: int, role: Role, scope: str, at: dt.datetime) -> None:
            nonlocal next_id
            rows.append(
                {
                    "id": next_id,
                    "user_id": user_id,
                    "role": role,
                    "scope": scope,
                    "granted_at": at,
                    "granted_by_id": self.admin_id,
                }
            )
            next_id += 1

        for prefix, role in roles.items():
            for p in self.staff[prefix]:
                add(p.id, role, "", p.created_at)
        for unit_id, officer_ids in self.unit_officers.items():
            for officer_id in officer_ids:
                add(officer_id, Role.WASTE_OFFICER, str(unit_id), self.plan.start)
        for owner_id, at in sellers:
            add(owner_id, Role.SELLER, "", at)
        self.loader.insert(grants, rows)

    # -- Deli Serdang Mall --

    def _write_mall(self) -> None:
        from portal.mall.demo import CATALOGUE
        from portal.mall.services import slugify

        rng, plan = self.rng, self.plan
        categories = {c.slug: c for c in db.session.scalars(select(MallCategory))}
        slugs = [s for s in SHOP_CATEGORY_WEIGHT if s in categories and s in CATALOGUE]
        weights = [SHOP_CATEGORY_WEIGHT[s] for s in slugs]
        owners = rng.sample(self.residents, min(self.sizes.shops, len(self.residents)))
        owners.sort(key=lambda p: p.created_at)
        shop_table, product_table = Shop.__table__, Product.__table__
        shop_id = self.loader.next_id(shop_table)
        statuses = (
            [ShopStatus.VERIFIED] * 75
            + [ShopStatus.SUBMITTED] * 10
            + [ShopStatus.CHANGES_REQUESTED] * 5
            + [ShopStatus.DRAFT] * 7
            + [ShopStatus.SUSPENDED] * 3
        )
        shops: list[dict[str, Any]] = []
        sellers: list[tuple[int, dt.datetime]] = []
        for owner in owners:
            slug = rng.choices(slugs, weights)[0]
            place = owner.place
            name = f"{rng.choice(SHOP_PREFIX[slug])} {owner.full_name.split()[0]} {place.name}"[:80]
            created = plan.after(owner.created_at + dt.timedelta(hours=1), 0.8)
            status = rng.choice(statuses)
            submitted = created + plan.hours(1, 72) if status != ShopStatus.DRAFT else None
            verified = None
            if status in (ShopStatus.VERIFIED, ShopStatus.SUSPENDED) and submitted:
                verified = min(submitted + plan.hours(4, 120), self.now)
                sellers.append((owner.id, verified))
            food = slug in ("kuliner", "herbal")
            pirt_year = rng.randint(2024, 2031)
            shops.append(
                {
                    "id": shop_id,
                    "slug": f"{slugify(name)}-{shop_id}",
                    "name": name,
                    "owner_id": owner.id,
                    "owner_name": owner.full_name,
                    "description": f"{name}: usaha {categories[slug].name.lower()} dari "
                    f"{place.name}, {place.kecamatan_name}. Pesan lewat WhatsApp, bisa diambil "
                    "atau diantar.",
                    "category_id": categories[slug].id,
                    "whatsapp": owner.phone,
                    "opening_hours": rng.choice(HOURS),
                    "logo_key": None,
                    "logo_width": None,
                    "logo_height": None,
                    "nib": f"9120{shop_id:09d}" if rng.random() < 0.6 else None,
                    "pirt_number": f"2{shop_id % 10**12:012d}{pirt_year % 100:02d}"
                    if food and rng.random() < 0.5
                    else None,
                    "pirt_expiry_year": None,
                    "halal_number": f"ID12110{shop_id:010d}"
                    if food and rng.random() < 0.3
                    else None,
                    "halal_expiry": dt.date(rng.randint(2025, 2030), rng.randint(1, 12), 1),
                    "bpom_number": f"MD2{shop_id:011d}" if food and rng.random() < 0.1 else None,
                    "status": status,
                    "status_reason": "Lengkapi alamat dan nomor NIB, lalu ajukan kembali."
                    if status == ShopStatus.CHANGES_REQUESTED
                    else "Toko ditangguhkan karena laporan pembeli."
                    if status == ShopStatus.SUSPENDED
                    else "",
                    "warnings": 1 if status == ShopStatus.SUSPENDED else 0,
                    "submitted_at": submitted,
                    "verified_at": verified,
                    "verified_by_id": self.admin_id if verified else None,
                    "created_at": created,
                    "updated_at": verified or submitted or created,
                    "version": 1,
                }
            )
            shop = shops[-1]
            if shop["pirt_number"]:
                shop["pirt_expiry_year"] = 2000 + pirt_year % 100
            if shop["halal_number"] is None:
                shop["halal_expiry"] = None
            shop_id += 1
        self.loader.insert(shop_table, shops)
        self._grants(sellers)
        self.shops = shops

        # Products: a few shops have many, most have a handful.
        shop_weights = [rng.paretovariate(1.6) for _ in shops]
        chosen = rng.choices(range(len(shops)), shop_weights, k=self.sizes.products)
        chosen.sort(key=lambda i: shops[i]["created_at"])
        next_position: Counter[int] = Counter()
        plans: list[dict[str, Any]] = []
        for index in chosen:
            shop = shops[index]
            slug = next(s for s, c in categories.items() if c.id == shop["category_id"])
            item = rng.choice(CATALOGUE[slug])
            variant = rng.choice(PRODUCT_VARIANTS)
            name = f"{item.name} {variant}".strip()[:120]
            description = f"{item.description} {rng.choice(PRODUCT_EXTRAS)}".strip()
            created = plan.after(shop["created_at"], 0.7)
            kind, low, high = _price(rng, item.price)
            roll = rng.random()
            if shop["status"] == ShopStatus.DRAFT or roll < 0.07:
                status = ProductStatus.DRAFT
            elif roll < 0.12:
                status = ProductStatus.HIDDEN
            else:
                status = ProductStatus.PUBLISHED
            availability = (
                Availability.PREORDER
                if item.preorder or rng.random() < 0.08
                else Availability.OUT_OF_STOCK
                if rng.random() < 0.1
                else Availability.AVAILABLE
            )
            next_position[index] += 1
            plans.append(
                {
                    "shop_id": shop["id"],
                    "name": name,
                    "category_id": shop["category_id"],
                    "price_kind": kind,
                    "price_min": low,
                    "price_max": high,
                    "unit": item.unit,
                    "min_order": item.min_order,
                    "availability": availability,
                    "description": description,
                    "ships_pickup": True,
                    "ships_local": rng.random() < 0.7,
                    "ships_national": item.ships_far and rng.random() < 0.5,
                    "status": status,
                    "blocked_reason": None,
                    "position": next_position[index],
                    "search_text": fold(f"{name} {shop['name']} {description}"),
                    "created_at": created,
                    "updated_at": created,
                    "published_at": created + plan.hours(0, 2)
                    if status != ProductStatus.DRAFT
                    else None,
                }
            )
        product_id = self.loader.next_id(product_table)
        for row in plans:
            row["id"] = product_id
            product_id += 1
            if row["published_at"] and row["published_at"] > self.now:
                row["published_at"] = self.now
        # A few listings blocked by a moderator, a few reported and waiting.
        public = [r for r in plans if r["status"] == ProductStatus.PUBLISHED]
        blocked = rng.sample(public, max(1, len(public) // 1000)) if public else []
        for row in blocked:
            row["status"], row["blocked_reason"] = ProductStatus.HIDDEN, BLOCKED_REASON
        self.loader.insert(product_table, plans)
        self.products = plans
        if db.engine.dialect.name == "sqlite":
            self.loader.execute(
                FTS_TABLE,
                text(f"INSERT INTO {FTS_TABLE} (rowid, body) VALUES (:id, :body)"),  # noqa: S608
                ({"id": r["id"], "body": r["search_text"]} for r in plans),
            )
        self._write_reports(blocked, public)
        if self.photos:
            self._write_photos(plans)

    def _write_reports(self, blocked: list[dict[str, Any]], public: list[dict[str, Any]]) -> None:
        table = Report.__table__
        next_id = self.loader.next_id(table)
        rows = []
        reported = [r for r in public if r["blocked_reason"] is None]
        open_ones = self.rng.sample(reported, min(len(reported), max(1, len(public) // 1000)))
        for row, status in [(r, ReportStatus.HIDDEN) for r in blocked] + [
            (r, ReportStatus.OPEN) for r in open_ones
        ]:
            made = self.plan.after(row["created_at"], 0.3)
            rows.append(
                {
                    "id": next_id,
                    "product_id": row["id"],
                    "reason": ReportReason.MISLEADING,
                    "detail": "Deskripsi tidak sesuai dengan barang yang dikirim.",
                    "reporter_id": None,
                    "status": status,
                    "resolution_note": BLOCKED_REASON if status == ReportStatus.HIDDEN else "",
                    "resolved_by_id": self.admin_id if status == ReportStatus.HIDDEN else None,
                    "resolved_at": made + dt.timedelta(hours=5)
                    if status == ReportStatus.HIDDEN
                    else None,
                    "created_at": made,
                }
            )
            next_id += 1
        self.loader.insert(table, rows)

    def _write_photos(self, products: list[dict[str, Any]]) -> None:
        """Most products get one photo: hard links to a demo photo's files under new keys."""
        from portal.core.uploads import LocalStorage, get_storage
        from portal.mall.services import STORAGE_NAMESPACE

        storage = get_storage()
        if not isinstance(storage, LocalStorage):
            return
        root = Path(storage.root)
        sources = [
            s
            for s in db.session.execute(
                select(
                    ProductPhoto.key,
                    ProductPhoto.width,
                    ProductPhoto.height,
                    ProductPhoto.thumb_key,
                    ProductPhoto.thumb_width,
                    ProductPhoto.thumb_height,
                ).limit(200)
            ).all()
            if (root / s.key).is_file() and (root / s.thumb_key).is_file()
        ]
        db.session.commit()
        if not sources:
            self.progress("  (no demo photos to share: products have no photos)")
            return
        table = ProductPhoto.__table__
        next_id = self.loader.next_id(table)

        def link(source: str) -> str:
            key = _token_key(STORAGE_NAMESPACE, ".webp")
            target = root / key
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                os.link(root / source, target)
            except OSError:
                shutil.copyfile(root / source, target)
            return key

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal next_id
            for product in products:
                if self.rng.random() >= 0.85:
                    continue
                s = self.rng.choice(sources)
                yield {
                    "id": next_id,
                    "product_id": product["id"],
                    "position": 0,
                    "key": link(s.key),
                    "width": s.width,
                    "height": s.height,
                    "thumb_key": link(s.thumb_key),
                    "thumb_width": s.thumb_width,
                    "thumb_height": s.thumb_height,
                    "created_at": product["created_at"],
                }
                next_id += 1

        self.loader.insert(table, rows())

    # -- SADOKU --

    def _plan_requests(self) -> list[dict[str, Any]]:
        """Each request's fields and timeline; ids in submission order."""
        from portal.sadoku.services import STEPS, holidays_from

        rng, plan = self.rng, self.plan
        types = list(db.session.scalars(select(DocumentType).where(DocumentType.is_active)))
        type_weights = [
            {"ktp-el": 30, "kk": 25, "kia": 12, "akta-kelahiran": 18, "akta-kematian": 6}.get(
                t.slug, 3
            )
            for t in types
        ]
        self.holidays = holidays_from(self.plan.start.date() - dt.timedelta(days=30))
        officers = [p.id for p in self.staff["petugas.sadoku"]]
        couriers = [p.id for p in self.staff["kurir.sadoku"]]
        owners = self.residents
        out: list[dict[str, Any]] = []
        for _n in range(self.sizes.requests):
            owner = owners[int(len(owners) * rng.random() ** 1.4)]
            doc = rng.choices(types, type_weights)[0]
            created = plan.after(owner.created_at + dt.timedelta(hours=1))
            draft = rng.random() < 0.02
            self_request = rng.random() < 0.8
            if self_request:
                owner.store_nik = True
                subject_name, nik = owner.full_name, owner.nik
            else:
                female = rng.random() < 0.5
                first = rng.choice(FEMALE if female else MALE)
                subject_name = f"{first} {owner.full_name.split()[-1]}"
                nik = _nik(rng, owner.place, female, rng.randrange(9999))
            req = {
                "code": None,
                "user_id": owner.id,
                "document_type_id": doc.id,
                "reason": rng.choices(list(Reason), (50, 25, 10, 15))[0],
                "subject_is_self": self_request,
                "subject_name": subject_name,
                "subject_nik": nik,
                "subject_kk": owner.kk,
                "recipient_name": owner.full_name,
                "recipient_phone": owner.phone,
                "assisted_by_id": None,
                "assisted_consent_at": None,
                "correction_items": [],
                "created_at": created,
                "declared_at": None,
                "submitted_at": None,
                "due_date": None,
                "closed_at": None,
                "courier_id": None,
                "delivery_date": None,
                "received_by": None,
                "received_relation": None,
                "delivered_at": None,
                "delivered_lat": None,
                "delivered_lon": None,
                "failure_reason": None,
                "version": 1,
                "kecamatan_code": owner.place.kecamatan_code,
                "desa_code": owner.place.desa_code,
                "street": owner.street,
                "rt": owner.rt,
                "rw": owner.rw,
                "landmark": None,
                "latitude": None,
                "longitude": None,
                "_doc": doc,
                "_owner": owner,
                "_events": [],
                "_attachments": [],
            }
            if draft:  # unsent: only the steps done so far are filled in
                req["status"], req["step_done"], req["code"] = Status.DRAFT, rng.randint(0, 4), None
                if req["step_done"] < 2:
                    req.update(subject_name=None, subject_nik=None, subject_kk=None)
                if req["step_done"] < 4:
                    req.update(dict.fromkeys(("recipient_name", "recipient_phone", "street"), None))
                    req.update(kecamatan_code=None, desa_code=None, rt=None, rw=None)
            else:
                req["step_done"] = len(STEPS)
                self._request_timeline(req, officers, couriers)
            out.append(req)
        out.sort(key=lambda r: r["created_at"])
        next_id = self.loader.next_id(DocumentRequest.__table__)
        for req in out:
            req["id"] = next_id
            next_id += 1
            if req["status"] != Status.DRAFT:
                req["code"] = f"SDK-{wib_date(req['declared_at']):%y%m}-{req['id']:06d}"
        return out

    def _request_timeline(
        self, req: dict[str, Any], officers: list[int], couriers: list[int]
    ) -> None:
        """Walk the request along TRANSITIONS; events after now are not there yet."""
        rng, plan = self.rng, self.plan
        owner: _Person = req["_owner"]
        doc: DocumentType = req["_doc"]
        officer = rng.choice(officers)
        courier = rng.choice(couriers)
        at = min(req["created_at"] + plan.hours(0.1, 1), self.now)  # sent: never in the future
        events: list[tuple[Status, Status, int | None, dt.datetime, str]] = []
        attachments: list[dict[str, Any]] = []
        for name in doc.attachment_names:
            attachments.append(_attachment(name, owner.id, req["created_at"], "document"))
        req["declared_at"] = at
        status = Status.DRAFT
        submitted_at = at
        items: list[str] = []
        failure: FailureReason | None = None
        out_day: dt.date | None = None
        delivered: dt.datetime | None = None
        relation: Relation | None = None

        def move(to: Status, who: int | None, when: dt.datetime, note: str = "") -> bool:
            nonlocal status
            if when > self.now:
                return False
            events.append((status, to, who, when, note))
            status = to
            return True

        def run() -> None:
            nonlocal at, submitted_at, items, failure, out_day, delivered, relation
            move(Status.SUBMITTED, owner.id, at)
            if rng.random() < 0.08:  # sent back once for a correction
                at += plan.hours(4, 48)
                choice = rng.random()
                if choice < 0.6 and doc.attachment_names:
                    items = [f"attachment:{doc.attachment_names[0]}"]
                elif choice < 0.85:
                    items = ["subject_kk"]
                else:
                    items = ["address"]
                if not move(Status.NEEDS_CORRECTION, officer, at, rng.choice(CORRECTION_NOTES)):
                    return
                if rng.random() < 0.05:
                    return  # never corrected
                at += plan.hours(12, 120)
                if at > self.now:
                    return
                if items[0].startswith("attachment:"):
                    name = items[0].removeprefix("attachment:")
                    for a in attachments:
                        if a["name"] == name and a["replaced_at"] is None:
                            a["replaced_at"] = at - dt.timedelta(minutes=20)
                    attachments.append(
                        _attachment(name, owner.id, at - dt.timedelta(minutes=20), "document")
                    )
                move(Status.SUBMITTED, owner.id, at)
                submitted_at, items = at, []
            roll = rng.random()
            if roll < 0.05:
                at += plan.hours(4, 48)
                move(Status.REJECTED, officer, at, rng.choice(REJECT_REASONS))
                return
            if roll < 0.08:
                at += plan.hours(1, 24)
                move(Status.CANCELLED, owner.id, at, rng.choice(CANCEL_REASONS))
                return
            for to, low, high in (
                (Status.VERIFIED, 4, 48),
                (Status.IN_PROCESS, 8, 48),
                (Status.READY_FOR_DELIVERY, 24, 72),
            ):
                at += plan.hours(low, high)
                if not move(to, officer, at):
                    return
            for attempt in range(3):
                at += plan.hours(12, 72) if attempt == 0 else plan.hours(24, 48)
                note = self.t_planned.format(date=self.day(wib_date(at), LONG_DAY))
                if not move(Status.OUT_FOR_DELIVERY, officer, at, note):
                    return
                out_day = wib_date(at)
                failure = None
                at += plan.hours(2, 8)
                if rng.random() < 0.9:
                    relation = rng.choices(list(Relation), (80, 15, 5))[0]
                    if relation == Relation.SELF:
                        name = req["subject_name"]
                    elif not req["subject_is_self"]:
                        name = owner.full_name
                    else:
                        name = f"{rng.choice(FEMALE + MALE)} {rng.choice(FAMILY)}"
                    note = self.t_received.format(name=name, relation=relation.label)
                    if move(Status.DELIVERED, courier, at, note):
                        delivered = at
                        req["received_by"] = name
                    return
                failure = rng.choice(list(FailureReason))
                if not move(Status.DELIVERY_FAILED, courier, at, failure.label):
                    return
                if attempt == 2 or rng.random() < 0.4:
                    break
            at += plan.hours(4, 24)
            if move(Status.COLLECT_AT_OFFICE, officer, at, COLLECT_NOTE):
                at += plan.hours(24, 240)
                move(Status.COLLECTED, officer, at)

        run()
        req["status"] = status
        req["submitted_at"] = submitted_at
        req["due_date"] = add_working_days(wib_date(submitted_at), doc.service_days, self.holidays)
        req["correction_items"] = items if status == Status.NEEDS_CORRECTION else []
        if status.is_final:
            req["closed_at"] = events[-1][3]
        if out_day is not None:
            req["courier_id"], req["delivery_date"] = courier, out_day
        req["failure_reason"] = failure
        if delivered is not None and status == Status.DELIVERED:
            place = owner.place
            req["received_relation"] = relation
            req["delivered_at"] = delivered
            req["delivered_lat"] = round(place.lat + rng.uniform(-0.004, 0.004), 6)
            req["delivered_lon"] = round(place.lon + rng.uniform(-0.004, 0.004), 6)
            attachments.append(_attachment("handover", courier, delivered, "handover"))
        else:
            req["received_by"] = None
        req["_events"] = events
        req["_attachments"] = attachments

    def day(self, day: dt.date, fmt: str = "d MMMM yyyy") -> str:
        """Dates in Indonesian as the services store them (memoised: babel is slow per call)."""
        key = (day, fmt)
        if key not in self._days:
            self._days[key] = format_day(day, fmt)
        return self._days[key]

    def _write_requests(self, requests: list[dict[str, Any]]) -> None:
        private = ("_doc", "_owner", "_events", "_attachments")
        self.loader.insert(
            DocumentRequest.__table__,
            ({k: v for k, v in r.items() if k not in private} for r in requests),
        )
        event_id = self.loader.next_id(RequestEvent.__table__)

        def events() -> Iterator[dict[str, Any]]:
            nonlocal event_id
            for r in requests:
                for frm, to, who, at, note in r["_events"]:
                    yield {
                        "id": event_id,
                        "request_id": r["id"],
                        "from_status": frm,
                        "to_status": to,
                        "actor_id": who,
                        "created_at": at,
                        "public_note": note,
                        "internal_note": "",
                    }
                    event_id += 1

        self.loader.insert(RequestEvent.__table__, events())
        attachment_id = self.loader.next_id(Attachment.__table__)

        def attachments() -> Iterator[dict[str, Any]]:
            nonlocal attachment_id
            for r in requests:
                for a in r["_attachments"]:
                    yield {**a, "id": attachment_id, "request_id": r["id"]}
                    attachment_id += 1

        self.loader.insert(Attachment.__table__, attachments())

    # -- Jumpa Madu --

    def _plan_units(self) -> None:
        rng = self.rng
        existing = set(db.session.scalars(select(WasteUnit.name)))
        officers = self.staff["petugas.unit"]
        # Units stand where people live (residents follow the population), one desa each.
        places = list({p.place.desa_code: p.place for p in self.residents}.values())
        rng.shuffle(places)
        next_id = self.loader.next_id(WasteUnit.__table__)
        windows = ["07:00-09:00", "08:00-10:00", "10:00-12:00", "14:00-16:00", "15:00-17:00"]
        for n, officer in enumerate(officers):
            place = places[n % len(places)]
            kind = rng.choices(list(UnitType), (80, 5, 15))[0]
            label = {UnitType.TPS3R: "TPS3R", UnitType.BANK_SAMPAH_INDUK: "Bank Sampah Induk"}.get(
                kind, "Bank Sampah"
            )
            name = f"{label} {place.name}"
            suffix = 2
            while name in existing:
                name = f"{label} {place.name} {suffix}"
                suffix += 1
            existing.add(name)
            unit_windows = sorted(rng.sample(windows, rng.randint(2, 3)))
            self.units.append(
                {
                    "id": next_id,
                    "name": name,
                    "type": kind,
                    "radius_km": float(rng.choice((5, 6, 8, 10))),
                    "pickup_days": sorted(rng.sample(range(6), rng.randint(3, 6))),
                    "time_windows": unit_windows,
                    "min_weight_g": rng.choice((3000, 3000, 5000)),
                    "phone": f"+6281990{next_id:06d}",
                    "resident_share_pct": rng.choice((80, 85, 90)),
                    "is_active": True,
                    "created_at": self.plan.start - dt.timedelta(days=10),
                    "kecamatan_code": place.kecamatan_code,
                    "desa_code": place.desa_code,
                    "street": self.plan.street(),
                    "rt": None,
                    "rw": None,
                    "landmark": None,
                    "latitude": None,
                    "longitude": None,
                    "_place": place,
                }
            )
            self.unit_officers[next_id] = [officer.id]
            next_id += 1

    def _plan_prices(self, categories: list[WasteCategory]) -> list[dict[str, Any]]:
        """Each unit's starting prices, and a change a year ago for about a third of them."""
        from portal.jumpa_madu.services import default_price

        rng = self.rng
        rows: list[dict[str, Any]] = []
        next_id = self.loader.next_id(Price.__table__)
        self.price_index: dict[tuple[int, int], list[tuple[dt.datetime, int, int]]] = {}
        for unit in self.units:
            for cat in categories:
                base = default_price(cat) or 1000
                first = max(50, round(base * rng.uniform(0.85, 1.15) / 50) * 50)
                versions = [(unit["created_at"], first)]
                if rng.random() < 0.35:
                    changed = self.plan.start + dt.timedelta(days=rng.randint(200, 600))
                    versions.append(
                        (changed, max(50, round(first * rng.uniform(0.85, 1.2) / 50) * 50))
                    )
                entries = []
                for effective, price in versions:
                    rows.append(
                        {
                            "id": next_id,
                            "unit_id": unit["id"],
                            "category_id": cat.id,
                            "price": price,
                            "effective_at": effective,
                            "created_at": effective,
                            "created_by_id": None,
                        }
                    )
                    entries.append((effective, next_id, price))
                    next_id += 1
                self.price_index[(unit["id"], cat.id)] = entries
        return rows

    def _price_at(self, unit_id: int, category_id: int, at: dt.datetime) -> tuple[int, int]:
        versions = self.price_index[(unit_id, category_id)]
        chosen = versions[0]
        for version in versions:
            if version[0] <= at:
                chosen = version
        return chosen[1], chosen[2]

    def _plan_pickups(self) -> list[dict[str, Any]]:
        rng, plan = self.rng, self.plan
        categories = list(db.session.scalars(select(WasteCategory).where(WasteCategory.is_active)))
        self.categories = {c.id: c for c in categories}
        self.price_rows = self._plan_prices(categories)
        # Which units collect in each desa (the desa centroid stands in for a house).
        covering: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        for unit in self.units:
            up = unit["_place"]
            for place in plan.places:
                km = _km((place.lat, place.lon), (up.lat, up.lon))
                if km <= unit["radius_km"]:
                    covering.setdefault(place.desa_code, []).append((km, unit))
        for options in covering.values():
            options.sort(key=lambda pair: pair[0])
        # About 30% of residents sell waste: those a unit covers first. The others (few, except
        # in small runs with few units) give an address in the area of the unit nearest their
        # home, as the demo does: a relative's house, a workplace.
        wanted = max(1, round(len(self.residents) * 0.3))
        covered = [p for p in self.residents if p.place.desa_code in covering]
        others = [p for p in self.residents if p.place.desa_code not in covering]
        users = rng.sample(covered, min(len(covered), wanted))
        users += rng.sample(others, min(len(others), wanted - len(users)))
        rng.shuffle(users)
        unit_places = [(u["_place"], u) for u in self.units]
        address: dict[int, tuple[_Place, str, str, str]] = {}
        for person in users:
            if person.place.desa_code in covering:
                address[person.id] = (person.place, person.street, person.rt, person.rw)
            else:
                home = (person.place.lat, person.place.lon)
                place, _unit = min(unit_places, key=lambda pu: _km(home, (pu[0].lat, pu[0].lon)))
                address[person.id] = (place, plan.street(), "001", "001")
        common = [c for c in categories if c.measure == Measure.KG and c.slug != "tembaga"]
        copper = next((c for c in categories if c.slug == "tembaga"), None)
        oil = next((c for c in categories if c.measure == Measure.LITRE), None)
        pickups: list[dict[str, Any]] = []
        for _n in range(self.sizes.pickups):
            person = users[int(len(users) * rng.random() ** 1.3)]
            place, street, rt, rw = address[person.id]
            options = covering[place.desa_code]
            km, unit = options[0] if rng.random() < 0.7 else rng.choice(options)
            created = plan.after(max(person.created_at, unit["created_at"]) + dt.timedelta(hours=1))
            # What the resident expects: a few categories, together above the unit's minimum.
            total_g = max(
                unit["min_weight_g"] + 1000,
                min(150_000, int(rng.lognormvariate(math.log(16_000), 0.6))),
            )
            cats = rng.sample(common, rng.randint(1, min(4, len(common))))
            shares = [rng.random() + 0.2 for _ in cats]
            estimates = {
                c.id: max(100, round(total_g * s / sum(shares) / 100) * 100)
                for c, s in zip(cats, shares, strict=True)
            }
            if copper is not None and rng.random() < 0.04:
                estimates[copper.id] = rng.randint(2, 15) * 100
            if oil is not None and rng.random() < 0.1:
                estimates[oil.id] = rng.randint(10, 50) * 100
            pickup = {
                "user_id": person.id,
                "unit_id": unit["id"],
                "created_at": created,
                "preferred_window": rng.choice(unit["time_windows"]),
                "distance_km": round(km, 2),
                "resident_note": "",
                "photo_key": None,
                "photo_type": None,
                "outcome_note": "",
                "dispute_reason": "",
                "confirm_due_at": None,
                "assisted_by_id": None,
                "assisted_consent_at": None,
                "closed_at": None,
                "version": 1,
                "scheduled_date": None,
                "scheduled_window": None,
                "collector_id": None,
                "kecamatan_code": place.kecamatan_code,
                "desa_code": place.desa_code,
                "street": street,
                "rt": rt,
                "rw": rw,
                "landmark": None,
                "latitude": None,
                "longitude": None,
                "_unit": unit,
                "_estimates": estimates,
                "_events": [],
                "_weighings": [],
                "_credit": None,
            }
            self._pickup_timeline(pickup)
            pickups.append(pickup)
        pickups.sort(key=lambda p: p["created_at"])
        next_id = self.loader.next_id(Pickup.__table__)
        for pickup in pickups:
            pickup["id"] = next_id
            next_id += 1
        return pickups

    def _next_pickup_day(self, unit: dict[str, Any], after: dt.date) -> dt.date:
        day = after + dt.timedelta(days=1)
        while day.weekday() not in unit["pickup_days"]:
            day += dt.timedelta(days=1)
        return day

    def _pickup_timeline(self, p: dict[str, Any]) -> None:
        """Walk the pickup along PICKUP_TRANSITIONS; steps after now have not happened yet."""
        from portal.jumpa_madu.services import format_weight, line_amounts

        rng, plan = self.rng, self.plan
        unit = p["_unit"]
        officer = self.unit_officers[unit["id"]][0]
        resident = p["user_id"]
        status = PickupStatus.REQUESTED
        events: list[tuple[PickupStatus, PickupStatus, int | None, str, str, dt.datetime]] = []
        at = p["created_at"]
        preferred = self._next_pickup_day(unit, wib_date(at) + dt.timedelta(days=rng.randint(0, 4)))
        p["preferred_date"] = preferred

        def move(
            to: PickupStatus, who: int | None, kind: str, when: dt.datetime, note: str = ""
        ) -> bool:
            nonlocal status
            if when > self.now:
                return False
            events.append((status, to, who, kind, note, when))
            status = to
            return True

        def weigh(number: int, when: dt.datetime) -> bool:
            lines = []
            for cid, grams in p["_estimates"].items():
                weight = max(100, round(grams * rng.uniform(0.75, 1.25) / 100) * 100)
                price_id, price = self._price_at(unit["id"], cid, when)
                gross, share = line_amounts(weight, price, unit["resident_share_pct"])
                lines.append(
                    {
                        "category_id": cid,
                        "price_id": price_id,
                        "weight_g": weight,
                        "unit_price": price,
                        "gross_amount": gross,
                        "resident_amount": share,
                    }
                )
            totals: dict[Measure, int] = defaultdict(int)
            for line in lines:
                totals[Measure(self.categories[line["category_id"]].measure)] += line["weight_g"]
            weight_text = " + ".join(format_weight(g, m) for m, g in sorted(totals.items()))
            resident_amount = sum(line["resident_amount"] for line in lines)
            note = self.t_weighed.format(weight=weight_text, amount=format_rupiah(resident_amount))
            if not move(PickupStatus.WEIGHED, officer, "officer", when, note):
                return False
            for earlier in p["_weighings"]:
                earlier["superseded_at"] = when
            p["_weighings"].append(
                {
                    "number": number,
                    "resident_share_pct": unit["resident_share_pct"],
                    "gross_amount": sum(line["gross_amount"] for line in lines),
                    "resident_amount": resident_amount,
                    "photo_keys": [],
                    "note": "",
                    "recorded_by_id": officer,
                    "recorded_at": when,
                    "superseded_at": None,
                    "confirmed_at": None,
                    "_lines": lines,
                }
            )
            p["confirm_due_at"] = when + dt.timedelta(hours=48)
            return True

        def confirm(who: int | None, kind: str, when: dt.datetime, note: str = "") -> None:
            if move(PickupStatus.CONFIRMED, who, kind, when, note):
                weighing = p["_weighings"][-1]
                weighing["confirmed_at"] = when
                p["_credit"] = (when, who)

        def run() -> None:
            nonlocal at
            move(PickupStatus.REQUESTED, resident, "resident", at)
            if rng.random() < 0.05:
                move(
                    PickupStatus.CANCELLED,
                    resident,
                    "resident",
                    at + plan.hours(1, 20),
                    rng.choice(PICKUP_CANCEL),
                )
                return
            day = preferred
            for visit in range(2):
                day_start = dt.datetime.combine(day, dt.time(7), tzinfo=WIB).astimezone(dt.UTC)
                at = min(at + plan.hours(2, 30), day_start - dt.timedelta(hours=1))
                window = rng.choice(unit["time_windows"])
                p["scheduled_date"], p["scheduled_window"], p["collector_id"] = day, window, officer
                note = self.t_pickup_on.format(day=self.day(day), window=window)
                if not move(PickupStatus.SCHEDULED, officer, "officer", at, note):
                    if visit == 0:
                        p["scheduled_date"] = p["scheduled_window"] = p["collector_id"] = None
                    return
                if visit == 0 and rng.random() < 0.02:
                    move(
                        PickupStatus.CANCELLED,
                        resident,
                        "resident",
                        at + plan.hours(1, 12),
                        rng.choice(PICKUP_CANCEL),
                    )
                    return
                start = int(window[:2])
                at = dt.datetime.combine(day, dt.time(start), tzinfo=WIB).astimezone(dt.UTC)
                at += dt.timedelta(minutes=rng.randint(0, 90))
                if not move(PickupStatus.ON_THE_WAY, officer, "officer", at):
                    return
                at += dt.timedelta(minutes=rng.randint(10, 60))
                roll = rng.random()
                if roll < 0.02:
                    p["outcome_note"] = REJECTED_NOTE
                    move(PickupStatus.REJECTED, officer, "officer", at, REJECTED_NOTE)
                    return
                if roll < 0.06:
                    p["outcome_note"] = NOBODY_HOME_NOTE
                    if not move(PickupStatus.NOBODY_HOME, officer, "officer", at, NOBODY_HOME_NOTE):
                        return
                    if visit == 1 or rng.random() < 0.4:
                        move(
                            PickupStatus.CANCELLED,
                            officer,
                            "officer",
                            at + plan.hours(24, 72),
                            OFFICER_CANCEL,
                        )
                        return
                    at += plan.hours(4, 24)
                    day = self._next_pickup_day(unit, wib_date(at))
                    continue
                break
            if not weigh(1, at):
                return
            if rng.random() < 0.03:
                at += plan.hours(1, 40)
                p["dispute_reason"] = DISPUTE_REASON
                if not move(PickupStatus.DISPUTED, resident, "resident", at):
                    return
                at += plan.hours(20, 72)
                if rng.random() < 0.5:
                    if not weigh(2, at):
                        return
                else:
                    p["outcome_note"] = RESOLVE_NOTE
                    confirm(officer, "officer", at, RESOLVE_NOTE)
                    return
            if rng.random() < 0.75:
                confirm(resident, "resident", at + plan.hours(0.5, 47))
            else:
                auto = p["confirm_due_at"] + dt.timedelta(minutes=rng.randint(1, 15))
                confirm(None, "system", auto, self.t_auto)

        run()
        p["status"] = status
        if status.is_final:
            p["closed_at"] = events[-1][5]
        p["_events"] = events

    def _write_jumpa_madu(self, pickups: list[dict[str, Any]]) -> None:
        private = ("_place",)
        self.loader.insert(
            WasteUnit.__table__,
            ({k: v for k, v in u.items() if k not in private} for u in self.units),
        )
        self.loader.insert(Price.__table__, self.price_rows)
        private = ("_unit", "_estimates", "_events", "_weighings", "_credit")
        self.loader.insert(
            Pickup.__table__,
            ({k: v for k, v in p.items() if k not in private} for p in pickups),
        )
        ids = {
            "estimate": self.loader.next_id(PickupEstimate.__table__),
            "event": self.loader.next_id(PickupEvent.__table__),
            "weighing": self.loader.next_id(Weighing.__table__),
            "line": self.loader.next_id(WeighingLine.__table__),
        }

        def estimates() -> Iterator[dict[str, Any]]:
            for p in pickups:
                for cid, grams in p["_estimates"].items():
                    yield {
                        "id": ids["estimate"],
                        "pickup_id": p["id"],
                        "category_id": cid,
                        "weight_g": grams,
                    }
                    ids["estimate"] += 1

        def events() -> Iterator[dict[str, Any]]:
            for p in pickups:
                for frm, to, who, kind, note, at in p["_events"]:
                    yield {
                        "id": ids["event"],
                        "pickup_id": p["id"],
                        "from_status": frm,
                        "to_status": to,
                        "actor_id": who,
                        "actor_kind": kind,
                        "note": note,
                        "created_at": at,
                    }
                    ids["event"] += 1

        def weighings() -> Iterator[dict[str, Any]]:
            for p in pickups:
                for w in p["_weighings"]:
                    w["id"] = ids["weighing"]
                    ids["weighing"] += 1
                    yield {**{k: v for k, v in w.items() if k != "_lines"}, "pickup_id": p["id"]}

        def lines() -> Iterator[dict[str, Any]]:
            for p in pickups:
                for w in p["_weighings"]:
                    for line in w["_lines"]:
                        yield {**line, "id": ids["line"], "weighing_id": w["id"]}
                        ids["line"] += 1

        self.loader.insert(PickupEstimate.__table__, estimates())
        self.loader.insert(PickupEvent.__table__, events())
        self.loader.insert(Weighing.__table__, weighings())
        self.loader.insert(WeighingLine.__table__, lines())
        self._write_money(pickups)

    # -- the ledger --

    def _write_money(self, pickups: list[dict[str, Any]]) -> None:
        """Credits, then withdrawals simulated per wallet in time order, then the ledger."""
        t_sold = _("Waste sold: %(code)s, %(unit)s", code="{code}", unit="{unit}")
        # (time, kind, key, description, pickup_id, withdrawal_id, actor, entries)
        txns: list[tuple[Any, ...]] = []
        credits: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
        home_unit: dict[int, Counter[int]] = defaultdict(Counter)
        for p in pickups:
            home_unit[p["user_id"]][p["unit_id"]] += 1
            if p["_credit"] is None:
                continue
            when, actor = p["_credit"]
            weighing = p["_weighings"][-1]
            amount = weighing["resident_amount"]
            if amount <= 0:
                continue
            unit = p["_unit"]
            txns.append(
                (
                    when,
                    ledger.TxnKind.WEIGHING_CREDIT,
                    f"weighing:{weighing['id']}:credit",
                    t_sold.format(code=f"JM-{p['id']:06d}", unit=unit["name"]),
                    p["id"],
                    None,
                    actor,
                    [(f"wallet:{p['user_id']}", amount), (f"unit_payable:{unit['id']}", -amount)],
                )
            )
            credits[p["user_id"]].append((when, amount))
        n_credits = len(txns)
        # A paid or rejected withdrawal adds four entries (hold, then paid or released), an open
        # one two, and a few asks find the wallet short: hence a little under four.
        wanted = max(0, round((self.sizes.ledger_entries - 2 * n_credits) / 3.8))
        money = sum(a for entries in credits.values() for _t, a in entries) or 1
        withdrawals = self._plan_withdrawals(credits, home_unit, wanted, money)
        withdrawals.sort(key=lambda w: w["requested_at"])
        next_id = self.loader.next_id(Withdrawal.__table__)
        t_hold = _("Withdrawal %(code)s: %(method)s", code="{code}", method="{method}")
        t_paid = _("Withdrawal %(code)s paid, reference %(ref)s", code="{code}", ref="{ref}")
        t_rejected = _("Withdrawal %(code)s rejected: %(reason)s", code="{code}", reason="{reason}")
        for w in withdrawals:
            w["id"] = next_id
            next_id += 1
            code, uid, unit_id, amount = (
                f"TRK-{w['id']:06d}",
                w["user_id"],
                w["unit_id"],
                w["amount"],
            )
            wallet, hold, payable = (
                f"wallet:{uid}",
                f"withdrawal_hold:{unit_id}",
                f"unit_payable:{unit_id}",
            )
            txns.append(
                (
                    w["requested_at"],
                    ledger.TxnKind.WITHDRAWAL_HOLD,
                    f"withdrawal:{w['id']}:hold",
                    t_hold.format(code=code, method=PayoutMethod(w["method"]).label),
                    None,
                    w["id"],
                    uid,
                    [(wallet, -amount), (hold, amount)],
                )
            )
            if w["status"] == WithdrawalStatus.PAID:
                w["reference"] = (
                    f"KW-{w['id']:06d}"
                    if w["method"] == PayoutMethod.CASH
                    else f"TRF-{70_000_000 + w['id']:08d}"
                )
                txns.append(
                    (
                        w["paid_at"],
                        ledger.TxnKind.WITHDRAWAL_PAID,
                        f"withdrawal:{w['id']}:paid",
                        t_paid.format(code=code, ref=w["reference"]),
                        None,
                        w["id"],
                        w["paid_by_id"],
                        [(hold, -amount), (payable, amount)],
                    )
                )
            elif w["status"] == WithdrawalStatus.REJECTED:
                txns.append(
                    (
                        w["decided_at"],
                        ledger.TxnKind.WITHDRAWAL_RELEASED,
                        f"withdrawal:{w['id']}:release",
                        t_rejected.format(code=code, reason=WITHDRAWAL_REJECT),
                        None,
                        w["id"],
                        w["decided_by_id"],
                        [(hold, -amount), (wallet, amount)],
                    )
                )
        self.loader.insert(Withdrawal.__table__, withdrawals)
        txns.sort(key=lambda t: t[0])
        self._write_ledger(txns)

    def _plan_withdrawals(
        self,
        credits: dict[int, list[tuple[dt.datetime, int]]],
        home_unit: dict[int, Counter[int]],
        wanted: int,
        money: int,
    ) -> list[dict[str, Any]]:
        """Withdrawals that each wallet can afford at the moment they are asked for.

        Per resident, credits, requests and released (rejected) holds are replayed in time
        order, so the balance is never below zero at any point of the statement.
        """
        from portal.jumpa_madu.models import EWALLET_PROVIDERS

        rng, plan = self.rng, self.plan
        minimum = current_app.config["JUMPA_MADU_MIN_WITHDRAWAL"]
        people = {p.id: p for p in self.residents}
        out: list[dict[str, Any]] = []
        for uid, entries in credits.items():
            total = sum(a for _t, a in entries)
            expected = wanted * total / money
            count = int(expected) + (1 if rng.random() < expected % 1 else 0)
            if not count:
                continue
            # People ask some days after money came in: each ask follows a credit (the bigger,
            # the likelier), so the wallet can usually afford it.
            after = rng.choices([t for t, _a in entries], [a for _t, a in entries], k=count)
            asks = sorted(min(self.now, t + plan.hours(1, 24 * 20)) for t in after)
            typical = max(minimum, total * 0.85 / count)
            unit_id = home_unit[uid].most_common(1)[0][0]
            officer = self.unit_officers[unit_id][0]
            person = people[uid]
            # (time, order, kind, amount): credits before asks at the same instant.
            queue: list[tuple[dt.datetime, int, str, int]] = [
                (t, 0, "credit", a) for t, a in entries
            ]
            queue += [(t, 1, "ask", 0) for t in asks]
            heapq.heapify(queue)
            balance = 0
            while queue:
                at, _order, kind, amount = heapq.heappop(queue)
                if kind != "ask":
                    balance += amount
                    continue
                if balance < minimum:
                    continue
                amount = int(
                    min(balance, max(minimum, typical * rng.uniform(0.6, 1.4))) // 1000 * 1000
                )
                if amount < minimum:
                    continue
                balance -= amount
                method = rng.choices(list(PayoutMethod), (60, 10, 30))[0]
                w = {
                    "user_id": uid,
                    "unit_id": unit_id,
                    "amount": amount,
                    "status": WithdrawalStatus.REQUESTED,
                    "method": method,
                    "bank_name": None,
                    "account_number": None,
                    "account_holder": None,
                    "ewallet_provider": None,
                    "ewallet_number": None,
                    "reference": None,
                    "reject_reason": "",
                    "requested_at": at,
                    "decided_at": None,
                    "decided_by_id": None,
                    "paid_at": None,
                    "paid_by_id": None,
                    "version": 1,
                }
                if method == PayoutMethod.BANK:
                    w["bank_name"], w["account_holder"] = "Bank Sumut", person.full_name
                    w["account_number"] = f"{rng.randrange(10**9, 10**10)}"
                elif method == PayoutMethod.EWALLET:
                    w["ewallet_provider"] = rng.choice(EWALLET_PROVIDERS)
                    w["ewallet_number"] = person.phone
                decided = at + plan.hours(2, 30)
                if decided <= self.now:
                    w["decided_at"], w["decided_by_id"] = decided, officer
                    if rng.random() < 0.04:
                        w["status"], w["reject_reason"] = (
                            WithdrawalStatus.REJECTED,
                            WITHDRAWAL_REJECT,
                        )
                        heapq.heappush(queue, (decided, 0, "release", amount))
                    else:
                        w["status"] = WithdrawalStatus.APPROVED
                        paid = decided + plan.hours(1, 48)
                        if paid <= self.now:
                            w["status"], w["paid_at"], w["paid_by_id"] = (
                                WithdrawalStatus.PAID,
                                paid,
                                officer,
                            )
                out.append(w)
        return out

    def _write_ledger(self, txns: list[tuple[Any, ...]]) -> None:
        """Accounts with their final balances, then transactions and entries in time order."""
        balances: dict[str, int] = defaultdict(int)
        for *_head, entries in txns:
            for key, amount in entries:
                balances[key] += amount
        accounts_table = ledger.LedgerAccount.__table__
        next_id = self.loader.next_id(accounts_table)
        account_ids: dict[str, int] = {}
        rows = []
        for key in sorted(balances, key=lambda k: (k.split(":")[0], int(k.split(":")[1]))):
            kind, owner = key.split(":")
            account_ids[key] = next_id
            rows.append(
                {
                    "id": next_id,
                    "key": key,
                    "kind": ledger.AccountKind(kind),
                    "user_id": int(owner) if kind == "wallet" else None,
                    "unit_id": int(owner) if kind != "wallet" else None,
                    "balance": balances[key],
                    "created_at": self.plan.start,
                }
            )
            next_id += 1
        self.loader.insert(accounts_table, rows)
        txn_id = self.loader.next_id(ledger.LedgerTransaction.__table__)
        entry_id = self.loader.next_id(ledger.LedgerEntry.__table__)
        first_txn = txn_id

        def transactions() -> Iterator[dict[str, Any]]:
            tid = first_txn
            for at, kind, key, description, pickup_id, withdrawal_id, actor, _e in txns:
                yield {
                    "id": tid,
                    "key": key,
                    "kind": kind,
                    "description": description[:200],
                    "pickup_id": pickup_id,
                    "withdrawal_id": withdrawal_id,
                    "reverses_id": None,
                    "created_by_id": actor,
                    "created_at": at,
                }
                tid += 1

        def entries() -> Iterator[dict[str, Any]]:
            nonlocal entry_id
            tid = first_txn
            for at, *_rest, pairs in txns:
                for key, amount in pairs:
                    yield {
                        "id": entry_id,
                        "transaction_id": tid,
                        "account_id": account_ids[key],
                        "amount": amount,
                        "created_at": at,
                    }
                    entry_id += 1
                tid += 1

        self.loader.insert(ledger.LedgerTransaction.__table__, transactions())
        self.loader.insert(ledger.LedgerEntry.__table__, entries())
        self.wallet_entries = Counter(
            key for *_h, pairs in txns for key, _a in pairs if key.startswith("wallet:")
        )

    # -- what to log in as --

    def _samples(self, requests: list[dict[str, Any]], pickups: list[dict[str, Any]]) -> None:
        people = {p.id: p for p in self.people}

        def login(person: _Person) -> str:
            return person.email or "0" + person.phone[3:]

        by_requests = Counter(r["user_id"] for r in requests if r["status"] != Status.DRAFT)
        samples = []
        if by_requests:
            uid, n = by_requests.most_common(1)[0]
            samples.append((login(people[uid]), f"resident with the most SADOKU requests ({n})"))
        if getattr(self, "wallet_entries", None):
            key, n = self.wallet_entries.most_common(1)[0]
            samples.append(
                (
                    login(people[int(key.split(":")[1])]),
                    f"resident with the longest wallet statement ({n} entries)",
                )
            )
        by_unit = Counter(p["unit_id"] for p in pickups)
        if by_unit:
            unit_id, n = by_unit.most_common(1)[0]
            samples.append(
                (
                    login(people[self.unit_officers[unit_id][0]]),
                    f"officer of the busiest unit ({n} pickups)",
                )
            )
        if self.staff["petugas.sadoku"]:
            samples.append((login(self.staff["petugas.sadoku"][0]), "SADOKU officer"))
        # Only a shop the public can open (a suspended one answers 404, which would be measured).
        verified = {s["id"] for s in self.shops if s["status"] == ShopStatus.VERIFIED}
        by_shop = Counter(p["shop_id"] for p in self.products if p["shop_id"] in verified)
        if by_shop:
            shop_id, n = by_shop.most_common(1)[0]
            shop = next(s for s in self.shops if s["id"] == shop_id)
            samples.append((f"/mall/shops/{shop['slug']}", f"shop with the most products ({n})"))
        self.report.samples = samples


def _attachment(name: str, uploader: int, at: dt.datetime, kind: str) -> dict[str, Any]:
    """An attachment row whose file is not written (a download of it answers 404)."""
    return {
        "kind": kind,
        "name": name,
        "filename": "serah-terima.jpg" if kind == "handover" else "scan.jpg",
        "content_type": "image/jpeg",
        "size": 180_000 + secrets.randbelow(600_000),
        "sha256": secrets.token_hex(32),
        "storage_key": _token_key("sadoku", ".jpg"),
        "uploaded_by_id": uploader,
        "created_at": at,
        "replaced_at": None,
    }


def _price(rng: random.Random, price: Any) -> tuple[PriceKind, int | None, int | None]:
    """A catalogue item's price with a seller's own touch (within 20%, to Rp 500)."""

    def jitter(value: int) -> int:
        return max(500, round(value * rng.uniform(0.8, 1.2) / 500) * 500)

    if price is None:
        return PriceKind.ASK, None, None
    if isinstance(price, tuple):
        low = jitter(price[0])
        return PriceKind.RANGE, low, max(low + 500, jitter(price[1]))
    return PriceKind.FIXED, jitter(price), None


def _password_hash() -> str:
    """One Argon2 hash of the demo password for every generated account (one hash, not 50,000)."""
    from portal.core.security import hash_password
    from portal.demo import DEMO_PASSWORD

    return hash_password(DEMO_PASSWORD)
