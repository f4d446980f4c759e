"""The unit page's member figures, given by the members app to the page the tree app shows:
``unions`` knows nothing of members, so its template asks these tags."""

from __future__ import annotations

from django import template

from unions.models import Unit
from unions.scope import Capability, can

from ..counters import subtree_member_counts
from ..models import MemberStatus

register = template.Library()


@register.simple_tag
def unit_member_counts(unit: Unit) -> dict[str, int]:
    """The active people of the unit's subtree (``active``) and of the unit itself (``here``)."""
    return subtree_member_counts(unit, Unit.objects.in_subtree_of(unit))


@register.simple_tag
def unit_first_members(unit: Unit, count: int = 20):
    return unit.members.filter(status=MemberStatus.ACTIVE).order_by("search_name", "id")[:count]


@register.simple_tag(takes_context=True)
def may_add_member(context, unit: Unit) -> bool:
    user = context["request"].user
    return unit.is_active and unit.is_grassroots and can(user, Capability.EDIT_MEMBERS, unit)
