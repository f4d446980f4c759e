from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.keyset import KeysetPaginator
from members.services import get_member_for_user
from unions.scope import Capability, can_anywhere

from . import access_log, subject
from .forms import AccessLogFilter


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
