"""Each step's rule on its own: who may take it, and the reason given to whoever may not.

The services raise from the same decision, so each refusal is checked twice: what the rule says
and what the service raises (with no event written).  Read in English, the language of the
msgids.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from unions.models import Role, RoleAssignment
from unions.scope import Capability, forget_grants, units_held
from welfare.cases import approvals, rules
from welfare.cases.evidence import add_evidence
from welfare.cases.rules import Refusal, allowed_actions, decide
from welfare.models import Payment

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db

CREATED = "You created this case, so someone else must decide on it."
EDITED = "You edited this case, so someone else must decide on it."
ACTED = "You have already acted on this case."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def give_role(user, role, unit):
    RoleAssignment.objects.create(user=user, role=role, unit=unit)
    forget_grants(user)


def take(action, case, by):
    """The service behind ``action``, called as a view would with a valid form."""
    services = {
        "submit": lambda: approvals.submit_case(case=case, by=by),
        "edit": lambda: approvals.update_case(case=case, by=by),
        "evidence": lambda: add_evidence(case=case, files=[pdf_upload()], by=by),
        "endorse": lambda: approvals.endorse_case(case=case, by=by),
        "return": lambda: approvals.return_case(case=case, by=by, comment="Thiếu giấy tờ"),
        "reject": lambda: approvals.reject_case(case=case, by=by, comment="Không đủ điều kiện"),
        "approve": lambda: approvals.approve_case(case=case, by=by, amount=1_000_000),
        "pay": lambda: approvals.record_payment(
            case=case,
            by=by,
            paid_on=case.approved_on or case.created_at.date(),
            method="cash",
            receipt_reference="PC-9",
            received_by=case.member.full_name,
        ),
    }
    return services[action]()


def assert_refused(case, by, action, reason):
    """The rule refuses with ``reason``; the service raises it and writes nothing."""
    decision = decide(by, case, action)
    assert (decision.allowed, decision.status, decision.reason) == (False, 302, reason)
    assert action not in allowed_actions(by, case)
    events = case.events.count()
    with pytest.raises(ValidationError) as refused:
        take(action, case, by)
    assert refused.value.messages == [reason]
    assert case.events.count() == events


# --- the officer who created a case never decides on it ------------------------------------


def test_the_creator_cannot_endorse(world, funds):
    commune = world.users["commune"]
    case = approvals.open_case(
        member=world.member_a1,
        unit=world.a1,
        category="illness",
        circumstances="Nằm viện dài ngày.",
        support_type="grant",
        requested_amount=2_000_000,
        fund=funds.social,
        evidence=[pdf_upload()],
        by=commune,
    )
    case = approvals.submit_case(case=case, by=commune)
    assert case.current_unit == world.commune_a
    assert_refused(case, commune, "endorse", CREATED)


def test_the_creator_cannot_approve(world, funds, make_case):
    case = make_case("submitted", fund=funds.commune, by=world.users["commune"])
    assert_refused(case, world.users["commune"], "approve", CREATED)


def test_the_creator_cannot_return_or_reject(world, funds, make_case):
    case = make_case("submitted", fund=funds.commune, by=world.users["commune"])
    assert_refused(case, world.users["commune"], "return", CREATED)
    assert_refused(case, world.users["commune"], "reject", CREATED)


def test_the_creator_cannot_pay(world, make_case):
    grassroots = world.users["grassroots"]
    give_role(grassroots, Role.TREASURER, world.province)
    assert_refused(make_case("approved"), grassroots, "pay", CREATED)


def test_a_reviewer_who_edited_the_case_cannot_endorse_it(world, make_case):
    commune = world.users["commune"]
    case = approvals.return_case(case=make_case("submitted"), by=commune, comment="Sửa số tiền")
    case.requested_amount = 9_000_000
    approvals.update_case(case=case, by=commune)
    case = approvals.submit_case(case=case, by=world.users["grassroots"])
    assert_refused(case, commune, "endorse", EDITED)


# --- nobody acts twice in a round ----------------------------------------------------------


def test_a_reviewer_at_two_levels_cannot_approve_what_they_endorsed(world, make_case):
    commune = world.users["commune"]
    give_role(commune, Role.PROVINCE_STAFF, world.province)
    case = approvals.endorse_case(case=make_case("submitted"), by=commune)
    assert_refused(case, commune, "approve", ACTED)
    assert decide(world.users["province"], case, "approve").allowed


def test_the_approver_cannot_pay_holding_a_treasurer_role(world, make_case):
    province = world.users["province"]
    give_role(province, Role.TREASURER, world.province)
    assert_refused(make_case("approved"), province, "pay", ACTED)
    assert decide(world.users["treasurer"], make_case("approved"), "pay").allowed


# --- the state of the case and the level it waits at --------------------------------------


def test_a_draft_is_not_waiting_for_a_decision(world, make_case):
    assert_refused(
        make_case("draft"),
        world.users["commune"],
        "endorse",
        "This case is not waiting for a decision.",
    )


def test_the_fund_owner_approves_and_does_not_endorse(world, make_case):
    assert_refused(
        make_case("endorsed"),
        world.users["province"],
        "endorse",
        "The fund's own union approves or rejects; it does not endorse.",
    )


def test_an_intermediate_level_does_not_approve_from_a_province_fund(world, make_case):
    assert_refused(
        make_case("submitted"),
        world.users["commune"],
        "approve",
        "Only the union that owns the fund approves this case.",
    )


def test_only_an_approved_case_is_paid(world, make_case):
    assert_refused(
        make_case("endorsed"), world.users["treasurer"], "pay", "Only an approved case can be paid."
    )


def test_a_submitted_case_is_neither_edited_submitted_nor_given_evidence(world, make_case):
    case, grassroots = make_case("submitted"), world.users["grassroots"]
    assert_refused(case, grassroots, "edit", "Only a draft or a returned case can be changed.")
    assert_refused(case, grassroots, "submit", "This case has already been submitted.")
    assert_refused(
        case, grassroots, "evidence", "Evidence can be added only to a draft or a returned case."
    )
    assert case.evidence.count() == 1


def test_a_reviewer_on_the_route_is_told_where_the_case_waits(world, make_case):
    """The page sends them back with the level; the service, acting at one level, refuses as
    it refuses anyone without a grant there."""
    case = make_case("submitted")
    decision = decide(world.users["province"], case, "approve")
    assert (decision.refusal, decision.status) == (Refusal.ANOTHER_LEVEL, 302)
    assert decision.reason == "This case is waiting for a decision at Công đoàn phường A."
    with pytest.raises(PermissionDenied):
        approvals.approve_case(case=case, by=world.users["province"], amount=3_000_000)
    assert case.events.count() == 2


def test_a_second_payment_is_refused_as_already_paid(world, make_case):
    case = make_case("paid")
    decision = decide(world.users["treasurer"], case, "pay")
    assert (decision.refusal, decision.reason) == (
        Refusal.ALREADY_PAID,
        "This case has already been paid.",
    )
    with pytest.raises(approvals.AlreadyPaid):
        take("pay", case, world.users["treasurer"])
    assert Payment.objects.filter(case=case).count() == 1


# --- roles that never take the step --------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "action", "state"),
    [
        ("leader", "endorse", "submitted"),
        ("grassroots", "endorse", "submitted"),  # its union is not a level on the route
        ("treasurer", "approve", "endorsed"),
        ("commune_treasurer", "pay", "approved"),  # a treasurer, but not of the fund's owner
        ("province", "pay", "approved"),
        ("leader", "submit", "draft"),
        ("treasurer", "evidence", "draft"),
        ("q_officer", "edit", "draft"),
    ],
)
def test_a_role_that_never_takes_the_step_is_refused_with_403(
    world, make_case, role, action, state
):
    case = make_case(state)
    decision = decide(world.users[role], case, action)
    assert (decision.allowed, decision.refusal, decision.status) == (False, Refusal.NEVER, 403)
    events, evidence = case.events.count(), case.evidence.count()
    with pytest.raises(PermissionDenied):
        take(action, case, world.users[role])
    assert (case.events.count(), case.evidence.count()) == (events, evidence)


def test_the_user_whose_turn_it_is_may_act(world, funds, make_case):
    users = world.users
    assert decide(users["grassroots"], make_case("draft"), "submit") == rules.ALLOWED
    assert decide(users["commune"], make_case("submitted"), "endorse").allowed
    assert decide(users["province"], make_case("endorsed"), "approve").allowed
    assert decide(users["treasurer"], make_case("approved"), "pay").allowed
    assert decide(users["a1_chair"], make_case("submitted", fund=funds.own), "approve").allowed


def test_the_page_reads_the_users_part_in_the_case_in_one_query(
    world, make_case, django_assert_num_queries
):
    case = make_case("submitted")
    commune = world.users["commune"]
    units_held(commune, Capability.REVIEW_CASES)  # the grants are read once, then kept
    with django_assert_num_queries(1):
        assert allowed_actions(commune, case) == {"endorse", "return", "reject"}


# --- money that nobody could pay -----------------------------------------------------------

NO_TREASURER = (
    "CĐCS Công ty A1 has no treasurer, so nobody could pay from Quỹ CĐCS Công ty A1. Ask an "
    "administrator to give someone the treasurer role there before approving."
)


def _without_treasurer(world):
    RoleAssignment.objects.filter(unit=world.a1, role=Role.TREASURER).delete()
    forget_grants(world.users["a1_treasurer"])


def test_approval_from_a_fund_whose_union_has_no_treasurer_is_refused(world, funds, make_case):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    _without_treasurer(world)
    assert decide(world.users["a1_chair"], case, "approve").refusal is Refusal.NO_TREASURER
    assert_refused(case, world.users["a1_chair"], "approve", NO_TREASURER)
    funds.own.refresh_from_db()
    assert funds.own.reserved == 0
    # Returning and rejecting stay open: the case is not stuck either.
    assert {"return", "reject"} <= allowed_actions(world.users["a1_chair"], case)


def test_a_treasurer_whose_account_is_closed_pays_nobody(world, funds, make_case):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    world.users["a1_treasurer"].is_active = False
    world.users["a1_treasurer"].save()
    assert decide(world.users["a1_chair"], case, "approve").refusal is Refusal.NO_TREASURER


def test_once_the_union_has_a_treasurer_the_case_is_approved(world, funds, make_case):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    _without_treasurer(world)
    assert not decide(world.users["a1_chair"], case, "approve").allowed
    give_role(world.users["a1_treasurer"], Role.TREASURER, world.a1)
    assert decide(world.users["a1_chair"], case, "approve").allowed
