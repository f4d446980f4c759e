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

from .models import (
    DISBURSED,
    Instalment,
    Loan,
    LoanEvent,
    LoanStatus,
    Repayment,
    RepaymentKind,
)

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


# --- a year as it stood ------------------------------------------------------------------------


@dataclass
class YearFigures:
    """One year of lending: the money that moved in it, and the portfolio on its last day (or
    today for the year in progress), rebuilt from the repayments and events dated up to then,
    so a past year reads as it stood and not as the loans stand today."""

    disbursed_loans: int = 0
    disbursed: int = 0
    principal_repaid: int = 0
    interest_paid: int = 0
    written_off: int = 0
    recovered: int = 0
    borrowers: int = 0  # loans with principal outstanding on the day
    outstanding: int = 0
    overdue_loans: int = 0
    overdue: int = 0  # the principal outstanding of the loans overdue on the day
    at_risk_30: int = 0

    def __add__(self, other: YearFigures) -> YearFigures:
        return YearFigures(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )

    @property
    def par_30(self) -> float:
        return 100 * self.at_risk_30 / self.outstanding if self.outstanding else 0.0

    @property
    def any(self) -> bool:
        return bool(self.disbursed or self.principal_repaid or self.outstanding or self.recovered)


def _sum_per_loan(rows: QuerySet, field: str) -> Coalesce:
    per_loan = rows.filter(loan=OuterRef("pk")).order_by().values("loan")
    return Coalesce(Subquery(per_loan.annotate(total=Sum(field)).values("total")), 0)


def year_figures(loans: QuerySet[Loan], year: int, as_of: datetime.date) -> dict[int, YearFigures]:
    """The figures of ``year`` up to ``as_of``, per unit the loans were applied at: one query
    over the loans disbursed by then.

    A loan's schedule on the day is the one in force then (the first, plus one version for
    each rescheduling dated up to the day); it is overdue when an instalment of that schedule
    was past its grace and not settled by the day, and aged from the oldest such."""
    first, last = datetime.date(year, 1, 1), as_of
    repayments = Repayment.objects.filter(kind=RepaymentKind.REPAYMENT)
    recoveries = Repayment.objects.filter(kind=RepaymentKind.RECOVERY)
    write_offs = LoanEvent.objects.filter(action=LoanEvent.Action.WRITTEN_OFF)
    reschedules = LoanEvent.objects.filter(
        loan=OuterRef("pk"), action=LoanEvent.Action.RESCHEDULED, on__lte=last
    ).order_by()
    late = (
        Instalment.objects.filter(
            loan=OuterRef("pk"), version=OuterRef("version_then"), overdue_after__lt=last
        )
        .filter(Q(settled_on__isnull=True) | Q(settled_on__gt=last))
        .order_by("overdue_after")
        .values("overdue_after")[:1]
    )
    rows = (
        loans.filter(status__in=DISBURSED, disbursed_on__lte=last)
        .order_by()
        .annotate(
            repaid_then=_sum_per_loan(repayments.filter(paid_on__lte=last), "principal"),
            written_off_then=_sum_per_loan(write_offs.filter(on__lte=last), "amount"),
            repaid_in_year=_sum_per_loan(
                repayments.filter(paid_on__gte=first, paid_on__lte=last), "principal"
            ),
            interest_in_year=_sum_per_loan(
                repayments.filter(paid_on__gte=first, paid_on__lte=last), "interest"
            ),
            written_off_in_year=_sum_per_loan(
                write_offs.filter(on__gte=first, on__lte=last), "amount"
            ),
            recovered_in_year=_sum_per_loan(
                recoveries.filter(paid_on__gte=first, paid_on__lte=last), "amount"
            ),
            version_then=1
            + Coalesce(Subquery(reschedules.values("loan").annotate(n=Count("pk")).values("n")), 0),
        )
        .annotate(late_since=Subquery(late))
        .values_list(
            "unit_id",
            "principal",
            "disbursed_on",
            "repaid_then",
            "written_off_then",
            "repaid_in_year",
            "interest_in_year",
            "written_off_in_year",
            "recovered_in_year",
            "late_since",
        )
    )
    found: dict[int, YearFigures] = {}
    for (
        unit_id,
        principal,
        disbursed_on,
        repaid_then,
        written_off_then,
        repaid,
        interest,
        written_off,
        recovered,
        late_since,
    ) in rows:
        figures = found.setdefault(unit_id, YearFigures())
        if disbursed_on is not None and disbursed_on >= first:  # always set on these loans
            figures.disbursed_loans += 1
            figures.disbursed += principal
        figures.principal_repaid += repaid
        figures.interest_paid += interest
        figures.written_off += written_off
        figures.recovered += recovered
        outstanding = principal - repaid_then - written_off_then
        if outstanding > 0:
            figures.borrowers += 1
            figures.outstanding += outstanding
            if late_since is not None:
                figures.overdue_loans += 1
                figures.overdue += outstanding
                if age_in_days(late_since, last) > 30:
                    figures.at_risk_30 += outstanding
    return found
