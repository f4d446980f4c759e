"""Reorganising the tree: create, move, merge and dissolve units, each on a date, recorded.

The tree as it stood on an earlier date is never rewritten; today's tree drives access.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import override

from members.models import Member, Membership, MemberStatus
from members.services import transfer_member
from tests.factories import MemberFactory, make_unit, make_user, system_user
from unions.accounts import grant_role, revoke_role
from unions.models import Placement, Role, RoleAssignment, Unit, UnitEvent, UnitKind, UnitStatus
from unions.tree import (
    create_unit,
    dissolve_unit,
    merge_unit,
    move_unit,
    tree_children,
    tree_top,
    update_unit,
)

REORGANISED_ON = datetime.date(2025, 7, 1)
DAY_BEFORE = REORGANISED_ON - datetime.timedelta(days=1)


def _tree_snapshot():
    """Everything a reorganisation may change, to check that a refusal changed nothing."""
    return (
        sorted(
            Placement.objects.values_list(
                "unit_id", "parent_id", "path", "depth", "valid_from", "valid_to"
            )
        ),
        sorted(
            Unit.objects.values_list(
                "pk", "parent_id", "path", "depth", "status", "closed_on", "successor_id"
            )
        ),
        UnitEvent.objects.count(),
        sorted(Membership.objects.values_list("member_id", "unit_id", "valid_from", "valid_to")),
        sorted(Member.objects.values_list("pk", "unit_id")),
    )


def _refusal(service, **kwargs) -> ValidationError:
    before = _tree_snapshot()
    with override("en"), pytest.raises(ValidationError) as refused:
        service(**kwargs)
    assert _tree_snapshot() == before
    return refused.value


def _placement_on(unit: Unit, date: datetime.date) -> Placement:
    return Placement.objects.on(date).get(unit=unit)


def _reload(*units: Unit) -> list[Unit]:
    return [Unit.objects.get(pk=unit.pk) for unit in units]


def _deep_subtree(world):
    """Province P ── sector S ── zone Z ── grassroots G (one member)."""
    sector = make_unit("Công đoàn ngành Y tế", UnitKind.SECTOR, world.province, code="P-S")
    zone = make_unit("Công đoàn KCN Đồng Bành", UnitKind.ZONE, sector, code="P-S-Z")
    grassroots = make_unit("CĐCS Công ty G", parent=zone, code="P-S-Z-1")
    member = MemberFactory(full_name="Hoàng Văn Giang", unit=grassroots)
    return sector, zone, grassroots, member


# Move ---------------------------------------------------------------------------------------


def test_moved_unit_stands_under_new_parent_today_and_under_old_parent_before(world):
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )

    a1, commune_a, commune_b = _reload(world.a1, world.commune_a, world.commune_b)
    assert a1.parent == commune_b
    assert a1.path == f"{commune_b.path}{a1.pk}/"
    assert set(commune_b.children.all()) == {a1, world.b1}
    assert set(commune_a.children.all()) == {world.a2}
    before = _placement_on(a1, DAY_BEFORE)
    assert before.parent == commune_a
    assert before.path == f"{commune_a.path}{a1.pk}/"
    assert _placement_on(a1, REORGANISED_ON).parent == commune_b


def test_moving_a_unit_leaves_its_members_where_they_are(world):
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )

    member = Member.objects.get(pk=world.member_a1.pk)
    assert member.unit == world.a1
    assert list(member.memberships.values_list("unit_id", "valid_to")) == [(world.a1.pk, None)]


def test_move_is_recorded_with_old_and_new_parent_and_who_did_it(world):
    admin = world.users["admin"]
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=admin,
        note="Quyết định 12/QĐ-LĐLĐ",
    )

    event = UnitEvent.objects.get(unit=world.a1, kind=UnitEvent.Kind.MOVED)
    assert event.old_parent == world.commune_a
    assert event.new_parent == world.commune_b
    assert event.effective_on == REORGANISED_ON
    assert event.by == admin
    assert event.note == "Quyết định 12/QĐ-LĐLĐ"


def test_moving_a_unit_moves_its_whole_subtree(world):
    sector, zone, grassroots, member = _deep_subtree(world)
    old_paths = {unit.pk: unit.path for unit in (sector, zone, grassroots)}

    move_unit(
        unit=sector,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )

    sector, zone, grassroots, commune_b = _reload(sector, zone, grassroots, world.commune_b)
    assert sector.parent == commune_b
    assert zone.parent == sector
    assert grassroots.parent == zone
    assert sector.path == f"{commune_b.path}{sector.pk}/"
    assert zone.path == f"{sector.path}{zone.pk}/"
    assert grassroots.path == f"{zone.path}{grassroots.pk}/"
    assert [sector.depth, zone.depth, grassroots.depth] == [2, 3, 4]
    for unit in (sector, zone, grassroots):
        assert _placement_on(unit, DAY_BEFORE).path == old_paths[unit.pk]
        assert _placement_on(unit, REORGANISED_ON).path == unit.path
    # Today's tree decides access: commune B staff now reach the moved grassroots' members.
    staff_b = make_user("staff_b", Role.STAFF, commune_b)
    assert member in Member.objects.visible_to(staff_b)


def test_moving_twice_on_the_same_day_leaves_one_placement_for_that_day(world):
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    move_unit(
        unit=world.a1,
        new_parent=world.commune_a,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )

    assert Placement.objects.on(REORGANISED_ON).filter(unit=world.a1).count() == 1
    assert _placement_on(world.a1, REORGANISED_ON).parent == world.commune_a


def test_unit_cannot_be_moved_under_itself(world):
    error = _refusal(
        move_unit,
        unit=world.commune_a,
        new_parent=world.commune_a,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "new_parent" in error.message_dict


def test_unit_cannot_be_moved_under_its_own_descendant(world):
    sector, zone, _grassroots, _member = _deep_subtree(world)
    error = _refusal(
        move_unit,
        unit=sector,
        new_parent=zone,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "own units" in error.message_dict["new_parent"][0]


def test_unit_cannot_be_moved_under_a_grassroots_union(world):
    error = _refusal(
        move_unit,
        unit=world.b1,
        new_parent=world.a1,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "grassroots" in error.message_dict["new_parent"][0]


def test_unit_cannot_be_moved_under_a_closed_unit(world):
    commune_c = make_unit("Công đoàn xã C", UnitKind.COMMUNE, world.province, code="P-C")
    dissolve_unit(unit=commune_c, effective_on=DAY_BEFORE, by=world.users["admin"])

    error = _refusal(
        move_unit,
        unit=world.a1,
        new_parent=commune_c,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "closed" in error.message_dict["new_parent"][0]


def test_closed_unit_cannot_be_moved(world):
    dissolve_unit(unit=world.a2, effective_on=DAY_BEFORE, by=world.users["admin"])

    error = _refusal(
        move_unit,
        unit=world.a2,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "unit" in error.message_dict


def test_move_cannot_take_effect_in_the_future(world):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    error = _refusal(
        move_unit,
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=tomorrow,
        by=world.users["admin"],
    )
    assert "future" in error.message_dict["effective_on"][0]


def test_move_cannot_take_effect_before_the_unit_was_placed(world):
    error = _refusal(
        move_unit,
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=world.a1.founded_on - datetime.timedelta(days=1),
        by=world.users["admin"],
    )
    assert "effective_on" in error.message_dict


def test_move_cannot_take_effect_before_the_last_change_inside_the_subtree(world):
    sector, zone, _grassroots, _member = _deep_subtree(world)
    make_unit("CĐCS Công ty mới", parent=zone, founded_on=datetime.date(2022, 3, 1))

    error = _refusal(
        move_unit,
        unit=sector,
        new_parent=world.commune_b,
        effective_on=datetime.date(2021, 1, 1),
        by=world.users["admin"],
    )
    assert "01/03/2022" in error.message_dict["effective_on"][0]


def test_unit_cannot_be_moved_under_the_parent_it_already_has(world):
    error = _refusal(
        move_unit,
        unit=world.a1,
        new_parent=world.commune_a,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "already" in error.message_dict["new_parent"][0]


def test_move_cannot_take_effect_before_the_new_parent_was_founded(world):
    """Otherwise the tree as of the effective date shows a unit under a parent not yet born."""
    commune_c = make_unit(
        "Công đoàn xã C", UnitKind.COMMUNE, world.province, code="P-C", founded_on=REORGANISED_ON
    )
    error = _refusal(
        move_unit,
        unit=world.a1,
        new_parent=commune_c,
        effective_on=datetime.date(2020, 1, 1),
        by=world.users["admin"],
    )
    assert "effective_on" in error.message_dict


def test_move_cannot_take_effect_before_the_new_parent_itself_last_moved(world):
    """Commune B stood under P until it moved under sector S; a placement of A1 under B
    dated before that would carry B's new path into years when B stood elsewhere, and the
    tree as of those years would lose A1 from P's direct subtree."""
    sector = make_unit("Công đoàn ngành Giáo dục", UnitKind.SECTOR, world.province, code="P-S")
    move_unit(
        unit=world.commune_b,
        new_parent=sector,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )

    error = _refusal(
        move_unit,
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=datetime.date(2020, 1, 1),
        by=world.users["admin"],
    )
    assert "effective_on" in error.message_dict


