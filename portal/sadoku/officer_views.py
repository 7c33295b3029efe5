"""SADOKU for officers and couriers: the queue, request detail, status changes, day lists.

Officers (and admins) work every request; a courier sees only the deliveries assigned to them
(`get_officer_request_or_404`) and may only record the hand-over or a failed delivery. Every
status change goes through one service, which asks the model's transition table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from portal.accounts import sessions
from portal.accounts.models import Role
from portal.accounts.permissions import role_required
from portal.core.actions import perform
from portal.core.counts import count_label, list_cap
from portal.core.forms import BaseForm, render_form
from portal.core.geo import format_km
from portal.core.htmx import hx_redirect, render_page
from portal.core.identity import local_phone
from portal.core.security import is_safe_next
from portal.core.time import LONG_DAY, format_day, today_wib
from portal.core.uploads import ALLOWED_PHOTO_KINDS, check_upload
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import (
    CORRECTABLE_FIELDS,
    Actor,
    DocumentRequest,
    DocumentType,
    FailureReason,
    Reason,
    Relation,
    Status,
    allowed_moves,
    illegal_move_message,
)
from portal.sadoku.officer_forms import (
    AssignForm,
    AssistedForm,
    BulkAssignForm,
    CorrectionForm,
    DeliveredForm,
    DeliveryDayForm,
    FailedForm,
    NoteForm,
    QueueFilterForm,
    RejectForm,
    TransitionForm,
)
from portal.sadoku.permissions import get_officer_request_or_404, is_sadoku_officer
from portal.wilayah.services import all_kecamatan

bp = Blueprint("sadoku_officer", __name__, url_prefix="/sadoku/officer")

PAGE_SIZE = 25
OFFICERS = (Role.SADOKU_OFFICER, Role.ADMIN)
STAFF = (Role.SADOKU_OFFICER, Role.ADMIN, Role.SADOKU_COURIER)
# What a courier who is not also an officer may do to a request assigned to them.
COURIER_MOVES = (Status.DELIVERED, Status.DELIVERY_FAILED)

# The button (and page heading) for each move an officer can make.
ACTION_LABELS = {
    Status.VERIFIED: _l("Verify"),
    Status.NEEDS_CORRECTION: _l("Ask for a correction"),
    Status.REJECTED: _l("Reject"),
    Status.IN_PROCESS: _l("Start printing"),
    Status.READY_FOR_DELIVERY: _l("Mark as ready for delivery"),
    Status.OUT_FOR_DELIVERY: _l("Assign a courier"),
    Status.DELIVERED: _l("Delivered"),
    Status.DELIVERY_FAILED: _l("Delivery failed"),
    Status.COLLECT_AT_OFFICE: _l("Keep for collection at the office"),
    Status.COLLECTED: _l("Mark as collected"),
}


def action_label(frm: Status, to: Status) -> str:
    if frm == Status.DELIVERY_FAILED and to == Status.OUT_FOR_DELIVERY:
        return _("Reschedule the delivery")
    return str(ACTION_LABELS.get(to, to.label))


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"sadoku_action_label": action_label, "sadoku_is_overdue": services.is_overdue}


bp.add_app_template_filter(format_km, "sadoku_km")


@bp.app_template_filter("sadoku_count")
def _format_count(n: int) -> str:
    """A tab's count: counted up to a cap (services.status_counts), so above it "1.000+"."""
    return count_label(n, services.COUNT_CAP)


@bp.app_template_filter("sadoku_phone")
def _format_phone(e164: str | None) -> str:
    return local_phone(e164)


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _acts_as_officer() -> bool:
    return is_sadoku_officer(current_user)


# --- the queue ----------------------------------------------------------------------------------


@bp.route("/requests")
@role_required(*OFFICERS)
def request_index():
    """The queue, oldest first. The filter is in the URL (no personal data), so it can be shared."""
    form = QueueFilterForm(formdata=request.args)
    form.load_choices(services.all_document_types(), all_kecamatan())
    page = _page()
    rows, total = services.queue_page(form.to_filter(), page, PAGE_SIZE)
    assign_form = BulkAssignForm()
    assign_form.load_couriers(services.couriers())
    # Pagination links keep the filter; empty fields are left out of them.
    filter_args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_page(
        "sadoku/officer/request_index.html",
        partial="sadoku/officer/_queue_results.html",
        target="queue-results",
        filter_form=form,
        assign_form=assign_form,
        rows=rows,
        total=total,
        total_capped=total > list_cap(page, PAGE_SIZE, services.COUNT_CAP),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filter_args=filter_args,
        counts=services.status_counts(),
        overdue_total=services.overdue_count(),
        today=today_wib(),
    )


