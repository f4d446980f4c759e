"""Member search: names with or without Vietnamese marks, ID numbers, union cards; in scope only."""

from __future__ import annotations

import datetime
import unicodedata

import pytest
from django.db import connection

from common.text import sort_key
from members.forms import SORTS
from members.models import Member
from members.national_id import make_national_id
from members.search import normalise
from tests.factories import MemberFactory


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đặng Thị Hòa", "dang thi hoa"),
        ("NGUYỄN  Văn", "nguyen van"),
        ("  Trần\tThị   Mai ", "tran thi mai"),
        ("Hoà", "hoa"),  # the older tone-mark placement
        ("Lương Thế Vinh", "luong the vinh"),
        (unicodedata.normalize("NFD", "Nguyễn Đức Cảnh"), "nguyen duc canh"),
    ],
)
def test_normalise_strips_marks_and_case_and_extra_spaces(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "query", ["nguyen van", "Nguyen Van", "Nguyễn Văn", "NGUYỄN VĂN", "  nguyễn   văn ", "van an"]
)
def test_name_search_finds_a_member_however_the_name_is_typed(world, query):
    assert set(Member.objects.search(query)) == {world.member_a1}


def test_a_name_saved_alone_is_searched_by_its_new_spelling(world):
    """A save that writes only the name writes its search form with it."""
    member = world.member_a1
    member.full_name = "Đỗ Thị Tuyết Nhung"
    member.save(update_fields=["full_name"])
    member.refresh_from_db()
    assert member.search_name == "do thi tuyet nhung"
    assert list(Member.objects.search("tuyet nhung")) == [member]


def test_search_finds_a_name_starting_with_d_stroke_when_typed_as_plain_d(world):
    assert set(Member.objects.search("dang")) == {world.member_b1}
    assert set(Member.objects.search("Đặng")) == {world.member_b1}


def test_search_matches_either_tone_mark_placement(world):
    hoa = MemberFactory(full_name="Vi Thị Hòa", sex="female", unit=world.a1)
    assert set(Member.objects.search("Hoà")) == {hoa}


def test_search_follows_a_renamed_member(world):
    member = world.member_a1
    member.full_name = "Hoàng Văn Thụ"
    member.save()

    assert set(Member.objects.search("hoang van thu")) == {member}
    assert not Member.objects.search("nguyen van an").exists()


def test_search_by_national_id_prefix(world):
    target = MemberFactory(
        full_name="Triệu Thị Xuân",
        sex="female",
        date_of_birth=datetime.date(1992, 1, 1),
        national_id="001192345678",
        unit=world.a1,
    )
    assert set(Member.objects.search("0011923")) == {target}
    assert set(Member.objects.search("001 192 345 678")) == {target}
    assert set(Member.objects.search("001192345678")) == {target}


def test_national_id_search_matches_from_the_start_only(world):
    MemberFactory(
        full_name="Triệu Thị Xuân",
        sex="female",
        date_of_birth=datetime.date(1992, 1, 1),
        national_id="001192345678",
        unit=world.a1,
    )
    assert not Member.objects.search("2345678").exists()


def test_search_by_union_card_number(world):
    assert set(Member.objects.search("C001")) == {world.member_a1}
    numeric = MemberFactory(full_name="Mã Văn Lợi", unit=world.a1, union_card_number="5566")
    assert set(Member.objects.search("5566")) == {numeric}


def test_empty_search_keeps_every_member(world):
    assert Member.objects.search("  ").count() == Member.objects.count()


def test_search_stays_inside_the_users_scope(world):
    staff_a = world.users["commune"]
    assert Member.objects.search("dang").exists()
    assert not Member.objects.visible_to(staff_a).search("dang").exists()
    assert not Member.objects.visible_to(staff_a).search("C002").exists()
    assert not Member.objects.visible_to(staff_a).search(world.member_b1.national_id).exists()


def test_province_staff_search_does_not_reach_another_province(world):
    province_staff = world.users["province"]
    assert set(Member.objects.search("le van cuong")) == {world.member_q1}
    assert not Member.objects.visible_to(province_staff).search("le van cuong").exists()
    assert set(Member.objects.visible_to(province_staff).search("van")) == {world.member_a1}


# PostgreSQL: the indexes that keep search and scope fast ------------------------------------

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Ngọc"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hòa", "Khánh", "Lan", "Mai", "Tùng"]


def _index_definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _many_members(world, count: int = 3000) -> None:
    members = []
    for n in range(count):
        name = (
            f"{FAMILY[n % len(FAMILY)]} {MIDDLE[n // 11 % len(MIDDLE)]} "
            f"{GIVEN[n // 77 % len(GIVEN)]} {n}"
        )
        born = datetime.date(1970 + n % 30, 1 + n % 12, 1 + n % 28)
        sex = "female" if n % 2 else "male"
        members.append(
            Member(
                full_name=name,
                search_name=normalise(name),
                sort_name=sort_key(name),
                sex=sex,
                date_of_birth=born,
                national_id=make_national_id("020", born, sex, 500_000 + n),
                unit=world.b1 if n % 2 else world.a1,
                union_card_number=f"T{n:06d}",
            )
        )
    Member.objects.bulk_create(members, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
        cursor.execute("ANALYZE unions_unit")


@pytest.mark.postgres
def test_member_names_have_a_trigram_index(world):
    definition = _index_definitions("members_member").get("member_search_name_trgm", "")
    assert "gin_trgm_ops" in definition
    assert "(search_name" in definition


@pytest.mark.postgres
def test_name_search_uses_the_trigram_index(world):
    _many_members(world)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    assert "member_search_name_trgm" in _plan(Member.objects.search("nguyen van"))


@pytest.mark.postgres
def test_names_starting_with_a_search_are_read_in_order_from_the_name_index(world):
    """The first part of a name search (members.forms.MemberFilter.parts) is a range of the
    (search_name, id) index, read in its order: no sort of every "nguyen van"."""
    _many_members(world)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    starting = Member.objects.filter(search_name__startswith="nguyen van").order_by(
        "search_name", "id"
    )
    plan = _plan(starting[:26])
    assert "Index Scan using member_name_order" in plan
    assert "Index Cond" in plan and "Sort" not in plan


@pytest.mark.postgres
def test_the_list_in_name_order_is_read_in_order_from_the_sort_index(world):
    """The member list's default order (Vietnamese order, "Đ" after "D") is the
    (sort_name, id) index read from its start: no sort of the whole list for a page."""
    _many_members(world)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _plan(Member.objects.order_by(*SORTS["name"])[:26])
    assert "Index Scan using member_sort_order" in plan
    assert "Sort" not in plan


@pytest.mark.postgres
def test_unit_paths_have_a_prefix_search_index(world):
    definitions = _index_definitions("unions_unit").values()
    assert any("varchar_pattern_ops" in d and "(path" in d for d in definitions)


@pytest.mark.postgres
def test_subtree_filter_uses_the_path_prefix_index(world):
    from unions.models import Unit

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _plan(Unit.objects.filter(path__startswith=world.commune_a.path))
    assert "unions_unit_path" in plan and "_like" in plan
