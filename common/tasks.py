"""Background work for spreadsheet imports.  Tasks take the job's id and call the service in
``common/imports/engine.py``; they are queued on commit, so the job row is there when they run."""

from celery import shared_task

from .imports import engine as imports


@shared_task(acks_late=True, reject_on_worker_lost=True)
def preview_import(job_id: int) -> None:
    """Idempotent: the preview's files are replaced whole and a checked job is left alone."""
    imports.run_preview(job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_import(job_id: int) -> None:
    """Idempotent: the rows and the job's "done" are committed together, and a done job is
    never written again."""
    imports.run_apply(job_id)
