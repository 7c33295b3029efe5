"""SADOKU: document types, delivery requests, their timeline, attachments, holidays, templates.

The request's state machine lives here, in one table (`TRANSITIONS`): services ask the model to
move and the model refuses any move the table does not list, so no view or script can skip a step.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User, enum_column
from portal.core.crypto import EncryptedString
from portal.core.errors import DomainError
from portal.core.identity import mask_number, mask_phone
from portal.core.time import utcnow
from portal.extensions import db
from portal.wilayah.models import AddressMixin


class Status(enum.StrEnum):
    """Where a request is. DRAFT is the resident's unfinished form, not yet seen by officers."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    NEEDS_CORRECTION = "needs_correction"
    VERIFIED = "verified"
    IN_PROCESS = "in_process"
    READY_FOR_DELIVERY = "ready_for_delivery"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    COLLECT_AT_OFFICE = "collect_at_office"
    COLLECTED = "collected"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_open(self) -> bool:
        """Waiting on the office or the courier (counts towards the service standard)."""
        return self not in FINAL_STATUSES and self != Status.DRAFT


STATUS_LABELS = {
    Status.DRAFT: _l("Draft"),
    Status.SUBMITTED: _l("Submitted"),
    Status.NEEDS_CORRECTION: _l("Needs correction"),
    Status.VERIFIED: _l("Verified"),
    Status.IN_PROCESS: _l("Being printed"),
    Status.READY_FOR_DELIVERY: _l("Ready for delivery"),
    Status.OUT_FOR_DELIVERY: _l("Out for delivery"),
    Status.DELIVERED: _l("Delivered"),
    Status.DELIVERY_FAILED: _l("Delivery failed"),
    Status.COLLECT_AT_OFFICE: _l("Collect at the office"),
    Status.COLLECTED: _l("Collected"),
    Status.REJECTED: _l("Rejected"),
    Status.CANCELLED: _l("Cancelled"),
}

# What the resident is told happens next, in the notification of each status.
NEXT_STEPS = {
    Status.SUBMITTED: _l(
        "An officer checks your data and attachments. You will be told when it is verified or "
        "if something needs fixing."
    ),
    Status.NEEDS_CORRECTION: _l(
        "Open the request, fix the items the officer marked, and send it again."
    ),
    Status.VERIFIED: _l("Your data is correct. Disdukcapil will now print the document."),
    Status.IN_PROCESS: _l("The document is being printed. Next it is packed for delivery."),
    Status.READY_FOR_DELIVERY: _l(
        "The document is printed and waits for a courier. You will be told the delivery date."
    ),
    Status.OUT_FOR_DELIVERY: _l(
        "A courier brings the document on the date shown. The recipient should be at home with "
        "their KTP-el; someone else needs a surat kuasa and copies of both KTPs."
    ),
    Status.DELIVERED: _l("The document has been handed over. Check that its data is correct."),
    Status.DELIVERY_FAILED: _l(
        "The courier could not hand over the document. An officer will arrange another delivery "
        "or ask you to collect it."
    ),
    Status.COLLECT_AT_OFFICE: _l(
        "Collect the document at Disdukcapil, Jalan Karya Usaha, Lubuk Pakam, with your KTP-el "
        "and the tracking code."
    ),
    Status.COLLECTED: _l("The document has been collected. Check that its data is correct."),
    Status.REJECTED: _l(
        "The request cannot be processed; the reason is in the timeline. You may file a new "
        "request."
    ),
    Status.CANCELLED: _l("The request is cancelled. Nothing more will happen."),
}

FINAL_STATUSES = frozenset({Status.DELIVERED, Status.COLLECTED, Status.REJECTED, Status.CANCELLED})


class Actor(enum.StrEnum):
    """Who may make a move: the resident who owns the request, or a SADOKU officer."""

    RESIDENT = "resident"
    OFFICER = "officer"


# The one transition table: (from, to) -> who may make the move.
TRANSITIONS: dict[tuple[Status, Status], Actor] = {
    (Status.DRAFT, Status.SUBMITTED): Actor.RESIDENT,
    (Status.SUBMITTED, Status.VERIFIED): Actor.OFFICER,
    (Status.SUBMITTED, Status.NEEDS_CORRECTION): Actor.OFFICER,
    (Status.SUBMITTED, Status.REJECTED): Actor.OFFICER,
    (Status.SUBMITTED, Status.CANCELLED): Actor.RESIDENT,
    (Status.NEEDS_CORRECTION, Status.SUBMITTED): Actor.RESIDENT,
    (Status.VERIFIED, Status.IN_PROCESS): Actor.OFFICER,
    (Status.VERIFIED, Status.CANCELLED): Actor.RESIDENT,
    (Status.IN_PROCESS, Status.READY_FOR_DELIVERY): Actor.OFFICER,
    (Status.READY_FOR_DELIVERY, Status.OUT_FOR_DELIVERY): Actor.OFFICER,
    (Status.OUT_FOR_DELIVERY, Status.DELIVERED): Actor.OFFICER,
    (Status.OUT_FOR_DELIVERY, Status.DELIVERY_FAILED): Actor.OFFICER,
    (Status.DELIVERY_FAILED, Status.OUT_FOR_DELIVERY): Actor.OFFICER,
    (Status.DELIVERY_FAILED, Status.COLLECT_AT_OFFICE): Actor.OFFICER,
    (Status.COLLECT_AT_OFFICE, Status.COLLECTED): Actor.OFFICER,
}


