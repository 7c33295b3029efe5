"""Every upload form of the portal against one corpus of hostile files (tests/security/hostile.py).

For each (upload endpoint x corpus item) the portal must either refuse the file, with the form
shown again (422) and an error summary naming the problem, or the 413 page for a body over
MAX_CONTENT_LENGTH, and keep nothing; or neutralise it: an image is decoded and re-encoded (the
stored bytes are a clean image with no trailing payload, no EXIF/GPS, under a random key with no
trace of the given name), a PDF is kept and only ever served as a download. The pages that
serve the stored files are checked too, for each person who may open them.

Pages are read in English (the `lang` cookie), so the messages do not depend on the catalogue.
"""

from __future__ import annotations

import io
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageFile
from sqlalchemy import select
from werkzeug.http import parse_options_header

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import Pickup, WasteUnit
from portal.mall import services as mall
from portal.mall.models import MallCategory, Product, Shop
from portal.sadoku import services as sadoku
from portal.sadoku.models import Attachment, Reason
from tests.conftest import log_in, post
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    VALID_KK,
    VALID_NIK,
    category,
    make_document_type,
    make_pickup,
    make_product,
    make_request,
    make_shop,
    make_unit,
    make_user,
)
from tests.security.hostile import (
    ACTIVE_PDF,
    CORPUS,
    NOT_ALLOWED,
    PAYLOAD_MARKERS,
    PDF,
    REFUSED,
    TOO_LARGE_BODY,
    TOO_LARGE_FILE,
    TOO_MANY_PIXELS,
    Hostile,
    oversize,
)

BASELINE = "baseline.png"  # the name of files the setup stored, not the test
DOCUMENTS = frozenset({"JPEG", "PNG", "PDF"})  # SADOKU attachments: what a scan may be
PHOTOS = frozenset({"JPEG", "PNG", "WEBP"})  # photos everywhere else
# What a stored file's path may look like: `<area>/<shard>/<32 random characters>.<ext>`.
KEY_RE = re.compile(r"[a-z_]+/([A-Za-z0-9_-]{2})/([A-Za-z0-9_-]{32})\.(jpg|png|webp|pdf)")
# Names sent as they are; any other goes RFC 5987-encoded (see `_send`).
PLAIN_NAME_RE = re.compile(r"[A-Za-z0-9 ._/-]*")
# Characters of a given name that must never reach a page as they are.
UNSAFE_CHARACTERS = set('<>"\\/\r\n\x00\u202e')
# A display name that is safe in a path, a header and a page.
SAFE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "PDF": ".pdf"}
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "PDF": "application/pdf",
}


@dataclass
class Served:
    """A stored file as the portal keeps it, and the URLs (with the client of someone allowed
    to open them) that serve it."""

    key: str
    urls: list[tuple[FlaskClient, str]]
    display_name: str | None = None  # the sanitised original name, where one is kept
    pages: list[tuple[FlaskClient, str]] = field(default_factory=list)  # pages showing that name


@dataclass
class Upload:
    """One upload form ready to be posted to."""

    url: str
    field: str  # the file input's name
    form: dict[str, Any]  # everything else the form needs to succeed
    limit_key: str  # the service's own size limit in the config
    kinds: frozenset[str]  # the formats it accepts, as Pillow names them (and PDF)
    # What the portal kept after the post; with True, also served to the staff who see it.
    stored: Callable[[bool], list[Served]]
    formats_kept: frozenset[str] | None = None  # what is on disk, when not the format sent


