"""User uploads: decide what a file really is, make it safe to keep, store it, serve it back.

Feature-agnostic: SADOKU attachments and hand-over photos, and later UMKM product photos, all go
through `check_upload` (the type comes from the bytes, never from the name or the browser),
a `Storage` adapter (random keys, never a path built from user input) and `send_upload` (headers
that keep a hostile file from running script when someone opens it).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import secrets
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import Response, current_app, send_file
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageCms, ImageOps
from werkzeug.utils import secure_filename

from portal.core.errors import DomainError

log = logging.getLogger(__name__)

ALLOWED_DOCUMENT_KINDS = frozenset({"jpeg", "png", "pdf"})
ALLOWED_PHOTO_KINDS = frozenset({"jpeg", "png", "webp"})

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "pdf": ".pdf"}
KIND_LABELS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "pdf": "PDF"}
# Fixed order for "Upload a JPEG, PNG or PDF file", whatever order the frozenset iterates in.
_KIND_ORDER = ("jpeg", "png", "webp", "pdf")
_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "jpeg": {"quality": 88, "optimize": True, "progressive": True},
    # Not optimize=True: on a 12-megapixel photo it takes ~9 s instead of ~2 s for ~15% smaller.
    "png": {"compress_level": 6},
    "webp": {"quality": 85},
}
FILENAME_MAX = 100
# Colour profiles of cameras, phones and scanners are a few kilobytes; larger is not a profile.
ICC_MAX_BYTES = 512 * 1024

# PDF checks. Names are compared after `#xx` escapes are decoded (/J#61vaScript is /JavaScript).
_PDF_TAIL = 1024
_PDF_HEAD = 1024
_PDF_DELIM = rb"\x00\t\n\x0c\r /\[\]<>(){}%"
_PDF_SPACE = rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*[\r\n])*"  # whitespace and comments
_PDF_VALUE_DICT = rb"(?:<<|\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R)"
_PDF_VALUE_JS = rb"(?:\(|<|\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R)"
# Long names are matched as whole names. The short keys /AA, /EF and /JS are matched only with the
# value they take, so chance byte sequences inside image data do not refuse an honest scan.
_PDF_ACTIVE = re.compile(
    rb"/(?:JavaScript|Launch|EmbeddedFiles?|RichMedia|XFA)(?![^" + _PDF_DELIM + rb"])"
    rb"|/(?:AA|EF)" + _PDF_SPACE + _PDF_VALUE_DICT + rb"|/JS" + _PDF_SPACE + _PDF_VALUE_JS
)
_PDF_ESCAPED_NAME = re.compile(rb"/[^" + _PDF_DELIM + rb"#]*#[^" + _PDF_DELIM + rb"]*")
_PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_PDF_DICT_WINDOW = 4096
_PDF_OBJSTM = re.compile(rb"/Type" + _PDF_SPACE + rb"/ObjStm(?![^" + _PDF_DELIM + rb"])")
_PDF_HTML = re.compile(rb"<(?:script|html|body|svg|iframe|!doctype\s+html)", re.IGNORECASE)
# Compressed streams are inflated to look inside them; this bounds the work a zip bomb can cause.
PDF_INFLATE_BUDGET = 64 * 1024 * 1024
_INFLATE_CHUNK = 1024 * 1024
_SCAN_OVERLAP = 256

_STORED_EXTENSIONS = frozenset(EXTENSIONS.values())
_NAMESPACE_RE = re.compile(r"[a-z_]{1,40}")
_KEY_RE = re.compile(
    r"(?P<namespace>[a-z_]{1,40})/(?P<shard>[A-Za-z0-9_-]{2})/(?P<token>[A-Za-z0-9_-]{32})"
    r"(?P<extension>\.(?:jpg|png|webp|pdf))"
)

# Served files get a policy of their own: an SVG or HTML smuggled past the checks, opened directly,
# still cannot run script or reach anything.
UPLOAD_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
)
_INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


class UploadedFile(Protocol):
    """What `check_upload` needs from werkzeug's FileStorage."""

    filename: str | None

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks, ready to store: for images, the re-encoded bytes."""

    data: bytes
    kind: str
    content_type: str
    extension: str
    filename: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


def check_upload(
    file: UploadedFile | None,
    *,
    field: str,
    allowed: frozenset[str],
    max_bytes: int,
    max_pixels: int = 40_000_000,
) -> CheckedUpload:
    """Accept an uploaded file only when its bytes are one of the `allowed` kinds, intact and safe.

    Images are decoded and re-encoded, which drops EXIF (GPS position, camera serial), comments,
    text chunks, anything appended after the picture and anything in the colour-profile slot that
    is not a colour profile; a photo keeps its orientation. PDFs cannot be rewritten
    without a PDF library, so they are refused when they carry scripts, auto actions or embedded
    files. Every refusal is a DomainError on `field` telling the user what to do instead.
    """
    data = file.read(max_bytes + 1) if file is not None else b""
    name = (getattr(file, "filename", None) or "") if file is not None else ""
    if not data:
        if name:
            raise DomainError(field, _("The file you chose is empty; choose another one"))
        raise DomainError(field, _("Choose a file to upload"))
    if len(data) > max_bytes:
        raise DomainError(
            field,
            _(
                "The file is larger than %(limit)s; upload a smaller one",
                limit=human_size(max_bytes),
            ),
        )
    kind = sniff_kind(data)
    if kind is None or kind not in allowed:
        raise DomainError(field, _("Upload a %(kinds)s file", kinds=_kinds_label(allowed)))

    width = height = None
    if kind == "pdf":
        _check_pdf(data, field)
    else:
        data, width, height = _clean_image(data, kind, field, max_pixels)
    return CheckedUpload(
        data=data,
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        extension=EXTENSIONS[kind],
        filename=safe_filename(name, EXTENSIONS[kind]),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


def sniff_kind(data: bytes) -> str | None:
    """The kind the magic bytes say ("jpeg", "png", "webp", "pdf"), or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def safe_filename(uploaded_name: str, extension: str) -> str:
    """A name to show and offer on download: ASCII-safe, at most 100 characters, real extension.

    The uploaded extension is replaced, so "foto.pdf" holding a PNG is offered as "foto.png".
    """
    # Old browsers send the whole Windows path; a name in a script werkzeug cannot transliterate
    # (Arabic, Cyrillic) would otherwise leave just "jpg.jpg".
    base = (uploaded_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = secure_filename(os.path.splitext(base)[0])
    stem = stem[: FILENAME_MAX - len(extension)].rstrip("._-") or "file"
    return stem + extension


def human_size(n: int) -> str:
    """5 MB, 1,5 MB (decimal comma in Indonesian), 500 KB: limits and files as people read them."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{format_decimal(n / size, format='#,##0.#')} {unit}"
    return f"{n} B"


def _kinds_label(allowed: frozenset[str]) -> str:
    labels = [KIND_LABELS[k] for k in _KIND_ORDER if k in allowed]
    if len(labels) == 1:
        return labels[0]
    return _("%(items)s or %(last)s", items=", ".join(labels[:-1]), last=labels[-1])


def _damaged(field: str) -> DomainError:
    return DomainError(field, _("The file is damaged or incomplete; upload it again"))


def _too_many_pixels(field: str) -> DomainError:
    return DomainError(field, _("The image is too large in pixels; upload a smaller photo"))


# --- images ---------------------------------------------------------------------------------------


def _clean_image(data: bytes, kind: str, field: str, max_pixels: int) -> tuple[bytes, int, int]:
    """Decode fully (a truncated or disguised file fails here) and re-encode without metadata.

    The pixel count is checked from the header, before any pixel is decoded, so a small file that
    claims 50000x50000 costs no memory. Pillow's own bomb limit (Image.MAX_IMAGE_PIXELS) stays as
    it is: it is process-wide, and its error is turned into the same refusal.
    """
    fmt = _PIL_FORMATS[kind]
    try:
        # `formats=` keeps Pillow to the sniffed format: a PNG body behind JPEG magic is refused.
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise _too_many_pixels(field)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:
            img.load()
            clean, params = _without_metadata(ImageOps.exif_transpose(img), kind)
        out = io.BytesIO()
        clean.save(out, format=fmt, **params)
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(field) from exc
    except Exception as exc:  # whatever Pillow raises on hostile bytes, the answer is the same
        log.info("upload refused: %s does not decode: %r", kind, exc)
        raise _damaged(field) from exc
    return out.getvalue(), clean.width, clean.height


def _without_metadata(img: Image.Image, kind: str) -> tuple[Image.Image, dict[str, object]]:
    """The pixels in a mode the format can store, and what to pass to `save` besides them.

    Some encoders read metadata from `info` (the JPEG comment, PNG transparency), so `info` is
    emptied rather than trusted; EXIF and XMP are never passed on. The ICC profile is kept (while
    the mode is unchanged) so wide-gamut phone photos keep their colours, but only when it is a
    colour profile: Pillow copies the bytes of that slot as they came, so anything else (a web
    page or a script hidden there) would be stored with the image.
    """
    mode = img.mode
    if kind == "jpeg" and mode not in ("L", "RGB"):
        img = _flatten(img) if img.has_transparency_data else img.convert("RGB")
    elif kind == "webp" and mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if img.has_transparency_data else "RGB")
    info, img.info = img.info, {}
    params: dict[str, object] = dict(_SAVE_OPTIONS[kind])
    icc = info.get("icc_profile")
    if img.mode == mode and icc and _is_icc_profile(icc):
        params["icc_profile"] = icc
    if kind == "png" and "transparency" in info:
        params["transparency"] = info["transparency"]
    return img, params


def _is_icc_profile(data: bytes) -> bool:
    """Whether `data` is an ICC profile: its header says so, its size is its own, lcms reads it."""
    if not 128 <= len(data) <= ICC_MAX_BYTES or data[36:40] != b"acsp":
        return False
    if int.from_bytes(data[:4], "big") != len(data):
        return False
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (OSError, ValueError, TypeError, ImportError, ImageCms.PyCMSError):
        return False
    return True


def _flatten(img: Image.Image) -> Image.Image:
    """Transparent areas become white, not black, in a format without alpha."""
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


@dataclass(frozen=True)
class ImageVariant:
    data: bytes
    width: int
    height: int


def webp_variants(checked: CheckedUpload, sizes: tuple[int, ...]) -> list[ImageVariant]:
    """The checked image as WebP, fitted inside each of `sizes` (longest side, never enlarged).

    For public photos: a display size and a thumbnail, whose width and height the page states so
    nothing shifts while they load. Input is a CheckedUpload, so it is already decoded safely and
    free of metadata.
    """
    variants = []
    with Image.open(io.BytesIO(checked.data)) as img:
        img.load()
        base = img.convert("RGBA" if img.has_transparency_data else "RGB")
    for size in sizes:
        copy = base.copy()
        copy.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        copy.save(out, format="WEBP", quality=80, method=4)
        variants.append(ImageVariant(out.getvalue(), copy.width, copy.height))
    return variants


# --- PDF ------------------------------------------------------------------------------------------


def _check_pdf(data: bytes, field: str) -> None:
    """Refuse PDFs that carry active content, are cut off, or double as a web page.

    A byte-level guard, not a parser: it looks at the file as stored and inside every compressed
    stream it can inflate, for the names that start scripts, actions or embedded files. Serving
    with a sandbox policy (`send_upload`) is the second line.
    """
    if b"%%EOF" not in data[-_PDF_TAIL:]:
        raise _damaged(field)
    if _PDF_HTML.search(data[:_PDF_HEAD]):
        raise _active_pdf(field)
    if _has_active_names(data):
        raise _active_pdf(field)
    inflated = 0
    for match in _PDF_STREAM.finditer(data):
        start = match.end()
        try:
            for chunk in _inflate(data, start):
                inflated += len(chunk)
                if inflated > PDF_INFLATE_BUDGET:
                    raise _unchecked_pdf(field)
                if _has_active_names(chunk):
                    raise _active_pdf(field)
        except zlib.error as exc:
            # Images (DCT, JBIG2) are not zlib data, and that is fine; an object stream must be,
            # or the objects inside it cannot be looked at.
            if _is_object_stream(data, match.start()):
                raise _unchecked_pdf(field) from exc


def _inflate(data: bytes, start: int) -> Iterator[bytes]:
    """Inflate the zlib stream at `start` in overlapping chunks, never all of it in memory."""
    decompressor = zlib.decompressobj()
    tail = b""
    chunk = decompressor.decompress(data[start:], _INFLATE_CHUNK)
    while chunk:
        yield tail + chunk
        tail = chunk[-_SCAN_OVERLAP:]
        if decompressor.eof:
            return
        chunk = decompressor.decompress(decompressor.unconsumed_tail, _INFLATE_CHUNK)


def _is_object_stream(data: bytes, stream_keyword: int) -> bool:
    """Whether the dictionary just before the `stream` keyword says /Type /ObjStm."""
    window = data[max(0, stream_keyword - _PDF_DICT_WINDOW) : stream_keyword]
    for end in (b"endobj", b"endstream"):
        if (cut := window.rfind(end)) != -1:
            window = window[cut + len(end) :]
    return _PDF_OBJSTM.search(_unescape(window)) is not None


def _unescape(data: bytes) -> bytes:
    """Decode `#xx` escapes in PDF names, the same length-changing way a reader does."""

    def decode(match: re.Match[bytes]) -> bytes:
        return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match[0])

    return _PDF_ESCAPED_NAME.sub(decode, data)


def _has_active_names(data: bytes) -> bool:
    return _PDF_ACTIVE.search(data) is not None or (
        b"#" in data and _PDF_ACTIVE.search(_unescape(data)) is not None
    )


def _active_pdf(field: str) -> DomainError:
    return DomainError(
        field,
        _(
            "This PDF contains scripts or embedded files; scan or print it to a plain PDF and "
            "upload that"
        ),
    )


def _unchecked_pdf(field: str) -> DomainError:
    return DomainError(
        field, _("This PDF cannot be checked; print it to a plain PDF and upload that")
    )


# --- storage --------------------------------------------------------------------------------------


class Storage(Protocol):
    """Where uploaded bytes live. Keys are opaque strings the storage made up itself."""

    def save(self, data: bytes, extension: str, namespace: str) -> str: ...

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files on local disk under `root`, as `<namespace>/<shard>/<random><ext>`.

    The name is 24 random bytes, never the uploaded name, and a key is only turned into a path
    after it matches the exact shape `save` produces, so no key can reach outside `root`.
    Files are private (0600): only the app serves them, through `send_upload`.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def save(self, data: bytes, extension: str, namespace: str) -> str:
        if not _NAMESPACE_RE.fullmatch(namespace):
            raise ValueError(f"bad storage namespace: {namespace!r}")
        if extension not in _STORED_EXTENSIONS:
            raise ValueError(f"bad storage extension: {extension!r}")
        token = secrets.token_urlsafe(24)
        key = f"{namespace}/{token[:2]}/{token}{extension}"
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written beside the target and renamed: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def _path(self, key: str) -> Path:
        match = _KEY_RE.fullmatch(key) if isinstance(key, str) else None
        if match is None or match["shard"] != match["token"][:2]:
            raise ValueError(f"not a storage key: {key!r}")
        return (
            self.root / match["namespace"] / match["shard"] / (match["token"] + match["extension"])
        )


def get_storage() -> Storage:
    """The app's storage: LocalStorage under UPLOAD_ROOT (default: <instance>/uploads).

    Local disk only works with one app server. When several run, put a shared-storage adapter
    (S3-compatible object store, or LocalStorage on an NFS mount) in
    `app.extensions["portal_storage"]`: `Storage` is the seam, callers only see keys and bytes.
    """
    root = current_app.config.get("UPLOAD_ROOT") or os.path.join(
        current_app.instance_path, "uploads"
    )
    storage = current_app.extensions.get("portal_storage")
    if storage is None or (isinstance(storage, LocalStorage) and storage.root != Path(root)):
        storage = current_app.extensions["portal_storage"] = LocalStorage(root)
    return storage


# --- serving --------------------------------------------------------------------------------------


def send_upload(data: bytes, *, content_type: str, filename: str, inline: bool = False) -> Response:
    """A response for a private upload: never cached, never sniffed, never able to run script.

    `inline` shows an image in the browser; everything else (PDFs, and any type this module did
    not produce) is always a download, because the sandbox policy stops browsers' PDF viewers
    and a download cannot act on the portal's origin.
    """
    if content_type not in CONTENT_TYPES.values():
        content_type = "application/octet-stream"
    inline = inline and content_type in _INLINE_TYPES
    response = send_file(
        io.BytesIO(data),
        mimetype=content_type,
        as_attachment=not inline,
        download_name=filename,
        max_age=0,
        conditional=False,
        etag=False,
        last_modified=None,
    )
    response.headers.pop("Expires", None)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = UPLOAD_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
