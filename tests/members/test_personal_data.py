"""National ID numbers shown masked by default; revealing one, opening a member's record or
exporting full numbers is recorded (Personal Data Protection Law)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from members.models import MemberAccess
from members.national_id import masked

pytestmark = pytest.mark.django_db


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("001234567890", "••••••••7890"),
        ("123456789", "•••••6789"),
        ("1234", "••••"),
        ("", ""),
    ],
)
def test_masked_keeps_only_the_last_four_digits(number, shown):
    assert masked(number) == shown


def test_list_and_page_show_the_number_masked_and_the_page_is_recorded(client_for, world):
    member, full = world.member_a1, world.member_a1.national_id
    client = client_for("leader")
    listing = client.get(reverse("members:list")).content.decode()
    assert full not in listing and masked(full) in listing
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert full not in page and masked(full) in page
    # a leader reads, but may not reveal
    assert reverse("members:reveal_id", args=[member.pk]) not in page
    [record] = MemberAccess.objects.all()
    assert (record.member, record.user, record.what) == (
        member,
        world.users["leader"],
        MemberAccess.What.PAGE,
    )


def test_revealing_shows_the_number_once_and_records_who_whose_and_when(client_for, world):
    member, full = world.member_a1, world.member_a1.national_id
    client = client_for("grassroots")
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert reverse("members:reveal_id", args=[member.pk]) in page
    revealed = client.post(reverse("members:reveal_id", args=[member.pk])).content.decode()
    assert full in revealed
    reveal = MemberAccess.objects.get(what=MemberAccess.What.REVEAL)
    assert (reveal.member, reveal.user) == (member, world.users["grassroots"])
    assert reveal.at is not None
    # opened again, the page is masked
    assert full not in client.get(reverse("members:detail", args=[member.pk])).content.decode()


def test_who_may_only_read_cannot_reveal_and_outsiders_find_nothing(client_for, world):
    url = reverse("members:reveal_id", args=[world.member_a1.pk])
    assert client_for("treasurer").post(url).status_code == 403
    outside = reverse("members:reveal_id", args=[world.member_q1.pk])
    assert client_for("grassroots").post(outside).status_code == 404
    assert client_for("grassroots").get(url).status_code == 405
    assert not MemberAccess.objects.filter(what=MemberAccess.What.REVEAL).exists()


def test_opening_the_edit_form_is_recorded(client_for, world):
    client_for("grassroots").get(reverse("members:edit", args=[world.member_a1.pk]))
    assert MemberAccess.objects.filter(what=MemberAccess.What.EDIT).count() == 1


def test_an_export_with_full_numbers_needs_the_right_to_edit_and_is_recorded(client_for, world):
    url = reverse("members:export", args=["csv"])
    assert client_for("leader").get(url, {"ids": "full"}).status_code == 403
    rows = csv_rows(client_for("province").get(url, {"ids": "full", "q": "nguyen van"}))
    assert rows[1][0] == "Nguyễn Văn An" and rows[1][3] == world.member_a1.national_id
    [record] = MemberAccess.objects.filter(what=MemberAccess.What.EXPORT)
    assert record.member is None and record.user == world.users["province"]
    assert "csv" in record.detail and "nguyen" in record.detail


def test_a_full_export_holds_only_the_members_one_may_edit(client_for, world):
    # the leader of the province reads everyone but edits no one; an officer of A1 edits A1's
    rows = csv_rows(
        client_for("grassroots").get(reverse("members:export", args=["csv"]), {"ids": "full"})
    )
    assert [row[0] for row in rows[1:]] == ["Nguyễn Văn An"]


def test_the_django_admin_masks_the_list_and_records_who_opened_a_member(client, world):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.vn", "x-pass-123")
    client.force_login(root)
    member = world.member_a1
    listing = client.get(reverse("admin:members_member_changelist")).content.decode()
    assert member.full_name in listing and masked(member.national_id) in listing
    assert member.national_id not in listing
    # a search by the full number still finds the member
    found = client.get(reverse("admin:members_member_changelist"), {"q": member.national_id})
    assert member.full_name in found.content.decode()
    # the change form shows the full number, so opening it is recorded
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert page.status_code == 200
    access = MemberAccess.objects.get(member=member, user=root)
    assert (access.what, access.detail) == (MemberAccess.What.EDIT, "django-admin")


def test_the_django_admin_shows_consents_and_requests_and_changes_none(client, world):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from members import privacy
    from members.models import LegalBasis, SubjectRequest

    today = timezone.localdate()
    member = world.member_a1
    consent = privacy.record_consent(
        member=member, basis=LegalBasis.CONSENT, given_on=today, by=world.users["grassroots"]
    )
    found = privacy.receive_request(
        member=member,
        kind=SubjectRequest.Kind.RESTRICT,
        received_on=today,
        details="Hạn chế xử lý",
        by=world.users["admin"],
    )
    root = get_user_model().objects.create_superuser("root", "root@example.vn", "x-pass-123")
    client.force_login(root)
    for name, record in (("consent", consent), ("subjectrequest", found)):
        listing = client.get(reverse(f"admin:members_{name}_changelist"))
        assert listing.status_code == 200 and member.full_name in listing.content.decode()
        url = reverse(f"admin:members_{name}_change", args=[record.pk])
        assert client.get(url).status_code == 200  # shown, read only
        assert client.post(url, {}).status_code == 403
        assert client.get(reverse(f"admin:members_{name}_add")).status_code == 403
        assert client.post(reverse(f"admin:members_{name}_delete", args=[record.pk]), {
            "post": "yes"
        }).status_code == 403  # fmt: skip
    found.refresh_from_db()
    assert found.status == SubjectRequest.Status.RECEIVED
    assert member.consents.count() == 1
