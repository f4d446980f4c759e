"""A shelter's record (work, cost, contributors) and its progress, on its case's page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.forms import apply_service_errors

from ..cases.approvals import get_case_for_user
from ..cases.models import SupportType
from . import services
from .forms import ContributorFormSet, ProgressForm, ShelterForm
from .models import Shelter


def shelter_card(user, case) -> dict:
    """What a shelter case's page shows of its shelter (nothing for other cases)."""
    if case.support_type != SupportType.SHELTER:
        return {}
    shelter = Shelter.objects.filter(case=case).select_related("handover_photo").first()
    contributors = list(shelter.contributors.all()) if shelter else []
    may_keep = services.may_keep(user, case)
    decided = case.status in services.DECIDED
    return {
        "shelter": {
            "record": shelter,
            "contributors": contributors,
            "union_amount": services.union_amount(case),
            "others": sum(c.amount for c in contributors),
            "may_keep": may_keep,
            "progress_form": ProgressForm() if may_keep and shelter and decided else None,
            "decided": decided,
        }
    }


def shelter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for_user(request.user, pk)
    if not services.may_keep(request.user, case):
        raise PermissionDenied
    shelter = Shelter.objects.filter(case=case).first()
    initial = {}
    contributors = []
    if shelter is not None:
        initial = {"work": shelter.work, "estimated_cost": shelter.estimated_cost}
        contributors = list(shelter.contributors.values("kind", "name", "amount"))
    form = ShelterForm(request.POST or None, initial=initial)
    formset = ContributorFormSet(request.POST or None, initial=contributors, prefix="others")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        given = [
            services.Contribution(row["kind"], " ".join(row["name"].split()), row["amount"])
            for row in formset.cleaned_data
            if row and not row.get("DELETE") and row.get("amount")
        ]
        try:
            services.record_shelter(
                case=case,
                work=form.cleaned_data["work"],
                estimated_cost=form.cleaned_data["estimated_cost"],
                contributors=given,
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The shelter's record was saved."))
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "welfare/shelters/shelter_form.html",
        {
            "case": case,
            "form": form,
            "formset": formset,
            "union_amount": services.union_amount(case),
        },
    )


@require_POST
def shelter_progress(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for_user(request.user, pk)
    if not services.may_keep(request.user, case):
        raise PermissionDenied
    shelter = Shelter.objects.filter(case=case).first()
    if shelter is None:
        messages.error(request, _("Record the shelter's work and cost first."))
        return redirect("cases:detail", pk=case.pk)
    form = ProgressForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.advance_shelter(
                shelter=shelter,
                progress=form.cleaned_data["progress"],
                on=form.cleaned_data["on"],
                photo=form.cleaned_data["photo"],
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The shelter's progress was recorded."))
    else:
        for text in (str(m) for errors in form.errors.values() for m in errors):
            messages.error(request, text)
    return redirect("cases:detail", pk=case.pk)
