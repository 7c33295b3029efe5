"""SADOKU demo data: the catalogue, a courier, and requests in every status across kecamatan.

Built through the same services residents and officers use, so the timelines are real; a few are
backdated afterwards so the queue shows overdue requests.
"""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.core.time import today_wib, utcnow, wib_date
from portal.core.uploads import ALLOWED_DOCUMENT_KINDS, CheckedUpload, check_upload
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import (
    DocumentRequest,
    DocumentType,
    FailureReason,
    Reason,
    Relation,
    Status,
)
from portal.wilayah.models import Desa

# email, name, phone, desa code, street, NIK (valid format: region, birth date, serial)
DEMO_RESIDENTS = [
    ("ani@demo.test", "Ani Lubis", "081260000011", "12.07.02.1026", "Jl. Pendidikan No. 3",
     "1207024506880002"),
    ("bonar@demo.test", "Bonar Simanjuntak", "081260000012", "12.07.06.2001",
     "Jl. Besar Deli Tua Gg. Mawar", "1207061203790003"),
    ("cut@demo.test", "Cut Nurhaliza", "081260000013", "12.07.09.2001", "Dusun II Bah Perak",
     "1207094708950004"),
    ("darma@demo.test", "Darma Ginting", "081260000014", "12.07.03.2001", "Jl. Jamin Ginting Km 40",
     "1207031010700005"),
    ("evi@demo.test", "Evi Sembiring", "081260000015", "12.07.05.2001", "Dusun I Bintang Meriah",
     "1207056002990006"),
]  # fmt: skip

# (resident index or None for the main demo resident, document slug, final status, days ago)
DEMO_REQUESTS = [
    (None, "ktp-el", Status.SUBMITTED, 0),
    (None, "kia", Status.NEEDS_CORRECTION, 2),
    (None, "kk", Status.OUT_FOR_DELIVERY, 4),
    (None, "akta-kelahiran", Status.DELIVERED, 20),
    (0, "ktp-el", Status.SUBMITTED, 14),  # overdue
    (1, "kk", Status.VERIFIED, 12),  # overdue
    (2, "kia", Status.IN_PROCESS, 3),
    (3, "ktp-el", Status.READY_FOR_DELIVERY, 5),
    (4, "akta-kematian", Status.READY_FOR_DELIVERY, 6),
    (0, "kk", Status.READY_FOR_DELIVERY, 4),
    (1, "ktp-el", Status.DELIVERY_FAILED, 9),
    (2, "akta-perkawinan", Status.COLLECT_AT_OFFICE, 15),
    (3, "kia", Status.COLLECTED, 25),
    (4, "skpwni", Status.REJECTED, 8),
    (0, "akta-kelahiran", Status.CANCELLED, 7),
]

_ROUTE = {
    Status.VERIFIED: [Status.VERIFIED],
    Status.IN_PROCESS: [Status.VERIFIED, Status.IN_PROCESS],
    Status.READY_FOR_DELIVERY: [Status.VERIFIED, Status.IN_PROCESS, Status.READY_FOR_DELIVERY],
}
_OUT = [*_ROUTE[Status.READY_FOR_DELIVERY], Status.OUT_FOR_DELIVERY]
_ROUTE[Status.OUT_FOR_DELIVERY] = _OUT
_ROUTE[Status.DELIVERED] = [*_OUT, Status.DELIVERED]
_ROUTE[Status.DELIVERY_FAILED] = [*_OUT, Status.DELIVERY_FAILED]
_ROUTE[Status.COLLECT_AT_OFFICE] = [*_OUT, Status.DELIVERY_FAILED, Status.COLLECT_AT_OFFICE]
_ROUTE[Status.COLLECTED] = [*_ROUTE[Status.COLLECT_AT_OFFICE], Status.COLLECTED]
_ROUTE[Status.NEEDS_CORRECTION] = [Status.NEEDS_CORRECTION]
_ROUTE[Status.REJECTED] = [Status.REJECTED]
_ROUTE[Status.CANCELLED] = [Status.CANCELLED]
_ROUTE[Status.SUBMITTED] = []


def _scan(label: str) -> CheckedUpload:
    """A stand-in "scan": a pale page with the requirement's name, checked like a real upload."""
    image = Image.new("RGB", (480, 320), (245, 245, 235))
    ImageDraw.Draw(image).text((20, 20), f"CONTOH / DEMO\n{label}", fill=(40, 40, 40))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=70)
    upload = FileStorage(io.BytesIO(buf.getvalue()), filename="contoh.jpg")
    return check_upload(
        upload, field="file", allowed=ALLOWED_DOCUMENT_KINDS, max_bytes=5 * 1024 * 1024
    )


