"""Jumpa Madu for unit officers: the pickup queue, a pickup's detail and moves, the day's round,
withdrawals to pay, the daily cash report, and pickups filed at the counter for a resident.

A waste officer works for the unit their grant is scoped to; an admin has no unit and picks one
with the `unit` query parameter (a unit id, not personal data). Records of another unit are a 404
(`permissions.get_unit_..._or_404`). Every move goes through one service, which asks the model's
transition table; a refusal comes back as 422 with the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.accounts.permissions import fresh_auth_required, role_required
from portal.core.actions import perform
from portal.core.counts import list_cap
from portal.core.errors import DomainError
from portal.core.forms import BaseForm, render_form
from portal.core.geo import Point, format_km
from portal.core.htmx import hx_redirect, hx_target, render_page
from portal.core.security import is_safe_next
from portal.core.time import LONG_DAY, format_day, today_wib
from portal.core.uploads import (
    ALLOWED_PHOTO_KINDS,
    CONTENT_TYPES,
    EXTENSIONS,
    check_upload,
    get_storage,
    send_upload,
    sniff_kind,
)
from portal.extensions import db
from portal.jumpa_madu import services
from portal.jumpa_madu.models import (
    WITHDRAWAL_TRANSITIONS,
    Actor,
    Pickup,
    PickupStatus,
    WasteUnit,
    Withdrawal,
    WithdrawalStatus,
    allowed_pickup_moves,
)
from portal.jumpa_madu.officer_forms import (
    ActionForm,
    AssistedFindForm,
    AssistedPickupForm,
    CancelForm,
    OutcomeForm,
    PayWithdrawalForm,
    RejectWithdrawalForm,
    ResolveForm,
    ScheduleForm,
    WeighForm,
    with_weights,
)
from portal.jumpa_madu.permissions import get_unit_pickup_or_404, get_unit_withdrawal_or_404

bp = Blueprint("jumpa_madu_officer", __name__, url_prefix="/jumpa-madu/unit")

OFFICERS = (Role.WASTE_OFFICER, Role.ADMIN)
PAGE_SIZE = 25
QUOTE_TARGET = "weigh-quote"

TAB_LABELS = {
    "new": _l("New"),
    "scheduled": _l("Scheduled"),
    "on_the_way": _l("On the way"),
    "weighed": _l("Weighed"),
    "disputed": _l("Disputed"),
    "closed": _l("Closed"),
}

# Which moves (in the model's transition table) each action page makes.
ACTION_MOVES: dict[str, frozenset[PickupStatus]] = {
    "pickup_schedule": frozenset({PickupStatus.SCHEDULED}),
    "pickup_start": frozenset({PickupStatus.ON_THE_WAY}),
    "pickup_weigh": frozenset({PickupStatus.WEIGHED}),
    "pickup_outcome": frozenset({PickupStatus.NOBODY_HOME, PickupStatus.REJECTED}),
    "pickup_resolve": frozenset({PickupStatus.CONFIRMED}),
    "pickup_cancel": frozenset({PickupStatus.CANCELLED}),
}
WITHDRAWAL_MOVES: dict[str, WithdrawalStatus] = {
    "withdrawal_approve": WithdrawalStatus.APPROVED,
    "withdrawal_reject": WithdrawalStatus.REJECTED,
    "withdrawal_pay": WithdrawalStatus.PAID,
}
OPEN_WITHDRAWALS = (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED)


class NoUnit(Exception):
    """An admin opened a unit page while no active unit exists yet."""


@bp.errorhandler(NoUnit)
def _no_unit(_exc: NoUnit):  # type: ignore[no-untyped-def]
    return render_page("jumpa_madu/officer/no_unit.html", status=404)


def maps_url(point: Point) -> str:
    return f"https://www.google.com/maps/search/?api=1&query={point.lat:.6f},{point.lon:.6f}"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "jm_km": format_km,
        "jm_maps_url": maps_url,
        "jm_tab_labels": TAB_LABELS,
    }


# --- which unit -------------------------------------------------------------------------------


def _unit() -> tuple[WasteUnit, dict[str, int]]:
    """The unit whose work is shown, and the URL arguments that keep it across links.

    An officer always sees their own unit. An admin sees the unit named by `unit` (any unit,
    by id), else their own if they also hold an officer grant, else the first active unit.
    """
    own = services.officer_unit(current_user)
    if not current_user.is_admin:
        if own is None:
            abort(403)
        return own, {}
    wanted = request.args.get("unit", type=int)
    if wanted is not None:
        unit = db.session.get(WasteUnit, wanted)
        if unit is None:
            abort(404)
    else:
        unit = own or next(iter(services.all_units(active_only=True)), None)
        if unit is None:
            raise NoUnit
    return unit, {"unit": unit.id}


def _unit_args(unit_id: int) -> dict[str, int]:
    """URL arguments that bring an admin back to the same unit's pages."""
    return {"unit": unit_id} if current_user.is_admin else {}


