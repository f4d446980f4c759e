"""``Case.unlisted``: the paid records whose person had no membership at the record's unit in
the year paid, kept by the paying path and by every write of the memberships, and the
report's "people without a membership" read through them, checked against the records."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from members.models import Membership
from members.services import transfer_member
from welfare.models import Case
from welfare.reports import figures, unlisted

from ..factories import MemberFactory
from .conftest import paid_case

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def from_the_records(union, year) -> int:
    """The people without a membership by the report's definition, over every paid record."""
    base = figures.basis(union, year)
    listed = Membership.objects.filter(
        member_id=OuterRef("member_id"), unit_id__in=base.units, valid_from__lte=base.as_of
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=datetime.date(year, 1, 1)))
    found = (
        figures._paid(year, base.units)
        .filter(~Exists(listed))
        .aggregate(people=Count("member_id", distinct=True))
    )
    return found["people"]


def assert_reads_the_records(world, year=TODAY.year) -> None:
    assert unlisted.differences() == []
    for union in (world.province, world.commune_a, world.commune_b):
        base = figures.basis(union, year)
        assert figures._people_without_membership(base, year) == from_the_records(union, year)


def test_a_record_paid_at_the_persons_own_union_is_not_flagged(world, funds):
    case = paid_case(world.member_a1, funds.social, 1_000_000, TODAY, by=world.users["grassroots"])
    case.refresh_from_db()
    assert not case.unlisted
    assert_reads_the_records(world)


def test_a_person_paid_elsewhere_then_moved_there_is_flagged_then_not(world, funds):
    member = MemberFactory(full_name="Trịnh Văn Khách", unit=world.b1)
    case = paid_case(member, funds.social, 1_000_000, TODAY, by=world.users["grassroots"])
    Case.objects.filter(pk=case.pk).update(unit=world.a1)  # paid at A1, listed at B1
    unlisted.mark_cases([case.pk])
    case.refresh_from_db()
    assert case.unlisted
    assert_reads_the_records(world)
    assert (
        figures._people_without_membership(figures.basis(world.commune_a, TODAY.year), TODAY.year)
        == 1
    )
    # Listed at A1 from this year on: the record is no longer flagged, and A's report no
    # longer counts them.
    transfer_member(
        member=member,
        to_unit=world.a1,
        effective_on=TODAY.replace(month=1, day=2),
        by=world.users["admin"],
    )
    case.refresh_from_db()
    assert not case.unlisted
    assert_reads_the_records(world)


def test_leaving_before_the_year_flags_the_years_records(world, funds):
    member = MemberFactory(
        full_name="Lò Văn Đi", unit=world.a1, joined_on=datetime.date(2015, 1, 1)
    )
    case = paid_case(member, funds.social, 1_000_000, TODAY, by=world.users["grassroots"])
    opened = member.memberships.get()
    opened.valid_to = datetime.date(TODAY.year - 1, 6, 30)
    opened.save()  # one membership written alone: its unit's records again
    case.refresh_from_db()
    assert case.unlisted
    assert_reads_the_records(world)
    assert_reads_the_records(world, TODAY.year - 1)


def test_rebuild_sets_every_flag_again(world, funds):
    case = paid_case(world.member_a1, funds.social, 1_000_000, TODAY, by=world.users["grassroots"])
    Case.objects.filter(pk=case.pk).update(unlisted=True)
    assert unlisted.differences() == [case.pk]
    assert unlisted.rebuild() == 1
    assert_reads_the_records(world)


@pytest.mark.postgres
def test_the_flags_in_python_are_the_flags_in_postgresql(world, funds):
    """The demo's SQLite flags in Python by the same rule as PostgreSQL's statement."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("compares with PostgreSQL's statement")
    member = MemberFactory(full_name="Trịnh Văn Khách", unit=world.b1)
    moved = paid_case(member, funds.social, 1_000_000, TODAY, by=world.users["grassroots"])
    Case.objects.filter(pk=moved.pk).update(unit=world.a1)  # paid at A1, listed at B1
    paid_case(world.member_a1, funds.social, 1_000_000, TODAY, by=world.users["grassroots"])
    unlisted.rebuild()
    flags = unlisted.flags_in_python(Case.objects.all(), Membership.objects.all(), TODAY)
    due = {pk: flag for pk, (_now, flag) in flags.items()}
    assert due[moved.pk] and not all(due.values())
    assert due == dict(Case.objects.filter(pk__in=due).values_list("pk", "unlisted"))
