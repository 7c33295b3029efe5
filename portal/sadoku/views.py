"""SADOKU for residents and the public: document pages, the request flow, tracking.

Residents file a request in five short steps kept as a DRAFT row (not the session), then follow
it, cancel it, or fix what an officer sent back. Anyone can track a request with its code and
the last four NIK digits; that page never shows who the request is for.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portal.accounts.models import User
from portal.core.actions import perform
from portal.core.forms import BaseForm, render_form
from portal.core.htmx import hx_redirect, render_page
from portal.core.identity import local_phone
from portal.core.security import mark_personal_data
from portal.core.uploads import (
    ALLOWED_DOCUMENT_KINDS,
    check_upload,
    get_storage,
    human_size,
    send_upload,
)
from portal.extensions import limiter
from portal.sadoku import services
from portal.sadoku.forms import (
    ACCEPT_DOCUMENTS,
    AttachmentsStepForm,
    CancelForm,
    CorrectionForm,
    DeliveryStepForm,
    DocumentStepForm,
    SubjectStepForm,
    SummaryStepForm,
    TrackForm,
)
from portal.sadoku.models import (
    CORRECTABLE_FIELDS,
    NEXT_STEPS,
    Actor,
    DocumentRequest,
    Reason,
    Status,
    allowed_moves,
)
from portal.sadoku.permissions import (
    get_attachment_or_404,
    get_draft_or_404,
    get_request_or_404,
)

bp = Blueprint("sadoku", __name__, url_prefix="/sadoku")

STEP_LABELS = {
    "document": _l("Document"),
    "subject": _l("Whose document"),
    "attachments": _l("Attachments"),
    "delivery": _l("Delivery"),
    "summary": _l("Check and send"),
}
PER_PAGE = 50


def _me() -> User:
    """The logged-in user as a model instance (services assign it to relationships)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def item_label(item: str) -> str:
    """What an officer marked for correction, in words."""
    if item.startswith("attachment:"):
        return _("Attachment: %(name)s", name=item.removeprefix("attachment:"))
    return str(CORRECTABLE_FIELDS.get(item, item))


def _max_upload_hint() -> str:
    limit = current_app.config["SADOKU_MAX_UPLOAD_BYTES"]
    return _(
        "JPEG, PNG or PDF, at most %(size)s each. A clear photo from your phone is fine.",
        size=human_size(limit),
    )


# --- public pages ---------------------------------------------------------------------------------


@bp.route("/")
def index():
    return render_page("sadoku/index.html", document_types=services.active_document_types())


@bp.route("/documents/<slug>")
def document_type_show(slug: str):
    doc = services.active_document_type(slug)
    if doc is None:
        abort(404)
    return render_page("sadoku/document_type_show.html", doc=doc)


# --- the new-request flow -------------------------------------------------------------------------


def _step_url(req: DocumentRequest, step: str) -> str:
    return url_for("sadoku.draft_edit", draft_id=req.id, step=step)


def _step_context(req: DocumentRequest | None, step: str) -> dict[str, Any]:
    """Step indicator and Back link, shared by every step's page."""
    index = services.STEPS.index(step)
    if index == 0:
        back = url_for("sadoku.request_index") if req is not None else url_for("sadoku.index")
    else:
        assert req is not None
        back = _step_url(req, services.STEPS[index - 1])
    return {
        "req": req,
        "step": step,
        "step_number": index + 1,
        "step_count": len(services.STEPS),
        "step_label": STEP_LABELS[step],
        "back_url": back,
        "assisted": req is not None and req.user_id != current_user.id,
    }


