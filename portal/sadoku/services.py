"""SADOKU operations: the catalogue, a resident's draft to submission, and every status change.

Services take model objects and plain data, `flush()` but never commit (the view's `perform`
commits once per action), and refuse with `DomainError`. Every status change goes through
`DocumentRequest.move_to`, so the transition table is the only authority on what may happen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, literal, or_, select, union_all
from sqlalchemy.orm import defer
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Role, User
from portal.core.audit import record_audit
from portal.core.counts import COUNT_CAP, capped_count, list_cap
from portal.core.errors import DomainError
from portal.core.geo import Point, gazetteer_point, nearest_neighbour_route
from portal.core.identity import kk_problem, nik_problem, normalize_phone
from portal.core.notifications import notify, queue_mail
from portal.core.time import (
    LONG_DAY,
    add_working_days,
    format_day,
    today_wib,
    utcnow,
    wib_date,
)
from portal.core.uploads import CheckedUpload, get_storage
from portal.extensions import db
from portal.sadoku.models import (
    CORRECTABLE_FIELDS,
    NEXT_STEPS,
    Actor,
    Attachment,
    DocumentRequest,
    DocumentType,
    FailureReason,
    Holiday,
    InternalNote,
    Reason,
    Relation,
    RequestEvent,
    ResponseTemplate,
    Status,
)
from portal.wilayah.models import Desa

# Steps of the new-request flow, in order; `step_done` counts how many are complete.
STEPS = ("document", "subject", "attachments", "delivery", "summary")

# The catalogue a fresh installation starts with (DOMAIN.md section 3). It is data, not UI text:
# written in Indonesian as Disdukcapil publishes it, and admins edit it to the regency's checklists.
DEFAULT_DOCUMENT_TYPES: list[dict[str, Any]] = [
    {
        "slug": "ktp-el",
        "name": "KTP-el",
        "description": "Kartu Tanda Penduduk elektronik untuk penduduk berusia 17 tahun atau "
        "sudah/pernah kawin. KTP-el baru memerlukan perekaman biometrik langsung lebih dulu.",
        "requirements": "Baru: sudah perekaman biometrik, KK.\nHilang: surat keterangan "
        "kehilangan dari kepolisian.\nRusak: KTP-el yang rusak.\nPerubahan data: KTP-el lama dan "
        "dokumen pendukung perubahan.",
        "attachment_names": [
            "Kartu Keluarga (KK)",
            "Surat kehilangan, KTP-el rusak, atau KTP-el lama",
        ],
        "service_days": 5,
    },
    {
        "slug": "kia",
        "name": "Kartu Identitas Anak (KIA)",
        "description": "Kartu identitas untuk anak di bawah 17 tahun.",
        "requirements": "Akta kelahiran anak, KK dan KTP-el orang tua; anak usia 5 tahun ke atas: "
        "pas foto 2x3 dua lembar.",
        "attachment_names": ["Akta kelahiran anak", "KTP-el orang tua"],
        "service_days": 5,
    },
    {
        "slug": "kk",
        "name": "Kartu Keluarga (KK)",
        "description": "KK baru, perubahan, pisah KK, atau pengganti yang hilang. Dicetak di "
        "kertas A4 dengan tanda tangan elektronik (QR).",
        "requirements": "Buku nikah/akta perkawinan, surat pindah, bukti peristiwa (kelahiran, "
        "kematian), atau surat keterangan kehilangan dari kepolisian.",
        "attachment_names": ["Dokumen pendukung (buku nikah, surat pindah, atau bukti peristiwa)"],
        "service_days": 3,
    },
    {
        "slug": "akta-kelahiran",
        "name": "Akta Kelahiran",
        "description": "Akta pencatatan kelahiran.",
        "requirements": "Surat keterangan lahir dari rumah sakit, bidan, atau kepala desa; buku "
        "nikah/akta perkawinan orang tua; KK.",
        "attachment_names": ["Surat keterangan lahir", "Buku nikah / akta perkawinan orang tua"],
        "service_days": 5,
    },
    {
        "slug": "akta-kematian",
        "name": "Akta Kematian",
        "description": "Akta pencatatan kematian.",
        "requirements": "Surat keterangan kematian dari rumah sakit atau desa; KK dan KTP-el "
        "almarhum/almarhumah; KTP-el pelapor.",
        "attachment_names": ["Surat keterangan kematian", "KTP-el almarhum/almarhumah"],
        "service_days": 5,
    },
    {
        "slug": "akta-perkawinan",
        "name": "Akta Perkawinan",
        "description": "Akta perkawinan bagi pasangan non-Muslim.",
        "requirements": "Surat perkawinan dari pemuka agama, pas foto berdua, KK, KTP-el kedua "
        "mempelai.",
        "attachment_names": ["Surat perkawinan dari pemuka agama", "KTP-el kedua mempelai"],
        "service_days": 7,
    },
    {
        "slug": "akta-perceraian",
        "name": "Akta Perceraian",
        "description": "Akta pencatatan perceraian.",
        "requirements": "Putusan pengadilan yang berkekuatan hukum tetap, akta perkawinan, KK, "
        "KTP-el.",
        "attachment_names": ["Putusan pengadilan berkekuatan hukum tetap", "Akta perkawinan"],
        "service_days": 7,
    },
    {
        "slug": "skpwni",
        "name": "Surat Keterangan Pindah (SKPWNI)",
        "description": "Surat pindah bagi penduduk yang pindah keluar Deli Serdang.",
        "requirements": "KK dan formulir F-1.03.",
        "attachment_names": ["Formulir F-1.03"],
        "service_days": 3,
    },
]

DEFAULT_RESPONSE_TEMPLATES = [
    (Status.VERIFIED, "Data dan lampiran Anda sudah lengkap dan benar."),
    (Status.NEEDS_CORRECTION, "Foto lampiran kurang jelas. Mohon unggah ulang yang terbaca."),
    (Status.NEEDS_CORRECTION, "NIK tidak sesuai dengan KK. Mohon periksa kembali."),
    (Status.REJECTED, "Perekaman biometrik belum dilakukan. Silakan datang ke kantor kecamatan."),
    (Status.IN_PROCESS, "Dokumen sedang dicetak."),
    (Status.READY_FOR_DELIVERY, "Dokumen selesai dicetak dan menunggu kurir."),
    (Status.OUT_FOR_DELIVERY, "Kurir akan mengantar pada tanggal yang tertera."),
    (Status.DELIVERY_FAILED, "Kurir akan menghubungi Anda untuk jadwal baru."),
    (Status.COLLECT_AT_OFFICE, "Silakan ambil di loket Disdukcapil pada jam kerja."),
]


# --- catalogue --------------------------------------------------------------------------------


def seed_catalogue() -> int:
    """Add the default document types and response templates that are missing. Idempotent."""
    added = 0
    existing = set(db.session.scalars(select(DocumentType.slug)))
    for position, data in enumerate(DEFAULT_DOCUMENT_TYPES):
        if data["slug"] not in existing:
            db.session.add(DocumentType(position=position, is_active=True, **data))
            added += 1
    if db.session.scalar(select(func.count(ResponseTemplate.id))) == 0:
        for position, (status, text) in enumerate(DEFAULT_RESPONSE_TEMPLATES):
            db.session.add(ResponseTemplate(status=status, text=text, position=position))
    db.session.flush()
    return added


def active_document_types() -> list[DocumentType]:
    return list(
        db.session.scalars(
            select(DocumentType)
            .where(DocumentType.is_active.is_(True))
            .order_by(DocumentType.position, DocumentType.name)
        )
    )


def save_document_type(doc_type: DocumentType | None, **data: Any) -> DocumentType:
    """Create or update a document type; the slug must stay unique."""
    slug = data.get("slug") or (doc_type.slug if doc_type else None)
    clash = db.session.scalar(select(DocumentType).where(DocumentType.slug == slug))
    if clash is not None and clash is not doc_type:
        raise DomainError("slug", _("Another document type already uses this web address"))
    if doc_type is None:
        position = db.session.scalar(select(func.max(DocumentType.position))) or 0
        doc_type = DocumentType(position=position + 1)
        db.session.add(doc_type)
    names = [n.strip() for n in data.pop("attachment_names", []) if n and n.strip()]
    if len(set(names)) != len(names):
        raise DomainError("attachment_names", _("Each attachment name may appear only once"))
    doc_type.attachment_names = names
    for key, value in data.items():
        setattr(doc_type, key, value)
    db.session.flush()
    return doc_type


def holidays_from(start: dt.date) -> set[dt.date]:
    return set(db.session.scalars(select(Holiday.day).where(Holiday.day >= start)))


def add_holiday(day: dt.date, name: str, actor: User) -> Holiday:
    """Close the office on `day`; open requests' due dates move accordingly."""
    if db.session.scalar(select(Holiday).where(Holiday.day == day)) is not None:
        raise DomainError("day", _("This date is already a holiday"))
    holiday = Holiday(day=day, name=name)
    db.session.add(holiday)
    db.session.flush()
    recompute_due_dates()
    record_audit("sadoku_holiday_added", actor=actor, day=day.isoformat(), name=name)
    return holiday


