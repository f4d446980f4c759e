"""The annual figures against a small data set computed by hand."""

import datetime

import pytest

from unions.models import Role
from unions.tree import move_unit
from welfare.reports.figures import annual_figures

from ..factories import make_user

pytestmark = pytest.mark.django_db

REORGANISED = datetime.date(2025, 7, 1)


def test_province_figures_for_the_year_paid(world, records):
    figures = annual_figures(world.province, 2026)
    assert figures.totals.cases == 3
    assert figures.totals.people == 2  # Nguyễn Văn An twice, Hoàng Văn Sơn once
    assert figures.totals.amount == 7_500_000
    by_type = {row.key: (row.cases, row.amount, row.prev_amount) for row in figures.by_type}
    # the Tết gift line is there for the year before, with nothing this year
    assert by_type == {
        "grant": (1, 5_000_000, 0),
        "visit": (2, 2_500_000, 0),
        "tet_gift": (0, 0, 1_000_000),
    }
    assert figures.by_month[0] == 2_000_000 and figures.by_month[1] == 5_500_000
    assert figures.prev_totals.amount == 1_000_000  # the Tết gift of 31/12/2025
    by_child = {row.label: (row.amount, row.prev_amount) for row in figures.by_child}
    assert by_child == {
        world.commune_a.name: (7_500_000, 0),
        world.commune_b.name: (0, 1_000_000),
    }


def test_case_approved_on_31_december_and_paid_on_2_january_counts_when_paid(world, records):
    assert annual_figures(world.province, 2025).totals.amount == 1_000_000
    visit = {row.key: row for row in annual_figures(world.province, 2026).by_type}["visit"]
    assert visit.amount == 2_500_000


def test_commune_leader_report_excludes_the_neighbouring_commune(world, records):
    leader = make_user("leader_a", Role.LEADER, world.commune_a)
    figures = annual_figures(world.province, 2024, user=leader)
    assert figures.totals.amount == 3_000_000
    assert [row.label for row in figures.by_child] == [world.commune_a.name]
    assert annual_figures(world.commune_a, 2024).totals.amount == 3_000_000


def test_earlier_year_groups_by_the_tree_as_it_stood(world, records, funds):
    move_unit(unit=world.a1, new_parent=world.commune_b, effective_on=REORGANISED, by=None)
    figures_2024 = annual_figures(world.province, 2024)
    assert {row.label: row.amount for row in figures_2024.by_child} == {
        world.commune_b.name: 60_000_000,
        world.commune_a.name: 3_000_000,
    }
    figures_2026 = annual_figures(world.province, 2026)
    assert {row.label: (row.amount, row.prev_amount) for row in figures_2026.by_child} == {
        world.commune_b.name: (7_500_000, 1_000_000)
    }
    # commune A's 2024 report still holds A1's record, its 2026 report does not
    assert annual_figures(world.commune_a, 2024).totals.amount == 3_000_000
    assert annual_figures(world.commune_a, 2026).totals.amount == 0


def test_highlighted_support_lines_and_previous_year(world, records):
    figures = annual_figures(world.province, 2024)
    lines = {row.key: (row.cases, row.amount) for row in figures.highlighted}
    assert lines["shelter"] == (1, 60_000_000)
    assert lines["savings_book"] == (0, 0)
    category = {row.key: row.amount for row in figures.by_category}
    assert category == {"housing": 60_000_000, "illness": 3_000_000}


def test_organisation_counts_members_at_year_end(world, records):
    figures = annual_figures(world.province, 2026)
    assert figures.organisation.members == 3
    assert figures.organisation.grassroots_units == 3


def test_union_founded_later_uses_todays_subtree(world, records):
    from tests.factories import make_unit
    from unions.models import UnitKind

    zone = make_unit("Công đoàn KCN", UnitKind.ZONE, world.province, founded_on=REORGANISED)
    move_unit(unit=world.a2, new_parent=zone, effective_on=REORGANISED, by=None)
    move_unit(unit=world.a1, new_parent=zone, effective_on=REORGANISED, by=None)
    figures = annual_figures(zone, 2024)
    assert not figures.tree_of_the_year
    assert figures.totals.amount == 3_000_000


def test_figures_run_a_fixed_number_of_queries(world, records, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        annual_figures(world.province, 2026)
