"""Case snippets for pages of the lower apps (the member page), so that ``members`` never
imports ``welfare``: the dependency stays one-way, welfare -> members."""

from django import template

from welfare.models import Case

register = template.Library()

MEMBER_CASES_SHOWN = 20


@register.inclusion_tag("welfare/case_member_list.html", takes_context=True)
def member_cases(context, member):
    """The person's cases that the reader may see, newest first."""
    user = context["request"].user
    cases = list(
        Case.objects.visible_to(user)
        .filter(member=member)
        .select_related("fund", "unit")
        .order_by("-created_at", "-id")[: MEMBER_CASES_SHOWN + 1]
    )
    return {
        "member": member,
        "cases": cases[:MEMBER_CASES_SHOWN],
        "more": len(cases) > MEMBER_CASES_SHOWN,
    }
