"""Jumpa Madu administration: waste units, waste categories and each unit's prices.

Admins manage everything here. A unit's officers manage the prices of their own unit too (the
`unit_prices` pages): another unit's prices are a 404 for them, as if the unit did not exist.
Officers are attached to a unit on the account's admin page, by a role grant whose scope is the
unit's number.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Role, User
from portal.accounts.permissions import role_required
from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, render_page
from portal.core.money import format_rupiah
from portal.core.time import as_utc, utcnow
from portal.extensions import db
from portal.jumpa_madu import services
from portal.jumpa_madu.admin_forms import CategoryForm, PriceForm, UnitForm
from portal.jumpa_madu.models import WasteCategory, WasteUnit

bp = Blueprint("jumpa_madu_admin", __name__, url_prefix="/admin/jumpa-madu")


def _get_or_404(model: type, ident: int):  # type: ignore[no-untyped-def]
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


# --- units --------------------------------------------------------------------------------------


@bp.route("/units")
@role_required(Role.ADMIN)
def unit_index():
    return render_page(
        "jumpa_madu/admin/unit_index.html",
        units=services.all_units(),
        officer_counts=services.unit_officer_counts(),
    )


@bp.route("/units/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def unit_new():
    form = UnitForm()
    if request.method == "GET":
        form.set_defaults()
    if form.validate_on_submit():
        data = form.data_for_service()
        saved = perform(lambda: _create_unit(current_user, data), form)
        if saved.ok and saved.value is not None:
            flash(
                _(
                    "Unit \u201c%(name)s\u201d added with the default price list. Check its "
                    "prices, then grant its officers the role with unit number %(number)s.",
                    name=saved.value.name,
                    number=saved.value.id,
                ),
                "success",
            )
            return hx_redirect(url_for(".unit_edit", unit_id=saved.value.id))
    return render_form("jumpa_madu/admin/unit_edit.html", form, unit=None, officers=[])


def _create_unit(actor: User, data: dict) -> WasteUnit:
    """A new unit starts from the default price table, in the same transaction."""
    unit = services.save_unit(None, actor, **data)
    services.seed_unit_prices(unit, actor)
    return unit


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def unit_edit(unit_id: int):
    unit = _get_or_404(WasteUnit, unit_id)
    form = UnitForm()
    if request.method == "GET":
        form.fill(unit)
    if form.validate_on_submit():
        data = form.data_for_service()
        if perform(lambda: services.save_unit(unit, current_user, **data), form).ok:
            flash(_("Unit \u201c%(name)s\u201d saved.", name=form.name.data), "success")
            return hx_redirect(url_for(".unit_index"))
    return render_form(
        "jumpa_madu/admin/unit_edit.html", form, unit=unit, officers=services.unit_officers(unit)
    )


# --- categories ---------------------------------------------------------------------------------


@bp.route("/categories")
@role_required(Role.ADMIN)
def category_index():
    return render_page("jumpa_madu/admin/category_index.html", categories=services.all_categories())


@bp.route("/categories/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def category_new():
    form = CategoryForm()
    if request.method == "GET":
        form.measure.data, form.is_active.data, form.co2e_g_per_unit.data = "kg", True, 0
        form.position.data = len(services.all_categories())
    return _save_category(form, None)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def category_edit(category_id: int):
    category = _get_or_404(WasteCategory, category_id)
    form = CategoryForm()
    if request.method == "GET":
        form.fill(category)
    return _save_category(form, category)


def _save_category(form: CategoryForm, category: WasteCategory | None):  # type: ignore[no-untyped-def]
    if form.validate_on_submit():
        data = form.data_for_service()
        if perform(lambda: services.save_category(category, **data), form).ok:
            flash(_("Category \u201c%(name)s\u201d saved.", name=form.name.data), "success")
            return hx_redirect(url_for(".category_index"))
    return render_form("jumpa_madu/admin/category_edit.html", form, category=category)


# --- prices (admins, and a unit's own officers) -------------------------------------------------


def _price_unit_or_404(unit_id: int) -> WasteUnit:
    """The unit whose prices the user may manage: any for admins, their own for officers.

    An officer who belongs to no unit has no business here at all (403); another unit is a 404.
    """
    if not current_user.is_admin and services.officer_unit(current_user) is None:
        abort(403)
    unit = db.session.get(WasteUnit, unit_id)
    if unit is None or not services.can_manage_unit(current_user, unit):
        abort(404)
    return unit


@bp.route("/units/<int:unit_id>/prices")
@role_required(Role.ADMIN, Role.WASTE_OFFICER)
def unit_prices(unit_id: int):
    """What the unit pays now per category, and every price it has had (old ones stay)."""
    unit = _price_unit_or_404(unit_id)
    history = services.price_history(unit)  # first: it loads who set each price in one go
    now = utcnow()
    current = services.unit_prices(unit)
    categories = [c for c in services.all_categories() if c.is_active or c.id in current]
    return render_page(
        "jumpa_madu/admin/unit_prices.html",
        unit=unit,
        categories=categories,
        current=current,
        history=history,
        scheduled={p.id for p in history if as_utc(p.effective_at) > now},
    )


@bp.route("/units/<int:unit_id>/prices/<int:category_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.WASTE_OFFICER)
def unit_price_edit(unit_id: int, category_id: int):
    unit = _price_unit_or_404(unit_id)
    category = _get_or_404(WasteCategory, category_id)
    current = services.unit_prices(unit).get(category.id)
    form = PriceForm()
    form.set_measure(category.measure)
    if form.validate_on_submit():
        price, effective_at = form.new_price(), form.effective_utc()
        saved = perform(
            lambda: services.set_price(unit, category, price, current_user, effective_at), form
        )
        if saved.ok:
            if price is None:
                message = _(
                    "%(unit)s stops buying %(category)s.", unit=unit.name, category=category.name
                )
            else:
                message = _(
                    "New price of %(category)s at %(unit)s: %(price)s.",
                    category=category.name,
                    unit=unit.name,
                    price=format_rupiah(price),
                )
            flash(message, "success")
            return hx_redirect(url_for(".unit_prices", unit_id=unit.id))
    return render_form(
        "jumpa_madu/admin/unit_price_edit.html",
        form,
        unit=unit,
        category=category,
        current=current,
    )
