"""Deli Serdang Mall operations: categories, shops and their verification, products and photos,
the public catalogue, counts for sellers, and moderation of reported listings.

Services take model objects and plain data, flush but never commit, and refuse with
DomainError. There is no checkout: the portal never holds a buyer's money, it only puts the
buyer in touch with the seller on WhatsApp.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.accounts.models import Role, RoleGrant, User
from portal.core.audit import record_audit
from portal.core.errors import DomainError
from portal.core.identity import normalize_phone
from portal.core.notifications import notify
from portal.core.time import today_wib, utcnow
from portal.core.uploads import CheckedUpload, get_storage, webp_variants
from portal.extensions import db
from portal.mall import search
from portal.mall.models import (
    MAX_PHOTOS,
    PUBLIC_SHOP_STATUSES,
    UNITS,
    Availability,
    MallCategory,
    PriceKind,
    Product,
    ProductPhoto,
    ProductStat,
    ProductStatus,
    Report,
    ReportReason,
    ReportStatus,
    Shop,
    ShopActor,
    ShopStatus,
)

PHOTO_SIZES = (1200, 400)  # display, thumbnail (longest side, px)
STORAGE_NAMESPACE = "mall"
PER_PAGE = 24

DEFAULT_CATEGORIES = [
    ("kuliner", "Kuliner"),
    ("fesyen", "Fesyen, ulos, songket & tenun"),
    ("kriya", "Kriya & kerajinan"),
    ("pertanian", "Pertanian, peternakan & perikanan"),
    ("herbal", "Herbal, kesehatan & kecantikan"),
    ("dekorasi", "Dekorasi & furnitur"),
    ("jasa", "Jasa"),
]

NIB_RE = re.compile(r"^\d{13}$")
PIRT_RE = re.compile(r"^\d{15}$")
HALAL_RE = re.compile(r"^ID\d{10,30}$")
BPOM_RE = re.compile(r"^(MD|ML|NA|NB|NC|ND|NE|TR|TI|TL|SI|SD|FF|QD|QL|CA|CD|DBL|DKL)\d{6,16}$")


# --- categories -------------------------------------------------------------------------------


def seed_categories() -> int:
    """The suggested categories of DOMAIN.md (admins edit them). Idempotent."""
    existing = set(db.session.scalars(select(MallCategory.slug)))
    added = 0
    for position, (slug, name) in enumerate(DEFAULT_CATEGORIES):
        if slug not in existing:
            db.session.add(MallCategory(slug=slug, name=name, position=position))
            added += 1
    db.session.flush()
    return added


def active_categories() -> list[MallCategory]:
    return list(
        db.session.scalars(
            select(MallCategory)
            .where(MallCategory.is_active.is_(True))
            .order_by(MallCategory.position, MallCategory.name)
        )
    )


def save_category(category: MallCategory | None, **data: Any) -> MallCategory:
    slug = data.get("slug") or (category.slug if category else None)
    clash = db.session.scalar(select(MallCategory).where(MallCategory.slug == slug))
    if clash is not None and clash is not category:
        raise DomainError("slug", _("Another category already uses this short name"))
    if category is None:
        position = db.session.scalar(select(func.max(MallCategory.position))) or 0
        category = MallCategory(position=position + 1)
        db.session.add(category)
    for key, value in data.items():
        setattr(category, key, value)
    db.session.flush()
    return category


# --- shops ------------------------------------------------------------------------------------


def slugify(name: str) -> str:
    return "-".join(search.fold(name).split())[:50] or "toko"


def _unique_slug(name: str, shop: Shop | None) -> str:
    base, n = slugify(name), 1
    slug = base
    while True:
        clash = db.session.scalar(select(Shop).where(Shop.slug == slug))
        if clash is None or clash is shop:
            return slug
        n += 1
        slug = f"{base}-{n}"


def normalize_legality(data: dict[str, Any]) -> dict[str, Any]:
    """Format checks of the optional legality numbers; returns them normalised.

    NIB: 13 digits. P-IRT: 15 digits, the last two the expiry year (written "P-IRT No.
    1234567890123-45"). Halal: "ID" and digits, with an optional expiry date. BPOM: a
    registration prefix (MD, ML, NA, TR...) and digits.
    """
    out = dict(data)

    def compact(value: Any) -> str:
        return re.sub(r"[\s.\-/]", "", str(value or "")).upper()

    nib = compact(out.get("nib"))
    if nib and not NIB_RE.match(nib):
        raise DomainError("nib", _("An NIB has 13 digits"))
    out["nib"] = nib or None
    pirt = compact(out.get("pirt_number")).removeprefix("PIRTNO").removeprefix("PIRT")
    if pirt and not PIRT_RE.match(pirt):
        raise DomainError("pirt_number", _("A P-IRT number has 15 digits, like 1234567890123-45"))
    out["pirt_number"] = pirt or None
    out["pirt_expiry_year"] = 2000 + int(pirt[-2:]) if pirt else None
    halal = compact(out.get("halal_number"))
    if halal and not HALAL_RE.match(halal):
        raise DomainError(
            "halal_number", _("A halal certificate number starts with ID followed by digits")
        )
    out["halal_number"] = halal or None
    if not halal:
        out["halal_expiry"] = None
    bpom = compact(out.get("bpom_number")).removeprefix("BPOMRI").removeprefix("BPOM")
    if bpom and not BPOM_RE.match(bpom):
        raise DomainError(
            "bpom_number", _("A BPOM number starts with its code (MD, ML, NA, TR...) and digits")
        )
    out["bpom_number"] = bpom or None
    return out


def _shop_fields(shop: Shop, data: dict[str, Any]) -> None:
    data = normalize_legality(data)
    name = (data.get("name") or "").strip()
    if not name:
        raise DomainError("name", _("Enter the shop's name"))
    phone = normalize_phone(data.pop("whatsapp", "") or "")
    if phone is None:
        raise DomainError("whatsapp", _("Enter the shop's WhatsApp number, like 0812 3456 7890"))
    shop.whatsapp = phone
    slug = data.pop("slug", None)
    if shop.slug is None:
        # Set once: a renamed shop keeps its web address, so links already shared keep working.
        shop.slug = _unique_slug(slug or name, shop)
    for key, value in data.items():
        setattr(shop, key, value)
    shop.updated_at = utcnow()


def open_shop(owner: User, **data: Any) -> Shop:
    """Any logged-in resident may open one shop; it starts as a draft."""
    if db.session.scalar(select(Shop.id).where(Shop.owner_id == owner.id)) is not None:
        raise DomainError(None, _("You already have a shop."))
    shop = Shop(owner=owner, status=ShopStatus.DRAFT)
    _shop_fields(shop, data)
    db.session.add(shop)
    _flush()
    return shop


LEGALITY_FIELDS = ("nib", "pirt_number", "halal_number", "halal_expiry", "bpom_number")


def save_shop(shop: Shop, owner: User, **data: Any) -> Shop:
    """Update the shop. New legality numbers on a verified shop send it back for verification:
    a badge is only shown for numbers an officer has looked at."""
    _require_owner(shop, owner)
    renamed = data.get("name") and data["name"] != shop.name
    before = [getattr(shop, f) for f in LEGALITY_FIELDS]
    _shop_fields(shop, data)
    if shop.status == ShopStatus.VERIFIED and before != [getattr(shop, f) for f in LEGALITY_FIELDS]:
        shop.move_to(ShopStatus.SUBMITTED, ShopActor.SELLER)
        shop.submitted_at = utcnow()
    _flush()
    if renamed:
        for product in db.session.scalars(select(Product).where(Product.shop_id == shop.id)):
            search.index_product(product)
    return shop


def set_logo(shop: Shop, owner: User, checked: CheckedUpload) -> None:
    _require_owner(shop, owner)
    (logo,) = webp_variants(checked, (400,))
    old = shop.logo_key
    shop.logo_key = get_storage().save(logo.data, ".webp", namespace=STORAGE_NAMESPACE)
    shop.logo_width, shop.logo_height = logo.width, logo.height
    _flush()
    if old:
        get_storage().delete(old)


def submit_shop(shop: Shop, owner: User) -> None:
    """Ask the regency to verify the shop (again, after changes were requested)."""
    _require_owner(shop, owner)
    shop.move_to(ShopStatus.SUBMITTED, ShopActor.SELLER)
    shop.submitted_at = utcnow()
    shop.status_reason = ""
    _flush()


def verify_shop(shop: Shop, admin: User) -> None:
    """Verified: the "Terverifikasi" badge, and the owner gets the seller role."""
    _require_admin(admin)
    shop.move_to(ShopStatus.VERIFIED, ShopActor.ADMIN)
    shop.verified_at, shop.verified_by_id, shop.status_reason = utcnow(), admin.id, ""
    if not shop.owner.has_role(Role.SELLER):
        db.session.add(
            RoleGrant(user=shop.owner, role=Role.SELLER, scope="", granted_by_id=admin.id)
        )
        record_audit("role_granted", actor=admin, target_user=shop.owner, role="seller", scope="")
    _flush()
    record_audit("mall_shop_verified", actor=admin, target_user=shop.owner, shop_id=shop.id)
    _tell_owner(shop, _("Your shop %(name)s is verified", name=shop.name), "")


def request_changes(shop: Shop, admin: User, reason: str) -> None:
    _require_admin(admin)
    if not (reason or "").strip():
        raise DomainError("reason", _("Tell the seller what to change"))
    shop.move_to(ShopStatus.CHANGES_REQUESTED, ShopActor.ADMIN)
    shop.status_reason = reason.strip()
    _flush()
    _tell_owner(shop, _("Changes requested for %(name)s", name=shop.name), shop.status_reason)


def suspend_shop(shop: Shop, admin: User, reason: str) -> None:
    _require_admin(admin)
    if not (reason or "").strip():
        raise DomainError("reason", _("Give the reason for the suspension"))
    shop.move_to(ShopStatus.SUSPENDED, ShopActor.ADMIN)
    shop.status_reason = reason.strip()
    _flush()
    record_audit("mall_shop_suspended", actor=admin, target_user=shop.owner, shop_id=shop.id)
    _tell_owner(shop, _("Your shop %(name)s is suspended", name=shop.name), shop.status_reason)


def reinstate_shop(shop: Shop, admin: User) -> None:
    _require_admin(admin)
    shop.move_to(ShopStatus.VERIFIED, ShopActor.ADMIN)
    shop.status_reason = ""
    _flush()
    _tell_owner(shop, _("Your shop %(name)s is active again", name=shop.name), "")


def shop_of(user: User) -> Shop | None:
    return db.session.scalar(select(Shop).where(Shop.owner_id == user.id))


def public_shop(slug: str) -> Shop | None:
    shop = db.session.scalar(select(Shop).where(Shop.slug == slug))
    return shop if shop is not None and shop.is_public else None


def shops_to_verify() -> list[Shop]:
    return list(
        db.session.scalars(
            select(Shop)
            .where(Shop.status == ShopStatus.SUBMITTED)
            .options(joinedload(Shop.owner), joinedload(Shop.category))
            .order_by(Shop.submitted_at, Shop.id)
        )
    )


# --- products ---------------------------------------------------------------------------------


def _product_fields(product: Product, data: dict[str, Any]) -> None:
    name = (data.get("name") or "").strip()
    if not name:
        raise DomainError("name", _("Enter the product's name"))
    kind = PriceKind(data.get("price_kind") or PriceKind.FIXED)
    low, high = data.get("price_min"), data.get("price_max")
    if kind is PriceKind.FIXED:
        if low is None or low < 0:
            raise DomainError("price_min", _("Enter the price in rupiah"))
        high = None
    elif kind is PriceKind.RANGE:
        if low is None or high is None or low < 0:
            raise DomainError("price_min", _("Enter the lowest and the highest price"))
        if high <= low:
            raise DomainError("price_max", _("The highest price must be more than the lowest"))
    else:
        low = high = None
    if data.get("unit") not in UNITS:
        raise DomainError("unit", _("Choose a unit from the list"))
    min_order = 1 if data.get("min_order") is None else int(data["min_order"])
    if min_order < 1:
        raise DomainError("min_order", _("The minimum order is at least 1"))
    data = {
        **data, "price_kind": kind, "price_min": low, "price_max": high, "name": name,
        "min_order": min_order,
    }  # fmt: skip
    for key, value in data.items():
        setattr(product, key, value)
    product.updated_at = utcnow()


def save_product(shop: Shop, product: Product | None, owner: User, **data: Any) -> Product:
    """Create (as a draft) or update a product of the owner's shop."""
    _require_owner(shop, owner)
    if product is None:
        position = db.session.scalar(
            select(func.max(Product.position)).where(Product.shop_id == shop.id)
        )
        product = Product(shop=shop, status=ProductStatus.DRAFT, position=(position or 0) + 1)
        db.session.add(product)
    elif product.shop_id != shop.id:
        raise DomainError(None, _("This product belongs to another shop."))
    _product_fields(product, data)
    _flush()
    search.index_product(product)
    return product


def set_product_status(product: Product, owner: User, status: ProductStatus) -> None:
    """Publish, hide or return to draft; a product blocked by a moderator stays hidden."""
    _require_owner(product.shop, owner)
    if status is ProductStatus.PUBLISHED:
        if product.blocked_reason is not None:
            raise DomainError(
                None, _("This product was hidden by a moderator and cannot be published.")
            )
        if product.published_at is None:
            product.published_at = utcnow()
    product.status = status
    product.updated_at = utcnow()
    _flush()


def quick_edit(
    product: Product, owner: User, *, price_min: int | None, availability: Availability
) -> None:
    """The dashboard's inline edit: the (lowest) price and the availability."""
    _require_owner(product.shop, owner)
    if product.price_kind is not PriceKind.ASK:
        if price_min is None or price_min < 0:
            raise DomainError("price_min", _("Enter the price in rupiah"))
        if product.price_max is not None and price_min >= product.price_max:
            raise DomainError("price_min", _("The lowest price must be less than the highest"))
        product.price_min = price_min
    product.availability = availability
    product.updated_at = utcnow()
    _flush()


def duplicate_product(product: Product, owner: User) -> Product:
    """A draft copy with the same details and photos (copied, so each can be removed alone)."""
    _require_owner(product.shop, owner)
    columns = [
        "category_id", "price_kind", "price_min", "price_max", "unit", "min_order",
        "availability", "description", "ships_pickup", "ships_local", "ships_national",
    ]  # fmt: skip
    copy = save_product(
        product.shop,
        None,
        owner,
        name=_("%(name)s (copy)", name=product.name)[:120],
        **{c: getattr(product, c) for c in columns},
    )
    storage = get_storage()
    for photo in product.photos:
        copy.photos.append(
            ProductPhoto(
                position=photo.position,
                key=storage.save(storage.read(photo.key), ".webp", namespace=STORAGE_NAMESPACE),
                width=photo.width,
                height=photo.height,
                thumb_key=storage.save(
                    storage.read(photo.thumb_key), ".webp", namespace=STORAGE_NAMESPACE
                ),
                thumb_width=photo.thumb_width,
                thumb_height=photo.thumb_height,
            )
        )
    _flush()
    return copy


def add_photo(product: Product, owner: User, checked: CheckedUpload) -> ProductPhoto:
    """Store a checked photo as a display WebP and a thumbnail; at most five per product."""
    _require_owner(product.shop, owner)
    if len(product.photos) >= MAX_PHOTOS:
        raise DomainError("photo", _("A product has at most 5 photos; remove one first"))
    display, thumb = webp_variants(checked, PHOTO_SIZES)
    storage = get_storage()
    photo = ProductPhoto(
        position=(max((p.position for p in product.photos), default=0) + 1),
        key=storage.save(display.data, ".webp", namespace=STORAGE_NAMESPACE),
        width=display.width,
        height=display.height,
        thumb_key=storage.save(thumb.data, ".webp", namespace=STORAGE_NAMESPACE),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
    )
    product.photos.append(photo)
    _flush()
    return photo


def remove_photo(photo: ProductPhoto, owner: User) -> None:
    product = photo.product
    _require_owner(product.shop, owner)
    keys = (photo.key, photo.thumb_key)
    product.photos.remove(photo)
    _flush()
    for key in keys:
        get_storage().delete(key)


def move_photo(photo: ProductPhoto, owner: User, offset: int) -> None:
    """Move a photo one place earlier (-1) or later (+1); the first photo is the cover."""
    product = photo.product
    _require_owner(product.shop, owner)
    photos = list(product.photos)
    i = photos.index(photo)
    j = i + offset
    if not 0 <= j < len(photos):
        return
    photos[i], photos[j] = photos[j], photos[i]
    for position, item in enumerate(photos, start=1):
        item.position = position
    _flush()
    db.session.refresh(product, ["photos"])


def shop_products(shop: Shop) -> list[Product]:
    """Every product of a shop for its seller's dashboard, photos loaded in one query."""
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.shop_id == shop.id)
            .options(selectinload(Product.photos))
            .order_by(Product.position, Product.id)
        )
    )