def remove_holiday(holiday: Holiday, actor: User) -> None:
    record_audit("sadoku_holiday_removed", actor=actor, day=holiday.day.isoformat())
    db.session.delete(holiday)
    db.session.flush()
    recompute_due_dates()


def due_date_for(start: dt.date, service_days: int) -> dt.date:
    return add_working_days(start, service_days, holidays_from(start))


def recompute_due_dates() -> int:
    """Re-derive the due date of every open request (after the holiday calendar changed)."""
    open_statuses = [s for s in Status if s.is_open]
    rows = db.session.execute(
        select(DocumentRequest, DocumentType.service_days)
        .join(DocumentType, DocumentRequest.document_type_id == DocumentType.id)
        .where(DocumentRequest.status.in_(open_statuses))
    ).all()
    if not rows:
        return 0
    earliest = min(wib_date(req.submitted_at) for req, _days in rows if req.submitted_at)
    closed = holidays_from(earliest)
    for req, days in rows:
        if req.submitted_at is not None:
            req.due_date = add_working_days(wib_date(req.submitted_at), days, closed)
    _flush()
    return len(rows)


def save_response_template(
    template: ResponseTemplate | None, status: Status, text: str
) -> ResponseTemplate:
    if template is None:
        template = ResponseTemplate()
        db.session.add(template)
    template.status, template.text = status, text
    db.session.flush()
    return template


