"""The yearly tallies of support paid: kept by every service that marks records paid, counted
again after a reorganisation, and always equal to what the records say."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command

from unions.models import Role
from unions.tree import merge_unit, move_unit
from welfare.cases import approvals
from welfare.cases.evidence import attach_evidence
from welfare.models import (
    Breakdown,
    Case,
    Category,
    EntryKind,
    LedgerEntry,
    SupportTally,
    SupportType,
    TallyRecount,
)
from welfare.programs import services as programs
from welfare.programs.models import BatchLine, Unpaid
from welfare.reports import figures, tallies

from ..factories import DependantFactory, MemberFactory, make_user
from .conftest import paid_case, pdf_upload
from .test_support_import import FUNDS_OPENED, confirm, preview, record, xlsx

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YEAR = TODAY.year


def assert_tallies_match() -> None:
    """Every year's tallies are what its paid records say, row by row, and the money raised
    what the ledgers say."""
    for year in tallies.years():
        assert tallies.differences(year) == {}, year
    assert tallies.raised_differences() == {}


def total(unit, year=YEAR) -> tuple[int, int, int]:
    """(cases, people, amount) of the unit's whole subtree in ``year``, from its tally."""
    row = SupportTally.objects.filter(
        year=year, unit=unit, breakdown=Breakdown.TOTAL, key=""
    ).first()
    return (row.cases, row.people, row.amount) if row else (0, 0, 0)


def assert_report_reads_the_records(union, year, user=None) -> None:
    """The figures read from the tallies equal those computed from the records."""
    base, previous = figures.basis(union, year, user), figures.basis(union, year - 1, user)
    assert base.whole
    for counted, counted_year, people in ((base, year, True), (previous, year - 1, False)):
        if not counted.whole:
            continue
        kept = figures._tally_from_tallies(counted_year, counted, base, people)
        computed = figures._tally_by_queries(counted_year, counted, base, people)
        assert kept == computed, (union, counted_year, people)


# --- every write that pays ------------------------------------------------------------------


def test_a_paid_case_counts_at_its_unit_and_every_unit_above(world, make_case):
    make_case("paid", amount=3_000_000)
    for unit in (world.a1, world.commune_a, world.province):
        assert total(unit) == (1, 1, 3_000_000)
    assert total(world.commune_b) == (0, 0, 0)
    own = SupportTally.objects.get(year=YEAR, unit=world.a1, breakdown=Breakdown.OWN)
    assert (own.cases, own.amount) == (1, 3_000_000)
    assert_tallies_match()


def test_the_same_person_paid_twice_counts_once_and_twice_as_turns(world, funds, make_case):
    make_case("paid", amount=3_000_000)
    make_case("paid", fund=funds.commune, amount=1_000_000)
    assert total(world.province) == (2, 1, 4_000_000)
    by_fund = dict(
        SupportTally.objects.filter(
            year=YEAR, unit=world.province, breakdown=Breakdown.FUND
        ).values_list("key", "people")
    )
    assert by_fund == {str(funds.social.pk): 1, str(funds.commune.pk): 1}
    assert_tallies_match()
    assert_report_reads_the_records(world.province, YEAR)


def test_a_visit_without_money_counts_a_turn_and_a_person(world, funds):
    officer = world.users["grassroots"]
    case = approvals.create_case(
        case=Case(
            unit=world.a1,
            member=world.member_a1,
            category=Category.ILLNESS,
            circumstances="Thăm hỏi khi ốm đau.",
            support_type=SupportType.VISIT,
            requested_amount=0,
            fund=funds.social,
        ),
        by=officer,
    )
    attach_evidence(case=case, upload=pdf_upload(), by=officer)
    case = approvals.submit_case(case=case, by=officer)
    case = approvals.endorse_case(case=case, by=world.users["commune"])
    approvals.approve_case(case=case, by=world.users["province"], amount=0)
    assert total(world.province) == (1, 1, 0)
    assert_tallies_match()


def test_a_paid_batch_counts_the_people_paid(world, make_batch, people):
    batch = make_batch(members=people, state="approved")
    lines = {line.member_id: line.pk for line in BatchLine.objects.filter(batch=batch)}
    programs.record_batch_payment(
        batch=batch,
        by=world.users["treasurer"],
        paid_on=TODAY,
        receipt_reference="PC-TET-01",
        unpaid={lines[people[0].pk]: Unpaid.MOVED_AWAY},
    )
    cases, persons, amount = total(world.province)
    assert (cases, persons) == (3, 3)  # the one not paid is left out
    assert amount == sum(
        Case.objects.filter(batch=batch, status="paid").values_list("approved_amount", flat=True)
    )
    assert_tallies_match()
    assert_report_reads_the_records(world.province, YEAR)