@pytest.fixture(autouse=True)
def _cheap_password_hashing(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test makes up to six accounts and logs in two; hashing is not what is tested here,
    and at even the test suite's cost it would take a third of this module's time."""
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 1)
    monkeypatch.setitem(app.config, "ARGON2_MEMORY_COST", 64)
    monkeypatch.setitem(app.config, "ARGON2_PARALLELISM", 1)


def _client(app: Flask, user_id: int) -> FlaskClient:
    """Another browser, logged in as `user_id` (the owner or an officer)."""
    other = app.test_client()
    other.set_cookie("lang", "en")
    with app.app_context():
        ident = db.session.get(User, user_id).email
    assert log_in(other, ident).status_code == 303
    return other


def _anonymous(app: Flask) -> FlaskClient:
    """A visitor who is not logged in (Mall photos are public)."""
    other = app.test_client()
    other.set_cookie("lang", "en")
    return other


# The staff's view of a stored file is the owner's view with another login (and its two-step
# code, the slowest part of a test); it is opened for one image and the PDF, not every item.
STAFF_VIEW_ITEMS = frozenset({"jpeg-exif-gps", "pdf-quoting-html"})


# --- the upload endpoints -------------------------------------------------------------------------


def _one_attachment_type() -> Any:
    return make_document_type(name="Surat Pindah Uji", attachment_names=["Kartu Keluarga (KK)"])


def _attachments_of(
    app: Flask, request_id: int, kind: str, viewers: list[FlaskClient | int], page: str | None
) -> list[Served]:
    """The request's files of `kind` uploaded by the test, their download URLs for each viewer
    (a logged-in client, or a user id to log in), and `page`, where the owner sees the name."""
    with app.test_request_context():
        rows = db.session.scalars(
            select(Attachment)
            .where(Attachment.request_id == request_id, Attachment.kind == kind)
            .where(Attachment.filename != BASELINE)
        ).all()
        found = [(a.id, a.storage_key, a.filename) for a in rows]
    if not found:
        return []
    clients = [v if isinstance(v, FlaskClient) else _client(app, v) for v in viewers]
    return [
        Served(
            key,
            [
                (c, url)
                for c in clients
                for url in (f"/sadoku/attachments/{aid}", f"/sadoku/attachments/{aid}?inline=1")
            ],
            display_name=name,
            pages=[(clients[0], page)] if page else [],
        )
        for aid, key, name in found
    ]


def sadoku_draft(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """Step 3 of a resident's draft: the attachments the document type asks for."""
    resident = login_as(full_name="Siti Aminah", nik=VALID_NIK, address=LUBUK_PAKAM_ADDRESS)
    with app.test_request_context():
        owner = db.session.get(User, resident.id)
        req = sadoku.start_request(owner, _one_attachment_type(), Reason.NEW)
        sadoku.save_subject_step(req, is_self=True, name="Siti Aminah", nik=VALID_NIK, kk=VALID_KK)
        db.session.commit()
        draft_id = req.id
    return Upload(
        url=f"/sadoku/drafts/{draft_id}/attachments",
        field="file_0",
        form={},
        limit_key="SADOKU_MAX_UPLOAD_BYTES",
        kinds=DOCUMENTS,
        # An unsent draft's scans are the resident's alone; officers see them once it is sent.
        stored=lambda staff: _attachments_of(
            app, draft_id, "document", [client], f"/sadoku/drafts/{draft_id}/attachments"
        ),
    )


def sadoku_correction(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """A request sent back by an officer with its attachment marked to be replaced."""
    resident = login_as(full_name="Siti Aminah", nik=VALID_NIK, address=LUBUK_PAKAM_ADDRESS)
    with app.test_request_context():
        owner = db.session.get(User, resident.id)
        req = make_request(owner=owner, document_type=_one_attachment_type(), commit=False)
        for a in req.attachments:
            a.filename = BASELINE  # the first upload, not the test's
        officer = make_user(roles=(Role.SADOKU_OFFICER,), commit=False)
        sadoku.request_correction(req, officer, ["attachment:Kartu Keluarga (KK)"], "Buram")
        db.session.commit()
        request_id, code, officer_id = req.id, req.code, officer.id
    return Upload(
        url=f"/sadoku/requests/{code}/correct",
        field="file_0",
        form={"note": "Sudah diperbaiki"},
        limit_key="SADOKU_MAX_UPLOAD_BYTES",
        kinds=DOCUMENTS,
        stored=lambda staff: _attachments_of(
            app,
            request_id,
            "document",
            [client, officer_id] if staff else [client],
            f"/sadoku/requests/{code}",
        ),
    )


def sadoku_handover(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """The courier's photo of the hand-over, taken at the door."""
    courier = login_as(Role.SADOKU_COURIER, full_name="Kurir Satu")
    with app.test_request_context():
        req = make_request(status="out_for_delivery", courier=db.session.get(User, courier.id))
        officer = make_user(roles=(Role.SADOKU_OFFICER,))
        request_id, code, owner_id, officer_id = req.id, req.code, req.user_id, officer.id
    return Upload(
        url=f"/sadoku/officer/requests/{code}/status/delivered",
        field="photo",
        form={"received_by": "Siti (istri)", "relation": "family"},
        limit_key="SADOKU_MAX_UPLOAD_BYTES",
        kinds=PHOTOS,
        # The courier cannot open it again; the resident and the officers can.
        stored=lambda staff: _attachments_of(
            app, request_id, "handover", [owner_id, officer_id] if staff else [owner_id], None
        ),
    )


def _pickup_photo(
    app: Flask, owner: FlaskClient, owner_id: int, unit_id: int, staff: bool
) -> list[Served]:
    """The resident's photo, served to them (and with `staff`, to an officer of the unit)."""
    with app.test_request_context():
        pickup = db.session.scalar(select(Pickup).where(Pickup.user_id == owner_id))
        if pickup is None or not pickup.photo_key:
            return []
        key, pid = pickup.photo_key, pickup.id
        officer_id = make_user(roles=(Role.WASTE_OFFICER,), scope=str(unit_id)).id if staff else 0
    urls = [(owner, f"/jumpa-madu/pickups/{pid}/photo")]
    if staff:
        urls.append((_client(app, officer_id), f"/jumpa-madu/unit/pickups/{pid}/photo"))
    return [Served(key, urls)]


def jumpa_madu_pickup(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """A resident's pickup request with a photo of the sorted waste."""
    resident = login_as(full_name="Siti Aminah", address=LUBUK_PAKAM_ADDRESS)
    with app.test_request_context():
        unit = make_unit()
        unit_id, day, pet = unit.id, jm.pickup_days_ahead(unit)[0], category("pet").id
    form = {
        "kecamatan": LUBUK_PAKAM_ADDRESS["kecamatan_code"],
        "desa": LUBUK_PAKAM_ADDRESS["desa_code"],
        "street": "Jl. Sudirman No. 5",
        "rt": "1",
        "rw": "2",
        "landmark": "Dekat masjid",
        "latitude": "",
        "longitude": "",
        "action": "send",
        "unit_id": str(unit_id),
        "preferred_date": day.isoformat(),
        "window": "08:00-10:00",
        "note": "Karung di samping pagar",
        f"weight_{pet}": "4",
    }
    return Upload(
        url="/jumpa-madu/pickups/new",
        field="photo",
        form=form,
        limit_key="JUMPA_MADU_MAX_UPLOAD_BYTES",
        kinds=PHOTOS,
        stored=lambda staff: _pickup_photo(app, client, resident.id, unit_id, staff),
    )


def jumpa_madu_weighing(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """The unit officer's photos of the scale, saved with the weighing."""
    with app.test_request_context():
        unit_id = make_unit().id
    officer = login_as(Role.WASTE_OFFICER, scope=str(unit_id), full_name="Petugas Timbang")
    with app.test_request_context():
        unit = db.session.get(WasteUnit, unit_id)
        pickup = make_pickup(
            status="on_the_way", unit=unit, officer=db.session.get(User, officer.id)
        )
        pickup_id = pickup.id
        weights = {f"weight_{category('pet').id}": "2,3", f"weight_{category('kardus').id}": "1,5"}
    url = f"/jumpa-madu/unit/pickups/{pickup_id}"
    preview = post(client, url + "/weigh", {**weights, "action": "preview"})
    quoted = re.search(r'name="quoted" value="([^"]*)"', preview.get_data(as_text=True))
    assert quoted, "the weighing preview shows no amounts"

    def stored(staff: bool) -> list[Served]:
        with app.test_request_context():
            weighing = db.session.get(Pickup, pickup_id).current_weighing
            keys = list(weighing.photo_keys or []) if weighing else []
        return [
            Served(key, [(client, f"{url}/weighings/1/photos/{i}")]) for i, key in enumerate(keys)
        ]

    return Upload(
        url=url + "/weigh",
        field="photos",
        form={**weights, "quoted": quoted.group(1), "action": "save", "note": "Ditimbang"},
        limit_key="JUMPA_MADU_MAX_UPLOAD_BYTES",
        kinds=PHOTOS,
        stored=stored,
    )


def _shop_form() -> dict[str, str]:
    with_category = db.session.scalar(select(MallCategory.id).where(MallCategory.slug == "kuliner"))
    return {
        "name": "Kue Ani",
        "owner_name": "Ani Lestari",
        "description": "Kue basah dan kering khas Deli Serdang.",
        "category_id": str(with_category),
        "kecamatan": LUBUK_PAKAM_ADDRESS["kecamatan_code"],
        "desa": LUBUK_PAKAM_ADDRESS["desa_code"],
        "street": "Jl. Sudirman No. 5",
        "rt": "1",
        "rw": "2",
        "landmark": "",
        "latitude": "",
        "longitude": "",
        "whatsapp": "0812 7777 1234",
        "opening_hours": "Senin-Sabtu 08.00-17.00",
        "nib": "",
        "pirt_number": "",
        "halal_number": "",
        "halal_expiry": "",
        "bpom_number": "",
    }


def _logo(app: Flask, owner_id: int, staff: bool) -> list[Served]:
    with app.test_request_context():
        key = db.session.scalar(select(Shop.logo_key).where(Shop.owner_id == owner_id))
    return [Served(key, [(_anonymous(app), f"/mall/photos/{key}")])] if key else []


def mall_new_shop(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """Opening a shop, with its logo."""
    resident = login_as(full_name="Ani Lestari", phone="081299990000")
    with app.test_request_context():
        mall.seed_categories()
        db.session.commit()
        form = _shop_form()
    return Upload(
        url="/mall/my-shop/new",
        field="logo",
        form=form,
        limit_key="MALL_MAX_UPLOAD_BYTES",
        kinds=PHOTOS,
        formats_kept=frozenset({"WEBP"}),
        stored=lambda staff: _logo(app, resident.id, staff),
    )


def mall_product_photo(app: Flask, client: FlaskClient, login_as: Callable[..., Any]) -> Upload:
    """A product photo, stored as a display size and a thumbnail."""
    seller = login_as(full_name="Ani Lestari", phone="081299990000")
    with app.test_request_context():
        product_id = make_product(shop=make_shop(owner=db.session.get(User, seller.id))).id

    def stored(staff: bool) -> list[Served]:
        with app.test_request_context():
            photos = db.session.get(Product, product_id).photos
            keys = [k for p in photos for k in (p.key, p.thumb_key)]
        visitor = _anonymous(app)
        return [Served(key, [(visitor, f"/mall/photos/{key}")]) for key in keys]

    return Upload(
        url=f"/mall/my-shop/products/{product_id}/photos",
        field="photo",
        form={},
        limit_key="MALL_MAX_UPLOAD_BYTES",
        kinds=PHOTOS,
        formats_kept=frozenset({"WEBP"}),
        stored=stored,
    )


ENDPOINTS = {
    "sadoku-draft-attachment": sadoku_draft,
    "sadoku-correction-attachment": sadoku_correction,
    "sadoku-handover-photo": sadoku_handover,
    "jumpa-madu-pickup-photo": jumpa_madu_pickup,
    "jumpa-madu-weighing-photo": jumpa_madu_weighing,
    "mall-new-shop-logo": mall_new_shop,
    "mall-product-photo": mall_product_photo,
}


# --- what the portal must do ----------------------------------------------------------------------


def _csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token, from a cheap page (every page carries it for htmx)."""
    page = client.get("/hostile-uploads-no-such-page").get_data(as_text=True)
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _send(client: FlaskClient, upload: Upload, data: bytes, item: Hostile) -> Any:
    """POST the form with the file as a hostile client would, the file name byte for byte.

    Werkzeug's test client writes the name into the part header raw, so a quote or a line break
    would break the part itself; any name that is not plain ASCII goes as RFC 5987 `filename*`,
    which the server decodes back to exactly the name given (NUL, CR, LF, RTL override and all).
    """
    boundary = "hostile-" + secrets.token_hex(12)
    fields = {**upload.form, "csrf_token": _csrf_token(client)}
    body = bytearray()
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += str(value).encode() + b"\r\n"
    if PLAIN_NAME_RE.fullmatch(item.filename):
        filename = f'filename="{item.filename}"'
    else:
        filename = "filename*=UTF-8''" + quote(item.filename, safe="")
    body += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{upload.field}"; {filename}\r\n'
        f"Content-Type: {item.content_type}\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        upload.url, data=bytes(body), content_type=f"multipart/form-data; boundary={boundary}"
    )


def _files_on_disk(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _error_summary(page: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert match, "a refused upload shows no error summary"
    return match.group(0)


def _assert_refused(response: Any, upload: Upload, message: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:300]
    assert "<title>Error:" in page
    summary = _error_summary(page)
    assert message in summary
    assert f'href="#{upload.field}"' in summary  # the summary leads to the file input


def _assert_clean_image(data: bytes, formats: frozenset[str]) -> str:
    """The stored bytes are one image, wholly decoded, with nothing after it and no metadata."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        fmt = img.format
        assert fmt in formats
        assert not img.getexif(), "EXIF survived"
        assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp"} & set(img.info)
        assert not getattr(img, "text", None), "PNG text chunks survived"
        # A PNG's profile is compressed: look at it decoded, as a reader would.
        kept = img.info.get("icc_profile") or b""
        assert not any(marker in kept for marker in PAYLOAD_MARKERS), "a payload posed as profile"
    for marker in (*PAYLOAD_MARKERS, b"GPS", b"Exif\x00"):
        assert marker not in data, f"{marker!r} survived in the stored file"
    if fmt == "JPEG":
        assert data.endswith(b"\xff\xd9")
    elif fmt == "PNG":
        assert data.endswith(b"IEND\xaeB`\x82")
    elif fmt == "WEBP":
        assert int.from_bytes(data[4:8], "little") + 8 == len(data)
    return fmt


def _assert_served(served: Served, data: bytes, fmt: str) -> None:
    """Every page serving the file sends exactly the stored bytes, typed, unsniffable, sandboxed;
    a PDF only ever as a download; a kept name only sanitised."""
    for viewer, url in served.urls:
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert response.data == data
        assert response.mimetype == CONTENT_TYPES[fmt]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        disposition = response.headers.get("Content-Disposition")
        if fmt == "PDF":
            assert disposition and disposition.startswith("attachment;"), url
        if disposition is None:
            continue
        assert "\r" not in disposition and "\n" not in disposition
        kind, options = parse_options_header(disposition)
        assert kind in ("attachment", "inline")
        name = options.get("filename", "")
        assert SAFE_NAME_RE.fullmatch(name), name
        assert name.endswith(EXTENSIONS[fmt]) and ".." not in name
        if served.display_name is not None:
            assert name == served.display_name


def _assert_stored(
    upload: Upload, item: Hostile, root: Path, before: set[str], expected: str
) -> None:
    stored = upload.stored(item.id in STAFF_VIEW_ITEMS)
    assert stored, "an accepted upload left nothing to show"
    assert _files_on_disk(root) - before == {s.key for s in stored}
    for served in stored:
        assert KEY_RE.fullmatch(served.key), served.key  # a random key, not the given name
        data = (root / served.key).read_bytes()
        if expected == PDF:
            assert data == item.data  # kept as sent: a PDF cannot be rewritten here
            fmt = "PDF"
        else:
            fmt = _assert_clean_image(data, upload.formats_kept or upload.kinds)
        assert served.key.endswith(EXTENSIONS[fmt])
        if served.display_name is not None:
            name = served.display_name
            assert SAFE_NAME_RE.fullmatch(name) and name.endswith(EXTENSIONS[fmt]), name
            assert name not in served.key
        _assert_served(served, data, fmt)
        _assert_name_shown_safely(served, item)


def _assert_name_shown_safely(served: Served, item: Hostile) -> None:
    """Where the owner sees the kept name, it is the sanitised one, never the name as given."""
    for viewer, url in served.pages:
        page = viewer.get(url).get_data(as_text=True)
        assert served.display_name and served.display_name in page
        if set(item.filename) & UNSAFE_CHARACTERS:
            assert item.filename not in page


def _expected(item: Hostile, upload: Upload) -> tuple[str, str]:
    """(outcome, message) of `item` at `upload`: a PDF is refused where only photos go."""
    if item.expect == PDF and "PDF" not in upload.kinds:
        return REFUSED, NOT_ALLOWED
    if item.message == ACTIVE_PDF and "PDF" not in upload.kinds:
        return REFUSED, NOT_ALLOWED
    return item.expect, item.message


@pytest.mark.parametrize("item", CORPUS, ids=[i.id for i in CORPUS])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_hostile_file_is_refused_or_neutralised(
    app: Flask,
    client: FlaskClient,
    login_as,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    item: Hostile,
) -> None:
    """Refused with the form again (or the 413 page) and nothing kept, or kept neutralised."""
    client.set_cookie("lang", "en")
    # An upload root of the test's own: what is on disk afterwards is what this test stored.
    root = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_ROOT", str(root))
    upload = ENDPOINTS[endpoint](app, client, login_as)
    expected, message = _expected(item, upload)
    data = item.data
    if expected == TOO_LARGE_FILE:
        data = oversize(app.config[upload.limit_key] + 1)
        assert len(data) < app.config["MAX_CONTENT_LENGTH"]  # the service's own limit decides
    elif expected == TOO_LARGE_BODY:
        data = oversize(app.config["MAX_CONTENT_LENGTH"] + 1)
    before = _files_on_disk(root)

    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(image: ImageFile.ImageFile) -> Any:
        decoded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)

    response = _send(client, upload, data, item)

    if message == TOO_MANY_PIXELS:
        assert decoded == []  # refused from the header: not one pixel was decoded

    if expected in (REFUSED, TOO_LARGE_FILE):
        _assert_refused(response, upload, message)
    elif expected == TOO_LARGE_BODY:
        page = response.get_data(as_text=True)
        assert response.status_code == 413
        assert "The upload is too large" in page and "Choose a smaller file" in page
    else:
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        _assert_stored(upload, item, root, before, expected)
        return
    assert upload.stored(False) == []
    assert _files_on_disk(root) == before


# Every file input of a static form class, and the endpoint(s) above that post to it.
FILE_FIELDS = {
    "portal.sadoku.officer_forms.DeliveredForm.photo": "sadoku-handover-photo",
    "portal.jumpa_madu.forms.PickupForm.photo": "jumpa-madu-pickup-photo",
    "portal.jumpa_madu.officer_forms.WeighForm.photos": "jumpa-madu-weighing-photo",
    # Opening and editing a shop share `_check_photo` and `set_logo`: opening stands for both.
    "portal.mall.seller_forms.ShopForm.logo": "mall-new-shop-logo",
    "portal.mall.seller_forms.PhotoForm.photo": "mall-product-photo",
}


def test_the_corpus_covers_every_upload_form(app: Flask) -> None:
    """A file input added to any form without an endpoint in ENDPOINTS fails here."""
    from flask_wtf.file import FileField, MultipleFileField

    # The app (the session's `app` fixture) has imported every area's forms by now.
    modules = [
        m for n, m in list(sys.modules.items()) if n.startswith("portal.") and n.endswith("forms")
    ]
    assert len(modules) >= 5
    found = set()
    for module in modules:
        for name, form in vars(module).items():
            if not isinstance(form, type) or form.__module__ != module.__name__:
                continue
            for attr, value in vars(form).items():
                if getattr(value, "field_class", None) in (FileField, MultipleFileField):
                    found.add(f"{module.__name__}.{name}.{attr}")
    assert found == set(FILE_FIELDS)
    covered = {e for group in FILE_FIELDS.values() for e in group.split()}
    # SADOKU attachment inputs are built per document type (`for_names`, `for_items`).
    covered |= {"sadoku-draft-attachment", "sadoku-correction-attachment"}
    assert covered == set(ENDPOINTS)
