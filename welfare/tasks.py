"""Background work.  Tasks take ids and call a service; they are queued on commit."""

from celery import shared_task

from .cases.evidence import clean_pending_uploads as clean_pending
from .loans.services import mark_overdue
from .privacy.access_log import prune
from .programs.runs import run_program_run
from .programs.signature_lists import run_signature_list
from .reports.build import run_build


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_report(report_id: int) -> None:
    """Idempotent (files replaced whole, status set last), hence acks_late."""
    run_build(report_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_signature_list(job_id: int) -> None:
    """Idempotent (the file replaced whole, the job marked ready last), hence acks_late."""
    run_signature_list(job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_program_step(run_id: int) -> None:
    """Resumable (each unit done once, under the run's lock, with its resume point), hence
    acks_late: a killed worker's run is sent again and goes on after the last unit done."""
    run_program_run(run_id)


@shared_task
def clean_pending_uploads() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): the files kept from case forms more than a day ago."""
    return clean_pending()


@shared_task(acks_late=True)
def mark_overdue_loans() -> int:
    """Daily (``CELERY_BEAT_SCHEDULE``): idempotent, a second run on a day marks nothing."""
    return mark_overdue()


@shared_task
def count_membership_year() -> bool:
    """Daily (``CELERY_BEAT_SCHEDULE``): on its first run of a year, the new year's membership
    of every unit (``members.counters.count_new_year``); a later run does nothing."""
    from members.counters import count_new_year

    return count_new_year()


@shared_task
def prune_access_log() -> int:
    """Daily (``CELERY_BEAT_SCHEDULE``): the access log past ``PERSONAL_DATA_LOG_DAYS``."""
    return prune()


@shared_task
def requeue_waiting() -> int:
    """Every few minutes (``CELERY_BEAT_SCHEDULE``): the reports, signature lists, imports and
    tally recounts whose task never reached the broker (Redis was down) or was lost before it
    started, sent again."""
    from common.dispatch import requeue
    from common.models import ImportJob
    from common.tasks import apply_import, preview_import

    from .programs.models import ProgramRun, SignatureList
    from .reports.models import Report, TallyRecount

    return (
        requeue(build_report, Report.objects.filter(status=Report.Status.QUEUED))
        + requeue(
            build_signature_list,
            SignatureList.objects.filter(status=SignatureList.Status.QUEUED),
        )
        + requeue(run_program_step, ProgramRun.objects.filter(status=ProgramRun.Status.QUEUED))
        + requeue(preview_import, ImportJob.objects.filter(status=ImportJob.Status.QUEUED))
        + requeue(apply_import, ImportJob.objects.filter(status=ImportJob.Status.CONFIRMED))
        + requeue(recount_tallies, TallyRecount.objects.filter(status=TallyRecount.Status.QUEUED))
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recount_tallies(recount_id: int) -> None:
    """Resumable (each year committed with the mark that it is done), hence acks_late."""
    from .reports.tallies import run_recount

    run_recount(recount_id)
