import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from common.templatetags.people import person_name
from members.models import Member, Membership
from members.national_id import make_national_id

from ..factories import MemberFactory

pytestmark = pytest.mark.django_db

LIST = reverse("members:list")


def member_data(unit, **overrides):
    birth = datetime.date(1990, 4, 2)
    data = {
        "full_name": "  Hoàng   Thị Mai ",
        "sex": "female",
        "date_of_birth": birth.isoformat(),
        "national_id": make_national_id("020", birth, "female", 424242),
        "unit": unit.pk,
        "kind": "member",
        "union_card_number": "LS7777777",
        "joined_on": "2015-06-01",
        "occupation": "Giáo viên",
        "phone": "0912345678",
        "address": "Phường Đông Kinh",
        "status": "active",
    }
    data.update(overrides)
    return data


def names(response):
    return [member.full_name for member in response.context["page"].object_list]


def test_search_without_diacritics_finds_vietnamese_names(client_for, world):
    client = client_for("province")
    assert names(client.get(LIST, {"q": "nguyen van"})) == ["Nguyễn Văn An"]
    assert names(client.get(LIST, {"q": "Nguyen Van"})) == ["Nguyễn Văn An"]
    assert names(client.get(LIST, {"q": "dang"})) == ["Đặng Thị Bình"]
    assert names(client.get(LIST, {"q": "C002"})) == ["Đặng Thị Bình"]
    assert names(client.get(LIST, {"q": world.member_a1.national_id[:8]})) == ["Nguyễn Văn An"]


def test_grassroots_officer_lists_only_own_unit(client_for, world):
    response = client_for("grassroots").get(LIST)
    assert names(response) == ["Nguyễn Văn An"]
    assert "Đặng Thị Bình" not in response.text
    # searching for a person outside scope finds nothing
    assert names(client_for("grassroots").get(LIST, {"q": "dang"})) == []


def test_filters_by_unit_subtree_status_sex_and_kind(client_for, world):
    client = client_for("province")
    MemberFactory(full_name="Vi Văn Dũng", unit=world.a2, kind="worker", status="left")
    assert sorted(names(client.get(LIST, {"unit": world.commune_a.pk}))) == [
        "Nguyễn Văn An",
        "Vi Văn Dũng",
    ]
    assert names(client.get(LIST, {"sex": "female"})) == ["Đặng Thị Bình"]
    assert names(client.get(LIST, {"kind": "worker"})) == ["Vi Văn Dũng"]
    assert names(client.get(LIST, {"status": "left"})) == ["Vi Văn Dũng"]
    # a unit outside scope is not a valid choice, so it filters nothing in
    response = client.get(LIST, {"unit": world.q1.pk})
    assert "Lê Văn Cường" not in names(response)


def test_sort_orders_by_name_and_birth_date(client_for, world):
    client = client_for("province")
    assert names(client.get(LIST, {"sort": "name"})) == ["Đặng Thị Bình", "Nguyễn Văn An"]
    assert names(client.get(LIST, {"sort": "-name"})) == ["Nguyễn Văn An", "Đặng Thị Bình"]


def test_names_with_d_come_before_names_with_the_barred_d(client_for, world):
    """Vietnamese order: every "D" name, then every "Đ" name, however the letters after run."""
    for name in ("Dương Văn Hải", "Đào Thị Lan", "Doãn Văn Tú", "Đinh Thị Mơ"):
        MemberFactory(full_name=name, unit=world.a1)
    client = client_for("province")
    listed = [n for n in names(client.get(LIST, {"sort": "name"})) if n[0] in "DĐ"]
    assert listed == [
        "Doãn Văn Tú", "Dương Văn Hải", "Đào Thị Lan", "Đặng Thị Bình", "Đinh Thị Mơ",
    ]  # fmt: skip
    reverse = [n for n in names(client.get(LIST, {"sort": "-name"})) if n[0] in "DĐ"]
    assert reverse == listed[::-1]


def _bulk_members(unit, count):
    for index in range(count):
        MemberFactory(full_name=f"Trần Văn Thành {index:03d}", unit=unit)


def _follow(client, response, link):
    """The page behind one of the pagination links of ``response``."""
    query = getattr(response.context["page"], link)
    assert query is not None, link
    return client.get(f"{LIST}?{query}")


