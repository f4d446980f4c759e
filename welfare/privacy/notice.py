"""The notice on the processing of personal data (thông báo xử lý dữ liệu cá nhân) a member is
given before their consent is recorded (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): who
processes their data, which, why, on what basis, their rights, how long it is kept, whom to ask.

A PDF in the union's document format, like a case's papers (welfare/cases/documents.py): it is
signed by the person and kept by their union as the proof of consent the law asks for, so it
must print the same from any browser, with the letterhead and the signature blocks.  One or two
pages, rendered inside the request.  The wording is fixed legal wording, always in Vietnamese,
and is versioned by PERSONAL_DATA_NOTICE_VERSION: the consent recorded names that version.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from members.models import Member
from welfare.reports.pdf import document_date, head_signature, header, render_document, signature

TEMPLATE = "welfare/privacy/notice.html"
# The tick boxes of the person's answer: drawn, since the fonts have no ballot box.
EXTRA_CSS = """
.notice .box { display: inline-block; width: 3.2mm; height: 3.2mm; border: 0.7pt solid #000;
  margin: 0 1.5mm 0 6mm; vertical-align: -0.4mm; }
.notice h2 { font-size: 12pt; font-weight: 700; text-transform: none; margin: 3mm 0 1mm; }
.notice ul { margin: 0 0 1mm 10mm; padding-left: 4mm; }
.notice li { text-align: justify; }
.notice p.version { text-align: center; font-style: italic; margin: 0 0 4mm; }
table.signatures td.person { width: 48%; }
"""


def notice_context(member: Member) -> dict:
    union = member.unit
    head = header(union)
    head["symbol"] = f"TB-{union.code.upper()}"
    above = list(union.ancestors().values_list("name", flat=True))
    return {
        "head": head,
        "date": document_date(timezone.localdate()),
        "version": settings.PERSONAL_DATA_NOTICE_VERSION,
        "member": member,
        "title": "Bà" if member.sex == "female" else "Ông",
        "union": union,
        "above": list(reversed(above)),
        "signatures": [
            signature("NGƯỜI ĐƯỢC THÔNG BÁO", name=member.full_name, css="person"),
            head_signature(head),
        ],
        "log_days": settings.PERSONAL_DATA_LOG_DAYS,
        "recipients": [],
    }


def render_notice(member: Member) -> bytes:
    """The notice for ``member``, their name filled in.  The caller has checked that the
    reader may edit the member (who records the consent)."""
    return render_document(TEMPLATE, notice_context(member), extra_css=EXTRA_CSS)
