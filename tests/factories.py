"""Plain factory functions with defaults for every field. They commit, so views can see the rows."""

from __future__ import annotations

import itertools
from typing import Any

from portal.accounts import services
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
