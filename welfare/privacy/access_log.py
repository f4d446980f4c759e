"""The access log administrators read: who opened a case file, downloaded its evidence or
printed its documents (welfare.cases CaseAccess), and who opened a member's record, revealed an
ID number or exported full ID numbers (members MemberAccess).  Each is kept for
``PERSONAL_DATA_LOG_DAYS`` and then pruned by a daily task."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from members.models import MemberAccess
from unions.models import RoleAssignment
from unions.scope import ActingUser, Capability, visible_unit_ids

from ..cases.models import CaseAccess


def case_accesses(user: ActingUser) -> QuerySet[CaseAccess]:
    """The reads of the cases of the units the administrator manages users in."""
    units = visible_unit_ids(user, Capability.MANAGE_USERS)
    return CaseAccess.objects.filter(case__unit_id__in=units)


def member_accesses(user: ActingUser) -> QuerySet[MemberAccess]:
    """The reads of the members of those units, and the full-ID exports of their users."""
    units = visible_unit_ids(user, Capability.MANAGE_USERS)
    their_users = RoleAssignment.objects.filter(unit_id__in=units).values("user_id")
    exports = Q(member__isnull=True, user_id__in=their_users)
    return MemberAccess.objects.filter(Q(member__unit_id__in=units) | exports)


def cutoff(today: datetime.date | None = None) -> datetime.datetime:
    today = today or timezone.localdate()
    day = today - datetime.timedelta(days=settings.PERSONAL_DATA_LOG_DAYS)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def prune(today: datetime.date | None = None) -> int:
    """Delete the log's records older than the retention period; how many went."""
    before = cutoff(today)
    cases, _ = CaseAccess.objects.filter(at__lt=before).delete()
    members, _ = MemberAccess.objects.filter(at__lt=before).delete()
    return cases + members
