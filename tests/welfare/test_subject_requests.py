"""Personal data on the portal's pages: the legal basis recorded on the member's page, the
notice to sign, the administrators' list of data-subject requests and their answers, and a
restriction that stops new cases (members/privacy.py, welfare/privacy/)."""

from __future__ import annotations

import datetime
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from common.templatetags.people import person_name
from members import privacy
from members.models import Consent, LegalBasis, SubjectRequest
from unions.models import Role
from welfare.models import Case, Loan

from ..access import told
from ..factories import make_user
from .loans.builders import build_loan
from .test_case_views import case_data

pytestmark = pytest.mark.django_db

Kind, Status = SubjectRequest.Kind, SubjectRequest.Status


def receive(world, member=None, kind=Kind.CORRECT, days_ago=0):
    return privacy.receive_request(
        member=member or world.member_a1,
        kind=kind,
        received_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        details="Sai ngày sinh",
        by=world.users["admin" if member is None or member.unit_id != world.q1.pk else "outsider"],
    )


# --- consent on the member's page --------------------------------------------------------------


def test_the_member_page_shows_the_basis_its_date_version_and_recorder(client_for, world, settings):
    client = client_for("grassroots")
    url = reverse("members:detail", args=[world.member_a1.pk])
    assert told("No legal basis or consent recorded.") in client.get(url).content.decode()
    response = client.post(
        reverse("members:consent", args=[world.member_a1.pk]),
        {"basis": LegalBasis.CONSENT, "given_on": "2026-01-15"},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert told("Consent of the data subject") in page
    recorded = told(
        "Given on %(day)s, notice version %(version)s, recorded by %(name)s.",
        day="15/01/2026",
        version=settings.PERSONAL_DATA_NOTICE_VERSION,
        name=person_name(world.users["grassroots"]),
    )
    assert recorded in page


def test_a_withdrawal_from_the_form_is_shown_as_such(client_for, world):
    client = client_for("grassroots")
    member = world.member_a1
    privacy.record_consent(
        member=member,
        basis=LegalBasis.CONSENT,
        given_on=datetime.date(2026, 1, 5),
        by=world.users["grassroots"],
    )
    client.post(
        reverse("members:consent", args=[member.pk]),
        {"basis": "withdrawn", "given_on": "2026-02-01"},
    )
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert told("Consent withdrawn") in page and "01/02/2026" in page
    assert Consent.objects.filter(member=member).count() == 2


def test_a_refused_consent_is_explained_on_the_page(client_for, world):
    response = client_for("grassroots").post(
        reverse("members:consent", args=[world.member_a1.pk]),
        {"basis": "withdrawn", "given_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    assert told("The person has no consent on record to withdraw.") in response.content.decode()
    assert not Consent.objects.exists()


# --- the notice --------------------------------------------------------------------------------


def test_the_notice_is_a_pdf_in_the_unions_format_with_the_persons_name(
    client_for, world, tmp_path, settings
):
    settings.PERSONAL_DATA_NOTICE_VERSION = "2026-01"
    response = client_for("grassroots").get(reverse("privacy:notice", args=[world.member_a1.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "CĐCS CÔNG TY A1" in text and "Số: …/TB-P-A-1" in text
    assert "THÔNG BÁO" in text and "Phiên bản 2026-01" in text
    assert "Kính gửi: Ông Nguyễn Văn An" in text
    for words in ("Dữ liệu được xử lý", "Mục đích xử lý", "Căn cứ xử lý", "Thời gian lưu giữ"):
        assert words in text
    assert "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15" in text
    assert "NGƯỜI ĐƯỢC THÔNG BÁO" in text


# --- the requests' pages -----------------------------------------------------------------------


def test_the_list_holds_only_the_administrators_units(client_for, world):
    receive(world)
    receive(world, member=world.member_q1)
    page = client_for("admin").get(reverse("privacy:requests")).content.decode()
    assert world.member_a1.full_name in page
    assert world.member_q1.full_name not in page


def test_the_list_marks_the_overdue_and_filters_them(client_for, world):
    late = receive(world, days_ago=20)
    receive(world, member=world.member_b1)
    client = client_for("admin")
    page = client.get(reverse("privacy:requests")).content.decode()
    assert "table-danger" in page and 'id="overdue-count"' in page
    only_late = client.get(reverse("privacy:requests"), {"show": "overdue"})
    shown = [item.pk for item in only_late.context["page"].object_list]
    assert shown == [late.pk]


def test_the_list_filters_by_kind_and_name(client_for, world):
    receive(world, kind=Kind.DELETE)
    receive(world, member=world.member_b1, kind=Kind.ACCESS)
    client = client_for("admin")
    by_kind = client.get(reverse("privacy:requests"), {"kind": Kind.DELETE})
    assert [r.member for r in by_kind.context["page"].object_list] == [world.member_a1]
    by_name = client.get(reverse("privacy:requests"), {"q": "dang thi"})
    assert [r.member for r in by_name.context["page"].object_list] == [world.member_b1]


def test_closed_requests_leave_the_open_list(client_for, world):
    found = receive(world)
    privacy.complete_request(
        request=found, on=timezone.localdate(), outcome="Đã sửa", by=world.users["admin"]
    )
    client = client_for("admin")
    assert not client.get(reverse("privacy:requests")).context["page"].object_list
    closed = client.get(reverse("privacy:requests"), {"show": "closed"})
    assert list(closed.context["page"].object_list) == [found]


def test_the_list_reads_a_fixed_number_of_queries(
    client_for, world, django_assert_max_num_queries, settings
):
    settings.PAGE_SIZE = 5
    for days in range(8):
        receive(world, days_ago=days)
        receive(world, member=world.member_b1, days_ago=days)
    client = client_for("admin")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("privacy:requests"))
    assert len(response.context["page"].object_list) == 5


def test_recording_a_request_from_the_member_page(client_for, world):
    client = client_for("admin")
    response = client.post(
        reverse("privacy:request_create", args=[world.member_a1.pk]),
        {"kind": Kind.ACCESS, "received_on": timezone.localdate().isoformat(), "details": "x"},
    )
    found = SubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:request", args=[found.pk])
    assert found.recorded_by == world.users["admin"]


def test_a_request_received_in_the_future_is_refused_with_a_message(client_for, world):
    response = client_for("admin").post(
        reverse("privacy:request_create", args=[world.member_a1.pk]),
        {
            "kind": Kind.ACCESS,
            "received_on": (timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert told("The date cannot be in the future.") in response.content.decode()
    assert not SubjectRequest.objects.exists()


def test_refusing_from_the_request_page_needs_a_reason(client_for, world):
    found = receive(world)
    client = client_for("admin")
    url = reverse("privacy:request_answer", args=[found.pk])
    today = timezone.localdate().isoformat()
    response = client.post(url, {"action": "refuse", "on": today, "outcome": ""})
    assert response.status_code == 200
    assert told("Say why the request is refused.") in response.content.decode()
    response = client.post(url, {"action": "refuse", "on": today, "outcome": "Không có căn cứ"})
    assert response.status_code == 302
    found.refresh_from_db()
    assert (found.status, found.outcome) == (Status.REFUSED, "Không có căn cứ")


def test_a_neighbouring_communes_request_is_not_found(client, world):
    found = receive(world, member=world.member_b1)
    commune_admin = make_user("commune_admin", Role.ADMINISTRATOR, world.commune_a)
    client.force_login(commune_admin)
    assert client.get(reverse("privacy:request", args=[found.pk])).status_code == 404
    page = client.get(reverse("privacy:requests")).content.decode()
    assert world.member_b1.full_name not in page


# --- a restriction -----------------------------------------------------------------------------


def test_a_restricted_person_shows_a_banner_and_gets_no_new_case(client_for, world, funds):
    receive(world, kind=Kind.RESTRICT)
    client = client_for("grassroots")
    page = client.get(reverse("members:detail", args=[world.member_a1.pk])).content.decode()
    assert 'id="processing-restricted"' in page
    url = reverse("cases:create") + f"?member={world.member_a1.pk}"
    response = client.post(url, case_data(funds.social))
    assert response.status_code == 200
    message = told(
        "%(name)s asked to restrict the processing of their personal data: no new case or "
        "loan can be opened for them while the restriction stands.",
        name=world.member_a1.full_name,
    )
    assert message in response.content.decode()
    assert not Case.objects.filter(member=world.member_a1).exists()


def test_a_restricted_person_is_not_listed_in_a_program_batch(world, make_batch):
    receive(world, kind=Kind.RESTRICT)
    batch = make_batch()  # lists A1's member, unless restricted
    assert not batch.lines.exists()


def test_a_restricted_person_gets_no_new_loan(world):
    receive(world, kind=Kind.RESTRICT)
    with pytest.raises(ValidationError):
        build_loan(world, state="applied")
    assert not Loan.objects.exists()


def test_lifting_a_restriction_from_its_page_opens_cases_again(client_for, world, funds):
    found = receive(world, kind=Kind.RESTRICT)
    client = client_for("admin")
    today = timezone.localdate().isoformat()
    client.post(
        reverse("privacy:request_answer", args=[found.pk]),
        {"action": "complete", "on": today, "outcome": "Đã hạn chế"},
    )
    page = client.get(reverse("privacy:request", args=[found.pk])).content.decode()
    assert 'id="lift"' in page
    url = reverse("privacy:request_lift", args=[found.pk])
    response = client.post(url, {"on": today, "reason": ""})
    assert response.status_code == 200
    assert told("This field is required.") in response.content.decode()
    response = client.post(url, {"on": today, "reason": "Người lao động đề nghị bỏ hạn chế"})
    assert response.status_code == 302
    page = client.get(reverse("privacy:request", args=[found.pk])).content.decode()
    assert 'id="request-lifted"' in page and 'id="lift"' not in page
    assert "Người lao động đề nghị bỏ hạn chế" in page
    member_page = client_for("grassroots").get(reverse("members:detail", args=[world.member_a1.pk]))
    assert 'id="processing-restricted"' not in member_page.content.decode()
    response = client_for("grassroots").post(
        reverse("cases:create") + f"?member={world.member_a1.pk}", case_data(funds.social)
    )
    assert response.status_code == 302
    assert Case.objects.filter(member=world.member_a1).exists()
