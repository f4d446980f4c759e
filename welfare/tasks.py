"""Background work.  Tasks take ids and call a service; they are queued on commit."""

from celery import shared_task

from .reports.build import run_build


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_report(report_id: int) -> None:
    """Idempotent (files replaced whole, status set last), hence acks_late."""
    run_build(report_id)
