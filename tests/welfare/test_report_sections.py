"""The annual report's sections on programs (IV) and loans (V), from the records: the support
paid under each program, and the loan fund's year as it stood at the year's end."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from welfare.loans import portfolio, services
from welfare.models import Loan, SupportType
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative
from welfare.reports.xlsx import render_xlsx

from .conftest import YEAR
from .loans.builders import build_loan
from .test_report_rendering import line_with, render, vi

pytestmark = pytest.mark.django_db

DISBURSED = datetime.date(2025, 1, 10)


def repay(world, loan, amount, on):
    return services.record_repayment(
        loan=loan, amount=amount, paid_on=on, by=world.users["treasurer"]
    )


@pytest.fixture
def lending(world, funds):
    """Province P lends 12.000.000 ₫ to A1's member on 10/01/2025 over 12 months and nothing
    comes back in 2025; in 2026 it is repaid in full.  A second loan of 6.000.000 ₫ is lent on
    10/03/2026 and repaid 500.000 ₫.  Province Q lends 9.000.000 ₫ in 2025."""
    first = build_loan(world, principal=12_000_000, disbursed_on=DISBURSED)
    repay(world, first, 12_000_000, datetime.date(2026, 2, 1))
    second = build_loan(world, principal=6_000_000, disbursed_on=datetime.date(2026, 3, 10))
    repay(world, second, 500_000, datetime.date(2026, 4, 10))
    build_loan(world, inside=False, principal=9_000_000, disbursed_on=DISBURSED)
    return first, second


def test_a_past_year_reads_the_loans_as_they_stood_at_its_end(world, lending):
    before = annual_figures(world.province, 2025).loans
    assert before is not None
    year = before.now
    # lent in 2025, nothing back: 12 million outstanding at 31/12/2025, overdue since
    # 15/02/2025 (the first instalment's grace) and so at risk over 30 days
    assert (year.disbursed_loans, year.disbursed, year.principal_repaid) == (1, 12_000_000, 0)
    assert (year.borrowers, year.outstanding) == (1, 12_000_000)
    assert (year.overdue_loans, year.overdue, year.at_risk_30) == (1, 12_000_000, 12_000_000)
    assert year.par_30 == 100.0
    # the loan is repaid today, but the 2025 report does not rewrite 2025
    assert Loan.objects.get(pk=lending[0].pk).outstanding == 0


def test_the_year_in_progress_agrees_with_the_portfolio_today(world, lending):
    loans = annual_figures(world.province, YEAR).loans
    assert loans is not None
    now = loans.now
    assert (now.disbursed_loans, now.disbursed) == (1, 6_000_000)
    assert now.principal_repaid == 12_000_000 + 500_000
    assert (now.borrowers, now.outstanding) == (1, 5_500_000)
    today = portfolio.totals(Loan.objects.filter(unit__path__startswith=world.province.path))
    assert now.outstanding == today.outstanding
    assert now.overdue == today.overdue
    assert now.at_risk_30 == today.at_risk_30
    # the year before, in the same report, is 2025 as it ended
    assert (loans.before.outstanding, loans.before.overdue) == (12_000_000, 12_000_000)
    # by child unit: both loans were applied at A1, under commune A
    assert [(row.label, row.now.outstanding, row.before.outstanding) for row in loans.by_child] == [
        (world.commune_a.name, 5_500_000, 12_000_000)
    ]


def test_province_q_lending_stays_out_of_province_p(world, lending):
    assert annual_figures(world.province, 2025).loans.now.disbursed == 12_000_000
    assert annual_figures(world.other_province, 2025).loans.now.disbursed == 9_000_000
    # and a user of P sees nothing of Q's, even asking for Q's report
    scoped = annual_figures(world.other_province, 2025, world.users["province"])
    assert not scoped.loans.any


def test_a_rescheduled_loan_is_overdue_on_the_schedule_in_force_that_day(world, funds):
    loan = build_loan(world, principal=12_000_000, disbursed_on=DISBURSED)
    # rescheduled in 2026 to start again in 2027: the 2025 report still finds it overdue on
    # the first schedule, today's figures find it current on the new one
    services.reschedule_loan(
        loan=loan,
        by=world.users["province"],
        reason="Gia đình có người ốm nặng",
        term_months=12,
        starts_on=datetime.date(YEAR, 12, 1),
    )
    assert annual_figures(world.province, 2025).loans.now.overdue == 12_000_000
    now = annual_figures(world.province, YEAR).loans.now
    assert (now.outstanding, now.overdue) == (12_000_000, 0)


def test_a_write_off_leaves_the_portfolio_in_its_year(world, funds):
    loan = build_loan(world, principal=12_000_000, disbursed_on=DISBURSED)
    repay(world, loan, 2_000_000, datetime.date(2025, 6, 1))
    services.write_off_loan(loan=loan, by=world.users["province"], reason="Người vay đã mất")
    loan.refresh_from_db()
    services.record_recovery(
        loan=loan, amount=1_000_000, paid_on=datetime.date.today(), by=world.users["treasurer"]
    )
    before = annual_figures(world.province, 2025).loans.now
    assert (before.outstanding, before.written_off) == (10_000_000, 0)
    now = annual_figures(world.province, YEAR).loans.now
    assert (now.outstanding, now.written_off, now.recovered) == (0, 10_000_000, 1_000_000)
    assert now.principal_repaid == 0  # a recovery is not a repayment


def test_loan_figures_take_the_same_queries_for_many_loans(world, funds):
    build_loan(world, principal=5_000_000, disbursed_on=DISBURSED)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            annual_figures(world.province, YEAR)
        return len(captured.captured_queries)

    one = queries()
    for n in range(3):
        build_loan(world, principal=5_000_000 + n, disbursed_on=DISBURSED)
    assert queries() == one


def test_programs_are_reported_by_program_with_their_people(world, tet, make_batch, people):
    make_batch(members=people, state="paid")
    make_batch(unit=world.b1, state="paid")
    figures = annual_figures(world.province, YEAR)
    [row] = figures.programs
    assert row.label == tet.name
    # four people at A1 (one poor household at 1.000.000 ₫) and B1's member
    assert (row.cases, row.people, row.amount) == (5, 5, 4 * 500_000 + 500_000 + 500_000)
    # the same money is section III's Tết gifts (no other Tết gift was paid)
    [gifts] = [line for line in figures.by_type if line.key == SupportType.TET_GIFT]
    assert (gifts.cases, gifts.amount) == (row.cases, row.amount)
    # commune A's report holds A1's batch only
    [commune] = annual_figures(world.commune_a, YEAR).programs
    assert (commune.cases, commune.amount) == (4, 2_500_000)


def test_an_approved_batch_not_yet_paid_is_not_in_the_report(world, tet, make_batch, people):
    make_batch(members=people, state="approved")
    assert annual_figures(world.province, YEAR).programs == []


def test_pdf_sections_four_and_five_print_the_records(
    world, lending, tet, make_batch, people, tmp_path
):
    make_batch(members=people, state="paid")
    figures = annual_figures(world.province, YEAR)
    pdf = render(tmp_path, figures)
    text = pdf.text
    assert "does not keep" not in text and "chưa quản lý" not in text
    assert "2.500.000 ₫" in line_with(pdf.layout, tet.name, "₫")
    assert "6.000.000 ₫" in line_with(pdf.layout, vi("Amount disbursed"))
    assert "12.500.000 ₫" in line_with(pdf.layout, vi("Principal repaid"))
    outstanding = line_with(pdf.layout, vi("Principal outstanding at year end"))
    assert "5.500.000 ₫" in outstanding and "12.000.000 ₫" in outstanding
    assert "100,0%" in line_with(pdf.layout, vi("Portfolio at risk over 30 days"))
    # the year in progress says which day its "year end" is
    assert figures.as_of.strftime("%d/%m/%Y") in text
    # the narrative speaks of both
    story = narrative(figures)
    assert tet.name in story
    assert "Quỹ Trợ vốn CNVCLĐ nghèo" in story and "6 triệu đồng" in story


def test_workbook_has_the_programs_and_loans_sheets(world, lending, tet, make_batch, people):
    make_batch(members=people, state="paid")
    figures = annual_figures(world.province, YEAR)
    workbook = load_workbook(io.BytesIO(render_xlsx(figures)))
    programs = list(workbook[vi("Programs")].iter_rows(min_row=2, values_only=True))
    assert programs[0][1] == tet.name and programs[0][4] == 2_500_000
    loans = {row[0]: row[1:3] for row in workbook[vi("Loans")].iter_rows(values_only=True)}
    assert loans[vi("Amount disbursed")] == (6_000_000, 12_000_000)
    assert loans[vi("Principal outstanding at year end")] == (5_500_000, 12_000_000)
