"""Plain factory functions with defaults for every field. They commit, so views can see the rows."""

from __future__ import annotations

import itertools
from typing import Any

from portal.accounts import services
from portal.accounts.mfa import DEMO_TOTP_SECRET, enrol_with_secret
from portal.accounts.models import Role, RoleGrant, User
from portal.extensions import db

DEFAULT_PASSWORD = "kopi-susu-pagi-hari"
_seq = itertools.count(1)


def make_user(
    *,
    full_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    password: str = DEFAULT_PASSWORD,
    roles: tuple[Role, ...] | list[Role] = (),
    scope: str = "",
    nik: str | None = None,
    address: dict[str, Any] | None = None,
    mfa: bool | None = None,
    commit: bool = True,
) -> User:
    """A resident account (with extra roles if asked). Needs an app context."""
    n = next(_seq)
    user = services.register_user(
        full_name=full_name or f"Warga Uji {n}",
        email=email if email is not None else f"warga{n}@uji.test",
        phone=phone,
        password=password,
        consent=True,
    )
    if nik is not None:
        user.nik = nik
    for key, value in (address or {}).items():
        setattr(user, key, value)
    for role in roles:
        db.session.add(
            RoleGrant(user=user, role=role, scope=scope if role == Role.WASTE_OFFICER else "")
        )
    if mfa if mfa is not None else bool(set(roles) - {Role.SELLER}):
        # Staff log in with a second factor; test staff have the demo secret (tests/conftest.py
        # log_in answers the code step), as the demo staff accounts do.
        enrol_with_secret(user, DEMO_TOTP_SECRET)
    db.session.flush()
    if commit:
        db.session.commit()
    return user


LUBUK_PAKAM_ADDRESS = {
    "kecamatan_code": "12.07.28",
    "desa_code": "12.07.28.1008",
    "street": "Jl. Sudirman No. 5",
    "rt": "001",
    "rw": "002",
}


# --- SADOKU ---------------------------------------------------------------------------------------

VALID_NIK = "1207280101900001"  # Deli Serdang (12.07), Lubuk Pakam (28), born 01-01-1990
VALID_KK = "1207280101200001"


def tiny_png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small real PNG, as a phone camera upload would be after validation."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


