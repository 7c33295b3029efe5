"""Residents' rights under UU 27/2022, and the retention job.

- `export_data`: everything the portal holds about one person, as JSON or as a zip of CSV files
  (right of access and portability); each export is written to the audit log.
- `file_correction` / `decide_correction`: the right to correction, through an admin queue.
- `delete_account`: erasure. Personal data is deleted or replaced by a pseudonym; the records the
  regency must keep (SADOKU requests as public-service records, weighings and the wallet ledger as
  financial records) stay, linked to the pseudonym.
- `set_email_consent` / `remove_map_pins`: the optional consents that can be withdrawn without
  closing the account.
- `purge`: the retention job behind `flask privacy purge`.

Like every service, these flush and never commit. Files in storage cannot roll back with the
database, so the functions that drop files return their storage keys and the caller deletes them
with `delete_files` after the commit: a failed commit then leaves the files, never rows pointing
at missing files.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import logging
import re
import secrets
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import PasswordResetToken, Role, RoleGrant, User, UserSession
from portal.core.audit import AuditLog, record_audit
from portal.core.errors import DomainError
from portal.core.identity import local_phone, mask_number
from portal.core.money import format_rupiah
from portal.core.notifications import Notification, tell
from portal.core.security import verify_password
from portal.core.time import as_utc, utcnow
from portal.core.uploads import get_storage
from portal.extensions import db
from portal.privacy.models import CorrectionArea, CorrectionRequest, CorrectionStatus

log = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1
# Optional consents a resident can withdraw without closing the account (audit action codes).
CONSENT_EMAIL = "email"
CONSENT_MAP_PIN = "map_pin"
# Not an Argon2 hash: no password ever matches it, so a deleted account cannot log in again.
UNUSABLE_PASSWORD_HASH = "!deleted"  # noqa: S105 - a marker, not a secret


# --- shared helpers -----------------------------------------------------------------------------


def _stored(make: Callable[[], str]) -> str:
    """Text written into a record is in the default language (Indonesian), whoever asked."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(make())


def erased_text() -> str:
    """What an erased free-text field holds, so officers read "(dihapus)" instead of a gap."""
    return _stored(lambda: _("(erased)"))


def new_pseudonym() -> str:
    """The name a deleted account is shown under: "Pengguna #3F9A2C" (random, not derived)."""
    return _stored(lambda: _("User #%(tag)s", tag=secrets.token_hex(3).upper()))


def delete_files(keys: Iterable[str]) -> int:
    """Delete stored files after the commit that dropped their rows; returns how many.

    A failure is logged (with the count, never the key's record) and does not undo the erasure:
    the rows are already gone, and an orphan file holds no link to a person.
    """
    storage = get_storage()
    done = 0
    for key in keys:
        try:
            storage.delete(key)
            done += 1
        except (OSError, ValueError):
            log.exception("a stored file could not be deleted during erasure")
    return done


def _address_fields_erased(obj: Any, *, keep_kecamatan: bool = True) -> bool:
    """Erase an address (AddressMixin columns); keep the kecamatan for statistics if asked.

    Returns whether anything changed, so the retention job counts only real work and a second
    run is a no-op.
    """
    marker = erased_text()
    changed = False
    wanted: dict[str, Any] = {
        "desa_code": None,
        "rt": None,
        "rw": None,
        "landmark": None,
        "latitude": None,
        "longitude": None,
    }
    if not keep_kecamatan:
        wanted["kecamatan_code"] = None
    if obj.street is not None:
        wanted["street"] = marker if keep_kecamatan else None
    for column, value in wanted.items():
        if getattr(obj, column) != value:
            setattr(obj, column, value)
            changed = True
    return changed


def _set(obj: Any, column: str, value: Any) -> bool:
    if getattr(obj, column) == value:
        return False
    setattr(obj, column, value)
    return True


# --- export (right of access) ------------------------------------------------------------------


def _value(value: Any) -> Any:
    """A cell of the export: times in UTC ISO 8601, dates ISO, enums by their stored value."""
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _row(**cells: Any) -> dict[str, Any]:
    return {k: _value(v) for k, v in cells.items()}


def _address(obj: Any) -> dict[str, Any]:
    return {
        "kecamatan": obj.kecamatan.name if obj.kecamatan else None,
        "desa": obj.desa.name if obj.desa else None,
        "street": obj.street,
        "rt": obj.rt,
        "rw": obj.rw,
        "landmark": obj.landmark,
        "latitude": obj.latitude,
        "longitude": obj.longitude,
    }


def _by(actor_id: int | None, user: User) -> str:
    """Who made a move, without naming staff: their names are their own personal data."""
    if actor_id is None:
        return "system"
    return "you" if actor_id == user.id else "staff"


