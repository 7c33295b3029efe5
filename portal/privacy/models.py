"""Correction requests: a resident says which data is wrong and what it should be (UU 27/2022).

One state machine, one table (`CORRECTION_TRANSITIONS`): an admin closes an open request as done
or refused, once; nothing reopens a closed one (the resident files a new request instead).
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User, enum_column
from portal.core.errors import DomainError
from portal.core.time import utcnow
from portal.extensions import db


class CorrectionArea(enum.StrEnum):
    """Which part of the portal holds the data the resident wants corrected."""

    PROFILE = "profile"
    SADOKU = "sadoku"
    JUMPA_MADU = "jumpa_madu"
    MALL = "mall"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(AREA_LABELS[self])


AREA_LABELS = {
    CorrectionArea.PROFILE: _l("My profile (name, phone, email, NIK, address)"),
    CorrectionArea.SADOKU: _l("A SADOKU document request"),
    CorrectionArea.JUMPA_MADU: _l("Jumpa Madu: a pickup, weighing, wallet or withdrawal"),
    CorrectionArea.MALL: _l("My shop or products in Deli Serdang Mall"),
    CorrectionArea.OTHER: _l("Something else"),
}


class CorrectionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return str(CORRECTION_STATUS_LABELS[self])


CORRECTION_STATUS_LABELS = {
    CorrectionStatus.OPEN: _l("Waiting for an answer"),
    CorrectionStatus.DONE: _l("Corrected"),
    CorrectionStatus.REFUSED: _l("Refused"),
}

# The one transition table; only an admin moves a request, and only out of OPEN.
CORRECTION_TRANSITIONS = frozenset(
    {
        (CorrectionStatus.OPEN, CorrectionStatus.DONE),
        (CorrectionStatus.OPEN, CorrectionStatus.REFUSED),
    }
)


class CorrectionRequest(db.Model):
    """A resident's request to correct personal data the portal holds about them."""

    __tablename__ = "privacy_corrections"
    __table_args__ = (
        Index("ix_privacy_corrections_status", "status", "created_at"),
        Index("ix_privacy_corrections_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    area: Mapped[CorrectionArea] = mapped_column(enum_column(CorrectionArea, 16))
    # A tracking or pickup code (SDK-..., JM-...) when the data sits on one record; never a NIK.
    reference: Mapped[str] = mapped_column(String(40), default="")
    what_is_wrong: Mapped[str] = mapped_column(Text)
    correct_value: Mapped[str] = mapped_column(Text)
    status: Mapped[CorrectionStatus] = mapped_column(
        enum_column(CorrectionStatus, 10), default=CorrectionStatus.OPEN
    )
    admin_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def code(self) -> str:
        """What the resident and the admin call it: KOR-000012."""
        return f"KOR-{self.id:06d}"

    def move_to(self, to: CorrectionStatus) -> None:
        """Close the request through the transition table; a closed one cannot move again."""
        if (self.status, to) not in CORRECTION_TRANSITIONS:
            from flask_babel import gettext as _

            raise DomainError(
                None,
                _(
                    "This correction request is already \u201c%(status)s\u201d.",
                    status=self.status.label,
                ),
            )
        self.status = to

    def __repr__(self) -> str:
        return f"<CorrectionRequest {self.id} {self.status}>"