def _unit_context(unit: WasteUnit, unit_args: dict[str, int]) -> dict[str, Any]:
    return {
        "unit": unit,
        "unit_args": unit_args,
        "units": services.all_units() if current_user.is_admin else [],
    }


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _day() -> dt.date:
    """The `date` argument; a missing or mistyped one (an edited URL) means today (WIB)."""
    try:
        return dt.date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return today_wib()


# --- the queue --------------------------------------------------------------------------------


@bp.route("/pickups")
@role_required(*OFFICERS)
def pickup_index():
    """The unit's pickups by tab (new, scheduled...), 25 a page; tabs swap only the results."""
    unit, unit_args = _unit()
    tab = request.args.get("tab", "new")
    if tab not in services.QUEUE_TABS:
        tab = "new"
    page = _page()
    rows, total = services.queue_page(unit, tab, page, PAGE_SIZE)
    return render_page(
        "jumpa_madu/officer/pickup_index.html",
        partial="jumpa_madu/officer/_queue_results.html",
        target="queue-results",
        tab=tab,
        counts=services.queue_counts(unit),
        rows=rows,
        total=total,
        total_capped=total > list_cap(page, PAGE_SIZE, services.COUNT_CAP),
        count_cap=services.COUNT_CAP,
        history_tab=services.HISTORY_TAB,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        **_unit_context(unit, unit_args),
    )


# --- one pickup -------------------------------------------------------------------------------


def _allowed(pickup: Pickup, endpoint: str) -> bool:
    return bool(ACTION_MOVES[endpoint] & set(allowed_pickup_moves(pickup.status, Actor.OFFICER)))


def _actions(pickup: Pickup) -> list[dict[str, Any]]:
    """The buttons for the moves an officer may make now, in the order they usually come."""
    status = pickup.status
    labels: dict[str, str] = {
        "pickup_start": _("Set off to collect"),
        "pickup_weigh": _("Re-weigh") if status == PickupStatus.DISPUTED else _("Weigh"),
        "pickup_schedule": _("Reschedule")
        if status in (PickupStatus.SCHEDULED, PickupStatus.NOBODY_HOME)
        else _("Schedule"),
        "pickup_resolve": _("Resolve the dispute"),
        "pickup_outcome": _("Nobody home or not sorted"),
        "pickup_cancel": _("Cancel the pickup"),
    }
    return [
        {
            "endpoint": endpoint,
            "label": label,
            "post": endpoint == "pickup_start",
            "warning": endpoint in ("pickup_cancel", "pickup_outcome"),
        }
        for endpoint, label in labels.items()
        if _allowed(pickup, endpoint)
    ]


@bp.route("/pickups/<int:pickup_id>")
@role_required(*OFFICERS)
def pickup_show(pickup_id: int):
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    return _show_page(pickup, ActionForm())


def _show_page(pickup: Pickup, form: BaseForm, status: int = 200):
    """The detail: full phone and address (officers of the unit only), weighings, timeline."""
    return render_page(
        "jumpa_madu/officer/pickup_show.html",
        pickup=pickup,
        point=services.pickup_point(pickup),
        actions=_actions(pickup),
        form=form,
        unit_args=_unit_args(pickup.unit_id),
        status=status,
    )


