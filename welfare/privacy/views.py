from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest
from common.keyset import KeysetPaginator
from members import privacy
from members.models import SubjectRequest
from members.search import normalise
from members.services import get_member_for_user
from unions.scope import Capability, authorize, can_anywhere

from . import access_log, subject
from .forms import (
    AccessLogFilter,
    AnswerForm,
    LiftForm,
    SubjectRequestFilter,
    SubjectRequestForm,
)
from .notice import render_notice


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _filtered(records: QuerySet, form: AccessLogFilter) -> QuerySet:
    data = form.cleaned_data
    if data.get("what"):
        records = records.filter(what=data["what"])
    if data.get("user"):
        typed = data["user"].strip()
        records = records.filter(
            Q(user__username__icontains=typed)
            | Q(user__first_name__icontains=typed)
            | Q(user__last_name__icontains=typed)
        )
    if data.get("since"):
        records = records.filter(at__gte=_day_start(data["since"]))
    if data.get("until"):
        records = records.filter(at__lt=_day_start(data["until"] + datetime.timedelta(days=1)))
    return records


def access_log_list(request: HttpRequest) -> HttpResponse:
    """Who read personal data in the administrator's units, newest first, by keyset."""
    if not can_anywhere(request.user, Capability.MANAGE_USERS):
        raise PermissionDenied
    form = AccessLogFilter(request.GET or None)
    log = "cases"
    if form.is_valid():
        log = form.cleaned_data.get("log") or "cases"
    records: QuerySet
    if log == "members":
        records = access_log.member_accesses(request.user).select_related("user", "member__unit")
    else:
        records = access_log.case_accesses(request.user).select_related(
            "user", "case__member", "case__organisation", "case__unit"
        )
    if form.is_valid():
        records = _filtered(records, form)
    elif form.is_bound:
        records = records.none()
    page = KeysetPaginator(records, ["-at", "-id"], settings.PAGE_SIZE).get_page(request.GET)
    return render(
        request,
        "welfare/privacy/access_log.html",
        {
            "form": form,
            "log": log,
            "page": page,
            "retention_days": settings.PERSONAL_DATA_LOG_DAYS,
        },
    )


@require_POST
def subject_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """A ZIP of everything the portal holds about one member, for their data-subject request;
    an administrator of their union produces it, and it is recorded."""
    member = get_member_for_user(request.user, pk)
    response = HttpResponse(subject.archive(member=member, by=request.user), "application/zip")
    response["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-{member.pk}.zip"'
    return response


def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The personal-data notice for one member, to print, sign and keep with their consent;
    for those who record the consent (who may edit the member)."""
    member = get_member_for_user(request.user, pk, write=True)
    response = HttpResponse(render_notice(member), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="thong-bao-du-lieu-{member.pk}.pdf"'
    patch_cache_control(response, private=True, no_store=True)
    return response


# Open requests by the day they are due, the others newest first (indexes subject_request_due
# and subject_request_newest).
DUE_ORDER = ["complete_by", "id"]
NEWEST_ORDER = ["-received_on", "-id"]


def request_list(request: HttpRequest) -> HttpResponse:
    """The data-subject requests of the administrator's units, the overdue ones marked."""
    if not can_anywhere(request.user, Capability.MANAGE_USERS):
        raise PermissionDenied
    today = timezone.localdate()
    form = SubjectRequestFilter(request.GET or None)
    requests = SubjectRequest.objects.visible_to(request.user).select_related("member__unit")
    show = "open"
    if form.is_valid():
        data = form.cleaned_data
        show = data.get("show") or "open"
        if data.get("kind"):
            requests = requests.filter(kind=data["kind"])
        if data.get("q", "").strip():
            requests = requests.filter(member__search_name__contains=normalise(data["q"]))
    elif form.is_bound:
        requests = requests.none()
    if show == "open":
        requests, ordering = requests.open(), DUE_ORDER
    elif show == "overdue":
        requests, ordering = requests.overdue(today), DUE_ORDER
    elif show == "closed":
        requests = requests.exclude(status__in=SubjectRequest.OPEN)
        ordering = NEWEST_ORDER
    else:
        ordering = NEWEST_ORDER
    page = KeysetPaginator(requests, ordering, settings.PAGE_SIZE).get_page(request.GET)
    return render(
        request,
        "welfare/privacy/request_list.html",
        {
            "form": form,
            "show": show,
            "page": page,
            "today": today,
            "overdue": SubjectRequest.objects.visible_to(request.user).overdue(today).count(),
        },
    )


def request_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record a request a member made about their data, from the member's page."""
    member = get_member_for_user(request.user, pk)
    authorize(request.user, Capability.MANAGE_USERS, member.unit)
    form = SubjectRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = privacy.receive_request(
                member=member,
                kind=form.cleaned_data["kind"],
                received_on=form.cleaned_data["received_on"],
                details=form.cleaned_data["details"],
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The request was recorded: acknowledge it by %(ack)s, complete it by %(done)s.")
                % {
                    "ack": created.acknowledge_by.strftime("%d/%m/%Y"),
                    "done": created.complete_by.strftime("%d/%m/%Y"),
                },
            )
            return redirect("privacy:request", pk=created.pk)
    return render(request, "welfare/privacy/request_form.html", {"form": form, "member": member})


def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = privacy.get_request_for_user(request.user, pk)
    return _request_page(request, found, AnswerForm(request=found) if found.is_open else None)


def _request_page(
    request: HttpRequest,
    found: SubjectRequest,
    form: AnswerForm | None,
    lift_form: LiftForm | None = None,
):
    if lift_form is None and found.may_be_lifted:
        lift_form = LiftForm()
    return render(
        request,
        "welfare/privacy/request_detail.html",
        {
            "subject_request": found,
            "form": form,
            "lift_form": lift_form,
            "today": timezone.localdate(),
        },
    )


ANSWERS = {
    "acknowledge": lambda found, data, by: privacy.acknowledge_request(
        request=found, on=data["on"], by=by
    ),
    "complete": lambda found, data, by: privacy.complete_request(
        request=found, on=data["on"], outcome=data["outcome"], by=by
    ),
    "refuse": lambda found, data, by: privacy.refuse_request(
        request=found, on=data["on"], reason=data["outcome"], by=by
    ),
}


@require_POST
def request_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Acknowledge, complete or refuse a request; a refused answer is shown on its page."""
    found = privacy.get_request_for_user(request.user, pk)
    form = AnswerForm(request.POST, request=found)
    if form.is_valid():
        try:
            ANSWERS[form.cleaned_data["action"]](found, form.cleaned_data, request.user)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The answer was recorded."))
            return redirect("privacy:request", pk=found.pk)
    return _request_page(request, found, form)


@require_POST
def request_lift(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Lift a restriction of processing that was carried out; a refusal is shown on its page."""
    found = privacy.get_request_for_user(request.user, pk)
    form = LiftForm(request.POST)
    if form.is_valid():
        try:
            privacy.lift_restriction(
                request=found,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The restriction was lifted."))
            return redirect("privacy:request", pk=found.pk)
    return _request_page(request, found, None, form)
