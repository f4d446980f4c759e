"""Redis down: asking for a report or a large import answers at once and says it is queued;
the work waits as a row and is sent when the broker is back (common/dispatch.py)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from common.dispatch import requeue
from welfare.models import Report
from welfare.reports.build import request_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(report_id):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("welfare.tasks.build_report.delay", refuse)


def test_a_report_asked_for_while_the_broker_is_down_waits_queued(
    world, client_for, broker_down, django_capture_on_commit_callbacks, caplog
):
    client = client_for("leader")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:list"), {"union": world.province.pk, "year": 2025})
    assert response.status_code == 302  # to the report's page, which shows it waiting
    report = Report.objects.get()
    assert (report.status, report.dispatched_at) == (Report.Status.QUEUED, None)
    assert "broker unreachable" in caplog.text
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_the_sweep_sends_what_waited_once_the_broker_is_back(world, monkeypatch):
    monkeypatch.setattr("welfare.tasks.build_report.delay", lambda pk: None)
    from welfare.tasks import build_report, requeue_waiting

    report, _new = request_report(union=world.province, year=2025, by=world.users["leader"])
    Report.objects.filter(pk=report.pk).update(dispatched_at=None)
    sent = []
    monkeypatch.setattr(build_report, "delay", sent.append)
    # too fresh to sweep: its own on-commit hook may still be sending it
    assert requeue_waiting() == 0
    Report.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert requeue_waiting() == 1 and sent == [report.pk]
    report.refresh_from_db()
    assert report.dispatched_at is not None
    # handed over: not sent again until it has waited long unstarted
    assert requeue_waiting() == 0
    Report.objects.filter(pk=report.pk).update(
        dispatched_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert requeue_waiting() == 1 and sent == [report.pk, report.pk]


def test_a_sweep_while_the_broker_is_still_down_stops_at_the_first_refusal(world, monkeypatch):
    calls = []

    def refuse(pk):
        calls.append(pk)
        raise OperationalError("down")

    monkeypatch.setattr("welfare.tasks.build_report.delay", lambda pk: None)
    from welfare.tasks import build_report

    for year in (2024, 2025):
        request_report(union=world.province, year=year, by=world.users["leader"])
    Report.objects.update(
        dispatched_at=None, created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    monkeypatch.setattr(build_report, "delay", refuse)
    assert requeue(build_report, Report.objects.filter(status=Report.Status.QUEUED)) == 0
    assert len(calls) == 1


def test_with_redis_unreachable_the_real_client_gives_up_and_raises():
    """The portal's Celery settings against a port nobody listens on: the short connection
    timeout and single retry make publishing fail (what ``common.dispatch.send`` catches)
    instead of retrying for minutes."""
    from celery import Celery

    probe = Celery("probe", set_as_current=False)
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    probe.conf.broker_url = "redis://127.0.0.1:1/0"
    assert probe.conf.broker_connection_timeout <= 5
    assert probe.conf.task_publish_retry_policy["max_retries"] <= 1
    with pytest.raises(OperationalError):
        probe.send_task("welfare.tasks.build_report", args=[1])
    probe.close()


def test_a_signature_list_asked_for_while_the_broker_is_down_is_sent_later(
    world, make_batch, monkeypatch, django_capture_on_commit_callbacks
):
    from welfare.programs.models import SignatureList
    from welfare.programs.signature_lists import request_signature_list
    from welfare.tasks import build_signature_list, requeue_waiting

    batch = make_batch(state="approved")

    def refuse(pk):
        raise OperationalError("down")

    monkeypatch.setattr(build_signature_list, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        job = request_signature_list(batch=batch, by=world.users["grassroots"])
    job.refresh_from_db()
    assert (job.status, job.dispatched_at) == (SignatureList.Status.QUEUED, None)
    sent = []
    monkeypatch.setattr(build_signature_list, "delay", sent.append)
    SignatureList.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert requeue_waiting() == 1 and sent == [job.pk]