# --- counts -------------------------------------------------------------------------------------


def _bump(product_id: int, column: str) -> None:
    """+1 on today's row, created when missing, safe when two visitors count at once."""
    day = today_wib()
    stmt = (
        update(ProductStat)
        .where(ProductStat.product_id == product_id, ProductStat.day == day)
        .values({column: getattr(ProductStat, column) + 1})
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(stmt).rowcount:  # type: ignore[attr-defined]
        return
    try:
        with db.session.begin_nested():
            db.session.add(ProductStat(product_id=product_id, day=day, **{column: 1}))
    except IntegrityError:
        db.session.execute(stmt)


def _count_without_waiting() -> None:
    """Let PostgreSQL acknowledge this transaction's commit before its WAL reaches the disk.

    Only for transactions that hold nothing but a visitor count: a crash may forget the last
    few counts (never corrupt them), and a product page no longer waits for a disk flush.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def record_view(product: Product) -> None:
    """Count a product page view; call it in a transaction that only counts (see above)."""
    _count_without_waiting()
    _bump(product.id, "views")


def record_whatsapp_click(product: Product) -> None:
    """Count a click on "Chat on WhatsApp"; a transaction that only counts, like record_view."""
    _count_without_waiting()
    _bump(product.id, "wa_clicks")


def stats_30_days(shop: Shop, today: dt.date | None = None) -> dict[int, tuple[int, int]]:
    """{product_id: (views, WhatsApp clicks)} over the last 30 days, in one query."""
    since = (today or today_wib()) - dt.timedelta(days=29)
    rows = db.session.execute(
        select(ProductStat.product_id, func.sum(ProductStat.views), func.sum(ProductStat.wa_clicks))
        .join(Product, Product.id == ProductStat.product_id)
        .where(Product.shop_id == shop.id, ProductStat.day >= since)
        .group_by(ProductStat.product_id)
    ).all()
    return {pid: (int(v or 0), int(c or 0)) for pid, v, c in rows}


def whatsapp_link(product: Product, product_url: str) -> str:
    """wa.me link to the seller with a message naming the product and its page."""
    message = _(
        "Hello %(shop)s, I am interested in %(product)s on Deli Serdang Mall: %(url)s",
        shop=product.shop.name,
        product=product.name,
        url=product_url,
    )
    return f"https://wa.me/{product.shop.whatsapp.lstrip('+')}?text={quote(message)}"


# --- the catalogue ------------------------------------------------------------------------------

SORTS = ("relevance", "newest", "price_asc", "price_desc")


@dataclass
class CatalogueQuery:
    q: str = ""
    category: str = ""
    kecamatan: str = ""
    price_min: int | None = None
    price_max: int | None = None
    verified_only: bool = False
    halal_only: bool = False
    available_now: bool = False
    sort: str = "relevance"


@dataclass
class CataloguePage:
    products: list[Product]
    next_cursor: str | None


def _public_filter(stmt: Select[Any]) -> Select[Any]:
    return stmt.where(
        Product.status == ProductStatus.PUBLISHED,
        Product.blocked_reason.is_(None),
        Shop.status.in_(PUBLIC_SHOP_STATUSES),
    )


def catalogue(
    query: CatalogueQuery, cursor: str | None = None, per_page: int = PER_PAGE
) -> CataloguePage:
    """One page of the public catalogue and the cursor of the next ("load more").

    Keyset pagination: the cursor holds the last row's sort key and id, so page 400 costs what
    page 1 costs. Products, shops and photos come in three queries whatever the page size.
    """
    words = search.terms(query.q)
    sort = query.sort if query.sort in SORTS else "relevance"
    if sort == "relevance" and not words:
        sort = "newest"
    stmt = _public_filter(select(Product).join(Shop, Shop.id == Product.shop_id))
    score = None
    if words and sort == "relevance":
        matches = search.matches(words)
        stmt = stmt.join(matches, matches.c.product_id == Product.id)
        score = matches.c.score
    elif words:
        stmt = stmt.where(search.match_condition(words))
    if query.category:
        stmt = stmt.join(MallCategory, MallCategory.id == Product.category_id).where(
            MallCategory.slug == query.category
        )
    if query.kecamatan:
        stmt = stmt.where(Shop.kecamatan_code == query.kecamatan)
    if query.price_min is not None:
        stmt = stmt.where(func.coalesce(Product.price_max, Product.price_min) >= query.price_min)
    if query.price_max is not None:
        stmt = stmt.where(Product.price_min <= query.price_max)
    if query.verified_only:
        stmt = stmt.where(Shop.status == ShopStatus.VERIFIED)
    if query.halal_only:
        stmt = stmt.where(
            Shop.halal_number.is_not(None),
            or_(Shop.halal_expiry.is_(None), Shop.halal_expiry >= today_wib()),
        )
    if query.available_now:
        stmt = stmt.where(Product.availability == Availability.AVAILABLE)
    stmt = _order(stmt, sort, score, cursor)
    rows = list(
        db.session.execute(
            stmt.options(
                joinedload(Product.shop), selectinload(Product.photos), joinedload(Product.category)
            ).limit(per_page + 1)
        ).unique()
    )
    more = len(rows) > per_page
    rows = rows[:per_page]
    products = [row[0] for row in rows]
    next_cursor = _cursor(sort, rows[-1]) if more and rows else None
    return CataloguePage(products, next_cursor)


def _order(stmt: Select[Any], sort: str, score: Any, cursor: str | None) -> Select[Any]:
    """Add the sort key as a column, the keyset condition after `cursor`, and the ordering."""
    after = _parse_cursor(cursor, sort)
    if sort == "relevance":
        stmt = stmt.add_columns(score.label("sort_key"))
        if after is not None:
            value, last_id = after
            stmt = stmt.where(or_(score < value, and_(score == value, Product.id < last_id)))
        return stmt.order_by(score.desc(), Product.id.desc())
    if sort == "newest":
        key = Product.published_at
        stmt = stmt.add_columns(key.label("sort_key"))
        if after is not None:
            value, last_id = after
            stmt = stmt.where(or_(key < value, and_(key == value, Product.id < last_id)))
        return stmt.order_by(key.desc(), Product.id.desc())
    # By price: "ask the seller" products (no price) are left out of a price ordering.
    key = Product.price_min
    stmt = stmt.add_columns(key.label("sort_key")).where(key.is_not(None))
    if sort == "price_asc":
        if after is not None:
            value, last_id = after
            stmt = stmt.where(or_(key > value, and_(key == value, Product.id > last_id)))
        return stmt.order_by(key.asc(), Product.id.asc())
    if after is not None:
        value, last_id = after
        stmt = stmt.where(or_(key < value, and_(key == value, Product.id < last_id)))
    return stmt.order_by(key.desc(), Product.id.desc())


def _cursor(sort: str, row: Any) -> str:
    value = row.sort_key
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    return f"{value}~{row[0].id}"


def _parse_cursor(cursor: str | None, sort: str) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor holds, typed for `sort`; None for anything malformed."""
    if not cursor or "~" not in cursor:
        return None
    raw, _sep, last = cursor.rpartition("~")
    if not last.isdigit() or not raw:
        return None
    try:
        if sort == "relevance":
            value: Any = float(raw)
        elif sort == "newest":
            value = dt.datetime.fromisoformat(raw)
        else:
            value = int(raw)
    except ValueError:
        return None
    return value, int(last)


def public_product(product_id: int) -> Product | None:
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.shop), selectinload(Product.photos))
    )
    return product if product is not None and product.is_public else None