def _refused(pickup: Pickup, endpoint: str):  # type: ignore[no-untyped-def]
    """On opening an action page the pickup no longer allows: say so (409), else None.

    A submitted form is not stopped here: the service refuses it, and the refusal comes back as
    a 422 on the form.
    """
    if request.method != "GET" or _allowed(pickup, endpoint):
        return None
    return render_page(
        "jumpa_madu/officer/refused.html",
        message=_(
            "Pickup %(code)s is now \u201c%(status)s\u201d: this step is not possible any more.",
            code=pickup.code,
            status=pickup.status.label,
        ),
        back_url=url_for(".pickup_show", pickup_id=pickup.id),
        back_label=_("Back to pickup %(code)s", code=pickup.code),
        status=409,
    )


def _done(pickup: Pickup, message: str):  # type: ignore[no-untyped-def]
    flash(message, "success")
    return hx_redirect(url_for(".pickup_show", pickup_id=pickup.id))


def _action_page(pickup: Pickup, form: BaseForm, heading: str, **context: Any):  # type: ignore[no-untyped-def]
    return render_form(
        "jumpa_madu/officer/pickup_action.html",
        form,
        pickup=pickup,
        heading=heading,
        endpoint=request.endpoint,
        **context,
    )


@bp.route("/pickups/<int:pickup_id>/schedule", methods=["GET", "POST"])
@role_required(*OFFICERS)
def pickup_schedule(pickup_id: int):
    """Accept and schedule (or reschedule): date, time window and the collector who goes."""
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    if (refused := _refused(pickup, "pickup_schedule")) is not None:
        return refused
    heading = _("Schedule") if pickup.status == PickupStatus.REQUESTED else _("Reschedule")
    form = ScheduleForm()
    form.load_choices(pickup.unit.time_windows, services.unit_officers(pickup.unit))
    if request.method == "GET":
        form.day.data = pickup.scheduled_date or pickup.preferred_date
        form.window.data = pickup.scheduled_window or pickup.preferred_window
        me = str(current_user.id) if str(current_user.id) in form.collectors else ""
        form.collector_id.data = str(pickup.collector_id) if pickup.collector_id else me
    if (
        form.validate_on_submit()
        and perform(
            lambda: services.schedule_pickup(
                pickup,
                current_user,
                day=form.day.data,
                window=form.window.data,
                collector=form.chosen_collector(),
            ),
            form,
        ).ok
    ):
        return _done(
            pickup,
            _(
                "%(code)s is scheduled for %(day)s, %(window)s.",
                code=pickup.code,
                day=format_day(pickup.scheduled_date, LONG_DAY),
                window=pickup.scheduled_window,
            ),
        )
    return _action_page(pickup, form, heading, today_iso=today_wib().isoformat())


@bp.route("/pickups/<int:pickup_id>/start", methods=["POST"])
@role_required(*OFFICERS)
def pickup_start(pickup_id: int):
    """The collector sets off; from the day list, go back to it."""
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    form = ActionForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.start_route(pickup, current_user), form).ok
    ):
        flash(_("%(code)s: on the way. The resident is told.", code=pickup.code), "success")
        back = request.form.get("back", "")
        route = url_for(".pickup_route")
        if is_safe_next(back) and (back == route or back.startswith(route + "?")):
            return hx_redirect(back)
        return hx_redirect(url_for(".pickup_show", pickup_id=pickup.id))
    return _show_page(pickup, form, status=422)


def _fingerprint(quote: services.Quote | None) -> str:
    """What a quote pays for what: the save must match what the officer was shown."""
    if quote is None:
        return ""
    lines = ",".join(f"{line.category.id}:{line.weight_g}" for line in quote.lines)
    return f"{lines}={quote.resident_amount}"