def collect_personal_data(user: User) -> dict[str, list[dict[str, Any]]]:
    """Every table of the person's data, as rows of plain values (JSON- and CSV-ready).

    Only this person's rows; staff are named by role ("staff"), never by name. Their own NIK and
    KK appear in full (the data is theirs); a NIK they entered for someone else stays masked.
    """
    return {
        **_account_tables(user),
        **_sadoku_tables(user),
        **_jumpa_madu_tables(user),
        **_mall_tables(user),
        **_portal_tables(user),
    }


def _account_tables(user: User) -> dict[str, list[dict[str, Any]]]:
    """Profile and roles."""
    tables: dict[str, list[dict[str, Any]]] = {}
    tables["profile"] = [
        _row(
            account_id=user.id,
            full_name=user.full_name,
            email=user.email,
            phone=user.phone,
            nik=user.nik,
            **_address(user),
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            privacy_notice_version=user.consent_version,
            privacy_consent_at=user.consent_at,
            email_messages_withdrawn_at=user.email_opt_out_at,
        )
    ]
    tables["role_grants"] = [
        _row(role=g.role, scope=g.scope, granted_at=g.granted_at) for g in user.grants
    ]

    return tables


def _sadoku_tables(user: User) -> dict[str, list[dict[str, Any]]]:
    """SADOKU requests, their timelines and the attachments' descriptions (not the files)."""
    from portal.sadoku.models import DocumentRequest

    tables: dict[str, list[dict[str, Any]]] = {}
    requests = db.session.scalars(
        select(DocumentRequest)
        .where(DocumentRequest.user_id == user.id)
        .options(
            selectinload(DocumentRequest.events),
            selectinload(DocumentRequest.attachments),
            selectinload(DocumentRequest.document_type),
        )
        .order_by(DocumentRequest.id)
    ).all()
    tables["sadoku_requests"] = []
    tables["sadoku_timeline"] = []
    tables["sadoku_attachments"] = []
    for req in requests:
        own = req.subject_is_self
        tables["sadoku_requests"].append(
            _row(
                code=req.code,
                status=req.status,
                document=req.document_type.name if req.document_type else None,
                reason=req.reason,
                subject_is_self=own,
                subject_name=req.subject_name,
                subject_nik=req.subject_nik if own else mask_number(req.subject_nik),
                subject_kk=req.subject_kk if own else mask_number(req.subject_kk),
                **{f"delivery_{k}": v for k, v in _address(req).items()},
                recipient_name=req.recipient_name,
                recipient_phone=req.recipient_phone,
                created_at=req.created_at,
                submitted_at=req.submitted_at,
                due_date=req.due_date,
                closed_at=req.closed_at,
                delivery_date=req.delivery_date,
                received_by=req.received_by,
                received_relation=req.received_relation,
                delivered_at=req.delivered_at,
                delivered_latitude=req.delivered_lat,
                delivered_longitude=req.delivered_lon,
                failure_reason=req.failure_reason,
            )
        )
        ref = req.code or f"draft-{req.id}"
        for event in req.events:
            tables["sadoku_timeline"].append(
                _row(
                    request=ref,
                    at=event.created_at,
                    from_status=event.from_status,
                    to_status=event.to_status,
                    by=_by(event.actor_id, user),
                    note=event.public_note,
                )
            )
        for a in req.attachments:
            tables["sadoku_attachments"].append(
                _row(
                    request=ref,
                    kind=a.kind,
                    requirement=a.name,
                    filename=a.filename,
                    content_type=a.content_type,
                    size_bytes=a.size,
                    uploaded_at=a.created_at,
                    replaced_at=a.replaced_at,
                )
            )

    return tables