def allowed_moves(status: Status, actor: Actor) -> list[Status]:
    """The statuses `actor` may move a request in `status` to, in table order."""
    return [to for (frm, to), who in TRANSITIONS.items() if frm == status and who == actor]


class Reason(enum.StrEnum):
    NEW = "new"
    LOST = "lost"
    DAMAGED = "damaged"
    DATA_CHANGE = "data_change"

    @property
    def label(self) -> str:
        return str(REASON_LABELS[self])


REASON_LABELS = {
    Reason.NEW: _l("New document"),
    Reason.LOST: _l("Lost"),
    Reason.DAMAGED: _l("Damaged"),
    Reason.DATA_CHANGE: _l("Change of data"),
}


class Relation(enum.StrEnum):
    """In what capacity the recipient took the document (DOMAIN.md: surat kuasa for others)."""

    SELF = "self"
    FAMILY = "family"
    AUTHORISED = "authorised"

    @property
    def label(self) -> str:
        return str(RELATION_LABELS[self])


RELATION_LABELS = {
    Relation.SELF: _l("The document's owner"),
    Relation.FAMILY: _l("Family member in the same KK"),
    Relation.AUTHORISED: _l("Authorised person with a surat kuasa"),
}


class FailureReason(enum.StrEnum):
    NOT_HOME = "not_home"
    ADDRESS_NOT_FOUND = "address_not_found"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return str(FAILURE_LABELS[self])


FAILURE_LABELS = {
    FailureReason.NOT_HOME: _l("Nobody was at home"),
    FailureReason.ADDRESS_NOT_FOUND: _l("The address could not be found"),
    FailureReason.REFUSED: _l("The recipient refused the document"),
}

# Parts of a request an officer can send back for correction (attachments are named separately).
CORRECTABLE_FIELDS = {
    "subject_name": _l("Name on the document"),
    "subject_nik": _l("NIK"),
    "subject_kk": _l("KK number"),
    "address": _l("Delivery address"),
    "recipient": _l("Recipient name and phone"),
}


