"""Jumpa Madu for residents and the public: the service page, pickups, the wallet, withdrawals.

Requesting a pickup works without JavaScript: the address is posted first ("find units near
me") and the same page comes back with the units that collect there; changing the unit posts
again (htmx swaps only `#pickup-unit-part`). The address always travels in the POST body, never
in a URL. Wallet pages are personal and sent with `Cache-Control: no-store`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from portal.accounts.models import User
from portal.core.actions import perform
from portal.core.errors import DomainError
from portal.core.forms import render_form
from portal.core.geo import format_km
from portal.core.htmx import hx_redirect, render_page
from portal.core.identity import local_phone
from portal.core.money import format_rupiah
from portal.core.time import LONG_DAY, format_day
from portal.core.uploads import ALLOWED_PHOTO_KINDS, check_upload, get_storage, send_upload
from portal.jumpa_madu import services
from portal.jumpa_madu.forms import (
    ACCEPT_PHOTOS,
    ADDRESS_FIELD_NAMES,
    DisputeForm,
    PickupForm,
    WithdrawalForm,
)
from portal.jumpa_madu.models import (
    PICKUP_NEXT_STEPS,
    RESIDENT_CANCELLABLE,
    PayoutMethod,
    Pickup,
    PickupStatus,
    Price,
    WasteCategory,
    WasteUnit,
)
from portal.jumpa_madu.permissions import get_pickup_or_404, get_withdrawal_or_404
from portal.jumpa_madu.price_views import render_price_index

bp = Blueprint("jumpa_madu", __name__, url_prefix="/jumpa-madu")

# 25 like every other list: on a 360-px phone each movement is a four-line card, and 50 of them
# made the wallet the heaviest page a resident opens on a slow connection.
STATEMENT_PER_PAGE = 25
DROP_OFF_UNITS = 3  # nearest units listed when none collects at the address


@bp.app_template_filter("weight")
def _weight_filter(grams: int, measure: Any = "kg") -> str:
    """{{ 1500 | weight }} -> "1,5 kg"; {{ 2000 | weight("litre") }} -> "2 L"."""
    return services.format_weight(grams, measure)


@bp.app_template_filter("weight_total")
def _weight_total_filter(lines: Any) -> str:
    """{{ weighing.lines | weight_total }} -> "3,8 kg + 2 L" (kg and litres kept apart)."""
    return services.format_total(lines)


@bp.app_template_filter("local_phone")
def _local_phone_filter(e164: str | None) -> str:
    """{{ "+6281234567890" | local_phone }} -> "081234567890", as people dial it."""
    return local_phone(e164)


def _me() -> User:
    """The logged-in user as a model instance (services assign it to relationships)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _no_store(response: Response) -> Response:
    """Balances and statements are personal: no browser or proxy may keep a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


# --- public pages ---------------------------------------------------------------------------------


@bp.route("/")
def index():
    context: dict[str, Any] = {"categories": services.active_categories()}
    if not current_user.is_authenticated:
        return render_page("jumpa_madu/index.html", **context)
    me = _me()
    context["summary"] = services.wallet_summary(me)
    context["open_pickups"] = sum(1 for p in services.user_pickups(me) if not p.status.is_final)
    return _no_store(render_page("jumpa_madu/index.html", **context))


@bp.route("/prices", methods=["GET", "POST"])
def price_index():
    """Current prices of the units that serve a chosen place (public; see price_views)."""
    return render_price_index()


# --- requesting a pickup --------------------------------------------------------------------------


@dataclass
class UnitProposal:
    """The units that collect at an address, the one chosen, and what it offers."""

    covering: list[tuple[WasteUnit, float]]
    nearest: list[tuple[WasteUnit, float]] = field(default_factory=list)
    unit: WasteUnit | None = None
    distance: str = ""
    hints: dict[str, str] = field(default_factory=dict)
    prices: dict[int, Price] = field(default_factory=dict)
    categories: list[WasteCategory] = field(default_factory=list)
    # The unit posted does not collect here (the address changed): the nearest one replaced it.
    replaced: bool = False


def _propose(form: PickupForm, categories: list[WasteCategory]) -> UnitProposal | None:
    """Units for the form's address; sets the unit, date and window choices on the form."""
    point = services.address_point(form.address_data())
    if point is None:
        return None
    covering = services.covering_units(point)
    if not covering:
        return UnitProposal(covering=[], nearest=services.units_by_distance(point)[:DROP_OFF_UNITS])
    by_id = {str(unit.id): (unit, km) for unit, km in covering}
    posted = form.unit_id.data or ""
    unit, km = by_id.get(posted, covering[0])
    form.unit_id.choices = [SelectChoice(str(u.id), u.name) for u, _km in covering]
    form.unit_id.data = str(unit.id)
    days = services.pickup_days_ahead(unit)
    form.preferred_date.choices = [
        SelectChoice(d.isoformat(), format_day(d, LONG_DAY)) for d in days
    ]
    form.window.choices = [SelectChoice(w, w) for w in unit.time_windows]
    prices = services.unit_prices(unit)
    hints = {
        str(u.id): _(
            "%(type)s, %(km)s km away. Collects on %(days)s.",
            type=u.type.label,
            km=format_km(d),
            days=", ".join(u.pickup_day_labels),
        )
        for u, d in covering
    }
    return UnitProposal(
        covering=covering,
        unit=unit,
        distance=format_km(km),
        hints=hints,
        prices=prices,
        categories=[c for c in categories if c.id in prices],
        replaced=bool(posted) and posted not in by_id,
    )


