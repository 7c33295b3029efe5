"""A corpus of hostile uploads, built in code (no binary blobs in the repository).

Each item says what a correct portal does with it: refuse it with a message the user can act on,
or accept it in a neutralised form (an image decoded and re-encoded clean; a PDF kept, and only
ever served as a download). `tests/security/test_hostile_uploads.py` runs every item against
every upload endpoint of the portal.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

# What a correct endpoint does with an item.
REFUSED = "refused"  # 422, the form again with an error summary naming the problem
IMAGE = "image"  # accepted, re-encoded: a clean image, no payload, no metadata, random key
PDF = "pdf"  # accepted where PDFs are (SADOKU attachments); refused where only photos are
TOO_LARGE_FILE = "too_large_file"  # over the service's own limit: 422 naming the limit
TOO_LARGE_BODY = "too_large_body"  # over MAX_CONTENT_LENGTH: the 413 page

# English refusal messages (the tests read pages in English), as check_upload words them.
NOT_ALLOWED = "Upload a JPEG, PNG or"  # "... PDF file" (documents) / "... WebP file" (photos)
EMPTY = "The file you chose is empty"
DAMAGED = "The file is damaged or incomplete"
TOO_MANY_PIXELS = "The image is too large in pixels"
ACTIVE_PDF = "This PDF contains scripts or embedded files"
LARGER_THAN = "The file is larger than"

SCRIPT = b"<script>alert(document.cookie)</script>"
HTML_PAGE = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
# Camera make and GPS written into EXIF: none of it may reach the disk.
EXIF_SECRET = "Kamera-Rahasia-Budi"
# Byte strings that must never appear in a stored file (payloads of the items below).
PAYLOAD_MARKERS = (b"<script", b"<html", b"<svg", b"PK\x03\x04", b"alert(", EXIF_SECRET.encode())


@dataclass(frozen=True)
class Hostile:
    """One corpus item: its bytes, the name and type the browser claims, what must happen."""

    id: str
    build: Callable[[], bytes]
    filename: str
    content_type: str
    expect: str
    message: str = ""  # for REFUSED: part of the English message the user must see

    @property
    def data(self) -> bytes:
        return self.build()


# --- building blocks ------------------------------------------------------------------------------


def _picture(size: tuple[int, int] = (48, 32)) -> Image.Image:
    img = Image.new("RGB", size, (20, 120, 200))
    ImageDraw.Draw(img).rectangle((0, 0, size[0] // 2, size[1]), fill=(220, 40, 40))
    return img


def _encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


@functools.cache
def clean_png() -> bytes:
    return _encode(_picture(), "PNG")


@functools.cache
def clean_jpeg() -> bytes:
    return _encode(_picture(), "JPEG", quality=90)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.cache
def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A complete, valid 1-bit PNG of `width` x `height` (400 megapixels) in about 50 KB.

    Every row is black, so the pixel data compresses about a thousand times; decoding it would
    need 400 MB even at one byte per pixel, and far more once converted for re-encoding.
    """
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _gif_js_polyglot() -> bytes:
    """A GIF whose first bytes also open a JavaScript comment: `GIF89a/*...*/=alert(...)`.

    Loaded with <script src>, a browser that ignores the type runs it; as an image it decodes.
    """
    gif = bytearray(_encode(_picture((4, 4)).convert("P"), "GIF"))
    gif[6:8] = b"/*"  # the logical screen width becomes 0x2A2F: still a GIF
    return bytes(gif) + b"*/=alert(document.domain);//"


def _png_with_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("shell.php", "<?php system($_GET['c']); ?>")
        zf.writestr("index.html", HTML_PAGE.decode())
    return clean_png() + out.getvalue()


def _svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<rect width='10' height='10'/>" + SCRIPT + b"</svg>"
    )