@bp.route("/pickups/<int:pickup_id>/weigh", methods=["GET", "POST"])
@role_required(*OFFICERS)
def pickup_weigh(pickup_id: int):
    """Record the weighing on a phone; the amounts are shown before anything is saved.

    "Check amounts" (action=preview) re-renders the page with the quote and a save button; with
    htmx, typing posts here with HX-Target `weigh-quote` and only the quote comes back, never a
    save. A save is refused unless the weights and amount match the last quote shown.
    """
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    if (refused := _refused(pickup, "pickup_weigh")) is not None:
        return refused
    unit = pickup.unit
    prices = services.unit_prices(unit)
    # The categories the resident said they have come first: fewer scrolls on a phone.
    estimated = {e.category_id for e in pickup.estimates}
    categories = [c for c in services.active_categories() if c.id in prices]
    categories.sort(key=lambda c: c.id not in estimated)
    form: Any = with_weights(WeighForm, categories)
    context: dict[str, Any] = {
        "pickup": pickup,
        "prices": prices,
        "quote": None,
        "heading": _("Re-weigh") if pickup.status == PickupStatus.DISPUTED else _("Weigh"),
    }
    if not form.is_submitted():
        return render_page("jumpa_madu/officer/pickup_weigh.html", form=form, **context)

    live = hx_target() == QUOTE_TARGET
    quote = _quote(pickup, form, live)
    context["quote"] = quote
    fingerprint = _fingerprint(quote)
    if live:
        return render_page(
            "jumpa_madu/officer/pickup_weigh.html",
            partial="jumpa_madu/officer/_weigh_quote.html",
            target=QUOTE_TARGET,
            form=form,
            fingerprint=fingerprint,
            **context,
        )
    saving = request.form.get("action") == "save"
    if saving and quote is not None and not form.has_errors:
        if form.quoted.data != fingerprint:
            form.form_errors.append(
                _("The weights changed since the amounts were checked. Check them, then save.")
            )
        elif perform(_record(pickup, form), form).ok:
            return _done(
                pickup,
                _(
                    "Weighing of %(code)s saved. The resident has %(hours)d hours to confirm it.",
                    code=pickup.code,
                    hours=current_app.config["JUMPA_MADU_CONFIRM_HOURS"],
                ),
            )
    form.quoted.data = fingerprint
    return render_page(
        "jumpa_madu/officer/pickup_weigh.html",
        form=form,
        fingerprint=fingerprint,
        photos_dropped=bool(form.chosen_files()) and not form.has_errors,
        status=422 if form.has_errors else 200,
        **context,
    )


def _quote(pickup: Pickup, form: Any, live: bool) -> services.Quote | None:
    """Validate the weights and price them; problems go on the form."""
    if not form.validate():
        return None
    if not _allowed(pickup, "pickup_weigh"):
        form.form_errors.append(
            _(
                "Pickup %(code)s is now \u201c%(status)s\u201d: it cannot be weighed.",
                code=pickup.code,
                status=pickup.status.label,
            )
        )
        return None
    weights = form.weights()
    if not weights:
        if not live:
            form.form_errors.append(_("Enter the weight of at least one category"))
        return None
    try:
        return services.quote(pickup.unit, weights)
    except DomainError as exc:
        form.add_domain_error(exc)
        return None


def _record(pickup: Pickup, form: Any) -> Callable[[], Any]:
    def record() -> Any:
        limit = current_app.config["JUMPA_MADU_MAX_UPLOAD_BYTES"]
        photos = [
            check_upload(f, field="photos", allowed=ALLOWED_PHOTO_KINDS, max_bytes=limit)
            for f in form.chosen_files()
        ]
        return services.record_weighing(
            pickup, current_user, form.weights(), photos=photos, note=form.note.data or ""
        )

    return record


@bp.route("/pickups/<int:pickup_id>/outcome", methods=["GET", "POST"])
@role_required(*OFFICERS)
def pickup_outcome(pickup_id: int):
    """Nobody home, or the waste was not sorted: always with a note for the resident."""
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    if (refused := _refused(pickup, "pickup_outcome")) is not None:
        return refused
    form = OutcomeForm()
    if (
        form.validate_on_submit()
        and perform(
            lambda: services.record_outcome(
                pickup, current_user, PickupStatus(form.outcome.data), form.note.data
            ),
            form,
        ).ok
    ):
        return _done(
            pickup,
            _(
                "%(code)s is now \u201c%(status)s\u201d.",
                code=pickup.code,
                status=pickup.status.label,
            ),
        )
    return _action_page(pickup, form, _("Nobody home or not sorted"))


