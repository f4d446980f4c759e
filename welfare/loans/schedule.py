"""A repayment schedule in whole đồng.

The principal is split into equal parts rounded down to the đồng; what the rounding leaves goes
to the last instalment, so the instalments always sum exactly to the principal. Interest, when
the rate is not 0, is charged on the principal still owed during each period (declining
balance), rounded half up to the đồng. A period that has begun owes its whole interest; principal
paid before a period begins lowers the interest of the periods still to come (``reprice``). Due
dates fall on the disbursement's day of the month, or the month's last day when it is shorter.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .models import MONTHS_PER_PERIOD


@dataclass(frozen=True)
class Row:
    number: int
    due_on: datetime.date
    principal: int
    interest: int

    @property
    def amount(self) -> int:
        return self.principal + self.interest


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def periods(term_months: int, frequency: str) -> int:
    """How many instalments a term has: a quarterly loan of 10 months pays 4 times."""
    step = MONTHS_PER_PERIOD[frequency]
    return -(-term_months // step)


def interest_for(owed: int, annual_rate: Decimal, months: int) -> int:
    if not annual_rate:
        return 0
    exact = Decimal(owed) * annual_rate * months / Decimal(1200)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def build(
    *,
    principal: int,
    term_months: int,
    frequency: str,
    annual_rate: Decimal,
    start: datetime.date,
) -> list[Row]:
    """The instalments of ``principal`` lent on ``start``: the first falls one period later."""
    if principal <= 0:
        raise ValueError("principal must be positive")
    count = periods(term_months, frequency)
    step = MONTHS_PER_PERIOD[frequency]
    part = principal // count
    rows, owed = [], principal
    for number in range(1, count + 1):
        share = part if number < count else principal - part * (count - 1)
        rows.append(
            Row(
                number=number,
                due_on=add_months(start, step * number),
                principal=share,
                interest=interest_for(owed, annual_rate, step),
            )
        )
        owed -= share
    return rows


def period_begun(due_on: datetime.date, frequency: str, on: datetime.date) -> bool:
    """Whether the period that ends on ``due_on`` has begun by ``on``; it began one period
    before (a day or two sooner where the month's end clipped the due day)."""
    return add_months(due_on, -MONTHS_PER_PERIOD[frequency]) <= on


def reprice(later: list, *, annual_rate: Decimal, frequency: str) -> None:
    """The interest of instalments whose periods have not begun, again on the principal still
    owed at each one's start (its own and the later instalments' unpaid principal), never below
    what was paid on it. Without early principal this gives back the schedule's own figures."""
    if not annual_rate:
        return
    step = MONTHS_PER_PERIOD[frequency]
    owed = sum(row.principal - row.principal_paid for row in later)
    for row in later:
        row.interest = max(row.interest_paid, interest_for(owed, annual_rate, step))
        owed -= row.principal - row.principal_paid
