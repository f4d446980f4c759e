"""Each unit's membership by year, what the annual report adds up: kept by every write of the
members (``test_counters`` checks it after each of them), read by the report once a year is
counted for every unit, and counted for a new year by the daily task."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from members import counters
from members.models import MemberKind, MembershipYear, MembershipYearCounted, MemberStatus
from members.services import transfer_member, update_member
from unions.tree import merge_unit
from welfare.reports import figures
from welfare.tasks import count_membership_year

from ..factories import MemberFactory

pytestmark = pytest.mark.django_db


def assert_report_reads_the_records(world) -> None:
    year = timezone.localdate().year
    for union in (world.province, world.commune_a, world.commune_b):
        for counted in (year, year - 1):
            base = figures.basis(union, counted)
            assert MembershipYearCounted.objects.filter(year=counted).exists()
            assert figures._organisation(base, counted) == figures._organisation_from_records(
                base, counted
            ), (union, counted)


def test_the_report_reads_the_counts_after_every_kind_of_change(world):
    counters.rebuild_membership_years()
    assert_report_reads_the_records(world)
    today = timezone.localdate()
    MemberFactory(full_name="Lê Thị Mới", unit=world.a1)  # joins
    transfer_member(
        member=world.member_a1,
        to_unit=world.b1,
        effective_on=today.replace(month=1, day=15),
        by=world.users["admin"],
    )
    leaving = world.member_b1
    leaving.status = MemberStatus.LEFT
    leaving.left_on = today.replace(month=2, day=1)
    update_member(member=leaving, by=world.users["admin"])
    leaving.left_on = today.replace(year=today.year - 1, month=11, day=1)  # corrected
    update_member(member=leaving, by=world.users["admin"])
    worker = MemberFactory(full_name="Phạm Văn Thợ", unit=world.a2)
    worker.kind = MemberKind.WORKER
    update_member(member=worker, by=world.users["admin"])
    assert counters.membership_year_differences() == {}
    assert_report_reads_the_records(world)
    merge_unit(unit=world.a2, into=world.a1, effective_on=today, by=world.users["admin"])
    assert counters.membership_year_differences() == {}
    assert_report_reads_the_records(world)


def test_a_year_not_counted_for_every_unit_is_read_from_the_records(world):
    year = timezone.localdate().year
    MembershipYear.objects.update_or_create(year=year, unit=world.a1, defaults={"members": 1_000})
    base = figures.basis(world.province, year)
    assert figures._organisation(base, year) == figures._organisation_from_records(base, year)


def test_the_daily_task_counts_a_new_year_once(world):
    assert count_membership_year() is True
    years = set(MembershipYearCounted.objects.values_list("year", flat=True))
    assert timezone.localdate().year in years
    assert counters.membership_year_differences() == {}
    assert count_membership_year() is False
    # The first run of the next year counts it for every unit.
    MembershipYearCounted.objects.filter(year=timezone.localdate().year).delete()
    assert count_membership_year() is True


def test_a_membership_dated_long_ago_counts_in_each_year_since(world):
    member = MemberFactory(full_name="Võ Văn Cũ", unit=world.b1)
    first = member.memberships.get()
    first.valid_from = datetime.date(2020, 5, 1)
    first.save()
    rows = MembershipYear.objects.filter(unit=world.b1, year__gte=2020, year__lt=2021)
    assert rows.get().joined >= 1
    assert counters.membership_year_differences() == {}


@pytest.mark.postgres
def test_the_count_in_python_is_the_count_in_postgresql(world):
    """The demo's SQLite counts in Python by the same rule as PostgreSQL's query."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("compares with PostgreSQL's query")
    today = timezone.localdate()
    MemberFactory(full_name="Lê Thị Mới", unit=world.a1)
    transfer_member(
        member=world.member_a1,
        to_unit=world.b1,
        effective_on=today.replace(month=1, day=15),
        by=world.users["admin"],
    )
    counted = counters.membership_years()
    assert counted
    python = {
        key: tuple(values)
        for key, values in counters._membership_years_in_python(None, today).items()
    }
    assert {key: value[:3] for key, value in counted.items()} == {
        key: value[:3] for key, value in python.items() if any(value)
    }
