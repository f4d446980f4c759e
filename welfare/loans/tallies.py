"""The yearly tallies of lending (``LoanYear``): kept by the loan services, rebuilt from the
records, and checked against them.

A row holds one year of one fund's lending at one unit, the unit each loan was applied at (a
loan never changes unit, so a reorganisation changes no row: the report maps units to the tree
of its year when it reads them).  Each flow counts in the year it is dated: a disbursement on
its day, a repayment or recovery on the day paid, a write-off on the day recorded.  A loan is
settled in the year its principal outstanding reached nil: the latest day of a repayment of
principal or of its write-off.  So at the end of year Y, over the years up to Y,

    outstanding = disbursed - principal repaid - written off
    borrowers   = loans disbursed - loans settled

as ``portfolio.year_figures`` reads them from the records.

Overdue on a day depends on the day.  For the year in progress it is read from the
instalments (``overdue_now``: the unsettled instalments past their grace, through their
partial index, a few thousand rows in a city).  A year that has ended is counted once, for its
last day, into its rows' ``overdue_*`` columns (``count_year_end``, by the daily overdue task
on its first run of the next year, by ``rebuild_tallies``, and never edited afterwards except
by a write dated in that year, which counts its unit and fund again).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

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

FLOWS = (
    "disbursed_loans",
    "disbursed",
    "principal_repaid",
    "interest_paid",
    "written_off",
    "recovered",
    "settled_loans",
)
YEAR_END = ("overdue_loans", "overdue", "at_risk_30")
FIELDS = FLOWS + YEAR_END

Key = tuple[int, int, int]  # (year, unit, fund)
Row = tuple[int, ...]  # the FIELDS, in order


def _row(**values: int) -> Row:
    return tuple(int(values.get(name, 0)) for name in FIELDS)


# --------------------------------------------------------------------------------------------
# Kept by the services, under the loan's and the fund's locks
# --------------------------------------------------------------------------------------------

UPSERT_SQL = """
INSERT INTO {table} (year, unit_id, fund_id, {columns}) VALUES {values}
ON CONFLICT (year, unit_id, fund_id) DO UPDATE SET {updates}
"""


def add(deltas: dict[Key, Row]) -> None:
    """Add to the rows, creating those that are missing, in the order of their keys."""
    items = sorted((key, row) for key, row in deltas.items() if any(row))
    if not items:
        return
    table = connection.ops.quote_name(LoanYear._meta.db_table)
    columns = ", ".join(FIELDS)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in FIELDS)
    values = ", ".join(["(" + ", ".join(["%s"] * (3 + len(FIELDS))) + ")"] * len(items))
    params: list[int] = []
    for key, row in items:
        params += [*key, *row]
    sql = UPSERT_SQL.format(table=table, columns=columns, values=values, updates=updates)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _key(loan: Loan, day: datetime.date) -> Key:
    return (day.year, loan.unit_id, loan.fund_id)


def disbursed(loan: Loan) -> None:
    assert loan.disbursed_on is not None
    add({_key(loan, loan.disbursed_on): _row(disbursed_loans=1, disbursed=loan.principal)})
    dated_in(loan, loan.disbursed_on)


def repaid(loan: Loan, repayment: Repayment) -> None:
    """A repayment; when it leaves no principal outstanding the loan is settled, in the year of
    its latest repayment of principal (a repayment may be dated before earlier ones)."""
    deltas: dict[Key, Row] = defaultdict(lambda: _row())
    deltas[_key(loan, repayment.paid_on)] = _row(
        principal_repaid=repayment.principal, interest_paid=repayment.interest
    )
    if loan.outstanding == 0 and repayment.principal > 0:
        last = _last_principal_day(loan.pk)
        settled = _key(loan, last)
        deltas[settled] = _plus(deltas[settled], _row(settled_loans=1))
    add(dict(deltas))
    dated_in(loan, repayment.paid_on)


def written_off(loan: Loan, amount: int, on: datetime.date) -> None:
    if amount:
        add({_key(loan, on): _row(written_off=amount, settled_loans=1)})
    dated_in(loan, on)


def recovered(loan: Loan, repayment: Repayment) -> None:
    add({_key(loan, repayment.paid_on): _row(recovered=repayment.amount)})


def _plus(a: Row, b: Row) -> Row:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _last_principal_day(loan_id: int) -> datetime.date:
    found = Repayment.objects.filter(
        loan_id=loan_id, kind=RepaymentKind.REPAYMENT, principal__gt=0
    ).aggregate(last=Max("paid_on"))
    return found["last"]


def dated_in(loan: Loan, day: datetime.date) -> None:
    """A write dated ``day`` changes what was overdue at the end of every year since: count
    the loan's unit and fund again in each such year already counted."""
    today = timezone.localdate()
    counted = LoanYearEnd.objects.filter(year__gte=day.year, year__lt=today.year).values_list(
        "year", flat=True
    )
    for year in counted:
        _count_year_end(year, (loan.unit_id, loan.fund_id))