@bp.route("/pickups/<int:pickup_id>/resolve", methods=["GET", "POST"])
@role_required(*OFFICERS)
def pickup_resolve(pickup_id: int):
    """Answer a dispute without re-weighing: the weighing stands and is paid into the wallet."""
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    if (refused := _refused(pickup, "pickup_resolve")) is not None:
        return refused
    form = ResolveForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.resolve_dispute(pickup, current_user, form.note.data), form).ok
    ):
        return _done(pickup, _("Dispute on %(code)s resolved.", code=pickup.code))
    return _action_page(pickup, form, _("Resolve the dispute"))


@bp.route("/pickups/<int:pickup_id>/cancel", methods=["GET", "POST"])
@role_required(*OFFICERS)
def pickup_cancel(pickup_id: int):
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    if (refused := _refused(pickup, "pickup_cancel")) is not None:
        return refused
    form = CancelForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.cancel_pickup(pickup, current_user, form.note.data), form).ok
    ):
        return _done(pickup, _("%(code)s is cancelled. The resident is told.", code=pickup.code))
    return _action_page(pickup, form, _("Cancel the pickup"))


# --- photos (officers of the unit only) ------------------------------------------------------


def _send_photo(key: str, content_type: str | None, name: str):  # type: ignore[no-untyped-def]
    try:
        data = get_storage().read(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    kind = sniff_kind(data)
    if kind is None:
        abort(404)
    return send_upload(
        data,
        content_type=content_type or CONTENT_TYPES[kind],
        filename=name + EXTENSIONS[kind],
        inline=True,
    )


@bp.route("/pickups/<int:pickup_id>/photo")
@role_required(*OFFICERS)
def pickup_photo(pickup_id: int):
    """The photo the resident attached to the request."""
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    if not pickup.photo_key:
        abort(404)
    return _send_photo(pickup.photo_key, pickup.photo_type, pickup.code)


@bp.route("/pickups/<int:pickup_id>/weighings/<int:number>/photos/<int:index>")
@role_required(*OFFICERS)
def weighing_photo(pickup_id: int, number: int, index: int):
    """A photo taken at a weighing (the scale, the bags)."""
    pickup = get_unit_pickup_or_404(pickup_id, current_user)
    weighing = next((w for w in pickup.weighings if w.number == number), None)
    if weighing is None or not 0 <= index < len(weighing.photo_keys or []):
        abort(404)
    return _send_photo(weighing.photo_keys[index], None, f"{pickup.code}-{number}-{index + 1}")


# --- the day's round --------------------------------------------------------------------------


@bp.route("/route")
@role_required(*OFFICERS)
def pickup_route():
    """One day's scheduled pickups in nearest-neighbour order from the unit, with km per leg."""
    unit, unit_args = _unit()
    day = _day()
    route = services.day_route(unit, day)
    return render_page(
        "jumpa_madu/officer/pickup_route.html",
        day=day,
        day_label=format_day(day, LONG_DAY),
        route=route,
        total_km=sum(leg for _pickup, _point, leg in route),
        previous_url=url_for(
            ".pickup_route", date=(day - dt.timedelta(days=1)).isoformat(), **unit_args
        ),
        next_url=url_for(
            ".pickup_route", date=(day + dt.timedelta(days=1)).isoformat(), **unit_args
        ),
        **_unit_context(unit, unit_args),
    )


# --- withdrawals ------------------------------------------------------------------------------


@bp.route("/withdrawals")
@role_required(*OFFICERS)
def withdrawal_index():
    """Withdrawals to decide and pay (oldest first), with the full destination, and the latest
    paid or rejected ones."""
    unit, unit_args = _unit()
    return _withdrawal_page(unit, unit_args, ActionForm())


def _withdrawal_page(unit: WasteUnit, unit_args: dict[str, int], form: BaseForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_page(
        "jumpa_madu/officer/withdrawal_index.html",
        open_withdrawals=services.unit_withdrawals(unit, OPEN_WITHDRAWALS),
        recent=services.recent_unit_withdrawals(unit),
        form=form,
        status=status,
        **_unit_context(unit, unit_args),
    )


def _withdrawals_url(withdrawal: Withdrawal) -> str:
    return url_for(".withdrawal_index", **_unit_args(withdrawal.unit_id))


@bp.route("/withdrawals/<int:withdrawal_id>/approve", methods=["POST"])
@role_required(*OFFICERS)
@fresh_auth_required
def withdrawal_approve(withdrawal_id: int):
    withdrawal = get_unit_withdrawal_or_404(withdrawal_id, current_user)
    form = ActionForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.approve_withdrawal(withdrawal, current_user), form).ok
    ):
        flash(_("%(code)s approved. Pay it, then mark it paid.", code=withdrawal.code), "success")
        return hx_redirect(_withdrawals_url(withdrawal))
    return _withdrawal_page(withdrawal.unit, _unit_args(withdrawal.unit_id), form, status=422)


