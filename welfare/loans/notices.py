"""What a loan's steps tell people, through ``common.notices.notify``, as cases do
(welfare/cases/notices.py): who must act next hears that the loan waits for them, the officer
who applied hears the decision, and the daily check tells the unit's officers and the
borrower's union of an overdue instalment.  Each notice names the loan, the borrower and the
amount and links to the loan's page; nobody is told of their own step.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from common.money import format_dong
from common.notices import notify
from unions.scope import Capability, holders

from .models import Instalment, Loan


def _send(recipients: Iterable[User], loan: Loan, subject: str, body: str) -> None:
    url = reverse("loans:detail", args=[loan.pk])
    for recipient in recipients:
        notify(recipient=recipient, subject=subject, body=body, url=url)


def _facts(loan: Loan) -> str:
    return _("Loan #%(loan)s: %(name)s, %(amount)s from %(fund)s") % {
        "loan": loan.pk,
        "name": loan.member.full_name,
        "amount": format_dong(loan.principal),
        "fund": loan.fund.name,
    }


def _applicant(loan: Loan, by: User) -> list[User]:
    return [] if loan.created_by_id == by.pk else [loan.created_by]


def waiting_for_decision(loan: Loan, *, unit_id: int, by: User) -> None:
    """The reviewers of the union the loan now waits at."""
    people = holders(Capability.REVIEW_CASES, [unit_id], besides=(by.pk,))
    with translation.override(settings.LANGUAGE_CODE):
        _send(people, loan, _("A loan is waiting for your decision"), _facts(loan))


def waiting_for_disbursement(loan: Loan, *, by: User) -> None:
    """The treasurers of the fund's union, but not the approver (who may not disburse)."""
    people = holders(Capability.PAY, [loan.fund.unit_id], besides=(by.pk,))
    with translation.override(settings.LANGUAGE_CODE):
        _send(people, loan, _("An approved loan is waiting for disbursement"), _facts(loan))


def decided(loan: Loan, *, by: User, approved: bool, comment: str = "") -> None:
    """The officer who applied hears that the loan was approved or rejected."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = (
            _("Loan #%(loan)s approved: %(name)s")
            if approved
            else _("Loan #%(loan)s rejected: %(name)s")
        ) % {"loan": loan.pk, "name": loan.member.full_name}
        lines = [_facts(loan)]
        if comment.strip():
            lines.append(
                (_("Comment: %(comment)s") if approved else _("Reason: %(reason)s"))
                % {"comment": comment, "reason": comment}
            )
        _send(_applicant(loan, by), loan, subject, "\n".join(lines))


def overdue(loan: Loan, instalments: list[Instalment]) -> None:
    """The officers of the union the loan was applied at and of the borrower's union."""
    people = holders(Capability.OPEN_CASES, {loan.unit_id, loan.member.unit_id})
    numbers = ", ".join(str(i.number) for i in instalments)
    with translation.override(settings.LANGUAGE_CODE):
        body = _(
            "Loan #%(loan)s of %(name)s: instalment %(numbers)s is overdue, %(owed)s unpaid "
            "(due %(due)s)."
        ) % {
            "loan": loan.pk,
            "name": loan.member.full_name,
            "numbers": numbers,
            "owed": format_dong(sum(i.remaining for i in instalments)),
            "due": instalments[0].due_on.strftime("%d/%m/%Y"),
        }
        _send(people, loan, _("A loan instalment is overdue"), body)
