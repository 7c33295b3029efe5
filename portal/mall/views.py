"""Deli Serdang Mall for visitors (no login): the catalogue, product and shop pages, the counted
"Chat di WhatsApp" redirect, reporting a listing, and the public photos.

The catalogue's search lives in the query string, so every search can be shared as a link.
htmx only enhances it: typing in the search box swaps `#catalogue-results` (and pushes the
URL), and "Load more" appends the next keyset page to `#product-list`; the plain "Next page"
link does the same job without JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from portal.core.actions import perform
from portal.core.forms import render_form
from portal.core.htmx import CONTENT_TARGET, hx_redirect, hx_target, is_htmx, render_page
from portal.core.money import format_rupiah
from portal.core.uploads import get_storage
from portal.extensions import db, limiter
from portal.mall import services
from portal.mall.forms import CatalogueForm, ReportForm
from portal.mall.models import PriceKind, Product, ProductPhoto, ReportReason, Shop
from portal.wilayah.services import all_kecamatan

bp = Blueprint("mall", __name__, url_prefix="/mall")

RESULTS_TARGET = "catalogue-results"  # the search results (active search)
LIST_TARGET = "product-list"  # the list "Load more" appends to
MAX_CURSOR = 100  # a longer cursor is not one the catalogue made
MAX_SHOP_PAGE = 10_000
PHOTO_CACHE = "public, max-age=31536000, immutable"
REPORT_RATE_LIMIT = "5 per minute;30 per day"


def _fragment(template: str, status: int = 200, **context: Any) -> Response:
    """A partial for htmx, with the same Vary headers render_page sets."""
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def price_text(product: Product) -> str:
    """ "Rp 25.000", "Rp 450.000 – Rp 900.000" or "Ask the seller" (cards, page, share text)."""
    if product.price_kind is PriceKind.ASK or product.price_min is None:
        return _("Ask the seller")
    if product.price_kind is PriceKind.RANGE and product.price_max is not None:
        return f"{format_rupiah(product.price_min)} \u2013 {format_rupiah(product.price_max)}"
    return format_rupiah(product.price_min)


@bp.app_template_global("mall_price")
def _mall_price(product: Product) -> str:
    return price_text(product)


def _counts_as_visit() -> bool:
    """A page someone looks at: a full GET or a boosted navigation, not HEAD or a partial."""
    return request.method == "GET" and hx_target() in (None, CONTENT_TARGET)


# --- the catalogue --------------------------------------------------------------------------------


@bp.route("/")
def index():
    """The public catalogue: search, filters, sort, and keyset pages ("Load more")."""
    form = CatalogueForm(formdata=request.args)
    categories = services.active_categories()
    kecamatan_list = all_kecamatan()
    form.set_choices(categories, kecamatan_list)
    valid = form.validate()
    cursor = (request.args.get("cursor") or "")[:MAX_CURSOR] or None
    page = services.catalogue(form.query(), cursor, per_page=services.PER_PAGE)
    args = form.url_args()
    context: dict[str, Any] = {
        "form": form,
        "products": page.products,
        "next_url": url_for("mall.index", **args, cursor=page.next_cursor)
        if page.next_cursor
        else None,
        "first_url": url_for("mall.index", **args),
        "unfiltered_url": url_for("mall.index", **({"q": args["q"]} if "q" in args else {})),
        "cursor": cursor,
        "kecamatan_names": {k.code: k.name for k in kecamatan_list},
        "results_only": hx_target() == RESULTS_TARGET,
    }
    status = 200 if valid else 422
    if hx_target() == LIST_TARGET:
        return _fragment("mall/_catalogue_page.html", status, **context)
    return render_page(
        "mall/index.html",
        partial="mall/_catalogue_results.html",
        target=RESULTS_TARGET,
        status=status,
        **context,
    )


# --- a product ------------------------------------------------------------------------------------


def _public_product_or_404(product_id: int) -> Product:
    product = services.public_product(product_id)
    if product is None:
        abort(404)
    return product


@bp.route("/products/<int:product_id>")
def product_show(product_id: int):
    product = _public_product_or_404(product_id)
    shop = product.shop
    product_url = url_for("mall.product_show", product_id=product.id, _external=True)
    share_text = f"{product.name} ({price_text(product)}) \u2013 {shop.name}: {product_url}"
    cover = product.cover
    response = render_page(
        "mall/product_show.html",
        product=product,
        shop=shop,
        more=services.more_from_shop(product),
        product_url=product_url,
        share_url="https://wa.me/?text=" + quote(share_text, safe=""),
        og_image=url_for("mall.photo", key=cover.key, _external=True) if cover else None,
    )
    # Counted after rendering: the commit expires the objects the template reads.
    if _counts_as_visit():
        services.record_view(product)
        db.session.commit()
    return response


@bp.route("/products/<int:product_id>/whatsapp")
def product_whatsapp(product_id: int):
    """Count the click, then send the visitor to the seller's WhatsApp with a prefilled text."""
    product = _public_product_or_404(product_id)
    link = services.whatsapp_link(
        product, url_for("mall.product_show", product_id=product.id, _external=True)
    )
    if request.method == "GET":
        services.record_whatsapp_click(product)
        db.session.commit()
    if is_htmx():
        # An XHR cannot follow a redirect to another site; ask htmx for a real navigation.
        response = make_response("", 204)
        response.headers["HX-Redirect"] = link
    else:
        response = redirect(link, code=302)
    response.headers["Cache-Control"] = "no-store"  # every click reaches the counter
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/products/<int:product_id>/report", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config.get("MALL_REPORT_RATE_LIMIT", REPORT_RATE_LIMIT), methods=["POST"]
)
def product_report(product_id: int):
    """Anyone (logged in or not) may report a listing to the moderators."""
    product = _public_product_or_404(product_id)
    form = ReportForm()
    if form.validate_on_submit():
        reporter = current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[attr-defined]
        outcome = perform(
            lambda: services.report_product(
                product, ReportReason(form.reason.data), form.detail.data or "", reporter
            ),
            form,
        )
        if outcome.ok:
            flash(
                _("Thank you. The moderators will look at this listing soon."),
                "success",
            )
            return hx_redirect(url_for("mall.product_show", product_id=product_id))
    return render_form("mall/product_report.html", form, product=product)


