"""Privacy pages: per-service notices and "Data saya" (export, correction, deletion, consent)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from portal.accounts.forms import ConfirmForm
from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, render_page
from portal.extensions import db
from portal.privacy import services
from portal.privacy.forms import CorrectionForm, DeleteAccountForm, ExportForm
from portal.privacy.models import CorrectionArea, CorrectionRequest

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

NOTICE_TEMPLATES = {
    "sadoku": "privacy/notice_sadoku.html",
    "jumpa-madu": "privacy/notice_jumpa_madu.html",
    "mall": "privacy/notice_mall.html",
}


@bp.route('/<any(sadoku, "jumpa-madu", mall):service>')
def notice_show(service: str):
    """The privacy notice of one service; the retention periods come from the configuration."""
    cfg = current_app.config
    return render_page(
        NOTICE_TEMPLATES[service],
        service=service,
        version=cfg["PRIVACY_NOTICE_VERSION"],
        sadoku_days=cfg["SADOKU_RETENTION_DAYS"],
        jumpa_madu_days=cfg["JUMPA_MADU_RETENTION_DAYS"],
    )


# --- "Data saya" ----------------------------------------------------------------------------------


def _data_page(form: ExportForm) -> Response:
    return render_form(
        "privacy/data_show.html",
        form,
        corrections=services.user_corrections(current_user)[:5],
    )


@bp.route("/my-data")
@login_required
def data_show():
    return _data_page(ExportForm())


@bp.route("/my-data/export", methods=["POST"])
@login_required
def export_create():
    """Download everything as JSON or CSV. POST (with CSRF): the export is an audited action."""
    form = ExportForm()
    if form.validate_on_submit():
        outcome = perform(lambda: services.export_data(current_user, form.format.data), form)
        if outcome.ok and outcome.value is not None:
            export = outcome.value
            response = make_response(export.data)
            response.mimetype = export.mimetype
            response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
            response.headers["Cache-Control"] = "no-store"
            return response
    return _data_page(form)


# --- correction -----------------------------------------------------------------------------------


def get_correction_or_404(correction_id: int) -> CorrectionRequest:
    """The current user's own correction request; anyone else's is a 404 (not confirmed)."""
    correction = db.session.get(CorrectionRequest, correction_id)
    if correction is None or correction.user_id != current_user.id:
        abort(404)
    return correction


@bp.route("/corrections")
@login_required
def correction_index():
    return render_page(
        "privacy/correction_index.html", corrections=services.user_corrections(current_user)
    )


@bp.route("/corrections/new", methods=["GET", "POST"])
@login_required
def correction_new():
    form = CorrectionForm()
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.file_correction(
                current_user,
                area=CorrectionArea(form.area.data),
                reference=form.reference.data or "",
                what_is_wrong=form.what_is_wrong.data,
                correct_value=form.correct_value.data,
            ),
            form,
        )
        if outcome.ok and outcome.value is not None:
            flash(
                _("Your correction request has been sent. You will be told the answer."),
                "success",
            )
            return hx_redirect(url_for("privacy.correction_show", correction_id=outcome.value.id))
    return render_form("privacy/correction_new.html", form)


@bp.route("/corrections/<int:correction_id>")
@login_required
def correction_show(correction_id: int):
    return render_page(
        "privacy/correction_show.html", correction=get_correction_or_404(correction_id)
    )


# --- deletion -------------------------------------------------------------------------------------


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def account_delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        outcome = perform(lambda: services.delete_account(current_user, form.password.data), form)
        if outcome.ok and outcome.value is not None:
            # After the commit: a rolled-back erasure must not have lost its files already.
            services.delete_files(outcome.value.storage_keys)
            logout_user()
            session.clear()
            flash(_("Your account has been deleted. Thank you for using the portal."), "info")
            return hx_redirect(url_for("main.home"), full=True)
    form.password.data = ""  # never sent back into the page
    return render_form(
        "privacy/account_delete.html", form, blockers=services.deletion_blockers(current_user)
    )


# --- consents -------------------------------------------------------------------------------------


@bp.route("/consents")
@login_required
def consent_index():
    return render_page(
        "privacy/consent_index.html",
        form=ConfirmForm(),
        email_change=services.last_consent_change(current_user, services.CONSENT_EMAIL),
        pin_change=services.last_consent_change(current_user, services.CONSENT_MAP_PIN),
    )


@bp.route("/consents/email", methods=["POST"])
@login_required
def consent_email():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    allow = request.form.get("allow") == "1"
    if perform(lambda: services.set_email_consent(current_user, allow)).ok:
        if allow:
            flash(_("Messages about your requests are sent to your email again."), "success")
        else:
            flash(
                _(
                    "No more emails about your requests. You still see every message under "
                    "the bell."
                ),
                "success",
            )
    return hx_redirect(url_for("privacy.consent_index"))


@bp.route("/consents/map-pin", methods=["POST"])
@login_required
def map_pin_delete():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    outcome = perform(lambda: services.remove_map_pins(current_user))
    if outcome.ok:
        count = outcome.value or 0
        flash(
            ngettext(
                "The map pin was removed from %(num)d record. Couriers and collectors now use "
                "your address only.",
                "The map pin was removed from %(num)d records. Couriers and collectors now use "
                "your address only.",
                count,
            ),
            "success",
        )
    return hx_redirect(url_for("privacy.consent_index"))
