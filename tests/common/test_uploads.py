"""An uploaded document is judged by its bytes: a plain PDF, JPEG or PNG, nothing riding
along, no script, no image that decodes to gigabytes."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter

from common import uploads
from common.uploads import Refused, display_name, inspect

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def image(kind: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, kind)
    return buffer.getvalue()


def pdf(*objects: bytes) -> bytes:
    """A small well-formed PDF of the given objects (object 1 the catalog)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PAGES = (
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
)


def refusal(data: bytes) -> str:
    with pytest.raises(Refused) as refused:
        inspect(data)
    return refused.value.code


def test_genuine_documents_pass():
    assert inspect(pdf(b"<< /Type /Catalog /Pages 2 0 R >>", *PAGES)).extension == ".pdf"
    assert inspect(image("PNG")).content_type == "image/png"
    assert inspect(image("JPEG")).content_type == "image/jpeg"
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert inspect(buffer.getvalue()).content_type == "application/pdf"


def test_a_pdf_the_portal_itself_prints_passes():
    """WeasyPrint writes object streams and links: a signature list scanned back is fine."""
    from weasyprint import HTML

    printed = HTML(
        string="<h1>Danh sách ký nhận</h1><p>Nguyễn Văn Ấn</p><a href='https://x.vn'>x</a>"
    ).write_pdf()
    assert b"/ObjStm" in printed
    assert inspect(printed).content_type == "application/pdf"


def test_an_open_action_that_only_shows_the_first_page_passes():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>"
    assert inspect(pdf(catalog, *PAGES)).content_type == "application/pdf"


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
        b"\xef\xbb\xbf<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"   \n<html><body>%PDF-1.4</body></html>",
        b"<html><!-- -->\n%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n",  # a PDF reader finds this one
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04" + b"\x00" * 40,
    ],
)
def test_markup_and_other_formats_are_not_documents(content):
    assert refusal(content) == "file_type"


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.4\n<html><script>alert(document.domain)</script></html>\n" + PDF[9:],
        b"%PDF-1.4\n%<!DOCTYPE html>\n" + PDF[9:],
        b"%PDF-1.4\n<svg onload=alert(1)>\n" + PDF[9:],
    ],
)
def test_a_pdf_carrying_markup_at_its_start_is_a_polyglot(content):
    assert refusal(content) == "polyglot"


@pytest.mark.parametrize(
    "trailer",
    [
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 30 + b"PK\x05\x06" + b"\x00" * 18,
        b"<html><script>alert(1)</script></html>",
        b"\n%PDF-1.4\n1 0 obj<<>>endobj",
    ],
)
@pytest.mark.parametrize("kind", ["PDF", "PNG", "JPEG"])
def test_another_file_after_the_documents_end_is_a_polyglot(kind, trailer):
    document = PDF if kind == "PDF" else image(kind)
    assert inspect(document)  # the document alone passes
    assert refusal(document + trailer) == "polyglot"


def test_data_a_phone_appends_after_a_photo_is_kept():
    """A motion photo carries its video after the JPEG's end: not another format's signature."""
    photo = image("JPEG") + b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
    assert inspect(photo).content_type == "image/jpeg"


