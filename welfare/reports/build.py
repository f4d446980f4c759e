"""Requesting and building annual reports.  The build is background work (welfare/tasks.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from common.dispatch import dispatch_on_commit
from unions.models import Unit
from unions.scope import ActingUser, Capability, authorize_write

from ..models import Report
from .figures import annual_figures
from .narrative import narrative

FIRST_YEAR = 2000


def get_report_for_user(user: ActingUser, pk: int | str) -> Report:
    return get_object_or_404(Report.objects.visible_to(user).select_related("union"), pk=pk)


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise ValidationError(
            {
                "year": _("Choose a year between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": timezone.localdate().year}
            }
        )


def request_report(*, union: Unit, year: int, by: User) -> tuple[Report, bool]:
    """Queue a build, or return the one already being built for this union and year.

    Returns the report and whether a new build was started.
    """
    authorize_write(by, Capability.WRITE_REPORTS, Unit.objects.get(pk=union.pk))
    check_year(year)
    active = Report.objects.filter(union=union, year=year, status__in=Report.ACTIVE).first()
    if active is not None:
        return active, False
    try:
        with transaction.atomic():
            report = Report.objects.create(union=union, year=year, requested_by=by)
            _enqueue(report)
    except IntegrityError:  # another request won the race: show that build
        return Report.objects.get(union=union, year=year, status__in=Report.ACTIVE), False
    return report, True


@transaction.atomic
def rebuild_with_narrative(*, report: Report, text: str, by: User) -> Report:
    """Build the PDF again with the leader's own narrative."""
    # Not the union it reads: a union locked FOR UPDATE blocks every insert referring to it.
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("union").get(pk=report.pk)
    )
    authorize_write(by, Capability.WRITE_REPORTS, report.union)
    if report.is_active:
        raise ValidationError(_("This report is being built; wait until it is ready."))
    if not text.strip():
        raise ValidationError({"narrative": _("The narrative cannot be empty.")})
    report.narrative = text.strip()
    report.narrative_edited = True
    report.status = Report.Status.QUEUED
    report.progress = 0
    report.error = ""
    report.save()
    _enqueue(report)
    return report


def _enqueue(report: Report) -> None:
    from ..tasks import build_report

    dispatch_on_commit(build_report, Report, report.pk)


def _progress(report: Report, percent: int, step: str) -> None:
    Report.objects.filter(pk=report.pk).update(progress=percent, step=step)


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename: nobody can download a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".building-")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_build(report_id: int) -> None:
    """Build the report's figures, PDF and spreadsheet.  Safe to run again after a crash: the
    output files are replaced whole and the report is marked ready only at the end."""
    from .pdf import render_pdf
    from .xlsx import render_xlsx

    report = Report.objects.select_related("union", "requested_by").get(pk=report_id)
    if report.status == Report.Status.DONE:
        return
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.RUNNING, started_at=timezone.now(), progress=5, step="figures"
    )
    try:
        figures = annual_figures(report.union, report.year, user=report.requested_by)
        text = report.narrative if report.narrative_edited else narrative(figures)
        _progress(report, 40, "pdf")
        stem = f"reports/{report.union.code}-{report.year}-{report.pk}"
        root = Path(settings.MEDIA_ROOT)
        _write_atomically(root / f"{stem}.pdf", render_pdf(figures, narrative=text, report=report))
        _progress(report, 85, "xlsx")
        _write_atomically(root / f"{stem}.xlsx", render_xlsx(figures))
    except Exception as error:
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.DONE,
        progress=100,
        step="",
        narrative=text,
        pdf=f"{stem}.pdf",
        xlsx=f"{stem}.xlsx",
        finished_at=timezone.now(),
    )
