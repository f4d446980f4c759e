"""The approval chain as the people on it see it: every step, every refusal, the money each
step moves, who is waiting for what, and who is told by e-mail.

World: province P ── commune A ── grassroots A1 (officers ``grassroots`` and ``a1_chair``).
Funds: P's social fund (100M), commune A's fund (20M), A1's own fund (5M), Q's social fund.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from unions.models import Role, RoleAssignment
from unions.scope import forget_grants
from welfare.cases import approvals
from welfare.cases.approvals import AlreadyPaid, returned_to, waiting_for
from welfare.cases.evidence import attach_evidence
from welfare.cases.rules import allowed_actions
from welfare.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    EntryKind,
    Evidence,
    Fund,
    LedgerEntry,
    Payment,
    SupportType,
)

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db

Action = approvals.Action
TODAY = datetime.date.today


def new_case(world, funds, *, unit=None, member=None, fund=None, amount=3_000_000):
    member = member or world.member_a1
    return Case(
        unit=unit or member.unit,
        member=member,
        category=Category.ACCIDENT,
        circumstances="Tai nạn lao động khi sửa đường ống, nằm viện 3 tuần.",
        support_type=SupportType.GRANT,
        requested_amount=amount,
        fund=fund or funds.social,
    )


def pay(case, by, paid_on=None, receipt="PC-17/2024"):
    return approvals.record_payment(
        case=case,
        by=by,
        paid_on=paid_on or TODAY(),
        method="cash",
        receipt_reference=receipt,
        received_by=case.member.full_name,
    )


def give_role(user, role, unit):
    RoleAssignment.objects.create(user=user, role=role, unit=unit)
    forget_grants(user)


def fresh(fund: Fund) -> Fund:
    fund.refresh_from_db()
    return fund


def timeline(case):
    return [
        (e.action, e.unit_id, e.actor.username, e.amount)
        for e in case.events.select_related("actor").order_by("at", "id")
    ]


# --- opening a case --------------------------------------------------------------------------


def test_officer_opens_a_draft_with_a_created_event(world, funds):
    case = approvals.create_case(case=new_case(world, funds), by=world.users["grassroots"])
    assert case.status == CaseStatus.DRAFT
    assert case.created_by == world.users["grassroots"]
    assert case.current_unit is None
    assert timeline(case) == [(Action.CREATED, world.a1.pk, "grassroots", 3_000_000)]


def test_commune_staff_may_open_a_case_for_a_member_of_a_union_below(world, funds):
    case = new_case(world, funds, unit=world.commune_a)
    case = approvals.create_case(case=case, by=world.users["commune"])
    assert case.unit == world.commune_a


def test_a_person_outside_the_union_is_refused(world, funds):
    case = new_case(world, funds, unit=world.a1, member=world.member_b1)
    with pytest.raises(ValidationError) as refused:
        approvals.create_case(case=case, by=world.users["grassroots"])
    assert "member" in refused.value.message_dict
    assert not Case.objects.exists()


def test_a_fund_of_another_branch_is_refused(world, funds):
    with pytest.raises(ValidationError) as refused:
        approvals.create_case(
            case=new_case(world, funds, fund=funds.other), by=world.users["grassroots"]
        )
    assert "fund" in refused.value.message_dict
    assert not Case.objects.exists()


def test_a_fund_below_the_union_is_refused(world, funds):
    case = new_case(world, funds, unit=world.commune_a, fund=funds.own)
    with pytest.raises(ValidationError):
        approvals.create_case(case=case, by=world.users["commune"])
    assert not Case.objects.exists()


def test_a_closed_fund_is_refused(world, funds):
    Fund.objects.filter(pk=funds.commune.pk).update(is_active=False)
    funds.commune.refresh_from_db()
    with pytest.raises(ValidationError):
        approvals.create_case(
            case=new_case(world, funds, fund=funds.commune), by=world.users["grassroots"]
        )


@pytest.mark.parametrize("role", ["treasurer", "leader", "admin", "commune_treasurer"])
def test_roles_that_do_not_open_cases_are_refused(world, funds, role):
    with pytest.raises(PermissionDenied):
        approvals.create_case(case=new_case(world, funds), by=world.users[role])
    assert not Case.objects.exists()


def test_an_officer_of_another_province_cannot_open_a_case_here(world, funds):
    with pytest.raises(PermissionDenied):
        approvals.create_case(case=new_case(world, funds), by=world.users["q_officer"])


def open_with(world, funds, by, evidence, member=None):
    member = member or world.member_a1
    return approvals.open_case(
        member=member,
        unit=member.unit,
        category=Category.ACCIDENT,
        circumstances="Tai nạn lao động khi sửa đường ống, nằm viện 3 tuần.",
        support_type=SupportType.GRANT,
        requested_amount=3_000_000,
        fund=funds.social,
        evidence=evidence,
        by=by,
    )


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()]


def test_a_case_is_opened_with_its_evidence_in_one_step(world, funds, media_root):
    grassroots = world.users["grassroots"]
    case = open_with(world, funds, grassroots, [pdf_upload("a.pdf"), pdf_upload("b.pdf")])
    assert (case.status, case.created_by) == (CaseStatus.DRAFT, grassroots)
    assert sorted(case.evidence.values_list("original_name", flat=True)) == ["a.pdf", "b.pdf"]
    assert timeline(case) == [(Action.CREATED, world.a1.pk, "grassroots", 3_000_000)]
    assert len(stored_files(media_root)) == 2


@pytest.mark.parametrize("role", ["q_officer", "outsider", "treasurer", "leader"])
def test_opening_a_case_outside_ones_grant_writes_nothing(world, funds, media_root, role):
    with pytest.raises(PermissionDenied):
        open_with(world, funds, world.users[role], [pdf_upload()])
    assert not Case.objects.exists()
    assert not Evidence.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_refused_by_the_evidence_check_writes_no_case_at_all(world, funds, media_root):
    not_a_pdf = SimpleUploadedFile("scan.pdf", b"GIF89a....", content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        open_with(world, funds, world.users["grassroots"], [pdf_upload(), not_a_pdf])
    assert refused.value.code == "file_type"
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not Evidence.objects.exists()
    assert stored_files(media_root) == []  # the good file was not stored before the bad one


def test_an_edit_with_a_refused_file_changes_nothing(world, make_case, media_root):
    case = make_case("draft")
    files_before = stored_files(media_root)
    case.requested_amount = 9_000_000
    not_a_pdf = SimpleUploadedFile("scan.pdf", b"GIF89a....", content_type="application/pdf")
    with pytest.raises(ValidationError):
        approvals.update_case(case=case, evidence=[not_a_pdf], by=world.users["grassroots"])
    case.refresh_from_db()
    assert case.requested_amount == 3_000_000
    assert not case.events.filter(action=Action.EDITED).exists()
    assert case.evidence.count() == 1
    assert stored_files(media_root) == files_before


def test_an_edit_with_evidence_records_both(world, make_case):
    case = make_case("draft")
    case.requested_amount = 4_000_000
    approvals.update_case(
        case=case, evidence=[pdf_upload("bo-sung.pdf")], by=world.users["a1_chair"]
    )
    assert case.evidence.filter(original_name="bo-sung.pdf").exists()
    assert timeline(case)[-1] == (Action.EDITED, world.a1.pk, "a1_chair", 4_000_000)


# --- submitting ------------------------------------------------------------------------------


def test_submitting_without_evidence_is_refused(world, funds):
    case = approvals.create_case(case=new_case(world, funds), by=world.users["grassroots"])
    with pytest.raises(ValidationError):
        approvals.submit_case(case=case, by=world.users["grassroots"])
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    assert case.submitted_at is None


def test_a_province_fund_case_goes_first_to_the_commune(world, funds, make_case):
    case = make_case("submitted")
    assert case.status == CaseStatus.SUBMITTED
    assert case.current_unit == world.commune_a
    assert case.submitted_at is not None
    assert timeline(case)[-1] == (Action.SUBMITTED, world.a1.pk, "grassroots", 3_000_000)


def test_a_case_on_the_unions_own_fund_goes_straight_to_its_approver(world, funds, make_case):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    assert case.current_unit == world.a1
    assert list(waiting_for(world.users["a1_chair"])) == [case]


def test_a_case_on_the_commune_fund_goes_to_the_commune(world, funds, make_case):
    case = make_case("submitted", fund=funds.commune)
    assert case.current_unit == world.commune_a
    assert allowed_actions(world.users["commune"], case) == {"approve", "return", "reject"}


def test_a_submitted_case_cannot_be_submitted_again(world, make_case):
    case = make_case("submitted")
    with pytest.raises(ValidationError):
        approvals.submit_case(case=case, by=world.users["grassroots"])
    assert case.events.filter(action=Action.SUBMITTED).count() == 1


def test_only_someone_who_opens_cases_there_may_submit(world, funds):
    case = approvals.create_case(case=new_case(world, funds), by=world.users["grassroots"])
    attach_evidence(case=case, upload=pdf_upload(), by=world.users["grassroots"])
    with pytest.raises(PermissionDenied):
        approvals.submit_case(case=case, by=world.users["commune_treasurer"])
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


# --- endorsing -------------------------------------------------------------------------------


def test_commune_endorses_and_the_case_moves_up_to_the_province(world, make_case):
    case = make_case("submitted")
    case = approvals.endorse_case(case=case, by=world.users["commune"], comment="Đúng hoàn cảnh")
    assert case.status == CaseStatus.SUBMITTED
    assert case.current_unit == world.province
    assert timeline(case)[-1] == (Action.ENDORSED, world.commune_a.pk, "commune", None)
    assert case.events.get(action=Action.ENDORSED).comment == "Đúng hoàn cảnh"


@pytest.mark.parametrize("role", ["province", "grassroots", "a1_chair", "treasurer", "leader"])
def test_only_reviewers_at_the_current_level_may_endorse(world, make_case, role):
    case = make_case("submitted")
    with pytest.raises(PermissionDenied):
        approvals.endorse_case(case=case, by=world.users[role])
    case.refresh_from_db()
    assert case.current_unit == world.commune_a


def test_the_creator_cannot_endorse_their_own_case(world, funds):
    commune = world.users["commune"]
    case = approvals.create_case(case=new_case(world, funds), by=commune)
    attach_evidence(case=case, upload=pdf_upload(), by=commune)
    case = approvals.submit_case(case=case, by=commune)
    assert case.current_unit == world.commune_a
    with pytest.raises(ValidationError):
        approvals.endorse_case(case=case, by=commune)
    assert waiting_for(commune).count() == 0


def test_endorsing_twice_is_refused(world, make_case):
    case = make_case("endorsed")
    with pytest.raises(PermissionDenied):
        approvals.endorse_case(case=case, by=world.users["commune"])
    assert case.events.filter(action=Action.ENDORSED).count() == 1


def test_nobody_acts_twice_in_one_chain_even_with_a_role_at_both_levels(world, make_case):
    commune = world.users["commune"]
    give_role(commune, Role.PROVINCE_STAFF, world.province)
    case = make_case("endorsed")
    with pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=commune, amount=3_000_000)
    assert "approve" not in allowed_actions(commune, case)
    assert case not in waiting_for(commune)
    assert case in waiting_for(world.users["province"])


def test_a_reviewer_who_edited_a_returned_case_cannot_decide_on_it(world, make_case):
    commune = world.users["commune"]
    case = approvals.return_case(case=make_case("submitted"), by=commune, comment="Sửa số tiền")
    case.requested_amount = 9_000_000
    approvals.update_case(case=case, by=commune)
    case = approvals.submit_case(case=case, by=world.users["grassroots"])
    with pytest.raises(ValidationError):
        approvals.endorse_case(case=case, by=commune)
    assert case not in waiting_for(commune)


def test_the_owner_level_approves_and_does_not_endorse(world, make_case):
    case = make_case("endorsed")
    with pytest.raises(ValidationError):
        approvals.endorse_case(case=case, by=world.users["province"])
    case.refresh_from_db()
    assert case.current_unit == world.province


def test_a_draft_cannot_be_endorsed(world, make_case):
    case = make_case("draft")
    with pytest.raises(ValidationError):
        approvals.endorse_case(case=case, by=world.users["commune"])


# --- returning -------------------------------------------------------------------------------


def test_returning_needs_a_reason(world, make_case):
    case = make_case("submitted")
    with pytest.raises(ValidationError) as refused:
        approvals.return_case(case=case, by=world.users["commune"], comment="   ")
    assert "comment" in refused.value.message_dict
    case.refresh_from_db()
    assert (case.status, case.current_unit) == (CaseStatus.SUBMITTED, world.commune_a)


def test_a_returned_case_is_edited_resubmitted_and_keeps_its_history(world, make_case):
    grassroots, commune = world.users["grassroots"], world.users["commune"]
    case = make_case("submitted")
    case = approvals.return_case(
        case=case, by=commune, comment="Bổ sung giấy ra viện của bệnh viện"
    )
    assert (case.status, case.current_unit) == (CaseStatus.RETURNED, None)
    assert list(returned_to(grassroots)) == [case]
    assert case not in waiting_for(commune)
    assert allowed_actions(grassroots, case) == {"edit", "submit", "evidence"}

    case = Case.objects.get(pk=case.pk)
    case.requested_amount = 4_000_000
    case.circumstances += " Đã bổ sung giấy ra viện."
    approvals.update_case(case=case, by=grassroots)
    case = approvals.submit_case(case=case, by=grassroots)
    assert (case.status, case.current_unit) == (CaseStatus.SUBMITTED, world.commune_a)
    assert not returned_to(grassroots).exists()

    # The same reviewer decides again in the new round.
    assert list(waiting_for(commune)) == [case]
    case = approvals.endorse_case(case=case, by=commune)
    assert [(action, actor) for action, _unit, actor, _amount in timeline(case)] == [
        (Action.CREATED, "grassroots"),
        (Action.SUBMITTED, "grassroots"),
        (Action.RETURNED, "commune"),
        (Action.EDITED, "grassroots"),
        (Action.SUBMITTED, "grassroots"),
        (Action.ENDORSED, "commune"),
    ]
    returned = case.events.get(action=Action.RETURNED)
    assert returned.comment == "Bổ sung giấy ra viện của bệnh viện"
    assert returned.unit == world.commune_a
    assert case.events.filter(action=Action.EDITED).get().amount == 4_000_000


def test_a_case_returned_by_the_province_starts_again_from_the_bottom(world, make_case):
    case = make_case("endorsed")
    case = approvals.return_case(case=case, by=world.users["province"], comment="Thiếu hồ sơ")
    case = approvals.submit_case(case=case, by=world.users["grassroots"])
    assert case.current_unit == world.commune_a
    case = approvals.endorse_case(case=case, by=world.users["commune"])
    case = approvals.approve_case(case=case, by=world.users["province"], amount=3_000_000)
    assert case.status == CaseStatus.APPROVED


def test_a_submitted_case_cannot_be_edited(world, make_case):
    case = make_case("submitted")
    case.requested_amount = 9_000_000
    with pytest.raises(ValidationError):
        approvals.update_case(case=case, by=world.users["grassroots"])
    case.refresh_from_db()
    assert case.requested_amount == 3_000_000


def test_only_someone_who_opens_cases_there_may_edit(world, make_case):
    case = make_case("draft")
    case.requested_amount = 9_000_000
    with pytest.raises(PermissionDenied):
        approvals.update_case(case=case, by=world.users["treasurer"])
    case.refresh_from_db()
    assert case.requested_amount == 3_000_000


# --- rejecting -------------------------------------------------------------------------------


def test_rejecting_needs_a_reason(world, make_case):
    case = make_case("submitted")
    with pytest.raises(ValidationError):
        approvals.reject_case(case=case, by=world.users["commune"], comment="")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_a_rejected_case_is_closed_and_reserves_nothing(world, funds, make_case):
    case = make_case("endorsed")
    case = approvals.reject_case(
        case=case, by=world.users["province"], comment="Đã hỗ trợ cùng sự việc năm trước"
    )
    assert (case.status, case.current_unit) == (CaseStatus.REJECTED, None)
    assert fresh(funds.social).reserved == 0
    assert timeline(case)[-1] == (Action.REJECTED, world.province.pk, "province", None)
    with pytest.raises(ValidationError):
        approvals.submit_case(case=case, by=world.users["grassroots"])
    with pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["province"], amount=1)
    assert allowed_actions(world.users["grassroots"], case) == set()


def test_an_intermediate_level_may_reject(world, make_case):
    case = make_case("submitted")
    case = approvals.reject_case(case=case, by=world.users["commune"], comment="Không đủ điều kiện")
    assert case.status == CaseStatus.REJECTED
    assert case.events.get(action=Action.REJECTED).unit == world.commune_a


# --- approving -------------------------------------------------------------------------------


def test_approval_may_differ_from_the_request_and_reserves_it(world, funds, make_case):
    case = make_case("endorsed", amount=3_000_000)
    case = approvals.approve_case(
        case=case, by=world.users["province"], amount=2_500_000, comment="Theo mức quy định"
    )
    assert case.status == CaseStatus.APPROVED
    assert (case.requested_amount, case.approved_amount) == (3_000_000, 2_500_000)
    assert case.approved_on == timezone.localdate()
    assert case.current_unit is None
    social = fresh(funds.social)
    assert (social.balance, social.reserved, social.available) == (
        100_000_000,
        2_500_000,
        97_500_000,
    )
    assert not social.entries.filter(kind=EntryKind.DISBURSEMENT).exists()
    assert timeline(case)[-1] == (Action.APPROVED, world.province.pk, "province", 2_500_000)


def test_approval_beyond_the_available_amount_is_refused_naming_the_fund(world, funds, make_case):
    make_case("approved", amount=90_000_000)
    case = make_case("endorsed", amount=20_000_000)
    with pytest.raises(ValidationError) as refused:
        approvals.approve_case(case=case, by=world.users["province"], amount=20_000_000)
    message = " ".join(refused.value.messages)
    assert "Quỹ Xã hội tỉnh P" in message
    assert "10.000.000 ₫" in message
    social = fresh(funds.social)
    assert (social.balance, social.reserved) == (100_000_000, 90_000_000)
    case.refresh_from_db()
    assert (case.status, case.current_unit, case.approved_amount) == (
        CaseStatus.SUBMITTED,
        world.province,
        None,
    )
    # What is left can still be approved, to the last đồng.
    approvals.approve_case(case=case, by=world.users["province"], amount=10_000_000)
    assert fresh(funds.social).available == 0


@pytest.mark.parametrize("amount", [0, -1_000_000, None])
def test_the_approved_amount_must_be_positive(world, funds, make_case, amount):
    case = make_case("endorsed")
    with pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["province"], amount=amount)
    assert fresh(funds.social).reserved == 0


def test_an_intermediate_level_cannot_approve_from_a_province_fund(world, funds, make_case):
    case = make_case("submitted")
    with pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["commune"], amount=3_000_000)
    assert fresh(funds.social).reserved == 0


def test_the_province_cannot_approve_before_the_commune_has_endorsed(world, funds, make_case):
    case = make_case("submitted")
    with pytest.raises(PermissionDenied):
        approvals.approve_case(case=case, by=world.users["province"], amount=3_000_000)
    assert fresh(funds.social).reserved == 0


def test_the_commune_approves_from_its_own_fund(world, funds, make_case):
    case = make_case("submitted", fund=funds.commune, amount=2_000_000)
    approvals.approve_case(case=case, by=world.users["commune"], amount=2_000_000)
    assert fresh(funds.commune).reserved == 2_000_000


def test_own_fund_case_is_approved_by_another_officer_not_its_creator(world, funds, make_case):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    with pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["grassroots"], amount=1_000_000)
    approvals.approve_case(case=case, by=world.users["a1_chair"], amount=1_000_000)
    assert fresh(funds.own).reserved == 1_000_000


# --- paying ----------------------------------------------------------------------------------


def test_the_treasurer_pays_and_money_leaves_the_fund_once(world, funds, make_case):
    case = make_case("approved", amount=2_500_000)
    payment = pay(case, world.users["treasurer"], receipt="PC-0042")
    case.refresh_from_db()
    assert (case.status, case.paid_on) == (CaseStatus.PAID, TODAY())
    assert (payment.amount, payment.fund, payment.receipt_reference) == (
        2_500_000,
        funds.social,
        "PC-0042",
    )
    entry = payment.ledger_entry
    assert (entry.kind, entry.amount, entry.case, entry.balance_after) == (
        EntryKind.DISBURSEMENT,
        -2_500_000,
        case,
        97_500_000,
    )
    social = fresh(funds.social)
    assert (social.balance, social.reserved) == (97_500_000, 0)
    assert timeline(case)[-1] == (Action.PAID, world.province.pk, "treasurer", 2_500_000)
    assert case.events.get(action=Action.PAID).comment == "PC-0042"


def test_paying_twice_records_one_payment(world, funds, make_case):
    case = make_case("approved", amount=2_500_000)
    pay(case, world.users["treasurer"])
    with pytest.raises(AlreadyPaid):
        pay(case, world.users["treasurer"])
    assert Payment.objects.filter(case=case).count() == 1
    assert LedgerEntry.objects.filter(case=case, kind=EntryKind.DISBURSEMENT).count() == 1
    assert fresh(funds.social).balance == 97_500_000


def test_the_commune_treasurer_cannot_pay_a_province_fund_case(world, funds, make_case):
    case = make_case("approved")
    with pytest.raises(PermissionDenied):
        pay(case, world.users["commune_treasurer"])
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED
    assert not Payment.objects.exists()
    assert fresh(funds.social).reserved == 3_000_000


@pytest.mark.parametrize("role", ["province", "commune", "grassroots", "leader", "q_treasurer"])
def test_nobody_but_the_owners_treasurer_pays(world, make_case, role):
    case = make_case("approved")
    with pytest.raises(PermissionDenied):
        pay(case, world.users[role])
    assert not Payment.objects.exists()


def test_the_approver_cannot_pay_even_holding_a_treasurer_role(world, make_case):
    province = world.users["province"]
    give_role(province, Role.TREASURER, world.province)
    case = make_case("approved")
    with pytest.raises(ValidationError):
        pay(case, province)
    assert "pay" not in allowed_actions(province, case)
    assert case not in waiting_for(province)
    assert not Payment.objects.exists()


def test_the_creator_cannot_pay_their_own_case(world, make_case):
    grassroots = world.users["grassroots"]
    give_role(grassroots, Role.TREASURER, world.province)
    case = make_case("approved")
    with pytest.raises(ValidationError):
        pay(case, grassroots)
    assert not Payment.objects.exists()


def test_the_commune_treasurer_pays_from_the_commune_fund(world, funds, make_case):
    case = make_case("approved", fund=funds.commune, amount=2_000_000)
    pay(case, world.users["commune_treasurer"])
    commune = fresh(funds.commune)
    assert (commune.balance, commune.reserved) == (18_000_000, 0)


def test_an_unapproved_case_cannot_be_paid(world, make_case):
    case = make_case("endorsed")
    with pytest.raises(ValidationError):
        pay(case, world.users["treasurer"])
    assert not Payment.objects.exists()


def test_a_payment_dated_in_the_future_is_refused(world, funds, make_case):
    case = make_case("approved")
    with pytest.raises(ValidationError) as refused:
        pay(case, world.users["treasurer"], paid_on=TODAY() + datetime.timedelta(days=1))
    assert "paid_on" in refused.value.message_dict
    assert not Payment.objects.exists()
    assert fresh(funds.social).reserved == 3_000_000


def test_a_payment_dated_before_the_approval_is_refused(world, funds, make_case):
    case = make_case("approved")
    with pytest.raises(ValidationError) as refused:
        pay(case, world.users["treasurer"], paid_on=case.approved_on - datetime.timedelta(days=1))
    assert "paid_on" in refused.value.message_dict
    assert not Payment.objects.exists()


def test_the_whole_path_is_on_the_timeline(world, funds, make_case):
    case = make_case("endorsed", amount=3_000_000)
    case = approvals.approve_case(case=case, by=world.users["province"], amount=2_500_000)
    pay(case, world.users["treasurer"])
    assert timeline(case) == [
        (Action.CREATED, world.a1.pk, "grassroots", 3_000_000),
        (Action.SUBMITTED, world.a1.pk, "grassroots", 3_000_000),
        (Action.ENDORSED, world.commune_a.pk, "commune", None),
        (Action.APPROVED, world.province.pk, "province", 2_500_000),
        (Action.PAID, world.province.pk, "treasurer", 2_500_000),
    ]
    assert fresh(funds.social).balance == 100_000_000 - 2_500_000


# --- waiting for me --------------------------------------------------------------------------


def test_each_role_waits_for_exactly_the_cases_it_may_act_on(world, funds, make_case):
    at_commune = make_case("submitted")
    commune_fund = make_case("submitted", fund=funds.commune, amount=1_000_000)
    at_province = make_case("endorsed")
    to_pay = make_case("approved")
    commune_to_pay = make_case("approved", fund=funds.commune, amount=1_000_000)
    own = make_case("submitted", fund=funds.own, amount=500_000)
    make_case("draft")
    make_case("paid")
    make_case("submitted", member=world.member_q1, fund=funds.other)

    def waiting(role):
        return set(waiting_for(world.users[role]))

    assert waiting("commune") == {at_commune, commune_fund}
    assert waiting("province") == {at_province}
    assert waiting("treasurer") == {to_pay}
    assert waiting("commune_treasurer") == {commune_to_pay}
    assert waiting("a1_chair") == {own}
    for role in ("grassroots", "leader", "admin", "q_officer", "q_treasurer", "outsider"):
        assert waiting(role) == set(), role


def test_waiting_cases_come_oldest_first(world, funds, make_case):
    first, second = make_case("draft"), make_case("draft")
    grassroots = world.users["grassroots"]
    approvals.submit_case(case=second, by=grassroots)
    approvals.submit_case(case=first, by=grassroots)
    assert list(waiting_for(world.users["commune"])) == [second, first]


def test_a_case_leaves_the_list_once_acted_on(world, make_case):
    case = make_case("submitted")
    commune, province = world.users["commune"], world.users["province"]
    assert list(waiting_for(commune)) == [case]
    approvals.endorse_case(case=case, by=commune)
    assert not waiting_for(commune).exists()
    assert list(waiting_for(province)) == [case]
    approvals.approve_case(case=case, by=province, amount=3_000_000)
    assert not waiting_for(province).exists()
    assert list(waiting_for(world.users["treasurer"])) == [case]
    pay(case, world.users["treasurer"])
    assert not waiting_for(world.users["treasurer"]).exists()


def test_what_the_case_page_offers_each_role(world, make_case):
    case = make_case("submitted")
    users = world.users
    assert allowed_actions(users["grassroots"], case) == set()
    assert allowed_actions(users["commune"], case) == {"endorse", "return", "reject"}
    assert allowed_actions(users["province"], case) == set()
    case = approvals.endorse_case(case=case, by=users["commune"])
    assert allowed_actions(users["province"], case) == {"approve", "return", "reject"}
    assert allowed_actions(users["commune"], case) == set()
    case = approvals.approve_case(case=case, by=users["province"], amount=3_000_000)
    assert allowed_actions(users["treasurer"], case) == {"pay"}
    assert allowed_actions(users["commune_treasurer"], case) == set()


# --- e-mail ----------------------------------------------------------------------------------


def recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def test_submitting_emails_the_commune_staff(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    case = make_case("draft")
    with django_capture_on_commit_callbacks(execute=True):
        approvals.submit_case(case=case, by=world.users["grassroots"])
    assert recipients(mailoutbox) == ["commune@example.vn"]
    assert "Quỹ Xã hội tỉnh P" in mailoutbox[0].body
    assert "Nguyễn Văn An" in mailoutbox[0].body


def test_endorsing_emails_the_province_staff(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    case = make_case("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        approvals.endorse_case(case=case, by=world.users["commune"])
    assert recipients(mailoutbox) == ["province@example.vn"]


def test_approving_emails_the_province_treasurer_and_the_opener(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    case = make_case("endorsed")
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approve_case(case=case, by=world.users["province"], amount=2_000_000)
    assert recipients(mailoutbox) == ["grassroots@example.vn", "treasurer@example.vn"]
    assert all("2.000.000 ₫" in message.body for message in mailoutbox)


@pytest.mark.parametrize("decision", [approvals.return_case, approvals.reject_case])
def test_returning_or_rejecting_emails_the_creator(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks, decision
):
    case = make_case("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        decision(case=case, by=world.users["commune"], comment="Thiếu giấy xác nhận")
    assert recipients(mailoutbox) == ["grassroots@example.vn"]


def test_no_email_leaves_when_the_step_fails(
    world, make_case, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    case = make_case("endorsed")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["province"], amount=500_000_000)
    assert mailoutbox == []


def test_count_waiting_counts_what_waits_up_to_its_limit(world, make_case):
    treasurer, commune = world.users["treasurer"], world.users["commune"]
    for _ in range(3):
        make_case("approved")
    for _ in range(4):
        make_case("submitted")
    assert approvals.count_waiting(treasurer) == waiting_for(treasurer).count() == 3
    assert approvals.count_waiting(commune) == 4
    # past the limit it says "more than": one over, never the whole count
    assert approvals.count_waiting(commune, up_to=2) == 3
    assert approvals.count_waiting(world.users["leader"]) == 0


def test_count_waiting_runs_one_query_however_many_wait(
    world, make_case, django_assert_num_queries
):
    for _ in range(5):
        make_case("submitted")
    commune = world.users["commune"]
    approvals.count_waiting(commune)  # the user's grants are read once, then kept
    with django_assert_num_queries(1):
        assert approvals.count_waiting(commune, up_to=3) == 4
