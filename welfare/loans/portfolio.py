"""The portfolio's figures: outstanding, repaid, overdue by age and the portfolio at risk, for
one loan or summed over loans per fund or per unit, each in one grouped query.

A loan's age is the days since its oldest unsettled instalment of the current schedule fell
overdue (the day after its due date and grace days): 1-30, 31-90, 91-180 or over 180 days.
The overdue bands hold the principal outstanding of the loans in them, as the portfolio at
risk over 30 days does (its share of all principal outstanding).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Instalment, Loan, LoanStatus

BANDS = [("1_30", 1, 30), ("31_90", 31, 90), ("91_180", 91, 180), ("over_180", 181, None)]


def with_late_since(loans: QuerySet[Loan]) -> QuerySet[Loan]:
    """Each loan with ``late_since``: the day its oldest unsettled instalment fell overdue, or
    the last day of grace of the next one (None once all are settled)."""
    oldest = (
        Instalment.objects.filter(
            loan=OuterRef("pk"), version=OuterRef("schedule_version"), settled_on__isnull=True
        )
        .order_by("overdue_after")
        .values("overdue_after")[:1]
    )
    return loans.annotate(late_since=Subquery(oldest))


def age_in_days(late_since: datetime.date | None, today: datetime.date) -> int:
    return max((today - late_since).days, 0) if late_since else 0


def band_of(days: int) -> str | None:
    for name, low, high in BANDS:
        if days >= low and (high is None or days <= high):
            return name
    return None


def _aged(name: str, low: int, high: int | None, today: datetime.date) -> Q:
    """Loans being repaid whose age is from ``low`` to ``high`` days."""
    q = Q(status=LoanStatus.CURRENT, late_since__lte=today - datetime.timedelta(days=low))
    if high is not None:
        q &= Q(late_since__gte=today - datetime.timedelta(days=high))
    return q


def _measures(today: datetime.date) -> dict[str, Any]:
    out = Q(status__in=[LoanStatus.CURRENT, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF])
    measures: dict[str, Any] = {
        "loans": Count("pk", filter=out),
        "current": Count("pk", filter=Q(status=LoanStatus.CURRENT)),
        "disbursed": Coalesce(Sum("principal", filter=out), 0),
        "outstanding": Coalesce(Sum("outstanding"), 0),
        "paid": Coalesce(Sum(F("principal_paid") + F("interest_paid")), 0),
        "written_off": Coalesce(Sum("written_off"), 0),
        "recovered": Coalesce(Sum("recovered"), 0),
        "at_risk_30": Coalesce(Sum("outstanding", filter=_aged("risk", 31, None, today)), 0),
    }
    for name, low, high in BANDS:
        measures[f"band_{name}"] = Coalesce(
            Sum("outstanding", filter=_aged(name, low, high, today)), 0
        )
        measures[f"count_{name}"] = Count("pk", filter=_aged(name, low, high, today))
    # Named apart from the loan's own fields, which an aggregate may not shadow.
    return {f"{PREFIX}{name}": measure for name, measure in measures.items()}


PREFIX = "sum_"


def _figures(row: dict[str, Any], **extra: Any) -> Figures:
    return Figures(**{name.removeprefix(PREFIX): value for name, value in row.items()}, **extra)


@dataclass
class Figures:
    loans: int = 0
    current: int = 0
    disbursed: int = 0
    outstanding: int = 0
    paid: int = 0
    written_off: int = 0
    recovered: int = 0
    at_risk_30: int = 0
    band_1_30: int = 0
    band_31_90: int = 0
    band_91_180: int = 0
    band_over_180: int = 0
    count_1_30: int = 0
    count_31_90: int = 0
    count_91_180: int = 0
    count_over_180: int = 0
    label: str = ""
    key: int | None = None

    @property
    def par_30(self) -> float:
        """The portfolio at risk over 30 days, in per cent of the principal outstanding."""
        return 100 * self.at_risk_30 / self.outstanding if self.outstanding else 0.0

    @property
    def overdue(self) -> int:
        return self.band_1_30 + self.band_31_90 + self.band_91_180 + self.band_over_180

    @property
    def bands(self) -> list[tuple[str, int, int]]:
        return [
            (name, getattr(self, f"band_{name}"), getattr(self, f"count_{name}"))
            for name, _low, _high in BANDS
        ]


def totals(loans: QuerySet[Loan], today: datetime.date | None = None) -> Figures:
    """The figures of all ``loans`` together: one query."""
    today = today or timezone.localdate()
    return _figures(with_late_since(loans.order_by()).aggregate(**_measures(today)))


def by(
    loans: QuerySet[Loan], key: str, label: str, today: datetime.date | None = None, limit=50
) -> list[Figures]:
    """The figures per ``key`` (``fund_id``, ``unit_id``), largest outstanding first: one
    query."""
    today = today or timezone.localdate()
    rows = (
        with_late_since(loans.order_by())
        .values(key, label)
        .annotate(**_measures(today))
        .order_by(f"-{PREFIX}outstanding", key)[:limit]
    )
    found = []
    for row in rows:
        row = dict(row)
        found.append(_figures(row, key=row.pop(key), label=row.pop(label)))
    return found
