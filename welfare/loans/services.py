"""The loan services: apply, confirm, approve or reject, disburse, repay, reschedule, write off,
recover, and the daily overdue check. Each takes the acting user ``by`` and enforces the rule
of ``loans/rules.py`` on the locked loan; money moves only through ``funds/ledger.post_entry``
under the fund's lock, and a form's token makes a form sent twice record once
(``ledger.AlreadyRecorded``).

Lock order, everywhere: the loan, then its fund.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from common.money import format_dong
from members import privacy
from members.models import Member
from unions.models import Unit
from unions.scope import (
    Capability,
    authorize_write,
    can,
    require_actor,
)
from welfare.funds.ledger import AlreadyRecorded, lock_fund, post_entry
from welfare.funds.models import EntryKind, Fund, FundKind, LedgerEntry

from . import notices, rules, schedule, tallies
from .models import (
    Instalment,
    Loan,
    LoanEvent,
    LoanProduct,
    LoanStatus,
    Repayment,
    RepaymentKind,
)

Action = LoanEvent.Action


def get_loan_for_user(user, pk) -> Loan:
    """The loan if its union is in the user's scope; 404 otherwise, as if it did not exist."""
    return get_object_or_404(
        Loan.objects.visible_to(user).select_related(
            "unit", "member__unit", "fund__unit", "product", "created_by"
        ),
        pk=pk,
    )


def _lock(loan: Loan) -> Loan:
    return (
        Loan.objects.select_for_update(of=("self",))
        .select_related("fund", "unit", "member", "product")
        .get(pk=loan.pk)
    )


def _event(loan: Loan, action: str, by, *, on=None, amount=None, comment="") -> LoanEvent:
    return LoanEvent.objects.create(
        loan=loan,
        action=action,
        actor=by,
        amount=amount,
        comment=comment,
        on=on or timezone.localdate(),
    )


def _sent_before(loan: Loan, by, submission: str) -> None:
    """Only a treasurer of the fund's union moves a loan's money (404 outside scope, 403
    otherwise); the same form recorded already (a double click, a reload) records nothing
    more, whatever the loan's state has become since."""
    authorize_write(by, Capability.PAY, Unit.objects.get(pk=loan.fund.unit_id), here=True)
    if (
        submission
        and LedgerEntry.objects.filter(fund_id=loan.fund_id, submission=submission).exists()
    ):
        raise AlreadyRecorded


def _check_date(day: datetime.date, field: str, not_before: datetime.date | None = None) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    if not_before and day < not_before:
        raise ValidationError({field: _("The date cannot be before the loan was disbursed.")})


# --- products ------------------------------------------------------------------------------


@transaction.atomic
def create_product(
    *,
    fund: Fund,
    name: str,
    annual_rate,
    max_principal: int,
    term_months: int,
    frequency: str,
    grace_days: int,
    by,
) -> LoanProduct:
    """A treasurer of the fund's union sets out what the fund lends on."""
    fund = Fund.objects.select_related("unit").get(pk=fund.pk)
    authorize_write(by, Capability.PAY, fund.unit, here=True)
    if fund.kind != FundKind.LOAN:
        raise ValidationError(_("Only a fund for supporting poor workers lends."))
    if max_principal <= 0:
        raise ValidationError({"max_principal": _("The maximum must be positive.")})
    if annual_rate < 0:
        raise ValidationError({"annual_rate": _("The rate cannot be negative.")})
    return LoanProduct.objects.create(
        fund=fund,
        name=name,
        annual_rate=annual_rate,
        max_principal=max_principal,
        term_months=term_months,
        frequency=frequency,
        grace_days=grace_days,
    )


# --- the chain -----------------------------------------------------------------------------