# Merge --------------------------------------------------------------------------------------


def test_merging_a_commune_hands_its_units_to_the_successor(world):
    admin = world.users["admin"]
    merge_unit(unit=world.commune_a, into=world.commune_b, effective_on=REORGANISED_ON, by=admin)

    commune_a, commune_b, a1, a2 = _reload(world.commune_a, world.commune_b, world.a1, world.a2)
    assert a1.parent == commune_b and a2.parent == commune_b
    assert a1.path.startswith(commune_b.path) and a2.path.startswith(commune_b.path)
    assert _placement_on(a1, DAY_BEFORE).parent == commune_a
    assert _placement_on(a2, DAY_BEFORE).parent == commune_a
    assert commune_a.status == UnitStatus.MERGED
    assert commune_a.successor == commune_b
    assert commune_a.closed_on == REORGANISED_ON
    assert not commune_a.children.exists()
    # The merged unit stays, closed, under its last parent.
    assert commune_a.parent == world.province
    assert commune_a in Unit.objects.visible_to(world.users["province"])
    assert UnitEvent.objects.filter(
        unit=commune_a, kind=UnitEvent.Kind.MERGED, other_unit=commune_b, by=admin
    ).exists()
    assert UnitEvent.objects.filter(
        unit=commune_b, kind=UnitEvent.Kind.ABSORBED, other_unit=commune_a
    ).exists()
    assert UnitEvent.objects.filter(
        unit=a1, kind=UnitEvent.Kind.MOVED, old_parent=commune_a, new_parent=commune_b
    ).exists()


