"""The yearly tallies of lending: kept by every loan service, counted for a year's end once it is
over, unchanged by a reorganisation, and always equal to what the loans say (the package's
``conftest`` checks that after every test as well)."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from unions.tree import move_unit
from welfare.loans import portfolio, services, tallies
from welfare.models import Loan, LoanYear, LoanYearEnd
from welfare.reports import figures

pytestmark = pytest.mark.django_db

DISBURSED = datetime.date(2025, 1, 10)


def _repay(world, loan, amount, on=datetime.date(2025, 2, 1)):
    return services.record_repayment(
        loan=loan, amount=amount, paid_on=on, by=world.users["treasurer"]
    )


def row(loan, year) -> dict:
    found = LoanYear.objects.filter(year=year, unit_id=loan.unit_id, fund_id=loan.fund_id)
    values = found.values(*tallies.FIELDS).first() or {}
    return {name: value for name, value in values.items() if value}


def assert_matches() -> None:
    assert tallies.differences() == {}
    assert tallies.late_differences() == {}


def assert_report_reads_the_records(union, year) -> None:
    """The report's lending section, read from the tallies, is what the records say, in total
    and by child unit, for the year and the year before."""
    base, previous = figures.basis(union, year), figures.basis(union, year - 1)
    kept = figures._loans(year, base, previous)
    now = portfolio.year_figures(Loan.objects.filter(unit_id__in=base.units), year, base.as_of)
    before = portfolio.year_figures(
        Loan.objects.filter(unit_id__in=previous.units), year - 1, previous.as_of
    )
    nothing = portfolio.YearFigures()
    assert kept.now == sum(now.values(), nothing)
    assert kept.before == sum(before.values(), nothing)
    for child in kept.by_child:
        mine = [f for unit, f in now.items() if base.child_of[unit] == child.key]
        theirs = [f for unit, f in before.items() if base.child_of.get(unit) == child.key]
        assert child.now == sum(mine, nothing)
        assert child.before == sum(theirs, nothing)


def test_a_disbursement_counts_in_its_year(world, make_loan):
    loan = make_loan()
    assert row(loan, 2025) == {"disbursed_loans": 1, "disbursed": 12_000_000}
    assert loan.late_since == datetime.date(2025, 2, 15)  # the first instalment's grace ended
    assert_matches()


def test_repayments_count_in_the_year_paid_and_the_last_settles_the_loan(world, make_loan):
    loan = make_loan()
    _repay(world, loan, 600_000)  # partial
    _repay(world, loan, 3_400_000, on=datetime.date(2025, 3, 1))  # several instalments
    loan.refresh_from_db()
    assert loan.late_since == datetime.date(2025, 6, 15)  # the fifth instalment
    assert row(loan, 2025)["principal_repaid"] == 4_000_000
    _repay(world, loan, 8_000_000, on=datetime.date(2026, 1, 5))  # early, the rest
    assert row(loan, 2026) == {"principal_repaid": 8_000_000, "settled_loans": 1}
    loan.refresh_from_db()
    assert loan.late_since is None
    assert_matches()


def test_a_loan_settled_by_a_repayment_dated_before_another_settles_in_the_later_year(
    world, make_loan
):
    loan = make_loan()
    _repay(world, loan, 2_000_000, on=datetime.date(2026, 1, 5))
    _repay(world, loan, 10_000_000, on=datetime.date(2025, 12, 1))
    assert row(loan, 2026) == {"principal_repaid": 2_000_000, "settled_loans": 1}
    assert_matches()


def test_interest_counts_apart_from_principal(world, make_loan):
    loan = make_loan(rate="12")
    instalment = loan.instalments.get(number=1)
    _repay(world, loan, instalment.amount, on=datetime.date(2025, 2, 10))
    assert row(loan, 2025)["interest_paid"] == instalment.interest > 0
    assert_matches()


def test_a_write_off_settles_the_loan_and_recoveries_count_apart(world, make_loan):
    loan = make_loan()
    _repay(world, loan, 2_000_000)
    services.write_off_loan(loan=loan, by=world.users["province"], reason="Người vay qua đời")
    services.record_recovery(
        loan=loan, amount=1_000_000, paid_on=DISBURSED.replace(month=6), by=world.users["treasurer"]
    )
    this_year = timezone.localdate().year
    assert row(loan, this_year) == {"written_off": 10_000_000, "settled_loans": 1}
    assert row(loan, 2025)["recovered"] == 1_000_000
    loan.refresh_from_db()
    assert loan.late_since is None
    assert_matches()


def test_a_new_schedule_moves_the_overdue_date(world, make_loan):
    loan = make_loan()
    services.reschedule_loan(
        loan=loan,
        by=world.users["province"],
        reason="Mất mùa",
        term_months=6,
        starts_on=timezone.localdate(),
    )
    loan.refresh_from_db()
    assert loan.late_since == loan.instalments.get(version=2, number=1).overdue_after
    assert_matches()


def test_the_daily_task_counts_an_ended_year_once(world, make_loan):
    loan = make_loan()  # overdue since 15/02/2025, nothing repaid
    services.mark_overdue()
    years = set(LoanYearEnd.objects.values_list("year", flat=True))
    assert years == set(range(2025, timezone.localdate().year))
    assert row(loan, 2025)["overdue"] == 12_000_000
    assert row(loan, 2025)["at_risk_30"] == 12_000_000
    before = tallies.stored()
    services.mark_overdue()
    assert tallies.stored() == before
    assert_matches()
    assert_report_reads_the_records(world.province, 2026)


def test_a_repayment_dated_in_an_ended_year_counts_its_end_again(world, make_loan):
    loan = make_loan()
    tallies.count_ended_years()
    _repay(world, loan, 12_000_000, on=datetime.date(2025, 6, 1))
    assert "overdue" not in row(loan, 2025)
    assert_matches()
    assert_report_reads_the_records(world.province, 2026)


@pytest.mark.parametrize("counted", [True, False])
def test_the_report_reads_the_records(world, make_loan, counted):
    overdue = make_loan()
    repaid = make_loan(principal=6_000_000, disbursed_on=datetime.date(2025, 3, 1))
    _repay(world, repaid, 6_000_000, on=datetime.date(2025, 9, 1))
    make_loan(inside=False)
    _repay(world, overdue, 1_000_000, on=datetime.date(2026, 1, 20))
    if counted:
        tallies.count_ended_years()
    for union in (world.province, world.commune_a, world.commune_b, world.other_province):
        for year in (2025, 2026):
            assert_report_reads_the_records(union, year)
    section = figures._loans(
        2026, figures.basis(world.province, 2026), figures.basis(world.province, 2025)
    )
    assert (section.now.disbursed, section.before.disbursed) == (0, 18_000_000)
    assert (section.now.principal_repaid, section.before.principal_repaid) == (
        1_000_000,
        6_000_000,
    )
    assert (section.now.outstanding, section.before.outstanding) == (11_000_000, 12_000_000)
    assert (section.now.borrowers, section.before.borrowers) == (1, 1)
    assert section.before.overdue == section.before.at_risk_30 == 12_000_000


def test_a_reorganisation_changes_no_row_and_the_report_follows_the_tree(world, make_loan):
    make_loan()
    tallies.count_ended_years()
    before = tallies.stored()
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=timezone.localdate(),
        by=world.users["admin"],
    )
    assert tallies.stored() == before
    assert_matches()
    for union in (world.province, world.commune_a, world.commune_b):
        assert_report_reads_the_records(union, timezone.localdate().year)


def test_rebuild_writes_the_same_rows_and_check_finds_a_wrong_one(world, make_loan, capsys):
    loan = make_loan()
    _repay(world, loan, 3_000_000)
    tallies.count_ended_years()
    kept = tallies.stored()
    call_command("rebuild_tallies")
    assert tallies.stored() == kept
    call_command("rebuild_tallies", "--check")
    LoanYear.objects.filter(year=2025).update(principal_repaid=1)
    Loan.objects.filter(pk=loan.pk).update(late_since=None)
    with pytest.raises(CommandError):
        call_command("rebuild_tallies", "--check")
    assert "lending: 2 rows differ" in capsys.readouterr().out
    call_command("rebuild_tallies")
    assert tallies.stored() == kept
    assert_matches()


def test_the_portfolio_overview_is_the_figures_in_one_query(
    world, make_loan, django_assert_num_queries
):
    make_loan()
    make_loan("approved")
    closed = make_loan(principal=6_000_000)
    _repay(world, closed, 6_000_000)
    make_loan(inside=False)
    day = datetime.date(2025, 6, 1)
    with django_assert_num_queries(1):
        totals, per_fund, per_unit = portfolio.overview(Loan.objects.all(), day)
    assert totals == portfolio.totals(Loan.objects.all(), day)
    assert per_fund == portfolio.by(Loan.objects.all(), "fund_id", "fund__name", day)
    assert per_unit == portfolio.by(Loan.objects.all(), "unit_id", "unit__name", day)
    assert totals.loans == 3 and totals.band_91_180 == 24_000_000
