"""Requesting, building and downloading annual reports."""

import io
import subprocess
import time
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from openpyxl import load_workbook

from welfare.models import Report
from welfare.reports.build import rebuild_with_narrative, request_report, run_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_queue(monkeypatch):
    """Requests are queued on commit; here the build is run by hand instead."""
    monkeypatch.setattr("welfare.tasks.build_report.delay", lambda report_id: None)


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_asking_twice_while_building_does_not_start_a_second_build(world, no_queue):
    leader = world.users["leader"]
    first, started = request_report(union=world.province, year=2026, by=leader)
    again, started_again = request_report(union=world.province, year=2026, by=leader)
    assert started and not started_again
    assert again.pk == first.pk
    assert Report.objects.count() == 1


def test_build_writes_pdf_and_workbook_with_the_headline_figures(world, records, no_queue):
    report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
    run_build(report.pk)
    report.refresh_from_db()
    assert (report.status, report.progress) == ("done", 100)
    text = pdf_text(report.pdf.path)
    assert "BÁO CÁO CÔNG TÁC AN SINH XÃ HỘI" in text
    assert "7.500.000 ₫" in text
    assert world.province.name.upper() in text or world.province.name in text
    sheets = load_workbook(report.xlsx.path, read_only=True)
    assert len(sheets.sheetnames) >= 5


def test_running_a_build_again_after_a_crash_replaces_the_files(world, records, no_queue):
    report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
    run_build(report.pk)
    Report.objects.filter(pk=report.pk).update(status="running")
    run_build(report.pk)  # a redelivered message: builds again, same file names
    report.refresh_from_db()
    assert report.status == "done"
    leftovers = [n for n in report.pdf.storage.listdir("reports")[1] if n.startswith(".building")]
    assert leftovers == []


def test_leader_requests_follows_progress_and_downloads(client_for, world, records, no_queue):
    client = client_for("leader")
    response = client.post(reverse("reports:list"), {"union": world.province.pk, "year": 2026})
    report = Report.objects.get()
    assert response.status_code == 302
    status = client.get(reverse("reports:status", args=[report.pk])).json()
    assert status["status"] == "queued"
    assert client.get(reverse("reports:download", args=[report.pk, "pdf"])).status_code == 404
    run_build(report.pk)
    download = client.get(reverse("reports:download", args=[report.pk, "pdf"]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    workbook = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
    load_workbook(io.BytesIO(b"".join(workbook.streaming_content)))


def test_commune_staff_cannot_request_or_see_the_province_report(client_for, world, no_queue):
    response = client_for("commune").post(
        reverse("reports:list"), {"union": world.province.pk, "year": 2026}
    )
    assert response.status_code == 200
    assert "union" in response.context["form"].errors
    report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
    assert client_for("commune").get(reverse("reports:detail", args=[report.pk])).status_code == 404
    listed = client_for("commune").get(reverse("reports:list")).context["page"].object_list
    assert report not in listed


def test_leader_edits_the_narrative_and_the_pdf_is_built_again(
    client_for, world, records, no_queue
):
    report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
    run_build(report.pk)
    client = client_for("leader")
    text = "Năm 2026, công tác an sinh xã hội được quan tâm đặc biệt."
    client.post(reverse("reports:narrative", args=[report.pk]), {"narrative": text})
    report.refresh_from_db()
    assert (report.status, report.narrative_edited) == ("queued", True)
    run_build(report.pk)
    report.refresh_from_db()
    assert "được quan tâm đặc biệt" in pdf_text(report.pdf.path)


def test_year_out_of_range_is_refused(client_for, world, no_queue):
    response = client_for("leader").post(
        reverse("reports:list"), {"union": world.province.pk, "year": 1990}
    )
    assert response.status_code == 200
    assert not Report.objects.exists()


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_report_is_built_by_a_real_celery_worker(world, records):
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    queue = f"test-reports-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, pool="solo", queues=[queue], perform_ping_check=False):
            report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
            for _ in range(120):
                report.refresh_from_db()
                if report.status in ("done", "failed"):
                    break
                time.sleep(0.5)
    finally:
        app.conf.task_default_queue = "celery"
    assert report.status == "done", report.error
    assert "7.500.000 ₫" in pdf_text(report.pdf.path)


# Who may ask for a report: the service refuses by itself, whoever calls it ----------------


def test_a_role_that_may_only_read_cannot_request_a_report(world, no_queue):
    with pytest.raises(PermissionDenied):
        request_report(union=world.province, year=2026, by=world.users["treasurer"])
    with pytest.raises(PermissionDenied):
        request_report(union=world.province, year=2026, by=None)
    assert not Report.objects.exists()


def test_outsider_cannot_request_a_report_on_a_union_they_cannot_see(world, no_queue):
    with pytest.raises(Http404):
        request_report(union=world.province, year=2026, by=world.users["q_officer"])
    with pytest.raises(Http404):  # commune A staff do not see commune B
        request_report(union=world.commune_b, year=2026, by=world.users["commune"])
    assert not Report.objects.exists()


def test_only_who_writes_reports_rebuilds_one_with_a_narrative(world, no_queue):
    report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
    Report.objects.filter(pk=report.pk).update(status=Report.Status.DONE, narrative="Gốc")
    for user, refusal in (
        (world.users["treasurer"], PermissionDenied),
        (world.users["commune"], Http404),  # the province is above commune A
        (world.users["outsider"], Http404),
    ):
        with pytest.raises(refusal):
            rebuild_with_narrative(report=report, text="Khác", by=user)
    report.refresh_from_db()
    assert (report.status, report.narrative, report.narrative_edited) == ("done", "Gốc", False)
    rebuild_with_narrative(report=report, text="Khác", by=world.users["leader"])
    report.refresh_from_db()
    assert (report.status, report.narrative) == ("queued", "Khác")