@transaction.atomic
def apply_for_loan(
    *,
    product: LoanProduct,
    member: Member,
    unit: Unit,
    purpose: str,
    principal: int,
    term_months: int,
    guarantor: str = "",
    by,
) -> Loan:
    """An officer of the member's union (or one above it) applies for a loan for them."""
    by = require_actor(by)
    unit = Unit.objects.get(pk=unit.pk)
    authorize_write(by, Capability.OPEN_CASES, unit)
    member = Member.objects.select_related("unit").get(pk=member.pk)
    if not member.unit.path.startswith(unit.path):
        raise ValidationError({"member": _("The person does not belong to this union.")})
    privacy.check_not_restricted(member)
    product = LoanProduct.objects.select_related("fund").get(pk=product.pk)
    if not product.is_active or not product.fund.is_active:
        raise ValidationError({"product": _("This loan product is closed.")})
    if product.fund.unit_id not in unit.ancestor_ids():
        raise ValidationError({"product": _("Choose a fund of this union or of a union above it.")})
    if principal <= 0:
        raise ValidationError({"principal": _("The principal must be positive.")})
    if principal > product.max_principal:
        raise ValidationError(
            {
                "principal": _("This product lends at most %(max)s.")
                % {"max": format_dong(product.max_principal)}
            }
        )
    if not 1 <= term_months <= product.term_months:
        raise ValidationError(
            {
                "term_months": _("The term is from 1 to %(months)s months.")
                % {"months": product.term_months}
            }
        )
    if not purpose.strip():
        raise ValidationError({"purpose": _("Say what the loan is for.")})
    loan = Loan.objects.create(
        product=product,
        fund=product.fund,
        unit=unit,
        member=member,
        purpose=purpose,
        principal=principal,
        term_months=term_months,
        guarantor=guarantor,
        created_by=by,
    )
    _event(loan, Action.APPLIED, by, amount=principal, comment=purpose)
    notices.waiting_for_decision(loan, unit_id=loan.unit_id, by=by)
    return loan


@transaction.atomic
def confirm_loan(*, loan: Loan, by, comment: str = "") -> Loan:
    loan = _lock(loan)
    rules.decide(by, loan, "confirm").enforce()
    loan.status = LoanStatus.CONFIRMED
    loan.save(update_fields=["status"])
    _event(loan, Action.CONFIRMED, by, comment=comment)
    notices.waiting_for_decision(loan, unit_id=loan.fund.unit_id, by=by)
    return loan


@transaction.atomic
def reject_loan(*, loan: Loan, by, comment: str) -> Loan:
    loan = _lock(loan)
    rules.decide(by, loan, "reject").enforce()
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the loan is rejected.")})
    loan.status = LoanStatus.REJECTED
    loan.save(update_fields=["status"])
    _event(loan, Action.REJECTED, by, comment=comment)
    notices.decided(loan, by=by, approved=False, comment=comment)
    return loan


@transaction.atomic
def approve_loan(*, loan: Loan, by, comment: str = "") -> Loan:
    """Approve the principal and reserve it on the fund; refused when the fund cannot cover it."""
    loan = _lock(loan)
    rules.decide(by, loan, "approve").enforce()
    fund = lock_fund(loan.fund_id)
    if loan.principal > fund.available:
        raise ValidationError(
            _("%(fund)s cannot lend %(amount)s: only %(available)s is available.")
            % {
                "fund": fund.name,
                "amount": format_dong(loan.principal),
                "available": format_dong(fund.available),
            }
        )
    fund.reserved += loan.principal
    fund.save(update_fields=["reserved"])
    loan.status = LoanStatus.APPROVED
    loan.save(update_fields=["status"])
    _event(loan, Action.APPROVED, by, amount=loan.principal, comment=comment)
    notices.decided(loan, by=by, approved=True, comment=comment)
    notices.waiting_for_disbursement(loan, by=by)
    return loan


def _write_schedule(loan: Loan, version: int, rows: list[schedule.Row]) -> datetime.date:
    """Write a schedule; returns the last day of grace of its first instalment."""
    grace = datetime.timedelta(days=loan.product.grace_days)
    written = Instalment.objects.bulk_create(
        Instalment(
            loan=loan,
            version=version,
            number=row.number,
            due_on=row.due_on,
            overdue_after=row.due_on + grace,
            principal=row.principal,
            interest=row.interest,
        )
        for row in rows
    )
    return min(instalment.overdue_after for instalment in written)


