"""The member import: workers without a CCCD (the "Không có CCCD" mark) and the date people
count as members from when the list gives none ("members since" on the import page)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from common.imports import engine
from common.models import ImportJob
from members.models import Member, Membership

from ..factories import MemberFactory
from .test_imports import BIRTH, HEADER, cccd, confirm, person, upload, xlsx

pytestmark = pytest.mark.django_db

MARKED = [*HEADER, "Không có CCCD"]


def worker(name: str, mark="x", **overrides) -> list:
    """A worker row of MARKED: no number, no date joined, the mark in the last column."""
    values = {"id": "", "kind": "Người lao động", "joined": "", "name": name, **overrides}
    return [*person(0, **values), mark]


def preview(world, content: bytes, *, options=None, role="grassroots"):
    with translation.override("vi"):
        return engine.start_import(
            kind=ImportJob.Kind.MEMBERS,
            unit=world.a1,
            upload=upload(content),
            by=world.users[role],
            options=options,
        )


def test_a_marked_worker_row_without_a_cccd_is_recorded_unidentified(world):
    job = preview(world, xlsx([worker("Lò Văn Thắng")], header=MARKED))
    assert (job.to_create, job.refused) == (1, 0), job.refused_sample
    confirm(world, job)
    member = Member.objects.get(full_name="Lò Văn Thắng")
    assert (member.national_id, member.unidentified, member.kind) == (None, True, "worker")
    assert member.history.get().unidentified is True
    assert Membership.objects.filter(member=member, unit=world.a1).count() == 1


def test_importing_the_list_again_creates_nobody_twice(world):
    confirm(world, preview(world, xlsx([worker("Lò Văn Thắng")], header=MARKED)))
    again = xlsx([worker("LO VAN THANG", phone="0987000111")], header=MARKED)
    job = preview(world, again)
    assert (job.to_create, job.to_update, job.refused) == (0, 1, 0), job.refused_sample
    confirm(world, job)
    [member] = Member.objects.filter(unidentified=True)
    assert member.phone == "0987000111"


def test_the_same_name_and_birth_at_another_union_is_another_record(world):
    MemberFactory(
        full_name="Lò Văn Thắng",
        date_of_birth=BIRTH,
        national_id=None,
        unidentified=True,
        kind="worker",
        unit=world.a2,
    )
    job = preview(world, xlsx([worker("Lò Văn Thắng")], header=MARKED))
    assert (job.to_create, job.to_update) == (1, 0)


def test_an_empty_cccd_without_the_mark_is_still_refused(world):
    job = preview(world, xlsx([worker("Lò Văn Thắng", mark="")], header=MARKED))
    assert (job.to_create, job.refused) == (0, 1)
    [[column, reason]] = job.refused_sample[0]["errors"]
    assert column == "Số định danh cá nhân (CCCD)"
    assert "Không có CCCD" in reason


def test_the_mark_is_refused_for_a_union_member_and_beside_a_number(world):
    rows = [
        worker("Lò Văn Thắng", kind="Đoàn viên"),
        worker("Vàng A Páo", id=cccd(301)),
    ]
    job = preview(world, xlsx(rows, header=MARKED))
    assert (job.to_create, job.refused) == (0, 2)
    reasons = [error[1] for refusal in job.refused_sample for error in refusal["errors"]]
    assert any("Chỉ người lao động chưa là đoàn viên" in reason for reason in reasons)
    assert any("Đã nhập số định danh" in reason for reason in reasons)


def test_the_same_unidentified_worker_twice_in_the_file_is_refused_once(world):
    rows = [worker("Lò Văn Thắng"), worker("Lo Van Thang")]
    job = preview(world, xlsx(rows, header=MARKED))
    assert (job.to_create, job.refused) == (1, 1)
    assert "dòng 2" in job.refused_sample[0]["errors"][0][1]


def test_two_unidentified_workers_of_the_same_name_at_the_union_are_not_guessed(world):
    for _ in range(2):
        MemberFactory(
            full_name="Lò Văn Thắng",
            date_of_birth=BIRTH,
            national_id=None,
            unidentified=True,
            kind="worker",
            unit=world.a1,
        )
    job = preview(world, xlsx([worker("Lò Văn Thắng")], header=MARKED))
    assert (job.to_create, job.to_update, job.refused) == (0, 0, 1)


def test_an_unidentified_worker_recorded_after_the_preview_makes_the_import_stale(world):
    job = preview(world, xlsx([worker("Lò Văn Thắng")], header=MARKED))
    MemberFactory(
        full_name="Lò Văn Thắng",
        date_of_birth=BIRTH,
        national_id=None,
        unidentified=True,
        kind="worker",
        unit=world.a1,
    )
    job = confirm(world, job)
    assert job.status == ImportJob.Status.FAILED
    assert Member.objects.filter(unidentified=True).count() == 1


# -- members since ---------------------------------------------------------------------------


def test_new_people_without_a_date_joined_are_members_since_the_page_date(world):
    since = datetime.date(2020, 1, 1)
    rows = [person(1, joined=""), person(2, joined="15/03/2012"), worker("Lò Văn Thắng")]
    job = preview(world, xlsx(rows, header=MARKED), options={"joined_on": since})
    assert job.options == {"joined_on": "2020-01-01"}
    assert job.notes == [
        "2 người mới không ghi ngày vào công đoàn trong danh sách: là đoàn viên từ 01/01/2020, "
        "ngày ghi trên trang nhập."
    ]
    confirm(world, job)
    first = Member.objects.get(national_id=cccd(1))
    assert first.joined_on == since
    assert first.memberships.get().valid_from == since
    # The sheet's own date wins.
    assert Member.objects.get(national_id=cccd(2)).memberships.get().valid_from == datetime.date(
        2012, 3, 15
    )
    assert Member.objects.get(unidentified=True).memberships.get().valid_from == since


def test_without_any_date_new_people_count_from_today_and_the_preview_says_so(world):
    job = preview(world, xlsx([person(1, joined=""), person(2, joined="")]))
    assert job.notes == [
        "2 người mới chưa có ngày vào công đoàn: tính từ hôm nay. Hãy ghi ngày trên trang "
        "của từng người, hoặc nhập lại với “đoàn viên từ ngày”."
    ]
    confirm(world, job)
    member = Member.objects.get(national_id=cccd(1))
    assert member.joined_on is None
    assert member.memberships.get().valid_from == timezone.localdate()


def test_the_page_date_does_not_touch_people_already_registered(world):
    registered = MemberFactory(national_id=cccd(1), unit=world.a1, joined_on=None)
    job = preview(
        world, xlsx([person(1, joined="", phone="0987000111")]), options={"joined_on": "2020-01-01"}
    )
    assert (job.to_update, job.notes) == (1, [])
    confirm(world, job)
    registered.refresh_from_db()
    assert registered.joined_on is None


def test_a_date_left_before_the_page_date_is_refused(world):
    rows = [[*person(1, joined=""), "Đã nghỉ", "01/06/2019"]]
    header = [*HEADER, "Tình trạng", "Ngày nghỉ / chuyển đi / mất"]
    job = preview(world, xlsx(rows, header=header), options={"joined_on": "2020-01-01"})
    assert (job.to_create, job.refused) == (0, 1)


def test_a_page_date_in_the_future_is_refused_by_the_service_and_the_page(client_for, world):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        preview(world, xlsx([person(1)]), options={"joined_on": tomorrow})
    assert not ImportJob.objects.exists()
    page = client_for("grassroots").post(
        reverse("members:import_list"),
        {"unit": world.a1.pk, "file": upload(xlsx([person(1)])), "joined_on": tomorrow},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert page.status_code == 200
    assert "Ngày vào công đoàn không được sau ngày hôm nay." in page.text
    assert not ImportJob.objects.exists()


def test_the_import_page_asks_the_date_and_carries_it_to_the_job(client_for, world):
    client = client_for("grassroots")
    page = client.get(reverse("members:import_list"), HTTP_ACCEPT_LANGUAGE="vi")
    assert "Đoàn viên từ ngày (khi danh sách không ghi ngày vào công đoàn)" in page.text
    response = client.post(
        reverse("members:import_list"),
        {
            "unit": world.a1.pk,
            "file": upload(xlsx([person(1, joined="")])),
            "joined_on": "2020-01-01",
        },
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.options == {"joined_on": "2020-01-01"}
    detail = client.get(reverse("members:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="vi")
    assert "là đoàn viên từ 01/01/2020" in detail.text
