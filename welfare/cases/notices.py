"""What the approval chain tells people, through ``common.notices.notify``.

The officer who opened a case hears when it is approved, paid, returned or rejected; the people
who must act next hear that it waits for them.  Each notice names the case, the person, the
amount and the union, and links to the case page.  Nobody is told of their own step.

The text is written in the site's language (``LANGUAGE_CODE``, Vietnamese) whatever the
language of the request or worker that writes it: it is stored once and read later, in the
inbox and in an e-mail, and the portal keeps no language per user to write it in instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from common.money import format_dong
from common.notices import notify
from common.templatetags.people import person_name
from unions.models import Unit
from unions.scope import Capability, holders

from .models import Case, Payment


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def _facts(case: Case, amount_line: str) -> list[str]:
    """What every notice of a case says below its subject, which names the case and person."""
    return [
        _("Union: %(unit)s") % {"unit": case.unit.name},
        amount_line,
        _("Fund: %(fund)s") % {"fund": case.fund.name},
    ]


def _by(by: User, at: Unit | None) -> str:
    if at is None:
        return _("By: %(person)s") % {"person": person_name(by)}
    return _("By: %(person)s, %(unit)s") % {"person": person_name(by), "unit": at.name}


def _send(recipients: Iterable[User], case: Case, subject: str, body: str) -> None:
    url = reverse("cases:detail", args=[case.pk])
    for recipient in recipients:
        notify(recipient=recipient, subject=subject, body=body, url=url)


def _opener(case: Case, by: User) -> list[User]:
    """The officer who opened the case, unless they took the step themselves."""
    opener = case.created_by
    return [] if opener.pk == by.pk else [opener]


# --- to the officer who opened the case --------------------------------------------------------


def case_approved(case: Case, *, by: User, at: Unit, comment: str = "") -> None:
    with translation.override(settings.LANGUAGE_CODE):
        amount = format_dong(case.approved_amount or 0)
        subject = _("Case #%(case)s approved: %(amount)s for %(name)s") % {
            "case": case.pk,
            "amount": amount,
            "name": case.beneficiary_name,
        }
        body = _lines(
            *_facts(case, _("Amount approved: %(amount)s") % {"amount": amount}),
            _by(by, at),
            _("Comment: %(comment)s") % {"comment": comment} if comment.strip() else "",
            _("The fund's treasurer will record the payment."),
        )
        _send(_opener(case, by), case, subject, body)


def case_paid(case: Case, payment: Payment, *, by: User) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        amount = format_dong(payment.amount)
        subject = _("Case #%(case)s paid: %(amount)s to %(name)s") % {
            "case": case.pk,
            "amount": amount,
            "name": case.beneficiary_name,
        }
        body = _lines(
            *_facts(case, _("Amount paid: %(amount)s") % {"amount": amount}),
            _("Paid on %(date)s, %(method)s, receipt %(receipt)s, received by %(person)s")
            % {
                "date": formats.date_format(payment.paid_on, "d/m/Y"),
                "method": payment.get_method_display().lower(),
                "receipt": payment.receipt_reference,
                "person": payment.received_by,
            },
            _by(by, payment.fund.unit),
        )
        _send(_opener(case, by), case, subject, body)


def case_returned(case: Case, *, by: User, at: Unit, reason: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Case #%(case)s returned to you: %(name)s") % {
            "case": case.pk,
            "name": case.beneficiary_name,
        }
        body = _lines(
            *_facts(case, _requested(case)),
            _by(by, at),
            _("Reason: %(reason)s") % {"reason": reason},
            _("Correct the case and submit it again."),
        )
        _send(_opener(case, by), case, subject, body)


def case_rejected(case: Case, *, by: User, at: Unit, reason: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Case #%(case)s rejected: %(name)s") % {
            "case": case.pk,
            "name": case.beneficiary_name,
        }
        body = _lines(
            *_facts(case, _requested(case)),
            _by(by, at),
            _("Reason: %(reason)s") % {"reason": reason},
        )
        _send(_opener(case, by), case, subject, body)


def _requested(case: Case) -> str:
    return _("Amount requested: %(amount)s") % {"amount": format_dong(case.requested_amount)}


# --- to the people who act next --------------------------------------------------------------


def case_waiting_for_decision(case: Case, *, by: User, at: Unit) -> None:
    """The reviewers at the level the case has reached, but not its opener."""
    people = holders(Capability.REVIEW_CASES, [at.pk], besides=(case.created_by_id, by.pk))
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Case #%(case)s waits for your decision: %(name)s") % {
            "case": case.pk,
            "name": case.beneficiary_name,
        }
        body = _lines(*_facts(case, _requested(case)), _by(by, None))
        _send(people, case, subject, body)


def case_waiting_for_payment(case: Case, *, by: User) -> None:
    """The treasurers of the fund's union, but not the case's opener nor its approver."""
    people = holders(Capability.PAY, [case.fund.unit_id], besides=(case.created_by_id, by.pk))
    with translation.override(settings.LANGUAGE_CODE):
        amount = format_dong(case.approved_amount or 0)
        subject = _("Case #%(case)s waits for payment: %(amount)s for %(name)s") % {
            "case": case.pk,
            "amount": amount,
            "name": case.beneficiary_name,
        }
        body = _lines(*_facts(case, _("Amount approved: %(amount)s") % {"amount": amount}))
        _send(people, case, subject, body)
