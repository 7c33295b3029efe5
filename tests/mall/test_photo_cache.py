"""Public photos can sit in shared caches: they must never carry a cookie, even for a visitor
who is logged in."""

from __future__ import annotations

from flask import Flask

from tests.factories import make_product


def test_a_photo_for_a_logged_in_visitor_is_still_a_public_cacheable_file(
    app: Flask, client, login_as
):
    import io

    from PIL import Image

    from portal.core.uploads import ALLOWED_PHOTO_KINDS, check_upload
    from portal.mall import services as mall

    class Upload(io.BytesIO):
        filename = "a.png"

    buf = io.BytesIO()
    Image.new("RGB", (60, 40), "red").save(buf, "PNG")
    with app.test_request_context():
        product = make_product(commit=False)
        checked = check_upload(
            Upload(buf.getvalue()), field="photo", allowed=ALLOWED_PHOTO_KINDS, max_bytes=1 << 20
        )
        photo = mall.add_photo(product, product.shop.owner, checked)
        key = photo.thumb_key
        from portal.extensions import db

        db.session.commit()
    login_as()
    response = client.get(f"/mall/photos/{key}")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in response.headers