def _address_ok(form: PickupForm) -> bool:
    return not any(form[name].errors for name in ADDRESS_FIELD_NAMES)


def _send_pickup(
    form: PickupForm, categories: list[WasteCategory]
) -> tuple[Pickup | None, UnitProposal | None]:
    """The final submit: every check, then `request_pickup`; the pickup is None when refused."""
    me = _me()
    valid = form.validate()
    proposal = _propose(form, categories) if _address_ok(form) else None
    if proposal is None or proposal.unit is None:
        if _address_ok(form):
            _refuse(form, "unit_id", _("No unit collects at this address. See the units below."))
        return None, proposal
    if proposal.replaced:
        _refuse(
            form,
            "unit_id",
            _("The unit you chose does not collect at this address. Choose a unit again."),
        )
        return None, proposal
    day = form.chosen_date()
    if valid and day is None:
        _refuse(form, "preferred_date", _("Choose one of the dates shown"))
    if not valid or day is None:
        return None, proposal
    unit, category_ids, file = proposal.unit, [c.id for c in proposal.categories], form.photo.data

    def action() -> Pickup:
        photo = None
        if file:
            photo = check_upload(
                file,
                field="photo",
                allowed=ALLOWED_PHOTO_KINDS,
                max_bytes=current_app.config["JUMPA_MADU_MAX_UPLOAD_BYTES"],
            )
        return services.request_pickup(
            me,
            unit,
            address=form.address_data(),
            estimates=form.estimate_grams(category_ids),
            preferred_date=day,
            window=form.window.data,
            note=form.note.data or "",
            photo=photo,
        )

    outcome = perform(action, form)
    return (outcome.value if outcome.ok else None), proposal


def _refuse(form: PickupForm, field_name: str, message: str) -> None:
    form.add_domain_error(DomainError(field_name, message))


@bp.route("/pickups/new", methods=["GET", "POST"])
@login_required
def pickup_new():
    categories = services.active_categories()
    form = PickupForm.for_categories(categories)
    proposal: UnitProposal | None = None
    status = 200
    if request.method == "GET":
        if current_user.has_address:
            form.fill_address(current_user)
            proposal = _propose(form, categories)
    elif request.form.get("action") in ("find", "unit"):
        if form.validate_address():
            proposal = _propose(form, categories)
        else:
            status = 422
    else:
        pickup, proposal = _send_pickup(form, categories)
        if pickup is not None:
            flash(
                _(
                    "Your pickup request %(code)s has been sent to %(unit)s. You will be told "
                    "when it is scheduled.",
                    code=pickup.code,
                    unit=pickup.unit.name,
                ),
                "success",
            )
            return hx_redirect(url_for("jumpa_madu.pickup_show", pickup_id=pickup.id))
        status = 422
    return render_page(
        "jumpa_madu/pickup_new.html",
        partial="jumpa_madu/_pickup_unit_part.html",
        target="pickup-unit-part",
        status=status,
        form=form,
        proposal=proposal,
        accept=ACCEPT_PHOTOS,
        max_upload=current_app.config["JUMPA_MADU_MAX_UPLOAD_BYTES"],
    )


# --- the resident's pickups -----------------------------------------------------------------------


@bp.route("/pickups")
@login_required
def pickup_index():
    return render_page("jumpa_madu/pickup_index.html", pickups=services.user_pickups(_me()))


def _status_context(pickup: Pickup) -> dict[str, Any]:
    return {
        "pickup": pickup,
        "weighing": pickup.current_weighing,
        "earlier_weighings": [w for w in pickup.weighings if w.superseded_at is not None],
        "next_step": PICKUP_NEXT_STEPS.get(pickup.status),
        "can_cancel": pickup.status in RESIDENT_CANCELLABLE,
        "can_answer": pickup.status == PickupStatus.WEIGHED,
    }


@bp.route("/pickups/<int:pickup_id>")
@login_required
def pickup_show(pickup_id: int):
    pickup = get_pickup_or_404(pickup_id, current_user)
    return _no_store(
        render_page(
            "jumpa_madu/pickup_show.html",
            partial="jumpa_madu/_pickup_status.html",
            target="pickup-status",
            **_status_context(pickup),
        )
    )