@bp.route("/requests/assign", methods=["POST"])
@role_required(*OFFICERS)
def request_bulk_assign():
    """Give the selected ready requests to one courier for one day: all of them, or none."""
    form = BulkAssignForm()
    form.load_couriers(services.couriers())
    back = _queue_back_url()
    if form.validate_on_submit():
        ids = form.ids()
        reqs = [r for i in ids if (r := db.session.get(DocumentRequest, i)) is not None]
        courier, day = form.chosen_courier(), form.delivery_date.data
        if len(reqs) != len(ids):
            flash(_("Some of the selected requests no longer exist. Reload the queue."), "error")
            return hx_redirect(back)
        outcome = perform(lambda: services.bulk_assign(reqs, current_user, courier, day))
        if outcome.ok:
            flash(
                ngettext(
                    "%(num)d request assigned to %(name)s for %(date)s.",
                    "%(num)d requests assigned to %(name)s for %(date)s.",
                    outcome.value or 0,
                    name=courier.full_name if courier else "",
                    date=format_day(day, LONG_DAY),
                ),
                "success",
            )
        return hx_redirect(back)
    for message in _all_errors(form):
        flash(message, "error")
    return hx_redirect(back)


def _queue_back_url() -> str:
    """The queue as the officer had it filtered (sent along by the form), else the ready ones."""
    queue = url_for(".request_index")
    back = request.form.get("back", "")
    if is_safe_next(back) and (back == queue or back.startswith(queue + "?")):
        return back
    return url_for(".request_index", status=Status.READY_FOR_DELIVERY.value)


def _all_errors(form: BaseForm) -> list[str]:
    return [m for errors in form.errors.values() for m in errors] + list(form.form_errors)


# --- one request --------------------------------------------------------------------------------


@bp.route("/requests/<code>")
@role_required(*STAFF)
def request_show(code: str):
    req = get_officer_request_or_404(code, current_user)
    return _show_page(req, NoteForm())


def _show_page(req: DocumentRequest, note_form: NoteForm, status: int = 200):
    """The detail page. An officer sees the full NIK and KK, and each showing is audited.

    Only within STEPUP_MAX_AGE_SECONDS of a login or code: an unattended, still logged-in
    counter PC shows masked numbers and asks for a fresh code first.
    """
    officer = _acts_as_officer()
    full_nik = officer and sessions.auth_is_recent()
    if full_nik:
        services.record_nik_view(req, current_user)
        db.session.commit()
        moves = allowed_moves(req.status, Actor.OFFICER)
    else:
        moves = [m for m in allowed_moves(req.status, Actor.OFFICER) if m in COURIER_MOVES]
    return render_page(
        "sadoku/officer/request_show.html",
        req=req,
        officer=officer,
        full_nik=full_nik,
        moves=moves,
        note_form=note_form,
        form=note_form,
        correction_labels=_correction_labels(req),
        status=status,
    )


def _correction_labels(req: DocumentRequest) -> dict[str, str]:
    names = req.document_type.attachment_names if req.document_type else []
    labels = {key: str(label) for key, label in CORRECTABLE_FIELDS.items()}
    labels.update({f"attachment:{n}": _("Attachment: %(name)s", name=n) for n in names})
    return labels


@bp.route("/requests/<code>/notes", methods=["POST"])
@role_required(*STAFF)
def note_create(code: str):
    req = get_officer_request_or_404(code, current_user)
    form = NoteForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.add_internal_note(req, current_user, form.text.data), form).ok
    ):
        flash(_("Note added."), "success")
        return hx_redirect(url_for(".request_show", code=req.code) + "#notes")
    return _show_page(req, form, status=422)


@bp.route("/requests/<code>/status/<to>", methods=["GET", "POST"])
@role_required(*STAFF)
def request_transition(code: str, to: str):
    """One form per target status; a move the transition table does not allow is refused."""
    try:
        target = Status(to)
    except ValueError:
        abort(404)
    req = get_officer_request_or_404(code, current_user)
    officer = _acts_as_officer()
    if not officer and target not in COURIER_MOVES:
        abort(403)
    if target not in allowed_moves(req.status, Actor.OFFICER):
        return render_page(
            "sadoku/officer/transition_refused.html",
            req=req,
            to_status=target,
            message=illegal_move_message(req.status, target),
            status=409,
        )
    form, apply = _transition_form(req, target)
    if form.validate_on_submit() and perform(apply, form).ok:
        flash(
            _(
                "%(code)s is now \u201c%(status)s\u201d.",
                code=req.code,
                status=req.status.label,
            ),
            "success",
        )
        if officer:
            return hx_redirect(url_for(".request_show", code=req.code))
        return hx_redirect(
            url_for(".delivery_index", date=req.delivery_date.isoformat())
            if req.delivery_date
            else url_for(".delivery_index")
        )
    return render_form(
        "sadoku/officer/request_transition.html",
        form,
        req=req,
        to_status=target,
        heading=action_label(req.status, target),
        today_iso=today_wib().isoformat(),
    )