def tiny_pdf() -> bytes:
    """A minimal, valid one-page PDF with no active content."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def checked_png(name: str = "scan.png") -> Any:
    """A CheckedUpload for service tests, passed through the real upload check."""
    import io

    from werkzeug.datastructures import FileStorage

    from portal.core.uploads import ALLOWED_DOCUMENT_KINDS, check_upload

    return check_upload(
        FileStorage(io.BytesIO(tiny_png()), filename=name),
        field="file",
        allowed=ALLOWED_DOCUMENT_KINDS,
        max_bytes=5 * 1024 * 1024,
    )


def make_document_type(**fields: Any) -> Any:
    """The KTP-el type from the default catalogue (seeded if missing), or one with `fields`."""
    from sqlalchemy import select

    from portal.sadoku import services as sadoku
    from portal.sadoku.models import DocumentType

    if not fields:
        sadoku.seed_catalogue()
        doc = db.session.scalar(select(DocumentType).where(DocumentType.slug == "ktp-el"))
        db.session.commit()
        return doc
    n = next(_seq)
    data = {
        "slug": f"dokumen-{n}",
        "name": f"Dokumen {n}",
        "description": "",
        "requirements": "",
        "attachment_names": ["Kartu Keluarga (KK)"],
        "service_days": 5,
        "is_active": True,
    }
    data.update(fields)
    doc = sadoku.save_document_type(None, **data)
    db.session.commit()
    return doc


# The path through the state machine that reaches each status (after SUBMITTED).
_PATHS = {
    "submitted": [],
    "verified": ["verified"],
    "needs_correction": ["needs_correction"],
    "rejected": ["rejected"],
    "cancelled": ["cancelled"],
    "in_process": ["verified", "in_process"],
    "ready_for_delivery": ["verified", "in_process", "ready_for_delivery"],
    "out_for_delivery": ["verified", "in_process", "ready_for_delivery", "out_for_delivery"],
    "delivered": [
        "verified", "in_process", "ready_for_delivery", "out_for_delivery", "delivered",
    ],
    "delivery_failed": [
        "verified", "in_process", "ready_for_delivery", "out_for_delivery", "delivery_failed",
    ],
    "collect_at_office": [
        "verified", "in_process", "ready_for_delivery", "out_for_delivery", "delivery_failed",
        "collect_at_office",
    ],
    "collected": [
        "verified", "in_process", "ready_for_delivery", "out_for_delivery", "delivery_failed",
        "collect_at_office", "collected",
    ],
}  # fmt: skip


def make_request(
    *,
    owner: User | None = None,
    status: str = "submitted",
    document_type: Any = None,
    officer: User | None = None,
    courier: User | None = None,
    delivery_date: Any = None,
    subject_name: str = "Budi Santoso",
    nik: str = VALID_NIK,
    kk: str = VALID_KK,
    address: dict[str, Any] | None = None,
    commit: bool = True,
) -> Any:
    """A SADOKU request driven through the real services to `status` ("draft" stops early).

    Going through the services keeps the timeline consistent with the status, exactly as the
    portal would have produced it.
    """
    import datetime as dt

    from portal.core.time import today_wib
    from portal.sadoku import services as sadoku
    from portal.sadoku.models import FailureReason, Reason, Relation

    owner = owner or make_user(commit=False)
    doc = document_type or make_document_type()
    req = sadoku.start_request(owner, doc, Reason.NEW)
    sadoku.save_subject_step(req, is_self=True, name=subject_name, nik=nik, kk=kk)
    for name in doc.attachment_names:
        sadoku.add_attachment(req, name, checked_png(), owner)
    sadoku.complete_attachments_step(req)
    sadoku.save_delivery_step(
        req,
        {
            **LUBUK_PAKAM_ADDRESS,
            "landmark": None,
            "latitude": None,
            "longitude": None,
            **(address or {}),
        },
        subject_name,
        "081234567890",
    )
    if status != "draft":
        sadoku.submit_request(req, owner, declaration=True)
        steps = _PATHS[status]
        if steps:
            officer = officer or make_user(roles=(Role.SADOKU_OFFICER,), commit=False)
        if any(s in steps for s in ("out_for_delivery",)):
            courier = courier or make_user(roles=(Role.SADOKU_COURIER,), commit=False)
        day = delivery_date or (today_wib() + dt.timedelta(days=1))
        for step in steps:
            if step == "verified":
                sadoku.verify_request(req, officer)
            elif step == "needs_correction":
                sadoku.request_correction(req, officer, ["subject_nik"], "Periksa NIK")
            elif step == "rejected":
                sadoku.reject_request(req, officer, "Belum perekaman biometrik")
            elif step == "cancelled":
                sadoku.cancel_request(req, owner)
            elif step == "in_process":
                sadoku.start_printing(req, officer)
            elif step == "ready_for_delivery":
                sadoku.mark_ready(req, officer)
            elif step == "out_for_delivery":
                sadoku.assign_courier(req, officer, courier, day)
            elif step == "delivered":
                sadoku.mark_delivered(
                    req, officer, received_by=subject_name, relation=Relation.SELF,
                    photo=checked_png("serah-terima.png"),
                )  # fmt: skip
            elif step == "delivery_failed":
                sadoku.mark_delivery_failed(req, officer, FailureReason.NOT_HOME)
            elif step == "collect_at_office":
                sadoku.hold_at_office(req, officer)
            elif step == "collected":
                sadoku.mark_collected(req, officer)
    db.session.flush()
    if commit:
        db.session.commit()
    return req


# --- Jumpa Madu -----------------------------------------------------------------------------------

# Pematang Lalang (Kec. Percut Sei Tuan), about 18 km from Lubuk Pakam III: a 5 km unit in
# Lubuk Pakam does not cover it.
FAR_ADDRESS = {
    "kecamatan_code": "12.07.26",
    "desa_code": "12.07.26.2001",
    "street": "Dusun III",
    "rt": None,
    "rw": None,
}


def make_unit(*, prices: bool = True, commit: bool = True, **fields: Any) -> Any:
    """An active bank sampah in Lubuk Pakam: radius 5 km, Mon-Sat, 90% share, default prices."""
    from portal.jumpa_madu import services as jm
    from portal.jumpa_madu.models import UnitType

    jm.seed_categories()
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"Bank Sampah Uji {n}",
        "type": UnitType.BANK_SAMPAH,
        "radius_km": 5.0,
        "pickup_days": [0, 1, 2, 3, 4, 5],
        "time_windows": "08:00-10:00\n13:00-15:00",
        "min_weight_g": 3000,
        "phone": "0812345678" + f"{n % 100:02d}",
        "resident_share_pct": 90,
        **LUBUK_PAKAM_ADDRESS,
        "landmark": None,
        "latitude": None,
        "longitude": None,
    }
    data.update(fields)
    actor = make_user(roles=(Role.ADMIN,), commit=False)
    unit = jm.save_unit(None, actor, **data)
    if prices:
        import datetime as dt

        from portal.core.time import utcnow

        jm.seed_unit_prices(unit, actor, at=utcnow() - dt.timedelta(days=1))
    if commit:
        db.session.commit()
    return unit


def category(slug: str) -> Any:
    """A seeded waste category by slug ("pet", "kardus", "minyak-jelantah"...)."""
    from sqlalchemy import select

    from portal.jumpa_madu import services as jm
    from portal.jumpa_madu.models import WasteCategory

    jm.seed_categories()
    return db.session.scalar(select(WasteCategory).where(WasteCategory.slug == slug))


_PICKUP_PATHS = {
    "requested": [],
    "cancelled": ["cancelled"],
    "scheduled": ["scheduled"],
    "on_the_way": ["scheduled", "on_the_way"],
    "nobody_home": ["scheduled", "on_the_way", "nobody_home"],
    "rejected": ["scheduled", "on_the_way", "rejected"],
    "weighed": ["scheduled", "on_the_way", "weighed"],
    "disputed": ["scheduled", "on_the_way", "weighed", "disputed"],
    "confirmed": ["scheduled", "on_the_way", "weighed", "confirmed"],
}


def make_pickup(
    *,
    status: str = "requested",
    user: User | None = None,
    unit: Any = None,
    officer: User | None = None,
    estimates: dict[str, int] | None = None,
    weights: dict[str, int] | None = None,
    address: dict[str, Any] | None = None,
    commit: bool = True,
) -> Any:
    """A pickup driven through the real services to `status` (weights in grams per slug).

    Default: 2.5 kg PET + 1 kg cardboard estimated; weighed 2.3 kg PET + 1.5 kg cardboard, which
    at the default prices (Rp 3.500 and Rp 1.100 per kg) and a 90% share pays the resident
    Rp 7.245 + Rp 1.485 = Rp 8.730.
    """
    from portal.jumpa_madu import services as jm
    from portal.jumpa_madu.models import PickupStatus

    unit = unit or make_unit(commit=False)
    user = user or make_user(commit=False, address=LUBUK_PAKAM_ADDRESS)
    estimates = estimates or {"pet": 2500, "kardus": 1000}
    day = jm.pickup_days_ahead(unit)[0]
    pickup = jm.request_pickup(
        user,
        unit,
        address={**LUBUK_PAKAM_ADDRESS, "landmark": None, "latitude": None, "longitude": None,
                 **(address or {})},
        estimates={category(slug).id: grams for slug, grams in estimates.items()},
        preferred_date=day,
        window=unit.time_windows[0],
    )  # fmt: skip
    steps = _PICKUP_PATHS[status]
    if steps and steps != ["cancelled"]:
        officer = officer or make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope, commit=False)
    for step in steps:
        if step == "cancelled":
            jm.cancel_pickup(pickup, user)
        elif step == "scheduled":
            jm.schedule_pickup(
                pickup, officer, day=day, window=unit.time_windows[0], collector=officer
            )
        elif step == "on_the_way":
            jm.start_route(pickup, officer)
        elif step == "nobody_home":
            jm.record_outcome(pickup, officer, PickupStatus.NOBODY_HOME, "Rumah kosong")
        elif step == "rejected":
            jm.record_outcome(pickup, officer, PickupStatus.REJECTED, "Sampah belum dipilah")
        elif step == "weighed":
            w = weights or {"pet": 2300, "kardus": 1500}
            jm.record_weighing(pickup, officer, {category(s).id: g for s, g in w.items()})
        elif step == "disputed":
            jm.dispute_weighing(pickup, user, "Timbangan kurang")
        elif step == "confirmed":
            jm.confirm_weighing(pickup, user)
    db.session.flush()
    assert pickup.status == PickupStatus(status)
    if commit:
        db.session.commit()
    return pickup


def fund_wallet(user: User, amount: int, unit: Any = None, *, commit: bool = True) -> None:
    """Put `amount` rupiah in a resident's wallet as a posted weighing credit would."""
    from portal.jumpa_madu import ledger
    from portal.jumpa_madu.ledger import AccountKind, TxnKind

    unit = unit or make_unit(commit=False)
    n = next(_seq)
    ledger.post(
        TxnKind.WEIGHING_CREDIT,
        f"test-funding:{n}",
        [
            (ledger.wallet_account(user), amount),
            (ledger.unit_account(AccountKind.UNIT_PAYABLE, unit.id), -amount),
        ],
        description="Saldo uji",
    )
    if commit:
        db.session.commit()


