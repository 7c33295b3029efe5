"""Structured security logs: one JSON object per line, in UTC, with no personal data.

Operators feed these lines to whatever collects logs (journald, Loki, a SIEM); JSON keeps every
field searchable and makes log injection impossible by construction: a value with a newline or
an ANSI escape is encoded inside its string, never written raw. As a last line of defence every
line is scrubbed of anything shaped like a NIK or KK (16 digits) before it is written.

What is logged (ASVS 16.3): logins and failures, MFA failures, authorisation and CSRF failures,
session ends, role changes and everything else in the audit log, status changes of requests,
pickups, withdrawals, shops and products, ledger movements and full-NIK views. Business events
are written after the database commits them, so the log never reports a change that was undone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

EVENTS = logging.getLogger("portal.events")
# 16 digits in a row, or with the separators people type: a NIK/KK in any form.
_SIXTEEN_DIGITS = re.compile(r"(?<!\d)(?:\d[ .-]?){15}\d(?!\d)")
_PENDING = "pending_log_events"


def scrub(text: str) -> str:
    """Blank out NIK/KK-shaped numbers (last line of defence; callers pass no personal data)."""
    return _SIXTEEN_DIGITS.sub("[16-digit number removed]", text)


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time (UTC), level, logger, event, fields, request."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or "message",
        }
        message = record.getMessage()
        if message and message != entry["event"]:
            entry["message"] = message
        entry.update(getattr(record, "fields", None) or {})
        entry.update(getattr(record, "request_info", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, ensure_ascii=True, default=str, sort_keys=False))


class RequestInfoFilter(logging.Filter):
    """Add the request's method, path, client IP and user id to records made during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_info"):
            info: dict[str, Any] = {
                "method": request.method,
                "path": request.path,
                "ip": request.remote_addr,
            }
            # The id from the identity map only: `is_authenticated` or `.id` on a user expired by a
            # commit would query the database, which fails (and so would logging) when the
            # connection is gone, the very moment an error must be logged and shown.
            state = inspect(g.get("_login_user"), raiseerr=False)
            if state is not None and state.identity:
                info["user_id"] = state.identity[0]
            record.request_info = info
        return True


def log_event(name: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Write one security event now (use for events that are not database changes)."""
    EVENTS.log(level, name, extra={"event": name, "fields": fields})


def configure(level: int) -> None:
    """JSON lines on stderr for the portal's loggers, unless a handler is already installed
    (pytest's capture, or an operator's own logging configuration)."""
    root = logging.getLogger()
    portal = logging.getLogger("portal")
    portal.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestInfoFilter())
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    for handler in root.handlers:
        if not any(isinstance(f, RequestInfoFilter) for f in handler.filters):
            handler.addFilter(RequestInfoFilter())


# --- events that are database changes: queued at flush, written after commit ---------------------


def _queue(session: Session, name: str, fields: dict[str, Any]) -> None:
    session.info.setdefault(_PENDING, []).append((name, fields))


def log_after_commit(name: str, /, **fields: Any) -> None:
    """Write an event once the current transaction commits (nothing if it rolls back)."""
    from portal.extensions import db

    _queue(db.session(), name, fields)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _ctx: Any) -> None:
    """Queue the audit entries, status changes and ledger transactions this flush wrote."""
    from portal.core.audit import AuditLog
    from portal.jumpa_madu.ledger import LedgerTransaction

    for obj in session.new:
        if isinstance(obj, AuditLog):
            _queue(
                session,
                obj.action,
                {"actor_id": obj.actor_id, "target_user_id": obj.target_user_id, **obj.detail},
            )
        elif isinstance(obj, LedgerTransaction):
            _queue(
                session,
                "ledger_transaction",
                {
                    "transaction_id": obj.id,
                    "kind": str(obj.kind),
                    "created_by": obj.created_by_id,
                    "entries": [[e.account_id, e.amount] for e in obj.entries],
                },
            )
    for obj in list(session.new) + list(session.dirty):
        mapper = inspect(obj).mapper
        if "status" not in mapper.column_attrs:
            continue
        history = inspect(obj).attrs.status.history
        if not history.added:
            continue
        old = history.deleted[0] if history.deleted else None
        _queue(
            session,
            "status_changed",
            {
                "table": mapper.local_table.name,
                "id": obj.id,
                "from": str(old) if old is not None else None,
                "to": str(history.added[0]),
            },
        )


@event.listens_for(Session, "after_commit")
def _emit(session: Session) -> None:
    for name, fields in session.info.pop(_PENDING, []):
        log_event(name, **fields)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)