def response_templates(status: Status) -> list[ResponseTemplate]:
    return list(
        db.session.scalars(
            select(ResponseTemplate)
            .where(ResponseTemplate.status == status)
            .order_by(ResponseTemplate.position, ResponseTemplate.id)
        )
    )


# --- the resident's draft -----------------------------------------------------------------------


def start_request(
    owner: User,
    document_type: DocumentType,
    reason: Reason,
    *,
    assisted_by: User | None = None,
    consent: bool = False,
) -> DocumentRequest:
    """Open a draft for `owner`. In assisted mode an officer files it with the owner's consent."""
    if not document_type.is_active:
        raise DomainError("document_type", _("This document cannot be requested online now"))
    if assisted_by is not None and not consent:
        raise DomainError(
            "consent", _("Confirm that the resident agreed to you filing this request for them")
        )
    req = DocumentRequest(
        user=owner,
        document_type=document_type,
        reason=reason,
        status=Status.DRAFT,
        step_done=1,
        subject_is_self=True,
        assisted_by=assisted_by,
        assisted_consent_at=utcnow() if assisted_by is not None else None,
        correction_items=[],
    )
    db.session.add(req)
    db.session.flush()
    if assisted_by is not None:
        record_audit(
            "sadoku_assisted_request", actor=assisted_by, target_user=owner, request_id=req.id
        )
    return req


def _require_draft(req: DocumentRequest) -> None:
    if req.status != Status.DRAFT:
        raise DomainError(None, _("This request has already been sent and cannot be edited here"))


def save_document_step(req: DocumentRequest, document_type: DocumentType, reason: Reason) -> None:
    _require_draft(req)
    if not document_type.is_active:
        raise DomainError("document_type", _("This document cannot be requested online now"))
    if req.document_type_id != document_type.id:
        # Another document needs other attachments: the ones already uploaded no longer apply.
        for attachment in list(req.current_attachments):
            attachment.replaced_at = utcnow()
    req.document_type, req.reason = document_type, reason
    req.step_done = max(req.step_done, 1)
    _flush()


def _check_subject(name: str | None, nik: str | None, kk: str | None) -> None:
    if not name:
        raise DomainError("subject_name", _("Enter the name as written on the KK"))
    # nik_problem/kk_problem return codes ("length", "date"...): the resident reads a sentence,
    # the same ones the account forms show.
    if (problem := nik_problem(nik or "")) is not None:
        raise DomainError(
            "subject_nik",
            _("A NIK has exactly 16 digits")
            if problem == "length"
            else _("Digits 7 to 12 of a NIK are a birth date; check them")
            if problem == "date"
            else _("This is not a valid NIK; check it against your KTP or KK"),
        )
    if (problem := kk_problem(kk or "")) is not None:
        raise DomainError(
            "subject_kk",
            _("A KK number has exactly 16 digits")
            if problem == "length"
            else _("This is not a valid KK number; check it against your KK"),
        )


def save_subject_step(
    req: DocumentRequest, *, is_self: bool, name: str | None, nik: str | None, kk: str | None
) -> None:
    """Whose document it is. For oneself the NIK is also saved to the profile if it had none."""
    _require_draft(req)
    _check_subject(name, nik, kk)
    req.subject_is_self, req.subject_name, req.subject_nik, req.subject_kk = is_self, name, nik, kk
    if is_self and not req.user.nik:
        req.user.nik = nik
    req.step_done = max(req.step_done, 2)
    _flush()


def add_attachment(
    req: DocumentRequest, name: str, upload: CheckedUpload, uploader: User
) -> Attachment:
    """Store a file for requirement `name`, replacing (but keeping) an earlier one."""
    if req.status not in (Status.DRAFT, Status.NEEDS_CORRECTION):
        raise DomainError(None, _("Attachments can no longer be changed on this request"))
    if req.document_type is None or name not in req.document_type.attachment_names:
        raise DomainError(None, _("This document does not ask for that attachment"))
    if req.status == Status.NEEDS_CORRECTION and f"attachment:{name}" not in req.correction_items:
        raise DomainError(None, _("Only the attachments the officer marked can be replaced"))
    for old in req.current_attachments:
        if old.name == name:
            old.replaced_at = utcnow()
    key = get_storage().save(upload.data, upload.extension, "sadoku")
    attachment = Attachment(
        kind="document",
        name=name,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
        storage_key=key,
        uploaded_by_id=uploader.id,
    )
    req.attachments.append(attachment)
    _flush()
    return attachment


def missing_attachments(req: DocumentRequest) -> list[str]:
    have = {a.name for a in req.current_attachments}
    names = req.document_type.attachment_names if req.document_type else []
    return [n for n in names if n not in have]