def _document_form(req: DocumentRequest | None) -> tuple[DocumentStepForm, dict[str, Any]]:
    form = DocumentStepForm()
    document_types = services.active_document_types()
    form.load_choices(document_types)
    if request.method == "GET":
        if req is not None:
            form.document_type.data = req.document_type.slug if req.document_type else None
            form.reason.data = req.reason.value if req.reason else None
        elif (wanted := request.args.get("type")) in {d.slug for d in document_types}:
            form.document_type.data = wanted
    return form, {d.slug: d for d in document_types}


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def request_new():
    form, by_slug = _document_form(None)
    if form.validate_on_submit():
        doc, reason = by_slug[form.document_type.data], Reason(form.reason.data)
        outcome = perform(lambda: services.start_request(_me(), doc, reason), form)
        if outcome.ok and outcome.value is not None:
            return hx_redirect(_step_url(outcome.value, "subject"))
    return render_form(
        "sadoku/request_new.html",
        form,
        action=url_for("sadoku.request_new"),
        **_step_context(None, "document"),
    )


@bp.route("/drafts/<int:draft_id>/<step>", methods=["GET", "POST"])
@login_required
def draft_edit(draft_id: int, step: str):
    req = get_draft_or_404(draft_id, current_user)
    if step not in services.STEPS:
        abort(404)
    first_open = services.STEPS[min(req.step_done, len(services.STEPS) - 1)]
    if services.STEPS.index(step) > req.step_done:
        return redirect(_step_url(req, first_open))
    handler = _STEP_HANDLERS[step]
    return handler(req)


def _document_step(req: DocumentRequest) -> Response:
    form, by_slug = _document_form(req)
    if form.validate_on_submit():
        doc, reason = by_slug[form.document_type.data], Reason(form.reason.data)
        if perform(lambda: services.save_document_step(req, doc, reason), form).ok:
            return hx_redirect(_step_url(req, "subject"))
    return render_form(
        "sadoku/request_new.html",
        form,
        action=_step_url(req, "document"),
        **_step_context(req, "document"),
    )


def _subject_step(req: DocumentRequest) -> Response:
    form = SubjectStepForm()
    if request.method == "GET":
        if req.subject_name:
            form.whose.data = "self" if req.subject_is_self else "family"
            form.subject_name.data = req.subject_name
            form.subject_nik.data = req.subject_nik
            form.subject_kk.data = req.subject_kk
        else:
            # The owner's profile, not the officer's in assisted mode.
            form.subject_name.data = req.user.full_name
            form.subject_nik.data = req.user.nik or ""
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.save_subject_step(
                req,
                is_self=form.whose.data == "self",
                name=form.subject_name.data,
                nik=form.subject_nik.data,
                kk=form.subject_kk.data,
            ),
            form,
        )
        if outcome.ok:
            return hx_redirect(_step_url(req, "attachments"))
    return render_form("sadoku/draft_subject.html", form, **_step_context(req, "subject"))


def _store_upload(req: DocumentRequest, field: Any, name: str, form: BaseForm) -> bool:
    """Check and keep one uploaded file, committed on its own (the browser cannot re-send it)."""
    file = field.data

    def action() -> Any:
        checked = check_upload(
            file,
            field=field.name,
            allowed=ALLOWED_DOCUMENT_KINDS,
            max_bytes=current_app.config["SADOKU_MAX_UPLOAD_BYTES"],
        )
        return services.add_attachment(req, name, checked, _me())

    return perform(action, form).ok


def _store_uploads(req: DocumentRequest, form: Any) -> tuple[list[str], list[str]]:
    """Every chosen file: the names that were saved and the names that were refused."""
    saved, failed = [], []
    for field, name in form.file_fields():
        if not field.data:
            continue
        (saved if _store_upload(req, field, name, form) else failed).append(name)
    return saved, failed


def _attachments_step(req: DocumentRequest) -> Response:
    assert req.document_type is not None
    form = AttachmentsStepForm.for_names(req.document_type.attachment_names)
    saved: list[str] = []
    if form.validate_on_submit():
        saved, failed = _store_uploads(req, form)
        if not failed and perform(lambda: services.complete_attachments_step(req), form).ok:
            return hx_redirect(_step_url(req, "delivery"))
    current = {a.name: a for a in req.current_attachments}
    return render_form(
        "sadoku/draft_attachments.html",
        form,
        current=current,
        saved=saved,
        accept=ACCEPT_DOCUMENTS,
        upload_hint=_max_upload_hint(),
        **_step_context(req, "attachments"),
    )


