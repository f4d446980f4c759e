"""Programs and batches through the services: budgets, the chain, payment, earlier support."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import translation

from welfare.cases import rules
from welfare.cases.approvals import timeline
from welfare.cases.models import Case, CaseEvent, CaseStatus, SupportType
from welfare.funds.ledger import AlreadyRecorded
from welfare.funds.models import EntryKind, Fund, LedgerEntry
from welfare.programs import services
from welfare.programs.models import Batch, BatchLine, LineStatus, Participant, Program, Unpaid
from welfare.reports.figures import annual_figures

from .conftest import YEAR, reload

pytestmark = pytest.mark.django_db


def _fund(funds) -> Fund:
    return Fund.objects.get(pk=funds.social.pk)


def test_people_are_listed_at_the_highest_standard_amount_that_fits(world, make_batch, people):
    batch = make_batch(members=people)
    amounts = dict(BatchLine.objects.filter(batch=batch).values_list("member_id", "amount"))
    assert amounts[people[0].pk] == 1_000_000  # poor household
    assert {amounts[p.pk] for p in people[1:]} == {500_000}
    assert services.batch_total(batch) == (4, 2_500_000)


def test_a_batch_over_the_remaining_budget_is_refused_by_how_much(world, funds, make_batch, people):
    make_batch(unit=world.b1, state="approved")  # 500.000 of the 3.000.000 budget
    batch = make_batch(members=people, state="submitted")  # 2.500.000
    tet = batch.program
    tet.budget = 2_900_000
    tet.save()
    with pytest.raises(ValidationError) as refused:
        services.approve_batch(batch=batch, by=world.users["province"])
    # 2.900.000 - 500.000 = 2.400.000 remaining; the batch asks 2.500.000
    assert "100.000 ₫" in refused.value.messages[0]
    assert "2.400.000 ₫" in refused.value.messages[0]
    assert reload(batch).status == CaseStatus.SUBMITTED
    assert _fund(funds).reserved == 500_000
    assert not Case.objects.filter(batch=batch).exists()


def test_a_batch_the_fund_cannot_cover_is_refused_by_how_much(world, funds, make_batch, people):
    batch = make_batch(members=people, state="submitted")  # 2.500.000
    Fund.objects.filter(pk=funds.social.pk).update(reserved=98_000_000)  # 2.000.000 available
    with pytest.raises(ValidationError) as refused:
        services.approve_batch(batch=batch, by=world.users["province"])
    assert "500.000 ₫" in refused.value.messages[0]
    assert reload(batch).status == CaseStatus.SUBMITTED


def test_partial_approval_takes_people_out_with_their_reason(world, funds, make_batch, people):
    batch = make_batch(members=people, state="submitted")
    out = BatchLine.objects.get(batch=batch, member=people[0])
    batch = services.approve_batch(
        batch=batch, by=world.users["province"], take_out={out.pk: "Đã nhận ở xã"}
    )
    assert batch.status == CaseStatus.APPROVED and batch.approved_amount == 1_500_000
    assert _fund(funds).reserved == 1_500_000  # reserved once, for the people left
    out.refresh_from_db()
    assert (out.status, out.reason) == (LineStatus.TAKEN_OUT, "Đã nhận ở xã")
    records = Case.objects.filter(batch=batch)
    assert records.count() == 3
    assert set(records.values_list("status", "approved_amount", "program_id")) == {
        (CaseStatus.APPROVED, 500_000, batch.program_id)
    }
    assert not records.filter(member=people[0]).exists()
    # No step per person: each record's timeline is its list's, with its own amount.
    assert not CaseEvent.objects.filter(case__batch=batch).exists()
    steps = timeline(records.select_related("batch").first())
    assert [(step.action, step.amount, step.for_list) for step in steps][-1] == (
        "approved",
        500_000,
        True,
    )


def test_a_reason_is_needed_to_take_someone_out(world, make_batch, people):
    batch = make_batch(members=people, state="submitted")
    line = BatchLine.objects.filter(batch=batch).first()
    with pytest.raises(ValidationError):
        services.approve_batch(batch=batch, by=world.users["province"], take_out={line.pk: " "})


def test_payment_with_exceptions_returns_their_reserve(world, funds, make_batch, people):
    batch = make_batch(members=people, state="approved")  # 2.500.000 reserved
    lines = {line.member_id: line for line in BatchLine.objects.filter(batch=batch)}
    unpaid = {lines[people[0].pk].pk: Unpaid.MOVED_AWAY, lines[people[1].pk].pk: Unpaid.REFUSED}
    before = _fund(funds)
    batch = services.record_batch_payment(
        batch=batch,
        by=world.users["treasurer"],
        paid_on=datetime.date.today(),
        receipt_reference="PC-01",
        unpaid=unpaid,
    )
    fund = _fund(funds)
    assert fund.reserved == 0
    assert fund.balance == before.balance - 1_000_000  # two members at 500.000 paid
    entries = LedgerEntry.objects.filter(fund=fund, kind=EntryKind.DISBURSEMENT)
    assert list(entries.values_list("amount", flat=True)) == [-1_000_000]  # one entry
    assert batch.payment_entry == entries.get() and batch.paid_amount == 1_000_000
    saved = Batch.objects.get(pk=batch.pk)
    assert (saved.payment_entry_id, saved.paid_amount, saved.records) == (
        entries.get().pk,
        1_000_000,
        2,
    )
    statuses = dict(Case.objects.filter(batch=batch).values_list("member_id", "status"))
    assert statuses[people[0].pk] == statuses[people[1].pk] == CaseStatus.REJECTED
    assert statuses[people[2].pk] == statuses[people[3].pk] == CaseStatus.PAID
    line = BatchLine.objects.get(pk=lines[people[0].pk].pk)
    assert (line.status, line.exception) == (LineStatus.NOT_PAID, Unpaid.MOVED_AWAY)
    program = Program.objects.get(pk=batch.program_id)  # kept as the records say
    assert (program.committed, program.paid, program.records) == (1_000_000, 1_000_000, 2)
    assert services.kept_figures(program) == (1_000_000, 1_000_000, 2)
    # The person not paid: the list's approval, then their own step, never the list's payment.
    moved = Case.objects.select_related("batch").get(batch=batch, member=people[0])
    assert [(step.action, getattr(step, "for_list", False)) for step in timeline(moved)][-2:] == [
        ("approved", True),
        ("rejected", False),
    ]
    paid = Case.objects.select_related("batch").get(batch=batch, member=people[2])
    assert [step.action for step in timeline(paid)][-2:] == ["approved", "paid"]


def test_a_second_payment_click_records_nothing(world, funds, make_batch):
    batch = make_batch(state="approved")
    token = uuid.uuid4().hex
    pay = dict(
        by=world.users["treasurer"],
        paid_on=datetime.date.today(),
        receipt_reference="PC-02",
        submission=token,
    )
    services.record_batch_payment(batch=batch, **pay)
    balance = _fund(funds).balance
    with pytest.raises(AlreadyRecorded):
        services.record_batch_payment(batch=batch, **pay)
    assert _fund(funds).balance == balance
    assert LedgerEntry.objects.filter(fund=funds.social, kind=EntryKind.DISBURSEMENT).count() == 1


def test_only_the_funds_treasurer_pays_and_outsiders_find_nothing(world, make_batch):
    batch = make_batch(state="approved")
    with pytest.raises(Http404):
        services.record_batch_payment(
            batch=batch,
            by=world.users["q_treasurer"],
            paid_on=datetime.date.today(),
            receipt_reference="X",
        )
    with pytest.raises(Http404):
        services.start_batch(
            participant=Participant.objects.get(program=batch.program, unit=world.a1),
            by=world.users["outsider"],
        )


def test_a_batch_record_is_never_paid_on_its_own(world, make_batch):
    from welfare.cases import rules

    batch = make_batch(state="approved")
    record = Case.objects.get(batch=batch)
    assert not rules.decide(world.users["treasurer"], record, "pay").allowed


def test_earlier_support_against_a_single_case(world, make_batch, make_case, funds):
    case = make_case("approved")
    Case.objects.filter(pk=case.pk).update(support_type=SupportType.TET_GIFT)
    batch = make_batch()
    found = services.earlier_support(batch)
    assert [(row.case_id, row.program) for row in found[world.member_a1.pk]] == [(case.pk, "")]


def test_earlier_support_against_another_program(world, funds, make_batch):
    other = services.create_program(
        unit=world.commune_a,
        name="Quà Tết phường A",
        support_type=SupportType.TET_GIFT,
        fund=funds.commune,
        year=YEAR,
        budget=1_000_000,
        by=world.users["commune"],
    )
    participant = services.add_participant(program=other, unit=world.a1, by=world.users["commune"])
    first = services.start_batch(participant=participant, by=world.users["grassroots"])
    services.add_people(
        batch=first,
        members=type(world.member_a1).objects.filter(pk=world.member_a1.pk),
        amount=300_000,
        by=world.users["grassroots"],
    )
    services.submit_batch(batch=first, by=world.users["grassroots"])
    services.approve_batch(batch=first, by=world.users["commune"])
    batch = make_batch()
    found = services.earlier_support(batch)
    [row] = found[world.member_a1.pk]
    assert (row.program, row.amount, row.status) == ("Quà Tết phường A", 300_000, "approved")


def test_the_report_counts_batch_records_once_per_person_and_turn(world, tet, make_batch, people):
    Program.objects.filter(pk=tet.pk).update(budget=10_000_000)
    make_batch(members=[world.member_a1, *people], state="paid")
    make_batch(unit=world.b1, state="paid")
    figures = annual_figures(world.province, YEAR)
    assert figures.totals.cases == figures.totals.turns == 6
    assert figures.totals.people == 6
    assert figures.totals.amount == 3_500_000
    by_type = {row.key: (row.cases, row.amount) for row in figures.by_type}
    assert by_type["tet_gift"] == (6, 3_500_000)


def test_the_same_person_in_two_programs_counts_once_and_twice_as_turns(world, funds, make_batch):
    make_batch(state="paid")
    other = services.create_program(
        unit=world.commune_a,
        name="Quà Tết phường A",
        support_type=SupportType.TET_GIFT,
        fund=funds.commune,
        year=YEAR,
        budget=1_000_000,
        by=world.users["commune"],
    )
    participant = services.add_participant(program=other, unit=world.a1, by=world.users["commune"])
    batch = services.start_batch(participant=participant, by=world.users["grassroots"])
    services.add_people(
        batch=batch,
        members=type(world.member_a1).objects.filter(pk=world.member_a1.pk),
        amount=300_000,
        by=world.users["grassroots"],
    )
    services.submit_batch(batch=batch, by=world.users["grassroots"])
    services.approve_batch(batch=batch, by=world.users["commune"])
    services.record_batch_payment(
        batch=batch,
        by=world.users["commune_treasurer"],
        paid_on=datetime.date.today(),
        receipt_reference="PC-P-A",
    )
    figures = annual_figures(world.province, YEAR)
    assert (figures.totals.people, figures.totals.turns) == (1, 2)
    assert figures.totals.amount == 800_000


def test_a_copy_for_next_year_keeps_levels_and_units(world, tet):
    copy = services.copy_program(program=tet, year=YEAR + 1, by=world.users["province"])
    assert copy.name == f"Tết Sum vầy {YEAR + 1}" and copy.copied_from == tet
    assert list(copy.levels.values_list("label", "amount")) == [
        ("Đoàn viên", 500_000),
        ("Hộ nghèo", 1_000_000),
    ]
    assert set(copy.participants.values_list("unit_id", flat=True)) == {world.a1.pk, world.b1.pk}
    assert not copy.batches.exists()
    assert Program.objects.count() == 2


def test_a_quota_over_is_refused_by_how_much(world, tet, make_batch, people):
    Participant.objects.filter(program=tet, unit=world.a1).update(quota_amount=2_000_000)
    batch = make_batch(members=people)
    with pytest.raises(ValidationError) as refused:
        services.submit_batch(batch=batch, by=world.users["grassroots"])
    assert "500.000 ₫" in refused.value.messages[0]


def test_a_refusal_speaks_of_the_batch_not_of_a_case(world, make_batch):
    batch = make_batch(state="submitted")
    # the officer who built it may not change it any more, and is told so about a batch
    with pytest.raises(ValidationError) as refused:
        services.submit_batch(batch=batch, by=world.users["grassroots"])
    message = refused.value.messages[0].lower()
    assert "danh sách" in message and "hồ sơ" not in message
    with translation.override("en"):
        english = str(rules.decide(world.users["grassroots"], batch, "submit").reason)
    assert "batch" in english and "case" not in english


# --- savings books and scholarships: a line for each child --------------------------------------


@pytest.fixture
def scholarship(world, funds):
    program = services.create_program(
        unit=world.province,
        name=f"Học bổng Nguyễn Đức Cảnh {YEAR}",
        support_type=SupportType.SCHOLARSHIP,
        fund=funds.social,
        year=YEAR,
        budget=10_000_000,
        by=world.users["province"],
    )
    services.add_participant(program=program, unit=world.a1, by=world.users["province"])
    return program


def _children(member, born_years):
    from members.models import Dependant

    Dependant.objects.filter(member=member).delete()
    return [
        Dependant.objects.create(
            member=member, full_name=f"Con {n}", sex="female", date_of_birth=datetime.date(y, 3, 1)
        )
        for n, y in enumerate(born_years)
    ]


def test_a_scholarship_lists_each_child_of_school_age_and_its_record_names_the_child(
    world, scholarship, people
):
    from members.models import Member

    # 18, 6, 5 and 19 in the program's year: the first two are of school age.
    eighteen, six, _five, _nineteen = _children(
        people[0], [YEAR - 18, YEAR - 6, YEAR - 5, YEAR - 19]
    )
    _children(people[1], [YEAR - 4])  # no child of school age: not listed
    officer = world.users["grassroots"]
    batch = services.start_batch(
        participant=Participant.objects.get(program=scholarship, unit=world.a1), by=officer
    )
    listed = services.add_people(
        batch=batch,
        members=Member.objects.filter(pk__in=[people[0].pk, people[1].pk]),
        amount=1_500_000,
        by=officer,
    )
    assert listed == 2
    lines = BatchLine.objects.filter(batch=batch).order_by("dependant__date_of_birth")
    assert [(line.member_id, line.dependant_id) for line in lines] == [
        (people[0].pk, eighteen.pk),
        (people[0].pk, six.pk),
    ]
    # Listing the member again adds no child twice.
    again = services.add_people(
        batch=batch, members=Member.objects.filter(pk=people[0].pk), amount=1_500_000, by=officer
    )
    assert again == 0
    batch = services.submit_batch(batch=batch, by=officer)
    batch = services.endorse_batch(batch=batch, by=world.users["commune"])
    services.approve_batch(batch=batch, by=world.users["province"])
    records = Case.objects.filter(batch=batch).order_by("dependant__date_of_birth")
    assert [(c.member_id, c.dependant_id) for c in records] == [
        (people[0].pk, eighteen.pk),
        (people[0].pk, six.pk),
    ]
    # The member signs for each child on the signature list, the child named.
    from welfare.programs import signature_lists

    batch.refresh_from_db()
    rows = [(row.name, row.child) for row in signature_lists._rows(batch)]
    assert rows == [(people[0].full_name, "Con 0"), (people[0].full_name, "Con 1")]


def test_the_database_keeps_one_line_per_child_and_per_person(world, scholarship, make_batch):
    from django.db import IntegrityError, transaction

    [child] = _children(world.member_a1, [YEAR - 10])
    batch = services.start_batch(
        participant=Participant.objects.get(program=scholarship, unit=world.a1),
        by=world.users["grassroots"],
    )
    BatchLine.objects.create(
        batch=batch, member=world.member_a1, dependant=child, unit=world.a1, amount=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchLine.objects.create(
            batch=batch, member=world.member_a1, dependant=child, unit=world.a1, amount=1
        )
    tet = make_batch()  # lists A1's member without a child
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchLine.objects.create(batch=tet, member=world.member_a1, unit=world.a1, amount=1)


def test_listing_nobody_lists_nobody(world, make_batch):
    """An imported list whose rows were all refused confirms with nobody to add."""
    from members.models import Member

    batch = make_batch()
    before = BatchLine.objects.filter(batch=batch).count()
    for nobody in (Member.objects.none(), Member.objects.filter(pk__in=[])):
        assert services.add_people(batch=batch, members=nobody, by=world.users["grassroots"]) == 0
    assert BatchLine.objects.filter(batch=batch).count() == before
