"""The leaders' dashboard: this year so far, from the same functions as the annual report."""

from __future__ import annotations

from django.utils import timezone

from unions.models import Role, Unit
from unions.scope import grants

from .reports import charts
from .reports.figures import AnnualFigures, annual_figures

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
    return {
        "figures": figures,
        "month_chart": charts.month_chart(figures),
        "type_chart": charts.type_chart(figures),
        "child_chart": charts.child_chart(figures),
    }
