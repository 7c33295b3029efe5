"""Deli Serdang Mall for sellers: any logged-in resident may open a shop and list products.

The dashboard lists the shop's products with a quick edit of price and availability in place
(htmx swaps one table row, `#product-row-<id>`; without JavaScript the same URL is a page of
its own). A product's photos are managed one at a time on its edit page (htmx swaps
`#photos`). Every object is loaded through `permissions`, so another seller's product or photo
is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portal.accounts.models import User
from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import hx_redirect, hx_target, render_page
from portal.core.identity import local_phone
from portal.core.uploads import ALLOWED_PHOTO_KINDS, CheckedUpload, check_upload
from portal.mall import services
from portal.mall.models import MAX_PHOTOS, Product, ProductStatus, Shop, ShopStatus
from portal.mall.permissions import (
    get_own_photo_or_404,
    get_own_product_or_404,
    get_own_shop_or_404,
)
from portal.mall.seller_forms import (
    ACCEPT_PHOTOS,
    PhotoForm,
    ProductForm,
    QuickEditForm,
    ShopForm,
)

bp = Blueprint("mall_seller", __name__, url_prefix="/mall/my-shop")

DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Far above any phone camera (a 200-megapixel sensor is rare and is downscaled before sending),
# far below what would exhaust a worker's memory while decoding.
MAX_PHOTO_PIXELS = 25_000_000
PHOTOS_TARGET = "photos"
SUBMITTABLE = frozenset({ShopStatus.DRAFT, ShopStatus.CHANGES_REQUESTED})
MOVES = {"earlier": -1, "later": 1}


def _me() -> User:
    """The logged-in user as a model instance (services assign it to relationships)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _max_upload() -> int:
    return int(current_app.config.get("MALL_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _check_photo(file: Any, field: str) -> CheckedUpload:
    """JPEG, PNG or WebP by content, at most 5 MB and 25 megapixels, re-encoded without EXIF."""
    return check_upload(
        file,
        field=field,
        allowed=ALLOWED_PHOTO_KINDS,
        max_bytes=_max_upload(),
        max_pixels=MAX_PHOTO_PIXELS,
    )


def row_id(product: Product) -> str:
    return f"product-row-{product.id}"


# --- the dashboard --------------------------------------------------------------------------------


@bp.route("/")
@login_required
def dashboard():
    shop = services.shop_of(_me())
    if shop is None:
        return render_page("mall/seller/dashboard.html", shop=None)
    return render_page(
        "mall/seller/dashboard.html",
        shop=shop,
        products=services.shop_products(shop),
        stats=services.stats_30_days(shop),
        can_submit=shop.status in SUBMITTABLE,
    )


def _row(product: Product) -> Response:
    """One product's row of the dashboard table, as htmx swaps it back in."""
    counts = services.stats_30_days(product.shop).get(product.id, (0, 0))
    return render_page("mall/seller/_product_row.html", product=product, counts=counts)


@bp.route("/products/<int:product_id>/row")
@login_required
def product_row(product_id: int):
    """The row again (the quick edit's "Cancel"); a plain request goes to the dashboard."""
    product = get_own_product_or_404(product_id, _me())
    if hx_target() == row_id(product):
        return _row(product)
    return redirect(url_for(".dashboard", _anchor=row_id(product)))


@bp.route("/products/<int:product_id>/quick-edit", methods=["GET", "POST"])
@login_required
def product_quick_edit(product_id: int):
    me = _me()
    product = get_own_product_or_404(product_id, me)
    form = QuickEditForm(product, prefix=f"q{product.id}")
    if form.validate_on_submit():
        values = form.values()
        if perform(lambda: services.quick_edit(product, me, **values), form).ok:
            if hx_target() == row_id(product):
                return _row(product)
            flash(_("%(name)s: price and availability saved.", name=product.name), "success")
            return hx_redirect(url_for(".dashboard", _anchor=row_id(product)))
    return render_page(
        "mall/seller/product_quick_edit.html",
        partial="mall/seller/_product_quick_edit.html",
        target=row_id(product),
        status=422 if form.is_submitted() else 200,
        form=form,
        product=product,
    )


# --- the shop -------------------------------------------------------------------------------------


def _shop_form_page(form: ShopForm, shop: Shop | None) -> Response:
    preview = services.slugify(form.name.data) if form.name.data else "toko-kue-ani"
    return render_form(
        "mall/seller/shop_edit.html",
        form,
        shop=shop,
        slug=shop.slug if shop is not None else preview,
        accept=ACCEPT_PHOTOS,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def shop_new():
    me = _me()
    if services.shop_of(me) is not None:
        return redirect(url_for(".shop_edit"))
    form = ShopForm()
    form.load_choices(services.active_categories())
    if request.method == "GET":
        form.owner_name.data = me.full_name
        form.whatsapp.data = local_phone(me.phone)
    if form.validate_on_submit():
        data, logo = form.shop_data(), form.logo.data

        def action() -> Shop:
            shop = services.open_shop(me, **data)
            if logo:
                services.set_logo(shop, me, _check_photo(logo, "logo"))
            return shop

        if perform(action, form).ok:
            flash(
                _(
                    "Your shop is open as a draft. Add your products, then send the shop "
                    "for verification."
                ),
                "success",
            )
            return hx_redirect(url_for(".dashboard"))
    return _shop_form_page(form, None)


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def shop_edit():
    me = _me()
    shop = services.shop_of(me)
    if shop is None:
        return redirect(url_for(".shop_new"))
    form = ShopForm()
    form.load_choices(services.active_categories())
    if request.method == "GET":
        form.fill_from(shop)
    if form.validate_on_submit():
        data, logo = form.shop_data(), form.logo.data

        def action() -> None:
            services.save_shop(shop, me, **data)
            if logo:
                services.set_logo(shop, me, _check_photo(logo, "logo"))

        if perform(action, form).ok:
            flash(_("Your shop's details are saved."), "success")
            return hx_redirect(url_for(".dashboard"))
    return _shop_form_page(form, shop)


@bp.route("/submit", methods=["POST"])
@login_required
def shop_submit():
    me = _me()
    shop = get_own_shop_or_404(me)
    if perform(lambda: services.submit_shop(shop, me)).ok:
        flash(
            _(
                "Your shop has been sent for verification. You will get a notification when "
                "the regency has checked it."
            ),
            "success",
        )
    return hx_redirect(url_for(".dashboard"))


# --- products -------------------------------------------------------------------------------------


@bp.route("/products/new", methods=["GET", "POST"])
@login_required
def product_new():
    me = _me()
    shop = services.shop_of(me)
    if shop is None:
        flash(_("Open your shop first; then you can add products."), "info")
        return redirect(url_for(".shop_new"))
    form = ProductForm()
    form.load_choices(services.active_categories())
    if request.method == "GET":
        form.set_defaults(shop)
    if form.validate_on_submit():
        data = form.product_data()
        outcome = perform(lambda: services.save_product(shop, None, me, **data), form)
        if outcome.ok and outcome.value is not None:
            flash(_("The product is saved as a draft. Add photos, then publish it."), "success")
            return hx_redirect(url_for(".product_edit", product_id=outcome.value.id))
    return render_form("mall/seller/product_new.html", form, shop=shop)


def _edit_page(
    product: Product,
    *,
    product_form: ProductForm | None = None,
    photo_form: PhotoForm | None = None,
    status: int = 200,
    photo_message: str | None = None,
) -> Response:
    """The product's edit page, or only its photos block when htmx aims at `#photos`.

    `form` (what base.html and the error summary read) is whichever form was sent.
    """
    if product_form is None:
        product_form = ProductForm(formdata=None)
        product_form.load_choices(services.active_categories())
        product_form.fill_from(product)
    photo_form = photo_form or PhotoForm(formdata=None)
    sent = photo_form if photo_form.has_errors else product_form
    return render_page(
        "mall/seller/product_edit.html",
        partial="mall/seller/_photos.html",
        target=PHOTOS_TARGET,
        status=status,
        form=sent,
        product_form=product_form,
        photo_form=photo_form,
        photo_message=photo_message,
        product=product,
        shop=product.shop,
        max_photos=MAX_PHOTOS,
        accept=ACCEPT_PHOTOS,
    )


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def product_edit(product_id: int):
    me = _me()
    product = get_own_product_or_404(product_id, me)
    form = ProductForm()
    form.load_choices(services.active_categories())
    if request.method == "GET":
        form.fill_from(product)
    if form.validate_on_submit():
        data = form.product_data()
        if perform(lambda: services.save_product(product.shop, product, me, **data), form).ok:
            flash(_("%(name)s is saved.", name=product.name), "success")
            return hx_redirect(url_for(".dashboard", _anchor=row_id(product)))
    return _edit_page(product, product_form=form, status=422 if form.is_submitted() else 200)


def _status_message(product: Product, status: ProductStatus) -> str:
    if status is ProductStatus.PUBLISHED:
        if product.is_public:
            return _("%(name)s is published: anyone can find it now.", name=product.name)
        return _(
            "%(name)s is published. It will be shown once your shop has been sent for "
            "verification.",
            name=product.name,
        )
    if status is ProductStatus.HIDDEN:
        return _("%(name)s is hidden: buyers cannot see it.", name=product.name)
    return _("%(name)s is back to draft.", name=product.name)


@bp.route("/products/<int:product_id>/status", methods=["POST"])
@login_required
def product_status(product_id: int):
    me = _me()
    product = get_own_product_or_404(product_id, me)
    try:
        status = ProductStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if perform(lambda: services.set_product_status(product, me, status)).ok:
        flash(_status_message(product, status), "success")
    return hx_redirect(url_for(".product_edit", product_id=product.id))


@bp.route("/products/<int:product_id>/duplicate", methods=["POST"])
@login_required
def product_duplicate(product_id: int):
    me = _me()
    product = get_own_product_or_404(product_id, me)
    outcome = perform(lambda: services.duplicate_product(product, me))
    if outcome.ok and outcome.value is not None:
        flash(
            _("This is a copy, saved as a draft. Change what differs, then publish it."),
            "success",
        )
        return hx_redirect(url_for(".product_edit", product_id=outcome.value.id))
    return hx_redirect(url_for(".product_edit", product_id=product.id))


# --- photos ---------------------------------------------------------------------------------------


def _photos_done(product: Product, photo_form: PhotoForm, ok: bool, message: str) -> Response:
    """After a photo action: the photos block (htmx), or back to the edit page (plain)."""
    if ok and hx_target() != PHOTOS_TARGET:
        flash(message, "success")
        return hx_redirect(url_for(".product_edit", product_id=product.id, _anchor="photos"))
    return _edit_page(
        product,
        photo_form=None if ok else photo_form,
        status=200 if ok else 422,
        photo_message=message if ok else None,
    )


@bp.route("/products/<int:product_id>/photos", methods=["POST"])
@login_required
def product_photo_add(product_id: int):
    me = _me()
    product = get_own_product_or_404(product_id, me)
    form = PhotoForm()
    ok = form.validate_on_submit()
    if ok:
        file = form.photo.data
        ok = perform(lambda: services.add_photo(product, me, _check_photo(file, "photo")), form).ok
    return _photos_done(product, form, ok, _("Photo added."))


@bp.route("/photos/<int:photo_id>/move", methods=["POST"])
@login_required
def product_photo_move(photo_id: int):
    me = _me()
    photo = get_own_photo_or_404(photo_id, me)
    product = photo.product
    offset = MOVES.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    form = PhotoForm(formdata=None)
    ok = perform(lambda: services.move_photo(photo, me, offset), form).ok
    return _photos_done(product, form, ok, _("Photo moved."))


@bp.route("/photos/<int:photo_id>/delete", methods=["POST"])
@login_required
def product_photo_delete(photo_id: int):
    me = _me()
    photo = get_own_photo_or_404(photo_id, me)
    product = photo.product
    form = PhotoForm(formdata=None)
    ok = perform(lambda: services.remove_photo(photo, me), form).ok
    return _photos_done(product, form, ok, _("Photo removed."))