# --------------------------------------------------------------------------------------------
# Overdue on a day
# --------------------------------------------------------------------------------------------


@dataclass
class Late:
    """The loans overdue on a day, with their principal outstanding and the day each fell
    overdue (its oldest instalment past grace and unsettled)."""

    loan_id: int
    unit_id: int
    fund_id: int
    outstanding: int
    since: datetime.date


def overdue_now(loans: QuerySet[Loan], today: datetime.date | None = None) -> list[Late]:
    """The loans being repaid among ``loans`` that are overdue today: one query over their
    ``late_since`` (its partial index), one row per loan."""
    today = today or timezone.localdate()
    rows = (
        loans.filter(status=LoanStatus.CURRENT, late_since__lt=today, outstanding__gt=0)
        .order_by()
        .values_list("pk", "unit_id", "fund_id", "outstanding", "late_since")
    )
    return [Late(pk, unit, fund, owed, since) for pk, unit, fund, owed, since in rows if since]


def overdue_then(loans: QuerySet[Loan], day: datetime.date) -> list[Late]:
    """The loans among ``loans`` with principal outstanding on ``day`` that were overdue then,
    from the repayments, events and schedules dated up to it: the schedule in force that day
    (the first, and one more for each rescheduling dated by then) had an instalment past its
    grace and not settled by then.  Slow over a city's loans: counted once a year ends."""
    repayments = Repayment.objects.filter(kind=RepaymentKind.REPAYMENT, paid_on__lte=day)
    write_offs = LoanEvent.objects.filter(action=LoanEvent.Action.WRITTEN_OFF, on__lte=day)
    reschedules = LoanEvent.objects.filter(
        loan=OuterRef("pk"), action=LoanEvent.Action.RESCHEDULED, on__lte=day
    ).order_by()
    late = (
        Instalment.objects.filter(
            loan=OuterRef("pk"), version=OuterRef("version_then"), overdue_after__lt=day
        )
        .filter(Q(settled_on__isnull=True) | Q(settled_on__gt=day))
        .order_by("overdue_after")
        .values("overdue_after")[:1]
    )
    rows = (
        loans.filter(status__in=DISBURSED, disbursed_on__lte=day)
        .order_by()
        .annotate(
            version_then=1
            + Coalesce(Subquery(reschedules.values("loan").annotate(n=Count("pk")).values("n")), 0)
        )
        .annotate(late_then=Subquery(late))
        .filter(late_then__isnull=False)
        .annotate(
            outstanding_then=F("principal")
            - _sum_per_loan(repayments, "principal")
            - _sum_per_loan(write_offs, "amount")
        )
        .filter(outstanding_then__gt=0)
        .values_list("pk", "unit_id", "fund_id", "outstanding_then", "late_then")
    )
    return [Late(*row) for row in rows]


def _sum_per_loan(rows: QuerySet, field: str) -> Coalesce:
    per_loan = rows.filter(loan=OuterRef("pk")).order_by().values("loan")
    return Coalesce(Subquery(per_loan.annotate(total=Sum(field)).values("total")), 0)


