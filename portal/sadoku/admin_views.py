"""SADOKU administration: document catalogue, holidays and response templates.

Admins keep Deli Serdang's own checklists and service standards here (DOMAIN.md section 3), the
office's closing days (which move open requests' due dates), and the ready-made public notes
officers pick when they change a request's status.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.forms import ConfirmForm
from portal.accounts.models import Role
from portal.accounts.permissions import role_required
from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, render_page
from portal.core.time import today_wib
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import DocumentType, Holiday, ResponseTemplate, Status
from portal.sadoku.officer_forms import (
    QUEUE_STATUSES,
    DocumentTypeForm,
    HolidayForm,
    ResponseTemplateForm,
)

bp = Blueprint("sadoku_admin", __name__, url_prefix="/admin/sadoku")


def _get_or_404(model: type, ident: int):  # type: ignore[no-untyped-def]
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


# --- document types -----------------------------------------------------------------------------


@bp.route("/document-types")
@role_required(Role.ADMIN)
def document_type_index():
    return render_page(
        "sadoku/admin/document_type_index.html", doc_types=services.all_document_types()
    )


@bp.route("/document-types/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def document_type_new():
    form = DocumentTypeForm()
    if request.method == "GET":
        form.is_active.data = True
        form.service_days.data = 5
    return _save_document_type(form, None)


@bp.route("/document-types/<int:doc_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def document_type_edit(doc_id: int):
    doc = _get_or_404(DocumentType, doc_id)
    form = DocumentTypeForm()
    if request.method == "GET":
        form.fill(doc)
    return _save_document_type(form, doc)


def _save_document_type(form: DocumentTypeForm, doc: DocumentType | None):  # type: ignore[no-untyped-def]
    if form.validate_on_submit():
        saved = perform(lambda: services.save_document_type(doc, **form.data_for_service()), form)
        if saved.ok:
            flash(_("Document type \u201c%(name)s\u201d saved.", name=form.name.data), "success")
            return hx_redirect(url_for(".document_type_index"))
    return render_form("sadoku/admin/document_type_edit.html", form, doc=doc)


# --- holidays -----------------------------------------------------------------------------------


@bp.route("/holidays", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def holiday_index():
    """The office's closing days; adding one moves the due dates of open requests."""
    form = HolidayForm()
    if form.validate_on_submit():
        added = perform(
            lambda: services.add_holiday(form.day.data, form.name.data, current_user), form
        )
        if added.ok:
            flash(_("Holiday added. Due dates of open requests were updated."), "success")
            return hx_redirect(url_for(".holiday_index"))
    return render_form(
        "sadoku/admin/holiday_index.html",
        form,
        holidays=services.listed_holidays(),
        today=today_wib(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/holidays/<int:holiday_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def holiday_delete(holiday_id: int):
    holiday = _get_or_404(Holiday, holiday_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if perform(lambda: services.remove_holiday(holiday, current_user)).ok:
        flash(_("Holiday removed. Due dates of open requests were updated."), "success")
    return hx_redirect(url_for(".holiday_index"))


# --- response templates -------------------------------------------------------------------------


@bp.route("/templates", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def template_index():
    form = ResponseTemplateForm()
    if form.validate_on_submit():
        saved = perform(
            lambda: services.save_response_template(None, Status(form.status.data), form.text.data),
            form,
        )
        if saved.ok:
            flash(_("Response template added."), "success")
            return hx_redirect(url_for(".template_index"))
    templates = services.all_response_templates()
    groups = [(s, [t for t in templates if t.status == s]) for s in QUEUE_STATUSES]
    return render_form(
        "sadoku/admin/template_index.html",
        form,
        groups=[(s, items) for s, items in groups if items],
        confirm_form=ConfirmForm(),
    )


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def template_edit(template_id: int):
    template = _get_or_404(ResponseTemplate, template_id)
    form = ResponseTemplateForm()
    if request.method == "GET":
        form.status.data, form.text.data = template.status.value, template.text
    if form.validate_on_submit():
        saved = perform(
            lambda: services.save_response_template(
                template, Status(form.status.data), form.text.data
            ),
            form,
        )
        if saved.ok:
            flash(_("Response template saved."), "success")
            return hx_redirect(url_for(".template_index"))
    return render_form("sadoku/admin/template_edit.html", form, response_template=template)


@bp.route("/templates/<int:template_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def template_delete(template_id: int):
    template = _get_or_404(ResponseTemplate, template_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if perform(lambda: services.delete_response_template(template)).ok:
        flash(_("Response template deleted."), "success")
    return hx_redirect(url_for(".template_index"))
