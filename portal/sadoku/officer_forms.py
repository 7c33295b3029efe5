"""SADOKU forms for officers, couriers and admins: queue filter, status changes, catalogue.

Choices that depend on the database (couriers, document types, response templates) are set per
request by the view, so labels follow the chosen language and new records appear at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.accounts.forms import PhoneNumber
from portal.accounts.models import User
from portal.core.forms import BaseForm, Chosen, MultiCheckboxField, float_or_none
from portal.sadoku.models import (
    CORRECTABLE_FIELDS,
    DocumentType,
    FailureReason,
    Reason,
    Relation,
    ResponseTemplate,
    Status,
)
from portal.sadoku.services import QueueFilter

OWN_TEXT = "own"
QUEUE_STATUSES = [s for s in Status if s != Status.DRAFT]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# --- the queue ----------------------------------------------------------------------------------


class QueueFilterForm(BaseForm):
    """The queue's filter. Sent by GET so a filtered queue is a link; it holds no personal data."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    document_type = SelectField(_l("Document"), choices=[], validate_choice=False)
    kecamatan = SelectField(_l("Kecamatan"), choices=[], validate_choice=False)
    overdue = BooleanField(_l("Only overdue"))
    q = StringField(_l("Tracking code or name"), validators=[Optional(), Length(max=100)])

    def load_choices(
        self, document_types: Iterable[DocumentType], kecamatan: Iterable[Any]
    ) -> None:
        self.status.choices = [("", _l("All statuses"))] + [
            (s.value, s.label) for s in QUEUE_STATUSES
        ]
        self.document_type.choices = [("", _l("All documents"))] + [
            (str(d.id), d.name) for d in document_types
        ]
        self.kecamatan.choices = [("", _l("All kecamatan"))] + [(k.code, k.name) for k in kecamatan]

    def to_filter(self) -> QueueFilter:
        """The filter as the service takes it; an unknown value (edited URL) filters nothing."""
        statuses = {s.value for s in QUEUE_STATUSES}
        doc_ids = {value for value, _label in self.document_type.choices}
        kec_codes = {value for value, _label in self.kecamatan.choices}
        return QueueFilter(
            status=Status(self.status.data) if self.status.data in statuses else None,
            document_type_id=(
                _int_or_none(self.document_type.data)
                if self.document_type.data in doc_ids
                else None
            ),
            kecamatan_code=(self.kecamatan.data or None)
            if self.kecamatan.data in kec_codes
            else None,
            overdue=bool(self.overdue.data),
            q=(self.q.data or "")[:100],
        )


def _courier_choices(couriers: Iterable[User]) -> list[tuple[str, str]]:
    return [("", _l("Choose a courier"))] + [(str(c.id), c.full_name) for c in couriers]


class CourierFields:
    """A courier and a delivery date, for assigning one request or several at once."""

    courier = SelectField(
        _l("Courier"),
        choices=[],
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a courier from the list"))],
    )
    delivery_date = DateField(
        _l("Delivery date"),
        validators=[InputRequired(message=_l("Enter the delivery date"))],
    )

    def load_couriers(self, couriers: Iterable[User]) -> None:
        self.couriers = {str(c.id): c for c in couriers}
        self.courier.choices = _courier_choices(self.couriers.values())

    def chosen_courier(self) -> User | None:
        return self.couriers.get(self.courier.data or "")


class BulkAssignForm(CourierFields, BaseForm):
    request_ids = SelectMultipleField(
        _l("Requests to assign"), choices=[], validate_choice=False, coerce=str
    )

    def ids(self) -> list[int]:
        return [i for i in (_int_or_none(v) for v in self.request_ids.data or []) if i is not None]


# --- status changes -----------------------------------------------------------------------------