@bp.route("/pickups/<int:pickup_id>/cancel", methods=["POST"])
@login_required
def pickup_cancel(pickup_id: int):
    pickup = get_pickup_or_404(pickup_id, current_user)
    if perform(lambda: services.cancel_pickup(pickup, _me())).ok:
        flash(_("Your pickup %(code)s has been cancelled.", code=pickup.code), "success")
    return hx_redirect(url_for("jumpa_madu.pickup_show", pickup_id=pickup.id))


@bp.route("/pickups/<int:pickup_id>/confirm", methods=["POST"])
@login_required
def pickup_confirm(pickup_id: int):
    pickup = get_pickup_or_404(pickup_id, current_user)
    if perform(lambda: services.confirm_weighing(pickup, _me())).ok:
        weighing = pickup.current_weighing
        amount = weighing.resident_amount if weighing is not None else 0
        flash(
            _("Thank you. %(amount)s has been added to your wallet.", amount=format_rupiah(amount)),
            "success",
        )
    return hx_redirect(url_for("jumpa_madu.pickup_show", pickup_id=pickup.id))


@bp.route("/pickups/<int:pickup_id>/dispute", methods=["GET", "POST"])
@login_required
def pickup_dispute(pickup_id: int):
    pickup = get_pickup_or_404(pickup_id, current_user)
    detail = url_for("jumpa_madu.pickup_show", pickup_id=pickup.id)
    if request.method == "GET" and pickup.status != PickupStatus.WEIGHED:
        flash(_("This pickup has no weighing waiting for your answer."), "error")
        return redirect(detail)
    form = DisputeForm()
    if form.validate_on_submit():
        outcome = perform(
            lambda: services.dispute_weighing(pickup, _me(), form.reason.data or ""), form
        )
        if outcome.ok:
            flash(_("Your dispute has been sent to %(unit)s.", unit=pickup.unit.name), "success")
            return hx_redirect(detail)
    return render_form(
        "jumpa_madu/pickup_dispute.html", form, pickup=pickup, weighing=pickup.current_weighing
    )


@bp.route("/pickups/<int:pickup_id>/photo")
@login_required
def pickup_photo(pickup_id: int):
    pickup = get_pickup_or_404(pickup_id, current_user)
    if not pickup.photo_key:
        abort(404)
    try:
        data = get_storage().read(pickup.photo_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    extension = os.path.splitext(pickup.photo_key)[1]
    return send_upload(
        data,
        content_type=pickup.photo_type or "",
        filename=f"{pickup.code}{extension}",
        inline=True,
    )


# --- the wallet -----------------------------------------------------------------------------------


@bp.route("/wallet")
@login_required
def wallet_show():
    me = _me()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    lines, total = services.wallet_statement(me, page, STATEMENT_PER_PAGE)
    impact = services.impact(me)
    response = render_page(
        "jumpa_madu/wallet_show.html",
        partial="jumpa_madu/_statement.html",
        target="statement",
        summary=services.wallet_summary(me),
        lines=lines,
        page=page,
        pages=max(math.ceil(total / STATEMENT_PER_PAGE), 1),
        months=services.monthly_totals(me),
        impact=impact,
        # Shown to 0,1 kg: the factors are indicative, grams would claim a precision they lack.
        co2e_g=services.round_half_up(sum(line.co2e_g for line in impact), 100) * 100,
        withdrawals=services.user_withdrawals(me),
        minimum=current_app.config["JUMPA_MADU_MIN_WITHDRAWAL"],
    )
    return _no_store(response)


@bp.route("/wallet/withdraw", methods=["GET", "POST"])
@login_required
def withdrawal_new():
    me = _me()
    units = services.withdrawal_units(me)
    form = WithdrawalForm()
    form.load_units(units)
    if request.method == "GET":
        form.method.data = PayoutMethod.CASH.value
    if form.validate_on_submit():
        unit = next(u for u in units if str(u.id) == form.unit_id.data)
        amount, method = form.amount_value() or 0, form.payout_method() or PayoutMethod.CASH
        outcome = perform(
            lambda: services.request_withdrawal(me, unit, amount, method, **form.payout_details()),
            form,
        )
        if outcome.ok and outcome.value is not None:
            flash(
                _(
                    "Withdrawal %(code)s of %(amount)s requested. The money is set aside until "
                    "%(unit)s pays it.",
                    code=outcome.value.code,
                    amount=format_rupiah(amount),
                    unit=unit.name,
                ),
                "success",
            )
            return hx_redirect(url_for("jumpa_madu.wallet_show"))
    response = render_form(
        "jumpa_madu/withdrawal_new.html",
        form,
        summary=services.wallet_summary(me),
        minimum=current_app.config["JUMPA_MADU_MIN_WITHDRAWAL"],
        units=units,
    )
    return _no_store(response)


@bp.route("/wallet/withdrawals/<int:withdrawal_id>")
@login_required
def withdrawal_show(withdrawal_id: int):
    withdrawal = get_withdrawal_or_404(withdrawal_id, current_user)
    return _no_store(render_page("jumpa_madu/withdrawal_show.html", withdrawal=withdrawal))