def complete_attachments_step(req: DocumentRequest) -> None:
    _require_draft(req)
    if missing := missing_attachments(req):
        raise DomainError(
            None, _("Upload every required attachment: %(names)s", names=", ".join(missing))
        )
    req.step_done = max(req.step_done, 3)
    _flush()


def _check_delivery(address: dict[str, Any], recipient_name: str | None, phone: str | None) -> str:
    if not address.get("desa_code") or not address.get("street"):
        raise DomainError("street", _("Enter the full delivery address"))
    desa = db.session.get(Desa, address["desa_code"])
    if desa is None or desa.kecamatan_code != address.get("kecamatan_code"):
        raise DomainError("desa", _("Choose a desa or kelurahan from the list"))
    if not recipient_name:
        raise DomainError("recipient_name", _("Enter who will receive the document"))
    normalized = normalize_phone(phone or "")
    if normalized is None:
        raise DomainError("recipient_phone", _("Enter a mobile number like 0812 3456 7890"))
    return normalized


def save_delivery_step(
    req: DocumentRequest,
    address: dict[str, Any],
    recipient_name: str | None,
    recipient_phone: str | None,
) -> None:
    _require_draft(req)
    phone = _check_delivery(address, recipient_name, recipient_phone)
    for key, value in address.items():
        setattr(req, key, value)
    req.recipient_name, req.recipient_phone = recipient_name, phone
    req.step_done = max(req.step_done, 4)
    _flush()


def tracking_code(req: DocumentRequest, when: dt.datetime) -> str:
    """SDK-YYMM-NNNNNN: the month of submission (WIB) and the request's number."""
    return f"SDK-{wib_date(when):%y%m}-{req.id:06d}"


def submit_request(req: DocumentRequest, actor: User, *, declaration: bool) -> RequestEvent:
    """Send the draft to Disdukcapil: code, due date, first timeline entry, notification."""
    _require_draft(req)
    if not declaration:
        raise DomainError("declaration", _("Tick the declaration to send the request"))
    if req.step_done < 4:
        raise DomainError(None, _("Complete every step before sending the request"))
    if req.document_type is None or not req.document_type.is_active:
        raise DomainError(None, _("This document cannot be requested online now"))
    _check_subject(req.subject_name, req.subject_nik, req.subject_kk)
    _check_delivery(req.address_data(), req.recipient_name, req.recipient_phone)
    if missing := missing_attachments(req):
        raise DomainError(
            None, _("Upload every required attachment: %(names)s", names=", ".join(missing))
        )
    now = utcnow()
    req.declared_at = now
    req.submitted_at = now
    req.code = tracking_code(req, now)
    req.due_date = due_date_for(wib_date(now), req.document_type.service_days)
    event = req.move_to(Status.SUBMITTED, actor=actor, as_=Actor.RESIDENT)
    req.step_done = len(STEPS)
    _flush()
    _tell_resident(req, event)
    return event


def discard_draft(req: DocumentRequest, user: User) -> list[str]:
    """Delete an unsent draft with its attachments; returns the storage keys of its files.

    The caller deletes the files after the commit, so a failed commit never loses the bytes of
    rows that still exist.
    """
    _require_draft(req)
    if user.id not in (req.user_id, req.assisted_by_id):
        raise DomainError(None, _("Only the person filing this draft can delete it"))
    keys = [a.storage_key for a in req.attachments]
    db.session.delete(req)
    db.session.flush()
    return keys


def active_document_type(slug: str) -> DocumentType | None:
    return db.session.scalar(
        select(DocumentType).where(DocumentType.slug == slug, DocumentType.is_active.is_(True))
    )


# Lists never show the subject's NIK or KK: leave them encrypted in the database rather than
# decrypting two AES-GCM values per row (read on access, should a page ever need one).
WITHOUT_SECRETS = (defer(DocumentRequest.subject_nik), defer(DocumentRequest.subject_kk))