def _withdrawal_refused(withdrawal: Withdrawal, endpoint: str):  # type: ignore[no-untyped-def]
    """On opening a decision page for a withdrawal already decided: say so (409), else None."""
    target = WITHDRAWAL_MOVES[endpoint]
    if request.method != "GET" or (withdrawal.status, target) in WITHDRAWAL_TRANSITIONS:
        return None
    return render_page(
        "jumpa_madu/officer/refused.html",
        message=_(
            "Withdrawal %(code)s is now \u201c%(status)s\u201d: this step is not possible "
            "any more.",
            code=withdrawal.code,
            status=withdrawal.status.label,
        ),
        back_url=_withdrawals_url(withdrawal),
        back_label=_("Back to the withdrawals"),
        status=409,
    )


def _withdrawal_action(withdrawal: Withdrawal, form: BaseForm, heading: str):  # type: ignore[no-untyped-def]
    return render_form(
        "jumpa_madu/officer/withdrawal_action.html",
        form,
        withdrawal=withdrawal,
        heading=heading,
        endpoint=request.endpoint,
        back_url=_withdrawals_url(withdrawal),
    )


@bp.route("/withdrawals/<int:withdrawal_id>/reject", methods=["GET", "POST"])
@role_required(*OFFICERS)
def withdrawal_reject(withdrawal_id: int):
    """Refuse a withdrawal with a reason; the held money goes back to the wallet."""
    withdrawal = get_unit_withdrawal_or_404(withdrawal_id, current_user)
    if (refused := _withdrawal_refused(withdrawal, "withdrawal_reject")) is not None:
        return refused
    form = RejectWithdrawalForm()
    if (
        form.validate_on_submit()
        and perform(
            lambda: services.reject_withdrawal(withdrawal, current_user, form.reason.data), form
        ).ok
    ):
        flash(
            _(
                "%(code)s rejected. The money is back in the resident's wallet.",
                code=withdrawal.code,
            ),
            "success",
        )
        return hx_redirect(_withdrawals_url(withdrawal))
    return _withdrawal_action(withdrawal, form, _("Reject the withdrawal"))


@bp.route("/withdrawals/<int:withdrawal_id>/pay", methods=["GET", "POST"])
@role_required(*OFFICERS)
@fresh_auth_required
def withdrawal_pay(withdrawal_id: int):
    """Mark an approved withdrawal paid, with the receipt number or transfer reference."""
    withdrawal = get_unit_withdrawal_or_404(withdrawal_id, current_user)
    if (refused := _withdrawal_refused(withdrawal, "withdrawal_pay")) is not None:
        return refused
    form = PayWithdrawalForm()
    if (
        form.validate_on_submit()
        and perform(
            lambda: services.pay_withdrawal(withdrawal, current_user, form.reference.data), form
        ).ok
    ):
        flash(_("%(code)s is marked paid.", code=withdrawal.code), "success")
        return hx_redirect(_withdrawals_url(withdrawal))
    return _withdrawal_action(withdrawal, form, _("Mark as paid"))