def _delivery_step(req: DocumentRequest) -> Response:
    form = DeliveryStepForm()
    form.load_address_choices()
    if request.method == "GET":
        form.fill_address(req if req.has_address else req.user)
        form.recipient_name.data = req.recipient_name or req.subject_name or ""
        form.recipient_phone.data = local_phone(req.recipient_phone or req.user.phone)
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.save_delivery_step(
                req, form.address_data(), form.recipient_name.data, form.recipient_phone.data
            ),
            form,
        )
        if outcome.ok:
            return hx_redirect(_step_url(req, "summary"))
    return render_form("sadoku/draft_delivery.html", form, **_step_context(req, "delivery"))


def _summary_step(req: DocumentRequest) -> Response:
    form = SummaryStepForm()
    if form.validate_on_submit():
        owner_id = req.user_id
        outcome = perform(
            lambda: services.submit_request(req, _me(), declaration=bool(form.declaration.data)),
            form,
        )
        if outcome.ok:
            if current_user.id == owner_id:
                flash(_("Your request has been sent."), "success")
                return hx_redirect(url_for("sadoku.request_receipt", code=req.code))
            flash(_("The request has been sent for the resident."), "success")
            return hx_redirect(url_for("sadoku_officer.request_show", code=req.code))
    return render_form(
        "sadoku/draft_summary.html",
        form,
        attachments=req.current_attachments,
        **_step_context(req, "summary"),
    )


_STEP_HANDLERS = {
    "document": _document_step,
    "subject": _subject_step,
    "attachments": _attachments_step,
    "delivery": _delivery_step,
    "summary": _summary_step,
}


@bp.route("/drafts/<int:draft_id>/delete", methods=["POST"])
@login_required
def draft_delete(draft_id: int):
    req = get_draft_or_404(draft_id, current_user)
    owner_id = req.user_id
    outcome = perform(lambda: services.discard_draft(req, _me()))
    if outcome.ok:
        storage = get_storage()
        for key in outcome.value or []:
            storage.delete(key)
        flash(_("The draft has been deleted."), "success")
    if current_user.id != owner_id:
        return hx_redirect(url_for("sadoku_officer.request_index"))
    return hx_redirect(url_for("sadoku.request_index"))


# --- the resident's requests ----------------------------------------------------------------------


@bp.route("/requests")
@login_required
def request_index():
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    requests_, has_older = services.user_requests(_me(), page, PER_PAGE)
    drafts = services.user_drafts(_me()) if page == 1 else []
    return render_page(
        "sadoku/request_index.html",
        drafts=drafts,
        requests=requests_,
        page=page,
        has_older=has_older,
        first_open_step=lambda d: services.STEPS[min(d.step_done, len(services.STEPS) - 1)],
    )


def _correction_event(req: DocumentRequest) -> Any:
    for event in reversed(req.events):
        if event.to_status == Status.NEEDS_CORRECTION:
            return event
    return None


def _status_context(req: DocumentRequest) -> dict[str, Any]:
    return {
        "req": req,
        "next_step": NEXT_STEPS.get(req.status),
        "can_cancel": Status.CANCELLED in allowed_moves(req.status, Actor.RESIDENT),
        "correction_event": _correction_event(req)
        if req.status == Status.NEEDS_CORRECTION
        else None,
        "correction_items": [item_label(i) for i in req.correction_items or []],
    }


@bp.route("/requests/<code>")
@login_required
def request_show(code: str):
    req = get_request_or_404(code, current_user)
    return render_page(
        "sadoku/request_show.html",
        partial="sadoku/_request_status.html",
        target="request-status",
        attachments=req.current_attachments,
        **_status_context(req),
    )


@bp.route("/requests/<code>/receipt")
@login_required
def request_receipt(code: str):
    req = get_request_or_404(code, current_user)
    return render_page("sadoku/request_receipt.html", req=req)