# --- Deli Serdang Mall ----------------------------------------------------------------------------


def make_shop(
    *, owner: User | None = None, status: str = "verified", commit: bool = True, **fields: Any
) -> Any:
    """A shop in Lubuk Pakam driven through the real services to `status`."""
    from portal.mall import services as mall
    from portal.mall.models import ShopStatus

    mall.seed_categories()
    owner = owner or make_user(commit=False)
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"Toko Uji {n}",
        "owner_name": owner.full_name,
        "description": "Usaha rumahan di Lubuk Pakam.",
        "whatsapp": "081277770000",
        "opening_hours": "Senin-Sabtu 08.00-17.00",
        **LUBUK_PAKAM_ADDRESS,
        "landmark": None,
        "latitude": None,
        "longitude": None,
    }
    data.update(fields)
    shop = mall.open_shop(owner, **data)
    if status != "draft":
        mall.submit_shop(shop, owner)
    admin = (
        make_user(roles=(Role.ADMIN,), commit=False)
        if status not in ("draft", "submitted")
        else None
    )
    if status in ("verified", "suspended"):
        mall.verify_shop(shop, admin)
    if status == "suspended":
        mall.suspend_shop(shop, admin, "Melanggar aturan")
    if status == "changes_requested":
        mall.request_changes(shop, admin, "Lengkapi deskripsi")
    assert shop.status == ShopStatus(status)
    if commit:
        db.session.commit()
    return shop


def make_product(
    *, shop: Any = None, status: str = "published", commit: bool = True, **fields: Any
) -> Any:
    """A product of `shop` (a verified shop by default), fixed price Rp 25.000, published."""
    from portal.mall import services as mall
    from portal.mall.models import ProductStatus

    shop = shop or make_shop(commit=False)
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"Produk Uji {n}",
        "price_kind": "fixed",
        "price_min": 25_000,
        "price_max": None,
        "unit": "pcs",
        "min_order": 1,
        "availability": "available",
        "description": "Dibuat setiap hari.",
    }
    data.update(fields)
    product = mall.save_product(shop, None, shop.owner, **data)
    if status != "draft":
        mall.set_product_status(product, shop.owner, ProductStatus(status))
    if commit:
        db.session.commit()
    return product
