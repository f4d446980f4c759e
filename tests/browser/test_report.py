import pytest

from welfare.models import Report
from welfare.reports.build import run_build

from ..welfare.conftest import funds, media_root, records  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("records")
def test_leader_requests_the_report_sees_progress_and_downloads_the_pdf(
    login, world, monkeypatch, tmp_path
):
    # The test plays the worker: the request is queued, the page shows its progress, then the
    # build runs and the page, polling, turns into the download.
    monkeypatch.setattr("welfare.tasks.build_report.delay", lambda report_id: None)
    page = login("leader")
    page.click("nav >> a[href='/reports/']")
    page.select_option("select[name=union]", str(world.province.pk))
    page.select_option("select[name=year]", "2026")
    page.click("form button[type=submit].w-100")
    page.wait_for_selector("#job-status-label")
    assert page.inner_text("#job-progress-bar") == "0%"
    report = Report.objects.get()
    assert report.status == "queued"
    run_build(report.pk)
    page.wait_for_selector("#download-pdf", timeout=15_000)
    with page.expect_download() as download:
        page.click("#download-pdf")
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
