"""Who may take which step on a loan, each rule written once, in the words and with the
``Decision`` of the case rules (``welfare/cases/rules.py``): the services enforce them, the
loan page offers its buttons from them.

The chain is short: a reviewer at the union where the loan was applied for confirms it (the
union's confirmation stands as the guarantee when no guarantor is named), a reviewer at the
fund's union approves or rejects it, and a treasurer of the fund's union disburses it. Nobody
decides on a loan they applied for, nobody takes two decisions on one loan, and whoever
confirmed or approved a loan does not disburse it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.utils.translation import gettext as _

from unions.scope import Capability, holds_at, units_held
from welfare.cases.rules import ALLOWED, NEVER, Decision, Refusal

from .models import Loan, LoanEvent, LoanStatus

Action = LoanEvent.Action
DECIDING = [Action.CONFIRMED, Action.APPROVED, Action.REJECTED]


def _not_now(reason: str) -> Decision:
    return Decision(Refusal.NOT_NOW, reason)


class Standing:
    """A user's part in one loan, read once however many rules ask (one query at most)."""

    def __init__(self, user, loan: Loan):
        self.user, self.loan = user, loan

    @cached_property
    def steps(self) -> set[str]:
        if not self.user.is_authenticated:
            return set()
        mine = self.loan.events.filter(actor=self.user, action__in=[Action.APPLIED, *DECIDING])
        return set(mine.values_list("action", flat=True).distinct())

    def applied_or_decided(self) -> Decision | None:
        if self.loan.created_by_id == self.user.pk or Action.APPLIED in self.steps:
            return _not_now(_("You applied for this loan, so someone else must decide on it."))
        if self.steps & set(DECIDING):
            return _not_now(_("You have already decided on this loan."))
        return None


def _reviews_at(standing: Standing, unit_id: int) -> bool:
    return holds_at(standing.user, Capability.REVIEW_CASES, unit_id)


def _reviewer_on_route(standing: Standing) -> bool:
    held = set(units_held(standing.user, Capability.REVIEW_CASES))
    return bool(held & {standing.loan.unit_id, standing.loan.fund.unit_id})


def confirm(standing: Standing) -> Decision:
    loan = standing.loan
    if not _reviews_at(standing, loan.unit_id):
        return NEVER
    if loan.status != LoanStatus.APPLIED:
        return _not_now(_("This loan is not waiting for the union's confirmation."))
    return standing.applied_or_decided() or ALLOWED


def approve(standing: Standing) -> Decision:
    loan = standing.loan
    if not _reviews_at(standing, loan.fund.unit_id):
        return NEVER
    if loan.status != LoanStatus.CONFIRMED:
        return _not_now(_("Only a loan its union has confirmed can be approved."))
    return standing.applied_or_decided() or ALLOWED


def reject(standing: Standing) -> Decision:
    loan = standing.loan
    if not _reviewer_on_route(standing):
        return NEVER
    waiting_at = {LoanStatus.APPLIED: loan.unit_id, LoanStatus.CONFIRMED: loan.fund.unit_id}
    level = waiting_at.get(loan.status)  # type: ignore[call-overload]
    if level is None:
        return _not_now(_("This loan is not waiting for a decision."))
    if not _reviews_at(standing, level):
        return Decision(Refusal.ANOTHER_LEVEL, _("This loan is waiting for a decision elsewhere."))
    return standing.applied_or_decided() or ALLOWED


def disburse(standing: Standing) -> Decision:
    loan = standing.loan
    if not holds_at(standing.user, Capability.PAY, loan.fund.unit_id):
        return NEVER
    if loan.money_out:
        return Decision(Refusal.ALREADY_PAID, _("This loan has already been disbursed."))
    if loan.status != LoanStatus.APPROVED:
        return _not_now(_("Only an approved loan can be disbursed."))
    if standing.applied_or_decided():
        return _not_now(
            _("You applied for or decided on this loan, so another treasurer must disburse it.")
        )
    return ALLOWED


def repay(standing: Standing) -> Decision:
    if not holds_at(standing.user, Capability.PAY, standing.loan.fund.unit_id):
        return NEVER
    if standing.loan.status != LoanStatus.CURRENT:
        return _not_now(_("Repayments are recorded on a loan being repaid."))
    return ALLOWED


def recover(standing: Standing) -> Decision:
    loan = standing.loan
    if not holds_at(standing.user, Capability.PAY, loan.fund.unit_id):
        return NEVER
    if loan.status != LoanStatus.WRITTEN_OFF:
        return _not_now(_("Recoveries are recorded on a written-off loan."))
    if loan.recovered >= loan.written_off:
        return _not_now(_("Everything written off has been recovered."))
    return ALLOWED


def _settle(standing: Standing) -> Decision:
    """Rescheduling and writing off: decided by a reviewer of the fund's union."""
    if not _reviews_at(standing, standing.loan.fund.unit_id):
        return NEVER
    if standing.loan.status != LoanStatus.CURRENT or standing.loan.outstanding <= 0:
        return _not_now(_("Only a loan being repaid with principal outstanding."))
    return ALLOWED


RULES: dict[str, Callable[[Standing], Decision]] = {
    "confirm": confirm,
    "approve": approve,
    "reject": reject,
    "disburse": disburse,
    "repay": repay,
    "reschedule": _settle,
    "write_off": _settle,
    "recover": recover,
}


def decide(user, loan: Loan, action: str) -> Decision:
    return RULES[action](Standing(user, loan))


def allowed_actions(user, loan: Loan) -> set[str]:
    standing = Standing(user, loan)
    return {action for action, rule in RULES.items() if rule(standing).allowed}