def _transition_form(req: DocumentRequest, target: Status) -> tuple[BaseForm, Callable[[], Any]]:
    """The form for moving `req` to `target` and the service call that makes the move."""
    officer = current_user._get_current_object()
    if target == Status.NEEDS_CORRECTION:
        form = CorrectionForm()
        form.load_templates(services.response_templates(target))
        form.load_items(req.document_type.attachment_names if req.document_type else [])
        return form, lambda: services.request_correction(
            req, officer, form.items.data or [], form.chosen_note(), form.internal_note.data or ""
        )
    if target == Status.REJECTED:
        form = RejectForm()
        form.load_templates(services.response_templates(target))
        return form, lambda: services.reject_request(
            req, officer, form.chosen_note(), form.internal_note.data or ""
        )
    if target == Status.OUT_FOR_DELIVERY:
        form = AssignForm()
        form.load_couriers(services.couriers())
        form.load_templates(services.response_templates(target))
        if request.method == "GET" and req.courier_id is not None:
            form.courier.data = str(req.courier_id)
        return form, lambda: services.assign_courier(
            req,
            officer,
            form.chosen_courier(),
            form.delivery_date.data,
            form.chosen_note(),
            form.internal_note.data or "",
        )
    if target == Status.DELIVERED:
        form = DeliveredForm()

        def deliver() -> Any:
            photo = check_upload(
                form.photo.data,
                field="photo",
                allowed=ALLOWED_PHOTO_KINDS,
                max_bytes=current_app.config["SADOKU_MAX_UPLOAD_BYTES"],
            )
            lat, lon = form.position()
            return services.mark_delivered(
                req,
                officer,
                received_by=form.received_by.data,
                relation=Relation(form.relation.data),
                photo=photo,
                lat=lat,
                lon=lon,
                internal_note=form.internal_note.data or "",
            )

        return form, deliver
    if target == Status.DELIVERY_FAILED:
        form = FailedForm()
        return form, lambda: services.mark_delivery_failed(
            req,
            officer,
            FailureReason(form.failure_reason.data),
            internal_note=form.internal_note.data or "",
        )
    form = TransitionForm()
    form.load_templates(services.response_templates(target))
    service = {
        Status.VERIFIED: services.verify_request,
        Status.IN_PROCESS: services.start_printing,
        Status.READY_FOR_DELIVERY: services.mark_ready,
        Status.COLLECT_AT_OFFICE: services.hold_at_office,
        Status.COLLECTED: services.mark_collected,
    }[target]
    return form, lambda: service(req, officer, form.chosen_note(), form.internal_note.data or "")


# --- the courier's day --------------------------------------------------------------------------


@bp.route("/deliveries")
@role_required(*STAFF)
def delivery_index():
    """A courier's deliveries for a day, in nearest-neighbour order from the Disdukcapil office."""
    form = DeliveryDayForm(formdata=request.args)
    # A missing or mistyped date (an edited URL) shows today rather than an error.
    day = form.date.data or today_wib()
    form.date.data = day
    officer = _acts_as_officer()
    couriers = services.couriers() if officer else []
    form.courier.choices = [("", _("Choose a courier"))] + [
        (str(c.id), c.full_name) for c in couriers
    ]
    if officer:
        chosen = {str(c.id): c for c in couriers}.get(form.courier.data or "")
        if chosen is None and current_user.has_role(Role.SADOKU_COURIER):
            chosen = current_user
    else:
        chosen = current_user
    if chosen is not None:
        form.courier.data = str(chosen.id)
    route = services.courier_route(chosen, day) if chosen is not None else []
    courier_arg = {"courier": chosen.id} if officer and chosen is not None else {}
    return render_page(
        "sadoku/officer/delivery_index.html",
        form=form,
        officer=officer,
        courier=chosen,
        day=day,
        day_label=format_day(day, LONG_DAY),
        route=route,
        total_km=sum(leg for _req, _point, leg in route),
        previous_url=url_for(
            ".delivery_index", date=(day - dt.timedelta(days=1)).isoformat(), **courier_arg
        ),
        next_url=url_for(
            ".delivery_index", date=(day + dt.timedelta(days=1)).isoformat(), **courier_arg
        ),
    )


# --- assisted mode ------------------------------------------------------------------------------


@bp.route("/assisted", methods=["GET", "POST"])
@role_required(*OFFICERS)
def assisted_new():
    """File a request at a desa or kecamatan counter for a resident, with their consent."""
    form = AssistedForm()
    form.load_choices(services.active_document_types())
    if form.validate_on_submit():
        doc: DocumentType = form.document_types[form.document_type.data]
        outcome = perform(
            lambda: services.start_assisted_request(
                current_user,
                form.phone.data,
                form.full_name.data or None,
                doc,
                Reason(form.reason.data),
                bool(form.consent.data),
            ),
            form,
        )
        if outcome.ok and outcome.value is not None:
            req, created = outcome.value
            if created:
                flash(
                    _(
                        "A new account was made for the resident with this phone number. They "
                        "can choose their own password with \u201cForgot password\u201d once they "
                        "add an email address, or at a service counter."
                    ),
                    "info",
                )
            flash(_("Draft started. Continue with the resident's data."), "success")
            return hx_redirect(url_for("sadoku.draft_edit", draft_id=req.id, step="subject"))
    return render_form("sadoku/officer/assisted_new.html", form)