def user_drafts(user: User, limit: int = 20) -> list[DocumentRequest]:
    """The user's unsent drafts, newest first (bounded: a list page, not an archive)."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(DocumentRequest)
            .options(selectinload(DocumentRequest.document_type), *WITHOUT_SECRETS)
            .where(DocumentRequest.user_id == user.id, DocumentRequest.status == Status.DRAFT)
            .order_by(DocumentRequest.created_at.desc(), DocumentRequest.id.desc())
            .limit(limit)
        )
    )


def user_requests(
    user: User, page: int = 1, per_page: int = 50
) -> tuple[list[DocumentRequest], bool]:
    """One page of the user's sent requests, newest first, and whether older ones exist."""
    from sqlalchemy.orm import selectinload

    rows = list(
        db.session.scalars(
            select(DocumentRequest)
            .options(selectinload(DocumentRequest.document_type), *WITHOUT_SECRETS)
            .where(DocumentRequest.user_id == user.id, DocumentRequest.status != Status.DRAFT)
            .order_by(DocumentRequest.submitted_at.desc(), DocumentRequest.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


# --- the resident after submission ------------------------------------------------------------


def _require_owner(req: DocumentRequest, user: User) -> None:
    # Views reach requests through get_request_or_404 already; this keeps a future caller
    # (a script, an API) from acting on someone else's request.
    if req.user_id != user.id:
        raise DomainError(None, _("Only the resident who sent this request can do this"))


def cancel_request(req: DocumentRequest, resident: User, reason: str = "") -> RequestEvent:
    """The resident withdraws a request before printing starts."""
    _require_owner(req, resident)
    event = req.move_to(Status.CANCELLED, actor=resident, as_=Actor.RESIDENT, public_note=reason)
    _flush()
    _tell_resident(req, event)
    return event


def resubmit_request(
    req: DocumentRequest,
    resident: User,
    *,
    subject: dict[str, Any] | None = None,
    address: dict[str, Any] | None = None,
    recipient: dict[str, Any] | None = None,
    note: str = "",
) -> RequestEvent:
    """Send a corrected request back: only the items the officer marked may change.

    The service-standard clock restarts, since the wait was on the resident's side.
    """
    _require_owner(req, resident)
    if req.status != Status.NEEDS_CORRECTION:
        raise DomainError(None, _("This request is not waiting for a correction"))
    items = set(req.correction_items)
    if subject:
        merged = {
            "name": req.subject_name,
            "nik": req.subject_nik,
            "kk": req.subject_kk,
        }
        for key, item in (("name", "subject_name"), ("nik", "subject_nik"), ("kk", "subject_kk")):
            if key in subject and item in items:
                merged[key] = subject[key]
        _check_subject(merged["name"], merged["nik"], merged["kk"])
        req.subject_name, req.subject_nik, req.subject_kk = (
            merged["name"],
            merged["nik"],
            merged["kk"],
        )
    if address and "address" in items:
        _check_delivery(address, req.recipient_name, req.recipient_phone)
        for key, value in address.items():
            setattr(req, key, value)
    if recipient and "recipient" in items:
        phone = _check_delivery(req.address_data(), recipient.get("name"), recipient.get("phone"))
        req.recipient_name, req.recipient_phone = recipient.get("name"), phone
    fixed_attachments = {
        item.removeprefix("attachment:") for item in items if item.startswith("attachment:")
    }
    since = _last_event_time(req)
    for name in fixed_attachments:
        fresh = [a for a in req.current_attachments if a.name == name]
        if not fresh or (since is not None and _aware(fresh[-1].created_at) < since):
            raise DomainError(
                None, _("Upload a new file for \u201c%(name)s\u201d before sending", name=name)
            )
    if missing := missing_attachments(req):
        raise DomainError(
            None, _("Upload every required attachment: %(names)s", names=", ".join(missing))
        )
    event = req.move_to(Status.SUBMITTED, actor=resident, as_=Actor.RESIDENT, public_note=note)
    req.correction_items = []
    req.submitted_at = utcnow()
    assert req.document_type is not None
    req.due_date = due_date_for(wib_date(req.submitted_at), req.document_type.service_days)
    _flush()
    _tell_resident(req, event)
    return event


def _aware(value: dt.datetime) -> dt.datetime:
    from portal.core.time import as_utc

    return as_utc(value)


def _last_event_time(req: DocumentRequest) -> dt.datetime | None:
    return _aware(req.events[-1].created_at) if req.events else None


# --- officers -----------------------------------------------------------------------------------


def _is_officer(user: User) -> bool:
    return user.has_role(Role.SADOKU_OFFICER) or user.has_role(Role.ADMIN)


def _require_officer(user: User) -> None:
    if not _is_officer(user):
        raise DomainError(None, _("Only SADOKU officers can do this"))


def _require_courier_or_officer(req: DocumentRequest, user: User) -> None:
    if _is_officer(user):
        return
    if user.has_role(Role.SADOKU_COURIER) and req.courier_id == user.id:
        return
    raise DomainError(None, _("Only the assigned courier or a SADOKU officer can do this"))


def _announce(req: DocumentRequest, event: RequestEvent, actor: User) -> None:
    """After an office-side move: write it, tell the resident, and keep it in the audit log."""
    _flush()
    _tell_resident(req, event)
    record_audit(
        "sadoku_status_changed",
        actor=actor,
        target_user=req.user,
        request=req.code,
        to=event.to_status.value,
    )


def _officer_move(
    req: DocumentRequest,
    to: Status,
    officer: User,
    public_note: str,
    internal_note: str,
) -> RequestEvent:
    event = req.move_to(
        to, actor=officer, as_=Actor.OFFICER, public_note=public_note, internal_note=internal_note
    )
    _announce(req, event, officer)
    return event


def verify_request(
    req: DocumentRequest, officer: User, public_note: str = "", internal_note: str = ""
) -> RequestEvent:
    _require_officer(officer)
    return _officer_move(req, Status.VERIFIED, officer, public_note, internal_note)


def request_correction(
    req: DocumentRequest,
    officer: User,
    items: Iterable[str],
    public_note: str,
    internal_note: str = "",
) -> RequestEvent:
    """Send the request back, naming exactly what the resident must fix."""
    _require_officer(officer)
    valid = set(CORRECTABLE_FIELDS) | {
        f"attachment:{n}" for n in (req.document_type.attachment_names if req.document_type else [])
    }
    chosen = [i for i in items if i in valid]
    if not chosen:
        raise DomainError("items", _("Choose at least one item the resident must fix"))
    if not public_note.strip():
        raise DomainError("public_note", _("Tell the resident what to fix"))
    event = _officer_move(req, Status.NEEDS_CORRECTION, officer, public_note, internal_note)
    req.correction_items = chosen
    _flush()
    return event


def reject_request(
    req: DocumentRequest, officer: User, reason: str, internal_note: str = ""
) -> RequestEvent:
    _require_officer(officer)
    if not reason.strip():
        raise DomainError("public_note", _("Give the reason for rejecting the request"))
    return _officer_move(req, Status.REJECTED, officer, reason, internal_note)


def start_printing(
    req: DocumentRequest, officer: User, public_note: str = "", internal_note: str = ""
) -> RequestEvent:
    _require_officer(officer)
    return _officer_move(req, Status.IN_PROCESS, officer, public_note, internal_note)


def mark_ready(
    req: DocumentRequest, officer: User, public_note: str = "", internal_note: str = ""
) -> RequestEvent:
    _require_officer(officer)
    return _officer_move(req, Status.READY_FOR_DELIVERY, officer, public_note, internal_note)


def _check_courier(courier: User | None, day: dt.date | None) -> tuple[User, dt.date]:
    if courier is None or not courier.has_role(Role.SADOKU_COURIER) or not courier.is_active:
        raise DomainError("courier", _("Choose a courier from the list"))
    if day is None:
        raise DomainError("delivery_date", _("Enter the delivery date"))
    if day < today_wib():
        raise DomainError("delivery_date", _("The delivery date cannot be in the past"))
    return courier, day


def assign_courier(
    req: DocumentRequest,
    officer: User,
    courier: User | None,
    day: dt.date | None,
    public_note: str = "",
    internal_note: str = "",
) -> RequestEvent:
    """Send the document out (from ready, or again after a failed delivery) with a courier."""
    _require_officer(officer)
    courier, day = _check_courier(courier, day)
    if not public_note:
        public_note = _stored(
            lambda: _("Delivery planned for %(date)s.", date=format_day(day, LONG_DAY))
        )
    event = req.move_to(
        Status.OUT_FOR_DELIVERY,
        actor=officer,
        as_=Actor.OFFICER,
        public_note=public_note,
        internal_note=internal_note,
    )
    req.courier, req.delivery_date = courier, day
    req.failure_reason = None
    _announce(req, event, officer)
    return event


def bulk_assign(
    requests: Sequence[DocumentRequest],
    officer: User,
    courier: User | None,
    day: dt.date | None,
) -> int:
    """Assign several ready requests at once; if any cannot move, none does (one transaction)."""
    _require_officer(officer)
    if not requests:
        raise DomainError("requests", _("Select at least one request"))
    courier, day = _check_courier(courier, day)
    for req in requests:
        if req.status != Status.READY_FOR_DELIVERY:
            raise DomainError(
                "requests",
                _(
                    "%(code)s is not ready for delivery; only ready requests can be assigned",
                    code=req.code,
                ),
            )
        assign_courier(req, officer, courier, day)
    return len(requests)


def mark_delivered(
    req: DocumentRequest,
    actor: User,
    *,
    received_by: str,
    relation: Relation,
    photo: CheckedUpload | None,
    lat: float | None = None,
    lon: float | None = None,
    public_note: str = "",
    internal_note: str = "",
) -> RequestEvent:
    """Record the hand-over: who took it, in what capacity, a photo, and where when known."""
    _require_courier_or_officer(req, actor)
    if not received_by:
        raise DomainError("received_by", _("Enter the name of the person who received it"))
    if photo is None:
        raise DomainError("photo", _("Take a photo of the hand-over"))
    event = req.move_to(
        Status.DELIVERED,
        actor=actor,
        as_=Actor.OFFICER,
        public_note=public_note
        or _stored(
            lambda: _(
                "Received by %(name)s (%(relation)s).", name=received_by, relation=relation.label
            )
        ),
        internal_note=internal_note,
    )
    req.received_by, req.received_relation = received_by, relation
    req.delivered_at = utcnow()
    req.delivered_lat, req.delivered_lon = lat, lon
    key = get_storage().save(photo.data, photo.extension, "sadoku")
    req.attachments.append(
        Attachment(
            kind="handover",
            name="handover",
            filename=photo.filename,
            content_type=photo.content_type,
            size=photo.size,
            sha256=photo.sha256,
            storage_key=key,
            uploaded_by_id=actor.id,
        )
    )
    _announce(req, event, actor)
    return event


def mark_delivery_failed(
    req: DocumentRequest,
    actor: User,
    reason: FailureReason | None,
    public_note: str = "",
    internal_note: str = "",
) -> RequestEvent:
    _require_courier_or_officer(req, actor)
    if reason is None:
        raise DomainError("failure_reason", _("Choose why the delivery failed"))
    event = req.move_to(
        Status.DELIVERY_FAILED,
        actor=actor,
        as_=Actor.OFFICER,
        public_note=public_note or _stored(lambda: reason.label),
        internal_note=internal_note,
    )
    req.failure_reason = reason
    _announce(req, event, actor)
    return event


def hold_at_office(
    req: DocumentRequest, officer: User, public_note: str = "", internal_note: str = ""
) -> RequestEvent:
    _require_officer(officer)
    return _officer_move(req, Status.COLLECT_AT_OFFICE, officer, public_note, internal_note)


def mark_collected(
    req: DocumentRequest, officer: User, public_note: str = "", internal_note: str = ""
) -> RequestEvent:
    _require_officer(officer)
    return _officer_move(req, Status.COLLECTED, officer, public_note, internal_note)


def add_internal_note(req: DocumentRequest, officer: User, text: str) -> InternalNote:
    _require_courier_or_officer(req, officer)
    if not text.strip():
        raise DomainError("text", _("Write the note"))
    note = InternalNote(request=req, author_id=officer.id, text=text.strip())
    db.session.add(note)
    _flush()
    return note


def record_nik_view(req: DocumentRequest, viewer: User) -> None:
    """Each display of a full NIK/KK goes to the append-only audit log (Adminduk art. 95A)."""
    record_audit("sadoku_nik_viewed", actor=viewer, target_user=req.user, request=req.code)
    db.session.flush()


# --- queues, overdue, routes, tracking -----------------------------------------------------------


def is_overdue(req: DocumentRequest, today: dt.date | None = None) -> bool:
    return bool(
        req.status.is_open and req.due_date is not None and (today or today_wib()) > req.due_date
    )


@dataclass
class QueueFilter:
    status: Status | None = None
    document_type_id: int | None = None
    kecamatan_code: str | None = None
    overdue: bool = False
    q: str = ""


def queue_query(f: QueueFilter, today: dt.date | None = None) -> Select[tuple[DocumentRequest]]:
    """Requests officers work on, oldest first; drafts are the resident's and never listed."""
    stmt = select(DocumentRequest).where(DocumentRequest.status != Status.DRAFT)
    if f.status is not None:
        stmt = stmt.where(DocumentRequest.status == f.status)
    if f.document_type_id:
        stmt = stmt.where(DocumentRequest.document_type_id == f.document_type_id)
    if f.kecamatan_code:
        stmt = stmt.where(DocumentRequest.kecamatan_code == f.kecamatan_code)
    if f.overdue:
        stmt = stmt.where(
            DocumentRequest.status.in_([s for s in Status if s.is_open]),
            DocumentRequest.due_date < (today or today_wib()),
        )
    if f.q:
        term = f.q.strip()
        if term.upper().startswith("SDK-"):
            stmt = stmt.where(DocumentRequest.code == term.upper())
        else:
            like = f"%{term.lower()}%"
            stmt = stmt.join(User, DocumentRequest.user_id == User.id).where(
                or_(
                    func.lower(DocumentRequest.subject_name).like(like),
                    func.lower(User.full_name).like(like),
                )
            )
    return stmt.order_by(DocumentRequest.submitted_at, DocumentRequest.id)


def status_counts() -> dict[Status, int]:
    """Requests per status for the queue's tabs, each counted no further than COUNT_CAP + 1.

    One query of one LIMITed index scan per status, so the cost stays bounded however many
    requests the regency has filed: above the cap a tab shows "1.000+". Closed statuses pass the
    cap within months; an open one only when the office is that far behind.
    """
    capped = union_all(
        *(
            select(literal(status.value).label("status"), func.count().label("n")).select_from(
                select(DocumentRequest.id)
                .where(DocumentRequest.status == status)
                .limit(COUNT_CAP + 1)
                .subquery()
            )
            for status in Status
            if status != Status.DRAFT
        )
    )
    counts = {Status(status): n for status, n in db.session.execute(select(capped.subquery()))}
    return {s: counts.get(s, 0) for s in Status if s != Status.DRAFT}


def overdue_count(today: dt.date | None = None) -> int:
    """Open requests past their due date, counted no further than COUNT_CAP + 1 (see above)."""
    return capped_count(
        select(DocumentRequest.id).where(
            DocumentRequest.status.in_([s for s in Status if s.is_open]),
            DocumentRequest.due_date < (today or today_wib()),
        ),
        COUNT_CAP,
    )


def couriers() -> list[User]:
    from portal.accounts.models import RoleGrant

    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.SADOKU_COURIER, User.is_disabled.is_(False))
            .order_by(User.full_name)
        )
    )


