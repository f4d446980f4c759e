"""Scope: a role at a unit reaches that unit's subtree in today's tree, and nothing else."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from members.models import Member
from tests.factories import MemberFactory, make_user
from unions.models import Role, RoleAssignment, Unit
from unions.scope import Capability, can, forget_grants, get_unit_for_user
from unions.tree import dissolve_unit, move_unit

MOVED_ON = datetime.date(2025, 7, 1)


def _units(user, capability=None) -> set[Unit]:
    return set(Unit.objects.visible_to(user, capability))


def _members(user) -> set[Member]:
    return set(Member.objects.visible_to(user))


def test_grassroots_officer_sees_only_their_own_union_and_its_members(world):
    officer = world.users["grassroots"]
    assert _units(officer) == {world.a1}
    assert _members(officer) == {world.member_a1}


def test_grassroots_officer_cannot_see_the_neighbouring_grassroots_union(world):
    neighbour = MemberFactory(full_name="Trần Thị Mai", unit=world.a2)
    officer = world.users["grassroots"]
    assert world.a2 not in _units(officer)
    assert neighbour not in _members(officer)


def test_commune_staff_see_their_commune_and_every_union_under_it(world):
    in_a2 = MemberFactory(full_name="Trần Thị Mai", unit=world.a2)
    staff = world.users["commune"]
    assert _units(staff) == {world.commune_a, world.a1, world.a2}
    assert _members(staff) == {world.member_a1, in_a2}


def test_commune_staff_cannot_see_neighbouring_commune(world):
    staff = world.users["commune"]
    assert not _units(staff) & {world.commune_b, world.b1, world.province}
    assert world.member_b1 not in _members(staff)


@pytest.mark.parametrize("role", ["admin", "province", "treasurer", "leader"])
def test_province_roles_see_the_whole_province_but_not_another(world, role):
    user = world.users[role]
    assert _units(user) == {
        world.province,
        world.commune_a,
        world.commune_b,
        world.a1,
        world.a2,
        world.b1,
    }
    assert _members(user) == {world.member_a1, world.member_b1}


def test_administrator_of_another_province_sees_nothing_of_this_one(world):
    outsider = world.users["outsider"]
    assert _units(outsider) == {world.other_province, world.q1}
    assert _members(outsider) == {world.member_q1}


def test_user_without_a_role_sees_nothing(world):
    nobody = make_user("nobody")
    assert _units(nobody) == set()
    assert _members(nobody) == set()
    assert not can(nobody, Capability.VIEW, world.a1)


def test_anonymous_visitor_sees_nothing(world):
    assert _units(AnonymousUser()) == set()
    assert _members(AnonymousUser()) == set()


def test_user_with_two_roles_sees_both_subtrees(world):
    user = make_user("two_hats", Role.OFFICER, world.a1)
    RoleAssignment.objects.create(user=user, unit=world.b1, role=Role.OFFICER)

    assert _units(user) == {world.a1, world.b1}
    assert _members(user) == {world.member_a1, world.member_b1}


def test_overlapping_roles_list_each_member_once(world):
    user = make_user("overlap", Role.STAFF, world.commune_a)
    RoleAssignment.objects.create(user=user, unit=world.a1, role=Role.OFFICER)

    assert Member.objects.visible_to(user).count() == 1
    assert Unit.objects.visible_to(user).count() == 3


def test_read_only_role_does_not_lend_its_scope_to_editing(world):
    """A leader of the province who is also officer of A1 may edit members only in A1."""
    user = make_user("leader_and_officer", Role.LEADER, world.province)
    RoleAssignment.objects.create(user=user, unit=world.a1, role=Role.OFFICER)

    assert _units(user, Capability.EDIT_MEMBERS) == {world.a1}
    assert world.b1 in _units(user)
    assert set(Member.objects.visible_to(user, Capability.EDIT_MEMBERS)) == {world.member_a1}


@pytest.mark.parametrize(
    ("role", "capability", "unit", "allowed"),
    [
        ("grassroots", Capability.EDIT_MEMBERS, "a1", True),
        ("grassroots", Capability.EDIT_MEMBERS, "a2", False),
        ("grassroots", Capability.VIEW, "commune_a", False),
        ("grassroots", Capability.MANAGE_TREE, "a1", False),
        ("commune", Capability.EDIT_MEMBERS, "a2", True),
        ("commune", Capability.VIEW, "b1", False),
        ("leader", Capability.VIEW, "b1", True),
        ("leader", Capability.EDIT_MEMBERS, "b1", False),
        ("treasurer", Capability.EDIT_MEMBERS, "a1", False),
        ("province", Capability.EDIT_MEMBERS, "b1", True),
        ("province", Capability.MANAGE_TREE, "commune_a", False),
        ("admin", Capability.MANAGE_TREE, "commune_a", True),
        ("admin", Capability.MANAGE_USERS, "b1", True),
        ("admin", Capability.VIEW, "q1", False),
        ("outsider", Capability.MANAGE_TREE, "commune_a", False),
    ],
)
def test_what_each_role_may_do_where(world, role, capability, unit, allowed):
    assert can(world.users[role], capability, getattr(world, unit)) is allowed


def test_unit_outside_scope_is_not_found(world):
    with pytest.raises(Http404):
        get_unit_for_user(world.users["commune"], world.b1.pk)


def test_unit_outside_scope_is_not_found_even_for_an_administrator_elsewhere(world):
    with pytest.raises(Http404):
        get_unit_for_user(world.users["outsider"], world.a1.pk, capability=Capability.MANAGE_TREE)


def test_missing_unit_and_unit_outside_scope_get_the_same_answer(world):
    missing = Unit.objects.order_by("-pk").first().pk + 100
    with pytest.raises(Http404):
        get_unit_for_user(world.users["commune"], missing)


def test_unit_in_scope_is_returned(world):
    assert get_unit_for_user(world.users["commune"], world.a2.pk) == world.a2


def test_leader_may_read_a_unit_but_not_reorganise_it(world):
    leader = world.users["leader"]
    assert get_unit_for_user(leader, world.commune_a.pk) == world.commune_a
    with pytest.raises(PermissionDenied):
        get_unit_for_user(leader, world.commune_a.pk, capability=Capability.MANAGE_TREE)


def test_administrator_may_reorganise_a_unit_in_scope(world):
    admin = world.users["admin"]
    unit = get_unit_for_user(admin, world.a1.pk, capability=Capability.MANAGE_TREE)
    assert unit == world.a1


def test_access_follows_todays_tree_after_a_move(world):
    staff_a = world.users["commune"]
    staff_b = make_user("staff_b", Role.STAFF, world.commune_b)
    officer = world.users["grassroots"]
    # Read the grants before the move, as a long-lived user object would.
    assert world.a1 in _units(staff_a) and world.a1 in _units(officer)

    move_unit(
        unit=world.a1, new_parent=world.commune_b, effective_on=MOVED_ON, by=world.users["admin"]
    )
    for user in (staff_a, staff_b, officer):
        forget_grants(user)

    assert world.a1 not in _units(staff_a)
    assert world.member_a1 not in _members(staff_a)
    with pytest.raises(Http404):
        get_unit_for_user(staff_a, world.a1.pk)
    assert world.a1 in _units(staff_b)
    assert world.member_a1 in _members(staff_b)
    # The officer's own union moved; their scope moved with it.
    assert _units(officer) == {world.a1}
    assert _members(officer) == {world.member_a1}


def test_freshly_loaded_user_sees_todays_tree_after_a_move(world):
    move_unit(
        unit=world.a1, new_parent=world.commune_b, effective_on=MOVED_ON, by=world.users["admin"]
    )

    staff_a = type(world.users["commune"]).objects.get(pk=world.users["commune"].pk)
    assert _units(staff_a) == {world.commune_a, world.a2}


def test_closed_unit_stays_visible_to_those_above_it(world):
    dissolve_unit(unit=world.a2, effective_on=MOVED_ON, by=world.users["admin"])
    assert world.a2 in _units(world.users["commune"])
    assert world.a2 not in _units(world.users["grassroots"])


def test_role_assignments_are_visible_only_within_scope(world):
    commune_role = RoleAssignment.objects.get(user=world.users["commune"])
    visible_to_province = set(RoleAssignment.objects.visible_to(world.users["admin"]))
    visible_to_outsider = set(RoleAssignment.objects.visible_to(world.users["outsider"]))
    visible_to_officer = set(RoleAssignment.objects.visible_to(world.users["grassroots"]))

    assert commune_role in visible_to_province
    assert commune_role not in visible_to_outsider
    assert commune_role not in visible_to_officer
