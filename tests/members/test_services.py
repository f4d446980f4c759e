"""Writes on members: registering a member and transferring them between grassroots unions."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import override

from members.models import Dependant, Member, Membership, MemberStatus
from members.services import (
    create_member,
    delete_dependant,
    save_dependant,
    transfer_member,
    update_member,
)
from tests.factories import MemberFactory, make_unit, system_user
from unions.models import Unit, UnitKind
from unions.tree import dissolve_unit

TRANSFERRED_ON = datetime.date(2024, 3, 1)
JOINED_ON = datetime.date(2010, 5, 1)  # the world's members joined then


def _memberships(member: Member) -> list[tuple]:
    return list(
        Membership.objects.filter(member=member)
        .order_by("valid_from", "id")
        .values_list("unit_id", "valid_from", "valid_to", "reason")
    )


def _member_snapshot(member: Member):
    fresh = Member.objects.get(pk=member.pk)
    return fresh.unit_id, fresh.status, _memberships(member), fresh.history.count()


def _refusal(member: Member, **kwargs) -> ValidationError:
    before = _member_snapshot(member)
    kwargs = {"effective_on": TRANSFERRED_ON, "by": system_user(), **kwargs}
    with override("en"), pytest.raises(ValidationError) as refused:
        transfer_member(member=member, **kwargs)
    assert _member_snapshot(member) == before
    return refused.value


# Transfer -----------------------------------------------------------------------------------


def test_transfer_closes_the_old_membership_and_opens_a_new_one(world):
    staff = world.users["commune"]

    transfer_member(
        member=world.member_a1,
        to_unit=world.a2,
        effective_on=TRANSFERRED_ON,
        by=staff,
        note="Chuyển công tác",
    )

    member = Member.objects.get(pk=world.member_a1.pk)
    assert member.unit == world.a2
    assert _memberships(member) == [
        (world.a1.pk, JOINED_ON, TRANSFERRED_ON, Membership.Reason.JOINED),
        (world.a2.pk, TRANSFERRED_ON, None, Membership.Reason.TRANSFER),
    ]
    opened = member.memberships.get(valid_to__isnull=True)
    assert opened.by == staff
    assert opened.note == "Chuyển công tác"


def test_transfer_is_in_the_members_history_with_who_did_it(world):
    staff = world.users["commune"]

    transfer_member(member=world.member_a1, to_unit=world.a2, effective_on=TRANSFERRED_ON, by=staff)

    latest = Member.objects.get(pk=world.member_a1.pk).history.latest()
    assert latest.history_user == staff
    assert latest.unit_id == world.a2.pk
    assert latest.prev_record.unit_id == world.a1.pk


def test_transferred_member_leaves_the_old_officers_scope_and_enters_the_new(world):
    officer_a1 = world.users["grassroots"]
    staff_a = world.users["commune"]

    transfer_member(
        member=world.member_a1,
        to_unit=world.b1,
        effective_on=TRANSFERRED_ON,
        by=world.users["admin"],
    )

    assert not Member.objects.visible_to(officer_a1).filter(pk=world.member_a1.pk).exists()
    assert not Member.objects.visible_to(staff_a).filter(pk=world.member_a1.pk).exists()
    assert Member.objects.visible_to(world.users["province"]).filter(pk=world.member_a1.pk).exists()


def test_successive_transfers_keep_every_stint(world):
    transfer_member(
        member=world.member_a1,
        to_unit=world.a2,
        effective_on=TRANSFERRED_ON,
        by=world.users["admin"],
    )
    later = datetime.date(2025, 1, 15)
    transfer_member(
        member=world.member_a1, to_unit=world.b1, effective_on=later, by=world.users["admin"]
    )

    assert _memberships(world.member_a1) == [
        (world.a1.pk, JOINED_ON, TRANSFERRED_ON, Membership.Reason.JOINED),
        (world.a2.pk, TRANSFERRED_ON, later, Membership.Reason.TRANSFER),
        (world.b1.pk, later, None, Membership.Reason.TRANSFER),
    ]


def test_member_cannot_be_transferred_to_a_union_that_is_not_grassroots(world):
    error = _refusal(world.member_a1, to_unit=world.commune_b)
    assert "to_unit" in error.message_dict


def test_member_cannot_be_transferred_to_the_union_they_are_in(world):
    error = _refusal(world.member_a1, to_unit=world.a1)
    assert "already" in error.message_dict["to_unit"][0]


def test_member_cannot_be_transferred_to_a_closed_union(world):
    closed = make_unit("CĐCS Công ty đã giải thể", parent=world.commune_a)
    dissolve_unit(unit=closed, effective_on=datetime.date(2024, 1, 1), by=world.users["admin"])
    closed = Unit.objects.get(pk=closed.pk)

    error = _refusal(world.member_a1, to_unit=closed)
    assert "to_unit" in error.message_dict


def test_member_cannot_be_transferred_to_a_union_closed_since_it_was_chosen(world):
    """The union was picked from the form's list, then dissolved before the transfer ran: the
    service must look at the union as it is now, not as the caller loaded it."""
    chosen = Unit.objects.get(pk=world.a2.pk)
    dissolve_unit(unit=world.a2, effective_on=datetime.date(2024, 1, 1), by=world.users["admin"])

    error = _refusal(world.member_a1, to_unit=chosen)
    assert "to_unit" in error.message_dict
    assert not Member.objects.filter(unit=world.a2).exists()


def test_transfer_cannot_take_effect_in_the_future(world):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    error = _refusal(world.member_a1, to_unit=world.a2, effective_on=tomorrow)
    assert "future" in error.message_dict["effective_on"][0]


def test_transfer_cannot_take_effect_before_the_current_membership_began(world):
    day_before_joining = JOINED_ON - datetime.timedelta(days=1)
    error = _refusal(world.member_a1, to_unit=world.a2, effective_on=day_before_joining)
    assert "01/05/2010" in error.message_dict["effective_on"][0]


@pytest.mark.parametrize(
    "status", [MemberStatus.LEFT, MemberStatus.DECEASED, MemberStatus.TRANSFERRED]
)
def test_only_an_active_member_can_be_transferred(world, status):
    member = MemberFactory(full_name="Phạm Văn Tâm", unit=world.a1, status=status)
    error = _refusal(member, to_unit=world.a2)
    assert "active member" in error.messages[0]


# Create -------------------------------------------------------------------------------------


def test_registering_a_member_opens_their_first_membership(world):
    officer = world.users["grassroots"]
    member = MemberFactory.build(
        full_name="Hà Thị Thu", sex="female", unit=world.a1, joined_on=datetime.date(2020, 2, 2)
    )

    create_member(member=member, by=officer)

    assert _memberships(member) == [
        (world.a1.pk, datetime.date(2020, 2, 2), None, Membership.Reason.JOINED)
    ]
    assert member.memberships.get().by == officer
    assert member.history.latest().history_user == officer
    assert set(Member.objects.visible_to(officer).search("ha thi thu")) == {member}


def test_member_registered_without_a_joining_date_is_a_member_from_today(world):
    member = MemberFactory.build(full_name="Hà Thị Thu", unit=world.a1, joined_on=None)

    create_member(member=member, by=world.users["admin"])

    assert member.memberships.get().valid_from == timezone.localdate()


# Merge receivers ----------------------------------------------------------------------------


def test_members_who_left_do_not_stop_their_union_being_dissolved(world):
    union = make_unit("CĐCS Công ty đã đóng cửa", UnitKind.GRASSROOTS, world.commune_b)
    MemberFactory(full_name="Phạm Văn Tâm", unit=union, status=MemberStatus.LEFT)

    dissolve_unit(unit=union, effective_on=TRANSFERRED_ON, by=world.users["admin"])

    assert Unit.objects.get(pk=union.pk).closed_on == TRANSFERRED_ON


# Leaving and coming back -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [MemberStatus.LEFT, MemberStatus.DECEASED, MemberStatus.TRANSFERRED]
)
def test_leaving_closes_the_membership_on_the_date_given(world, status):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.status, member.left_on = status, datetime.date(2024, 6, 30)

    update_member(member=member, by=world.users["grassroots"])

    assert _memberships(member) == [
        (world.a1.pk, JOINED_ON, datetime.date(2024, 6, 30), Membership.Reason.JOINED)
    ]


def test_leaving_without_a_date_leaves_today(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.status = MemberStatus.LEFT

    update_member(member=member, by=world.users["grassroots"])

    assert Member.objects.get(pk=member.pk).left_on == timezone.localdate()
    assert member.memberships.get().valid_to == timezone.localdate()


def test_a_corrected_leaving_date_moves_the_end_of_the_membership(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.status, member.left_on = MemberStatus.LEFT, datetime.date(2024, 6, 30)
    update_member(member=member, by=world.users["grassroots"])
    member = Member.objects.get(pk=member.pk)
    member.status, member.left_on = MemberStatus.DECEASED, datetime.date(2024, 5, 2)

    update_member(member=member, by=world.users["grassroots"])

    assert member.memberships.get().valid_to == datetime.date(2024, 5, 2)


def test_leaving_before_joining_or_in_the_future_is_refused(world):
    for day in (
        JOINED_ON - datetime.timedelta(days=1),
        timezone.localdate() + datetime.timedelta(1),
    ):
        member = Member.objects.get(pk=world.member_a1.pk)
        member.status, member.left_on = MemberStatus.LEFT, day
        with pytest.raises(ValidationError) as refused:
            update_member(member=member, by=world.users["grassroots"])
        assert "left_on" in refused.value.message_dict
    assert Member.objects.get(pk=world.member_a1.pk).status == MemberStatus.ACTIVE
    assert _memberships(world.member_a1)[0][2] is None


def test_coming_back_opens_a_new_membership_and_keeps_the_old_one_closed(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.status, member.left_on = MemberStatus.LEFT, datetime.date(2024, 6, 30)
    update_member(member=member, by=world.users["grassroots"])
    member = Member.objects.get(pk=member.pk)
    member.status = MemberStatus.ACTIVE

    update_member(member=member, by=world.users["grassroots"])

    assert Member.objects.get(pk=member.pk).left_on is None
    assert _memberships(member) == [
        (world.a1.pk, JOINED_ON, datetime.date(2024, 6, 30), Membership.Reason.JOINED),
        (world.a1.pk, timezone.localdate(), None, Membership.Reason.REJOINED),
    ]


def test_editing_an_active_member_closes_nothing(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.phone = "0912345678"

    update_member(member=member, by=world.users["grassroots"])

    assert _memberships(member) == [(world.a1.pk, JOINED_ON, None, Membership.Reason.JOINED)]


# Who may write: the service itself refuses, whoever calls it ------------------------------


def _member_rows():
    return (
        Member.objects.count(),
        Membership.objects.count(),
        Member.history.count(),
        Dependant.objects.count(),
    )


@pytest.mark.parametrize("role", ["leader", "treasurer"])
def test_a_role_that_only_reads_cannot_register_a_member(world, role):
    before = _member_rows()
    member = MemberFactory.build(full_name="Hà Thị Thu", unit=world.a1)
    with pytest.raises(PermissionDenied):
        create_member(member=member, by=world.users[role])
    assert _member_rows() == before


def test_an_officer_of_another_union_cannot_register_a_member_here(world):
    before = _member_rows()
    member = MemberFactory.build(full_name="Hà Thị Thu", unit=world.a1)
    with pytest.raises(Http404):
        create_member(member=member, by=world.users["q_officer"])
    with pytest.raises(PermissionDenied):
        create_member(member=member, by=None)
    assert _member_rows() == before


def test_member_edits_are_refused_outside_scope_and_to_readers(world):
    for user, refusal in (
        (world.users["q_officer"], Http404),
        (world.users["leader"], PermissionDenied),
    ):
        member = Member.objects.get(pk=world.member_a1.pk)
        member.phone = "0900000000"
        with pytest.raises(refusal):
            update_member(member=member, by=user)
    assert Member.objects.get(pk=world.member_a1.pk).phone != "0900000000"


def test_officer_cannot_move_a_member_into_a_union_outside_their_scope_by_editing(world):
    member = Member.objects.get(pk=world.member_a1.pk)
    member.unit = world.q1
    with pytest.raises(Http404):
        update_member(member=member, by=world.users["grassroots"])
    assert Member.objects.get(pk=world.member_a1.pk).unit_id == world.a1.pk


def test_transfer_is_refused_outside_scope_and_to_readers(world):
    before = _member_snapshot(world.member_a1)
    for to_unit, user, refusal in (
        (world.q1, world.users["admin"], Http404),  # into another province
        (world.b1, world.users["commune"], Http404),  # commune A staff do not see B1
        (world.a2, world.users["treasurer"], PermissionDenied),
        (world.a2, world.users["leader"], PermissionDenied),
    ):
        with pytest.raises(refusal):
            transfer_member(
                member=world.member_a1, to_unit=to_unit, effective_on=TRANSFERRED_ON, by=user
            )
    assert _member_snapshot(world.member_a1) == before


def test_children_are_added_edited_and_removed_only_by_who_edits_the_member(world):
    before = _member_rows()
    child = Dependant(
        member=world.member_a1,
        full_name="Nguyễn Minh Khôi",
        sex="male",
        date_of_birth=datetime.date(2015, 6, 1),
    )
    for user, refusal in (
        (world.users["q_officer"], Http404),
        (world.users["leader"], PermissionDenied),
    ):
        with pytest.raises(refusal):
            save_dependant(dependant=child, by=user)
        existing = world.member_a1.dependants.first()
        with pytest.raises(refusal):
            delete_dependant(dependant=existing, by=user)
    assert _member_rows() == before
    save_dependant(dependant=child, by=world.users["grassroots"])
    assert world.member_a1.dependants.filter(full_name="Nguyễn Minh Khôi").exists()
