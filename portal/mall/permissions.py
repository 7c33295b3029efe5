"""Whose Deli Serdang Mall records a seller may open: their own shop and its products and photos.

Another seller's product or photo is a 404, never a 403, so its existence stays hidden.
"""

from __future__ import annotations

from flask import abort

from portal.accounts.models import User
from portal.extensions import db
from portal.mall import services
from portal.mall.models import Product, ProductPhoto, Shop


def get_own_shop_or_404(user: User) -> Shop:
    """The user's own shop; a 404 when they have not opened one."""
    shop = services.shop_of(user)
    if shop is None:
        abort(404)
    return shop


def get_own_product_or_404(product_id: int, user: User) -> Product:
    """A product of the user's own shop; anyone else's (or none) is a 404."""
    product = db.session.get(Product, product_id)
    if product is None or product.shop.owner_id != user.id:
        abort(404)
    return product


def get_own_photo_or_404(photo_id: int, user: User) -> ProductPhoto:
    """A photo of a product of the user's own shop; anyone else's (or none) is a 404."""
    photo = db.session.get(ProductPhoto, photo_id)
    if photo is None or photo.product.shop.owner_id != user.id:
        abort(404)
    return photo