def test_an_exif_thumbnail_does_not_end_the_jpeg_early():
    thumbnail = image("JPEG", (4, 4))
    exif = b"Exif\x00\x00" + thumbnail
    main = image("JPEG")
    photo = main[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + main[2:]
    assert inspect(photo).content_type == "image/jpeg"
    assert refusal(photo + b"<html>") == "polyglot"


@pytest.mark.parametrize(
    "catalog",
    [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (x) >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /#4A#61#76#61Script >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /AA << /O << /S /Named /N /Print >> >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (cmd.exe) >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 4 0 R >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /XFA 4 0 R >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /SubmitForm /F (http://x) >> >>",
    ],
)
def test_a_pdf_with_script_actions_or_attachments_is_refused(catalog):
    assert refusal(pdf(catalog, *PAGES)) == "active_content"


@pytest.mark.filterwarnings("ignore:add_js is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    "add",
    [
        lambda writer: writer.add_js("app.alert('x');"),
        lambda writer: writer.add_attachment("hoa-don.exe", b"MZ"),
    ],
    ids=["javascript", "attachment"],
)
def test_a_pdf_given_javascript_or_an_attachment_by_pypdf_is_refused(add):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    add(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert refusal(buffer.getvalue()) == "active_content"


def _object_stream(body: bytes, *, compress=zlib.compress) -> bytes:
    """An object stream (its /Type name hex-escaped) holding ``body`` as object 4."""
    packed = compress(b"4 0 " + body)
    dictionary = b"<< /Type /Obj#53tm /N 1 /First 4 /Filter /FlateDecode /Length %d >>"
    return dictionary % len(packed) + b"\nstream\n" + packed + b"\nendstream"


def test_javascript_hidden_in_a_compressed_object_stream_is_refused():
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    hidden = _object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert b"JavaScript" not in hidden
    assert refusal(pdf(catalog, *PAGES, hidden)) == "active_content"
    harmless = _object_stream(b"<< /Producer (May quet) >>")
    assert inspect(pdf(catalog.replace(b" /OpenAction 4 0 R", b""), *PAGES, harmless))


def test_an_object_stream_that_inflates_without_end_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "OBJECT_STREAMS_MAX_BYTES", 1024 * 1024)
    bomb = _object_stream(b" " * (2 * 1024 * 1024))
    assert len(bomb) < 10_000
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    assert refusal(pdf(catalog, *PAGES, bomb)) == "active_content"


def test_an_object_stream_that_cannot_be_inflated_is_not_let_through():
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    opaque = _object_stream(b"<< /JS (x) >>", compress=lambda raw: raw.hex().encode())
    assert refusal(pdf(catalog, *PAGES, opaque)) == "active_content"


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims its size and holds one tiny compressed row: decoding it would need
    width x height pixels of memory, reading its header needs nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"), [(10_000, 5_001), (100_000, 100_000), (2**31 - 1, 2**31 - 1)]
)
def test_a_png_bomb_is_refused_from_its_header(settings, width, height):
    settings.IMAGE_MAX_PIXELS = 50_000_000
    bomb = _png_header(width, height)
    assert len(bomb) < 200
    assert refusal(bomb) == "image_too_large"


def test_a_png_at_the_limit_passes_its_header_check(settings):
    settings.IMAGE_MAX_PIXELS = 50_000_000
    assert inspect(_png_header(10_000, 5_000)).content_type == "image/png"


def test_a_jpeg_bomb_is_refused_from_its_header(settings):
    settings.IMAGE_MAX_PIXELS = 50_000_000
    photo = bytearray(image("JPEG", (16, 16)))
    frame = photo.index(b"\xff\xc0")  # baseline start of frame: length, precision, height, width
    photo[frame + 5 : frame + 9] = struct.pack(">HH", 60_000, 60_000)
    assert refusal(bytes(photo)) == "image_too_large"


def test_pillow_refuses_images_beyond_the_portals_limit_everywhere(settings):
    assert Image.MAX_IMAGE_PIXELS == settings.IMAGE_MAX_PIXELS


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64],
)
def test_a_signature_without_an_image_behind_it_is_damaged(content):
    assert refusal(content) == "damaged"


def test_a_truncated_image_is_damaged():
    assert refusal(image("PNG")[:-12]) == "damaged"
    assert refusal(image("JPEG")[:-2]) == "damaged"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\x.pdf", "x.pdf"),
        ("giay\x00ra\x07vien\r\n.pdf", "giayravien .pdf"),
        ("ho so\tbenh an.pdf", "ho so benh an.pdf"),
        ("anh\u202egpj.exe", "anhgpj.exe"),  # the right-to-left override is dropped
        ("..pdf", "pdf"),
        ("../", "tep"),
        ("", "tep"),
        ("Giấy ra viện.pdf", "Giấy ra viện.pdf"),
        ("Gia\u0301y.pdf", "Giáy.pdf"),  # composed, as typed on another system
        ("a" * 300 + ".pdf", "a" * 255),
    ],
)
def test_the_name_shown_has_no_folder_and_no_control_character(name, shown):
    assert display_name(name) == shown