def _overdue_rows(late: Iterable[Late], year: int, day: datetime.date) -> dict[Key, Row]:
    risk = day - datetime.timedelta(days=30)
    found: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for loan in late:
        figures = found[(year, loan.unit_id, loan.fund_id)]
        figures[0] += 1
        figures[1] += loan.outstanding
        if loan.since < risk:
            figures[2] += loan.outstanding
    return {
        key: _row(overdue_loans=n, overdue=amount, at_risk_30=risk_amount)
        for key, (n, amount, risk_amount) in found.items()
    }


def _count_year_end(year: int, pair: tuple[int, int] | None = None) -> None:
    """Set the year-end columns of ``year``'s rows (of one unit and fund) from the records."""
    day = datetime.date(year, 12, 31)
    loans = Loan.objects.all()
    rows = LoanYear.objects.filter(year=year)
    if pair is not None:
        unit_id, fund_id = pair
        loans = loans.filter(unit_id=unit_id, fund_id=fund_id)
        rows = rows.filter(unit_id=unit_id, fund_id=fund_id)
    counted = _overdue_rows(overdue_then(loans, day), year, day)
    rows.exclude(overdue_loans=0, overdue=0, at_risk_30=0).update(
        overdue_loans=0, overdue=0, at_risk_30=0
    )
    add(counted)


@transaction.atomic
def count_year_end(year: int) -> None:
    """Count the loans overdue on the last day of ``year`` (a year that has ended), once."""
    _count_year_end(year)
    LoanYearEnd.objects.update_or_create(year=year)


def count_ended_years(today: datetime.date | None = None) -> list[int]:
    """The daily task: count each year that has ended, holds loans and is not counted yet
    (on the first run of a new year, the year just ended).  Returns the years counted."""
    today = today or timezone.localdate()
    first = Loan.objects.filter(status__in=DISBURSED).aggregate(first=Min("disbursed_on"))["first"]
    if first is None:
        return []
    done = set(LoanYearEnd.objects.values_list("year", flat=True))
    missing = [year for year in range(first.year, today.year) if year not in done]
    for year in missing:
        count_year_end(year)
    return missing


# --------------------------------------------------------------------------------------------
# Computed from the records: the rebuild and the check
# --------------------------------------------------------------------------------------------