def test_member_list_runs_a_fixed_number_of_queries(client_for, world, settings):
    """Page 1, a deep page, the last page and a search page: the same number of queries."""
    _bulk_members(world.a1, 60)
    client = client_for("province")
    settings.PAGE_SIZE = 10
    counts = {}
    for name, get in [
        ("first", lambda: client.get(LIST)),
        (
            "deep",
            lambda: _follow(client, _follow(client, client.get(LIST), "next_query"), "next_query"),
        ),
        ("last", lambda: client.get(LIST, {"last": "1"})),
        ("search", lambda: client.get(LIST, {"q": "tran van", "sort": "-dob"})),
        ("unit", lambda: client.get(LIST, {"unit": world.a1.pk})),
    ]:
        response = get()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                response.request["PATH_INFO"] + "?" + response.request["QUERY_STRING"]
            )
        assert len(response.context["page"].object_list) == 10, name
        counts[name] = len(queries)
    assert counts["first"] == counts["deep"] == counts["last"] == counts["search"] <= 12
    # the chosen unit, read to validate it, and the ids of its subtree
    assert counts["unit"] == counts["first"] + 2


def test_member_list_pages_through_everyone_by_keyset(client_for, world, settings):
    _bulk_members(world.a1, 23)
    client = client_for("province")
    settings.PAGE_SIZE = 10
    first = client.get(LIST, {"sex": "male"})
    assert first.context["page"].count == 24  # with Nguyễn Văn An; Lê Văn Cường is out of scope
    assert (first.context["page"].start_index, first.context["page"].end_index) == (1, 10)
    second = _follow(client, first, "next_query")
    third = _follow(client, second, "next_query")
    seen = names(first) + names(second) + names(third)
    assert seen == sorted(set(seen), key=seen.index)  # no one twice
    assert len(seen) == 24 and third.context["page"].next_query is None
    assert names(_follow(client, third, "previous_query")) == names(second)
    assert names(_follow(client, third, "first_query")) == names(first)
    assert names(_follow(client, first, "last_query")) == seen[-10:]
    # the filters ride along the links
    assert "Đặng Thị Bình" not in seen


def test_tampered_cursor_shows_the_first_page(client_for, world):
    client = client_for("province")
    expected = names(client.get(LIST))
    for query in (
        {"after": "!!"},
        {"before": "WyJ4Il0"},
        {"after": "bm90IGpzb24"},
        {"page": "x"},
        {"sort": "unit"},
    ):
        response = client.get(LIST, query)
        assert response.status_code == 200 and names(response) == expected


def test_joined_recently_puts_unknown_joining_dates_last(client_for, world):
    MemberFactory(full_name="Vi Văn Dũng", unit=world.a1, joined_on=None)
    MemberFactory(full_name="Hà Thị Em", unit=world.a1, joined_on=datetime.date(2024, 1, 1))
    response = client_for("province").get(LIST, {"sort": "-joined"})
    assert names(response)[0] == "Hà Thị Em"
    assert names(response)[-1] == "Vi Văn Dũng"


def test_the_unit_filter_offers_no_list_of_units(client_for, world):
    """The unit is chosen through the search box: the page does not grow with the tree."""
    client = client_for("province")
    page = client.get(LIST)
    assert world.commune_b.name not in page.text
    assert 'type="hidden" name="unit"' in page.text
    chosen = client.get(LIST, {"unit": world.commune_a.pk})
    assert f'value="{world.commune_a.name}"' in chosen.text


def test_export_holds_every_filtered_row_not_one_page(client_for, world, settings):
    _bulk_members(world.a1, 12)
    settings.PAGE_SIZE = 5
    response = client_for("province").get(
        reverse("members:export", args=["csv"]), {"q": "tran van", "after": "x"}
    )
    text = response.getvalue().decode("utf-8-sig")
    assert text.count("Trần Văn Thành") == 12


def test_a_search_that_finds_nobody_does_not_explain_the_order_of_its_hits(client_for, world):
    response = client_for("province").get(LIST, {"q": "Zyxw Qvut"})
    assert response.context["page"].count == 0
    assert "“Zyxw Qvut”" not in response.text  # the note quotes what was typed
    name = world.member_a1.full_name
    assert f"“{name}”" in client_for("province").get(LIST, {"q": name}).text


def test_a_name_search_lists_names_starting_with_the_words_first_then_the_others(
    client_for, world, settings
):
    _bulk_members(world.a1, 8)  # "Trần Văn Thành 000" ... "007": they start with the words
    MemberFactory(full_name="Lê Trần Văn Thành", unit=world.a1)  # contains them, later on
    MemberFactory(full_name="Trần Văn Thanh", unit=world.b1)  # starts with them too
    settings.PAGE_SIZE = 4
    client = client_for("province")
    first = client.get(LIST, {"q": " Tran Van Thanh "})
    assert first.context["name_prefix"] == "Tran Van Thanh"
    second = _follow(client, first, "next_query")
    third = _follow(client, second, "next_query")
    seen = names(first) + names(second) + names(third)
    starting = ["Trần Văn Thanh", *(f"Trần Văn Thành {n:03d}" for n in range(8))]
    assert seen == [*starting, "Lê Trần Văn Thành"]  # in name order, then the other part
    assert third.context["page"].next_query is None
    assert first.context["page"].count == 10
    # Back across the boundary of the two parts, and the last page from the end.
    assert names(_follow(client, third, "previous_query")) == names(second)
    last = _follow(client, first, "last_query")
    assert names(last) == seen[-4:]
    assert names(_follow(client, last, "previous_query")) == seen[-8:-4]


