"""The legal basis and consent on a member, and the data-subject requests with their
deadlines (members/privacy.py)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from members import privacy
from members.models import Consent, LegalBasis, SubjectRequest

from ..access import told

Kind, Status = SubjectRequest.Kind, SubjectRequest.Status

# A week of December 2025: Monday the 1st to Sunday the 7th.
MON, TUE, WED, THU, FRI, SAT, SUN = (datetime.date(2025, 12, day) for day in range(1, 8))


# --- deadline arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "acknowledge_by"),
    [
        (MON, WED),
        (WED, FRI),
        (THU, datetime.date(2025, 12, 8)),  # Friday, then Monday
        (FRI, datetime.date(2025, 12, 9)),  # the weekend does not count
        (SAT, datetime.date(2025, 12, 9)),  # a weekend receipt counts from Monday
        (SUN, datetime.date(2025, 12, 9)),
    ],
)
def test_acknowledgment_is_due_two_working_days_after_receipt(settings, received, acknowledge_by):
    settings.PERSONAL_DATA_HOLIDAYS = []
    assert privacy.deadlines(received)[0] == acknowledge_by


def test_a_holiday_is_not_a_working_day(settings):
    # 1 January 2026 is a Thursday: a request of the Wednesday before is due on the Friday,
    # or with the holiday on the Monday after.
    settings.PERSONAL_DATA_HOLIDAYS = []
    assert privacy.deadlines(datetime.date(2025, 12, 31))[0] == datetime.date(2026, 1, 2)
    settings.PERSONAL_DATA_HOLIDAYS = ["2026-01-01"]
    assert privacy.deadlines(datetime.date(2025, 12, 31))[0] == datetime.date(2026, 1, 5)


def test_completion_is_due_fifteen_days_after_receipt(settings):
    settings.PERSONAL_DATA_HOLIDAYS = []
    # Monday 1 + 15 days = Tuesday 16.
    assert privacy.deadlines(MON)[1] == datetime.date(2025, 12, 16)


def test_a_completion_deadline_on_a_weekend_moves_to_the_monday(settings):
    settings.PERSONAL_DATA_HOLIDAYS = []
    # Thursday 4 + 15 = Friday 19; Friday 5 + 15 = Saturday 20 -> Monday 22; Saturday 6 too.
    assert privacy.deadlines(THU)[1] == datetime.date(2025, 12, 19)
    assert privacy.deadlines(FRI)[1] == datetime.date(2025, 12, 22)
    assert privacy.deadlines(SAT)[1] == datetime.date(2025, 12, 22)
    settings.PERSONAL_DATA_HOLIDAYS = ["2025-12-22"]
    assert privacy.deadlines(FRI)[1] == datetime.date(2025, 12, 23)


# --- consent -----------------------------------------------------------------------------------


@pytest.fixture
def today():
    return timezone.localdate()


def test_consent_records_the_notice_version_and_who_recorded_it(world, settings, today):
    settings.PERSONAL_DATA_NOTICE_VERSION = "2026-01"
    member, officer = world.member_a1, world.users["grassroots"]
    consent = privacy.record_consent(
        member=member, basis=LegalBasis.CONSENT, given_on=today, by=officer
    )
    assert (consent.notice_version, consent.recorded_by, consent.given_on) == (
        "2026-01",
        officer,
        today,
    )
    assert privacy.current_consent(member) == consent


def test_a_withdrawal_is_a_record_of_its_own_and_the_consent_stays(world, today):
    member, officer = world.member_a1, world.users["grassroots"]
    given = today - datetime.timedelta(days=30)
    consent = privacy.record_consent(
        member=member, basis=LegalBasis.CONSENT, given_on=given, by=officer
    )
    withdrawal = privacy.withdraw_consent(member=member, withdrawn_on=today, by=officer)
    consent.refresh_from_db()
    assert consent.withdrawn_on is None
    assert (withdrawal.given_on, withdrawal.withdrawn_on) == (given, today)
    assert privacy.current_consent(member) == withdrawal
    assert member.consents.count() == 2


def test_nothing_to_withdraw_is_refused(world, today):
    member, officer = world.member_a1, world.users["grassroots"]
    with pytest.raises(ValidationError):
        privacy.withdraw_consent(member=member, withdrawn_on=today, by=officer)
    privacy.record_consent(member=member, basis=LegalBasis.UNION_DUTIES, given_on=today, by=officer)
    with pytest.raises(ValidationError):  # a basis that needs no consent is not withdrawn
        privacy.withdraw_consent(member=member, withdrawn_on=today, by=officer)
    assert member.consents.count() == 1


def test_a_consent_dated_in_the_future_is_refused(world, today):
    with pytest.raises(ValidationError) as refused:
        privacy.record_consent(
            member=world.member_a1,
            basis=LegalBasis.CONSENT,
            given_on=today + datetime.timedelta(days=1),
            by=world.users["grassroots"],
        )
    assert "given_on" in refused.value.error_dict
    assert not Consent.objects.exists()


def test_only_member_editors_in_scope_record_consent(world, today):
    kwargs = {"basis": LegalBasis.CONSENT, "given_on": today}
    with pytest.raises(PermissionDenied):
        privacy.record_consent(member=world.member_a1, by=world.users["leader"], **kwargs)
    with pytest.raises(Http404):  # commune A's staff cannot see commune B's member
        privacy.record_consent(member=world.member_b1, by=world.users["commune"], **kwargs)
    assert not Consent.objects.exists()


def test_the_database_refuses_a_withdrawal_of_a_basis_other_than_consent(world, today):
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            member=world.member_a1,
            basis=LegalBasis.LEGAL_OBLIGATION,
            notice_version="2026-01",
            given_on=today,
            withdrawn_on=today,
            recorded_by=world.users["admin"],
        )


# --- data-subject requests ---------------------------------------------------------------------


def receive(world, kind=Kind.ACCESS, received_on=None, member=None, by="admin"):
    return privacy.receive_request(
        member=member or world.member_a1,
        kind=kind,
        received_on=received_on or timezone.localdate(),
        details="Xin bản sao dữ liệu",
        by=world.users[by],
    )


def test_a_request_carries_its_deadlines(world, settings):
    settings.PERSONAL_DATA_HOLIDAYS = []
    found = receive(world, received_on=FRI)
    assert (found.acknowledge_by, found.complete_by) == (
        datetime.date(2025, 12, 9),
        datetime.date(2025, 12, 22),
    )
    assert found.status == Status.RECEIVED
    assert found.recorded_by == world.users["admin"]


def test_requests_are_for_administrators_of_the_members_union(world):
    with pytest.raises(PermissionDenied):
        receive(world, by="province")  # province staff edit members but manage no accounts
    with pytest.raises(Http404):
        receive(world, member=world.member_q1)
    assert not SubjectRequest.objects.exists()


def test_acknowledge_then_complete(world):
    found = receive(world)
    today = timezone.localdate()
    privacy.acknowledge_request(request=found, on=today, by=world.users["admin"])
    privacy.complete_request(
        request=found, on=today, outcome="Đã gửi bản sao", by=world.users["admin"]
    )
    found.refresh_from_db()
    assert (found.status, found.acknowledged_on, found.completed_on) == (
        Status.COMPLETED,
        today,
        today,
    )
    assert found.closed_by == world.users["admin"]
    with pytest.raises(ValidationError):  # answered once
        privacy.refuse_request(request=found, on=today, reason="x", by=world.users["admin"])


def test_an_answer_before_an_acknowledgment_acknowledges_it_too(world):
    found = receive(world)
    today = timezone.localdate()
    privacy.complete_request(request=found, on=today, outcome="", by=world.users["admin"])
    found.refresh_from_db()
    assert found.acknowledged_on == today


def test_a_refusal_needs_a_reason(world):
    found = receive(world)
    with pytest.raises(ValidationError) as refused:
        privacy.refuse_request(
            request=found, on=timezone.localdate(), reason="  ", by=world.users["admin"]
        )
    assert "outcome" in refused.value.error_dict
    found.refresh_from_db()
    assert found.status == Status.RECEIVED


def test_an_answer_dated_before_receipt_is_refused(world):
    found = receive(world, received_on=timezone.localdate() - datetime.timedelta(days=2))
    with pytest.raises(ValidationError):
        privacy.acknowledge_request(
            request=found,
            on=found.received_on - datetime.timedelta(days=1),
            by=world.users["admin"],
        )


def test_a_restriction_stands_from_receipt_and_a_refusal_lifts_it(world):
    member = world.member_a1
    found = receive(world, kind=Kind.RESTRICT)
    member.refresh_from_db()
    assert member.processing_restricted
    privacy.refuse_request(
        request=found,
        on=timezone.localdate(),
        reason="Dữ liệu cần cho hồ sơ đang chi trả",
        by=world.users["admin"],
    )
    member.refresh_from_db()
    assert not member.processing_restricted


def test_a_completed_restriction_stays(world):
    member = world.member_a1
    found = receive(world, kind=Kind.RESTRICT)
    privacy.complete_request(
        request=found, on=timezone.localdate(), outcome="", by=world.users["admin"]
    )
    member.refresh_from_db()
    assert member.processing_restricted


def _restricted(world):
    found = receive(world, kind=Kind.RESTRICT)
    privacy.complete_request(
        request=found, on=timezone.localdate(), outcome="Đã hạn chế", by=world.users["admin"]
    )
    return found


def test_lifting_a_carried_out_restriction_records_it_and_ends_it(world):
    member, today = world.member_a1, timezone.localdate()
    found = _restricted(world)
    lifted = privacy.lift_restriction(
        request=found, on=today, reason="Người lao động đề nghị bỏ hạn chế", by=world.users["admin"]
    )
    member.refresh_from_db()
    assert not member.processing_restricted
    assert (lifted.lifted_on, lifted.lifted_by, lifted.lift_reason) == (
        today,
        world.users["admin"],
        "Người lao động đề nghị bỏ hạn chế",
    )
    # What was done stays as it was recorded.
    assert (lifted.status, lifted.outcome) == (Status.COMPLETED, "Đã hạn chế")


def test_another_standing_restriction_keeps_processing_restricted(world):
    member = world.member_a1
    first = _restricted(world)
    receive(world, kind=Kind.RESTRICT)  # a second one, still open
    privacy.lift_restriction(
        request=first, on=timezone.localdate(), reason="Hết căn cứ", by=world.users["admin"]
    )
    member.refresh_from_db()
    assert member.processing_restricted


@pytest.mark.parametrize("state", ["open", "lifted", "other kind"])
def test_only_a_restriction_carried_out_and_standing_can_be_lifted(world, state):
    today = timezone.localdate()
    if state == "open":
        found = receive(world, kind=Kind.RESTRICT)
    elif state == "other kind":
        found = receive(world, kind=Kind.CORRECT)
        privacy.complete_request(request=found, on=today, outcome="", by=world.users["admin"])
    else:
        found = _restricted(world)
        privacy.lift_restriction(request=found, on=today, reason="x", by=world.users["admin"])
    with pytest.raises(ValidationError) as refused:
        privacy.lift_restriction(request=found, on=today, reason="y", by=world.users["admin"])
    assert refused.value.messages == [
        told("Only a restriction that was carried out can be lifted, once.")
    ]


def test_a_lifting_needs_a_reason_a_date_not_before_it_was_carried_out_and_an_administrator(
    world,
):
    today = timezone.localdate()
    found = _restricted(world)
    with pytest.raises(ValidationError) as refused:
        privacy.lift_restriction(request=found, on=today, reason="  ", by=world.users["admin"])
    assert refused.value.message_dict == {"reason": [told("Say why the restriction is lifted.")]}
    with pytest.raises(ValidationError) as refused:
        privacy.lift_restriction(
            request=found,
            on=today - datetime.timedelta(days=1),
            reason="x",
            by=world.users["admin"],
        )
    assert list(refused.value.message_dict) == ["on"]
    with pytest.raises(ValidationError):
        privacy.lift_restriction(
            request=found,
            on=today + datetime.timedelta(days=1),
            reason="x",
            by=world.users["admin"],
        )
    with pytest.raises(PermissionDenied):
        privacy.lift_restriction(request=found, on=today, reason="x", by=world.users["province"])
    found.refresh_from_db()
    assert found.lifted_on is None
    world.member_a1.refresh_from_db()
    assert world.member_a1.processing_restricted


def test_the_database_refuses_a_lifting_without_its_reason(world):
    found = _restricted(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubjectRequest.objects.filter(pk=found.pk).update(
            lifted_on=timezone.localdate(), lifted_by=world.users["admin"], lift_reason=""
        )


def test_completing_a_withdrawal_withdraws_the_consent(world):
    member, today = world.member_a1, timezone.localdate()
    privacy.record_consent(
        member=member, basis=LegalBasis.CONSENT, given_on=today, by=world.users["grassroots"]
    )
    found = receive(world, kind=Kind.WITHDRAW)
    privacy.complete_request(request=found, on=today, outcome="", by=world.users["admin"])
    standing = privacy.current_consent(member)
    assert standing is not None and standing.withdrawn_on == today


def test_overdue_requests(world, settings):
    settings.PERSONAL_DATA_HOLIDAYS = []
    today = timezone.localdate()
    late = receive(world, received_on=today - datetime.timedelta(days=20))
    unacknowledged = receive(world, received_on=today - datetime.timedelta(days=6))
    acknowledged = receive(world, received_on=today - datetime.timedelta(days=6))
    privacy.acknowledge_request(request=acknowledged, on=today, by=world.users["admin"])
    fresh = receive(world)
    overdue = set(SubjectRequest.objects.overdue(today))
    assert overdue == {late, unacknowledged}
    acknowledged.refresh_from_db()
    assert late.overdue and unacknowledged.overdue
    assert not acknowledged.overdue and not fresh.overdue


def test_the_member_list_finds_who_has_no_standing_basis(client_for, world, today):
    officer = world.users["province"]
    a1, b1 = world.member_a1, world.member_b1
    privacy.record_consent(member=a1, basis=LegalBasis.CONSENT, given_on=today, by=officer)
    privacy.record_consent(member=b1, basis=LegalBasis.CONSENT, given_on=today, by=officer)
    privacy.withdraw_consent(member=b1, withdrawn_on=today, by=officer)
    response = client_for("province").get(reverse("members:list"), {"consent": "none"})
    listed = {member.pk for member in response.context["page"].object_list}
    assert b1.pk in listed  # withdrawn
    assert a1.pk not in listed  # consent stands
    privacy.record_consent(member=b1, basis=LegalBasis.UNION_DUTIES, given_on=today, by=officer)
    response = client_for("province").get(reverse("members:list"), {"consent": "none"})
    assert not {member.pk for member in response.context["page"].object_list} & {a1.pk, b1.pk}