class DocumentType(db.Model):
    """A document SADOKU delivers, with its requirements; admins edit the catalogue."""

    __tablename__ = "sadoku_document_types"
    __table_args__ = (CheckConstraint("service_days BETWEEN 1 AND 60", name="service_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    # Names of the attachments a request must carry, in the order they are asked for.
    attachment_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_days: Mapped[int] = mapped_column(Integer, default=5)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<DocumentType {self.slug}>"


class Holiday(db.Model):
    """A public or collective-leave day Disdukcapil is closed; skipped by the service standard."""

    __tablename__ = "sadoku_holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))


class ResponseTemplate(db.Model):
    """A ready-made public note officers can pick when moving a request to `status`."""

    __tablename__ = "sadoku_response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[Status] = mapped_column(enum_column(Status))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class DocumentRequest(AddressMixin, db.Model):
    """One resident's request to have one document delivered; the address is where to."""

    __tablename__ = "sadoku_requests"
    __table_args__ = (
        Index("ix_sadoku_requests_status_submitted", "status", "submitted_at"),
        Index("ix_sadoku_requests_user", "user_id", "created_at"),
        Index("ix_sadoku_requests_courier_date", "courier_id", "delivery_date"),
        # The officer queue's order: without it, every page sorts all requests (bench, 200k rows).
        Index("ix_sadoku_requests_submitted", "submitted_at", "id"),
        CheckConstraint("status = 'draft' OR code IS NOT NULL", name="code_after_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_type_id: Mapped[int | None] = mapped_column(ForeignKey("sadoku_document_types.id"))
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.DRAFT)
    # The step of the new-request flow the resident has completed (0..4), for drafts.
    step_done: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[Reason | None] = mapped_column(enum_column(Reason))
    subject_is_self: Mapped[bool] = mapped_column(Boolean, default=True)
    subject_name: Mapped[str | None] = mapped_column(String(120))
    # Encrypted at rest (portal/core/crypto.py); nothing looks requests up by NIK or KK.
    subject_nik: Mapped[str | None] = mapped_column(EncryptedString("sadoku_requests.subject_nik"))
    subject_kk: Mapped[str | None] = mapped_column(EncryptedString("sadoku_requests.subject_kk"))
    recipient_name: Mapped[str | None] = mapped_column(String(120))
    recipient_phone: Mapped[str | None] = mapped_column(String(16))
    declared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Assisted mode: the officer who filed it at a counter, and when the resident consented.
    assisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assisted_consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Parts the officer sent back (keys of CORRECTABLE_FIELDS, and "attachment:<name>").
    correction_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delivery_date: Mapped[dt.date | None] = mapped_column(Date)
    # The hand-over, when delivered.
    received_by: Mapped[str | None] = mapped_column(String(120))
    received_relation: Mapped[Relation | None] = mapped_column(enum_column(Relation))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_lat: Mapped[float | None] = mapped_column()
    delivered_lon: Mapped[float | None] = mapped_column()
    failure_reason: Mapped[FailureReason | None] = mapped_column(enum_column(FailureReason))
    # Optimistic lock: two officers acting on the same request at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    courier: Mapped[User | None] = relationship(foreign_keys=[courier_id])
    assisted_by: Mapped[User | None] = relationship(foreign_keys=[assisted_by_id])
    document_type: Mapped[DocumentType | None] = relationship()
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="request", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[InternalNote]] = relationship(
        back_populates="request", order_by="InternalNote.id", cascade="all, delete-orphan"
    )

    def move_to(
        self,
        to: Status,
        *,
        actor: User | None,
        as_: Actor,
        public_note: str = "",
        internal_note: str = "",
    ) -> RequestEvent:
        """Change status through the transition table, recording the move on the timeline."""
        who = TRANSITIONS.get((self.status, to))
        if who is None or who != as_:
            raise DomainError(None, illegal_move_message(self.status, to))
        event = RequestEvent(
            from_status=self.status,
            to_status=to,
            actor_id=actor.id if actor is not None else None,
            public_note=public_note.strip(),
            internal_note=internal_note.strip(),
        )
        self.events.append(event)
        self.status = to
        if to.is_final:
            self.closed_at = event.created_at or utcnow()
        return event

    @property
    def current_attachments(self) -> list[Attachment]:
        """Attachments in force: a replaced one stays in the history but not here."""
        return [a for a in self.attachments if a.replaced_at is None and a.kind == "document"]

    @property
    def handover_photo(self) -> Attachment | None:
        photos = [a for a in self.attachments if a.kind == "handover"]
        return photos[-1] if photos else None

    @property
    def masked_nik(self) -> str:
        return mask_number(self.subject_nik)

    @property
    def masked_kk(self) -> str:
        return mask_number(self.subject_kk)

    @property
    def masked_recipient_phone(self) -> str:
        return mask_phone(self.recipient_phone)

    def __repr__(self) -> str:
        return f"<DocumentRequest {self.id} {self.code} {self.status}>"


def illegal_move_message(frm: Status, to: Status) -> str:
    """Explain a refused move in words an officer or resident understands."""
    from flask_babel import gettext as _

    return _(
        "A request that is \u201c%(frm)s\u201d cannot become \u201c%(to)s\u201d.",
        frm=frm.label,
        to=to.label,
    )


class RequestEvent(db.Model):
    """One status change on a request's timeline: who, when, the public and internal notes."""

    __tablename__ = "sadoku_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sadoku_requests.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[Status] = mapped_column(enum_column(Status, name="from_status"))
    to_status: Mapped[Status] = mapped_column(enum_column(Status, name="to_status"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    public_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[DocumentRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Attachment(db.Model):
    """A file on a request: a required document scan, or the courier's hand-over photo.

    Stored through `core.uploads` storage under a random key, never under static/. A corrected
    attachment gets `replaced_at` and a new row, so the history of what was sent is kept.
    """

    __tablename__ = "sadoku_attachments"
    __table_args__ = (CheckConstraint("kind IN ('document', 'handover')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sadoku_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="document")
    name: Mapped[str] = mapped_column(String(120))  # which requirement it meets
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(120), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    replaced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    request: Mapped[DocumentRequest] = relationship(back_populates="attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class InternalNote(db.Model):
    """An officers-only note on a request, never shown to the resident or on public tracking."""

    __tablename__ = "sadoku_internal_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sadoku_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    text: Mapped[str] = mapped_column(Text)

    author: Mapped[User] = relationship()
    request: Mapped[DocumentRequest] = relationship(back_populates="notes")