def more_from_shop(product: Product, limit: int = 6) -> list[Product]:
    stmt = _public_filter(select(Product).join(Shop, Shop.id == Product.shop_id)).where(
        Product.shop_id == product.shop_id, Product.id != product.id
    )
    return list(
        db.session.scalars(
            stmt.options(selectinload(Product.photos))
            .order_by(Product.position, Product.id)
            .limit(limit)
        )
    )


def shop_catalogue(
    shop: Shop, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[Product], bool]:
    """A shop's public products in the seller's order; (products, whether there are more)."""
    stmt = _public_filter(select(Product).join(Shop, Shop.id == Product.shop_id)).where(
        Product.shop_id == shop.id
    )
    rows = list(
        db.session.scalars(
            stmt.options(selectinload(Product.photos))
            .order_by(Product.position, Product.id)
            .limit(per_page + 1)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    return rows[:per_page], len(rows) > per_page


# --- reports and moderation ---------------------------------------------------------------------


def report_product(
    product: Product, reason: ReportReason, detail: str, reporter: User | None
) -> Report:
    if reason is ReportReason.OTHER and not (detail or "").strip():
        raise DomainError("detail", _("Say what is wrong with this listing"))
    report = Report(
        product=product, reason=reason, detail=(detail or "").strip()[:2000], reporter=reporter
    )
    db.session.add(report)
    _flush()
    return report


def open_reports(limit: int = 100) -> list[Report]:
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.status == ReportStatus.OPEN)
            .options(joinedload(Report.product).joinedload(Product.shop))
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        )
    )


