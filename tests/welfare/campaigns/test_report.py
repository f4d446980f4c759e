"""Section VI of the annual report: the money raised by campaign, in the year and the year
before, beside the contributions by fund; in the PDF's table, the spreadsheet's sheet and
the narrative."""

from __future__ import annotations

import datetime

import pytest

from welfare.campaigns import services
from welfare.funds.ledger import reverse_entry
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative
from welfare.reports.xlsx import build_workbook

from ..test_report_rendering import line_with, render

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood(world, funds):
    return services.create_campaign(
        unit=world.province,
        name="Ủng hộ đồng bào bị lũ lụt",
        fund=funds.social,
        target=50_000_000,
        starts_on=datetime.date(2025, 9, 1),
        ends_on=datetime.date(2026, 3, 31),
        by=world.users["province"],
    )


def test_the_report_counts_the_money_raised_by_campaign_in_both_years(
    world, funds, flood, contribute, tmp_path
):
    contribute(flood, 4_000_000, received_on=datetime.date(2025, 10, 2))
    contribute(flood, 6_000_000, received_on=datetime.date(2026, 1, 15))
    mistaken = contribute(flood, 1_000_000, received_on=datetime.date(2026, 2, 1))
    reverse_entry(
        entry=mistaken.entry,
        occurred_on=datetime.date(2026, 2, 3),
        reason="Ghi trùng",
        by=world.users["treasurer"],
    )
    figures = annual_figures(world.province, 2026, user=world.users["province"])
    [row] = figures.campaigns
    assert (row.label, row.amount, row.cases) == ("Ủng hộ đồng bào bị lũ lụt", 6_000_000, 1)
    assert (row.prev_amount, row.prev_cases) == (4_000_000, 1)
    # The by-fund table still holds the same money, with the fund's other contributions.
    [fund_row] = figures.contributions
    assert fund_row.amount == 6_000_000
    sheet = build_workbook(figures).worksheets[-1]
    values = [cell.value for cell in sheet[2]]
    assert values[:6] == [1, "Ủng hộ đồng bào bị lũ lụt", 1, 6_000_000, 1, 4_000_000]
    assert "Ủng hộ đồng bào bị lũ lụt" in narrative(figures)
    pdf = render(tmp_path, figures)
    row = line_with(pdf.layout, "Ủng hộ đồng bào bị lũ lụt", "6.000.000")
    assert "4.000.000" in row


def test_a_report_without_campaigns_says_nothing_of_them(world, funds):
    figures = annual_figures(world.province, 2026, user=world.users["province"])
    assert figures.campaigns == []
    assert "campaign" not in narrative(figures)