def compute(today: datetime.date | None = None) -> dict[Key, Row]:
    """Every row from the records: the flows by their dates, and the year-end columns of the
    years counted (``LoanYearEnd``)."""
    today = today or timezone.localdate()
    found: dict[Key, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
    index = {name: i for i, name in enumerate(FIELDS)}

    def put(rows, *names: str) -> None:
        for year, unit_id, fund_id, *values in rows:
            figures = found[(year, unit_id, fund_id)]
            for name, value in zip(names, values, strict=True):
                figures[index[name]] += int(value or 0)

    keys = ("year", "loan__unit_id", "loan__fund_id")
    put(
        Loan.objects.filter(status__in=DISBURSED)
        .annotate(year=ExtractYear("disbursed_on"))
        .values_list("year", "unit_id", "fund_id")
        .annotate(Count("pk"), Sum("principal"))
        .order_by(),
        "disbursed_loans",
        "disbursed",
    )
    put(
        Repayment.objects.filter(kind=RepaymentKind.REPAYMENT)
        .annotate(year=ExtractYear("paid_on"))
        .values_list(*keys)
        .annotate(Sum("principal"), Sum("interest"))
        .order_by(),
        "principal_repaid",
        "interest_paid",
    )
    put(
        Repayment.objects.filter(kind=RepaymentKind.RECOVERY)
        .annotate(year=ExtractYear("paid_on"))
        .values_list(*keys)
        .annotate(Sum("amount"))
        .order_by(),
        "recovered",
    )
    put(
        LoanEvent.objects.filter(action=LoanEvent.Action.WRITTEN_OFF, amount__gt=0)
        .annotate(year=ExtractYear("on"))
        .values_list(*keys)
        .annotate(Sum("amount"))
        .order_by(),
        "written_off",
    )
    # Settled: no principal outstanding, on the latest day principal was repaid or written off.
    settled = Loan.objects.filter(status__in=DISBURSED, outstanding=0).annotate(
        repaid_last=Max(
            "repayments__paid_on",
            filter=Q(repayments__kind=RepaymentKind.REPAYMENT, repayments__principal__gt=0),
        ),
        written_off_on=Max(
            "events__on",
            filter=Q(events__action=LoanEvent.Action.WRITTEN_OFF, events__amount__gt=0),
        ),
    )
    counts: dict[Key, int] = defaultdict(int)
    for unit_id, fund_id, repaid_last, written_off_on in settled.values_list(
        "unit_id", "fund_id", "repaid_last", "written_off_on"
    ).order_by():
        days = [day for day in (repaid_last, written_off_on) if day is not None]
        if days:
            counts[(max(days).year, unit_id, fund_id)] += 1
    put(((*key, n) for key, n in counts.items()), "settled_loans")
    for year in LoanYearEnd.objects.filter(year__lt=today.year).values_list("year", flat=True):
        day = datetime.date(year, 12, 31)
        for key, row in _overdue_rows(overdue_then(Loan.objects.all(), day), year, day).items():
            figures = found[key]
            for name in YEAR_END:
                figures[index[name]] += row[index[name]]
    return {key: tuple(row) for key, row in found.items() if any(row)}


def stored() -> dict[Key, Row]:
    return {
        (year, unit_id, fund_id): tuple(values)
        for year, unit_id, fund_id, *values in LoanYear.objects.values_list(
            "year", "unit_id", "fund_id", *FIELDS
        )
        if any(values)
    }


def differences() -> dict[Key, tuple[Row | None, Row | None]]:
    """The rows where the tallies and the records disagree: (kept, computed)."""
    kept, computed = stored(), compute()
    return {
        key: (kept.get(key), computed.get(key))
        for key in set(kept) | set(computed)
        if kept.get(key) != computed.get(key)
    }


@transaction.atomic
def rebuild(today: datetime.date | None = None) -> int:
    """Count every row again from the records, and every year that has ended with its overdue
    loans on its last day; returns the number of rows written."""
    today = today or timezone.localdate()
    first = Loan.objects.filter(status__in=DISBURSED).aggregate(first=Min("disbursed_on"))["first"]
    LoanYearEnd.objects.all().delete()
    if first is not None:
        LoanYearEnd.objects.bulk_create(
            LoanYearEnd(year=year) for year in range(first.year, today.year)
        )
    LoanYear.objects.all().delete()
    rows = [
        LoanYear(year=year, unit_id=unit_id, fund_id=fund_id, **dict(zip(FIELDS, row, strict=True)))
        for (year, unit_id, fund_id), row in compute(today).items()
    ]
    LoanYear.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


# --------------------------------------------------------------------------------------------
# ``Loan.late_since``: kept by the services beside the schedule
# --------------------------------------------------------------------------------------------


def _late_since_from_schedules() -> Subquery:
    return Subquery(
        Instalment.objects.filter(
            loan=OuterRef("pk"), version=OuterRef("schedule_version"), settled_on__isnull=True
        )
        .order_by("overdue_after")
        .values("overdue_after")[:1]
    )


def late_differences() -> dict[int, tuple[datetime.date | None, datetime.date | None]]:
    """The loans whose ``late_since`` is not what their schedule says: (kept, computed)."""
    rows = (
        Loan.objects.annotate(
            computed=Case(
                When(status=LoanStatus.CURRENT, then=_late_since_from_schedules()),
                default=None,
            )
        )
        .exclude(late_since__isnull=True, computed__isnull=True)
        .filter(
            Q(late_since__isnull=True) | Q(computed__isnull=True) | ~Q(late_since=F("computed"))
        )
        .values_list("pk", "late_since", "computed")
    )
    return {pk: (kept, computed) for pk, kept, computed in rows}


def rebuild_late_since() -> int:
    """Set every loan's ``late_since`` from its schedule again; returns the loans changed."""
    changed = list(late_differences())
    Loan.objects.filter(pk__in=changed, status=LoanStatus.CURRENT).update(
        late_since=_late_since_from_schedules()
    )
    Loan.objects.filter(pk__in=changed).exclude(status=LoanStatus.CURRENT).update(late_since=None)
    return len(changed)
