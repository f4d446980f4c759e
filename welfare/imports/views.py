"""Import of past support records: the import pages of ``unions/import_views.py`` for it, and
the step that opens a fund the sheet names and the portal lacks (``past_funds``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common.imports import engine
from common.models import ImportJob
from unions.import_views import ImportPages
from unions.models import Unit
from unions.scope import Capability, can

from . import past_funds
from .forms import PastFundForm


def missing_funds(request: HttpRequest, job: ImportJob) -> dict:
    """The funds the job's sheet names and the portal lacks, each with the form that opens it
    for the uploader where they may open a fund at that union."""
    if job.status != ImportJob.Status.PREVIEWED or not job.missing_funds:
        return {}
    owner = job.created_by_id == request.user.pk
    units = Unit.objects.in_bulk({missing["unit_id"] for missing in job.missing_funds})
    found = []
    for index, missing in enumerate(job.missing_funds):
        unit = units.get(missing["unit_id"])
        may_open = owner and unit is not None and can(request.user, Capability.OPEN_CASES, unit)
        found.append(
            {
                **missing,
                "first": past_funds.first_date(missing),
                "form": PastFundForm.for_missing(missing, index) if may_open else None,
                "url": reverse("support_imports:open_fund", args=[job.pk, index]),
            }
        )
    return {"missing_funds": found}


SUPPORT_PAGES = ImportPages(
    kind=ImportJob.Kind.SUPPORT,
    url_prefix="support_imports:",
    title=gettext_lazy("Import past support records"),
    intro=gettext_lazy(
        "Upload a list of support already approved and paid before the portal, so that the "
        "reports of those years count it. Each record becomes a paid case at its union; fund "
        "balances are not changed. You will see what would be added and refused first."
    ),
    back_url="cases:list",
    back_label=gettext_lazy("Cases"),
    other_url="members:import_list",
    other_kind=ImportJob.Kind.MEMBERS,
    other_label=gettext_lazy("Import members"),
    updates=False,
    detail_context=missing_funds,
)


@require_POST
def open_fund(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """Open a missing fund with the uploader's confirmation, then check the file again."""
    job = engine.get_job_for_user(request.user, pk, kind=ImportJob.Kind.SUPPORT)
    detail = redirect("support_imports:detail", pk=job.pk)
    try:
        missing = past_funds.missing_fund(job, index)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return detail
    form = PastFundForm.for_missing(missing, index, data=request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return detail
    try:
        fund = past_funds.open_missing_fund(
            job=job,
            index=index,
            by=request.user,
            **{key: form.cleaned_data[key] for key in ("name", "kind", "opened_on")},
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return detail
    messages.success(
        request,
        _("The fund %(name)s was opened at %(unit)s; the file was checked again.")
        % {"name": fund.name, "unit": missing["unit"]},
    )
    return detail