class NoteFields:
    """A public note (typed, or a response template for the status) and an internal one."""

    template = RadioField(_l("Message to the resident"), choices=[], validate_choice=False)
    public_note = TextAreaField(
        _l("Your own message to the resident (optional)"),
        description=_l("Shown on the resident's timeline and sent to them"),
        validators=[Optional(), Length(max=2000)],
    )
    internal_note = TextAreaField(
        _l("Internal note (optional)"),
        description=_l("Only officers see it"),
        validators=[Optional(), Length(max=2000)],
    )

    def load_templates(self, templates: Iterable[ResponseTemplate]) -> None:
        self.templates = {str(t.id): t for t in templates}
        self.template.choices = [(key, t.text) for key, t in self.templates.items()] + [
            (OWN_TEXT, _l("Write my own"))
        ]
        if self.template.data not in self.templates:
            self.template.data = OWN_TEXT

    def chosen_note(self) -> str:
        """The chosen template's text, else what the officer typed."""
        picked = self.templates.get(self.template.data or "")
        return picked.text if picked is not None else (self.public_note.data or "")


class TransitionForm(NoteFields, BaseForm):
    """Verify, start printing, ready, hold at the office, collected: notes only."""


class CorrectionForm(NoteFields, BaseForm):
    items = MultiCheckboxField(_l("What must the resident fix?"), choices=[])
    public_note = TextAreaField(
        _l("Your own message to the resident"),
        description=_l("Say what is wrong and how to fix it"),
        validators=[Optional(), Length(max=2000)],
    )

    def load_items(self, attachment_names: Iterable[str]) -> None:
        self.items.choices = [(key, label) for key, label in CORRECTABLE_FIELDS.items()] + [
            (f"attachment:{name}", _l("Attachment: %(name)s", name=name))
            for name in attachment_names
        ]


class RejectForm(NoteFields, BaseForm):
    public_note = TextAreaField(
        _l("Reason for rejecting"),
        description=_l("Shown to the resident; say what they can do instead"),
        validators=[Optional(), Length(max=2000)],
    )


class AssignForm(CourierFields, NoteFields, BaseForm):
    """Send out for delivery (from ready) or reschedule (after a failed delivery)."""


