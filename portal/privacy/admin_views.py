"""Admins' queue of residents' correction requests (UU 27/2022 right to correction)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role
from portal.accounts.permissions import role_required
from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, render_page
from portal.extensions import db
from portal.privacy import services
from portal.privacy.forms import CorrectionDecisionForm
from portal.privacy.models import CorrectionRequest, CorrectionStatus

bp = Blueprint("privacy_admin", __name__, url_prefix="/admin/privacy")


@bp.route("/corrections")
@role_required(Role.ADMIN)
def correction_index():
    """One tab per status; open requests first come, first served."""
    try:
        status = CorrectionStatus(request.args.get("status", CorrectionStatus.OPEN.value))
    except ValueError:
        abort(404)
    return render_page(
        "privacy/admin/correction_index.html",
        current=status,
        corrections=services.correction_queue(status),
        counts=services.correction_counts(),
        statuses=list(CorrectionStatus),
    )


@bp.route("/corrections/<int:correction_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def correction_show(correction_id: int):
    correction = db.session.get(CorrectionRequest, correction_id)
    if correction is None:
        abort(404)
    form = CorrectionDecisionForm()
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.decide_correction(
                correction, current_user, CorrectionStatus(form.outcome.data), form.note.data or ""
            ),
            form,
        )
        if outcome.ok:
            flash(_("The answer has been recorded and the resident has been told."), "success")
            return hx_redirect(url_for("privacy_admin.correction_index"))
    return render_form("privacy/admin/correction_show.html", form, correction=correction)