def test_merging_a_grassroots_union_moves_its_members_and_keeps_their_history(world):
    admin = world.users["admin"]
    left = MemberFactory(full_name="Phạm Thị Lan", unit=world.a1, status=MemberStatus.LEFT)

    merge_unit(unit=world.a1, into=world.a2, effective_on=REORGANISED_ON, by=admin)

    member = Member.objects.get(pk=world.member_a1.pk)
    assert member.unit == world.a2
    assert list(
        member.memberships.order_by("valid_from").values_list(
            "unit_id", "valid_from", "valid_to", "reason"
        )
    ) == [
        (world.a1.pk, datetime.date(2010, 5, 1), REORGANISED_ON, Membership.Reason.JOINED),
        (world.a2.pk, REORGANISED_ON, None, Membership.Reason.MERGE),
    ]
    assert member.history.latest().history_user == admin
    # Someone who had already left stays on the old union's books.
    assert Member.objects.get(pk=left.pk).unit == world.a1
    assert Unit.objects.get(pk=world.a1.pk).status == UnitStatus.MERGED


def test_unit_with_members_cannot_be_merged_into_a_non_grassroots_unit(world):
    error = _refusal(
        merge_unit,
        unit=world.a1,
        into=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "CĐCS Công ty A1 has members" in " ".join(error.messages)


def test_unit_with_units_under_it_cannot_be_merged_into_a_grassroots_union(world):
    error = _refusal(
        merge_unit,
        unit=world.commune_b,
        into=world.a1,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "into" in error.message_dict


def test_unit_cannot_be_merged_into_its_own_descendant(world):
    error = _refusal(
        merge_unit,
        unit=world.commune_a,
        into=world.a1,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "own units" in error.message_dict["into"][0]


def test_unit_cannot_be_merged_into_a_closed_unit(world):
    dissolve_unit(unit=world.a2, effective_on=DAY_BEFORE, by=world.users["admin"])
    error = _refusal(
        merge_unit,
        unit=world.a1,
        into=world.a2,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    assert "closed" in error.message_dict["into"][0]


def test_merge_cannot_take_effect_before_a_member_joined_the_merged_unit(world):
    """Bình moved from B1 to A1 in mid-2024; backdating A1's merge to January 2024 would
    erase her time at A1 and overlap her B1 membership with one at A2."""
    transfer_member(
        member=world.member_b1,
        to_unit=world.a1,
        effective_on=datetime.date(2024, 6, 1),
        by=world.users["admin"],
    )
    error = _refusal(
        merge_unit,
        unit=world.a1,
        into=world.a2,
        effective_on=datetime.date(2024, 1, 1),
        by=world.users["admin"],
    )
    assert error.messages


def test_merge_cannot_take_effect_before_the_successor_was_founded(world):
    commune_c = make_unit(
        "Công đoàn phường C",
        UnitKind.COMMUNE,
        world.province,
        code="P-C",
        founded_on=REORGANISED_ON,
    )
    error = _refusal(
        merge_unit,
        unit=world.commune_a,
        into=commune_c,
        effective_on=datetime.date(2020, 1, 1),
        by=world.users["admin"],
    )
    assert "effective_on" in error.message_dict


# Dissolve -----------------------------------------------------------------------------------


def test_unit_with_active_members_cannot_be_dissolved(world):
    error = _refusal(
        dissolve_unit, unit=world.a1, effective_on=REORGANISED_ON, by=world.users["admin"]
    )
    assert "CĐCS Công ty A1 still has active members" in " ".join(error.messages)


def test_unit_with_active_units_under_it_cannot_be_dissolved(world):
    error = _refusal(
        dissolve_unit, unit=world.commune_a, effective_on=REORGANISED_ON, by=world.users["admin"]
    )
    assert "units under Công đoàn phường A" in " ".join(error.messages)


def test_unit_whose_members_all_moved_away_can_be_dissolved(world):
    transfer_member(
        member=world.member_a1, to_unit=world.a2, effective_on=DAY_BEFORE, by=world.users["admin"]
    )

    dissolve_unit(unit=world.a1, effective_on=REORGANISED_ON, by=world.users["admin"])

    assert Unit.objects.get(pk=world.a1.pk).status == UnitStatus.DISSOLVED


def test_dissolved_unit_stays_in_the_tree_for_the_people_above_it(world):
    admin = world.users["admin"]
    province_staff = world.users["province"]

    dissolve_unit(unit=world.a2, effective_on=REORGANISED_ON, by=admin)

    a2 = Unit.objects.get(pk=world.a2.pk)
    assert a2.status == UnitStatus.DISSOLVED
    assert a2.closed_on == REORGANISED_ON
    assert a2.parent == world.commune_a
    assert a2 in Unit.objects.visible_to(province_staff)
    today = {pk: parent for pk, parent, _depth in _rows(province_staff, None)}
    then = {pk: parent for pk, parent, _depth in _rows(province_staff, DAY_BEFORE)}
    assert today[a2.pk] == world.commune_a.pk
    assert then[a2.pk] == world.commune_a.pk
    assert UnitEvent.objects.filter(unit=a2, kind=UnitEvent.Kind.DISSOLVED, by=admin).exists()


def test_a_dissolved_unit_cannot_be_dissolved_again(world):
    dissolve_unit(unit=world.a2, effective_on=DAY_BEFORE, by=world.users["admin"])
    error = _refusal(
        dissolve_unit, unit=world.a2, effective_on=REORGANISED_ON, by=world.users["admin"]
    )
    assert "closed" in error.message_dict["unit"][0]


# Create -------------------------------------------------------------------------------------


def test_created_unit_is_placed_under_its_parent_from_its_founding_date(world):
    admin = world.users["admin"]
    unit = create_unit(
        parent=world.commune_b,
        code="P-B-2",
        name="CĐCS Trường B2",
        kind=UnitKind.GRASSROOTS,
        founded_on=REORGANISED_ON,
        by=admin,
    )

    assert unit.path == f"{world.commune_b.path}{unit.pk}/"
    assert unit.depth == 2
    assert unit in Unit.objects.visible_to(world.users["province"])
    assert not Placement.objects.on(DAY_BEFORE).filter(unit=unit).exists()
    assert _placement_on(unit, REORGANISED_ON).parent == world.commune_b
    assert UnitEvent.objects.filter(unit=unit, kind=UnitEvent.Kind.CREATED, by=admin).exists()


def _create_refusal(**overrides) -> ValidationError:
    kwargs = {
        "code": "NEW",
        "name": "Đơn vị mới",
        "kind": UnitKind.GRASSROOTS,
        "founded_on": REORGANISED_ON,
        "by": system_user(),
        **overrides,
    }
    error = _refusal(create_unit, **kwargs)
    assert not Unit.objects.filter(code="NEW").exists()
    return error


def test_unit_cannot_be_created_under_a_closed_unit(world):
    commune_c = make_unit("Công đoàn xã C", UnitKind.COMMUNE, world.province, code="P-C")
    dissolve_unit(unit=commune_c, effective_on=DAY_BEFORE, by=world.users["admin"])

    error = _create_refusal(parent=commune_c)
    assert "closed" in error.message_dict["parent"][0]


def test_only_a_provincial_confederation_may_be_created_without_a_parent(world):
    error = _create_refusal(parent=None, kind=UnitKind.COMMUNE)
    assert "parent" in error.message_dict


def test_union_older_than_its_parent_is_placed_from_when_the_parent_stood_there(world):
    zone = make_unit("Công đoàn KCN", UnitKind.ZONE, world.province, founded_on=REORGANISED_ON)
    company = make_unit("CĐCS Công ty cũ", parent=zone, founded_on=datetime.date(2010, 3, 1))
    assert company.founded_on == datetime.date(2010, 3, 1)
    assert not Placement.objects.on(DAY_BEFORE).filter(unit=company).exists()
    assert Placement.objects.on(REORGANISED_ON).get(unit=company).parent == zone


def test_unit_cannot_be_founded_in_the_future(world):
    error = _create_refusal(
        parent=world.commune_b, founded_on=datetime.date.today() + datetime.timedelta(days=1)
    )
    assert "founded_on" in error.message_dict


def test_unit_cannot_be_created_under_a_grassroots_union(world):
    """A grassroots union has no units under it, whoever calls the service (form, import,
    command)."""
    error = _create_refusal(parent=world.a1, kind=UnitKind.GRASSROOTS)
    assert "parent" in error.message_dict


# The tree as of a date ----------------------------------------------------------------------


def _rows(user, date):
    """The whole tree as the page shows it, closed units included, every node opened:
    (unit, parent, depth), depth first."""
    rows = []

    def visit(nodes, depth):
        for node in nodes:
            rows.append((node.pk, node.parent_id, depth))
            children, start = node.children, node.more_from
            if children is None:
                children, start = [], (0 if node.child_count else None)
            while start is not None:  # the further batches, as "Show more units" loads them
                unit = Unit.objects.get(pk=node.pk)
                batch, start = tree_children(user, unit, date, show_closed=True, start=start)
                children = [*children, *batch]
            assert len(children) == node.child_count
            visit(children, depth + 1)

    visit(tree_top(user, date, show_closed=True), 0)
    return rows


def test_tree_on_an_earlier_date_shows_a_moved_unit_under_its_old_parent(world):
    province_staff = world.users["province"]
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    w = world

    assert _rows(province_staff, DAY_BEFORE) == [
        (w.province.pk, None, 0),
        (w.commune_a.pk, w.province.pk, 1),
        (w.a1.pk, w.commune_a.pk, 2),
        (w.a2.pk, w.commune_a.pk, 2),
        (w.commune_b.pk, w.province.pk, 1),
        (w.b1.pk, w.commune_b.pk, 2),
    ]
    today = _rows(province_staff, None)
    assert (w.a1.pk, w.commune_b.pk, 2) in today
    assert _rows(province_staff, REORGANISED_ON) == today


def test_tree_on_an_earlier_date_shows_only_units_the_user_may_see_today(world):
    staff_a = world.users["commune"]
    move_unit(
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )
    staff_a = type(staff_a).objects.get(pk=staff_a.pk)

    assert _rows(staff_a, DAY_BEFORE) == [
        (world.commune_a.pk, world.province.pk, 0),
        (world.a2.pk, world.commune_a.pk, 1),
    ]


def test_tree_on_a_date_leaves_out_units_not_yet_founded(world):
    new_unit = make_unit("CĐCS Công ty mới", parent=world.commune_b, founded_on=REORGANISED_ON)

    units_then = {pk for pk, _parent, _depth in _rows(world.users["province"], DAY_BEFORE)}
    assert world.b1.pk in units_then
    assert new_unit.pk not in units_then


@pytest.mark.parametrize("batch", [1, 2])
def test_a_nodes_units_come_in_batches_in_the_same_order(world, monkeypatch, batch):
    """However small the batches, the tree is the same: every unit once, kind then name."""
    whole = _rows(world.users["province"], None)
    monkeypatch.setattr("unions.tree.TREE_BATCH", batch)
    assert _rows(world.users["province"], None) == whole
    root = tree_top(world.users["province"])[0]
    assert root.child_count == 2  # counted, not the batch's length
    assert len(root.children) == batch
    assert root.more_from == (1 if batch == 1 else None)  # a batch of 2 holds both


def test_tree_for_a_user_without_roles_is_empty(world):
    assert tree_top(make_user("nobody"), None) == []
    assert tree_top(make_user("nobody2"), DAY_BEFORE) == []


def test_a_subtrees_ids_are_a_list_when_few_and_a_subquery_when_many(world, monkeypatch):
    """Either way they are the same units (the list lets PostgreSQL estimate each unit)."""
    expected = {world.commune_a.pk, world.a1.pk, world.a2.pk}
    few = Unit.objects.ids_in_subtree_of(world.commune_a)
    assert isinstance(few, list) and set(few) == expected
    monkeypatch.setattr("unions.models.SUBTREE_IDS", 2)
    many = Unit.objects.ids_in_subtree_of(world.commune_a)
    assert not isinstance(many, list)
    assert set(Unit.objects.filter(pk__in=many).values_list("pk", flat=True)) == expected


# Who may change the tree: the service itself refuses, whoever calls it ---------------------


def _forbidden(service, expected, **kwargs) -> None:
    """``service`` refuses with ``expected`` (Http404 or PermissionDenied), changing nothing."""
    before = _tree_snapshot()
    with pytest.raises(expected):
        service(**kwargs)
    assert _tree_snapshot() == before


def _new_unit(parent, by) -> dict:
    return {
        "parent": parent,
        "code": "NEW",
        "name": "Đơn vị mới",
        "kind": UnitKind.GRASSROOTS,
        "founded_on": REORGANISED_ON,
        "by": by,
    }


def test_administrator_of_another_province_cannot_create_a_unit_here(world):
    _forbidden(create_unit, Http404, **_new_unit(world.commune_a, world.users["outsider"]))
    assert not Unit.objects.filter(code="NEW").exists()


@pytest.mark.parametrize("role", ["commune", "grassroots", "treasurer", "leader"])
def test_a_role_that_does_not_manage_the_tree_cannot_create_a_unit(world, role):
    # Under a unit each of them sees: the commune for its staff, A1 for its officer.
    parent = world.a1 if role == "grassroots" else world.commune_a
    _forbidden(create_unit, PermissionDenied, **_new_unit(parent, world.users[role]))
    assert not Unit.objects.filter(code="NEW").exists()


def test_only_a_superuser_may_create_a_province(world):
    province = {**_new_unit(None, world.users["admin"]), "kind": UnitKind.PROVINCE}
    _forbidden(create_unit, PermissionDenied, **province)
    created = create_unit(**{**province, "by": system_user()})
    assert created.parent is None and created.path == f"{created.pk}/"


def test_a_write_without_an_acting_user_is_refused(world):
    _forbidden(create_unit, PermissionDenied, **_new_unit(world.commune_a, None))
    _forbidden(
        move_unit,
        PermissionDenied,
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=None,
    )


def test_commune_staff_cannot_move_a_unit_of_their_commune(world):
    _forbidden(
        move_unit,
        PermissionDenied,
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["commune"],
    )


def test_outsider_cannot_move_a_unit_they_cannot_see(world):
    _forbidden(
        move_unit,
        Http404,
        unit=world.a1,
        new_parent=world.commune_b,
        effective_on=REORGANISED_ON,
        by=world.users["outsider"],
    )


def test_administrator_cannot_move_a_unit_under_a_parent_outside_their_scope(world):
    _forbidden(
        move_unit,
        Http404,
        unit=world.a1,
        new_parent=world.other_province,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )


def test_administrator_cannot_merge_into_a_unit_outside_their_scope(world):
    _forbidden(
        merge_unit,
        Http404,
        unit=world.a2,
        into=world.q1,
        effective_on=REORGANISED_ON,
        by=world.users["admin"],
    )


def test_officer_cannot_merge_or_dissolve_their_own_union(world):
    officer = world.users["grassroots"]
    _forbidden(
        merge_unit,
        PermissionDenied,
        unit=world.a1,
        into=world.a2,
        effective_on=REORGANISED_ON,
        by=officer,
    )
    _forbidden(
        dissolve_unit, PermissionDenied, unit=world.a1, effective_on=REORGANISED_ON, by=officer
    )


def test_outsider_cannot_dissolve_a_unit(world):
    _forbidden(
        dissolve_unit,
        Http404,
        unit=world.a2,
        effective_on=REORGANISED_ON,
        by=world.users["outsider"],
    )


def test_only_who_manages_the_tree_edits_a_unit(world):
    for user, refusal in (
        (world.users["commune"], PermissionDenied),
        (world.users["q_officer"], Http404),
    ):
        unit = Unit.objects.get(pk=world.a1.pk)
        unit.name = "Tên khác"
        with pytest.raises(refusal):
            update_unit(unit=unit, by=user)
        assert Unit.objects.get(pk=world.a1.pk).name == "CĐCS Công ty A1"
    unit = Unit.objects.get(pk=world.a1.pk)
    unit.name = "Tên khác"
    update_unit(unit=unit, by=world.users["admin"])
    assert Unit.objects.get(pk=world.a1.pk).name == "Tên khác"


# Accounts ---------------------------------------------------------------------------------


def test_roles_are_granted_only_inside_the_managers_scope(world):
    officer = world.users["grassroots"]
    count = RoleAssignment.objects.count()
    with pytest.raises(Http404):
        grant_role(user=officer, unit=world.a1, role=Role.TREASURER, by=world.users["outsider"])
    with pytest.raises(Http404):  # the Q officer is not an account P's administrator manages
        grant_role(
            user=world.users["q_officer"],
            unit=world.a1,
            role=Role.OFFICER,
            by=world.users["admin"],
        )
    with pytest.raises(PermissionDenied):
        grant_role(user=officer, unit=world.a1, role=Role.TREASURER, by=world.users["commune"])
    assert RoleAssignment.objects.count() == count
    grant_role(user=officer, unit=world.a1, role=Role.TREASURER, by=world.users["admin"])
    assert RoleAssignment.objects.count() == count + 1


def test_roles_are_revoked_only_inside_the_managers_scope(world):
    assignment = RoleAssignment.objects.get(user=world.users["grassroots"])
    for user, refusal in (
        (world.users["outsider"], Http404),
        (world.users["commune"], PermissionDenied),
    ):
        with pytest.raises(refusal):
            revoke_role(assignment=assignment, by=user)
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
