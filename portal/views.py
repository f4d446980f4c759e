from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from members.counters import member_totals
from unions.models import Unit, UnitKind, UnitStatus
from unions.scope import Capability, can_anywhere, visible_unit_ids
from welfare.cases import approvals
from welfare.dashboard import dashboard, dashboard_union


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the reader's own unions and what their scope holds, with counts."""
    units = Unit.objects.visible_to(request.user).filter(status=UnitStatus.ACTIVE)
    units_by_kind = dict(
        units.values_list("kind").annotate(n=Count("pk")).order_by().values_list("kind", "n")
    )
    members = member_totals(visible_unit_ids(request.user))
    # Counts of the cases on which the reader must act; only for the roles that take part.
    waiting = returned = None
    if can_anywhere(request.user, Capability.REVIEW_CASES) or can_anywhere(
        request.user, Capability.PAY
    ):
        waiting = approvals.count_waiting(request.user)
    if can_anywhere(request.user, Capability.OPEN_CASES):
        returned = approvals.returned_to(request.user).count()
    kinds = [
        (kind, label, units_by_kind[kind])
        for kind, label in UnitKind.choices
        if units_by_kind.get(kind)
    ]
    return render(
        request,
        "home.html",
        {
            "units_by_kind": kinds,
            "unit_total": sum(units_by_kind.values()),
            "member_counts": members,
            "waiting_count": waiting,
            "waiting_limit": approvals.WAITING_COUNTED,
            "returned_count": returned,
            # This year's figures cost the most: the page loads them after it is shown.
            "has_dashboard": dashboard_union(request.user) is not None,
        },
    )


def dashboard_fragment(request: HttpRequest) -> HttpResponse:
    """This year's figures for leaders and province staff, fetched by the home page."""
    data = dashboard(request.user)
    if data is None:
        raise PermissionDenied
    return render(request, "includes/dashboard.html", {"dashboard": data})


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 otherwise (for load balancers and compose)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a login from a username and address pair that failed too often
    (AXES_LOCKOUT_CALLABLE): the portal's page, 429, saying for how long and who can help."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
