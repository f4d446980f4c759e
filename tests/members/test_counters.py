"""Per-unit member counters: every write keeps them equal to a fresh count of the members
table, and the home page and the unit page read them within the reader's scope."""

from __future__ import annotations

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.imports import engine
from common.models import ImportJob
from members.counters import (
    membership_year_differences,
    rebuild_member_counts,
    refresh_member_counts,
)
from members.models import Member, MemberKind, MemberStatus, UnitMemberCount
from members.services import create_member, transfer_member, update_member
from unions.models import Unit
from unions.tree import dissolve_unit, merge_unit

from ..factories import MemberFactory, make_unit
from .test_imports import BIRTH, cccd, person, upload, xlsx

pytestmark = pytest.mark.django_db

TRANSFERRED_ON = datetime.date(2024, 3, 1)
REORGANISED_ON = datetime.date(2025, 7, 1)


def fresh_counts() -> dict[int, tuple[int, int, int]]:
    """What the counters must hold: a count of the members table, unit by unit."""
    rows = (
        Member.objects.filter(status=MemberStatus.ACTIVE)
        .values("unit")
        .annotate(
            members=Count("pk", filter=Q(kind=MemberKind.MEMBER)),
            workers=Count("pk", filter=Q(kind=MemberKind.WORKER)),
            women=Count("pk", filter=Q(sex="female")),
        )
        .order_by()
    )
    return {row["unit"]: (row["members"], row["workers"], row["women"]) for row in rows}


def stored_counts() -> dict[int, tuple[int, int, int]]:
    """The counters, leaving out units whose counts are all zero (as a fresh count does)."""
    return {
        row.unit_id: (row.members, row.workers, row.women)
        for row in UnitMemberCount.objects.all()
        if (row.members, row.workers, row.women) != (0, 0, 0)
    }


def assert_counters_match() -> None:
    """The unit counters, and each unit's membership by year (what the annual report adds
    up), are what the members and their memberships say."""
    assert stored_counts() == fresh_counts()
    assert membership_year_differences() == {}


# -- every write keeps the counters -----------------------------------------------------------


def test_the_world_fixture_is_counted(world):
    assert stored_counts() == {
        world.a1.pk: (1, 0, 0),
        world.b1.pk: (1, 0, 1),
        world.q1.pk: (1, 0, 0),
    }
    assert_counters_match()


def test_creating_a_member_counts_them(world):
    new = Member(
        full_name="Trần Thị Hoa",
        sex="female",
        date_of_birth=datetime.date(1990, 1, 2),
        national_id="020190000123",
        kind=MemberKind.WORKER,
        unit=world.a2,
    )
    create_member(member=new, by=world.users["commune"])
    assert stored_counts()[world.a2.pk] == (0, 1, 1)
    assert_counters_match()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("status", MemberStatus.LEFT, (0, 0, 0)),
        ("status", MemberStatus.DECEASED, (0, 0, 0)),
        ("kind", MemberKind.WORKER, (0, 1, 1)),
        ("sex", "male", (1, 0, 0)),
    ],
)
def test_changing_status_kind_or_sex_recounts(world, field, value, expected):
    member = Member.objects.get(pk=world.member_b1.pk)
    setattr(member, field, value)
    update_member(member=member, by=world.users["admin"])
    row = UnitMemberCount.objects.get(unit=world.b1)
    assert (row.members, row.workers, row.women) == expected
    assert_counters_match()


