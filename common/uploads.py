"""What an uploaded document really is, from its bytes: a PDF, a JPEG or a PNG, and nothing
else riding along.

Evidence files and signed signature lists are opened later by someone else's browser or PDF
reader, so a file is refused when it could do more than show a page or a picture:

- the kind comes from the first bytes, never from the name (HTML, SVG or XML renamed .pdf
  has no signature and is refused);
- markup (``<html``, ``<script``, ``<svg``, ...) in the first KiB, and a ZIP, PDF or markup
  after the end of the image or after the PDF's last ``%%EOF``, make a polyglot: refused;
- a PDF naming an active feature anywhere in its objects is refused: JavaScript (``/JS``,
  ``/JavaScript``, so also an ``/OpenAction`` that runs script), ``/AA`` (actions on events),
  ``/Launch``, attached files (``/EmbeddedFile(s)``), ``/RichMedia``, XFA forms,
  ``/SubmitForm``, ``/ImportData``, ``/GoToE``.  The check is a scan of the raw bytes with
  names decoded (``/J#53`` is ``/JS``), plus the inflated content of every object stream,
  where PDF 1.5+ may hide dictionaries.  A scan rather than a PDF parser because scanners
  write PDFs a strict parser refuses, and a parser that repairs them may skip what a reader
  would run; a page-content stream cannot carry actions, so it is not inflated;
- an image's dimensions are read from its header before any pixel is decoded, and more than
  ``IMAGE_MAX_PIXELS`` is refused (Pillow's own ``MAX_IMAGE_PIXELS`` is set to the same figure
  in ``CommonConfig.ready`` for any other code that opens an image).

The caller checks the size first: ``inspect`` is given the whole file (10 MB at most here).
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.http import FileResponse
from django.utils.cache import patch_cache_control
from PIL import Image, UnidentifiedImageError

SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}
HEAD_BYTES = 1024
_MARKUP = re.compile(rb"<\s*(?:html|script|svg|body|head|iframe|object|embed|!doctype)\b", re.I)
_FOREIGN = re.compile(rb"PK\x03\x04|PK\x05\x06|%PDF-|" + _MARKUP.pattern, re.I)
# PDF names: "/" then regular characters, any of them possibly written as #XX.
_PDF_NAME = re.compile(rb"/((?:[^\x00\t\n\x0c\r ()<>\[\]{}/%#]|#[0-9A-Fa-f]{2})+)")
ACTIVE_PDF_NAMES = frozenset(
    {
        b"JS",
        b"JavaScript",
        b"AA",
        b"Launch",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"RichMedia",
        b"XFA",
        b"SubmitForm",
        b"ImportData",
        b"GoToE",
    }
)
# An object stream of a genuine document inflates to a few MB at most; far beyond that it is
# a compression bomb aimed at this check.
OBJECT_STREAMS_MAX_BYTES = 64 * 1024 * 1024


class Refused(Exception):
    """Why the content is refused: ``code`` is one of "file_type", "polyglot",
    "active_content", "image_too_large", "damaged"."""

    def __init__(self, code: str, **details: int):
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


def sniff(head: bytes) -> Kind | None:
    """The kind the first bytes prove, whatever the name says."""
    for signature, (content_type, extension) in SIGNATURES.items():
        if head.startswith(signature):
            return Kind(content_type, extension)
    return None


def inspect(data: bytes) -> Kind:
    """The file's kind, or ``Refused`` when it is not a plain PDF, JPEG or PNG."""
    kind = sniff(data[:16])
    if kind is None:
        raise Refused("file_type")
    if _MARKUP.search(data[:HEAD_BYTES]):
        raise Refused("polyglot")
    if kind.content_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_image(data, kind)
    return kind


# --- PDF ------------------------------------------------------------------------------------


def _decoded(name: bytes) -> bytes:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda match: bytes([int(match[1], 16)]), name)


def _names(data: bytes) -> set[bytes]:
    return {_decoded(match[1]) for match in _PDF_NAME.finditer(data)}


def _object_streams(data: bytes):
    """The raw bytes of each stream whose dictionary says /Type /ObjStm."""
    for match in re.finditer(rb"(?<!end)stream(?:\r\n|\n|\r)", data):
        start = match.start()
        opening = data.rfind(b"obj", max(0, start - 4096), start)
        dictionary = data[opening if opening >= 0 else max(0, start - 4096) : start]
        if b"ObjStm" not in _names(dictionary):
            continue
        end = data.find(b"endstream", match.end())
        yield data[match.end() : end if end >= 0 else len(data)]