def _address(desa_code: str, street: str) -> dict[str, object]:
    desa = db.session.get(Desa, desa_code)
    assert desa is not None, desa_code
    return {
        "kecamatan_code": desa.kecamatan_code,
        "desa_code": desa_code,
        "street": street,
        "rt": "002",
        "rw": "001",
        "landmark": None,
        "latitude": None,
        "longitude": None,
    }


def _resident(email: str, name: str, phone: str, desa: str, street: str, nik: str, pw: str) -> User:
    user = accounts.find_user_by_identifier(email)
    if user is None:
        user = accounts.register_user(
            full_name=name, email=email, phone=phone, password=pw, consent=True
        )
        accounts.update_profile(
            user,
            accounts.ProfileData(
                full_name=name,
                email=email,
                phone=user.phone,
                nik=nik,
                address=_address(desa, street),
            ),
        )
    return user


def seed_sadoku_demo(main_resident: User, officer: User, courier: User, password: str) -> int:
    """Create the catalogue and, once, the demo requests. Returns how many requests were made."""
    services.seed_catalogue()
    if db.session.scalar(select(func.count(DocumentRequest.id))):
        return 0
    if not main_resident.nik:
        main_resident.nik = "1207285503900001"
    residents = [_resident(*row, password) for row in DEMO_RESIDENTS]
    types = {d.slug: d for d in db.session.scalars(select(DocumentType))}
    today = today_wib()
    made = 0
    for who, slug, status, days_ago in DEMO_REQUESTS:
        owner = main_resident if who is None else residents[who]
        req = _draft(owner, types[slug])
        services.submit_request(req, owner, declaration=True)
        for step in _ROUTE[status]:
            _move(req, step, officer, courier, owner, today)
        _backdate(req, days_ago)
        made += 1
    services.recompute_due_dates()
    db.session.flush()
    return made


def _draft(owner: User, doc: DocumentType) -> DocumentRequest:
    req = services.start_request(owner, doc, Reason.NEW if doc.slug != "ktp-el" else Reason.LOST)
    services.save_subject_step(
        req, is_self=True, name=owner.full_name, nik=owner.nik, kk="1207280101200001"
    )
    for name in doc.attachment_names:
        services.add_attachment(req, name, _scan(name), owner)
    services.complete_attachments_step(req)
    services.save_delivery_step(req, owner.address_data(), owner.full_name, owner.phone)
    return req


def _move(
    req: DocumentRequest,
    step: Status,
    officer: User,
    courier: User,
    owner: User,
    today: dt.date,
) -> None:
    if step == Status.VERIFIED:
        services.verify_request(req, officer, "Data dan lampiran Anda sudah lengkap dan benar.")
    elif step == Status.NEEDS_CORRECTION:
        services.request_correction(
            req,
            officer,
            [f"attachment:{req.document_type.attachment_names[0]}"] if req.document_type else [],
            "Foto lampiran kurang jelas. Mohon unggah ulang yang terbaca.",
        )
    elif step == Status.REJECTED:
        services.reject_request(
            req, officer, "Formulir F-1.03 belum ditandatangani. Silakan ajukan kembali."
        )
    elif step == Status.CANCELLED:
        services.cancel_request(req, owner, "Sudah diurus langsung di kantor.")
    elif step == Status.IN_PROCESS:
        services.start_printing(req, officer)
    elif step == Status.READY_FOR_DELIVERY:
        services.mark_ready(req, officer)
    elif step == Status.OUT_FOR_DELIVERY:
        services.assign_courier(req, officer, courier, today)
    elif step == Status.DELIVERED:
        services.mark_delivered(
            req,
            courier,
            received_by=owner.full_name,
            relation=Relation.SELF,
            photo=_scan("Serah terima"),
        )
    elif step == Status.DELIVERY_FAILED:
        services.mark_delivery_failed(req, courier, FailureReason.NOT_HOME)
    elif step == Status.COLLECT_AT_OFFICE:
        services.hold_at_office(req, officer, "Silakan ambil di loket Disdukcapil pada jam kerja.")
    elif step == Status.COLLECTED:
        services.mark_collected(req, officer)


def _backdate(req: DocumentRequest, days_ago: int) -> None:
    """Spread the request's history over the past `days_ago` days (demo data only)."""
    if not days_ago:
        return
    start = utcnow() - dt.timedelta(days=days_ago)
    req.created_at = req.submitted_at = start
    if req.document_type is not None:
        req.due_date = services.due_date_for(wib_date(start), req.document_type.service_days)
    step = dt.timedelta(days=days_ago) / (len(req.events) + 1)
    for i, event in enumerate(req.events):
        event.created_at = start + step * i
    if req.closed_at is not None:
        req.closed_at = req.events[-1].created_at
    if req.delivered_at is not None:
        req.delivered_at = req.events[-1].created_at