def request_point(req: DocumentRequest) -> Point | None:
    """Where the courier goes: the resident's pin, else the desa centroid."""
    if req.latitude is not None and req.longitude is not None:
        return Point(req.latitude, req.longitude, "pin")
    return gazetteer_point(req.desa_code, req.kecamatan_code)


def courier_route(courier: User, day: dt.date) -> list[tuple[DocumentRequest, Point, float]]:
    """The courier's deliveries for `day` in nearest-neighbour order from Disdukcapil."""
    reqs = db.session.scalars(
        select(DocumentRequest)
        .where(
            DocumentRequest.courier_id == courier.id,
            DocumentRequest.delivery_date == day,
            DocumentRequest.status.in_([Status.OUT_FOR_DELIVERY, Status.DELIVERED]),
        )
        .order_by(DocumentRequest.id)
    ).all()
    stops = [(r, p) for r in reqs if (p := request_point(r)) is not None]
    return nearest_neighbour_route(current_app.config["DISDUKCAPIL_POINT"], stops)


def track(code: str, nik_last4: str) -> DocumentRequest | None:
    """Public tracking: the request only when both the code and the NIK's last 4 digits match."""
    code = (code or "").strip().upper()
    last4 = (nik_last4 or "").strip()
    if not code or len(last4) != 4 or not last4.isdigit():
        return None
    req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
    if req is None or not req.subject_nik or not req.subject_nik.endswith(last4):
        return None
    return req