@transaction.atomic
def disburse_loan(
    *, loan: Loan, by, disbursed_on: datetime.date, receipt_reference: str = "", submission=""
) -> Loan:
    """A treasurer of the fund's union pays the loan out: the money leaves the ledger once and
    the schedule starts one period after ``disbursed_on``."""
    loan = _lock(loan)
    _sent_before(loan, by, submission)
    rules.decide(by, loan, "disburse").enforce()
    _check_date(disbursed_on, "disbursed_on")
    fund = lock_fund(loan.fund_id)
    fund.reserved -= loan.principal
    post_entry(
        fund=fund,
        kind=EntryKind.LOAN_OUT,
        amount=-loan.principal,
        occurred_on=disbursed_on,
        description=_("Loan to %(name)s (loan #%(loan)s)")
        % {"name": loan.member.full_name, "loan": loan.pk},
        source=receipt_reference,
        by=by,
        submission=submission,
    )
    rows = schedule.build(
        principal=loan.principal,
        term_months=loan.term_months,
        frequency=loan.product.frequency,
        annual_rate=loan.product.annual_rate,
        start=disbursed_on,
    )
    loan.schedule_version = 1
    loan.late_since = _write_schedule(loan, 1, rows)
    loan.status = LoanStatus.CURRENT
    loan.disbursed_on = disbursed_on
    loan.outstanding = loan.principal
    loan.save(
        update_fields=["status", "disbursed_on", "outstanding", "schedule_version", "late_since"]
    )
    tallies.disbursed(loan)
    _event(loan, Action.DISBURSED, by, on=disbursed_on, amount=loan.principal)
    return loan


def current_instalments(loan: Loan):
    return loan.instalments.filter(version=loan.schedule_version)


def _payable(instalments, loan: Loan, on: datetime.date) -> int:
    """What settles the loan on ``on``: the unpaid principal, and the interest of the periods
    begun by then (the later periods' interest is not owed once their principal is paid)."""
    frequency = loan.product.frequency
    return sum(
        i.remaining
        if schedule.period_begun(i.due_on, frequency, on)
        else i.principal - i.principal_paid
        for i in instalments
    )


def still_owed(loan: Loan, on: datetime.date | None = None) -> int:
    """What pays the loan off on ``on`` (today by default)."""
    unsettled = current_instalments(loan).filter(settled_on__isnull=True)
    return _payable(list(unsettled), loan, on or timezone.localdate())


