"""The recount of the figures a reorganisation set off, for the pages of the tree (the unions
app shows it where the reorganisation was made, as it shows the members app's figures)."""

from __future__ import annotations

from django import template

from unions.scope import Capability, can_anywhere

from ..reports.models import TallyRecount

register = template.Library()


@register.simple_tag(takes_context=True)
def figures_recount(context) -> TallyRecount | None:
    """The latest recount not done (waiting, running or failed), for those who reorganise the
    tree; None otherwise."""
    user = context["request"].user
    if not can_anywhere(user, Capability.MANAGE_TREE):
        return None
    return (
        TallyRecount.objects.filter(status__in=[*TallyRecount.ACTIVE, TallyRecount.Status.FAILED])
        .order_by("-created_at", "-pk")
        .first()
    )
