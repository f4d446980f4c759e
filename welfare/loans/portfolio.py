"""The portfolio's figures: outstanding, repaid, overdue by age and the portfolio at risk, for
one loan or summed over loans per fund or per unit, each in one grouped query.

A loan's age is the days since its oldest unsettled instalment of the current schedule fell
overdue (the day after its due date and grace days: ``Loan.late_since``, kept by the
services): 1-30, 31-90, 91-180 or over 180 days.
The overdue bands hold the principal outstanding of the loans in them, as the portfolio at
risk over 30 days does (its share of all principal outstanding).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from unions.models import Unit
from welfare.funds.models import Fund

from .models import (
    DISBURSED,
    Instalment,
    Loan,
    LoanEvent,
    LoanStatus,
    LoanYear,
    LoanYearEnd,
    Repayment,
    RepaymentKind,
)
from .tallies import overdue_then

BANDS = [("1_30", 1, 30), ("31_90", 31, 90), ("91_180", 91, 180), ("over_180", 181, None)]


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
    return _figures(loans.order_by().aggregate(**_measures(today)))


def by(
    loans: QuerySet[Loan], key: str, label: str, today: datetime.date | None = None, limit=50
) -> list[Figures]:
    """The figures per ``key`` (``fund_id``, ``unit_id``), largest outstanding first: one
    query."""
    today = today or timezone.localdate()
    rows = (
        loans.order_by()
        .values(key, label)
        .annotate(**_measures(today))
        .order_by(f"-{PREFIX}outstanding", key)[:limit]
    )
    found = []
    for row in rows:
        row = dict(row)
        found.append(_figures(row, key=row.pop(key), label=row.pop(label)))
    return found


# Every loan of the page at once: the totals and the figures per fund by one pass over the
# loans' running figures (``GROUPING SETS``), and per unit for the ``limit`` units with the
# most outstanding only (ranked by one sum), named in the same query.
OVERVIEW_SQL = """
WITH l AS MATERIALIZED ({loans}),
top AS (
    SELECT l.unit_id FROM l GROUP BY l.unit_id
    ORDER BY SUM(l.outstanding) DESC, l.unit_id LIMIT %s
),
grouped AS (
    SELECT GROUPING(l.fund_id) AS no_fund, 1 AS no_unit, l.fund_id, NULL::bigint AS unit_id,
           {measures}
    FROM l GROUP BY GROUPING SETS ((), (l.fund_id))
    UNION ALL
    SELECT 1, 0, NULL::bigint, l.unit_id, {measures}
    FROM l WHERE l.unit_id IN (SELECT unit_id FROM top) GROUP BY l.unit_id
)
SELECT grouped.*, f.name, u.name FROM grouped
LEFT JOIN {fund} f ON f.id = grouped.fund_id
LEFT JOIN {unit} u ON u.id = grouped.unit_id
"""


def _overview_measures(today: datetime.date) -> tuple[str, list[Any], list[str]]:
    """The SQL of ``_measures`` over the columns of ``OVERVIEW_SQL``'s loans."""
    late = "l.status = %s AND l.late_since <= %s"
    parts: list[tuple[str, str, list[Any]]] = [
        ("loans", "COUNT(*) FILTER (WHERE l.status IN (%s, %s, %s))", list(DISBURSED)),
        ("current", "COUNT(*) FILTER (WHERE l.status = %s)", [LoanStatus.CURRENT]),
        ("disbursed", "SUM(l.principal) FILTER (WHERE l.status IN (%s, %s, %s))", list(DISBURSED)),
        ("outstanding", "SUM(l.outstanding)", []),
        ("paid", "SUM(l.principal_paid + l.interest_paid)", []),
        ("written_off", "SUM(l.written_off)", []),
        ("recovered", "SUM(l.recovered)", []),
        (
            "at_risk_30",
            f"SUM(l.outstanding) FILTER (WHERE {late})",
            [LoanStatus.CURRENT, today - datetime.timedelta(days=31)],
        ),
    ]
    for name, low, high in BANDS:
        when, params = late, [LoanStatus.CURRENT, today - datetime.timedelta(days=low)]
        if high is not None:
            when += " AND l.late_since >= %s"
            params.append(today - datetime.timedelta(days=high))
        parts.append((f"band_{name}", f"SUM(l.outstanding) FILTER (WHERE {when})", params))
        parts.append((f"count_{name}", f"COUNT(*) FILTER (WHERE {when})", params))
    sql = ",\n           ".join(
        f"COALESCE({expression}, 0) AS {name}" for name, expression, _ in parts
    )
    return sql, [param for _name, _sql, params in parts for param in params], [p[0] for p in parts]


