"""Uploads: the type comes from the bytes, photos lose their GPS, hostile files are refused,
stored files cannot be reached by a crafted key, and served files cannot run script.

Every fixture file is built here with Pillow, zlib and zipfile; none is committed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import time
import zipfile
import zlib

import pytest
from flask import Flask
from flask_babel import force_locale
from PIL import Image, ImageDraw
from werkzeug.datastructures import FileStorage

from portal.core import uploads
from portal.core.errors import DomainError
from portal.core.uploads import (
    ALLOWED_DOCUMENT_KINDS,
    ALLOWED_PHOTO_KINDS,
    UPLOAD_CSP,
    CheckedUpload,
    LocalStorage,
    check_upload,
    get_storage,
    send_upload,
)

MB = 1024 * 1024
FIELD = "document"
KEY_RE = re.compile(r"sadoku/([A-Za-z0-9_-]{2})/([A-Za-z0-9_-]{32})\.pdf")
RED, BLUE = (220, 20, 20), (20, 20, 220)
SECRET = "Kamera-Rahasia-Budi"  # camera make written into EXIF: must not survive
PILLOW_LIMIT = Image.MAX_IMAGE_PIXELS  # as it was before any upload was checked


# --- fixture files --------------------------------------------------------------------------------


def _picture(size: tuple[int, int] = (60, 40)) -> Image.Image:
    """Left half red, right half blue: enough to see a rotation after lossy re-encoding."""
    img = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(img).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=RED)
    return img


def _encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def _jpeg(**options: object) -> bytes:
    return _encode(_picture(), "JPEG", **options)


def _png() -> bytes:
    return _encode(_picture(), "PNG")


def _webp() -> bytes:
    return _encode(_picture(), "WEBP")


def _exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = SECRET  # Make
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (3.0, 33.0, 14.4)  # latitude: Lubuk Pakam
    gps[3], gps[4] = "E", (98.0, 52.0, 47.6)
    return exif


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_bomb(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A 1-bit PNG of `width` x `height`; its all-black rows compress to almost nothing.

    With `rows`, only that many rows are written: a header that claims more than the file holds.
    """
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height if rows is None else rows))
    idat += compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _pdf(*extra_objects: bytes, catalog: bytes = b"", eof: bool = True, head: bytes = b"") -> bytes:
    """A small one-page PDF with a compressed page content stream and a real xref table.

    `catalog` is added to the catalog dictionary; `extra_objects` become objects 5, 6 ...
    """
    content = zlib.compress(b"BT /F1 12 Tf 20 100 Td (Kutipan Akta Kelahiran) Tj ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + head)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n" % (len(objects) + 1, xref)
    if eof:
        out += b"%%EOF\n"
    return bytes(out)


def _stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def _object_stream(inner: bytes, *, compress: bool = True) -> bytes:
    """An object stream (PDF 1.5) holding object 7: where scanners that only grep miss things."""
    body = b"7 0 " + inner
    if compress:
        return _stream(zlib.compress(body), b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode")
    return _stream(body.hex().encode(), b"/Type /ObjStm /N 1 /First 4 /Filter /ASCIIHexDecode")


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("ktp.jpg", _jpeg())
    return out.getvalue()


def _file(data: bytes, name: str = "ktp.jpg", content_type: str = "image/jpeg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


def _check(
    data: bytes,
    name: str = "ktp.jpg",
    *,
    allowed: frozenset[str] = ALLOWED_DOCUMENT_KINDS,
    max_bytes: int = 5 * MB,
    **kw: int,
) -> CheckedUpload:
    return check_upload(_file(data, name), field=FIELD, allowed=allowed, max_bytes=max_bytes, **kw)


def _refusal(data: bytes, name: str = "ktp.jpg", **kw) -> str:  # type: ignore[no-untyped-def]
    """The English message of the DomainError the upload is refused with, on the given field."""
    with force_locale("en"), pytest.raises(DomainError) as caught:
        _check(data, name, **kw)
    assert caught.value.field == FIELD
    return caught.value.message


# --- accepted files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kind", "content_type", "extension", "allowed"),
    [
        (_jpeg, "jpeg", "image/jpeg", ".jpg", ALLOWED_DOCUMENT_KINDS),
        (_png, "png", "image/png", ".png", ALLOWED_DOCUMENT_KINDS),
        (_jpeg, "jpeg", "image/jpeg", ".jpg", ALLOWED_PHOTO_KINDS),
        (_png, "png", "image/png", ".png", ALLOWED_PHOTO_KINDS),
        (_webp, "webp", "image/webp", ".webp", ALLOWED_PHOTO_KINDS),
    ],
)
def test_images_are_accepted_and_re_encoded(ctx, make, kind, content_type, extension, allowed):
    upload = _check(make(), "Foto Produk" + extension, allowed=allowed)
    assert (upload.kind, upload.content_type, upload.extension) == (kind, content_type, extension)
    assert upload.filename == "Foto_Produk" + extension
    assert (upload.width, upload.height) == (60, 40)
    assert upload.size == len(upload.data)
    assert upload.sha256 == hashlib.sha256(upload.data).hexdigest()
    with Image.open(io.BytesIO(upload.data)) as stored:
        assert stored.format == kind.upper() and stored.size == (60, 40)
        assert stored.convert("RGB").getpixel((5, 20))[0] > 150  # still red on the left


def test_a_plain_pdf_is_accepted_unchanged(ctx):
    data = _pdf(catalog=b"/OpenAction [3 0 R /Fit]")  # opening at page 1 is not a script
    upload = _check(data, "akta.pdf")
    assert upload.kind == "pdf" and upload.content_type == "application/pdf"
    assert upload.data == data
    assert upload.filename == "akta.pdf"
    assert upload.width is None and upload.height is None
    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_a_pdf_with_a_scanned_photo_is_accepted(ctx):
    # Image data is binary and may hold /AA or /JS by chance; only the names with their
    # values count, so an honest scan is not refused.
    scan = _jpeg() + b" /AA 7 /JS\x00 /EF\xff"
    image = _stream(scan, b"/Type /XObject /Subtype /Image /Filter /DCTDecode")
    assert _check(_pdf(image), "kk.pdf").kind == "pdf"


def test_the_type_comes_from_the_content_not_the_name_or_browser(ctx):
    upload = check_upload(
        _file(_png(), "foto.pdf", "application/pdf"),
        field=FIELD,
        allowed=ALLOWED_DOCUMENT_KINDS,
        max_bytes=MB,
    )
    assert upload.kind == "png" and upload.content_type == "image/png"
    assert upload.filename == "foto.png"
    upload = _check(_pdf(), "scan.jpg")
    assert upload.kind == "pdf" and upload.filename == "scan.pdf"


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("KTP Budi (depan).JPG", "KTP_Budi_depan.jpg"),
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\budi\\Desktop\\ktp.jpg", "ktp.jpg"),
        ("Ktp Siti Aisyah.final.jpeg", "Ktp_Siti_Aisyah.final.jpg"),
        ("صورة.jpg", "file.jpg"),
        ("", "file.jpg"),
        ("<script>.jpg", "script.jpg"),
        ("a" * 300 + ".jpg", "a" * 96 + ".jpg"),
    ],
)
def test_the_display_name_is_safe_and_short(ctx, uploaded, stored):
    assert _check(_jpeg(), uploaded).filename == stored


