"""The program-wide steps: asking for one from the program page, following it (the progress
bar the reports and imports share) and reading what it did, unit by unit (``runs``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from unions.scope import visible_unit_ids

from . import runs, services
from .forms import RunForm, RunPaymentForm
from .models import ProgramRun

ISSUES_PER_PAGE = 50


def run_forms(request: HttpRequest, program) -> list[tuple[str, str, RunForm]]:
    """The steps the program page offers this user, each with its confirmation form."""
    offered = []
    for kind, label in ProgramRun.Kind.choices:
        if runs.may_run(request.user, program, kind):
            form_class = RunPaymentForm if kind == ProgramRun.Kind.PAY else RunForm
            offered.append((kind, str(label), form_class(initial={"kind": kind}, prefix=kind)))
    return offered


@require_POST
def run_start(request: HttpRequest, pk: int) -> HttpResponse:
    program = services.get_program_for_user(request.user, pk)
    kind = request.POST.get("kind", "")
    if kind not in ProgramRun.Kind.values or not runs.may_run(request.user, program, kind):
        raise PermissionDenied
    form_class = RunPaymentForm if kind == ProgramRun.Kind.PAY else RunForm
    form = form_class(request.POST, prefix=kind)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("programs:detail", pk=program.pk)
    try:
        run = runs.start_run(
            program=program,
            kind=kind,
            by=request.user,
            paid_on=form.cleaned_data.get("paid_on"),
            receipt_reference=form.cleaned_data.get("receipt_reference", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("programs:detail", pk=program.pk)
    if run.kind != kind or run.requested_by_id != request.user.pk:
        messages.info(request, _("Another step is running over this program: wait for it to end."))
        if not ProgramRun.objects.visible_to(request.user).filter(pk=run.pk).exists():
            return redirect("programs:detail", pk=program.pk)
    return redirect("programs:run", pk=run.pk)


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = runs.get_run_for_user(request.user, pk)
    issues = (
        run.issues.filter(unit_id__in=visible_unit_ids(request.user))
        .select_related("unit")
        .order_by("-refused", "unit__path", "pk")
    )
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "welfare/programs/program_run.html", {"run": run, "page": page})


def run_label(run: ProgramRun) -> str:
    if run.is_active:
        return _("%(done)s of %(total)s units") % {
            "done": run.units_done,
            "total": run.units_total,
        }
    return str(run.get_status_display())


def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    run = runs.get_run_for_user(request.user, pk)
    return JsonResponse(
        {
            "status": run.status,
            "active": run.is_active,
            "progress": run.progress,
            "label": run_label(run),
        }
    )
