"""The approval chain: a case goes up the tree from its union to the union that owns the fund.

Every level in between endorses, returns or rejects; the owner approves an amount (which
reserves it on the fund) or rejects; a treasurer of the owner pays.  Nobody acts on a case they
created, and nobody acts twice in one round (from one submission to the decision).  Who may take
which step is decided in ``rules``; each service enforces that decision on the locked case.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from common.money import format_dong
from common.text import normalise
from members import privacy
from unions.models import Unit
from unions.scope import Capability, can, units_held
from welfare.funds.ledger import lock_fund, post_entry
from welfare.funds.models import EntryKind, Fund
from welfare.reports import tallies

from . import notices, rules
from .evidence import add_evidence
from .models import BeneficiaryOrganisation, Case, CaseEvent, CaseStatus, Payment, SupportType
from .rules import AUTHORING, DECISIONS
from .rules import AlreadyPaid as AlreadyPaid  # what record_payment raises for a second payment

Action = CaseEvent.Action


def get_case_for_user(user, pk) -> Case:
    """The case if its union is in the user's scope; 404 otherwise, as if it did not exist."""
    return get_object_or_404(
        Case.objects.visible_to(user).select_related(
            "unit",
            "member__unit",
            "organisation",
            "dependant",
            "fund__unit",
            "current_unit",
            "created_by",
        ),
        pk=pk,
    )


def _lock(case: Case) -> Case:
    """The case and its fund, not the union joined for reading: a union row locked FOR UPDATE
    blocks every insert that refers to it (the foreign-key check takes KEY SHARE), and a case
    opened at the union while this one was paid deadlocked with the payment."""
    return (
        Case.objects.select_for_update(of=("self", "fund"))
        .select_related("fund", "unit")
        .get(pk=case.pk)
    )


# The support given for a member's child: the child is named on the record.
FOR_A_CHILD = (SupportType.SAVINGS_BOOK, SupportType.SCHOLARSHIP)


def check_amount(support_type: str, amount: int | None, field: str) -> None:
    """Money is given in whole đồng above zero, except on a visit without money (thăm hỏi,
    động viên), which is recorded at 0 đồng."""
    if amount is None or amount < 0 or (amount == 0 and support_type != SupportType.VISIT):
        raise ValidationError(
            {field: _("The amount must be greater than zero; only a visit may be 0 đồng.")}
        )


def check_beneficiary(case: Case) -> None:
    """A case is for one member of the case's unions or for one organisation of its union,
    never both; a child named on it is one of the member's dependants, and savings books and
    scholarships name one."""
    if (case.member_id is None) == (case.organisation_id is None):
        raise ValidationError(_("A case is for one person or for one organisation, not both."))
    if case.organisation_id is not None:
        assert case.organisation is not None
        if case.organisation.unit_id != case.unit_id:
            raise ValidationError(
                {"organisation": _("The organisation is recorded at another union.")}
            )
        if case.dependant_id is not None:
            raise ValidationError({"dependant": _("A child is named only for a person.")})
        return
    assert case.member is not None
    if not case.member.unit.path.startswith(case.unit.path):
        raise ValidationError({"member": _("The person does not belong to this union.")})
    if case.dependant_id is not None:
        assert case.dependant is not None
        if case.dependant.member_id != case.member_id:
            raise ValidationError(
                {"dependant": _("The child chosen is not a dependant of this person.")}
            )
    elif case.support_type in FOR_A_CHILD:
        raise ValidationError(
            {"dependant": _("Choose the child the savings book or the scholarship is for.")}
        )


def _record(case: Case, action: str, unit: Unit | int, by, amount=None, comment="") -> None:
    CaseEvent.objects.create(
        case=case,
        action=action,
        unit_id=getattr(unit, "pk", unit),
        actor=by,
        amount=amount,
        comment=comment,
    )


def _waiting_at(case: Case) -> Unit:
    """The level a submitted case waits at: every submitted case has one, and the decisions
    that read it are refused by ``rules.decide`` unless the case is submitted there."""
    assert case.current_unit is not None
    return case.current_unit


