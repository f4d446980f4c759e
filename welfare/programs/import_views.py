"""A batch's people from a spreadsheet: the upload on the batch's "add people" page, then the
import engine's pages (preview, refused rows, confirm) for it (``imports.BatchSchema``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from common.imports import engine
from common.models import ImportJob
from unions.import_views import ImportPages

from . import services
from .forms import BatchImportForm
from .models import Batch
from .views import _refused


def back_to_batch(request: HttpRequest, job: ImportJob) -> dict:
    batch = (
        Batch.objects.filter(pk=job.target_id).select_related("unit").first()
        if job.target_id is not None
        else None
    )
    if batch is None:
        return {}
    return {
        "back_to": {
            "url": reverse("programs:batch", args=[batch.pk]),
            "label": _("Back to the batch of %(unit)s") % {"unit": batch.unit.name},
        }
    }


BATCH_PAGES = ImportPages(
    kind=ImportJob.Kind.BATCH,
    url_prefix="batch_imports:",
    title=_("Import the people of a batch"),
    intro=_("A list of people for a program batch."),
    back_url="programs:list",
    back_label=_("Programs"),
    updates=False,
    detail_context=back_to_batch,
)


@require_POST
def batch_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the import of a list into a batch that may be changed now."""
    batch = services.get_batch_for_user(request.user, pk)
    refused = _refused(request, batch, "edit")
    if refused is not None:
        return refused
    form = BatchImportForm(request.POST, request.FILES)
    back = redirect("programs:batch_people", pk=batch.pk)
    if not form.is_valid():
        for text in (str(m) for errors in form.errors.values() for m in errors):
            messages.error(request, text)
        return back
    try:
        job = engine.start_import(
            kind=ImportJob.Kind.BATCH,
            unit=batch.unit,
            upload=form.cleaned_data["file"],
            by=request.user,
            target_id=batch.pk,
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return back
    return redirect("batch_imports:detail", pk=job.pk)


def job_list(request: HttpRequest) -> HttpResponse:
    """A batch's lists are uploaded from the batch: the programs are where to start."""
    return redirect("programs:list")


# The engine's pages of a job, and the list sending back to the programs.
urlpatterns = [
    path("", job_list, name="list"),
    *(pattern for pattern in BATCH_PAGES.urlpatterns() if pattern.name not in ("list",)),
]