# --- a shop ---------------------------------------------------------------------------------------


@bp.route("/shops/<slug>")
def shop_show(slug: str):
    shop = services.public_shop(slug)
    if shop is None:
        abort(404)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_SHOP_PAGE)
    products, has_more = services.shop_catalogue(shop, page)
    if page > 1 and not products:
        abort(404)
    return render_page(
        "mall/shop_show.html",
        shop=shop,
        products=products,
        page=page,
        has_more=has_more,
        whatsapp_url=f"https://wa.me/{shop.whatsapp.lstrip('+')}",
    )


# --- photos ---------------------------------------------------------------------------------------


def _is_mall_image(key: str) -> bool:
    """Only keys of product photos and shop logos are public; other areas' files never are."""
    if len(key) > 120 or not key.startswith(f"{services.STORAGE_NAMESPACE}/"):
        return False
    photo = db.session.scalar(
        select(ProductPhoto.id)
        .where(or_(ProductPhoto.key == key, ProductPhoto.thumb_key == key))
        .limit(1)
    )
    if photo is not None:
        return True
    return db.session.scalar(select(Shop.id).where(Shop.logo_key == key).limit(1)) is not None


@bp.route("/photos/<path:key>")
def photo(key: str):
    """A product photo or shop logo (WebP). Keys are random and never reused, so a year's cache."""
    if not _is_mall_image(key):
        abort(404)
    try:
        data = get_storage().read(key)
    except (ValueError, OSError):
        abort(404)
    response = make_response(data)
    response.mimetype = "image/webp"
    response.headers["Cache-Control"] = PHOTO_CACHE
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; frame-ancestors 'none'; sandbox"
    )
    return response
