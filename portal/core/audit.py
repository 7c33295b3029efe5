"""Append-only audit log of security-relevant actions (role changes, account disabling...)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.time import utcnow
from portal.extensions import db

# What an admin reads for each recorded action (the code stays in the row, for searching).
ACTION_LABELS = {
    "role_granted": _l("Role granted"),
    "role_revoked": _l("Role removed"),
    "account_disabled": _l("Account disabled"),
    "account_enabled": _l("Account enabled"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by email"),
    "sadoku_status_changed": _l("SADOKU request status changed"),
    "sadoku_nik_viewed": _l("Full NIK viewed"),
    "sadoku_assisted_request": _l("SADOKU request filed at a counter"),
    "sadoku_holiday_added": _l("Holiday added"),
    "sadoku_holiday_removed": _l("Holiday removed"),
    "jm_unit_created": _l("Waste unit created"),
    "jm_unit_changed": _l("Waste unit changed"),
    "jm_price_changed": _l("Waste price changed"),
    "jm_assisted_pickup": _l("Pickup filed at a unit's counter"),
    "jm_weighing_recorded": _l("Weighing recorded"),
    "jm_withdrawal_approved": _l("Withdrawal approved"),
    "jm_withdrawal_rejected": _l("Withdrawal rejected"),
    "jm_withdrawal_paid": _l("Withdrawal paid"),
    "mall_shop_verified": _l("Shop verified"),
    "mall_shop_suspended": _l("Shop suspended"),
    "mall_report_resolved": _l("Reported listing handled"),
    "account_deleted": _l("Account deleted by its owner"),
    "privacy_data_exported": _l("Personal data downloaded"),
    "privacy_correction_requested": _l("Correction of data requested"),
    "privacy_correction_decided": _l("Correction request answered"),
    "privacy_consent_withdrawn": _l("Optional consent withdrawn"),
    "privacy_consent_given": _l("Optional consent given"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


class AuditLog(db.Model):
    """Who did what to whom, and when. Rows are never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))


def record_audit(
    action: str,
    *,
    actor: Any | None,
    target_user: Any | None = None,
    **detail: Any,
) -> AuditLog:
    """Add an audit entry to the current transaction (it commits or rolls back with the action)."""
    entry = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        target_user_id=getattr(target_user, "id", None),
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit_log is append-only")