def _jumpa_madu_tables(user: User) -> dict[str, list[dict[str, Any]]]:
    """Pickups, timelines, weighings, the wallet statement and withdrawals."""
    from portal.jumpa_madu import ledger
    from portal.jumpa_madu.models import Pickup, Weighing, Withdrawal

    tables: dict[str, list[dict[str, Any]]] = {}
    pickups = db.session.scalars(
        select(Pickup)
        .where(Pickup.user_id == user.id)
        .options(
            selectinload(Pickup.unit),
            selectinload(Pickup.events),
            selectinload(Pickup.weighings).selectinload(Weighing.lines),
        )
        .order_by(Pickup.id)
    ).all()
    tables["pickups"], tables["pickup_timeline"] = [], []
    tables["weighings"], tables["weighing_lines"] = [], []
    for p in pickups:
        tables["pickups"].append(
            _row(
                code=p.code,
                status=p.status,
                unit=p.unit.name,
                **_address(p),
                preferred_date=p.preferred_date,
                preferred_window=p.preferred_window,
                scheduled_date=p.scheduled_date,
                scheduled_window=p.scheduled_window,
                your_note=p.resident_note,
                dispute_reason=p.dispute_reason,
                unit_note=p.outcome_note,
                has_photo=p.photo_key is not None,
                created_at=p.created_at,
                closed_at=p.closed_at,
            )
        )
        for event in p.events:
            tables["pickup_timeline"].append(
                _row(
                    pickup=p.code,
                    at=event.created_at,
                    from_status=event.from_status,
                    to_status=event.to_status,
                    by=_by(event.actor_id, user),
                    note=event.note,
                )
            )
        for w in p.weighings:
            tables["weighings"].append(
                _row(
                    pickup=p.code,
                    number=w.number,
                    recorded_at=w.recorded_at,
                    gross_amount_rp=w.gross_amount,
                    your_share_pct=w.resident_share_pct,
                    your_amount_rp=w.resident_amount,
                    photos=len(w.photo_keys or []),
                    confirmed_at=w.confirmed_at,
                    superseded_at=w.superseded_at,
                )
            )
            for line in w.lines:
                tables["weighing_lines"].append(
                    _row(
                        pickup=p.code,
                        weighing=w.number,
                        category=line.category.name,
                        weight_g=line.weight_g,
                        price_rp_per_kg_or_litre=line.unit_price,
                        gross_amount_rp=line.gross_amount,
                        your_amount_rp=line.resident_amount,
                    )
                )

    wallet_id = db.session.scalar(
        select(ledger.LedgerAccount.id).where(
            ledger.LedgerAccount.key == ledger.wallet_key(user.id)
        )
    )
    lines: list[Any] = []
    if wallet_id is not None:
        count = db.session.scalar(
            select(func.count(ledger.LedgerEntry.id)).where(
                ledger.LedgerEntry.account_id == wallet_id
            )
        )
        lines, _total = ledger.statement(wallet_id, page=1, per_page=max(int(count or 0), 1))
    tables["wallet_statement"] = [
        _row(
            at=line.created_at,
            kind=line.kind,
            description=line.description,
            amount_rp=line.amount,
            balance_after_rp=line.balance,
        )
        for line in reversed(lines)
    ]
    tables["withdrawals"] = [
        _row(
            code=w.code,
            amount_rp=w.amount,
            status=w.status,
            unit=w.unit.name,
            method=w.method,
            bank_name=w.bank_name,
            account_number=w.account_number,
            account_holder=w.account_holder,
            ewallet_provider=w.ewallet_provider,
            ewallet_number=w.ewallet_number,
            reference=w.reference,
            reject_reason=w.reject_reason,
            requested_at=w.requested_at,
            decided_at=w.decided_at,
            paid_at=w.paid_at,
        )
        for w in db.session.scalars(
            select(Withdrawal)
            .where(Withdrawal.user_id == user.id)
            .options(selectinload(Withdrawal.unit))
            .order_by(Withdrawal.id)
        )
    ]

    return tables


def _mall_tables(user: User) -> dict[str, list[dict[str, Any]]]:
    """The shop and its products."""
    from portal.mall.models import Product, Shop

    tables: dict[str, list[dict[str, Any]]] = {}
    shop = db.session.scalar(select(Shop).where(Shop.owner_id == user.id))
    tables["shop"] = []
    tables["products"] = []
    if shop is not None:
        tables["shop"].append(
            _row(
                name=shop.name,
                web_address=shop.slug,
                owner_name=shop.owner_name,
                status=shop.status,
                description=shop.description,
                category=shop.category.name if shop.category else None,
                whatsapp=shop.whatsapp,
                opening_hours=shop.opening_hours,
                **_address(shop),
                nib=shop.nib,
                pirt_number=shop.pirt_number,
                pirt_expiry_year=shop.pirt_expiry_year,
                halal_number=shop.halal_number,
                halal_expiry=shop.halal_expiry,
                bpom_number=shop.bpom_number,
                has_logo=shop.logo_key is not None,
                created_at=shop.created_at,
                verified_at=shop.verified_at,
            )
        )
        for product in db.session.scalars(
            select(Product)
            .where(Product.shop_id == shop.id)
            .options(selectinload(Product.photos))
            .order_by(Product.id)
        ):
            tables["products"].append(
                _row(
                    product_id=product.id,
                    name=product.name,
                    status=product.status,
                    price_kind=product.price_kind,
                    price_min_rp=product.price_min,
                    price_max_rp=product.price_max,
                    unit=product.unit,
                    min_order=product.min_order,
                    availability=product.availability,
                    description=product.description,
                    photos=len(product.photos),
                    created_at=product.created_at,
                    published_at=product.published_at,
                )
            )

    return tables