def overview(
    loans: QuerySet[Loan], today: datetime.date | None = None, limit: int = 20
) -> tuple[Figures, list[Figures], list[Figures]]:
    """The figures of all ``loans``, per fund and per unit (the ``limit`` largest outstanding
    of each, then by id): one query over the loans' running figures and ``late_since``."""
    today = today or timezone.localdate()
    columns = (
        "pk", "fund_id", "unit_id", "status", "principal", "outstanding", "principal_paid",
        "interest_paid", "written_off", "recovered", "late_since",
    )  # fmt: skip
    inner, inner_params = loans.order_by().values(*columns).query.sql_with_params()
    measures, measure_params, names = _overview_measures(today)
    sql = OVERVIEW_SQL.format(
        measures=measures,
        loans=inner,
        fund=connection.ops.quote_name(Fund._meta.db_table),
        unit=connection.ops.quote_name(Unit._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, limit, *measure_params, *measure_params])
        rows = cursor.fetchall()
    totals, per_fund, per_unit = Figures(), [], []
    for no_fund, no_unit, fund_id, unit_id, *values in rows:
        measured: dict[str, Any] = {
            name: int(value) for name, value in zip(names, values, strict=False)
        }
        figures = Figures(**measured)
        fund_name, unit_name = values[-2:]
        if no_fund and no_unit:
            totals = figures
        elif not no_fund:
            figures.key, figures.label = fund_id, fund_name
            per_fund.append(figures)
        else:
            figures.key, figures.label = unit_id, unit_name
            per_unit.append(figures)
    order = lambda figures: (-figures.outstanding, figures.key)  # noqa: E731
    return totals, sorted(per_fund, key=order)[:limit], sorted(per_unit, key=order)


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
        .annotate(late_then=Subquery(late))
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
            "late_then",
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
        late_then,
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
            if late_then is not None:
                figures.overdue_loans += 1
                figures.overdue += outstanding
                if age_in_days(late_then, last) > 30:
                    figures.at_risk_30 += outstanding
    return found


# The tallies of the years up to one, each unit's rows added to its group (the map comes as two
# arrays): the year's flows and year-end columns, and the stocks from every year up to it.
TALLIED_SQL = """
SELECT m.grp,
       SUM(t.disbursed_loans) FILTER (WHERE t.year = %s),
       SUM(t.disbursed) FILTER (WHERE t.year = %s),
       SUM(t.principal_repaid) FILTER (WHERE t.year = %s),
       SUM(t.interest_paid) FILTER (WHERE t.year = %s),
       SUM(t.written_off) FILTER (WHERE t.year = %s),
       SUM(t.recovered) FILTER (WHERE t.year = %s),
       SUM(t.disbursed_loans - t.settled_loans),
       SUM(t.disbursed - t.principal_repaid - t.written_off),
       SUM(t.overdue_loans) FILTER (WHERE t.year = %s),
       SUM(t.overdue) FILTER (WHERE t.year = %s),
       SUM(t.at_risk_30) FILTER (WHERE t.year = %s)
FROM {table} t JOIN unnest(%s::bigint[], %s::bigint[]) AS m (unit_id, grp) USING (unit_id)
WHERE t.year <= %s
GROUP BY m.grp
"""
TALLIED = (
    "disbursed_loans",
    "disbursed",
    "principal_repaid",
    "interest_paid",
    "written_off",
    "recovered",
    "borrowers",
    "outstanding",
    "overdue_loans",
    "overdue",
    "at_risk_30",
)

# The loans being repaid and overdue today (``late_since`` before today), by group.
OVERDUE_NOW_SQL = """
SELECT m.grp, COUNT(*), SUM(l.outstanding), SUM(l.outstanding) FILTER (WHERE l.late_since < %s)
FROM {table} l JOIN unnest(%s::bigint[], %s::bigint[]) AS m (unit_id, grp) USING (unit_id)
WHERE l.status = %s AND l.late_since < %s AND l.outstanding > 0
GROUP BY m.grp
"""


def tallied_year_figures(
    groups: dict[int, int], year: int, as_of: datetime.date
) -> dict[int, YearFigures]:
    """``year_figures`` for the loans applied at the units of ``groups``, added up by the group
    each unit is mapped to: read from the yearly tallies (``loans/tallies.py``) in one query
    over the rows of the years up to ``year``, and for the year in progress one over the
    loans overdue today (``Loan.late_since``), each a row per group.

    The overdue loans of a year that has ended are those counted on its last day; of one not
    counted yet (the daily task counts it on its first run of the next year), from the
    records."""
    units, keys = list(groups), [groups[unit] for unit in groups]
    found: dict[int, YearFigures] = {}
    if not units:
        return found
    sql = TALLIED_SQL.format(table=connection.ops.quote_name(LoanYear._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [year] * 9 + [units, keys, year])
        for group, *values in cursor.fetchall():
            found[group] = YearFigures(
                **{name: int(value or 0) for name, value in zip(TALLIED, values, strict=True)}
            )
    today = timezone.localdate()
    if as_of < today and LoanYearEnd.objects.filter(year=year).exists():
        return found
    for figures in found.values():
        figures.overdue_loans = figures.overdue = figures.at_risk_30 = 0
    if as_of >= today:
        risk = today - datetime.timedelta(days=30)
        sql = OVERDUE_NOW_SQL.format(table=connection.ops.quote_name(Loan._meta.db_table))
        with connection.cursor() as cursor:
            cursor.execute(sql, [risk, units, keys, LoanStatus.CURRENT, today])
            late_rows = cursor.fetchall()
        for group, loans, overdue, at_risk in late_rows:
            figures = found.setdefault(group, YearFigures())
            figures.overdue_loans = int(loans)
            figures.overdue = int(overdue or 0)
            figures.at_risk_30 = int(at_risk or 0)
        return found
    risk = as_of - datetime.timedelta(days=30)
    for loan in overdue_then(Loan.objects.filter(unit_id__in=units), as_of):
        figures = found.setdefault(groups[loan.unit_id], YearFigures())
        figures.overdue_loans += 1
        figures.overdue += loan.outstanding
        if loan.since < risk:
            figures.at_risk_30 += loan.outstanding
    return found