def next_level(case: rules.Reviewed, after: Unit) -> Unit:
    """The union above ``after`` on the way to the fund's owner (today's tree)."""
    if after.pk == case.fund.unit_id:
        return after
    # A case's fund belongs to its unit or a unit above it (check_fund_usable): the walk
    # up meets the owner before it runs out of parents.
    assert after.parent_id is not None
    parent = Unit.objects.get(pk=after.parent_id)
    return parent


def check_fund_usable(fund: Fund, unit: Unit) -> None:
    if fund.unit_id not in unit.ancestor_ids() or not fund.is_active:
        raise ValidationError({"fund": _("Choose a fund of this union or of a union above it.")})


# --- writes --------------------------------------------------------------------------------


@transaction.atomic
def organisation_for(
    *, unit: Unit, name: str, kind: str, address: str = "", by
) -> BeneficiaryOrganisation:
    """The organisation of that name at the union (compared without case or marks), or a new
    one recorded there: naming it again never makes a second."""
    if not can(by, Capability.OPEN_CASES, unit):
        raise PermissionDenied
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"organisation_name": _("Write the name of the organisation.")})
    found = BeneficiaryOrganisation.objects.filter(unit=unit, search_name=normalise(name)).first()
    if found is not None:
        return found
    return BeneficiaryOrganisation.objects.create(
        unit=unit, name=name, kind=kind, address=" ".join(address.split())
    )


@transaction.atomic
def create_case(*, case: Case, by) -> Case:
    if not can(by, Capability.OPEN_CASES, case.unit):
        raise PermissionDenied
    check_beneficiary(case)
    if case.member is not None:
        privacy.check_not_restricted(case.member)
    check_amount(case.support_type, case.requested_amount, "requested_amount")
    check_fund_usable(case.fund, case.unit)
    case.created_by = by
    case.status = CaseStatus.DRAFT
    case.save()
    _record(case, Action.CREATED, case.unit, by, case.requested_amount)
    return case


@transaction.atomic
def open_case(
    *,
    member=None,
    organisation=None,
    dependant=None,
    unit: Unit,
    category: str,
    circumstances: str,
    support_type: str,
    requested_amount: int,
    fund: Fund,
    evidence=(),
    kept=(),
    by,
) -> Case:
    """A draft case for a member (and their ``dependant`` for a child's support) or for an
    ``organisation``, with its evidence files (chosen now, or ``kept`` from an earlier try of
    the form), all of it or nothing: a refused file leaves no case behind."""
    case = Case(
        member=member,
        organisation=organisation,
        dependant=dependant,
        unit=unit,
        category=category,
        circumstances=circumstances,
        support_type=support_type,
        requested_amount=requested_amount,
        fund=fund,
    )
    case = create_case(case=case, by=by)
    add_evidence(case=case, files=evidence, kept=kept, by=by)
    return case


@transaction.atomic
def update_case(*, case: Case, by, evidence=(), kept=()) -> Case:
    """Save the changes to a draft or a returned case, with any evidence files added (chosen
    now or ``kept`` from an earlier try), all of it or nothing."""
    locked = _lock(case)
    rules.decide(by, locked, "edit").enforce()
    check_beneficiary(case)
    check_amount(case.support_type, case.requested_amount, "requested_amount")
    check_fund_usable(case.fund, case.unit)
    case.status = locked.status
    case.save()
    _record(case, Action.EDITED, case.unit, by, case.requested_amount)
    add_evidence(case=case, files=evidence, kept=kept, by=by)
    return case


@transaction.atomic
def submit_case(*, case: Case, by, comment: str = "") -> Case:
    case = _lock(case)
    rules.decide(by, case, "submit").enforce()
    check_fund_usable(case.fund, case.unit)
    if not case.evidence.exists():
        raise ValidationError(_("Attach at least one evidence file before submitting."))
    case.status = CaseStatus.SUBMITTED
    case.submitted_at = timezone.now()
    case.current_unit = next_level(case, case.unit)
    case.save()
    _record(case, Action.SUBMITTED, case.unit, by, case.requested_amount, comment)
    notices.case_waiting_for_decision(case, by=by, at=_waiting_at(case))
    return case


