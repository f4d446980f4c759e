"""Opening a fund that a past-support sheet names and the portal does not have (a grassroots
union's own welfare money in 2021): an explicit step on the import's page, with its own
confirmation, after which the same file is checked again.  Never done silently by the import.

Such a fund is a fund of past records: it is opened closed and empty (the money of those years
was never in the portal's books), so no case draws from it and nobody needs a treasurer's right
to open it; the uploader, who may import support at its union, does.  A fund still in use today
is opened by its treasurer from the funds page, with its balance, and the import finds it."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from common.imports import engine
from common.models import ImportJob
from common.text import normalise
from unions.models import Unit
from unions.scope import Capability, authorize_write
from welfare.funds.models import Fund


def missing_fund(job: ImportJob, index: int) -> dict:
    """The ``index``-th fund the job's preview found missing; a clear error if there is none
    (the page was older than the job)."""
    if job.kind != ImportJob.Kind.SUPPORT or job.status != ImportJob.Status.PREVIEWED:
        raise ValidationError(_("This import is not waiting for confirmation."))
    if not 0 <= index < len(job.missing_funds):
        raise ValidationError(_("This fund is no longer missing: reload the page."))
    return job.missing_funds[index]


def first_date(missing: dict) -> datetime.date:
    return datetime.date.fromisoformat(missing["first"])


@transaction.atomic
def open_missing_fund(
    *,
    job: ImportJob,
    index: int,
    name: str,
    kind: str,
    opened_on: datetime.date,
    by,
) -> Fund:
    """Open the missing fund, closed and empty, at the union the sheet books it at, on a day no
    later than the first record drawn from it; then check the file again
    (``engine.recheck_import``: the uploader only)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    missing = missing_fund(job, index)
    unit = Unit.objects.get(pk=missing["unit_id"])
    authorize_write(by, Capability.OPEN_CASES, unit)
    if not normalise(name).startswith(normalise(missing["name"])):
        raise ValidationError(
            {
                "name": _(
                    "The name must begin with “%(name)s”, as the sheet writes it, for its rows "
                    "to find the fund."
                )
                % {"name": missing["name"]}
            }
        )
    if opened_on > first_date(missing):
        raise ValidationError(
            {
                "opened_on": _(
                    "The fund must be opened on %(date)s or before: the sheet names it for "
                    "support paid on that day."
                )
                % {"date": first_date(missing).strftime("%d/%m/%Y")}
            }
        )
    fund = Fund.objects.create(
        unit=unit, name=name, kind=kind, opened_on=opened_on, is_active=False
    )
    engine.recheck_import(job=job, by=by)
    return fund
