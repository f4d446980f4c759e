"""The papers an officer signs for a case, printed in the union's document format: the
proposal (tờ trình) of the union that opened it, the decision (quyết định) of the union that
owns the fund, and the payment voucher with its receipt (phiếu chi).

The wording is the fixed wording of Vietnamese administrative documents, always in
Vietnamese, like the letterhead and the signature blocks it shares with the annual report.
One case's document is one or two pages: it is rendered inside the request (0.3-0.5 s
measured on a busy two-core machine), unlike the report and the long lists, which are
background work.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from common.money import amount_in_words, format_dong
from common.templatetags.people import person_name
from unions.models import Unit
from welfare.reports.pdf import (
    SIGN,
    document_date,
    head_signature,
    header,
    render_document,
    signature,
)

from .models import Case, CaseAccess, CaseStatus, Payment

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

BLANK_DATE = "ngày ….. tháng ….. năm ………"


@dataclass(frozen=True)
class Document:
    slug: str
    title: StrOrPromise  # the button and the access log, translated
    template: str
    # the states in which the document can be printed, and what to say otherwise
    states: tuple[str, ...]
    not_yet: StrOrPromise
    access: CaseAccess.What

    # False for the payment voucher: a visit without money pays nothing.
    with_money_only: bool = False

    def available_for(self, case: Case) -> bool:
        if self.with_money_only and case.without_money:
            return False
        return case.status in self.states

    def filename(self, case: Case) -> str:
        return f"{self.slug}-{case.pk}.pdf"


PROPOSAL = Document(
    slug="to-trinh",
    title=_("Proposal"),
    template="welfare/documents/proposal.html",
    states=tuple(CaseStatus.values),
    not_yet="",
    access=CaseAccess.What.PROPOSAL,
)
DECISION = Document(
    slug="quyet-dinh",
    title=_("Approval decision"),
    template="welfare/documents/decision.html",
    states=(CaseStatus.APPROVED, CaseStatus.PAID),
    not_yet=_("The approval decision can be printed once the case is approved."),
    access=CaseAccess.What.DECISION,
)
# Printable from approval on: the treasurer prints it before paying and the recipient signs
# the receipt when the money is handed over; once paid it carries the payment's date,
# reference and recipient.
VOUCHER = Document(
    slug="phieu-chi",
    title=_("Payment voucher"),
    template="welfare/documents/voucher.html",
    states=(CaseStatus.APPROVED, CaseStatus.PAID),
    not_yet=_("The payment voucher can be printed once the case is approved."),
    access=CaseAccess.What.VOUCHER,
    with_money_only=True,
)
DOCUMENTS = {document.slug: document for document in (PROPOSAL, DECISION, VOUCHER)}


def available_documents(case: Case) -> list[Document]:
    return [document for document in DOCUMENTS.values() if document.available_for(case)]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _body(head: dict) -> str:
    """ "TM. BAN THƯỜNG VỤ" -> "BAN THƯỜNG VỤ": the body that decides."""
    return head["signatory"].removeprefix("TM. ")


def _person(case: Case) -> dict:
    """Who the support is for: a member (with the child named on a savings book or a
    scholarship) or an organisation or group."""
    with translation.override("vi"):
        category = _lower_first(str(case.get_category_display()))
        support = _lower_first(str(case.get_support_type_display()))
        if case.organisation is not None:
            organisation = case.organisation
            return {
                "organisation": True,
                "title": "",
                "name": organisation.name,
                "born": "",
                "kind": "tổ chức, tập thể",
                "organisation_kind": _lower_first(str(organisation.get_kind_display())),
                "address": organisation.address,
                "category": category,
                "support": support,
                "child": "",
            }
        member = case.member
        assert member is not None
        kind = _lower_first(str(member.get_kind_display()))
    child = case.dependant
    return {
        "organisation": False,
        "title": "Bà" if member.sex == "female" else "Ông",
        "name": member.full_name,
        "born": member.date_of_birth.strftime("%d/%m/%Y") if member.date_of_birth else "",
        "kind": kind,
        "category": category,
        "support": support,
        "child": (f"{child.full_name} (sinh ngày {child.date_of_birth:%d/%m/%Y})" if child else ""),
    }


def _head(union: Unit, symbol: str, number: str = "") -> dict:
    head = header(union)
    head["symbol"] = f"{symbol}-{union.code.upper()}"
    head["number"] = number
    return head


def _money(amount: int | None) -> dict:
    if amount is None:  # not yet decided: left blank on the paper
        return {"figures": "", "words": "", "none": False}
    if amount == 0:  # a visit without money: said in words, not as "0 ₫ (Không đồng)"
        return {"figures": "", "words": "", "none": True}
    return {"figures": format_dong(amount), "words": amount_in_words(amount), "none": False}


def _day(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return BLANK_DATE
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return document_date(value)


def proposal_context(case: Case) -> dict:
    head = _head(case.unit, "TTr")
    return {
        "head": head,
        "date": _day(case.submitted_at or timezone.now()),
        "case": case,
        "person": _person(case),
        "amount": _money(case.requested_amount),
        "owner": case.fund.unit,
        "evidence": [item.original_name for item in case.evidence.all()],
        "signatures": [
            signature("Người lập", name=person_name(case.created_by)),
            head_signature(head),
        ],
        "recipients": [f"{case.fund.unit.name} (để xem xét);", "Lưu: VT."],
    }


def decision_context(case: Case) -> dict:
    owner = case.fund.unit
    head = _head(owner, "QĐ")
    return {
        "head": head,
        "date": _day(case.approved_on),
        "body": _body(head),
        "case": case,
        "person": _person(case),
        "amount": _money(case.approved_amount),
        "owner": owner,
        "signatures": [signature(hint=""), head_signature(head)],
        "recipients": ["Như Điều 3;", "Lưu: VT, TC."],
    }


def voucher_context(case: Case) -> dict:
    owner = case.fund.unit
    payment = Payment.objects.filter(case=case).first() if case.status == CaseStatus.PAID else None
    head = _head(owner, "PC", number=payment.receipt_reference if payment else "")
    person = _person(case)
    amount = payment.amount if payment else case.approved_amount
    with translation.override("vi"):
        method = str(payment.get_method_display()) if payment else ""
    recipient = payment.received_by if payment else person["name"]
    return {
        "head": head,
        "date": _day(payment.paid_on if payment else None),
        "case": case,
        "person": person,
        "payment": payment,
        "method": method,
        "recipient": recipient,
        "amount": _money(amount),
        "owner": owner,
        "decision_symbol": f"QĐ-{owner.code.upper()}",
        "approved_on": case.approved_on.strftime("%d/%m/%Y") if case.approved_on else "",
        "signatures": [
            signature("Người lập phiếu"),
            signature("Kế toán"),
            head_signature(head),
        ],
        "receipt": [signature("Thủ quỹ"), signature("Người nhận tiền", hint=SIGN, name=recipient)],
        "recipients": [],
    }


CONTEXTS = {
    PROPOSAL.slug: proposal_context,
    DECISION.slug: decision_context,
    VOUCHER.slug: voucher_context,
}


def render_case_document(document: Document, case: Case) -> bytes:
    """The document's PDF.  The caller has checked that the reader may see the case and that
    the document is available in its state."""
    with translation.override("vi"):
        return render_document(document.template, CONTEXTS[document.slug](case))