@transaction.atomic
def record_repayment(
    *,
    loan: Loan,
    amount: int,
    paid_on: datetime.date,
    by,
    receipt_reference: str = "",
    submission: str = "",
) -> Repayment:
    """Money paid back: it settles the oldest instalments first, interest before principal, so
    a partial payment leaves the rest of an instalment owed and a larger one pays several
    instalments or the whole loan early. Paid ahead of a period, it goes to principal, and the
    periods to come are charged interest on what is then still owed (``schedule.reprice``). It
    returns to the ledger once."""
    loan = _lock(loan)
    _sent_before(loan, by, submission)
    rules.decide(by, loan, "repay").enforce()
    _check_date(paid_on, "paid_on", loan.disbursed_on)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    fund = lock_fund(loan.fund_id)
    owed = list(
        current_instalments(loan)
        .filter(settled_on__isnull=True)
        .select_for_update()
        .order_by("number")
    )
    frequency = loan.product.frequency
    total = _payable(owed, loan, paid_on)
    if amount > total:
        raise ValidationError(
            {
                "amount": _("Only %(owed)s is still owed on this loan.")
                % {"owed": format_dong(total)}
            }
        )
    entry = post_entry(
        fund=fund,
        kind=EntryKind.LOAN_REPAYMENT,
        amount=amount,
        occurred_on=paid_on,
        description=_("Repayment by %(name)s (loan #%(loan)s)")
        % {"name": loan.member.full_name, "loan": loan.pk},
        source=receipt_reference,
        by=by,
        submission=submission,
    )
    left, principal_part, interest_part = amount, 0, 0
    later = []
    for instalment in owed:
        begun = schedule.period_begun(instalment.due_on, frequency, paid_on)
        if not begun:
            later.append(instalment)
        interest = min(left, instalment.interest - instalment.interest_paid) if begun else 0
        left -= interest
        principal = min(left, instalment.principal - instalment.principal_paid)
        left -= principal
        instalment.interest_paid += interest
        instalment.principal_paid += principal
        principal_part += principal
        interest_part += interest
    schedule.reprice(later, annual_rate=loan.product.annual_rate, frequency=frequency)
    for instalment in owed:
        if instalment.remaining == 0:
            instalment.settled_on = paid_on
    # One UPDATE for the instalments of the schedule, however many a payment settles.
    Instalment.objects.bulk_update(
        owed, ["interest", "interest_paid", "principal_paid", "settled_on"]
    )
    repayment = Repayment.objects.create(
        loan=loan,
        kind=RepaymentKind.REPAYMENT,
        amount=amount,
        principal=principal_part,
        interest=interest_part,
        paid_on=paid_on,
        receipt_reference=receipt_reference,
        ledger_entry=entry,
        by=by,
    )
    loan.outstanding -= principal_part
    loan.principal_paid += principal_part
    loan.interest_paid += interest_part
    unsettled = [i.overdue_after for i in owed if i.settled_on is None]
    loan.late_since = min(unsettled) if unsettled else None
    _event(loan, Action.REPAID, by, on=paid_on, amount=amount, comment=receipt_reference)
    if amount == total:
        loan.status = LoanStatus.CLOSED
        loan.late_since = None
        _event(loan, Action.CLOSED, by, on=paid_on)
    loan.save(
        update_fields=["outstanding", "principal_paid", "interest_paid", "status", "late_since"]
    )
    tallies.repaid(loan, repayment)
    return repayment


@transaction.atomic
def reschedule_loan(
    *, loan: Loan, by, reason: str, term_months: int, starts_on: datetime.date
) -> Loan:
    """A new schedule for the principal outstanding, from ``starts_on`` (its first instalment
    falls one period later), approved by a reviewer of the fund's union. The old schedule is
    kept as it stood; only the new version counts from now on."""
    loan = _lock(loan)
    rules.decide(by, loan, "reschedule").enforce()
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the new schedule.")})
    if not 1 <= term_months <= 120:
        raise ValidationError({"term_months": _("The term is from 1 to 120 months.")})
    assert loan.disbursed_on is not None  # a loan being repaid was disbursed
    if starts_on < loan.disbursed_on:
        raise ValidationError({"starts_on": _("The date cannot be before the loan was disbursed.")})
    rows = schedule.build(
        principal=loan.outstanding,
        term_months=term_months,
        frequency=loan.product.frequency,
        annual_rate=loan.product.annual_rate,
        start=starts_on,
    )
    version = loan.schedule_version + 1
    loan.late_since = _write_schedule(loan, version, rows)
    loan.schedule_version = version
    loan.save(update_fields=["schedule_version", "late_since"])
    _event(
        loan,
        Action.RESCHEDULED,
        by,
        amount=loan.outstanding,
        comment=_("%(reason)s — %(count)s instalments from %(first)s")
        % {"reason": reason, "count": len(rows), "first": rows[0].due_on.strftime("%d/%m/%Y")},
    )
    return loan