def _portal_tables(user: User) -> dict[str, list[dict[str, Any]]]:
    """Notifications, audit entries about the person, and correction requests."""
    tables: dict[str, list[dict[str, Any]]] = {}
    tables["notifications"] = [
        _row(at=n.created_at, title=n.title, body=n.body, link=n.url, read_at=n.read_at)
        for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]
    tables["audit_events"] = [
        _row(
            at=entry.created_at,
            action=entry.action,
            by=_by(entry.actor_id, user),
            detail=json.dumps(entry.detail or {}, ensure_ascii=False, sort_keys=True),
            # The IP is the actor's: shown only when the actor was the person themselves.
            ip=entry.ip if entry.actor_id == user.id else None,
        )
        for entry in db.session.scalars(
            select(AuditLog).where(AuditLog.target_user_id == user.id).order_by(AuditLog.id)
        )
    ]
    tables["correction_requests"] = [
        _row(
            code=c.code,
            about=c.area,
            reference=c.reference,
            what_is_wrong=c.what_is_wrong,
            correct_value=c.correct_value,
            status=c.status,
            answer=c.admin_note,
            filed_at=c.created_at,
            answered_at=c.decided_at,
        )
        for c in db.session.scalars(
            select(CorrectionRequest)
            .where(CorrectionRequest.user_id == user.id)
            .order_by(CorrectionRequest.id)
        )
    ]
    return tables


@dataclass(frozen=True)
class Export:
    """A ready download: bytes, media type and a file name without personal data."""

    data: bytes
    mimetype: str
    filename: str


# A cell starting with one of these is a formula to spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    # With a byte-order mark, spreadsheet programs open the file as UTF-8.
    return buf.getvalue().encode("utf-8-sig")


def export_data(user: User, fmt: str, now: dt.datetime | None = None) -> Export:
    """The person's data as one JSON file or a zip of CSV files; the export is audited."""
    if fmt not in ("json", "csv"):
        raise DomainError("format", _("Choose JSON or CSV"))
    now = now or utcnow()
    tables = collect_personal_data(user)
    stamp = as_utc(now).strftime("%Y%m%d-%H%M")
    if fmt == "json":
        document = {
            "format": "portal-deli-serdang-personal-data",
            "version": EXPORT_FORMAT_VERSION,
            "generated_at": _value(now),
            "tables": tables,
        }
        data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        export = Export(data, "application/json", f"data-saya-{stamp}.json")
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, rows in tables.items():
                archive.writestr(f"{name}.csv", _csv(rows))
        export = Export(buf.getvalue(), "application/zip", f"data-saya-{stamp}.zip")
    record_audit("privacy_data_exported", actor=user, target_user=user, format=fmt)
    db.session.flush()
    return export


# --- correction ---------------------------------------------------------------------------------


def file_correction(
    user: User, *, area: CorrectionArea, reference: str, what_is_wrong: str, correct_value: str
) -> CorrectionRequest:
    """A resident asks for a correction; it waits in the admins' queue."""
    if not what_is_wrong.strip():
        raise DomainError("what_is_wrong", _("Say which data is wrong"))
    if not correct_value.strip():
        raise DomainError("correct_value", _("Write what the data should be"))
    correction = CorrectionRequest(
        user_id=user.id,
        area=area,
        reference=reference.strip().upper()[:40],
        what_is_wrong=what_is_wrong.strip(),
        correct_value=correct_value.strip(),
    )
    db.session.add(correction)
    db.session.flush()
    record_audit(
        "privacy_correction_requested", actor=user, target_user=user, correction=correction.id
    )
    db.session.flush()
    return correction


def user_corrections(user: User) -> list[CorrectionRequest]:
    return list(
        db.session.scalars(
            select(CorrectionRequest)
            .where(CorrectionRequest.user_id == user.id)
            .order_by(CorrectionRequest.id.desc())
        )
    )


def correction_queue(status: CorrectionStatus, limit: int = 100) -> list[CorrectionRequest]:
    """Requests in one status: open ones oldest first (first come, first served)."""
    order = (
        (CorrectionRequest.created_at.asc(), CorrectionRequest.id.asc())
        if status is CorrectionStatus.OPEN
        else (CorrectionRequest.decided_at.desc(), CorrectionRequest.id.desc())
    )
    return list(
        db.session.scalars(
            select(CorrectionRequest)
            .where(CorrectionRequest.status == status)
            .options(selectinload(CorrectionRequest.user))
            .order_by(*order)
            .limit(limit)
        )
    )


def correction_counts() -> dict[CorrectionStatus, int]:
    counts = dict.fromkeys(CorrectionStatus, 0)
    for status, count in db.session.execute(
        select(CorrectionRequest.status, func.count(CorrectionRequest.id)).group_by(
            CorrectionRequest.status
        )
    ):
        counts[CorrectionStatus(status)] = int(count)
    return counts


