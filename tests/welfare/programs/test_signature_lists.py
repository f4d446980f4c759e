"""Signature lists: a unit's approved batch printed for its people to sign (read back with
pdftotext), every unit's lists as a ZIP, and the signed scan kept on the batch."""

from __future__ import annotations

import io
import subprocess
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from common.money import amount_in_words
from tests.factories import MemberFactory
from unions.models import Unit
from welfare.models import BatchAccess, SignatureList, SignedList
from welfare.programs import signature_lists
from welfare.programs.models import BatchLine
from welfare.programs.signature_lists import Page, Row, paginate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def run_now(monkeypatch):
    """The build, queued on commit, runs at once in the test's process."""
    monkeypatch.setattr(
        "welfare.tasks.build_signature_list.delay", signature_lists.run_signature_list
    )


def text_of(content: bytes, tmp_path, name="list.pdf") -> tuple[str, int]:
    path = tmp_path / name
    path.write_bytes(content)
    plain = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:")).split()[1])
    return plain, pages


def page_texts(content: bytes, tmp_path) -> list[str]:
    path = tmp_path / "pages.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")


def build(client, job: SignatureList) -> SignatureList:
    job.refresh_from_db()
    assert job.status == SignatureList.Status.DONE, job.error
    return job


# --- what the list says ------------------------------------------------------------------------


def test_list_has_the_people_left_after_approval_in_name_order_with_the_total_in_words(
    world, make_batch, tmp_path
):
    people = [
        MemberFactory(full_name=name, unit=world.a1, union_card_number=card)
        for name, card in (
            ("Đào Văn Bình", "CD0001"),
            ("Dương Thị Hoa", "CD0002"),
            ("Ân Văn Cường", "CD0003"),
            ("Trần Văn Taken", "CD0004"),
        )
    ]
    batch = make_batch(members=people, state="submitted")
    out = BatchLine.objects.get(batch=batch, member=people[3])
    batch = make_batch_approve(world, batch, take_out={out.pk: "Đã nhận ở đơn vị khác"})
    text, pages = text_of(signature_lists.render_signature_list(batch), tmp_path)
    flat = " ".join(text.split())
    assert pages == 1
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "Độc lập - Tự do - Hạnh phúc" in flat
    assert "CÔNG ĐOÀN PHƯỜNG A" in flat and "CĐCS CÔNG TY A1" in flat
    assert "Số: …/DS-P-A-1" in flat
    assert "DANH SÁCH KÝ NHẬN" in flat
    assert "Quyết định số …/QĐ-P ngày" in flat
    assert "Trần Văn Taken" not in flat
    # Vietnamese order: Ân after A, Đ after every D
    order = [flat.index(name) for name in ("Ân Văn Cường", "Dương Thị Hoa", "Đào Văn Bình")]
    assert order == sorted(order)
    assert "CD0003" in flat
    # 3 people at the program's standard 500.000 ₫ for members
    assert "Tổng cộng (3 người) 1.500.000" in flat
    assert "Một triệu năm trăm nghìn đồng" in flat
    assert "Cộng trang" not in flat  # one page: its total is the grand total
    assert "Người lập" in flat and "Kế toán / Thủ quỹ" in flat
    assert "TM. BAN CHẤP HÀNH" in flat and "CHỦ TỊCH" in flat


def make_batch_approve(world, batch, take_out):
    from welfare.programs import services

    return services.approve_batch(batch=batch, by=world.users["province"], take_out=take_out)


def test_a_paid_batch_lists_only_the_people_paid(world, make_batch, people, tmp_path):
    batch = make_batch(members=people[:2], state="approved")
    line = BatchLine.objects.get(batch=batch, member=people[1])
    from welfare.programs import services

    batch = services.record_batch_payment(
        batch=batch,
        by=world.users["treasurer"],
        paid_on=batch.approved_on,
        receipt_reference="PC-01",
        unpaid={line.pk: "moved_away"},
    )
    flat = " ".join(text_of(signature_lists.render_signature_list(batch), tmp_path)[0].split())
    assert people[0].full_name in flat and people[1].full_name not in flat