def test_the_size_limit_is_inclusive_and_the_read_is_bounded(ctx):
    data = _pdf()
    assert _check(data, "akta.pdf", max_bytes=len(data)).size == len(data)
    assert "larger than" in _refusal(data, "akta.pdf", max_bytes=len(data) - 1)

    class Endless:
        """A 'file' that never ends: the check must stop reading, not fill the memory."""

        filename = "besar.pdf"
        asked: list[int] = []

        def read(self, size: int = -1) -> bytes:
            self.asked.append(size)
            return b"%PDF-" + b"0" * (size - 5)

    endless = Endless()
    with pytest.raises(DomainError):
        check_upload(endless, field=FIELD, allowed=ALLOWED_DOCUMENT_KINDS, max_bytes=MB)
    assert endless.asked == [MB + 1]


@pytest.mark.parametrize(
    ("limit", "locale", "shown"),
    [
        (5 * MB, "en", "5 MB"),
        (3 * MB // 2, "en", "1.5 MB"),
        (3 * MB // 2, "id", "1,5 MB"),
        (500 * 1024, "en", "500 KB"),
    ],
)
def test_the_size_message_shows_the_limit_readably(ctx, limit, locale, shown):
    with force_locale(locale), pytest.raises(DomainError) as caught:
        _check(b"%PDF-" + b"0" * limit, "besar.pdf", max_bytes=limit)
    assert f" {shown};" in caught.value.message


# --- metadata and orientation ---------------------------------------------------------------------


def test_jpeg_loses_gps_exif_xmp_and_comment_and_keeps_its_orientation(ctx):
    # Stored sideways, with "rotate 90° clockwise to show" in EXIF, as phones do.
    original = _jpeg(
        exif=_exif_with_gps(orientation=6),
        xmp=b"<x:xmpmeta><rdf:Description exif:GPSLatitude='3,33.24N'/></x:xmpmeta>",
        comment=b"<script>alert(1)</script>",
        quality=95,
    )
    with Image.open(io.BytesIO(original)) as before:  # the fixture really carries all of it
        assert before.getexif().get_ifd(0x8825) and "xmp" in before.info
    upload = _check(original)
    for needle in (SECRET.encode(), b"Exif", b"GPS", b"xmpmeta", b"<script"):
        assert needle not in upload.data
    with Image.open(io.BytesIO(upload.data)) as stored:
        assert not stored.getexif()
        assert not {"exif", "xmp", "comment"} & set(stored.info)
        # Upright now: 40 wide, 60 high, the red half (the left edge) turned to the top.
        assert stored.size == (40, 60) and (upload.width, upload.height) == (40, 60)
        top, bottom = stored.getpixel((20, 5)), stored.getpixel((20, 55))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("WEBP", "webp")])