def decide_correction(
    correction: CorrectionRequest, admin: User, outcome: CorrectionStatus, note: str
) -> None:
    """An admin closes a request as done or refused; the resident is told in the app (and by
    email when they have one and allow it). A refusal must say why."""
    if not admin.is_admin:
        raise DomainError(None, _("Only an administrator can answer correction requests."))
    note = (note or "").strip()
    if outcome is CorrectionStatus.REFUSED and not note:
        raise DomainError("note", _("Explain why the correction is refused"))
    correction.move_to(outcome)
    correction.admin_note = note
    correction.decided_at = utcnow()
    correction.decided_by_id = admin.id
    record_audit(
        "privacy_correction_decided",
        actor=admin,
        target_user=correction.user,
        correction=correction.id,
        outcome=outcome.value,
    )
    db.session.flush()
    owner = correction.user
    if owner.deleted_at is not None:
        return
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if outcome is CorrectionStatus.DONE:
            title = _("Correction request %(code)s: corrected", code=correction.code)
            body = _("Your data has been corrected.")
        else:
            title = _("Correction request %(code)s: refused", code=correction.code)
            body = _("Your data was not changed.")
        if note:
            body = f"{body}\n\n{note}"
        tell(
            owner,
            title,
            body,
            url_for("privacy.correction_show", correction_id=correction.id),
            url_for("privacy.correction_show", correction_id=correction.id, _external=True),
        )


# --- deletion (right to erasure) ---------------------------------------------------------------


def deletion_blockers(user: User) -> list[str]:
    """Why the account cannot be deleted now, each with what to do; empty when it can.

    Money the person is owed, or a document on its way, would be lost with the account, and a
    deleted account cannot be asked about them any more.
    """
    from portal.jumpa_madu import ledger
    from portal.jumpa_madu.models import FINAL_PICKUP_STATUSES, Pickup, Withdrawal
    from portal.jumpa_madu.models import WithdrawalStatus as WS
    from portal.sadoku.models import FINAL_STATUSES, DocumentRequest, Status

    reasons: list[str] = []
    balance = ledger.wallet_balance(user.id)
    if balance > 0:
        reasons.append(
            _(
                "Your Jumpa Madu wallet holds %(amount)s. Withdraw it first (My wallet, "
                "Withdraw); the account can be deleted once the balance is Rp 0.",
                amount=format_rupiah(balance),
            )
        )
    open_withdrawals = db.session.scalar(
        select(func.count(Withdrawal.id)).where(
            Withdrawal.user_id == user.id, Withdrawal.status.in_((WS.REQUESTED, WS.APPROVED))
        )
    )
    if open_withdrawals:
        reasons.append(
            _(
                "A withdrawal has not been paid yet. Wait until the unit pays it (or rejects it "
                "and you withdraw the money again)."
            )
        )
    open_pickups = db.session.scalar(
        select(func.count(Pickup.id)).where(
            Pickup.user_id == user.id, Pickup.status.not_in(FINAL_PICKUP_STATUSES)
        )
    )
    if open_pickups:
        reasons.append(
            _(
                "A Jumpa Madu pickup is not finished. Cancel it if the collector has not set off "
                "yet, or wait until it is weighed and confirmed."
            )
        )
    open_requests = db.session.scalar(
        select(func.count(DocumentRequest.id)).where(
            DocumentRequest.user_id == user.id,
            DocumentRequest.status.not_in((*FINAL_STATUSES, Status.DRAFT)),
        )
    )
    if open_requests:
        reasons.append(
            _(
                "A SADOKU document request is in progress. Wait until the document is delivered "
                "or collected, or cancel the request while it is still \u201cSubmitted\u201d or "
                "\u201cVerified\u201d."
            )
        )
    if user.is_admin and _other_admins(user) == 0:
        reasons.append(
            _(
                "You are the only administrator. Make another account an administrator first, "
                "so the portal can still be managed."
            )
        )
    return reasons


def _other_admins(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count(func.distinct(RoleGrant.user_id)))
            .join(User, User.id == RoleGrant.user_id)
            .where(
                RoleGrant.role == Role.ADMIN,
                RoleGrant.user_id != user.id,
                User.is_disabled.is_(False),
            )
        )
        or 0
    )


@dataclass
class Erasure:
    """What an account deletion did: the pseudonym, and the files to delete after the commit."""

    pseudonym: str
    storage_keys: list[str] = field(default_factory=list)