def _check_pdf(data: bytes) -> None:
    if _names(data) & ACTIVE_PDF_NAMES:
        raise Refused("active_content")
    budget = OBJECT_STREAMS_MAX_BYTES
    for raw in _object_streams(data):
        inflater = zlib.decompressobj()
        try:
            content = inflater.decompress(raw, budget + 1)
        except zlib.error:
            # Another filter than Flate: it cannot be checked, so it is not let through.
            raise Refused("active_content") from None
        budget -= len(content)
        if budget < 0 or inflater.unconsumed_tail:
            raise Refused("active_content")
        if _names(content) & ACTIVE_PDF_NAMES:
            raise Refused("active_content")
    last_eof = data.rfind(b"%%EOF")
    if last_eof >= 0 and _FOREIGN.search(data, last_eof + 5):
        raise Refused("polyglot")


# --- images ---------------------------------------------------------------------------------


def _check_image(data: bytes, kind: Kind) -> None:
    expected = "PNG" if kind.content_type == "image/png" else "JPEG"
    limit = settings.IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # The size is checked just below, against the portal's own limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Lazy: reads the header only, no pixel is decoded here or anywhere below.
            with Image.open(io.BytesIO(data)) as image:
                width, height, found = image.width, image.height, image.format
    except Image.DecompressionBombError:
        raise Refused("image_too_large", max=limit) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Refused("damaged") from None
    if found != expected:
        raise Refused("damaged")
    if width * height > limit:
        raise Refused("image_too_large", width=width, height=height, max=limit)
    end = _png_end(data) if expected == "PNG" else _jpeg_end(data)
    if end is None:
        raise Refused("damaged")
    # Phones append their own data after some photos (a motion photo's video): only another
    # format's signature there makes a polyglot.
    if _FOREIGN.search(data, end):
        raise Refused("polyglot")


def _png_end(data: bytes) -> int | None:
    """Where the IEND chunk ends."""
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunk = data[position + 4 : position + 8]
        position += 12 + length
        if chunk == b"IEND":
            return position if position <= len(data) else None
    return None


_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # markers without a length: TEM, RST0-7


def _jpeg_end(data: bytes) -> int | None:
    """Where the EOI marker of the image ends (an EXIF thumbnail's EOI is inside a segment)."""
    position = 2
    size = len(data)
    while position + 2 <= size:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:
            return position + 2
        if marker in _STANDALONE:
            position += 2
            continue
        if position + 4 > size:
            return None
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while True:
                position = data.find(b"\xff", position)
                if position < 0 or position + 1 >= size:
                    return None
                following = data[position + 1]
                if following == 0x00 or following in _STANDALONE or following == 0xFF:
                    position += 1 if following == 0xFF else 2
                    continue
                break
    return None


# --- names ----------------------------------------------------------------------------------


def display_name(name: str | None, *, fallback: str = "tep") -> str:
    """The user's file name fit to show and to offer back on download: no folders (``/`` or
    ``\\``), no control or invisible formatting characters (a right-to-left override can make
    "gpj.exe" read "exe.jpg"), 255 characters at most.  Never used as a path: files are stored
    under a random name."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    # Tabs and line breaks become spaces; every other control or formatting character goes.
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    text = " ".join(text.split()).lstrip(".")
    return text[:255] or fallback


# --- serving ---------------------------------------------------------------------------------

# Were a browser to render an uploaded file anyway, it runs nothing, loads nothing and has no
# origin of its own to act from.
SANDBOX_POLICY = "sandbox; default-src 'none'"


PREVIEWABLE = frozenset({"application/pdf", "image/jpeg", "image/png"})
# A preview is a document of its own: no script, no request anywhere, no frame around it.  A
# PDF keeps the browser's viewer (a sandboxed PDF is not shown), and passed the upload checks
# that refuse scripts and attachments in it; an image is sandboxed as well.
PREVIEW_POLICY = "default-src 'none'; img-src 'self'; frame-ancestors 'none'"


def may_preview(request, content_type: str) -> bool:
    """Shown in the browser rather than downloaded: asked for on purpose (``?xem=1``), an image
    or a PDF, and from one of the portal's own pages (the browser's ``Sec-Fetch-Site``), so a
    link elsewhere, a typed address or another site still gets a download."""
    return (
        request.GET.get("xem") == "1"
        and content_type in PREVIEWABLE
        and request.headers.get("Sec-Fetch-Site") == "same-origin"
    )


def uploaded_file_response(
    handle, *, name: str, content_type: str, preview: bool = False
) -> FileResponse:
    """A file a user uploaded, as a download; as a preview only when ``may_preview`` allowed
    it.  Either way nothing uploaded runs as a page of the portal's origin."""
    response = FileResponse(
        handle, as_attachment=not preview, filename=display_name(name), content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    if not preview:
        response["Content-Security-Policy"] = SANDBOX_POLICY
    elif content_type == "application/pdf":
        response["Content-Security-Policy"] = PREVIEW_POLICY
    else:
        response["Content-Security-Policy"] = f"sandbox; {PREVIEW_POLICY}"
    patch_cache_control(response, private=True, no_store=True)
    return response
