"""Loan snippets for pages of the lower apps (the member page) and of the cases, so that
``members`` never imports ``welfare`` and the cases need nothing from the loans' code."""

from django import template
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from members.models import Member
from unions.scope import Capability, can
from welfare.loans.models import Loan, LoanStatus

register = template.Library()

MEMBER_LOANS_SHOWN = 20


@register.inclusion_tag("welfare/loans/member_loans.html", takes_context=True)
def member_loans(context, member):
    """The person's loans that the reader may see, newest first."""
    user = context["request"].user
    loans = list(
        Loan.objects.visible_to(user)
        .filter(member=member)
        .select_related("fund", "unit")
        .order_by("-created_at", "-id")[:MEMBER_LOANS_SHOWN]
    )
    return {
        "member": member,
        "loans": loans,
        "may_apply": can(user, Capability.OPEN_CASES, member.unit),
    }


@register.inclusion_tag("welfare/loans/outstanding_warning.html")
def outstanding_loans(member: Member | None):
    """Beside the earlier-support warning: the person's loans being repaid, anywhere (as
    that warning shows support from outside the reader's scope, by its amount only)."""
    if not isinstance(member, Member):
        return {"outstanding": None}
    # The same person's loans at other unions, by their number; an unidentified worker's own.
    person = Q(member__national_id=member.national_id) if member.national_id else Q(member=member)
    found = Loan.objects.filter(person, status=LoanStatus.CURRENT).aggregate(
        count=Count("pk"), amount=Coalesce(Sum("outstanding"), 0)
    )
    return {"outstanding": found if found["count"] else None}