def delete_account(user: User, password: str) -> Erasure:
    """Erase the person and keep the legal and financial records under a pseudonym.

    Refused while money is pending or a request is in progress (`deletion_blockers`). In one
    transaction: the profile is replaced by a pseudonym and can never log in again, roles go,
    SADOKU requests lose their subject and delivery data and attachments (the rows stay as the
    service's record), pickups lose address, notes and photos (weighings and the ledger stay),
    the shop is taken off the Mall and anonymised, notifications and reset links are deleted.
    """
    if user.deleted_at is not None:
        raise DomainError(None, _("This account has already been deleted."))
    if not verify_password(user.password_hash, password or ""):
        raise DomainError("password", _("The password is not correct"))
    blockers = deletion_blockers(user)
    if blockers:
        raise DomainError(None, blockers[0])

    now = utcnow()
    pseudonym = new_pseudonym()
    erasure = Erasure(pseudonym=pseudonym)
    counts = {
        "sadoku_requests": _erase_sadoku(user, pseudonym, erasure),
        "pickups": _erase_pickups(user, erasure),
        "shop": _erase_shop(user, pseudonym, erasure),
    }
    roles = sorted({g.role.value for g in user.grants})
    user.grants.clear()
    db.session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    for correction in db.session.scalars(
        select(CorrectionRequest).where(CorrectionRequest.user_id == user.id)
    ):
        correction.what_is_wrong = correction.correct_value = erased_text()
        correction.reference = ""

    user.full_name = pseudonym
    user.email = None
    user.phone = None
    user.nik = None
    _address_fields_erased(user, keep_kecamatan=False)
    user.password_hash = UNUSABLE_PASSWORD_HASH
    user.is_disabled = True
    user.disabled_at = now
    user.deleted_at = now
    _end_sessions(user)
    # No name, contact or number: the audit log is kept and must not keep what was erased.
    record_audit(
        "account_deleted",
        actor=user,
        target_user=user,
        roles_revoked=roles,
        files_deleted=len(erasure.storage_keys),
        **counts,
    )
    db.session.flush()
    return erasure


def _end_sessions(user: User) -> None:
    """End every login of the account everywhere, and drop its second factor.

    The session rows go rather than being marked ended: they hold the person's IP addresses and
    devices, and the audit entry of the deletion is the record that remains.
    """
    from portal.accounts.models import MfaRecoveryCode, UserSession

    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    user.totp_secret = None
    user.mfa_enrolled_at = None
    user.totp_last_step = None


def _personal_values(user: User) -> list[str]:
    """The person's own identifying strings, to find them inside free-text notes."""
    values = [user.full_name, user.email, user.phone, local_phone(user.phone), user.nik]
    return [v for v in values if v]


def _scrub(text: str | None, values: Iterable[str | None]) -> str | None:
    """`text` with every occurrence of the given values (names, phones, NIK...) replaced.

    Timelines keep their notes (who did what, when), but a note such as "Received by Siti
    Rahmawati" must not keep the name the record itself no longer holds.
    """
    if not text:
        return text
    marker = erased_text()
    for value in sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), lambda _match: marker, text, flags=re.IGNORECASE)
    return text


def _scrub_columns(obj: Any, columns: Iterable[str], values: list[str]) -> bool:
    changed = False
    for column in columns:
        changed |= _set(obj, column, _scrub(getattr(obj, column), values))
    return changed


def _erase_sadoku(user: User, pseudonym: str, erasure: Erasure) -> int:
    from portal.sadoku.models import DocumentRequest, Status

    requests = db.session.scalars(
        select(DocumentRequest)
        .where(DocumentRequest.user_id == user.id)
        .options(
            selectinload(DocumentRequest.attachments),
            selectinload(DocumentRequest.events),
            selectinload(DocumentRequest.notes),
        )
    ).all()
    personal = _personal_values(user)
    kept = 0
    for req in requests:
        erasure.storage_keys.extend(a.storage_key for a in req.attachments)
        if req.status is Status.DRAFT:
            # Never sent: not a record of any service, so it goes entirely.
            db.session.delete(req)
            continue
        subject = [req.subject_name, req.subject_nik, req.subject_kk]
        req.subject_name = pseudonym
        req.subject_nik = None
        req.subject_kk = None
        _erase_delivery(req, [*personal, *(v for v in subject if v)])
        kept += 1
    db.session.flush()
    return kept


def _erase_delivery(req: Any, extra_values: Iterable[str] = ()) -> bool:
    """Anonymise a SADOKU request's delivery data and drop its files (returns whether changed).

    The same values are scrubbed from the request's timeline notes and internal notes.
    """
    marker = erased_text()
    values = [
        req.recipient_name,
        req.received_by,
        req.recipient_phone,
        local_phone(req.recipient_phone),
        req.street,
        req.landmark,
        *extra_values,
    ]
    values = [v for v in values if v and v != marker]
    changed = _address_fields_erased(req)
    if req.recipient_name is not None:
        changed |= _set(req, "recipient_name", marker)
    changed |= _set(req, "recipient_phone", None)
    if req.received_by is not None:
        changed |= _set(req, "received_by", marker)
    changed |= _set(req, "delivered_lat", None)
    changed |= _set(req, "delivered_lon", None)
    if req.attachments:
        req.attachments.clear()  # delete-orphan: the rows go; the caller deletes the files
        changed = True
    for event in req.events:
        changed |= _scrub_columns(event, ("public_note", "internal_note"), values)
    for note in req.notes:
        changed |= _scrub_columns(note, ("text",), values)
    return changed


