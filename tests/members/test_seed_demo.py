"""``manage.py seed_demo``: the Lạng Sơn demo province, its 2025 reorganisation and accounts."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.http import HttpRequest

from common.text import sort_key
from members.models import Dependant, Member, Membership, MemberStatus
from members.national_id import validate_national_id
from seed.demo_members import COMMUNE_ACCOUNT_UNIT, DEMO_PASSWORD, GRASSROOTS_ACCOUNT_UNIT
from unions.accounts import must_change_password
from unions.models import Placement, Role, RoleAssignment, Unit, UnitEvent, UnitKind, UnitStatus

EXPECTED_ROLES = {
    "admin": (Role.ADMINISTRATOR, "LS"),
    "province": (Role.PROVINCE_STAFF, "LS"),
    "commune": (Role.STAFF, COMMUNE_ACCOUNT_UNIT),
    "grassroots": (Role.OFFICER, GRASSROOTS_ACCOUNT_UNIT),
    "treasurer": (Role.TREASURER, "LS"),
    "leader": (Role.LEADER, "LS"),
    "treasurer-ward": (Role.TREASURER, COMMUNE_ACCOUNT_UNIT),
    "treasurer-grassroots": (Role.TREASURER, GRASSROOTS_ACCOUNT_UNIT),
}


def _counts() -> dict[str, int]:
    return {
        "units": Unit.objects.count(),
        "placements": Placement.objects.count(),
        "events": UnitEvent.objects.count(),
        "members": Member.objects.count(),
        "memberships": Membership.objects.count(),
        "dependants": Dependant.objects.count(),
        "member_history": Member.history.count(),
        "users": get_user_model().objects.count(),
        "roles": RoleAssignment.objects.count(),
    }


@pytest.fixture
def seeded(db) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_second_run_changes_nothing(seeded):
    first = _counts()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    second = _counts()
    assert first == second
    assert "Building" in seeded
    assert "already there" in out.getvalue()
    assert 1800 <= second["members"] <= 2200
    assert second["memberships"] == second["members"]
    assert second["member_history"] == second["members"]
    assert second["dependants"] > 0


def test_tree_before_the_reorganisation(seeded):
    province = Unit.objects.get(code="LS")
    assert province.kind == UnitKind.PROVINCE
    assert province.name == "Liên đoàn Lao động tỉnh Lạng Sơn"
    placements = list(Placement.objects.on(datetime.date(2021, 12, 31)).select_related("unit"))
    parent_of = {p.unit_id: p.parent_id for p in placements}
    districts = [p.unit for p in placements if p.unit.kind == UnitKind.DISTRICT]
    assert len(districts) >= 6
    assert "LĐLĐ huyện Cao Lộc" in {d.name for d in districts}
    assert all(parent_of[d.pk] == province.pk for d in districts)
    district_ids = {d.pk for d in districts}
    grassroots = [p.unit for p in placements if p.unit.kind == UnitKind.GRASSROOTS]
    under_districts = [g for g in grassroots if parent_of[g.pk] in district_ids]
    assert len(under_districts) >= 20
    for district in districts:
        assert any(parent_of[g.pk] == district.pk for g in grassroots), district.name
    # No commune union existed in 2021.
    assert not any(p.unit.kind == UnitKind.COMMUNE for p in placements)


def test_tree_today(seeded):
    province = Unit.objects.get(code="LS")
    subtree = Unit.objects.in_subtree_of(province)
    assert not subtree.filter(kind=UnitKind.DISTRICT, status=UnitStatus.ACTIVE).exists()
    assert subtree.filter(kind=UnitKind.DISTRICT, status=UnitStatus.DISSOLVED).count() >= 6
    # Nothing active hangs under a dissolved district any more.
    assert not Unit.objects.filter(
        parent__kind=UnitKind.DISTRICT, status=UnitStatus.ACTIVE
    ).exists()
    assert subtree.filter(kind=UnitKind.COMMUNE, status=UnitStatus.ACTIVE).count() >= 8
    assert subtree.filter(kind=UnitKind.ZONE, parent=province).exists()
    # Sector unions keep their grassroots unions; a few grassroots sit under the province.
    for sector in subtree.filter(kind=UnitKind.SECTOR):
        assert sector.children.filter(kind=UnitKind.GRASSROOTS).exists(), sector.name
    assert province.children.filter(kind=UnitKind.GRASSROOTS).exists()
    # The reorganisation is recorded as events on 1 July 2025.
    on_the_day = UnitEvent.objects.filter(effective_on=datetime.date(2025, 7, 1))
    assert on_the_day.filter(kind=UnitEvent.Kind.MOVED).count() >= 20
    assert on_the_day.filter(kind=UnitEvent.Kind.DISSOLVED).count() >= 6


def test_commune_account_unit_and_its_neighbour(seeded):
    commune = Unit.objects.get(code=COMMUNE_ACCOUNT_UNIT)
    assert commune.name == "Công đoàn phường Đông Kinh"
    assert commune.kind == UnitKind.COMMUNE
    assert commune.children.filter(kind=UnitKind.GRASSROOTS, status="active").count() >= 3
    neighbour = Unit.objects.get(name="Công đoàn phường Lương Văn Tri")
    assert neighbour.children.filter(kind=UnitKind.GRASSROOTS).exists()
    grassroots = Unit.objects.get(code=GRASSROOTS_ACCOUNT_UNIT)
    assert grassroots.parent == commune
    assert grassroots.members.filter(status=MemberStatus.ACTIVE).exists()
    # Moving the unit did not move its members' memberships.
    assert not Membership.objects.filter(unit=commune).exists()
    assert Membership.objects.filter(unit=grassroots).count() == grassroots.members.count()


def test_members_are_valid_and_varied(seeded):
    members = list(Member.objects.select_related("unit"))
    for member in members:
        validate_national_id(member.national_id, date_of_birth=member.date_of_birth, sex=member.sex)
        assert member.unit.kind == UnitKind.GRASSROOTS
        assert member.search_name and member.search_name == member.search_name.lower()
        assert member.sort_name == sort_key(member.full_name)
    assert len({m.national_id for m in members}) == len(members)
    cards = [m.union_card_number for m in members if m.union_card_number]
    assert len(set(cards)) == len(cards)
    assert Member.objects.filter(full_name__startswith="Nguyễn Văn ").count() >= 3
    assert Member.objects.filter(full_name__startswith="Đặng ").count() >= 3
    assert Member.objects.search("nguyen van").exists()
    assert Member.objects.filter(kind="worker", union_card_number="").exists()
    assert Member.objects.exclude(status=MemberStatus.ACTIVE).exists()
    assert Member.objects.exclude(national_id__startswith="020").exists()


def test_demo_accounts(seeded):
    for username, (role, unit_code) in EXPECTED_ROLES.items():
        user = get_user_model().objects.get(username=username)
        assert not user.is_superuser
        assert user.email == f"{username}@example.vn"
        assert RoleAssignment.objects.filter(user=user, role=role, unit__code=unit_code).exists()
        assert authenticate(HttpRequest(), username=username, password=DEMO_PASSWORD) == user
        assert not must_change_password(user)


def test_people_who_left_or_died_have_no_open_membership(seeded):
    gone = Member.objects.exclude(status=MemberStatus.ACTIVE)
    assert gone.exists()
    assert not gone.filter(left_on__isnull=True).exists()
    assert not Membership.objects.filter(member__in=gone, valid_to__isnull=True).exists()
    closed = Membership.objects.filter(member__in=gone)
    assert all(row.valid_to == row.member.left_on for row in closed.select_related("member"))
    active = Member.objects.filter(status=MemberStatus.ACTIVE)
    assert Membership.objects.filter(valid_to__isnull=True).count() == active.count()
