import datetime
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