def _erase_pickup(pickup: Any, keys: list[str], extra_values: Iterable[str] = ()) -> bool:
    """Erase a pickup's address, pin, the resident's notes and all photos (weighings stay)."""
    marker = erased_text()
    values = [v for v in (pickup.street, pickup.landmark, *extra_values) if v and v != marker]
    changed = _address_fields_erased(pickup)
    for column in ("resident_note", "dispute_reason"):
        if getattr(pickup, column) and getattr(pickup, column) != marker:
            changed |= _set(pickup, column, marker)
    changed |= _scrub_columns(pickup, ("outcome_note",), values)
    for event in pickup.events:
        changed |= _scrub_columns(event, ("note",), values)
    if pickup.photo_key:
        keys.append(pickup.photo_key)
        pickup.photo_key = None
        pickup.photo_type = None
        changed = True
    for weighing in pickup.weighings:
        if weighing.photo_keys:
            keys.extend(weighing.photo_keys)
            weighing.photo_keys = []
            changed = True
        changed |= _scrub_columns(weighing, ("note",), values)
    return changed


def _erase_pickups(user: User, erasure: Erasure) -> int:
    from portal.jumpa_madu.models import Pickup

    pickups = db.session.scalars(
        select(Pickup)
        .where(Pickup.user_id == user.id)
        .options(selectinload(Pickup.weighings), selectinload(Pickup.events))
    ).all()
    personal = _personal_values(user)
    for pickup in pickups:
        _erase_pickup(pickup, erasure.storage_keys, personal)
    db.session.flush()
    return len(pickups)


def _erase_shop(user: User, pseudonym: str, erasure: Erasure) -> int:
    from portal.mall import search
    from portal.mall.models import Product, ProductStatus, Shop, ShopStatus

    shop = db.session.scalar(select(Shop).where(Shop.owner_id == user.id))
    if shop is None:
        return 0
    products = db.session.scalars(
        select(Product).where(Product.shop_id == shop.id).options(selectinload(Product.photos))
    ).all()
    for product in products:
        for photo in product.photos:
            erasure.storage_keys.extend((photo.key, photo.thumb_key))
        product.photos.clear()
        product.status = ProductStatus.HIDDEN
        product.description = ""
    if shop.logo_key:
        erasure.storage_keys.append(shop.logo_key)
    # Off the Mall for good. Account erasure is outside the seller/admin transition table: the
    # owner can never act on the shop again, and a draft is never listed.
    shop.status = ShopStatus.DRAFT
    shop.status_reason = _stored(lambda: _("The owner deleted their account."))
    shop.name = _stored(lambda: _("Closed shop #%(id)d", id=shop.id))
    # The web address may carry the person's name ("keripik-bu-ani"): a random one replaces it.
    shop.slug = f"tutup-{secrets.token_hex(8)}"
    shop.owner_name = pseudonym
    shop.description = ""
    shop.whatsapp = ""
    shop.opening_hours = ""
    shop.logo_key = shop.logo_width = shop.logo_height = None
    for column in ("nib", "pirt_number", "pirt_expiry_year", "halal_number", "halal_expiry"):
        setattr(shop, column, None)
    shop.bpom_number = None
    _address_fields_erased(shop, keep_kecamatan=True)
    shop.updated_at = utcnow()
    db.session.flush()
    for product in products:
        search.index_product(product)
    return 1


# --- optional consents --------------------------------------------------------------------------


def set_email_consent(user: User, allowed: bool) -> None:
    """Withdraw (or give again) consent to email messages; the in-app bell is unaffected."""
    if allowed == (user.email_opt_out_at is None):
        return
    user.email_opt_out_at = None if allowed else utcnow()
    record_audit(
        "privacy_consent_given" if allowed else "privacy_consent_withdrawn",
        actor=user,
        target_user=user,
        consent=CONSENT_EMAIL,
    )
    db.session.flush()


def remove_map_pins(user: User) -> int:
    """Withdraw the map pin: erase it from the profile and from every open request and pickup.

    Couriers and collectors then find the house by its address (the desa's centre on their map).
    Returns how many records lost a pin. Setting a pin again later is the person's new choice.
    """
    from portal.jumpa_madu.models import FINAL_PICKUP_STATUSES, Pickup
    from portal.sadoku.models import FINAL_STATUSES, DocumentRequest

    records: list[Any] = [user]
    records += db.session.scalars(
        select(DocumentRequest).where(
            DocumentRequest.user_id == user.id, DocumentRequest.status.not_in(FINAL_STATUSES)
        )
    ).all()
    records += db.session.scalars(
        select(Pickup).where(Pickup.user_id == user.id, Pickup.status.not_in(FINAL_PICKUP_STATUSES))
    ).all()
    changed = 0
    for record in records:
        if record.latitude is not None or record.longitude is not None:
            record.latitude = record.longitude = None
            changed += 1
    record_audit(
        "privacy_consent_withdrawn",
        actor=user,
        target_user=user,
        consent=CONSENT_MAP_PIN,
        records=changed,
    )
    db.session.flush()
    return changed