def test_pages_carry_their_subtotals_and_the_last_the_grand_total(world, make_batch, tmp_path):
    # A name that wraps in the letterhead and the facts: the first page still holds its rows.
    long = "CĐCS Công ty Cổ phần Môi trường và Dịch vụ đô thị thành phố Lạng Sơn"
    Unit.objects.filter(pk=world.a1.pk).update(name=long)
    batch = signature_lists.get_batch_unscoped(make_batch(state="approved").pk)
    amounts = [500_000, 1_000_000, 1_500_000]
    rows = [
        Row(
            n,
            f"Người thứ {n}",
            f"T{n:05d}",
            amounts[n % 3],
            f"{amounts[n % 3]:,}".replace(",", "."),
        )
        for n in range(1, 68)
    ]
    pages = paginate(rows)
    assert [len(page.rows) for page in pages] == [17, 30, 20]
    assert sum(page.subtotal for page in pages) == sum(row.amount for row in rows)
    content = signature_lists.render_signature_list(batch, rows)
    texts = [" ".join(t.split()) for t in page_texts(content, tmp_path) if t.strip()]
    assert len(texts) == 3
    for page, text in zip(pages, texts, strict=True):
        assert f"Trang {page.number}/3" in text
        subtotal = f"{page.subtotal:,}".replace(",", ".")
        assert f"Cộng trang {page.number} {subtotal}" in text
        assert all(row.name in text for row in page.rows)
    total = sum(row.amount for row in rows)
    assert f"Tổng cộng (67 người) {total:,}".replace(",", ".") in texts[-1]
    assert "Tổng cộng" not in texts[0]
    assert amount_in_words(total) in texts[-1]
    assert "Người lập" in texts[-1]


def test_the_last_page_keeps_room_for_the_signatures():
    rows = [Row(n, "A", "", 1, "1") for n in range(1, 47)]  # 17 + 29: no room for the ending
    pages = paginate(rows)
    assert [len(page.rows) for page in pages] == [17, 28, 1]
    assert [len(page.rows) for page in paginate(rows[:39])] == [17, 22]
    assert [len(page.rows) for page in paginate(rows[:11])] == [11]
    assert [len(page.rows) for page in paginate(rows[:12])] == [11, 1]
    assert [len(page.rows) for page in paginate(rows[:17])] == [16, 1]
    assert [len(page.rows) for page in paginate([])] == [0]


# --- who may print, and the background build ---------------------------------------------


