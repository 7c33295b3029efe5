"""Forms of "Data saya" (export, correction, deletion, consents) and the admins' answer form."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from portal.core.forms import BaseForm, Chosen
from portal.privacy.models import AREA_LABELS, CorrectionArea, CorrectionStatus


class ExportForm(BaseForm):
    """Which file to download; a POST, so the audited export cannot be triggered by a link."""

    format = RadioField(
        _l("File type"),
        choices=[
            SelectChoice("json", _l("JSON (one file, for programs)")),
            SelectChoice("csv", _l("CSV (a zip with one table per file, for spreadsheets)")),
        ],
        validate_choice=False,
        validators=[Chosen(_l("Choose JSON or CSV"))],
        default="json",
    )


class CorrectionForm(BaseForm):
    area = RadioField(
        _l("Which data is it about?"),
        choices=[SelectChoice(a.value, AREA_LABELS[a]) for a in CorrectionArea],
        validate_choice=False,
        validators=[Chosen(_l("Choose which data is wrong"))],
    )
    reference = StringField(
        _l("Tracking code (optional)"),
        description=_l(
            "For data on one request: its code, like SDK-2611-000123 or JM-000045. "
            "Do not write your NIK here."
        ),
        validators=[
            Optional(),
            Length(max=40, message=_l("Use at most 40 characters")),
            Regexp(
                r"^[A-Za-z0-9-]+$",
                message=_l("Write only the code: letters, digits and dashes"),
            ),
        ],
    )

    what_is_wrong = TextAreaField(
        _l("What is wrong?"),
        description=_l("For example: \u201cMy name is misspelled on my profile\u201d."),
        validators=[
            InputRequired(_l("Say which data is wrong")),
            Length(max=1000, message=_l("Use at most 1000 characters")),
        ],
    )
    correct_value = TextAreaField(
        _l("What should it be?"),
        description=_l("The correct value, written as it should appear."),
        validators=[
            InputRequired(_l("Write what the data should be")),
            Length(max=1000, message=_l("Use at most 1000 characters")),
        ],
    )

    def validate_reference(self, field: Any) -> None:
        # A NIK or KK typed here would travel in notifications and the admins' queue for nothing.
        if re.search(r"\d{16}", (field.data or "").replace("-", "")):
            raise ValidationError(
                _l("This looks like a NIK or KK number; write the request's code instead")
            )


class DeleteAccountForm(BaseForm):
    understood = BooleanField(
        _l("I understand that my account and personal data are erased and cannot be restored"),
        validators=[InputRequired(_l("Confirm that you understand what is erased"))],
    )
    password = PasswordField(
        _l("Your password"),
        description=_l("To make sure it is really you."),
        validators=[InputRequired(_l("Enter your password"))],
    )


class CorrectionDecisionForm(BaseForm):
    outcome = RadioField(
        _l("Answer"),
        choices=[
            SelectChoice(CorrectionStatus.DONE.value, _l("Corrected: the data has been changed")),
            SelectChoice(CorrectionStatus.REFUSED.value, _l("Refused: the data stays as it is")),
        ],
        validate_choice=False,
        validators=[Chosen(_l("Choose corrected or refused"))],
    )
    note = TextAreaField(
        _l("Message to the resident"),
        description=_l(
            "Required when refusing: say why, and what the resident can do (for example, bring "
            "a document to the Disdukcapil office)."
        ),
        validators=[Length(max=2000, message=_l("Use at most 2000 characters"))],
    )