@transaction.atomic
def endorse_case(*, case: Case, by, comment: str = "") -> Case:
    """An intermediate level agrees and passes the case up."""
    case = _lock(case)
    rules.decide(by, case, "endorse").enforce()
    level = _waiting_at(case)
    case.current_unit = next_level(case, level)
    case.save(update_fields=["current_unit", "updated_at"])
    _record(case, Action.ENDORSED, level, by, comment=comment)
    notices.case_waiting_for_decision(case, by=by, at=_waiting_at(case))
    return case


@transaction.atomic
def return_case(*, case: Case, by, comment: str) -> Case:
    case = _lock(case)
    rules.decide(by, case, "return").enforce()
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the case is returned.")})
    level = _waiting_at(case)
    case.status = CaseStatus.RETURNED
    case.current_unit = None
    case.save(update_fields=["status", "current_unit", "updated_at"])
    _record(case, Action.RETURNED, level, by, comment=comment)
    notices.case_returned(case, by=by, at=level, reason=comment)
    return case


@transaction.atomic
def reject_case(*, case: Case, by, comment: str) -> Case:
    case = _lock(case)
    rules.decide(by, case, "reject").enforce()
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the case is rejected.")})
    level = _waiting_at(case)
    case.status = CaseStatus.REJECTED
    case.current_unit = None
    case.save(update_fields=["status", "current_unit", "updated_at"])
    _record(case, Action.REJECTED, level, by, comment=comment)
    notices.case_rejected(case, by=by, at=level, reason=comment)
    return case


@transaction.atomic
def approve_case(*, case: Case, by, amount: int, comment: str = "") -> Case:
    """Approve an amount and reserve it on the fund; refused when the fund cannot cover it.

    A visit approved at 0 đồng moves no money: it needs no treasurer and is marked paid on the
    day it is approved, with no payment and no ledger entry."""
    case = _lock(case)
    rules.decide(by, case, "approve").enforce()
    if amount is None or amount < 0 or (amount == 0 and case.support_type != SupportType.VISIT):
        raise ValidationError({"amount": _("The approved amount must be positive.")})
    if amount == 0:
        return _approve_without_money(case, by=by, comment=comment)
    fund = lock_fund(case.fund_id)
    if amount > fund.available:
        raise ValidationError(
            {
                "amount": _("%(fund)s cannot cover %(amount)s: only %(available)s is available.")
                % {
                    "fund": fund.name,
                    "amount": format_dong(amount),
                    "available": format_dong(fund.available),
                }
            }
        )
    fund.reserved += amount
    fund.save(update_fields=["reserved"])
    level = _waiting_at(case)
    case.status = CaseStatus.APPROVED
    case.approved_amount = amount
    case.approved_on = timezone.localdate()
    case.current_unit = None
    case.save()
    _record(case, Action.APPROVED, level, by, amount, comment)
    notices.case_approved(case, by=by, at=level, comment=comment)
    notices.case_waiting_for_payment(case, by=by)
    return case


def _approve_without_money(case: Case, *, by, comment: str) -> Case:
    level = _waiting_at(case)
    today = timezone.localdate()
    case.status = CaseStatus.PAID
    case.approved_amount = 0
    case.approved_on = today
    case.paid_on = today
    case.current_unit = None
    case.save()
    tallies.count_paid([case.pk])
    _record(case, Action.APPROVED, level, by, 0, comment)
    _record(
        case,
        Action.PAID,
        level,
        by,
        0,
        _("A visit without money: nothing was paid from the fund."),
    )
    notices.case_approved(case, by=by, at=level, comment=comment)
    return case