def _pdf(catalog: bytes = b"", text: bytes = b"Kutipan Akta Kelahiran") -> bytes:
    """A one-page PDF with a real xref table; `catalog` is added to the catalog dictionary."""
    content = b"BT /F1 12 Tf 20 100 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_with_js() -> bytes:
    return _pdf(catalog=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")


def _pdf_quoting_html() -> bytes:
    """A harmless PDF whose text (past the first kilobyte) quotes a web page with a script.

    Accepted as a PDF; a browser that sniffed it as HTML would run the script, so it must only
    ever be served as a download with its real type and nosniff.
    """
    return _pdf(text=b"Lampiran " + b"x" * 1200 + b" " + HTML_PAGE.replace(b"(", b"\\("))


def exif_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = EXIF_SECRET  # Make
    exif[0x0110] = "Budi's phone"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (3.0, 33.0, 14.4)  # Lubuk Pakam
    gps[3], gps[4] = "E", (98.0, 52.0, 47.6)
    return exif


def _jpeg_with_gps() -> bytes:
    return _encode(
        _picture(),
        "JPEG",
        exif=exif_gps(),
        comment=SCRIPT,
        xmp=b"<x:xmpmeta><rdf:Description exif:GPSLatitude='3,33.24N'/></x:xmpmeta>",
    )


def _jpeg_with_icc_payload() -> bytes:
    """A JPEG whose colour-profile slot holds a web page: decoders keep those bytes as they are."""
    return _encode(_picture(), "JPEG", icc_profile=HTML_PAGE)


def _png_with_text_and_icc_payload() -> bytes:
    """A PNG with a script and a GPS position in text chunks and a web page as its profile."""
    text = PngInfo()
    text.add_text("Comment", SCRIPT.decode())
    text.add_itxt("GPS", "3.5539 N 98.8797 E " + EXIF_SECRET)
    return _encode(_picture(), "PNG", pnginfo=text, icc_profile=HTML_PAGE)


def _truncated_jpeg() -> bytes:
    data = _encode(_picture((200, 150)), "JPEG", quality=95)
    return data[: len(data) // 2]


def _html() -> bytes:
    return HTML_PAGE


def _empty() -> bytes:
    return b""


def oversize(size: int) -> bytes:
    """`size` bytes that start like a JPEG: only the size can refuse it before it is decoded."""
    return b"\xff\xd8\xff\xe0" + bytes(size - 4)


# --- the corpus -----------------------------------------------------------------------------------

# File names that try to reach a path, a header or a display; each carries a clean PNG.
PATH_TRICKS = {
    "name-dotdot": "../../etc/passwd.jpg",
    "name-windows": "C:\\..\\..\\Windows\\win.ini.png",
    "name-absolute": "/etc/cron.d/portal.png",
    "name-nul": "ktp.php\x00.png",
    "name-long": "k" * 300 + ".png",
    "name-rtl": "foto\u202egnp.exe",  # a bidi-aware display shows "fotoexe.png"
    # Quotes and line breaks aimed at the Content-Disposition header of the download.
    "name-header": 'ktp"; filename="evil.html"\r\nContent-Type: text/html\r\n\r\n.png',
    "name-html": "<img src=x onerror=alert(1)>.png",
}

CORPUS: tuple[Hostile, ...] = (
    Hostile("gif-js-polyglot", _gif_js_polyglot, "foto.jpg", "image/jpeg", REFUSED, NOT_ALLOWED),
    Hostile(
        "jpeg-html-after-eoi",
        lambda: clean_jpeg() + HTML_PAGE,
        "foto.jpg",
        "image/jpeg",
        IMAGE,
    ),
    Hostile("png-zip-appended", _png_with_zip, "foto.png", "image/png", IMAGE),
    Hostile("svg-script", _svg, "logo.svg", "image/svg+xml", REFUSED, NOT_ALLOWED),
    Hostile("html-as-jpg", _html, "foto.jpg", "image/jpeg", REFUSED, NOT_ALLOWED),
    # Also the wrong content type the other way round: a web page that says it is a PNG.
    Hostile("html-as-png", _html, "foto.png", "image/png", REFUSED, NOT_ALLOWED),
    Hostile(
        "jpeg-magic-html-body",
        lambda: b"\xff\xd8\xff\xe0" + HTML_PAGE,
        "foto.jpg",
        "image/jpeg",
        REFUSED,
        DAMAGED,
    ),
    Hostile("png-bomb-400mp", png_bomb, "peta.png", "image/png", REFUSED, TOO_MANY_PIXELS),
    Hostile("pdf-openaction-js", _pdf_with_js, "akta.pdf", "application/pdf", REFUSED, ACTIVE_PDF),
    # Named .jpg: kept as what it is, a PDF, and offered as akta.pdf.
    Hostile("pdf-quoting-html", _pdf_quoting_html, "akta.jpg", "image/jpeg", PDF),
    Hostile("jpeg-exif-gps", _jpeg_with_gps, "IMG_0001.jpg", "image/jpeg", IMAGE),
    Hostile("jpeg-icc-payload", _jpeg_with_icc_payload, "foto.jpg", "image/jpeg", IMAGE),
    Hostile("png-text-icc-payload", _png_with_text_and_icc_payload, "foto.png", "image/png", IMAGE),
    Hostile("empty", _empty, "foto.jpg", "image/jpeg", REFUSED, EMPTY),
    Hostile("truncated-jpeg", _truncated_jpeg, "foto.jpg", "image/jpeg", REFUSED, DAMAGED),
    Hostile("png-sent-as-html", clean_png, "foto.html", "text/html", IMAGE),
    Hostile("oversize-file", lambda: b"", "besar.jpg", "image/jpeg", TOO_LARGE_FILE, LARGER_THAN),
    Hostile("oversize-body", lambda: b"", "besar.jpg", "image/jpeg", TOO_LARGE_BODY),
    *(Hostile(key, clean_png, name, "image/png", IMAGE) for key, name in PATH_TRICKS.items()),
)