def last_consent_change(user: User, consent: str) -> AuditLog | None:
    """The latest audit entry giving or withdrawing an optional consent (its time is the record)."""
    entries = db.session.scalars(
        select(AuditLog)
        .where(
            AuditLog.target_user_id == user.id,
            AuditLog.action.in_(("privacy_consent_given", "privacy_consent_withdrawn")),
        )
        .order_by(AuditLog.id.desc())
        .limit(50)
    )
    return next((e for e in entries if (e.detail or {}).get("consent") == consent), None)


# --- retention ------------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    """What one run of the retention job changed (zeros on a second run)."""

    sadoku_requests: int = 0
    sadoku_attachments: int = 0
    sadoku_drafts: int = 0
    pickups: int = 0
    pickup_photos: int = 0
    reset_tokens: int = 0
    sessions: int = 0
    storage_keys: list[str] = field(default_factory=list)


def purge(now: dt.datetime | None = None) -> PurgeResult:
    """Apply the retention periods. Idempotent: only rows still holding data are touched.

    - SADOKU requests closed (delivered, collected, rejected, cancelled) more than
      SADOKU_RETENTION_DAYS ago lose their attachments and delivery data (address, pin, recipient
      name and phone, who received it, the hand-over photo and GPS position); the request, its
      subject and timeline stay as the record of the public service.
    - SADOKU drafts never sent within SADOKU_RETENTION_DAYS are deleted with their attachments.
    - Jumpa Madu pickups closed more than JUMPA_MADU_RETENTION_DAYS ago lose address, pin, the
      resident's notes and photos; weighings and the ledger stay (financial records).
    - Password-reset tokens past their expiry are deleted.
    - Ended login sessions (device name and IP address) older than SESSION_RETENTION_DAYS are
      deleted; the logs keep the security events.
    """
    from portal.jumpa_madu.models import FINAL_PICKUP_STATUSES, Pickup
    from portal.sadoku.models import FINAL_STATUSES, DocumentRequest, Status

    now = now or utcnow()
    cfg = current_app.config
    result = PurgeResult()
    marker = erased_text()

    sadoku_cutoff = now - dt.timedelta(days=int(cfg["SADOKU_RETENTION_DAYS"]))
    candidates = db.session.scalars(
        select(DocumentRequest)
        .where(
            DocumentRequest.status.in_(FINAL_STATUSES),
            DocumentRequest.closed_at < sadoku_cutoff,
            or_(
                DocumentRequest.attachments.any(),
                DocumentRequest.street.is_(None),
                DocumentRequest.street != marker,
            ),
        )
        .options(
            selectinload(DocumentRequest.attachments),
            selectinload(DocumentRequest.events),
            selectinload(DocumentRequest.notes),
        )
        .order_by(DocumentRequest.id)
    ).all()
    for req in candidates:
        keys = [a.storage_key for a in req.attachments]
        if _erase_delivery(req):
            result.sadoku_requests += 1
            result.sadoku_attachments += len(keys)
            result.storage_keys.extend(keys)
    drafts = db.session.scalars(
        select(DocumentRequest)
        .where(DocumentRequest.status == Status.DRAFT, DocumentRequest.created_at < sadoku_cutoff)
        .options(selectinload(DocumentRequest.attachments))
    ).all()
    for req in drafts:
        result.storage_keys.extend(a.storage_key for a in req.attachments)
        result.sadoku_attachments += len(req.attachments)
        db.session.delete(req)
        result.sadoku_drafts += 1

    pickup_cutoff = now - dt.timedelta(days=int(cfg["JUMPA_MADU_RETENTION_DAYS"]))
    pickups = db.session.scalars(
        select(Pickup)
        .where(
            Pickup.status.in_(FINAL_PICKUP_STATUSES),
            Pickup.closed_at < pickup_cutoff,
            or_(Pickup.street.is_(None), Pickup.street != marker),
        )
        .options(selectinload(Pickup.weighings), selectinload(Pickup.events))
        .order_by(Pickup.id)
    ).all()
    for pickup in pickups:
        keys: list[str] = []
        if _erase_pickup(pickup, keys):
            result.pickups += 1
            result.pickup_photos += len(keys)
            result.storage_keys.extend(keys)

    result.reset_tokens = (
        db.session.execute(
            delete(PasswordResetToken).where(PasswordResetToken.expires_at < now)
        ).rowcount
        or 0
    )
    session_cutoff = now - dt.timedelta(days=int(cfg["SESSION_RETENTION_DAYS"]))
    result.sessions = (
        db.session.execute(
            delete(UserSession)
            .where(UserSession.ended_at.is_not(None), UserSession.ended_at < session_cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )
    db.session.flush()
    return result
