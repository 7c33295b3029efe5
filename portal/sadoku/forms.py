"""SADOKU forms for residents and the public: the new-request steps, cancel, correct, track.

Format checks live here; whether a document may be requested, whether an attachment is
complete, and every status rule stay in `services` (DomainError on the matching field name).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from portal.accounts.forms import KkNumber, NikNumber, PhoneNumber
from portal.core.forms import BaseForm
from portal.sadoku.models import Reason
from portal.wilayah.forms import AddressFields

ACCEPT_DOCUMENTS = ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"


def _digits_only(value: Any) -> Any:
    """People copy NIK and KK with spaces or dots from a photo of the card."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch not in " .-")
    return value


class DocumentStepForm(BaseForm):
    """Step 1: which document and why. Choices of document types are set per request."""

    document_type = RadioField(
        _l("Document"),
        choices=[],
        validators=[InputRequired(message=_l("Choose the document you need"))],
    )
    reason = RadioField(
        _l("Reason for the request"),
        choices=[],
        validators=[InputRequired(message=_l("Choose the reason for the request"))],
    )

    def load_choices(self, document_types: list[Any]) -> None:
        self.document_type.choices = [SelectChoice(d.slug, d.name) for d in document_types]
        self.reason.choices = [SelectChoice(r.value, r.label) for r in Reason]


def _subject_name_field() -> StringField:
    return StringField(
        _l("Full name on the document"),
        description=_l("As written on the KK"),
        validators=[
            InputRequired(message=_l("Enter the name as written on the KK")),
            Length(max=120, message=_l("Enter a name of at most 120 characters")),
        ],
    )


def _subject_nik_field() -> StringField:
    return StringField(
        _l("NIK"),
        description=_l("16 digits, on the KTP-el or the KK"),
        validators=[InputRequired(message=_l("Enter the NIK")), NikNumber()],
        filters=[_digits_only],
    )


def _subject_kk_field() -> StringField:
    return StringField(
        _l("KK number"),
        description=_l("16 digits, at the top of the Kartu Keluarga"),
        validators=[InputRequired(message=_l("Enter the KK number")), KkNumber()],
        filters=[_digits_only],
    )


def _recipient_name_field() -> StringField:
    return StringField(
        _l("Recipient's name"),
        description=_l("The person who will take the document from the courier"),
        validators=[
            InputRequired(message=_l("Enter who will receive the document")),
            Length(max=120, message=_l("Enter a name of at most 120 characters")),
        ],
    )


def _recipient_phone_field() -> StringField:
    return StringField(
        _l("Recipient's mobile number"),
        description=_l("The courier calls this number. For example 0812 3456 7890"),
        validators=[
            InputRequired(message=_l("Enter the recipient's mobile number")),
            PhoneNumber(),
        ],
    )


class SubjectStepForm(BaseForm):
    """Step 2: whose document it is."""

    whose = RadioField(
        _l("Whose document is it?"),
        choices=[
            SelectChoice("self", _l("My own document")),
            SelectChoice("family", _l("A family member's document")),
        ],
        default="self",
        validators=[InputRequired(message=_l("Choose whose document it is"))],
    )
    subject_name = _subject_name_field()
    subject_nik = _subject_nik_field()
    subject_kk = _subject_kk_field()


class AttachmentsStepForm(BaseForm):
    """Step 3: one file field per attachment the document type asks for (see `for_names`)."""

    file_names: list[str]

    @classmethod
    def for_names(cls, names: list[str]) -> AttachmentsStepForm:
        fields = {f"file_{i}": FileField(name) for i, name in enumerate(names)}
        form_class = type("DraftAttachmentsForm", (cls,), fields)
        form = form_class()
        form.file_names = list(names)
        return form

    def file_fields(self) -> list[tuple[Any, str]]:
        """(field, attachment name) pairs in the order the document type lists them."""
        return [(self[f"file_{i}"], name) for i, name in enumerate(self.file_names)]


class DeliveryStepForm(AddressFields, BaseForm):
    """Step 4: where the courier goes and who takes the document."""

    recipient_name = _recipient_name_field()
    recipient_phone = _recipient_phone_field()


class SummaryStepForm(BaseForm):
    """Step 5: the declaration. Whether it is ticked is the service's rule (submit_request)."""

    declaration = BooleanField(
        _l(
            "I declare that the data and attachments are true. Giving false data is a crime "
            "under the Adminduk law."
        )
    )


class CancelForm(BaseForm):
    reason = TextAreaField(
        _l("Why are you cancelling? (optional)"),
        description=_l("Shown on the request's timeline"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters"))],
    )


class CorrectionForm(BaseForm):
    """Only the items the officer marked; built per request by `for_items`."""

    note = TextAreaField(
        _l("Message to the officer (optional)"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters"))],
    )
    file_names: list[str]
    marked: list[str]

    @classmethod
    def for_items(cls, items: list[str], attachment_names: list[str]) -> CorrectionForm:
        bases: tuple[type, ...] = (cls,)
        fields: dict[str, Any] = {}
        if "subject_name" in items:
            fields["subject_name"] = _subject_name_field()
        if "subject_nik" in items:
            fields["subject_nik"] = _subject_nik_field()
        if "subject_kk" in items:
            fields["subject_kk"] = _subject_kk_field()
        if "recipient" in items:
            fields["recipient_name"] = _recipient_name_field()
            fields["recipient_phone"] = _recipient_phone_field()
        if "address" in items:
            bases = (AddressFields, cls)
        names = [n for n in attachment_names if f"attachment:{n}" in items]
        for i, name in enumerate(names):
            fields[f"file_{i}"] = FileField(name)
        form = type("RequestCorrectionForm", bases, fields)()
        form.file_names = names
        form.marked = list(items)
        if "address" in items:
            form.load_address_choices()
        return form

    def file_fields(self) -> list[tuple[Any, str]]:
        return [(self[f"file_{i}"], name) for i, name in enumerate(self.file_names)]


class TrackForm(BaseForm):
    """Public tracking: the code and the last 4 NIK digits, posted so they stay out of URLs."""

    code = StringField(
        _l("Tracking code"),
        description=_l("On your receipt, like SDK-2611-000123"),
        validators=[
            InputRequired(message=_l("Enter the tracking code")),
            Length(max=20, message=_l("Enter a tracking code like SDK-2611-000123")),
        ],
        filters=[lambda v: v.upper() if isinstance(v, str) else v],
    )
    nik_last4 = StringField(
        _l("Last 4 digits of the NIK"),
        description=_l("The NIK of the person the document is for"),
        validators=[
            InputRequired(message=_l("Enter the last 4 digits of the NIK")),
            Regexp(r"^[0-9]{4}$", message=_l("Enter exactly 4 digits")),
        ],
    )
