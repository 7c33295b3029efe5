"""Deli Serdang Mall administration: verify shops, moderate reported listings, manage categories.

Every page is for admins only. A shop's possible moves come from the model's transition table
(`SHOP_TRANSITIONS`): the shop page offers only those, an action page opened for a move that is
no longer possible says so (409), and a submitted move the service refuses comes back as 422.
The legality numbers are shown for the admin to check by hand on the issuers' public sites; the
portal makes no outbound calls.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Role
from portal.accounts.permissions import role_required
from portal.core.actions import perform
from portal.core.forms import BaseForm, render_form
from portal.core.htmx import hx_redirect, render_page
from portal.core.identity import local_phone
from portal.core.time import today_wib
from portal.extensions import db
from portal.mall import admin_services, services
from portal.mall.admin_forms import (
    RESOLVE_HINTS,
    ActionForm,
    CategoryForm,
    ChangesForm,
    ResolveReportForm,
    SuspendForm,
)
from portal.mall.models import (
    SHOP_TRANSITIONS,
    MallCategory,
    Product,
    ReportStatus,
    Shop,
    ShopActor,
    ShopStatus,
)

bp = Blueprint("mall_admin", __name__, url_prefix="/admin/mall")

PAGE_SIZE = 25
RESULTS_TARGET = "shop-results"

# Which move each action makes, and its button.
SHOP_ACTIONS: dict[str, tuple[ShopStatus, Any, bool]] = {
    # endpoint: (to, label, a plain POST button rather than a page with a reason)
    "shop_verify": (ShopStatus.VERIFIED, _l("Verify the shop"), True),
    "shop_request_changes": (ShopStatus.CHANGES_REQUESTED, _l("Request changes"), False),
    "shop_suspend": (ShopStatus.SUSPENDED, _l("Suspend the shop"), False),
    "shop_reinstate": (ShopStatus.VERIFIED, _l("Reinstate the shop"), True),
}
# Verify and reinstate are both "-> verified"; which one applies depends on where the shop is.
_FROM = {"shop_verify": ShopStatus.SUBMITTED, "shop_reinstate": ShopStatus.SUSPENDED}


def _get_or_404(model: type, ident: int):  # type: ignore[no-untyped-def]
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _allowed(shop: Shop, endpoint: str) -> bool:
    to = SHOP_ACTIONS[endpoint][0]
    if endpoint in _FROM and shop.status != _FROM[endpoint]:
        return False
    return SHOP_TRANSITIONS.get((shop.status, to)) == ShopActor.ADMIN


def _can_suspend(shop: Shop) -> bool:
    return SHOP_TRANSITIONS.get((shop.status, ShopStatus.SUSPENDED)) == ShopActor.ADMIN


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"mall_phone": local_phone}


# --- shops --------------------------------------------------------------------------------------


@bp.route("/shops")
@role_required(Role.ADMIN)
def shop_index():
    """Shops by status, waiting for verification first; the tabs swap only the results."""
    try:
        status = ShopStatus(request.args.get("status", ShopStatus.SUBMITTED.value))
    except ValueError:
        status = ShopStatus.SUBMITTED
    page = max(1, request.args.get("page", 1, type=int) or 1)
    counts = admin_services.shop_status_counts()
    total = counts[status]
    return render_page(
        "mall/admin/shop_index.html",
        partial="mall/admin/_shop_results.html",
        target=RESULTS_TARGET,
        current=status,
        tabs=admin_services.SHOP_TABS,
        counts=counts,
        shops=admin_services.shops_in_status(status, page, PAGE_SIZE),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


def _actions(shop: Shop) -> list[dict[str, Any]]:
    return [
        {"endpoint": endpoint, "label": label, "post": post}
        for endpoint, (_to, label, post) in SHOP_ACTIONS.items()
        if _allowed(shop, endpoint)
    ]


def _show_page(shop: Shop, form: BaseForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render_page(
        "mall/admin/shop_show.html",
        shop=shop,
        overview=admin_services.shop_overview(shop),
        actions=_actions(shop),
        form=form,
        today=today_wib(),
        status=status,
    )


@bp.route("/shops/<int:shop_id>")
@role_required(Role.ADMIN)
def shop_show(shop_id: int):
    """Everything about a shop, its legality numbers with where to check them, and its moves."""
    return _show_page(_get_or_404(Shop, shop_id), ActionForm())


def _done(shop: Shop, message: str):  # type: ignore[no-untyped-def]
    flash(message, "success")
    return hx_redirect(url_for(".shop_show", shop_id=shop.id))


def _move(shop_id: int, endpoint: str, service: Any, message: str):  # type: ignore[no-untyped-def]
    """Verify or reinstate (both end in "verified", from different states): a button's POST."""
    shop = _get_or_404(Shop, shop_id)
    form = ActionForm()
    if form.validate_on_submit():
        if not _allowed(shop, endpoint):
            form.form_errors.append(_refusal(shop))
        elif perform(lambda: service(shop, current_user), form).ok:
            return _done(shop, message % {"name": shop.name})
    return _show_page(shop, form, status=422)


@bp.route("/shops/<int:shop_id>/verify", methods=["POST"])
@role_required(Role.ADMIN)
def shop_verify(shop_id: int):
    return _move(
        shop_id,
        "shop_verify",
        services.verify_shop,
        _("%(name)s is verified. The seller is told and can sell."),
    )