def test_member_page_runs_a_fixed_number_of_queries(
    client_for, world, django_assert_max_num_queries
):
    client = client_for("grassroots")
    url = reverse("members:detail", args=[world.member_a1.pk])
    # with the access log's record of the visit and the legal basis that stands
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert "Nguyễn Minh Khôi" in response.text  # the child


def test_a_province_chooses_the_union_of_a_new_member_by_typing(client_for, world, monkeypatch):
    """Past a few units the union is a search box (a city has 6,000 grassroots unions); the
    choice is still checked against the units the user may add members to."""
    monkeypatch.setattr("unions.widgets.FEW_CHOICES", 1)
    client = client_for("province")
    page = client.get(reverse("members:create")).text
    assert (
        'data-choices-url="/units/search/?for=edit_members&amp;active=1&amp;kind=grassroots"'
        in page
    )
    assert 'type="hidden" name="unit" id="id_unit_value" value=""' in page
    assert world.a2.name not in page  # no list of unions in the page
    refused = client.post(reverse("members:create"), member_data(world.q1))
    assert refused.status_code == 200 and "unit" in refused.context["form"].errors
    assert (
        f'value="{world.a1.name} — {world.commune_a.name}"'
        in client.post(reverse("members:create"), member_data(world.a1, national_id="1")).text
    )  # a form sent back keeps the union chosen, by name
    created = client.post(reverse("members:create"), member_data(world.a1))
    assert created.status_code == 302
    assert Member.objects.get(full_name="Hoàng Thị Mai").unit == world.a1


def test_an_officer_with_a_few_unions_gets_a_plain_select(client_for, world):
    page = client_for("grassroots").get(reverse("members:create")).text
    assert '<select name="unit"' in page and world.a1.name in page
    assert "data-choices-url" not in page


def test_officer_creates_member_with_first_membership(client_for, world):
    response = client_for("grassroots").post(reverse("members:create"), member_data(world.a1))
    member = Member.objects.get(national_id=member_data(world.a1)["national_id"])
    assert response.status_code == 302
    assert member.full_name == "Hoàng Thị Mai"
    assert member.search_name == "hoang thi mai"
    assert member.unit == world.a1
    membership = Membership.objects.get(member=member)
    assert (membership.unit, membership.valid_to) == (world.a1, None)
    assert member.history.get().history_user == world.users["grassroots"]


def test_bad_member_input_shows_vietnamese_message_and_saves_nothing(client_for, world):
    before = Member.objects.count()
    client = client_for("grassroots")
    bad_id = member_data(world.a1, national_id="020" + "0" + "90424242")  # male digit, female
    with translation.override("vi"):
        notice = gettext("Please correct the errors below. Nothing has been saved yet.")
        response = client.post(reverse("members:create"), bad_id, HTTP_ACCEPT_LANGUAGE="vi")
    assert notice != "Please correct the errors below. Nothing has been saved yet."
    assert response.status_code == 200
    assert notice in response.text
    [error] = response.context["form"].errors["national_id"]
    assert "chữ số thứ tư" in error.lower() or "thứ 4" in error.lower(), error
    assert Member.objects.count() == before


def test_officer_cannot_create_member_in_neighbouring_unit(client_for, world):
    before = Member.objects.count()
    response = client_for("grassroots").post(reverse("members:create"), member_data(world.a2))
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert Member.objects.count() == before


def test_edit_keeps_history_of_who_changed_what(client_for, world):
    member = world.member_a1
    data = member_data(
        world.a1,
        full_name=member.full_name,
        sex=member.sex,
        date_of_birth=member.date_of_birth.isoformat(),
        national_id=member.national_id,
        union_card_number=member.union_card_number,
        occupation="Kỹ sư",
    )
    data.pop("unit")
    response = client_for("commune").post(reverse("members:edit", args=[member.pk]), data)
    assert response.status_code == 302
    latest = member.history.latest()
    assert latest.history_user == world.users["commune"]
    assert latest.occupation == "Kỹ sư"
    page = client_for("commune").get(reverse("members:detail", args=[member.pk]))
    assert person_name(world.users["commune"]) in page.text  # the full name, not the login


