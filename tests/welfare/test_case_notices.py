"""What the approval chain tells the officer who opened a case, and the people who act next:
an inbox notice for each, and an e-mail to those with an address, naming the case, the person,
the amount and linking to the case page."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from common.models import Notice
from unions.models import Role, RoleAssignment
from welfare.cases import approvals, notices
from welfare.models import CaseStatus

pytestmark = pytest.mark.django_db

PORTAL = "https://congdoan.example.vn"


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


@pytest.fixture(autouse=True)
def _portal_url(settings):
    settings.PORTAL_URL = PORTAL


def approve(world, case):
    approvals.approve_case(case=case, by=world.users["province"], amount=2_500_000)


def pay(world, case):
    approvals.record_payment(
        case=case,
        by=world.users["treasurer"],
        paid_on=datetime.date.today(),
        method="cash",
        receipt_reference="PC-0042",
        received_by="Nguyễn Văn An",
    )


def return_(world, case):
    approvals.return_case(case=case, by=world.users["province"], comment="Thiếu giấy ra viện")


def reject(world, case):
    approvals.reject_case(case=case, by=world.users["province"], comment="Không đủ điều kiện")


# (step, the state the case must be in, the amount the notice names, what else it says)
TRANSITIONS = [
    pytest.param(approve, "endorsed", "2.500.000 ₫", "được phê duyệt", id="approved"),
    pytest.param(pay, "approved", "3.000.000 ₫", "PC-0042", id="paid"),
    pytest.param(return_, "endorsed", "3.000.000 ₫", "Thiếu giấy ra viện", id="returned"),
    pytest.param(reject, "endorsed", "3.000.000 ₫", "Không đủ điều kiện", id="rejected"),
]


def opener_notices(world):
    return Notice.objects.filter(recipient=world.users["grassroots"])


@pytest.mark.parametrize(("step", "state", "amount", "said"), TRANSITIONS)
def test_each_decision_tells_the_opener_by_inbox_and_email(
    world,
    make_case,
    mailoutbox,
    eager_celery,
    django_capture_on_commit_callbacks,
    step,
    state,
    amount,
    said,
):
    case = make_case(state)
    opener_notices(world).delete()
    with django_capture_on_commit_callbacks(execute=True):
        step(world, case)
    [notice] = opener_notices(world)
    assert notice.url == f"/cases/{case.pk}/"
    for text in (f"Hồ sơ số {case.pk}", "Nguyễn Văn An", amount, said):
        assert text in f"{notice.subject}\n{notice.body}", text
    assert "CĐCS Công ty A1" in notice.body
    [message] = [m for m in mailoutbox if m.to == ["grassroots@example.vn"]]
    assert message.subject == notice.subject
    for text in (f"Hồ sơ số {case.pk}", "Nguyễn Văn An", amount, said):
        assert text in message.body, text
    assert f"{PORTAL}/cases/{case.pk}/" in message.body
    assert f'href="{PORTAL}/cases/{case.pk}/"' in message.alternatives[0][0]


def test_an_opener_without_email_still_sees_the_notice_in_the_inbox(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    officer = world.users["grassroots"]
    officer.email = ""
    officer.save()
    case = make_case("endorsed")
    with django_capture_on_commit_callbacks(execute=True):
        approve(world, case)
    assert opener_notices(world).filter(subject__contains=f"Hồ sơ số {case.pk}").count() == 1
    assert all(message.to != [""] for message in mailoutbox)
    assert "grassroots@example.vn" not in [a for m in mailoutbox for a in m.to]


def test_nobody_is_told_of_their_own_step(world, make_case):
    case = make_case("endorsed")
    before = Notice.objects.count()
    notices.case_returned(case, by=case.created_by, at=world.province, reason="x")
    notices.case_rejected(case, by=case.created_by, at=world.province, reason="x")
    assert Notice.objects.count() == before


def test_the_approver_is_not_told_that_the_case_waits_for_payment(world, make_case):
    """A province staff member who is also the province's treasurer approves: the other
    treasurers hear of it, the approver does not."""
    approver = world.users["province"]
    RoleAssignment.objects.create(user=approver, unit=world.province, role=Role.TREASURER)
    case = make_case("endorsed")
    approve(world, case)
    waiting = Notice.objects.filter(subject__contains="chờ chi")
    assert list(waiting.values_list("recipient__username", flat=True)) == ["treasurer"]


def test_the_next_level_finds_the_case_in_its_inbox(world, make_case):
    case = make_case("draft")
    approvals.submit_case(case=case, by=world.users["grassroots"])
    [notice] = Notice.objects.filter(recipient=world.users["commune"])
    assert f"Hồ sơ số {case.pk}" in notice.subject and notice.url == f"/cases/{case.pk}/"
    approvals.endorse_case(case=case, by=world.users["commune"])
    assert Notice.objects.filter(recipient=world.users["province"], url=notice.url).count() == 1


def test_the_notice_is_written_in_vietnamese_whatever_the_reader_language(
    client_for, world, make_case
):
    case = make_case("endorsed")
    client = client_for("province")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        response = client.post(
            reverse("cases:approve", args=[case.pk]),
            {"amount": "2500000"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 302
    [notice] = opener_notices(world).filter(subject__contains=f"số {case.pk}")
    assert "được phê duyệt" in notice.subject
    assert "Số tiền được duyệt: 2.500.000 ₫" in notice.body


def test_a_failing_mail_server_does_not_undo_the_approval(
    client_for, world, make_case, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.welfare.test_case_notices.FailingBackend"
    case = make_case("endorsed")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("province").post(
            reverse("cases:approve", args=[case.pk]), {"amount": "2500000"}
        )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and case.approved_amount == 2_500_000
    [notice] = opener_notices(world).filter(subject__contains=f"số {case.pk}")
    assert notice.emailed_at is None  # kept for the inbox, and for a retry


def test_a_refused_approval_tells_nobody(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    case = make_case("endorsed")
    before = Notice.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["province"], amount=500_000_000)
    assert Notice.objects.count() == before
    assert mailoutbox == []