@transaction.atomic
def write_off_loan(*, loan: Loan, by, reason: str) -> Loan:
    """The principal outstanding is written off, by a reviewer of the fund's union; the money
    left the ledger at disbursement, so nothing moves now. Recoveries may still come in."""
    loan = _lock(loan)
    rules.decide(by, loan, "write_off").enforce()
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the write-off.")})
    amount = loan.outstanding
    loan.written_off = amount
    loan.outstanding = 0
    loan.status = LoanStatus.WRITTEN_OFF
    loan.late_since = None
    loan.save(update_fields=["written_off", "outstanding", "status", "late_since"])
    event = _event(loan, Action.WRITTEN_OFF, by, amount=amount, comment=reason)
    # The fund's lock, which every change to its tallies takes, though no money moves.
    lock_fund(loan.fund_id)
    tallies.written_off(loan, amount, event.on)
    return loan


@transaction.atomic
def record_recovery(
    *,
    loan: Loan,
    amount: int,
    paid_on: datetime.date,
    by,
    receipt_reference: str = "",
    submission: str = "",
) -> Repayment:
    """Money recovered on a written-off loan, up to what was written off, back to the ledger
    once."""
    loan = _lock(loan)
    _sent_before(loan, by, submission)
    rules.decide(by, loan, "recover").enforce()
    _check_date(paid_on, "paid_on", loan.disbursed_on)
    left = loan.written_off - loan.recovered
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    if amount > left:
        raise ValidationError(
            {"amount": _("Only %(left)s is left to recover.") % {"left": format_dong(left)}}
        )
    entry = post_entry(
        fund=lock_fund(loan.fund_id),
        kind=EntryKind.LOAN_RECOVERY,
        amount=amount,
        occurred_on=paid_on,
        description=_("Recovery from %(name)s (loan #%(loan)s)")
        % {"name": loan.member.full_name, "loan": loan.pk},
        source=receipt_reference,
        by=by,
        submission=submission,
    )
    repayment = Repayment.objects.create(
        loan=loan,
        kind=RepaymentKind.RECOVERY,
        amount=amount,
        principal=amount,
        paid_on=paid_on,
        receipt_reference=receipt_reference,
        ledger_entry=entry,
        by=by,
    )
    loan.recovered += amount
    loan.save(update_fields=["recovered"])
    tallies.recovered(loan, repayment)
    _event(loan, Action.RECOVERED, by, on=paid_on, amount=amount, comment=receipt_reference)
    return repayment


# --- the daily check -----------------------------------------------------------------------


@transaction.atomic
def mark_overdue(today: datetime.date | None = None) -> int:
    """Mark the instalments that fell overdue (past their grace days, not settled, on a loan's
    current schedule) and tell the loan's union and the borrower's union, once per instalment:
    a second run on the same day finds nothing new. Returns how many were marked."""
    today = today or timezone.localdate()
    # The first run of a year counts the loans overdue at the end of the year just ended.
    tallies.count_ended_years()
    due = (
        Instalment.objects.select_for_update(of=("self",))
        .filter(
            settled_on__isnull=True,
            marked_overdue_on__isnull=True,
            overdue_after__lt=today,
            loan__status=LoanStatus.CURRENT,
            version=F("loan__schedule_version"),
        )
        .select_related("loan__member__unit", "loan__fund")
        .order_by("loan_id", "number")
    )
    by_loan: dict[int, list[Instalment]] = defaultdict(list)
    for instalment in due:
        by_loan[instalment.loan_id].append(instalment)
    if not by_loan:
        return 0
    ids = [i.pk for instalments in by_loan.values() for i in instalments]
    Instalment.objects.filter(pk__in=ids).update(marked_overdue_on=today)
    for instalments in by_loan.values():
        loan = instalments[0].loan
        _event(
            loan,
            Action.OVERDUE,
            None,
            on=today,
            amount=sum(i.remaining for i in instalments),
            comment=_("Instalment %(numbers)s")
            % {"numbers": ", ".join(str(i.number) for i in instalments)},
        )
        notices.overdue(loan, instalments)
    return len(ids)


def may_apply(user, unit: Unit) -> bool:
    return can(user, Capability.OPEN_CASES, unit)
