"""Whose SADOKU records a user may open. Anything else is a 404, so its existence stays hidden."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.sadoku.models import Attachment, DocumentRequest, Status


def is_sadoku_officer(user: User) -> bool:
    """SADOKU officers and admins see every request; couriers only the ones assigned to them."""
    return user.has_role(Role.SADOKU_OFFICER) or user.has_role(Role.ADMIN)


def get_draft_or_404(draft_id: int, user: User) -> DocumentRequest:
    """An unsent draft: its owner's, or the officer's who is filing it for a resident."""
    req = db.session.get(DocumentRequest, draft_id)
    if req is None or req.status != Status.DRAFT:
        abort(404)
    if user.id not in (req.user_id, req.assisted_by_id):
        abort(404)
    return req


def get_request_or_404(code: str, user: User) -> DocumentRequest:
    """A sent request as its owner sees it."""
    req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code.upper()))
    if req is None or req.user_id != user.id or req.status == Status.DRAFT:
        abort(404)
    return req


def get_officer_request_or_404(code: str, user: User) -> DocumentRequest:
    """A sent request as staff see it: officers any, couriers only those assigned to them."""
    req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code.upper()))
    if req is None or req.status == Status.DRAFT:
        abort(404)
    if is_sadoku_officer(user):
        return req
    if user.has_role(Role.SADOKU_COURIER) and req.courier_id == user.id:
        return req
    abort(404)


def get_attachment_or_404(attachment_id: int, user: User) -> Attachment:
    """A file: to the request's owner (or the officer filing their draft), and to SADOKU officers
    once the request is sent. An unsent draft's scans are the resident's alone, as its page is."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    req = attachment.request
    if user.id in (req.user_id, req.assisted_by_id):
        return attachment
    if is_sadoku_officer(user) and req.status != Status.DRAFT:
        return attachment
    abort(404)
