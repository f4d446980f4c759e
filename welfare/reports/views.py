from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest
from unions.scope import Capability, can, can_anywhere

from .build import get_report_for_user, rebuild_with_narrative, request_report
from .forms import NarrativeForm, ReportRequestForm
from .models import Report, TallyRecount


def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    can_write = can_anywhere(request.user, Capability.WRITE_REPORTS)
    form = ReportRequestForm(request.POST or None, user=request.user) if can_write else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                report, started = request_report(
                    union=form.cleaned_data["union"],
                    year=form.cleaned_data["year"],
                    by=request.user,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                if not started:
                    messages.info(request, _("This report is already being built."))
                return redirect("reports:detail", pk=report.pk)
    reports = Report.objects.visible_to(request.user).select_related("union", "requested_by")
    page = Paginator(reports, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "welfare/report_list.html", {"form": form, "page": page})


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk)
    can_edit = can(request.user, Capability.WRITE_REPORTS, report.union)
    form = NarrativeForm(initial={"narrative": report.narrative}) if can_edit else None
    return render(request, "welfare/report_detail.html", {"report": report, "narrative_form": form})


def report_status(request: HttpRequest, pk: int) -> JsonResponse:
    report = get_report_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": report.status,
            "active": report.is_active,
            "progress": report.progress,
            "label": report.get_status_display(),
        }
    )


@require_POST
def report_narrative(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk)
    if not can(request.user, Capability.WRITE_REPORTS, report.union):
        raise PermissionDenied
    form = NarrativeForm(request.POST)
    if form.is_valid():
        try:
            rebuild_with_narrative(
                report=report, text=form.cleaned_data["narrative"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The PDF is being built again with your narrative."))
    else:
        messages.error(request, _("The narrative cannot be empty."))
    return redirect("reports:detail", pk=report.pk)


def report_download(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    report = get_report_for_user(request.user, pk)
    if kind not in ("pdf", "xlsx"):
        raise Http404
    stored = report.pdf if kind == "pdf" else report.xlsx
    if report.status != Report.Status.DONE or not stored:
        raise Http404
    name = f"bao-cao-an-sinh-{report.union.code}-{report.year}.{kind}"
    response = FileResponse(stored.open("rb"), as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def recount_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The progress of a reorganisation's recount, polled by the tree's pages; only for those
    who reorganise the tree."""
    if not can_anywhere(request.user, Capability.MANAGE_TREE):
        raise Http404
    recount = TallyRecount.objects.filter(pk=pk).first()
    if recount is None:
        raise Http404
    return JsonResponse(
        {
            "status": recount.status,
            "active": recount.is_active,
            "progress": recount.progress,
            "label": recount.get_status_display(),
        }
    )
