"""Home, privacy notice, language switch, health check and the notification list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, make_response, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, text

from portal.accounts.forms import ConfirmForm
from portal.core.htmx import hx_redirect, render_page
from portal.core.notifications import Notification, mark_read
from portal.core.security import is_safe_next
from portal.extensions import db

bp = Blueprint("main", __name__)
LANGUAGE_COOKIE = "lang"


@bp.route("/")
def home():
    return render_page("main/home.html")


@bp.route("/privacy")
def privacy():
    return render_page("main/privacy.html", version=current_app.config["PRIVACY_NOTICE_VERSION"])


@bp.route("/language", methods=["POST"])
def language_set():
    """Remember the chosen language in its own cookie (it survives log in and log out)."""
    lang = request.form.get("lang", "")
    target = request.form.get("next") or url_for("main.home")
    if not is_safe_next(target):
        target = url_for("main.home")
    response = hx_redirect(target, full=True)
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.route("/healthz")
def healthz():
    """200 when the app and its database answer; 503 otherwise (for the load balancer)."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:  # any driver error means "not healthy", whatever its class
        db.session.rollback()
        return make_response(jsonify(status="error", database="unreachable"), 503)
    return jsonify(status="ok", database="ok")


@bp.route("/notifications")
@login_required
def notification_index():
    notes = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc())
        .limit(50)
    ).all()
    return render_page("notifications/notification_index.html", notes=notes, form=ConfirmForm())


@bp.route("/notifications/<int:note_id>/read", methods=["POST"])
@login_required
def notification_read(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        mark_read(current_user.id, note.id)
        db.session.commit()
    target = note.url if note.url and is_safe_next(note.url) else url_for("main.notification_index")
    return hx_redirect(target)


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def notification_read_all():
    if ConfirmForm().validate_on_submit():
        mark_read(current_user.id)
        db.session.commit()
    return hx_redirect(url_for("main.notification_index"))
