"""Non-member workers without an ID number (seasonal, informal): recorded by name, date of birth
and unit, flagged, and recognised again by normalised name and birth date."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from members.models import Member, Membership

from ..factories import MemberFactory
from .test_views import member_data

pytestmark = pytest.mark.django_db

CREATE = reverse("members:create")
LIST = reverse("members:list")


def unidentified_data(unit, **overrides):
    fields = {
        "full_name": "Lò Văn Thắng",
        "sex": "male",
        "date_of_birth": "1996-08-20",
        "national_id": "",
        "unidentified": "on",
        "kind": "worker",
        "union_card_number": "",
    }
    return member_data(unit, **{**fields, **overrides})


def test_a_worker_without_an_id_number_is_recorded_flagged(client_for, world):
    response = client_for("grassroots").post(CREATE, unidentified_data(world.a1))
    member = Member.objects.get(full_name="Lò Văn Thắng")
    assert response.status_code == 302
    assert (member.national_id, member.unidentified, member.kind) == (None, True, "worker")
    assert member.search_name == "lo van thang"
    assert Membership.objects.filter(member=member, unit=world.a1).exists()


def test_two_unidentified_workers_do_not_collide_on_the_empty_number(client_for, world):
    client = client_for("grassroots")
    client.post(CREATE, unidentified_data(world.a1))
    client.post(CREATE, unidentified_data(world.a1, full_name="Vàng A Páo"))
    assert Member.objects.filter(unidentified=True).count() == 2


def test_a_union_member_needs_an_id_number(client_for, world):
    page = client_for("grassroots").post(
        CREATE, unidentified_data(world.a1, kind="member"), HTTP_ACCEPT_LANGUAGE="vi"
    )
    assert page.status_code == 200
    assert "Chỉ người lao động chưa là đoàn viên mới được ghi không có số định danh." in page.text
    assert not Member.objects.filter(full_name="Lò Văn Thắng").exists()


def test_without_the_mark_an_empty_number_is_refused(client_for, world):
    data = unidentified_data(world.a1)
    del data["unidentified"]
    page = client_for("grassroots").post(CREATE, data, HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200
    assert "Hãy nhập số định danh" in page.text
    assert not Member.objects.filter(full_name="Lò Văn Thắng").exists()


def test_a_number_and_the_mark_together_are_refused(client_for, world):
    data = unidentified_data(world.a1, national_id="020096123456")
    page = client_for("grassroots").post(CREATE, data, HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200
    assert not Member.objects.filter(full_name="Lò Văn Thắng").exists()


def test_the_database_refuses_a_member_without_a_number(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(unit=world.a1, national_id=None, unidentified=True, kind="member")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(unit=world.a1, national_id=None, kind="worker")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(unit=world.a1, unidentified=True, kind="worker")  # with a number


def test_a_probable_duplicate_in_the_province_is_named_and_must_be_confirmed(client_for, world):
    # The same worker already at A2 (in the officer's scope) and at B1 (outside it).
    MemberFactory(
        full_name="LO VAN THANG",
        date_of_birth=datetime.date(1996, 8, 20),
        national_id=None,
        unidentified=True,
        kind="worker",
        unit=world.a2,
    )
    MemberFactory(full_name="Lò Văn Thắng", date_of_birth=datetime.date(1996, 8, 20), unit=world.b1)
    # Another province's namesake is another person.
    MemberFactory(full_name="Lò Văn Thắng", date_of_birth=datetime.date(1996, 8, 20), unit=world.q1)
    client = client_for("commune")
    page = client.post(CREATE, unidentified_data(world.a1), HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200
    assert Member.objects.filter(unit=world.a1, full_name="Lò Văn Thắng").count() == 0
    form = page.context["form"]
    assert [m.unit for m in form.probable_duplicates] == [world.a2]
    assert form.duplicates_elsewhere == 1
    assert "CĐCS Trường A2" in page.text
    assert "CĐCS Bệnh viện B1" not in page.text  # outside the commune's scope: only counted
    assert "1 người ở công đoàn khác trong tỉnh" in page.text

    confirmed = client.post(CREATE, unidentified_data(world.a1, same_person_checked="on"))
    assert confirmed.status_code == 302
    assert Member.objects.filter(unit=world.a1, full_name="Lò Văn Thắng").count() == 1


def test_an_unidentified_worker_edited_without_touching_name_or_birth_is_not_asked_again(
    client_for, world
):
    kept = dict(full_name="Lò Văn Thắng", date_of_birth=datetime.date(1996, 8, 20))
    MemberFactory(**kept, national_id=None, unidentified=True, kind="worker", unit=world.a2)
    member = MemberFactory(
        **kept, national_id=None, unidentified=True, kind="worker", unit=world.a1
    )
    data = unidentified_data(world.a1, phone="0987000111", same_person_checked="")
    del data["unit"]
    response = client_for("grassroots").post(reverse("members:edit", args=[member.pk]), data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone == "0987000111"


def test_list_and_page_say_the_number_is_missing_and_the_list_filters_on_it(client_for, world):
    worker = MemberFactory(
        full_name="Vàng A Páo", national_id=None, unidentified=True, kind="worker", unit=world.a1
    )
    client = client_for("grassroots")
    listed = client.get(LIST, HTTP_ACCEPT_LANGUAGE="vi")
    assert "Chưa có số định danh" in listed.text
    only = client.get(LIST, {"identified": "no"})
    assert [m.full_name for m in only.context["page"].object_list] == ["Vàng A Páo"]
    others = client.get(LIST, {"identified": "yes"})
    assert [m.full_name for m in others.context["page"].object_list] == ["Nguyễn Văn An"]
    page = client.get(reverse("members:detail", args=[worker.pk]), HTTP_ACCEPT_LANGUAGE="vi")
    assert "Chưa có số định danh" in page.text
    assert reverse("members:reveal_id", args=[worker.pk]) not in page.text  # nothing to reveal


def test_exports_say_the_number_is_missing(client_for, world):
    MemberFactory(
        full_name="Vàng A Páo", national_id=None, unidentified=True, kind="worker", unit=world.a1
    )
    client = client_for("grassroots")
    for ids in ("", "full"):
        response = client.get(
            reverse("members:export", args=["csv"]), {"ids": ids}, HTTP_ACCEPT_LANGUAGE="vi"
        )
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        [line] = [line for line in text.splitlines() if "Vàng A Páo" in line]
        assert "Chưa có số định danh" in line


def test_a_search_by_number_does_not_find_unidentified_workers(world):
    MemberFactory(
        full_name="Vàng A Páo", national_id=None, unidentified=True, kind="worker", unit=world.a1
    )
    by_number = set(Member.objects.search("020").values_list("full_name", flat=True))
    assert by_number == {"Nguyễn Văn An", "Đặng Thị Bình", "Lê Văn Cường"}
    by_name = Member.objects.search("vang a").values_list("full_name", flat=True)
    assert list(by_name) == ["Vàng A Páo"]