def resolve_report(report: Report, admin: User, action: ReportStatus, note: str) -> None:
    """Hide the listing, warn the seller, suspend the shop, or dismiss the report."""
    _require_admin(admin)
    if report.status is not ReportStatus.OPEN:
        raise DomainError(None, _("This report has already been handled."))
    if action is ReportStatus.OPEN:
        raise DomainError("action", _("Choose what to do"))
    note = (note or "").strip()
    if action is not ReportStatus.DISMISSED and not note:
        raise DomainError("note", _("Write the reason the seller will read"))
    product, shop = report.product, report.product.shop
    if action is ReportStatus.HIDDEN:
        product.blocked_reason = note
        product.status = ProductStatus.HIDDEN
        _tell_owner(shop, _("Your product %(name)s was hidden", name=product.name), note)
    elif action is ReportStatus.WARNED:
        shop.warnings += 1
        _tell_owner(shop, _("A warning about %(name)s", name=product.name), note)
    elif action is ReportStatus.SUSPENDED:
        suspend_shop(shop, admin, note)
    report.status, report.resolution_note = action, note
    report.resolved_by_id, report.resolved_at = admin.id, utcnow()
    _flush()
    record_audit(
        "mall_report_resolved", actor=admin, target_user=shop.owner, report_id=report.id,
        outcome=action.value,
    )  # fmt: skip


def unblock_product(product: Product, admin: User) -> None:
    _require_admin(admin)
    product.blocked_reason = None
    _flush()


# --- internals ----------------------------------------------------------------------------------


def _require_owner(shop: Shop, user: User) -> None:
    if shop.owner_id != user.id:
        raise DomainError(None, _("Only the shop's owner can do this."))


def _require_admin(user: User) -> None:
    if not user.has_role(Role.ADMIN):
        raise DomainError(None, _("Only an administrator can do this."))


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise DomainError(
            None, _("Someone else changed this at the same time. Reload the page and try again.")
        ) from exc


def _tell_owner(shop: Shop, title: str, body: str) -> None:
    from flask import url_for

    notify(shop.owner_id, title, body, url_for("mall_seller.dashboard"))


def shops_by_ids(ids: Sequence[int]) -> dict[int, Shop]:
    return {s.id: s for s in db.session.scalars(select(Shop).where(Shop.id.in_(ids)))}