def test_counting_a_batch_does_not_grow_with_its_people(world, tet, make_batch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_to_pay(unit, count):
        members = [MemberFactory(full_name=f"Người {n}", unit=unit) for n in range(count)]
        batch = make_batch(unit=unit, members=members, state="approved")
        with CaptureQueriesContext(connection) as captured:
            programs.record_batch_payment(
                batch=batch, by=world.users["treasurer"], paid_on=TODAY, receipt_reference="PC"
            )
        return len(captured)

    tet.budget = 100_000_000
    tet.save()
    few = queries_to_pay(world.a1, 2)
    assert queries_to_pay(world.b1, 40) <= few
    assert total(world.province)[:2] == (42, 42)
    assert_tallies_match()


def test_imported_past_support_counts_in_the_year_it_was_paid(world, funds):
    LedgerEntry.objects.filter(kind=EntryKind.OPENING).update(occurred_on=FUNDS_OPENED)
    child = DependantFactory(member=world.member_a1, full_name="Nguyễn Minh Khôi")
    job = preview(
        world,
        xlsx(
            [
                record(world.member_a1, paid="15/03/2023"),
                record(world.member_a1, paid="16/04/2023", amount="1.000.000"),
                record(world.member_b1, paid="20/01/2024", type="Quà Tết", amount="500.000"),
            ]
        ),
    )
    job = confirm(world, job)
    assert job.status == "done", job.error
    assert total(world.province, 2023) == (2, 1, 3_000_000)
    assert total(world.commune_b, 2024) == (1, 1, 500_000)
    assert_tallies_match()
    del child


def reorganise(change, **kwargs) -> None:
    """A reorganisation as the tree page makes it, then its recount as the worker runs it."""
    from django.test import TestCase

    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            change(**kwargs)
    finally:
        app.conf.task_always_eager = before


def test_a_move_counts_the_years_from_its_date_again(world, records, funds):
    by = world.users["grassroots"]
    member = MemberFactory(full_name="Trần Văn Tư", unit=world.a2)
    paid_case(member, funds.social, 4_000_000, datetime.date(YEAR, 1, 5), by=by)
    paid_case(member, funds.social, 2_000_000, datetime.date(YEAR - 2, 6, 1), by=by)
    assert total(world.commune_a)[0] == 4  # the 2026 records of A1 and A2
    before = SupportTally.objects.filter(year=YEAR - 2).count()
    reorganise(
        move_unit,
        unit=world.a2,
        new_parent=world.commune_b,
        effective_on=TODAY,
        by=world.users["admin"],
    )
    assert total(world.commune_b) == (1, 1, 4_000_000)
    assert total(world.commune_a)[0] == 3
    # Two years back the tree stood as it did: nothing there was counted again.
    assert SupportTally.objects.filter(year=YEAR - 2).count() == before
    assert total(world.commune_a, YEAR - 2)[2] == 5_000_000
    assert_tallies_match()
    for union in (world.province, world.commune_a, world.commune_b):
        assert_report_reads_the_records(union, YEAR)


def test_a_merge_counts_the_year_again(world, records, funds):
    paid_case(world.member_b1, funds.social, 1_500_000, TODAY, by=world.users["grassroots"])
    reorganise(
        merge_unit,
        unit=world.commune_b,
        into=world.commune_a,
        effective_on=TODAY,
        by=world.users["admin"],
    )
    # B1 now stands under commune A; commune B keeps its own records only.
    assert total(world.commune_a) == (4, 3, 9_000_000)
    assert_tallies_match()
    assert_report_reads_the_records(world.province, YEAR)
    assert_report_reads_the_records(world.commune_a, YEAR)


def test_a_reorganisation_leaves_the_recount_to_the_worker_and_reads_the_records_meanwhile(
    world, records, funds, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    paid_case(world.member_b1, funds.social, 1_500_000, TODAY, by=world.users["grassroots"])
    kept = tallies.stored(YEAR)
    with django_capture_on_commit_callbacks() as queued:
        move_unit(
            unit=world.b1, new_parent=world.commune_a, effective_on=TODAY, by=world.users["admin"]
        )
    # The request counted nothing: the tallies are as they were, the recount is queued.
    assert tallies.stored(YEAR) == kept
    recount = TallyRecount.objects.get()
    assert (recount.status, recount.first_year, recount.last_year) == ("queued", YEAR, YEAR)
    assert len(queued) == 1
    # Until it is done the year is read from the records, which already follow the new tree.
    assert not figures.basis(world.province, YEAR).whole
    assert figures.basis(world.province, YEAR - 1).whole
    commune_a = figures.year_tally(
        YEAR, figures.basis(world.commune_a, YEAR), figures.basis(world.commune_a, YEAR)
    )
    tallies.run_recount(recount.pk)
    recount.refresh_from_db()
    assert (recount.status, recount.progress, recount.years_done) == ("done", 100, [YEAR])
    assert figures.basis(world.province, YEAR).whole
    assert_tallies_match()
    assert (
        figures.year_tally(
            YEAR, figures.basis(world.commune_a, YEAR), figures.basis(world.commune_a, YEAR)
        ).total
        == commune_a.total
    )
    tallies.run_recount(recount.pk)  # sent twice: nothing more
    assert_tallies_match()


@pytest.mark.postgres
def test_the_recount_writes_what_the_records_say_in_one_statement_a_year(
    world, records, funds, django_assert_max_num_queries
):
    child = DependantFactory(member=world.member_b1, full_name="Đặng Minh Khoa")
    paid_case(
        world.member_b1, funds.social, 2_000_000, TODAY, SupportType.SAVINGS_BOOK,
        by=world.users["grassroots"], dependant=child,
    )  # fmt: skip
    SupportTally.objects.filter(year=YEAR).update(people=0, amount=1)
    with django_assert_max_num_queries(3):  # the lock, the old rows, the new ones
        tallies.recount_year(YEAR)
    assert tallies.differences(YEAR) == {}
    assert tallies.stored(YEAR) == tallies._compute_in_python(YEAR)


def test_children_are_counted_once_however_many_records_name_them(world, funds):
    child = DependantFactory(member=world.member_a1, full_name="Nguyễn Minh Khôi")
    by = world.users["grassroots"]
    for day in (1, 2):
        paid_case(
            world.member_a1,
            funds.social,
            3_000_000,
            datetime.date(YEAR, 5, day),
            SupportType.SAVINGS_BOOK,
            by=by,
            dependant=child,
        )
    row = SupportTally.objects.get(
        year=YEAR, unit=world.province, breakdown=Breakdown.TYPE, key=SupportType.SAVINGS_BOOK
    )
    assert (row.cases, row.people, row.children) == (2, 1, 1)
    assert_tallies_match()


# --- reading, rebuilding, checking ---------------------------------------------------------


def test_the_report_reads_the_tallies_only_for_a_subtree_seen_whole(world, records):
    leader = make_user("leader_a", Role.LEADER, world.commune_a)
    assert figures.basis(world.province, YEAR).whole
    assert figures.basis(world.commune_a, YEAR, leader).whole
    # Commune A's leader does not see commune B: the province is read from the records.
    assert not figures.basis(world.province, YEAR, leader).whole
    assert_report_reads_the_records(world.commune_a, YEAR, leader)


def test_rebuild_writes_the_same_rows_and_check_finds_a_wrong_one(world, records, capsys):
    kept = {year: tallies.stored(year) for year in tallies.years()}
    call_command("rebuild_tallies")
    call_command("rebuild_tallies")
    assert {year: tallies.stored(year) for year in tallies.years()} == kept
    call_command("rebuild_tallies", "--check")
    SupportTally.objects.filter(year=YEAR, unit=world.province, breakdown=Breakdown.TOTAL).update(
        people=99
    )
    with pytest.raises(CommandError):
        call_command("rebuild_tallies", "--check")
    call_command("rebuild_tallies", str(YEAR))
    assert_tallies_match()


@pytest.mark.postgres
def test_postgresql_counts_the_records_as_python_does(world, records, funds):
    child = DependantFactory(member=world.member_b1, full_name="Đặng Minh Khoa")
    paid_case(
        world.member_b1,
        funds.social,
        3_000_000,
        datetime.date(YEAR, 5, 1),
        SupportType.SCHOLARSHIP,
        by=world.users["grassroots"],
        dependant=child,
    )
    for year in tallies.years():
        assert tallies._compute_in_postgresql(year) == tallies._compute_in_python(year), year


# --- money raised ---------------------------------------------------------------------------


def test_contributions_and_their_reversals_are_counted_by_fund_and_campaign(world, funds):
    from welfare.campaigns import services as campaigns
    from welfare.funds.ledger import record_contribution, reverse_entry
    from welfare.models import DonorKind, RaisedYear

    treasurer = world.users["treasurer"]
    drive = campaigns.create_campaign(
        unit=world.province,
        name="Ủng hộ đồng bào bị lũ lụt",
        fund=funds.social,
        target=10_000_000,
        starts_on=datetime.date(YEAR, 1, 1),
        ends_on=datetime.date(YEAR, 12, 31),
        by=world.users["province"],
    )
    for number, amount in enumerate((1_000_000, 2_000_000, 4_000_000)):
        given = campaigns.record_campaign_contribution(
            campaign=drive,
            amount=amount,
            donor_kind=DonorKind.ENTERPRISE,
            donor_name="Công ty TNHH Minh Phát",
            received_on=TODAY,
            receipt_number=f"BN-{number}",
            collected_by=world.a1,
            by=treasurer,
        )
    reverse_entry(entry=given.entry, occurred_on=TODAY, reason="nhầm", by=treasurer)
    record_contribution(
        fund=funds.commune,
        amount=5_000_000,
        occurred_on=TODAY,
        source="—",
        by=world.users["commune_treasurer"],
    )
    kept = {
        (row.fund_id, row.campaign_id): (row.entries, row.amount)
        for row in RaisedYear.objects.filter(year=YEAR)
    }
    assert kept == {
        (funds.social.pk, drive.pk): (2, 3_000_000),
        (funds.commune.pk, None): (1, 5_000_000),
    }
    assert_tallies_match()
    for union in (world.province, world.commune_a):
        base, previous = figures.basis(union, YEAR), figures.basis(union, YEAR - 1)
        assert figures._contributions(YEAR, base, previous) == figures._contributions_in_ledger(
            YEAR, base, previous
        )
        assert figures._campaigns(YEAR, base, previous) == figures._campaigns_in_ledger(
            YEAR, base, previous
        )


def test_a_database_migrated_with_records_and_no_tallies_gets_them_after_migrate(world, records):
    from welfare.apps import count_missing_tallies

    kept = {year: tallies.stored(year) for year in tallies.years()}
    assert kept
    SupportTally.objects.all().delete()
    count_missing_tallies(using="default")
    assert {year: tallies.stored(year) for year in tallies.years()} == kept
    assert_tallies_match()
    # With tallies there, nothing is counted again.
    SupportTally.objects.filter(year=YEAR, unit=world.province, breakdown=Breakdown.TOTAL).update(
        people=99
    )
    count_missing_tallies(using="default")
    assert (
        SupportTally.objects.get(year=YEAR, unit=world.province, breakdown=Breakdown.TOTAL).people
        == 99
    )


def test_the_unit_page_shows_the_recount_a_move_set_off_until_it_is_done(
    client_for, world, records, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    admin = client_for("admin")
    with django_capture_on_commit_callbacks() as queued:
        response = admin.post(
            reverse("units:move", args=[world.b1.pk]),
            {"new_parent": world.commune_a.pk, "effective_on": TODAY.isoformat()},
        )
    assert response.status_code == 302 and len(queued) == 1
    recount = TallyRecount.objects.get()
    page = admin.get(reverse("units:detail", args=[world.b1.pk])).content.decode()
    status_url = reverse("reports:recount_status", args=[recount.pk])
    assert 'id="job-progress"' in page and status_url in page
    answer = admin.get(status_url)
    assert answer.status_code == 200, (answer.status_code, answer.get("Location"))
    assert answer.json() == {
        "status": "queued",
        "active": True,
        "progress": 0,
        "label": str(TallyRecount.Status.QUEUED.label),
    }
    # Who does not reorganise the tree neither sees it nor may ask for it.
    province = client_for("province")
    assert (
        'id="job-progress"'
        not in province.get(reverse("units:detail", args=[world.b1.pk])).content.decode()
    )
    assert province.get(status_url).status_code == 404
    tallies.run_recount(recount.pk)
    admin = client_for("admin")
    assert admin.get(status_url).json()["active"] is False
    page = admin.get(reverse("units:detail", args=[world.b1.pk])).content.decode()
    assert 'id="job-progress"' not in page
    assert_tallies_match()