@bp.route("/shops/<int:shop_id>/reinstate", methods=["POST"])
@role_required(Role.ADMIN)
def shop_reinstate(shop_id: int):
    return _move(
        shop_id,
        "shop_reinstate",
        services.reinstate_shop,
        _("%(name)s is active again. The seller is told."),
    )


def _refusal(shop: Shop) -> str:
    return _(
        "%(name)s is now \u201c%(status)s\u201d: this step is not possible any more.",
        name=shop.name,
        status=shop.status.label,
    )


def _refused(shop: Shop, endpoint: str):  # type: ignore[no-untyped-def]
    """On opening an action page the shop no longer allows: say so (409), else None."""
    if request.method != "GET" or _allowed(shop, endpoint):
        return None
    return render_page(
        "mall/admin/refused.html",
        message=_refusal(shop),
        back_url=url_for(".shop_show", shop_id=shop.id),
        back_label=_("Back to %(name)s", name=shop.name),
        status=409,
    )


@bp.route("/shops/<int:shop_id>/request-changes", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def shop_request_changes(shop_id: int):
    shop = _get_or_404(Shop, shop_id)
    if (refused := _refused(shop, "shop_request_changes")) is not None:
        return refused
    form = ChangesForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.request_changes(shop, current_user, form.reason.data), form).ok
    ):
        return _done(shop, _("Changes requested. %(name)s's seller is told.", name=shop.name))
    return render_form("mall/admin/shop_action.html", form, shop=shop, heading=_("Request changes"))


@bp.route("/shops/<int:shop_id>/suspend", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def shop_suspend(shop_id: int):
    shop = _get_or_404(Shop, shop_id)
    if (refused := _refused(shop, "shop_suspend")) is not None:
        return refused
    form = SuspendForm()
    if (
        form.validate_on_submit()
        and perform(lambda: services.suspend_shop(shop, current_user, form.reason.data), form).ok
    ):
        return _done(
            shop,
            _("%(name)s is suspended and no longer public. The seller is told.", name=shop.name),
        )
    return render_form(
        "mall/admin/shop_action.html", form, shop=shop, heading=_("Suspend the shop")
    )


@bp.route("/products/<int:product_id>/unblock", methods=["POST"])
@role_required(Role.ADMIN)
def product_unblock(product_id: int):
    """Lift a moderator's block: the product stays hidden until its seller publishes it again."""
    product = _get_or_404(Product, product_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if product.blocked_reason is None:
        flash(_("%(name)s is not blocked.", name=product.name), "error")
    elif perform(lambda: services.unblock_product(product, current_user)).ok:
        flash(
            _(
                "The block on %(name)s is lifted. Its seller can publish it again.",
                name=product.name,
            ),
            "success",
        )
    return hx_redirect(url_for(".shop_show", shop_id=product.shop_id) + "#products")


# --- reports ------------------------------------------------------------------------------------


@bp.route("/reports")
@role_required(Role.ADMIN)
def report_index():
    """Open reports, oldest first."""
    reports, total, counts = admin_services.report_queue()
    return render_page("mall/admin/report_index.html", reports=reports, total=total, counts=counts)


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def report_resolve(report_id: int):
    """Hide the listing, warn the seller, suspend the shop, or dismiss the report."""
    report = admin_services.report_detail(report_id)
    if report is None:
        abort(404)
    form = ResolveReportForm()
    form.set_actions(_can_suspend(report.product.shop))
    if (
        form.validate_on_submit()
        and perform(
            lambda: services.resolve_report(
                report, current_user, form.chosen(), form.note.data or ""
            ),
            form,
        ).ok
    ):
        flash(
            _(
                "Report on %(name)s handled: %(outcome)s.",
                name=report.product.name,
                outcome=report.status.label,
            ),
            "success",
        )
        return hx_redirect(url_for(".report_index"))
    return render_form(
        "mall/admin/report_resolve.html",
        form,
        report=report,
        product=report.product,
        shop=report.product.shop,
        history=admin_services.product_reports(report.product),
        hints={status.value: hint for status, hint in RESOLVE_HINTS.items()},
        is_open=report.status is ReportStatus.OPEN,
    )


# --- categories ---------------------------------------------------------------------------------


@bp.route("/categories")
@role_required(Role.ADMIN)
def category_index():
    return render_page("mall/admin/category_index.html", categories=admin_services.all_categories())


@bp.route("/categories/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def category_new():
    form = CategoryForm()
    if request.method == "GET":
        form.is_active.data = True
        form.position.data = len(admin_services.all_categories())
    return _save_category(form, None)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def category_edit(category_id: int):
    category = _get_or_404(MallCategory, category_id)
    form = CategoryForm()
    if request.method == "GET":
        form.fill(category)
    return _save_category(form, category)


def _save_category(form: CategoryForm, category: MallCategory | None):  # type: ignore[no-untyped-def]
    if form.validate_on_submit():
        data = form.data_for_service()
        if perform(lambda: services.save_category(category, **data), form).ok:
            flash(_("Category \u201c%(name)s\u201d saved.", name=form.name.data), "success")
            return hx_redirect(url_for(".category_index"))
    return render_form("mall/admin/category_edit.html", form, category=category)
