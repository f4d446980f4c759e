"""The leaders' dashboard: this year so far, from the same functions as the annual report."""

from __future__ import annotations

from django.utils import timezone

from unions.models import Role, Unit
from unions.scope import grants

from .reports import charts
from .reports.figures import AnnualFigures, Row, annual_figures

DASHBOARD_ROLES = {Role.LEADER, Role.PROVINCE_STAFF}


def dashboard_union(user) -> Unit | None:
    """The highest union where the user is a leader or province staff, if any."""
    held = [g for g in grants(user) if g.role in DASHBOARD_ROLES]
    if not held:
        return None
    top = min(held, key=lambda g: (g.path.count("/"), g.path))
    return Unit.objects.get(pk=top.unit_id)


def dashboard(user) -> dict | None:
    union = dashboard_union(user)
    if union is None:
        return None
    figures: AnnualFigures = annual_figures(
        union, timezone.localdate().year, user=user, summary=True
    )
    # The table lists the child units the chart names; a city's province has hundreds more,
    # summed on one line (a row each made the fragment half a megabyte).
    ranked = sorted(figures.by_child, key=lambda row: (-row.amount, -row.prev_amount, row.label))
    shown, rest = ranked[: charts.TOP_CHILDREN], ranked[charts.TOP_CHILDREN :]
    others = None
    if rest:
        others = Row(
            key=None,
            label="",
            cases=sum(row.cases for row in rest),
            amount=sum(row.amount for row in rest),
            prev_amount=sum(row.prev_amount for row in rest),
        )
    return {
        "figures": figures,
        "child_rows": shown,
        "other_children": others,
        "other_children_count": len(rest),
        "month_chart": charts.month_chart(figures),
        "type_chart": charts.type_chart(figures),
        "child_chart": charts.child_chart(figures),
    }