class DeliveredForm(BaseForm):
    received_by = StringField(
        _l("Received by"),
        description=_l("The name of the person who took the document"),
        validators=[
            InputRequired(message=_l("Enter the name of the person who received it")),
            Length(max=120),
        ],
    )
    relation = RadioField(
        _l("Who is the recipient?"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose who received the document"))],
    )
    photo = FileField(
        _l("Photo of the hand-over"),
        description=_l("The recipient holding the document; a JPEG, PNG or WebP photo"),
        validators=[FileRequired(message=_l("Take a photo of the hand-over"))],
    )
    latitude = HiddenField(_l("Latitude"))
    longitude = HiddenField(_l("Longitude"))
    internal_note = TextAreaField(
        _l("Note (optional)"),
        description=_l("Only officers see it"),
        validators=[Optional(), Length(max=2000)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relation.choices = [(r.value, r.label) for r in Relation]

    def position(self) -> tuple[float | None, float | None]:
        """Where the device said it was, when it did; half a position is no position."""
        lat, lon = float_or_none(self.latitude.data), float_or_none(self.longitude.data)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None, None
        return lat, lon


class FailedForm(BaseForm):
    failure_reason = RadioField(
        _l("Why could the document not be handed over?"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose why the delivery failed"))],
    )
    internal_note = TextAreaField(
        _l("Note (optional)"),
        description=_l("Only officers see it"),
        validators=[Optional(), Length(max=2000)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failure_reason.choices = [(r.value, r.label) for r in FailureReason]


class NoteForm(BaseForm):
    text = TextAreaField(
        _l("Internal note"),
        description=_l("Only officers and the assigned courier see it"),
        validators=[InputRequired(message=_l("Write the note")), Length(max=2000)],
    )


class DeliveryDayForm(BaseForm):
    """Which courier's list, for which day (GET)."""

    class Meta:
        csrf = False

    courier = SelectField(_l("Courier"), choices=[], validate_choice=False)
    date = DateField(_l("Date"), validators=[Optional()])


# --- assisted mode ------------------------------------------------------------------------------


class AssistedForm(BaseForm):
    phone = StringField(
        _l("Resident's mobile phone number"),
        description=_l("Their account is found by this number; for example 0812 3456 7890"),
        validators=[
            InputRequired(message=_l("Enter the resident's mobile phone number")),
            PhoneNumber(),
        ],
    )
    full_name = StringField(
        _l("Resident's full name"),
        description=_l("Needed only when no account has this phone number: one is made for them"),
        validators=[
            Optional(),
            Length(min=2, max=120, message=_l("Enter a name of 2 to 120 characters")),
        ],
    )
    document_type = SelectField(
        _l("Document"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose the document"))],
    )
    reason = RadioField(
        _l("Why is it needed?"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose why the document is needed"))],
    )
    consent = BooleanField(
        _l(
            "The resident agreed that I file this request for them and that their data is "
            "processed for it"
        ),
        validators=[
            InputRequired(
                message=_l("Confirm that the resident agreed to you filing this request for them")
            )
        ],
    )

    def load_choices(self, document_types: Iterable[DocumentType]) -> None:
        self.document_types = {str(d.id): d for d in document_types}
        self.document_type.choices = [("", _l("Choose a document"))] + [
            (key, d.name) for key, d in self.document_types.items()
        ]
        self.reason.choices = [(r.value, r.label) for r in Reason]


# --- admin --------------------------------------------------------------------------------------


def _lines(value: Any) -> Any:
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class DocumentTypeForm(BaseForm):
    name = StringField(
        _l("Name"),
        validators=[InputRequired(message=_l("Enter the document's name")), Length(max=80)],
    )
    slug = StringField(
        _l("Web address name"),
        description=_l("Lowercase letters, digits and hyphens, like ktp-el"),
        validators=[
            InputRequired(message=_l("Enter the web address name")),
            Length(max=40, message=_l("Use at most 40 characters")),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message=_l("Use only lowercase letters, digits and hyphens, like ktp-el"),
            ),
        ],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    requirements = TextAreaField(
        _l("Requirements"),
        description=_l("What the resident needs; shown on the document's page"),
        validators=[Optional(), Length(max=4000)],
        filters=[_lines],
    )
    attachment_names = TextAreaField(
        _l("Required attachments"),
        description=_l("One per line, in the order they are asked for"),
        validators=[Optional(), Length(max=2000)],
        filters=[_lines],
    )
    service_days = IntegerField(
        _l("Service standard in working days"),
        validators=[
            InputRequired(message=_l("Enter the number of working days")),
            NumberRange(min=1, max=60, message=_l("Enter a number from 1 to 60")),
        ],
    )
    is_active = BooleanField(_l("Residents can request it online"))

    def fill(self, doc: DocumentType) -> None:
        self.name.data, self.slug.data = doc.name, doc.slug
        self.description.data, self.requirements.data = doc.description, doc.requirements
        self.attachment_names.data = "\n".join(doc.attachment_names or [])
        self.service_days.data, self.is_active.data = doc.service_days, doc.is_active

    def data_for_service(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "slug": self.slug.data,
            "description": self.description.data or "",
            "requirements": self.requirements.data or "",
            "attachment_names": (self.attachment_names.data or "").split("\n"),
            "service_days": self.service_days.data,
            "is_active": bool(self.is_active.data),
        }


class HolidayForm(BaseForm):
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date"))])
    name = StringField(
        _l("Name"),
        description=_l("For example Idul Fitri or cuti bersama"),
        validators=[InputRequired(message=_l("Enter the holiday's name")), Length(max=120)],
    )

    def validate_day(self, field: Any) -> None:
        if field.data is not None and field.data < dt.date(2000, 1, 1):
            raise ValidationError(_l("Enter a date from the year 2000 on"))


class ResponseTemplateForm(BaseForm):
    status = SelectField(
        _l("Status"),
        choices=[],
        validate_choice=False,
        validators=[Chosen(_l("Choose the status"))],
    )
    text = TextAreaField(
        _l("Text"),
        description=_l("What the resident reads; officers can pick it when changing the status"),
        validators=[InputRequired(message=_l("Enter the text")), Length(max=2000)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("Choose a status"))] + [
            (s.value, s.label) for s in QUEUE_STATUSES
        ]