def timeline_matches_status(req: DocumentRequest) -> bool:
    """Invariant checked by tests: the last timeline entry is the current status."""
    if req.status == Status.DRAFT:
        return not req.events
    return bool(req.events) and req.events[-1].to_status == req.status


# --- officers' desk and admin lists (added for the officer and admin pages) ---------------------


def all_document_types() -> list[DocumentType]:
    """The whole catalogue, inactive types included (admin list, queue filter)."""
    return list(
        db.session.scalars(select(DocumentType).order_by(DocumentType.position, DocumentType.name))
    )


def listed_holidays(today: dt.date | None = None, past_days: int = 30) -> list[Holiday]:
    """Upcoming holidays and those of the last `past_days` days, for the admin list."""
    since = (today or today_wib()) - dt.timedelta(days=past_days)
    stmt = select(Holiday).where(Holiday.day >= since).order_by(Holiday.day)
    return list(db.session.scalars(stmt))


def all_response_templates() -> list[ResponseTemplate]:
    return list(
        db.session.scalars(
            select(ResponseTemplate).order_by(
                ResponseTemplate.status, ResponseTemplate.position, ResponseTemplate.id
            )
        )
    )


def delete_response_template(template: ResponseTemplate) -> None:
    db.session.delete(template)
    db.session.flush()


