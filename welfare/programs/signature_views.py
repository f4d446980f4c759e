"""The signature list pages: asking for a unit's list or every unit's, following the build,
downloading it, and the signed scan kept on the batch.

The lists are built in the background (``signature_lists``) and followed on the progress page
the reports and imports share (includes/job_progress.html).  Every download is kept in the
batch's access log.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common import uploads

from . import services, signature_lists
from .forms import SignedListForm
from .models import Batch, BatchAccess, SignatureList, SignedList


@require_POST
def batch_signature_list(request: HttpRequest, pk: int) -> HttpResponse:
    batch = services.get_batch_for_user(request.user, pk)
    try:
        job = signature_lists.request_signature_list(batch=batch, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("programs:batch", pk=batch.pk)
    return redirect("programs:signature_list", pk=job.pk)


@require_POST
def program_signature_lists(request: HttpRequest, pk: int) -> HttpResponse:
    program = services.get_program_for_user(request.user, pk)
    try:
        job = signature_lists.request_all_signature_lists(program=program, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("programs:detail", pk=program.pk)
    return redirect("programs:signature_list", pk=job.pk)


def signature_list(request: HttpRequest, pk: int) -> HttpResponse:
    job = signature_lists.get_signature_list_for_user(request.user, pk)
    return render(request, "welfare/programs/signature_list.html", {"job": job})


def signature_list_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = signature_lists.get_signature_list_for_user(request.user, pk)
    if job.batch_id is None and job.is_active:
        label = _("%(done)s of %(total)s units") % {
            "done": job.units_done,
            "total": job.units_total,
        }
    else:
        label = str(job.get_status_display())
    return JsonResponse(
        {"status": job.status, "active": job.is_active, "progress": job.progress, "label": label}
    )


def signature_list_download(request: HttpRequest, pk: int) -> FileResponse:
    job = signature_lists.get_signature_list_for_user(request.user, pk)
    if job.status != SignatureList.Status.DONE or not job.file:
        raise Http404
    signature_lists.record_job_access(job, request.user)
    response = FileResponse(
        job.file.open("rb"), as_attachment=True, filename=signature_lists.download_name(job)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def signed_list_add(request: HttpRequest, pk: int) -> HttpResponse:
    batch = services.get_batch_for_user(request.user, pk)
    form = SignedListForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            signature_lists.attach_signed_list(
                batch=batch, upload=form.cleaned_data["file"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The signed list is kept on the batch."))
    else:
        messages.error(request, " ".join(str(error) for error in form.errors.get("file", [])))
    return redirect("programs:batch", pk=batch.pk)


def signed_list(request: HttpRequest, pk: int) -> FileResponse:
    scan = get_object_or_404(
        SignedList.objects.filter(batch__in=Batch.objects.visible_to(request.user)).select_related(
            "batch"
        ),
        pk=pk,
    )
    signature_lists.record_access(
        batch=scan.batch,
        by=request.user,
        what=BatchAccess.What.SIGNED_LIST,
        name=scan.original_name,
    )
    return uploads.uploaded_file_response(
        scan.file.open("rb"), name=scan.original_name, content_type=scan.content_type
    )