def test_a_member_back_to_active_is_counted_again(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.status = MemberStatus.LEFT
    update_member(member=member, by=world.users["admin"])
    member.status = MemberStatus.ACTIVE
    update_member(member=member, by=world.users["admin"])
    assert stored_counts()[world.a1.pk] == (1, 0, 0)
    assert_counters_match()


def test_editing_a_name_does_not_recount(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.full_name = "Nguyễn Văn Anh"
    with CaptureQueriesContext(connection) as queries:
        member.save()
    assert not [q for q in queries if UnitMemberCount._meta.db_table in q["sql"]]


def test_saving_a_member_loaded_without_its_unit_recounts_the_old_unit(world):
    member = Member.objects.only("pk", "full_name").get(pk=world.member_a1.pk)
    member.unit = world.a2
    member.save()
    assert world.a1.pk not in stored_counts()
    assert stored_counts()[world.a2.pk] == (1, 0, 0)
    assert_counters_match()


def test_the_edit_page_keeps_the_counters(client_for, world):
    member = world.member_a1
    response = client_for("grassroots").post(
        reverse("members:edit", args=[member.pk]),
        {
            "full_name": member.full_name,
            "sex": member.sex,
            "date_of_birth": member.date_of_birth.isoformat(),
            "national_id": member.national_id,
            "kind": MemberKind.MEMBER,
            "union_card_number": member.union_card_number,
            "joined_on": member.joined_on.isoformat(),
            "status": MemberStatus.LEFT,
            "left_on": "2024-06-30",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert world.a1.pk not in stored_counts()
    assert_counters_match()


def test_transfer_moves_the_count_between_units(world):
    transfer_member(
        member=world.member_a1,
        to_unit=world.b1,
        effective_on=TRANSFERRED_ON,
        by=world.users["admin"],
    )
    counts = stored_counts()
    assert world.a1.pk not in counts
    assert counts[world.b1.pk] == (2, 0, 1)
    assert_counters_match()


def test_merge_hands_the_counts_to_the_successor(world):
    MemberFactory(full_name="Phạm Thị Lan", sex="female", unit=world.a1)
    MemberFactory(full_name="Vũ Văn Nam", unit=world.a1, status=MemberStatus.LEFT)
    merge_unit(unit=world.a1, into=world.a2, effective_on=REORGANISED_ON, by=world.users["admin"])
    counts = stored_counts()
    assert world.a1.pk not in counts
    assert counts[world.a2.pk] == (2, 0, 1)
    assert_counters_match()


def test_dissolving_an_empty_unit_leaves_the_counts_alone(world):
    dissolve_unit(unit=world.a2, effective_on=REORGANISED_ON, by=world.users["admin"])
    assert_counters_match()


def test_deleting_a_member_uncounts_them(world):
    Member.objects.filter(pk=world.member_b1.pk).delete()
    assert world.b1.pk not in stored_counts()
    assert_counters_match()


def test_an_import_counts_new_and_updated_people(world):
    member = MemberFactory(full_name="Hoàng Văn Minh", unit=world.a1, date_of_birth=BIRTH)
    rows = [
        person(51, name="Lý Thị Mai", sex="Nữ", id=cccd(51, sex="female")),
        person(52, kind="Người lao động"),
        person(53, id=member.national_id, kind="Người lao động"),
    ]
    job = engine.start_import(
        kind=ImportJob.Kind.MEMBERS,
        unit=world.a1,
        upload=upload(xlsx(rows)),
        by=world.users["grassroots"],
    )
    job = engine.confirm_import(job=job, by=world.users["grassroots"])
    job.refresh_from_db()
    assert (job.status, job.to_create, job.to_update) == (ImportJob.Status.DONE, 2, 1)
    # world's An and Mai are members; the new worker and Minh, now a worker, are workers.
    assert stored_counts()[world.a1.pk] == (2, 2, 1)
    assert_counters_match()


def test_seed_demo_counts_every_unit(db):
    call_command("seed_demo", stdout=io.StringIO())
    assert len(stored_counts()) > 10
    assert_counters_match()


def test_seed_scale_counts_every_unit(db):
    call_command("seed_scale", members=150, units=10, years=1, seed=5, stdout=io.StringIO())
    assert len(stored_counts()) >= 10
    assert_counters_match()


def test_recount_repairs_counters_and_refresh_recounts_rather_than_adds(world):
    UnitMemberCount.objects.all().update(members=99, workers=7, women=3)
    refresh_member_counts([world.a1.pk])
    assert stored_counts()[world.a1.pk] == (1, 0, 0)
    out = io.StringIO()
    call_command("recount_members", stdout=out)
    assert "3 units" in out.getvalue()
    assert_counters_match()
    assert rebuild_member_counts() == 3


# -- the pages read them ----------------------------------------------------------------------


def _populate(world) -> None:
    """A few more people in both communes, of every kind."""
    MemberFactory(full_name="Lý Thị Mai", sex="female", unit=world.a2)
    MemberFactory(full_name="Hà Văn Tú", kind=MemberKind.WORKER, unit=world.a2)
    MemberFactory(full_name="Lò Thị Ngọc", sex="female", kind=MemberKind.WORKER, unit=world.b1)
    MemberFactory(full_name="Mông Văn Sơn", unit=world.b1, status=MemberStatus.LEFT)


def test_home_shows_the_real_counts_of_the_readers_scope_only(client_for, world):
    _populate(world)
    commune = client_for("commune").get(reverse("home")).context["member_counts"]
    # Commune A: An at A1, Mai and the worker Tú at A2; nothing of commune B nor of Q.
    assert commune == {"members": 2, "workers": 1, "women": 1}
    province = client_for("province").get(reverse("home")).context["member_counts"]
    real = Member.objects.filter(unit__path__startswith=world.province.path, status="active")
    assert province == {
        "members": real.filter(kind=MemberKind.MEMBER).count(),
        "workers": real.filter(kind=MemberKind.WORKER).count(),
        "women": real.filter(sex="female").count(),
    }
    assert province == {"members": 3, "workers": 2, "women": 3}


def test_home_queries_do_not_grow_with_members(client_for, world, django_assert_num_queries):
    client = client_for("province")
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("home"))
    for number in range(30):
        MemberFactory(full_name=f"Người thứ {number}", unit=world.a1 if number % 2 else world.b1)
    with django_assert_num_queries(len(before)):
        response = client.get(reverse("home"))
    assert response.context["member_counts"]["members"] == 32


def test_unit_page_counts_its_subtree_and_itself(client_for, world):
    _populate(world)
    response = client_for("commune").get(reverse("units:detail", args=[world.commune_a.pk]))
    assert response.context["member_counts"] == {"active": 3, "here": 0}
    response = client_for("commune").get(reverse("units:detail", args=[world.a2.pk]))
    assert response.context["member_counts"] == {"active": 2, "here": 2}
    province = client_for("province").get(reverse("units:detail", args=[world.province.pk]))
    assert (
        province.context["member_counts"]["active"]
        == Member.objects.filter(
            unit__in=Unit.objects.in_subtree_of(world.province), status="active"
        ).count()
    )


def test_a_new_unit_without_members_shows_zero(client_for, world):
    empty = make_unit("CĐCS Mới", parent=world.commune_a, code="P-A-9")
    response = client_for("commune").get(reverse("units:detail", args=[empty.pk]))
    assert response.context["member_counts"] == {"active": 0, "here": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_to_one_unit_lose_no_count(world):
    """Two transactions add a member to the same unit at the same time: the second recount
    waits for the first to commit and then sees its member, instead of overwriting it."""
    first_saved, first_may_commit = threading.Event(), threading.Event()
    errors = []

    def add(name: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                MemberFactory(full_name=name, unit=world.a2)
                if hold:
                    first_saved.set()
                    first_may_commit.wait(10)
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    first = threading.Thread(target=add, args=("Người thứ nhất", True))
    first.start()
    assert first_saved.wait(10)
    second = threading.Thread(target=add, args=("Người thứ hai", False))
    second.start()
    second.join(0.5)  # blocked on the unit's lock while the first is open
    assert second.is_alive()
    first_may_commit.set()
    first.join(10)
    second.join(10)
    assert not errors
    assert stored_counts()[world.a2.pk] == (2, 0, 0)
    assert_counters_match()
