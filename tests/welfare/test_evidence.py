"""Evidence files: PDF, JPEG or PNG recognised by their content, 10 MB at most, stored under a
random name inside MEDIA_ROOT whatever the user called the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from welfare.cases.access_log import record_case_access
from welfare.cases.evidence import MAX_BYTES, add_evidence, attach_evidence
from welfare.models import CaseAccess, Evidence

from .conftest import JPEG, PDF, PNG

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def attach(case, file, world):
    return attach_evidence(case=case, upload=file, by=world.users["grassroots"])


@pytest.mark.parametrize(
    ("name", "content", "kind", "extension"),
    [
        ("giay-ra-vien.pdf", PDF, "application/pdf", ".pdf"),
        ("anh-nha-o.JPG", JPEG, "image/jpeg", ".jpg"),
        ("so-ho-ngheo.png", PNG, "image/png", ".png"),
        ("scan khong ten", PDF, "application/pdf", ".pdf"),
        ("anh-chup.jpeg.exe", JPEG, "image/jpeg", ".jpg"),
    ],
)
def test_pdf_jpeg_and_png_are_recognised_by_their_content(
    world, make_case, media_root, name, content, kind, extension
):
    case = make_case("draft")
    evidence = attach(case, upload(name, content), world)
    assert evidence.content_type == kind
    assert evidence.original_name == name
    assert evidence.size == len(content)
    assert evidence.file.name.endswith(extension)
    assert Path(evidence.file.path).read_bytes() == content


def test_a_png_named_pdf_is_stored_as_a_png(world, make_case, media_root):
    file = upload("giay-xac-nhan.pdf", PNG, "application/pdf")
    evidence = attach(make_case("draft"), file, world)
    assert evidence.content_type == "image/png"
    assert evidence.file.name.endswith(".png")
    assert evidence.original_name == "giay-xac-nhan.pdf"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("giay-xac-nhan.pdf", b"Day la mot tep van ban, khong phai PDF.\n"),
        ("bao-cao.pdf", b"<html><script>alert(1)</script></html>"),
        ("macro.docx.pdf", b"PK\x03\x04" + b"\x00" * 40),
        ("trong.pdf", b""),
    ],
)
def test_other_content_is_refused_whatever_its_name(world, make_case, media_root, name, content):
    case = make_case("draft")
    before = case.evidence.count()
    with pytest.raises(ValidationError) as refused:
        attach(case, upload(name, content, "application/pdf"), world)
    assert refused.value.code == "file_type"
    assert case.evidence.count() == before


def test_a_file_over_10_mb_is_refused(world, make_case, media_root):
    case = make_case("draft")
    big = PDF[:9] + b"\x00" * (MAX_BYTES + 1 - 9)
    assert len(big) == 10 * 1024 * 1024 + 1
    with pytest.raises(ValidationError) as refused:
        attach(case, upload("ho-so-lon.pdf", big, "application/pdf"), world)
    assert refused.value.code == "too_large"
    assert case.evidence.count() == 1
    stored = list((Path(media_root) / "evidence").rglob("*"))
    assert all(path.stat().st_size < MAX_BYTES for path in stored if path.is_file())


def test_a_file_of_exactly_10_mb_is_accepted(world, make_case, media_root):
    exact = PDF[:9] + b"\x00" * (MAX_BYTES - 9)
    evidence = attach(make_case("draft"), upload("vua-du.pdf", exact), world)
    assert evidence.size == MAX_BYTES


def test_the_stored_name_is_random_and_not_the_users(world, make_case, media_root):
    case = make_case("draft")
    first = attach(case, upload("giay-ra-vien.pdf", PDF), world)
    second = attach(case, upload("giay-ra-vien.pdf", PDF), world)
    assert "giay-ra-vien" not in first.file.name
    assert first.file.name != second.file.name
    assert first.file.name.startswith(f"evidence/{case.pk}/")
    assert Path(first.file.path).is_file() and Path(second.file.path).is_file()


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.pdf", "..\\..\\windows\\system.pdf", "/etc/shadow.pdf", "a/../../../x.pdf"],
)
def test_a_path_in_the_filename_cannot_escape_media_root(world, make_case, media_root, name):
    evidence = attach(make_case("draft"), upload(name, PDF), world)
    stored = Path(evidence.file.path).resolve()
    assert stored.is_relative_to(Path(media_root).resolve() / "evidence")
    assert ".." not in evidence.file.name
    assert "/" not in evidence.original_name


def test_evidence_cannot_be_added_once_the_case_is_in_review(world, make_case, media_root):
    case = make_case("submitted")
    with pytest.raises(ValidationError):
        attach(case, upload("bo-sung.pdf", PDF), world)
    assert Evidence.objects.filter(case=case).count() == 1


def test_evidence_may_be_added_to_a_returned_case(world, make_case, media_root):
    from welfare.cases.approvals import return_case

    case = return_case(case=make_case("submitted"), by=world.users["commune"], comment="Bổ sung")
    attach(case, upload("bo-sung.pdf", PDF), world)
    assert case.evidence.count() == 2


@pytest.mark.parametrize("role", ["treasurer", "leader", "q_officer"])
def test_only_someone_who_opens_cases_there_may_add_evidence(world, make_case, media_root, role):
    case = make_case("draft")
    with pytest.raises(PermissionDenied):
        attach_evidence(case=case, upload=upload("x.pdf", PDF), by=world.users[role])
    assert case.evidence.count() == 1


def test_files_are_added_all_or_none(world, make_case, media_root):
    case = make_case("draft")
    stored = {path for path in media_root.rglob("*") if path.is_file()}
    with pytest.raises(ValidationError):
        add_evidence(
            case=case,
            files=[upload("a.pdf", PDF), upload("b.png", b"not a png")],
            by=world.users["grassroots"],
        )
    assert case.evidence.count() == 1
    assert {path for path in media_root.rglob("*") if path.is_file()} == stored
    added = add_evidence(
        case=case, files=[upload("a.pdf", PDF), upload("b.png", PNG)], by=world.users["grassroots"]
    )
    assert [e.content_type for e in added] == ["application/pdf", "image/png"]
    assert case.evidence.count() == 3


def test_evidence_is_refused_for_a_role_before_its_files_are_read(world, make_case, media_root):
    """A treasurer sending a bad file hears that they may not add evidence, not what is wrong
    with the file."""
    with pytest.raises(PermissionDenied):
        add_evidence(
            case=make_case("draft"), files=[upload("x.pdf", b"junk")], by=world.users["treasurer"]
        )


def test_each_reading_of_a_case_is_logged_by_the_service(world, make_case):
    case = make_case("draft")
    evidence = case.evidence.get()
    record_case_access(case=case, by=world.users["leader"], what=CaseAccess.What.PAGE)
    record_case_access(
        case=case, by=world.users["province"], what=CaseAccess.What.EVIDENCE, evidence=evidence
    )
    assert [(a.user.username, a.what, a.evidence_name) for a in case.accesses.order_by("id")] == [
        ("leader", "page", ""),
        ("province", "evidence", evidence.original_name),
    ]


JS_PDF = (
    b"%PDF-1.4\n1 0 obj<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
    b"endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"
)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("so-do.pdf", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "file_type"),
        ("giay-moi.pdf", JS_PDF, "active_content"),
        ("anh.jpg", JPEG + b"PK\x03\x04" + b"\x00" * 26 + b"PK\x05\x06" + b"\x00" * 18, "polyglot"),
        ("to-khai.pdf", b"%PDF-1.4\n<html><script>alert(1)</script>\n" + PDF[9:], "polyglot"),
        ("anh-chup.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "damaged"),
    ],
)
def test_content_that_could_do_more_than_show_a_page_is_refused_and_nothing_kept(
    world, make_case, media_root, name, content, code
):
    case = make_case("draft")
    files_before = {path for path in media_root.rglob("*") if path.is_file()}
    with pytest.raises(ValidationError) as refused:
        attach(case, upload(name, content), world)
    assert refused.value.code == code
    assert name in refused.value.messages[0]
    assert case.evidence.count() == 1
    assert {path for path in media_root.rglob("*") if path.is_file()} == files_before


def test_an_image_bomb_is_refused_before_it_is_decoded(world, make_case, media_root, settings):
    settings.IMAGE_MAX_PIXELS = 1_000_000
    photo = bytearray(JPEG)
    frame = photo.index(b"\xff\xc0")
    photo[frame + 5 : frame + 9] = (50_000).to_bytes(2, "big") * 2  # claims 50,000 x 50,000
    with pytest.raises(ValidationError) as refused:
        attach(make_case("draft"), upload("nha-o.jpg", bytes(photo)), world)
    assert refused.value.code == "image_too_large"
    assert "hơn 1 triệu điểm ảnh" in refused.value.messages[0]


class UnreadableUpload(SimpleUploadedFile):
    """An upload that fails the test if a byte of it is read."""

    def read(self, *args, **kwargs):
        raise AssertionError("the file was read")


def test_a_file_over_the_limit_is_refused_before_it_is_read(world, make_case, media_root):
    big = UnreadableUpload("ho-so-lon.pdf", b"%PDF-")
    big.size = MAX_BYTES + 1
    with pytest.raises(ValidationError) as refused:
        attach(make_case("draft"), big, world)
    assert refused.value.code == "too_large"


def test_a_name_with_control_characters_is_kept_clean_and_stored_under_a_random_name(
    world, make_case, media_root
):
    evidence = attach(
        make_case("draft"), upload("../gi\u1ea5y\x00 ra\r\nvi\u1ec7n\u202e.pdf", PDF), world
    )
    assert evidence.original_name == "giấy ra viện.pdf"
    stored = Path(evidence.file.name).name
    assert len(stored) == len("0" * 32 + ".pdf") and stored.endswith(".pdf")
