"""A Celery worker killed with SIGKILL in the middle of a report or an import (the OOM killer, a
container stopped hard): the task's message was never acknowledged (``acks_late``), Redis gives
it back once ``CELERY_VISIBILITY_TIMEOUT`` has passed, and the next worker does the work, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from common.imports import engine
from common.models import ImportJob
from members.models import Member
from welfare.reports.build import request_report
from welfare.reports.models import Report

from ..members.test_imports import person, upload, xlsx

ROOT = Path(__file__).resolve().parents[2]
# The killed task's message comes back soon, yet only once: the timeout stays longer than any
# task here runs, or a worker would give a message back while another still works on it (a
# second copy, as in production with a timeout shorter than the longest task).
VISIBILITY_TIMEOUT = 20  # seconds
RESTORE_INTERVAL = 1  # seconds between a worker's sweeps for unacknowledged messages


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def start_worker(queue: str, log: Path) -> subprocess.Popen:
    """``celery worker`` as docker-compose runs it (prefork, prefetch 1), on the test's queue, in
    a process group of its own so that the whole worker can be killed at once."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        CELERY_QUEUE=queue,
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        CELERY_RESTORE_INTERVAL=str(RESTORE_INTERVAL),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "portal", "worker",
         "--concurrency=1", "--prefetch-multiplier=1", "--loglevel=INFO", "-Q", queue,
         "-n", f"{queue}-{uuid.uuid4().hex[:4]}@%h"],
        cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def wait_for(row: Report | ImportJob, statuses: set[str], log: Path, seconds: int = 240) -> None:
    for _ in range(seconds * 20):
        row.refresh_from_db()
        if row.status in statuses:
            return
        time.sleep(0.05)
    pytest.fail(f"{row} stayed {row.status}; worker log:\n{log.read_text()[-4000:]}")


def drained(queue: str, seconds: int = 60) -> bool:
    """Whether the running worker has emptied the queue: the work's own message acknowledged,
    and whatever the work queued after it (a notice's e-mail) taken and acknowledged too,
    before the worker is stopped (a warm shutdown hands back what it had not started)."""
    for _ in range(seconds * 10):
        if nothing_left_in(queue):
            return True
        time.sleep(0.1)
    return False


def nothing_left_in(queue: str) -> bool:
    """No message of the queue waits, nor is held unacknowledged by a worker."""
    from portal.celery import app

    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        return client.llen(queue) == 0 and not [
            m for m in client.hvals("unacked") if queue.encode() in m
        ]


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_report_whose_worker_was_killed_is_built_once_by_the_next_worker(
    world, records, tmp_path
):
    from portal.celery import app

    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    app.conf.task_default_queue = queue
    first = start_worker(queue, log)
    second = None
    try:
        report, _ = request_report(union=world.province, year=2026, by=world.users["leader"])
        wait_for(report, {"running", "done", "failed"}, log)
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool child, mid-build
        first.wait(timeout=30)
        report.refresh_from_db()
        assert report.status == "running", "the build ended before the worker was killed"
        killed_run = report.started_at

        second = start_worker(queue, log)
        wait_for(report, {"done", "failed"}, log)
        empty = drained(queue)
    finally:
        app.conf.task_default_queue = "celery"
        for worker in (first, second):
            if worker is not None:
                stop(worker)

    assert report.status == "done", report.error
    assert report.started_at > killed_run  # built by the retry, not by the killed worker
    assert Report.objects.filter(union=world.province, year=2026).count() == 1
    built = sorted(p.name for p in (Path(settings.MEDIA_ROOT) / "reports").iterdir())
    stem = f"{world.province.code}-2026-{report.pk}"
    assert built == [f"{stem}.pdf", f"{stem}.xlsx"]
    # The message was acknowledged once done: nothing waits in the queue to build it again.
    assert empty


ROWS = 5000  # past engine.INLINE_ROWS: checked and written by the worker


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_was_killed_while_writing_is_written_once(world, tmp_path):
    from portal.celery import app

    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    app.conf.task_default_queue = queue
    first = start_worker(queue, log)
    second = None
    officer = world.users["grassroots"]
    before = Member.objects.count()
    try:
        job = engine.start_import(
            kind=ImportJob.Kind.MEMBERS,
            unit=world.a1,
            upload=upload(xlsx([person(n) for n in range(1, ROWS + 1)])),
            by=officer,
        )
        wait_for(job, {"previewed", "failed"}, log)
        assert (job.status, job.to_create) == ("previewed", ROWS), job.error
        engine.confirm_import(job=job, by=officer)
        wait_for(job, {"writing", "done", "failed"}, log)
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool child, mid-write
        first.wait(timeout=30)
        job.refresh_from_db()
        assert job.status == "writing", "the import ended before the worker was killed"
        assert Member.objects.count() == before  # the killed write left nothing half done

        second = start_worker(queue, log)
        wait_for(job, {"done", "failed"}, log)
        empty = drained(queue)
    finally:
        app.conf.task_default_queue = "celery"
        for worker in (first, second):
            if worker is not None:
                stop(worker)

    assert job.status == "done", job.error
    assert Member.objects.count() == before + ROWS
    assert Member.objects.filter(unit=world.a1).values("national_id").distinct().count() == (
        Member.objects.filter(unit=world.a1).count()
    )
    assert empty
