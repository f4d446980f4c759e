import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from welfare.loans import schedule

START = datetime.date(2025, 1, 31)


@pytest.mark.parametrize(
    ("principal", "term", "frequency"),
    [
        (10_000_000, 3, "monthly"),
        (10_000_001, 7, "monthly"),
        (1, 1, "monthly"),
        (9_999_999, 10, "quarterly"),
    ],
)
def test_instalments_sum_exactly_to_the_principal(principal, term, frequency):
    rows = schedule.build(
        principal=principal,
        term_months=term,
        frequency=frequency,
        annual_rate=Decimal(0),
        start=START,
    )
    assert sum(row.principal for row in rows) == principal
    assert all(row.interest == 0 for row in rows)
    # Equal parts, the rounding left to the last one.
    assert len({row.principal for row in rows[:-1]}) <= 1
    assert rows[-1].principal >= rows[0].principal


def test_the_rounding_goes_to_the_last_instalment():
    rows = schedule.build(
        principal=10_000_000,
        term_months=3,
        frequency="monthly",
        annual_rate=Decimal(0),
        start=START,
    )
    assert [row.principal for row in rows] == [3_333_333, 3_333_333, 3_333_334]


def test_due_dates_keep_the_day_or_take_the_month_end():
    rows = schedule.build(
        principal=3_000_000, term_months=3, frequency="monthly", annual_rate=Decimal(0), start=START
    )
    assert [row.due_on for row in rows] == [
        datetime.date(2025, 2, 28),
        datetime.date(2025, 3, 31),
        datetime.date(2025, 4, 30),
    ]


def test_quarterly_odd_term_has_a_last_short_period():
    rows = schedule.build(
        principal=10_000_000,
        term_months=10,
        frequency="quarterly",
        annual_rate=Decimal(0),
        start=START,
    )
    assert len(rows) == 4
    assert [row.principal for row in rows] == [2_500_000] * 4
    assert rows[0].due_on == datetime.date(2025, 4, 30)


def test_interest_on_the_declining_balance_rounded_to_the_dong():
    # 12 % a year is 1 % a month on what is still owed.
    rows = schedule.build(
        principal=10_000_000,
        term_months=3,
        frequency="monthly",
        annual_rate=Decimal("12"),
        start=START,
    )
    assert [row.principal for row in rows] == [3_333_333, 3_333_333, 3_333_334]
    assert [row.interest for row in rows] == [100_000, 66_667, 33_333]
    assert sum(row.principal for row in rows) == 10_000_000


def test_quarterly_interest_counts_three_months():
    rows = schedule.build(
        principal=7_000_001,
        term_months=6,
        frequency="quarterly",
        annual_rate=Decimal("6.5"),
        start=START,
    )
    assert [row.principal for row in rows] == [3_500_000, 3_500_001]
    # 7,000,001 x 6.5 % x 3/12 = 113,750.02 -> 113,750; 3,500,001 x ... = 56,875.02 -> 56,875
    assert [row.interest for row in rows] == [113_750, 56_875]


@pytest.mark.parametrize(
    ("on", "begun"),
    [
        (datetime.date(2025, 3, 9), False),
        (datetime.date(2025, 3, 10), True),  # the day the period starts
        (datetime.date(2025, 4, 10), True),
    ],
)
def test_a_period_begins_one_period_before_its_due_date(on, begun):
    assert schedule.period_begun(datetime.date(2025, 4, 10), "monthly", on) is begun


@dataclass
class Owed:
    principal: int
    interest: int
    principal_paid: int = 0
    interest_paid: int = 0


@pytest.mark.parametrize(
    ("principal", "term", "frequency", "rate"),
    [
        (10_000_000, 10, "monthly", "12"),
        (7_000_001, 6, "quarterly", "6.5"),
        (9_999_999, 7, "monthly", "0.9"),
    ],
)
def test_repricing_without_early_principal_gives_back_the_schedule(
    principal, term, frequency, rate
):
    rows = schedule.build(
        principal=principal,
        term_months=term,
        frequency=frequency,
        annual_rate=Decimal(rate),
        start=START,
    )
    for first in range(len(rows)):
        later = [Owed(row.principal, row.interest) for row in rows[first:]]
        schedule.reprice(later, annual_rate=Decimal(rate), frequency=frequency)
        assert [row.interest for row in later] == [row.interest for row in rows[first:]]


def test_principal_paid_ahead_lowers_the_interest_to_come():
    # 10,000,000 over 10 months at 1 % a month; instalments 2 and 3 paid ahead, in principal:
    later = [Owed(1_000_000, 90_000 - 10_000 * n) for n in range(9)]
    later[0].principal_paid = later[1].principal_paid = 1_000_000
    schedule.reprice(later, annual_rate=Decimal("12"), frequency="monthly")
    # 7,000,000 still owed through periods 2 to 4, then 1,000,000 less each period.
    assert [row.interest for row in later] == [
        70_000, 70_000, 70_000, 60_000, 50_000, 40_000, 30_000, 20_000, 10_000
    ]  # fmt: skip


def test_repricing_never_goes_below_the_interest_already_paid():
    later = [Owed(1_000_000, 10_000, principal_paid=1_000_000, interest_paid=10_000)]
    schedule.reprice(later, annual_rate=Decimal("12"), frequency="monthly")
    assert later[0].interest == 10_000


def test_at_zero_percent_repricing_changes_nothing():
    later = [Owed(1_000_000, 0, principal_paid=400_000)]
    schedule.reprice(later, annual_rate=Decimal(0), frequency="monthly")
    assert later[0].interest == 0
