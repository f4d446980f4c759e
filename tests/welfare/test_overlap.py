"""Earlier support for the same person in the last 24 months, anywhere in the province."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from members.models import Member
from unions.models import UnitKind
from welfare.cases.overlap import WINDOW_DAYS, earlier_support
from welfare.models import Case, CaseStatus, Category, SupportType

from ..factories import MemberFactory

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def past_case(world, funds, member, *, days=100, status=CaseStatus.PAID, unit=None, **extra):
    """A case decided ``days`` ago, written directly: the check only reads what is recorded."""
    on = days_ago(days)
    submitted = timezone.now() - datetime.timedelta(days=days + 7)
    decided = status in (CaseStatus.APPROVED, CaseStatus.PAID)
    return Case.objects.create(
        unit=unit or member.unit,
        member=member,
        category=Category.ILLNESS,
        circumstances="—",
        support_type=extra.get("support_type", SupportType.GRANT),
        requested_amount=extra.get("amount", 3_000_000),
        approved_amount=extra.get("amount", 3_000_000) if decided else None,
        fund=extra.get("fund", funds.social),
        status=status,
        submitted_at=None if status == CaseStatus.DRAFT else submitted,
        approved_on=on if decided else None,
        paid_on=on if status == CaseStatus.PAID else None,
        created_by=world.users["grassroots"],
    )


def found(member, **kwargs) -> list[int]:
    return [row.case_id for row in earlier_support(member, **kwargs)]


def test_earlier_support_of_the_same_member_is_found_with_what_the_officer_may_see(world, funds):
    case = past_case(
        world, funds, world.member_a1, days=40, support_type=SupportType.VISIT, amount=1_500_000
    )
    [row] = earlier_support(world.member_a1)
    assert row.case_id == case.pk
    assert row.on == days_ago(40)
    assert row.level == UnitKind.GRASSROOTS.label
    assert (row.support_type, row.amount, row.status) == (
        SupportType.VISIT,
        1_500_000,
        CaseStatus.PAID,
    )


def test_support_given_at_another_level_is_found(world, funds):
    case = past_case(world, funds, world.member_a1, unit=world.commune_a, fund=funds.commune)
    [row] = earlier_support(world.member_a1)
    assert (row.case_id, row.level) == (case.pk, UnitKind.COMMUNE.label)


def test_support_follows_the_person_by_national_id_after_a_transfer(world, funds):
    member = world.member_a1
    case = past_case(world, funds, member, days=200)
    # Moved to a hospital union in the other commune: the same person, the same ID number.
    member.unit = world.b1
    member.save()
    assert found(member) == [case.pk]


def test_the_same_name_and_date_of_birth_on_another_record_is_found(world, funds):
    # Listed again at B1 as a worker with an old 9-digit ID card and without diacritics.
    again = MemberFactory(
        full_name="NGUYEN VAN  AN",
        date_of_birth=world.member_a1.date_of_birth,
        national_id="020123456",
        unit=world.b1,
        kind="worker",
    )
    case = past_case(world, funds, again, days=300)
    assert found(world.member_a1) == [case.pk]
    assert found(again) == [case.pk]


def test_the_same_name_with_another_date_of_birth_is_not_the_same_person(world, funds):
    namesake = MemberFactory(
        full_name="Nguyễn Văn An", date_of_birth=datetime.date(1990, 1, 1), unit=world.b1
    )
    past_case(world, funds, namesake)
    assert found(world.member_a1) == []


def test_support_older_than_24_months_is_not_shown(world, funds):
    past_case(world, funds, world.member_a1, days=WINDOW_DAYS + 30)
    recent = past_case(world, funds, world.member_a1, days=WINDOW_DAYS - 30)
    assert found(world.member_a1) == [recent.pk]


def test_a_payment_inside_the_window_counts_even_if_approved_before_it(world, funds):
    case = past_case(world, funds, world.member_a1, days=WINDOW_DAYS + 20)
    Case.objects.filter(pk=case.pk).update(paid_on=days_ago(WINDOW_DAYS - 10))
    [row] = earlier_support(world.member_a1)
    assert (row.case_id, row.on) == (case.pk, days_ago(WINDOW_DAYS - 10))


def test_support_in_another_province_is_not_shown(world, funds):
    twin = MemberFactory(
        full_name="Nguyễn Văn An", date_of_birth=world.member_a1.date_of_birth, unit=world.q1
    )
    past_case(world, funds, twin, fund=funds.other)
    assert found(world.member_a1) == []


def test_the_case_itself_is_left_out(world, make_case):
    case = make_case("submitted")
    assert found(world.member_a1) == [case.pk]
    assert found(world.member_a1, exclude_case=case) == []


def test_drafts_returned_and_rejected_cases_are_not_support(world, funds):
    for status in (CaseStatus.DRAFT, CaseStatus.RETURNED, CaseStatus.REJECTED):
        past_case(world, funds, world.member_a1, status=status)
    assert found(world.member_a1) == []


def test_cases_in_review_and_approved_ones_count(world, funds):
    submitted = past_case(world, funds, world.member_a1, status=CaseStatus.SUBMITTED)
    approved = past_case(world, funds, world.member_a1, status=CaseStatus.APPROVED, days=10)
    assert set(found(world.member_a1)) == {submitted.pk, approved.pk}


def test_the_check_is_one_query_on_the_persons_records_then_their_cases(
    world, funds, django_assert_num_queries
):
    """The person's records are found first (national ID, name and date of birth, the record
    itself), then only their cases are read: never the member join of every case."""
    past_case(world, funds, world.member_a1, days=30)
    member = Member.objects.select_related("unit").get(pk=world.member_a1.pk)
    with django_assert_num_queries(1) as captured:
        assert len(earlier_support(member)) == 1
    sql = captured.captured_queries[0]["sql"]
    assert '"member_id" IN (SELECT' in sql


def test_an_unidentified_worker_supported_at_one_union_is_found_at_another(world, funds):
    # Recorded without an ID number at B1, supported there; listed again at A1 (with diacritics
    # written differently) where a case is opened for them.
    at_b1 = MemberFactory(
        full_name="Lò Văn Thắng",
        date_of_birth=datetime.date(1996, 8, 20),
        national_id=None,
        unidentified=True,
        kind="worker",
        unit=world.b1,
    )
    case = past_case(world, funds, at_b1, days=60)
    at_a1 = MemberFactory(
        full_name="LO VAN THANG",
        date_of_birth=datetime.date(1996, 8, 20),
        national_id=None,
        unidentified=True,
        kind="worker",
        unit=world.a1,
    )
    assert found(at_a1) == [case.pk]


def test_unidentified_workers_are_not_one_person_for_lacking_a_number(world, funds):
    first = MemberFactory(
        full_name="Lò Văn Thắng", national_id=None, unidentified=True, kind="worker", unit=world.b1
    )
    past_case(world, funds, first)
    other = MemberFactory(
        full_name="Vàng A Páo", national_id=None, unidentified=True, kind="worker", unit=world.a1
    )
    assert found(other) == []