@transaction.atomic
def record_payment(
    *,
    case: Case,
    by,
    paid_on: datetime.date,
    method: str,
    receipt_reference: str,
    received_by: str,
) -> Payment:
    """The treasurer of the fund's owner pays the approved amount; money leaves the ledger once."""
    case = _lock(case)
    rules.decide(by, case, "pay").enforce()
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("The payment date cannot be in the future.")})
    if case.approved_on and paid_on < case.approved_on:
        raise ValidationError({"paid_on": _("The payment date cannot be before the approval.")})
    fund = lock_fund(case.fund_id)
    amount = case.approved_amount
    assert amount is not None  # only an approved case is paid, and approving sets it
    fund.reserved -= amount
    entry = post_entry(
        fund=fund,
        kind=EntryKind.DISBURSEMENT,
        amount=-amount,
        occurred_on=paid_on,
        description=_("Support for %(name)s (case #%(case)s)")
        % {"name": case.beneficiary_name, "case": case.pk},
        case=case,
        by=by,
    )
    payment = Payment.objects.create(
        case=case,
        fund=fund,
        amount=amount,
        paid_on=paid_on,
        method=method,
        receipt_reference=receipt_reference,
        received_by=received_by,
        ledger_entry=entry,
        by=by,
    )
    case.status = CaseStatus.PAID
    case.paid_on = paid_on
    case.save(update_fields=["status", "paid_on", "updated_at"])
    tallies.count_paid([case.pk])
    _record(case, Action.PAID, fund.unit_id, by, amount, receipt_reference)
    notices.case_paid(case, payment, by=by)
    return payment


# --- reads ---------------------------------------------------------------------------------

# The steps that give the person money: on a batch record's timeline, with the person's amount.
GIVING = (CaseEvent.Action.APPROVED, CaseEvent.Action.PAID)


def timeline(case: Case) -> list:
    """The steps of the case, oldest first.  A program batch's record has no steps of its own
    for what was done to its whole list: its batch's steps stand for them (marked
    ``for_list``, with the person's own amount where the step gave money), with the record's
    own steps (a person not paid) among them."""
    events: list = list(case.events.select_related("actor", "unit"))
    if case.batch_id is not None:
        assert case.batch is not None
        for step in case.batch.events.select_related("actor", "unit"):
            if step.action == CaseEvent.Action.PAID and case.status != CaseStatus.PAID:
                continue  # paid with the list, but not this person
            step.for_list = True  # type: ignore[attr-defined]
            step.amount = case.approved_amount if step.action in GIVING else None
            events.append(step)
        events.sort(key=lambda step: step.at)
    return events


def waiting_for(user) -> QuerySet[Case]:
    """The cases on which the user may act now, oldest first."""
    acted = CaseEvent.objects.filter(
        case=OuterRef("pk"), actor=user, action__in=DECISIONS, at__gte=OuterRef("submitted_at")
    )
    authored = CaseEvent.objects.filter(case=OuterRef("pk"), actor=user, action__in=AUTHORING)
    to_review = Q(
        status=CaseStatus.SUBMITTED,
        current_unit_id__in=units_held(user, Capability.REVIEW_CASES),
    )
    # The funds as a list of ids: PostgreSQL then knows how many approved cases each holds
    # and walks the case_waiting_order index when they are many, where a join to the funds
    # planned for a few and checked all of them (bench/README.md has the figures).
    paying = units_held(user, Capability.PAY)
    funds = (
        list(Fund.objects.filter(unit_id__in=paying).values_list("pk", flat=True)) if paying else []
    )
    # A program batch's records are paid with their batch, not one by one.
    to_pay = Q(status=CaseStatus.APPROVED, fund_id__in=funds, batch__isnull=True)
    return (
        Case.objects.visible_to(user)
        .filter(to_review | to_pay)
        .exclude(created_by=user)
        .exclude(Exists(authored))
        .exclude(Exists(acted))
        .order_by("submitted_at", "id")
    )


# The home page's count of cases waiting for the user stops here: "99+" is all it needs to say.
WAITING_COUNTED = 99


def count_waiting(user, *, up_to: int = WAITING_COUNTED) -> int:
    """How many cases wait for the user, counted up to ``up_to + 1``: more than ``up_to`` means
    "more than ``up_to``".  Costs the same however many cases wait (the exact count of
    ``waiting_for`` checks each of them against the user's own events)."""
    return waiting_for(user).order_by()[: up_to + 1].count()


def returned_to(user) -> QuerySet[Case]:
    return Case.objects.visible_to(user).filter(status=CaseStatus.RETURNED, created_by=user)