def test_png_and_webp_lose_their_exif(ctx, fmt, kind):
    original = _encode(_picture(), fmt, exif=_exif_with_gps())
    assert SECRET.encode() in original
    upload = _check(original, "foto", allowed=ALLOWED_PHOTO_KINDS)
    assert upload.kind == kind
    assert SECRET.encode() not in upload.data
    with Image.open(io.BytesIO(upload.data)) as stored:
        assert not stored.getexif()


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about the broken EXIF
def test_a_photo_with_broken_exif_is_still_accepted(ctx):
    original = _jpeg(exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\xff\xff")
    upload = _check(original)
    assert (upload.width, upload.height) == (60, 40)
    assert b"Exif" not in upload.data


def test_a_scanner_cmyk_jpeg_is_stored_as_rgb(ctx):
    upload = _check(_encode(_picture().convert("CMYK"), "JPEG"), "scan.jpg")
    with Image.open(io.BytesIO(upload.data)) as stored:
        assert stored.mode == "RGB"
        assert stored.getpixel((5, 20))[0] > 150 and stored.getpixel((55, 20))[2] > 150


def test_a_transparent_product_photo_keeps_its_transparency(ctx):
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((10, 10, 30, 30), fill=(200, 120, 0, 255))
    for fmt in ("PNG", "WEBP"):
        upload = _check(_encode(img, fmt), "produk", allowed=ALLOWED_PHOTO_KINDS)
        with Image.open(io.BytesIO(upload.data)) as stored:
            assert stored.mode == "RGBA"
            assert stored.getpixel((1, 1))[3] == 0 and stored.getpixel((20, 20))[3] == 255


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _posing_as_profile() -> bytes:
    """A web page with an ICC header's size and signature in place: not a profile for all that."""
    page = bytearray(b"<html><script>alert(1)</script>".ljust(200, b" "))
    page[:4] = len(page).to_bytes(4, "big")
    page[36:40] = b"acsp"
    return bytes(page)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_colour_profile_is_kept_and_anything_posing_as_one_is_dropped(ctx, fmt):
    # Pillow hands back the bytes of the profile slot as they came, whatever they are.
    real = _check(_encode(_picture(), fmt, icc_profile=_srgb_profile()), "foto")
    with Image.open(io.BytesIO(real.data)) as stored:
        assert stored.info["icc_profile"] == _srgb_profile()
    for fake in (HTML, _posing_as_profile()):
        upload = _check(_encode(_picture(), fmt, icc_profile=fake), "foto")
        with Image.open(io.BytesIO(upload.data)) as stored:
            assert "icc_profile" not in stored.info
            assert stored.size == (60, 40)
        assert b"<script" not in upload.data


def test_bytes_appended_to_a_photo_do_not_survive(ctx):
    # A valid JPEG with a web page glued on: decodes fine, but the page is not stored.
    upload = _check(_jpeg() + b"<html><script>alert(document.cookie)</script></html>")
    assert upload.kind == "jpeg"
    assert b"<script" not in upload.data and b"<html" not in upload.data


# --- refused files --------------------------------------------------------------------------------


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
JS_ACTION = b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("ktp.jpg", b"", "The file you chose is empty"),
        ("ktp.svg", SVG, "Upload a JPEG, PNG or PDF file"),
        ("ktp.jpg", SVG, "Upload a JPEG, PNG or PDF file"),
        ("ktp.jpg", HTML, "Upload a JPEG, PNG or PDF file"),
        ("ktp.gif", _encode(_picture(), "GIF"), "Upload a JPEG, PNG or PDF file"),
        ("ktp.zip", _zip(), "Upload a JPEG, PNG or PDF file"),
        ("ktp.jpg", b"NIK 1207012345678901\nnama Budi\n", "Upload a JPEG, PNG or PDF file"),
        ("ktp.pdf", b"MZ\x90\x00" + b"\x00" * 200, "Upload a JPEG, PNG or PDF file"),
        ("ktp.jpg", b" " + _jpeg(), "Upload a JPEG, PNG or PDF file"),  # magic must be at 0
        ("ktp.jpg", _jpeg()[: len(_jpeg()) // 2], "damaged or incomplete"),
        ("ktp.png", _png()[:-30], "damaged or incomplete"),
        ("ktp.jpg", b"\xff\xd8\xff\xe0" + HTML, "damaged or incomplete"),  # polyglot
        ("ktp.jpg", b"\xff\xd8\xff" + _png(), "damaged or incomplete"),  # PNG behind JPEG magic
        ("ktp.png", b"\x89PNG\r\n\x1a\n" + _jpeg(), "damaged or incomplete"),
        ("akta.pdf", _pdf(eof=False), "damaged or incomplete"),
        ("akta.pdf", _pdf(catalog=JS_ACTION), "scripts or embedded files"),
        ("akta.pdf", _pdf(catalog=b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "scripts"),
        ("akta.pdf", _pdf(catalog=b"/Names << /EmbeddedFiles 5 0 R >>"), "scripts"),
        ("akta.pdf", _pdf(_stream(b"MZ", b"/Type /EmbeddedFile")), "scripts"),
        ("akta.pdf", _pdf(catalog=b"/AA << /WC 5 0 R >>"), "scripts"),
        ("akta.pdf", _pdf(catalog=b"/OpenAction << /S /JS (x) >>"), "scripts"),
        ("akta.pdf", _pdf(catalog=b"/OpenAction<</S/J#61vaScript/J#53 5 0 R>>"), "scripts"),
        ("akta.pdf", _pdf(catalog=b"/AcroForm << /XFA 5 0 R >>"), "scripts"),
        ("akta.pdf", _pdf(head=b"<html><script>alert(1)</script>\n"), "scripts"),
        ("akta.pdf", _pdf(_object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")), "scripts"),
        (
            "akta.pdf",
            _pdf(_object_stream(b"<< /S /Launch >>", compress=False)),
            "cannot be checked",
        ),
    ],
)
def test_hostile_and_broken_files_are_refused(ctx, name, data, message):
    assert message in _refusal(data, name)


def test_no_file_chosen(ctx):
    with force_locale("en"), pytest.raises(DomainError) as caught:
        check_upload(None, field="photo", allowed=ALLOWED_PHOTO_KINDS, max_bytes=MB)
    assert (caught.value.field, caught.value.message) == ("photo", "Choose a file to upload")
    # A form posted without choosing a file sends an empty part with no name.
    with force_locale("en"), pytest.raises(DomainError) as caught:
        check_upload(_file(b"", ""), field="photo", allowed=ALLOWED_PHOTO_KINDS, max_bytes=MB)
    assert caught.value.message == "Choose a file to upload"


@pytest.mark.parametrize(
    ("data", "allowed", "message"),
    [
        (_webp(), ALLOWED_DOCUMENT_KINDS, "Upload a JPEG, PNG or PDF file"),
        (_pdf(), ALLOWED_PHOTO_KINDS, "Upload a JPEG, PNG or WebP file"),
        (_jpeg(), frozenset({"pdf"}), "Upload a PDF file"),
        (_pdf(), frozenset({"jpeg", "png"}), "Upload a JPEG or PNG file"),
    ],
)
def test_only_the_allowed_kinds_pass_and_the_message_names_them(ctx, data, allowed, message):
    assert _refusal(data, "berkas", allowed=allowed) == message


@pytest.mark.parametrize(
    ("width", "height", "rows"),
    [
        (40000, 40000, 8),  # the header claims 1.6 gigapixels; above Pillow's own bomb limit
        (8000, 6000, None),  # a complete 48-megapixel image in a file of a few kilobytes
    ],
)
def test_decompression_bombs_are_refused_quickly(ctx, width, height, rows):
    bomb = _png_bomb(width, height, rows=rows)
    assert len(bomb) < 100_000
    started = time.monotonic()
    assert "too large in pixels" in _refusal(bomb, "peta.png")
    assert time.monotonic() - started < 1.0  # no pixel was decoded
    assert Image.MAX_IMAGE_PIXELS == PILLOW_LIMIT  # the process-wide setting is untouched


def test_the_pixel_limit_is_the_callers(ctx):
    data = _encode(Image.new("RGB", (100, 100), RED), "PNG")
    assert _check(data, "foto.png", max_pixels=10_000).width == 100
    assert "too large in pixels" in _refusal(data, "foto.png", max_pixels=9_999)


def test_compressed_pdf_streams_are_inflated_within_a_budget(ctx, monkeypatch):
    monkeypatch.setattr(uploads, "PDF_INFLATE_BUDGET", 4 * MB)
    small = _pdf(_stream(zlib.compress(b"\x00" * 3 * MB), b"/Filter /FlateDecode"))
    assert _check(small, "akta.pdf").kind == "pdf"
    bomb = _pdf(_stream(zlib.compress(b"\x00" * 5 * MB), b"/Filter /FlateDecode"))
    assert len(bomb) < 20_000
    assert "cannot be checked" in _refusal(bomb, "akta.pdf")


# --- storage --------------------------------------------------------------------------------------


def test_local_storage_round_trip(tmp_path):
    storage = LocalStorage(tmp_path)
    key = storage.save(b"%PDF-1.4 akta", ".pdf", "sadoku")
    match = KEY_RE.fullmatch(key)
    assert match and match[1] == match[2][:2]
    assert storage.read(key) == b"%PDF-1.4 akta"
    path = tmp_path / key
    assert path.read_bytes() == b"%PDF-1.4 akta"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # scans of KTP/KK: owner only
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


def test_keys_are_random_not_derived_from_the_file(tmp_path):
    storage = LocalStorage(tmp_path)
    upload = CheckedUpload(b"%PDF-1.4", "pdf", "application/pdf", ".pdf", "ktp_budi.pdf", 8, "")
    keys = {storage.save(upload.data, upload.extension, "sadoku") for _ in range(20)}
    assert len(keys) == 20
    assert not any("ktp" in key or "budi" in key for key in keys)
    assert len({KEY_RE.fullmatch(key)[1] for key in keys}) > 1  # spread over shard directories


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "sadoku/../x.pdf",
        "/etc/passwd",
        "sadoku/ab/../../../x.pdf",
        "sadoku/" + "A" * 2 + "/" + "A" * 32 + ".pdf/../../../x.pdf",
        "sadoku/AA/" + "A" * 32 + ".html",
        "sadoku/AB/" + "A" * 32 + ".pdf",  # shard does not match the name
        "Sadoku/AA/" + "A" * 32 + ".pdf",
        "sadoku/AA/" + "A" * 31 + ".pdf",
        "sadoku\\AA\\" + "A" * 32 + ".pdf",
        "sadoku/AA/" + "A" * 32 + ".pdf\n",
        "",
    ],
)
def test_storage_refuses_keys_it_did_not_make(tmp_path, key):
    root = tmp_path / "uploads"
    storage = LocalStorage(root)
    storage.save(b"x", ".pdf", "sadoku")
    (tmp_path / "x.pdf").write_bytes(b"secret")  # what a traversal would reach
    (root / "x.pdf").write_bytes(b"secret")
    with pytest.raises(ValueError):
        storage.read(key)
    with pytest.raises(ValueError):
        storage.delete(key)
    assert (tmp_path / "x.pdf").exists() and (root / "x.pdf").exists()


@pytest.mark.parametrize(
    ("extension", "namespace"),
    [(".html", "sadoku"), (".svg", "mall"), ("pdf", "sadoku"), (".pdf", "../etc"), (".pdf", "")],
)
def test_storage_refuses_to_save_other_names(tmp_path, extension, namespace):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).save(b"x", extension, namespace)
    assert list(tmp_path.iterdir()) == []


def test_unknown_keys_and_deleting_twice(tmp_path):
    storage = LocalStorage(tmp_path)
    with pytest.raises(FileNotFoundError):
        storage.read("mall/AA/" + "A" * 32 + ".webp")
    key = storage.save(b"photo", ".webp", "mall")
    storage.delete(key)
    with pytest.raises(FileNotFoundError):
        storage.read(key)
    storage.delete(key)  # already gone: no error


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        LocalStorage(tmp_path).save(b"x" * 1000, ".jpg", "sadoku")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_get_storage_uses_the_configured_root_once_per_app(ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(ctx.extensions, "portal_storage", None)
    monkeypatch.setitem(ctx.config, "UPLOAD_ROOT", str(tmp_path / "uploads"))
    storage = get_storage()
    assert get_storage() is storage
    key = storage.save(b"x", ".png", "mall")
    assert (tmp_path / "uploads" / key).read_bytes() == b"x"

    monkeypatch.setitem(ctx.config, "UPLOAD_ROOT", None)
    default = get_storage()
    assert isinstance(default, LocalStorage)
    assert default.root == LocalStorage(os.path.join(ctx.instance_path, "uploads")).root


def test_another_storage_adapter_can_replace_local_disk(ctx, monkeypatch):
    class Shared:
        def save(self, data: bytes, extension: str, namespace: str) -> str:
            return "shared-key"

        def read(self, key: str) -> bytes:
            return b""

        def delete(self, key: str) -> None:
            return None

    shared = Shared()
    monkeypatch.setitem(ctx.extensions, "portal_storage", shared)
    assert get_storage() is shared


# --- serving --------------------------------------------------------------------------------------


def _assert_private(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == UPLOAD_CSP
    assert "sandbox" in UPLOAD_CSP and "default-src 'none'" in UPLOAD_CSP
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers


def test_send_upload_is_a_private_download(ctx):
    data = _pdf()
    response = send_upload(data, content_type="application/pdf", filename="akta_budi.pdf")
    response.direct_passthrough = False
    assert response.get_data() == data
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=akta_budi.pdf"
    _assert_private(response)


def test_send_upload_quotes_non_ascii_names(ctx):
    response = send_upload(b"x", content_type="application/pdf", filename="Akta Kelahiran é.pdf")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Akta%20Kelahiran%20%C3%A9.pdf" in disposition


def test_only_images_are_shown_inline(ctx):
    photo = send_upload(_jpeg(), content_type="image/jpeg", filename="serah.jpg", inline=True)
    assert photo.headers["Content-Disposition"] == "inline; filename=serah.jpg"
    _assert_private(photo)
    pdf = send_upload(_pdf(), content_type="application/pdf", filename="a.pdf", inline=True)
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    # A type this module never produces is not served as what it claims.
    page = send_upload(HTML, content_type="text/html", filename="x.html", inline=True)
    assert page.mimetype == "application/octet-stream"
    assert page.headers["Content-Disposition"].startswith("attachment;")


def test_send_upload_headers_reach_the_browser():
    app = Flask(__name__)

    @app.get("/photo")
    def photo():  # type: ignore[no-untyped-def]
        return send_upload(_png(), content_type="image/png", filename="foto.png", inline=True)

    response = app.test_client().get("/photo")
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    assert response.headers["Content-Disposition"] == "inline; filename=foto.png"
    _assert_private(response)


def test_the_portal_keeps_the_upload_policy(ctx):
    from portal import _security_headers

    response = _security_headers(
        send_upload(b"x", content_type="application/pdf", filename="a.pdf")
    )
    _assert_private(response)