def queue_page(f: QueueFilter, page: int, per_page: int = 25) -> tuple[list[DocumentRequest], int]:
    """One page of the queue and the total, with what the table shows loaded in fixed queries.

    The total is counted no further than COUNT_CAP (or the page asked for) + 1; above that the
    page says "more than" and offers the next page while there is one.
    """
    from sqlalchemy.orm import selectinload

    stmt = queue_query(f)
    # Capped: "All statuses" spans every request ever filed; the tabs' counts say how many are open.
    total = capped_count(stmt, list_cap(page, per_page, COUNT_CAP))
    rows = db.session.scalars(
        stmt.options(
            selectinload(DocumentRequest.document_type),
            selectinload(DocumentRequest.kecamatan),
            *WITHOUT_SECRETS,
        )
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(rows), total or 0


def start_assisted_request(
    officer: User,
    phone: str,
    full_name: str | None,
    document_type: DocumentType,
    reason: Reason,
    consent: bool,
) -> tuple[DocumentRequest, bool]:
    """File a draft at a counter for a resident found by phone, or for a new account made for them.

    Returns the draft and whether an account was created.
    """
    from portal.accounts import services as accounts

    _require_officer(officer)
    owner, created = accounts.find_or_register_at_counter(phone, full_name, consent)
    return start_request(owner, document_type, reason, assisted_by=officer, consent=True), created


# --- internals ----------------------------------------------------------------------------------


def _flush() -> None:
    """Flush, turning a lost race (someone else changed the request) into a clear refusal."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise DomainError(
            None,
            _("Someone else changed this request at the same time. Reload it and try again."),
        ) from exc


def _stored(make: Callable[[], str]) -> str:
    """Text the portal writes into a record is in Indonesian, whoever's browser asked for it.

    A stored note cannot follow each reader's language switch; the default language is the one
    every resident and officer reads.
    """
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(make())


def _tell_resident(req: DocumentRequest, event: RequestEvent) -> None:
    """In-app notification and (when the account has an email) an email, with the next step.

    Stored text cannot follow each reader's language switch, so it is written in Indonesian,
    the portal's default, whoever (officer or resident) made the change.
    """
    owner = req.user
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        status = event.to_status
        title = _("%(code)s: %(status)s", code=req.code or "", status=status.label)
        parts = [str(NEXT_STEPS.get(status, ""))]
        if event.public_note:
            parts.insert(0, event.public_note)
        body = "\n\n".join(p for p in parts if p)
        url = url_for("sadoku.request_show", code=req.code)
        notify(owner.id, title, body, url)
        if owner.wants_email:  # the resident may have withdrawn consent to emails
            link = url_for("sadoku.request_show", code=req.code, _external=True)
            queue_mail(
                owner.email,
                title,
                _(
                    "Hello %(name)s,\n\n%(body)s\n\nSee the whole timeline: %(link)s\n",
                    name=owner.first_name,
                    body=body,
                    link=link,
                ),
            )
