"""The receipt (biên nhận) of a contribution, in the union's document format: the letterhead
of the union that owns the receiving fund, the donor, the amount in figures and in words, and
the signatures of whoever hands the money over and whoever receives it.

The wording is the fixed wording of Vietnamese administrative documents, always in Vietnamese.
One page, rendered inside the request like a case's documents.
"""

from __future__ import annotations

from django.utils import translation

from common.money import amount_in_words, format_dong
from common.templatetags.people import person_name
from welfare.reports.pdf import document_date, header, render_document, signature

from .models import Contribution, DonorKind

DONOR_WORDS = {
    DonorKind.MEMBER: "Đoàn viên",
    DonorKind.UNIT: "Đơn vị",
    DonorKind.ENTERPRISE: "Doanh nghiệp",
    DonorKind.OTHER: "Cá nhân, tổ chức",
}


def receipt_context(contribution: Contribution) -> dict:
    campaign = contribution.campaign
    owner = campaign.fund.unit
    head = header(owner)
    head["symbol"] = f"BN-{owner.code.upper()}"
    head["number"] = contribution.receipt_number
    return {
        "head": head,
        "date": document_date(contribution.received_on),
        "contribution": contribution,
        "campaign": campaign,
        "owner": owner,
        "donor_kind": DONOR_WORDS.get(DonorKind(contribution.donor_kind), ""),
        "amount": {
            "figures": format_dong(contribution.amount),
            "words": amount_in_words(contribution.amount),
        },
        "reversed": hasattr(contribution.entry, "reversed_by"),
        "signatures": [
            signature("Người nộp tiền", name=contribution.donor_name),
            signature("Người nhận tiền", name=person_name(contribution.recorded_by)),
            signature("Kế toán"),
        ],
        "recipients": [],
    }


def render_receipt(contribution: Contribution) -> bytes:
    """The receipt's PDF; the caller has checked that the reader may see the contribution."""
    with translation.override("vi"):
        return render_document("welfare/campaigns/receipt.html", receipt_context(contribution))