def test_transfer_keeps_membership_history(client_for, world):
    member = world.member_a1
    response = client_for("commune").post(
        reverse("members:transfer", args=[member.pk]),
        {"to_unit": world.a2.pk, "effective_on": "2024-01-15", "note": "Chuyển công tác"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.unit == world.a2
    rows = list(member.memberships.order_by("valid_from").values_list("unit", "valid_to"))
    assert rows == [(world.a1.pk, datetime.date(2024, 1, 15)), (world.a2.pk, None)]
    page = client_for("commune").get(reverse("members:detail", args=[member.pk]))
    assert world.a1.name in page.text and world.a2.name in page.text


def test_transfer_outside_scope_is_refused_on_the_form(client_for, world):
    member = world.member_a1
    response = client_for("commune").post(
        reverse("members:transfer", args=[member.pk]),
        {"to_unit": world.b1.pk, "effective_on": "2024-01-15"},
    )
    assert response.status_code == 200
    assert "to_unit" in response.context["form"].errors
    member.refresh_from_db()
    assert member.unit == world.a1


def test_leader_reads_but_cannot_edit(client_for, world):
    client = client_for("leader")
    page = client.get(reverse("members:detail", args=[world.member_a1.pk]))
    assert page.status_code == 200
    assert reverse("members:edit", args=[world.member_a1.pk]) not in page.text
    assert client.post(reverse("members:edit", args=[world.member_a1.pk]), {}).status_code == 403


def test_children_are_added_edited_and_removed(client_for, world):
    client = client_for("grassroots")
    member = world.member_a1
    response = client.post(
        reverse("members:dependant_create", args=[member.pk]),
        {"full_name": "Nguyễn Thu Trang", "sex": "female", "date_of_birth": "2018-09-05"},
    )
    assert response.status_code == 302
    child = member.dependants.get(full_name="Nguyễn Thu Trang")
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("members:dependant_edit", args=[child.pk]),
        {"full_name": "Nguyễn Thu Trang", "sex": "female", "date_of_birth": future},
    )
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors
    client.post(reverse("members:dependant_delete", args=[child.pk]))
    assert not member.dependants.filter(pk=child.pk).exists()


def test_unit_page_lists_members_children_and_officers(
    client_for, world, django_assert_max_num_queries
):
    client = client_for("commune")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("units:detail", args=[world.commune_a.pk]))
    assert world.a1.name in response.text and world.a2.name in response.text
    assert world.b1.name not in response.text
    officers = {o.user for o in response.context["officers"]}
    assert officers == {world.users["commune"], world.users["commune_treasurer"]}
    assert response.context["member_counts"]["active"] == 1


def test_the_count_stops_at_the_cap(client_for, world, monkeypatch):
    _bulk_members(world.a1, 8)
    monkeypatch.setattr("members.views.FILTERED_COUNT_CAP", 5)
    monkeypatch.setattr("members.views.MEMBER_COUNT_CAP", 20)
    client = client_for("province")
    filtered = client.get(LIST, {"q": "tran"}).context["page"]
    assert (filtered.count, filtered.count_is_capped) == (5, True)
    everyone = client.get(LIST).context["page"]
    assert (everyone.count, everyone.count_is_capped) == (10, False)


@pytest.mark.postgres
def test_the_other_hits_of_a_name_search_are_the_closest_only_and_the_export_has_them_all(
    client_for, world, settings, monkeypatch
):
    for n in range(6):
        MemberFactory(full_name=f"Lê Trần Văn Thành {'Ngọc ' * n}Anh", unit=world.a1)
    MemberFactory(full_name="Trần Văn Thành", unit=world.a1)
    monkeypatch.setattr("members.views.SEARCH_LIMIT", 3)
    settings.PAGE_SIZE = 3
    client = client_for("province")
    first = client.get(LIST, {"q": "tran van thanh"})
    assert first.context["search_limit"] == 3 and first.context["page"].count == 7
    # The name starting with the words, then the three others closest to them (the shortest).
    assert names(first) == ["Trần Văn Thành", "Lê Trần Văn Thành Anh", "Lê Trần Văn Thành Ngọc Anh"]
    second = _follow(client, first, "next_query")
    assert names(second) == ["Lê Trần Văn Thành Ngọc Ngọc Anh"]
    assert second.context["page"].next_query is None
    export = client.get(reverse("members:export", args=["csv"]), {"q": "tran van thanh"})
    assert export.getvalue().decode("utf-8-sig").count("Trần Văn Thành") == 7
