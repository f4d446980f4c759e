"""Earlier support for the same person, anywhere in the province, so nobody is supported twice
for one event without anyone noticing.  Shows that support exists, not the other case file."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from members.models import Member
from unions.models import PATH_SEPARATOR, UnitKind

from .models import Case, CaseStatus

WINDOW_DAYS = 730  # 24 months


@dataclass
class EarlierSupport:
    case_id: int
    on: datetime.date
    level: str
    support_type: str
    amount: int
    status: str


def earlier_support(member: Member, *, exclude_case: Case | None = None) -> list[EarlierSupport]:
    since = timezone.localdate() - datetime.timedelta(days=WINDOW_DAYS)
    province = member.unit.path.split(PATH_SEPARATOR)[0] + PATH_SEPARATOR
    # The person's records first (one per union they were listed at): a BitmapOr of the member
    # indexes, then their cases by ``member_id``.  ORing the member's fields across the join to
    # the cases instead reads every case.
    # An unidentified worker has no number: only the name and birth date find them.
    same_person = Member.objects.same_person(member).values("pk")
    cases = (
        Case.objects.filter(member_id__in=same_person, unit__path__startswith=province)
        .filter(status__in=[CaseStatus.APPROVED, CaseStatus.PAID, CaseStatus.SUBMITTED])
        .filter(
            Q(paid_on__gte=since) | Q(approved_on__gte=since) | Q(submitted_at__date__gte=since)
        )
        .order_by("-approved_on", "-id")
    )
    if exclude_case is not None:
        cases = cases.exclude(pk=exclude_case.pk)
    kinds = dict(UnitKind.choices)
    rows = cases.values_list(
        "pk",
        "paid_on",
        "approved_on",
        "submitted_at",
        "unit__kind",
        "support_type",
        "approved_amount",
        "requested_amount",
        "status",
    )[:50]
    found = []
    for pk, paid, approved, submitted, kind, support_type, approved_amount, asked, status in rows:
        on = paid or approved
        if on is None:
            assert submitted is not None  # the filter above keeps only cases with a date
            on = submitted.date()
        found.append(
            EarlierSupport(
                case_id=pk,
                on=on,
                level=str(kinds.get(kind, kind)),
                support_type=support_type,
                amount=approved_amount or asked,
                status=status,
            )
        )
    return found