# --- the daily cash report --------------------------------------------------------------------


@bp.route("/cash-report")
@role_required(*OFFICERS)
def cash_report():
    """One WIB day at the unit: withdrawals paid (by method, with references) and credits made."""
    unit, unit_args = _unit()
    day = _day()
    return render_page(
        "jumpa_madu/officer/cash_report.html",
        report=services.cash_report(unit, day),
        day_label=format_day(day, LONG_DAY),
        previous_url=url_for(
            ".cash_report", date=(day - dt.timedelta(days=1)).isoformat(), **unit_args
        ),
        next_url=url_for(
            ".cash_report", date=(day + dt.timedelta(days=1)).isoformat(), **unit_args
        ),
        **_unit_context(unit, unit_args),
    )


# --- assisted mode ----------------------------------------------------------------------------


def _pickup_form(unit: WasteUnit, **kwargs: Any) -> Any:
    prices = services.unit_prices(unit)
    form = with_weights(
        AssistedPickupForm, [c for c in services.active_categories() if c.id in prices], **kwargs
    )
    form.load_choices(services.pickup_days_ahead(unit), unit.time_windows)
    return form


@bp.route("/assisted", methods=["GET", "POST"])
@role_required(*OFFICERS)
def assisted_new():
    """File a pickup at the unit's counter for a resident found by phone (or a new account).

    One page, two stages: finding the resident posts back here and shows the pickup form; the
    phone number travels in the POST body (never the URL) and the resident is found again by it
    when the pickup is filed.
    """
    unit = services.officer_unit(current_user)
    if unit is None:
        return render_page(
            "jumpa_madu/officer/assisted_new.html",
            stage=0,
            status=403 if request.method == "POST" else 200,
        )
    if request.method == "POST" and request.form.get("stage") == "pickup":
        return _assisted_pickup(unit)
    form = AssistedFindForm()
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.start_assisted_pickup(
                current_user, form.phone.data, form.full_name.data or None, bool(form.consent.data)
            ),
            form,
        )
        if outcome.ok and outcome.value is not None:
            resident, created = outcome.value
            pickup_form = _pickup_form(unit, formdata=None)
            pickup_form.phone.data = resident.phone
            if resident.has_address:
                pickup_form.fill_address(resident)
            return render_page(
                "jumpa_madu/officer/assisted_new.html",
                stage=2,
                form=pickup_form,
                resident=resident,
                created=created,
                unit=unit,
            )
    return render_form("jumpa_madu/officer/assisted_new.html", form, stage=1, unit=unit)


def _assisted_pickup(unit: WasteUnit):  # type: ignore[no-untyped-def]
    form = _pickup_form(unit)
    resident = accounts.find_user_by_identifier(request.form.get("phone", ""))
    if resident is None or resident.is_disabled:
        find = AssistedFindForm(formdata=None)
        find.form_errors.append(_("Find the resident again by their phone number."))
        return render_page(
            "jumpa_madu/officer/assisted_new.html", stage=1, form=find, unit=unit, status=422
        )
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.request_pickup(
                resident,
                unit,
                address=form.address_data(),
                estimates=form.weights(),
                preferred_date=form.chosen_date(),
                window=form.window.data,
                note=form.note.data or "",
                assisted_by=current_user,
            ),
            form,
        )
        if outcome.ok and outcome.value is not None:
            flash(
                _(
                    "Pickup %(code)s filed for %(name)s.",
                    code=outcome.value.code,
                    name=resident.full_name,
                ),
                "success",
            )
            return hx_redirect(url_for(".pickup_show", pickup_id=outcome.value.id))
    return render_form(
        "jumpa_madu/officer/assisted_new.html", form, stage=2, resident=resident, unit=unit
    )
