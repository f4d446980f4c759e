"""Background work for spreadsheet imports and notice e-mails.  Tasks take an id and call the
service (``common/imports/engine.py``, ``common/notices.py``); they are queued on commit, so the
row is there when they run."""

import smtplib

from celery import shared_task

from . import notices
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


@shared_task(
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=60,
    max_retries=5,
)
def email_notice(notice_id: int) -> None:
    """A mail server that is down is tried again later.  Not ``acks_late``: a worker lost
    mid-send might send twice; a notice already e-mailed is never sent again by a retry."""
    notices.send_email(notice_id)
