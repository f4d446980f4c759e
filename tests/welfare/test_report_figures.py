"""The annual figures against a small data set computed by hand."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from members.counters import member_totals
from members.models import Member, MemberStatus
from members.services import create_member, update_member
from unions.models import Role, Unit
from unions.tree import move_unit
from welfare.models import Case
from welfare.reports import tallies, unlisted
from welfare.reports.figures import annual_figures

from ..factories import MemberFactory, make_user, system_user

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
    move_unit(
        unit=world.a1, new_parent=world.commune_b, effective_on=REORGANISED, by=world.users["admin"]
    )
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
    move_unit(unit=world.a2, new_parent=zone, effective_on=REORGANISED, by=world.users["admin"])
    move_unit(unit=world.a1, new_parent=zone, effective_on=REORGANISED, by=world.users["admin"])
    figures = annual_figures(zone, 2024)
    assert not figures.tree_of_the_year
    assert figures.totals.amount == 3_000_000


def test_figures_run_a_fixed_number_of_queries(world, records, django_assert_max_num_queries):
    # the breakdowns, organisation, programs, loans, contributions, campaigns, shelters, the
    # support to organisations and the people without a membership: none per record
    with django_assert_max_num_queries(31):
        annual_figures(world.province, 2026)


# --------------------------------------------------------------------------------------------
# People counted once, however the figures are grouped; the same figures on every database
# --------------------------------------------------------------------------------------------

MOVED = datetime.date(2026, 3, 1)


@pytest.fixture
def moved_within_commune(world, records, funds):
    """Nguyễn Văn An moves from A1 to A2 (both in commune A) and is paid again at A2."""
    from members.services import transfer_member

    from .conftest import paid_case

    member = transfer_member(
        member=world.member_a1, to_unit=world.a2, effective_on=MOVED, by=world.users["admin"]
    )
    paid_case(
        member, funds.social, 1_000_000, datetime.date(2026, 4, 2), by=world.users["grassroots"]
    )
    return member


def test_a_person_paid_in_two_units_of_a_child_unit_counts_once(world, moved_within_commune):
    figures = annual_figures(world.province, 2026)
    assert (figures.totals.cases, figures.totals.people) == (4, 2)
    commune_a = {row.label: row for row in figures.by_child}[world.commune_a.name]
    assert (commune_a.cases, commune_a.people, commune_a.amount) == (4, 2, 8_500_000)
    grant = {row.key: row for row in figures.by_type}["grant"]
    assert (grant.cases, grant.people) == (2, 1)  # An's two grants, at A1 then at A2
    fund = {row.label: row for row in figures.by_fund}
    assert sum(row.cases for row in fund.values()) == 4
    # still one member at the end of the year, with two memberships behind him
    assert figures.organisation.members == 3


def test_the_year_before_uses_its_own_tree_and_this_years_child_units(world, records, funds):
    move_unit(
        unit=world.a1, new_parent=world.commune_b, effective_on=REORGANISED, by=world.users["admin"]
    )
    figures = annual_figures(world.province, 2026, user=world.users["province"])
    # 2025 in 2025's tree: the Tết gift at B1 (commune B all along)
    assert (figures.prev_totals.cases, figures.prev_totals.people) == (1, 1)
    assert {row.label: (row.cases, row.prev_cases) for row in figures.by_child} == {
        world.commune_b.name: (3, 1)
    }


def test_the_dashboard_summary_leaves_out_what_it_does_not_show(world, moved_within_commune):
    full = annual_figures(world.province, 2026)
    summary = annual_figures(world.province, 2026, summary=True)
    assert summary.organisation is None
    assert summary.totals == full.totals and summary.prev_totals == full.prev_totals
    assert summary.by_month == full.by_month and summary.prev_by_month == full.prev_by_month
    for rows, full_rows in ((summary.by_type, full.by_type), (summary.by_child, full.by_child)):
        assert [(r.key, r.cases, r.amount, r.prev_amount) for r in rows] == [
            (r.key, r.cases, r.amount, r.prev_amount) for r in full_rows
        ]
        assert {r.people for r in rows} == {0}


def test_members_and_workers_are_the_only_kinds_of_membership():
    # the organisation figures count workers and take the rest as members
    from members.models import MemberKind

    assert set(MemberKind.values) == {MemberKind.MEMBER, MemberKind.WORKER}


def test_query_count_does_not_grow_with_records(
    world, records, funds, django_assert_max_num_queries
):
    from django.db import connection

    from .conftest import paid_case

    # one pass a year on PostgreSQL, one query per breakdown elsewhere; then the programs
    # (one query), the loans (one a year), the campaigns (one query, beside the
    # contributions by fund), the shelters (one query), the support to organisations (one
    # query) and the people supported without a membership (one a year)
    limit = 26 if connection.vendor == "postgresql" else 37
    with django_assert_max_num_queries(limit) as captured:
        annual_figures(world.province, 2026, user=world.users["province"])
    before = len(captured)
    by = world.users["grassroots"]
    for day in range(1, 20):
        paid_case(world.member_b1, funds.social, 100_000, datetime.date(2026, 5, day), by=by)
        paid_case(world.member_a1, funds.commune, 100_000, datetime.date(2025, 5, day), by=by)
    with django_assert_max_num_queries(before):
        annual_figures(world.province, 2026, user=world.users["province"])


@pytest.mark.postgres
def test_one_pass_gives_the_figures_of_one_query_per_breakdown(world, moved_within_commune):
    from welfare.reports import figures

    move_unit(
        unit=world.a2, new_parent=world.commune_b, effective_on=REORGANISED, by=world.users["admin"]
    )
    leader = make_user("leader_a", Role.LEADER, world.commune_a)
    for union, user in ((world.province, None), (world.province, leader), (world.commune_a, None)):
        for year in (2024, 2025, 2026):
            base, previous = figures.basis(union, year, user), figures.basis(union, year - 1, user)
            for counted, people in ((base, True), (previous, False)):
                one_pass = figures._tally_grouping_sets(
                    year, counted.child_of, base.child_of, people
                )
                by_queries = figures._tally_by_queries(year, counted, base, people)
                assert one_pass == by_queries, (union, user, year, people)


@pytest.mark.postgres
def test_the_report_work_memory_ends_with_the_report(world, records):
    from django.db import connection, transaction

    def work_mem():
        with connection.cursor() as cursor:
            cursor.execute("SHOW work_mem")
            return cursor.fetchone()[0]

    with transaction.atomic():
        before = work_mem()
        annual_figures(world.province, 2026)
        assert work_mem() == before


def test_year_end_counts_agree_with_the_home_page_after_people_leave(world, client_for):
    """People who left or died, marked so through the services, are counted by neither the
    report's year-end figures nor the home page's counters on the same day."""
    today = timezone.localdate()
    people = []
    for index, (unit, kind) in enumerate(
        [(world.a1, "member"), (world.a1, "worker"), (world.a2, "member"), (world.b1, "worker")] * 3
    ):
        person = MemberFactory.build(
            full_name=f"Người thứ {index}",
            unit=unit,
            kind=kind,
            joined_on=datetime.date(2020, 1, 1),
        )
        people.append(create_member(member=person, by=system_user()))
    for person, status in zip(
        people[:5],
        [
            MemberStatus.LEFT,
            MemberStatus.DECEASED,
            MemberStatus.LEFT,
            MemberStatus.DECEASED,
            MemberStatus.LEFT,
        ],
        strict=True,
    ):
        person = Member.objects.get(pk=person.pk)
        person.status, person.left_on = status, today - datetime.timedelta(days=3)
        update_member(member=person, by=system_user())
    back = Member.objects.get(pk=people[0].pk)  # and one of them came back
    back.status = MemberStatus.ACTIVE
    update_member(member=back, by=system_user())

    organisation = annual_figures(world.province, today.year).organisation
    home = client_for("admin").get(reverse("home")).context["member_counts"]

    assert (organisation.members, organisation.workers) == (home["members"], home["workers"])
    province = Unit.objects.in_subtree_of(world.province).values("pk")
    assert member_totals(province)["members"] == organisation.members
    assert organisation.members + organisation.workers == (
        Member.objects.filter(unit__path__startswith=world.province.path, status="active").count()
    )
    assert organisation.left == 4  # the one who came back is no longer counted as gone


def test_contributions_by_fund_for_the_year_and_the_year_before(world, funds):
    from welfare.funds.ledger import record_contribution, reverse_entry

    def give(fund, amount, day):
        return record_contribution(
            fund=fund, amount=amount, occurred_on=day, source="—", by=system_user()
        )

    give(funds.social, 120_000_000, datetime.date(2026, 3, 1))
    give(funds.social, 30_000_000, datetime.date(2026, 9, 1))
    mistake = give(funds.commune, 9_000_000, datetime.date(2026, 4, 1))
    reverse_entry(
        entry=mistake, occurred_on=datetime.date(2026, 4, 2), reason="nhầm", by=system_user()
    )
    give(funds.commune, 2_000_000, datetime.date(2026, 5, 1))
    give(funds.own, 5_000_000, datetime.date(2025, 6, 1))
    give(funds.other, 70_000_000, datetime.date(2026, 3, 1))  # another province

    figures = annual_figures(world.province, 2026)
    rows = {
        row.label: (row.cases, row.amount, row.prev_cases, row.prev_amount)
        for row in figures.contributions
    }
    assert rows == {
        "Quỹ Xã hội tỉnh P": (2, 150_000_000, 0, 0),
        "Quỹ phúc lợi Công đoàn phường A": (1, 2_000_000, 0, 0),
        "Quỹ CĐCS Công ty A1": (0, 0, 1, 5_000_000),
    }
    # a commune's report holds its own funds and those below it only
    commune = {row.label for row in annual_figures(world.commune_a, 2026).contributions}
    assert commune == {"Quỹ phúc lợi Công đoàn phường A", "Quỹ CĐCS Công ty A1"}
    assert annual_figures(world.province, 2026, summary=True).contributions == []


def test_people_supported_without_a_membership_that_year_are_counted(world, records, funds):
    """By hand, in P: 2026 supports An (member since 2010), Sơn (member since 2010) and
    three more: Phan Văn Lộc, who left A1 on 30/06/2025 and is paid twice in 2026; Mùa A
    Chư, a worker listed only at Q1 (outside P); Đinh Thị Lan, who joined A1 on 01/11/2026
    and was paid in February (a member at some day of the year, so not counted).  2025:
    Bình (member) and Mùa A Chư.  So 2 people in 2026 and 1 in 2025."""
    from .conftest import paid_case

    by = world.users["grassroots"]
    loc = MemberFactory(
        full_name="Phan Văn Lộc",
        unit=world.a1,
        status=MemberStatus.LEFT,
        joined_on=datetime.date(2015, 1, 1),
        left_on=datetime.date(2025, 6, 30),
    )
    chu = MemberFactory(full_name="Mùa A Chư", unit=world.q1, kind="worker")
    lan = MemberFactory(
        full_name="Đinh Thị Lan", unit=world.a1, joined_on=datetime.date(2026, 11, 1)
    )
    paid = [
        paid_case(member, funds.social, 1_000_000, on, by=by)
        for member, on in (
            (loc, datetime.date(2026, 2, 15)),
            (loc, datetime.date(2026, 2, 16)),
            (chu, datetime.date(2026, 2, 17)),
            (lan, datetime.date(2026, 2, 18)),
            (chu, datetime.date(2025, 3, 1)),
        )
    ]
    Case.objects.filter(pk__in=[case.pk for case in paid]).update(unit=world.a1)
    tallies.rebuild()  # the records were moved behind the services' back
    unlisted.rebuild()
    assert unlisted.differences() == []
    figures = annual_figures(world.province, 2026)
    assert figures.totals.people == 5
    assert figures.totals.people_without_membership == 2
    assert figures.prev_totals.people == 2
    assert figures.prev_totals.people_without_membership == 1
    # Commune B's report covers none of these.
    assert annual_figures(world.commune_b, 2026).totals.people_without_membership == 0
    # The dashboard's summary leaves it out.
    assert annual_figures(world.province, 2026, summary=True).totals.people_without_membership == 0