def test_grassroots_officer_prints_their_batch_and_downloads_it(
    client_for, world, make_batch, run_now, django_capture_on_commit_callbacks, tmp_path
):
    batch = make_batch(state="approved")
    client = client_for("grassroots")
    page = client.get(reverse("programs:batch", args=[batch.pk])).content.decode()
    assert "In danh sách ký nhận" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("programs:batch_signature_list", args=[batch.pk]))
    job = build(client, SignatureList.objects.get(batch=batch))
    assert response.url == reverse("programs:signature_list", args=[job.pk])
    status = client.get(reverse("programs:signature_list_status", args=[job.pk])).json()
    assert status["active"] is False and status["progress"] == 100
    download = client.get(reverse("programs:signature_list_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    flat = " ".join(text_of(b"".join(download.streaming_content), tmp_path)[0].split())
    assert world.member_a1.full_name in flat
    assert BatchAccess.objects.filter(
        batch=batch, user=world.users["grassroots"], what="signature_list"
    ).exists()


def test_a_batch_not_yet_approved_has_no_list(world, make_batch):
    batch = make_batch(state="submitted")
    with pytest.raises(ValidationError):
        signature_lists.request_signature_list(batch=batch, by=world.users["province"])


def test_outsider_cannot_see_the_batch_list_nor_its_build(client_for, world, make_batch, run_now):
    batch = make_batch(state="approved")
    job = signature_lists.request_signature_list(batch=batch, by=world.users["province"])
    client = client_for("outsider")
    assert client.post(reverse("programs:batch_signature_list", args=[batch.pk])).status_code == 404
    for name in ("signature_list", "signature_list_status", "signature_list_download"):
        assert client.get(reverse(f"programs:{name}", args=[job.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        signature_lists.request_signature_list(batch=batch, by=world.users["outsider"])


def test_every_units_lists_come_as_one_zip_for_the_program_union(
    client_for, world, make_batch, run_now, django_capture_on_commit_callbacks
):
    first = make_batch(state="approved")
    second = make_batch(unit=world.b1, state="paid")
    client = client_for("province")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("programs:program_signature_lists", args=[first.program_id]))
    job = build(client, SignatureList.objects.get(program=first.program, batch=None))
    assert (job.units_done, job.units_total) == (2, 2)
    download = client.get(reverse("programs:signature_list_download", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == sorted(
        signature_lists.filename(batch) for batch in (first, second)
    )
    assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())
    logged = BatchAccess.objects.filter(user=world.users["province"], what="signature_list")
    assert sorted(logged.values_list("batch_id", flat=True)) == sorted([first.pk, second.pk])


def test_a_grassroots_officer_cannot_ask_for_every_units_lists(world, make_batch):
    batch = make_batch(state="approved")
    with pytest.raises(PermissionDenied):
        signature_lists.request_all_signature_lists(
            program=batch.program, by=world.users["grassroots"]
        )


def test_progress_counts_units(client_for, world, make_batch):
    batch = make_batch(state="approved")
    job = SignatureList.objects.create(
        program=batch.program, requested_by=world.users["province"], units_total=4, units_done=1
    )
    state = client_for("province").get(reverse("programs:signature_list_status", args=[job.pk]))
    assert state.json() == {
        "status": "queued",
        "active": True,
        "progress": 25,
        "label": "1/4 đơn vị",
    }


# --- the signed scan ---------------------------------------------------------------------


def test_treasurer_keeps_the_signed_scan_and_readers_download_it(client_for, world, make_batch):
    batch = make_batch(state="paid")
    client = client_for("treasurer")
    client.post(
        reverse("programs:signed_list_add", args=[batch.pk]),
        {"file": SimpleUploadedFile("ky-nhan.pdf", PDF, content_type="application/pdf")},
    )
    scan = SignedList.objects.get(batch=batch)
    assert (scan.original_name, scan.content_type) == ("ky-nhan.pdf", "application/pdf")
    page = client_for("leader").get(reverse("programs:batch", args=[batch.pk])).content.decode()
    assert "ky-nhan.pdf" in page
    download = client_for("leader").get(reverse("programs:signed_list", args=[scan.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert b"".join(download.streaming_content) == PDF
    assert BatchAccess.objects.filter(
        batch=batch, user=world.users["leader"], what="signed_list", name="ky-nhan.pdf"
    ).exists()
    assert (
        client_for("outsider").get(reverse("programs:signed_list", args=[scan.pk])).status_code
        == 404
    )


def test_a_file_that_is_not_a_scan_is_refused(client_for, world, make_batch):
    batch = make_batch(state="approved")
    response = client_for("grassroots").post(
        reverse("programs:signed_list_add", args=[batch.pk]),
        {"file": SimpleUploadedFile("ky-nhan.pdf", b"not a pdf", content_type="application/pdf")},
        follow=True,
    )
    assert not SignedList.objects.exists()
    assert "không phải là tệp PDF, JPEG hoặc PNG" in response.content.decode()


def test_a_scan_carrying_javascript_is_refused(world, make_batch):
    batch = make_batch(state="approved")
    scripted = SimpleUploadedFile(
        "ky-nhan.pdf", b"%PDF-1.4\n1 0 obj<< /AA << /O << /S /JavaScript >> >> >>endobj\n%%EOF"
    )
    with pytest.raises(ValidationError) as refused:
        signature_lists.attach_signed_list(
            batch=batch, upload=scripted, by=world.users["grassroots"]
        )
    assert refused.value.code == "active_content"
    assert not SignedList.objects.exists()


def test_who_only_reads_cannot_add_a_scan_and_a_draft_takes_none(world, make_batch):
    upload = SimpleUploadedFile("ky-nhan.pdf", PDF)
    approved = make_batch(state="approved")
    with pytest.raises(PermissionDenied):
        signature_lists.attach_signed_list(batch=approved, upload=upload, by=world.users["leader"])
    draft = make_batch(unit=world.b1, state="draft")
    with pytest.raises(ValidationError):
        signature_lists.attach_signed_list(batch=draft, upload=upload, by=world.users["b1_officer"])
    assert not SignedList.objects.exists()


def test_approved_batch_page_costs_the_same_queries_with_more_scans(
    client_for, world, make_batch, django_assert_max_num_queries
):
    batch = make_batch(state="approved")
    url = reverse("programs:batch", args=[batch.pk])
    client = client_for("treasurer")

    def cost():
        client.get(url)
        with django_assert_max_num_queries(14) as counted:
            assert client.get(url).status_code == 200
        return len(counted.captured_queries)

    signature_lists.attach_signed_list(
        batch=batch, upload=SimpleUploadedFile("a.pdf", PDF), by=world.users["treasurer"]
    )
    one = cost()
    for n in range(3):
        signature_lists.attach_signed_list(
            batch=batch, upload=SimpleUploadedFile(f"b{n}.pdf", PDF), by=world.users["treasurer"]
        )
    assert cost() == one


def test_a_page_longer_than_counted_is_numbered_again(world, make_batch, tmp_path):
    """Should a page hold fewer rows than measured, the numbering still follows the pages."""
    batch = make_batch(state="approved")
    context = signature_lists.signature_list_context(batch)
    rows = [Row(n, f"Người {n}", "", 1_000, "1.000") for n in range(1, 41)]
    context |= {"pages": [Page(1, rows)], "several": False}
    texts = page_texts(signature_lists.render_pages(context), tmp_path)
    texts = [" ".join(t.split()) for t in texts if t.strip()]
    assert len(texts) > 1
    assert [f"Trang {n}/{len(texts)}" in text for n, text in enumerate(texts, start=1)] == [
        True
    ] * len(texts)


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_list_is_built_by_a_real_celery_worker(world, make_batch):
    import time
    import uuid

    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    batch = make_batch(state="approved")
    queue = f"test-lists-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, pool="solo", queues=[queue], perform_ping_check=False):
            job = signature_lists.request_signature_list(batch=batch, by=world.users["province"])
            for _ in range(120):
                job.refresh_from_db()
                if job.status in ("done", "failed"):
                    break
                time.sleep(0.5)
    finally:
        app.conf.task_default_queue = "celery"
    assert job.status == "done", job.error
    assert job.file.read().startswith(b"%PDF")