@bp.route("/requests/<code>/cancel", methods=["GET", "POST"])
@login_required
def request_cancel(code: str):
    req = get_request_or_404(code, current_user)
    detail = url_for("sadoku.request_show", code=req.code)
    form = CancelForm()
    if request.method == "GET" and Status.CANCELLED not in allowed_moves(
        req.status, Actor.RESIDENT
    ):
        flash(_("This request can no longer be cancelled."), "error")
        return redirect(detail)
    if form.validate_on_submit():
        outcome = perform(lambda: services.cancel_request(req, _me(), form.reason.data or ""), form)
        if outcome.ok:
            flash(_("Your request has been cancelled."), "success")
            return hx_redirect(detail)
    return render_form("sadoku/request_cancel.html", form, req=req)


@bp.route("/requests/<code>/correct", methods=["GET", "POST"])
@login_required
def request_correct(code: str):
    req = get_request_or_404(code, current_user)
    detail = url_for("sadoku.request_show", code=req.code)
    if req.status != Status.NEEDS_CORRECTION:
        flash(_("This request is not waiting for a correction."), "error")
        return redirect(detail)
    items = list(req.correction_items or [])
    names = req.document_type.attachment_names if req.document_type else []
    form = CorrectionForm.for_items(items, names)
    if request.method == "GET":
        _prefill_correction(form, req)
    saved: list[str] = []
    valid = form.validate_on_submit()
    failed: list[str] = []
    if form.is_submitted():
        # Files first and kept whatever else is wrong: a browser cannot re-fill a file input.
        saved, failed = _store_uploads(req, form)
    if valid and not failed:
        outcome = perform(lambda: services.resubmit_request(req, _me(), **_fixes(form)), form)
        if outcome.ok:
            flash(_("Your corrected request has been sent again."), "success")
            return hx_redirect(detail)
    since = _correction_event(req)
    return render_form(
        "sadoku/request_correct.html",
        form,
        req=req,
        correction_event=since,
        correction_items=[item_label(i) for i in items],
        current={a.name: a for a in req.current_attachments},
        saved=saved,
        accept=ACCEPT_DOCUMENTS,
        upload_hint=_max_upload_hint(),
    )


def _prefill_correction(form: Any, req: DocumentRequest) -> None:
    for name in ("subject_name", "subject_nik", "subject_kk", "recipient_name"):
        if name in form:
            form[name].data = getattr(req, name) or ""
    if "recipient_phone" in form:
        form.recipient_phone.data = local_phone(req.recipient_phone)
    if "address" in form.marked:
        form.fill_address(req)


def _fixes(form: Any) -> dict[str, Any]:
    """The corrected values as plain data for resubmit_request (only the marked ones exist)."""
    subject = {
        key: form[f"subject_{key}"].data
        for key in ("name", "nik", "kk")
        if f"subject_{key}" in form
    }
    fixes: dict[str, Any] = {"note": form.note.data or ""}
    if subject:
        fixes["subject"] = subject
    if "address" in form.marked:
        fixes["address"] = form.address_data()
    if "recipient_name" in form:
        fixes["recipient"] = {
            "name": form.recipient_name.data,
            "phone": form.recipient_phone.data,
        }
    return fixes


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment_download(attachment_id: int):
    attachment = get_attachment_or_404(attachment_id, current_user)
    try:
        data = get_storage().read(attachment.storage_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_upload(
        data,
        content_type=attachment.content_type,
        filename=attachment.filename,
        inline=request.args.get("inline") == "1" and attachment.is_image,
    )


# --- public tracking ------------------------------------------------------------------------------


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SADOKU_TRACK_RATE_LIMIT"], methods=["POST"])
def track():
    form = TrackForm()
    if form.validate_on_submit():
        req = services.track(form.code.data, form.nik_last4.data)
        if req is not None:
            # Someone's request and its history: no cache or history snapshot may keep it.
            mark_personal_data()
            # A fresh form: the NIK digits typed are not echoed back next to the result.
            return render_page(
                "sadoku/track.html",
                form=TrackForm(formdata=None),
                found=req,
                next_step=NEXT_STEPS.get(req.status),
            )
        form.form_errors.append(
            _("No request matches this tracking code and NIK digits. Check both and try again.")
        )
        return render_page("sadoku/track.html", form=form, found=None, status=404)
    return render_form("sadoku/track.html", form, found=None)
