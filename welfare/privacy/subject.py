"""Everything the portal holds about one person, for a data-subject request (Personal Data
Protection Law): their record, memberships and dependants, their cases with timelines,
payments and evidence files, their loans with schedules and repayments, their contributions,
and who read their data.  Produced by an administrator of their union, and recorded."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils import timezone

from members.access_log import record_member_access
from members.models import Member, MemberAccess
from unions.scope import ActingUser, Capability, can

from ..campaigns.models import Contribution
from ..cases.approvals import timeline
from ..cases.models import Case, CaseAccess, Evidence, Payment
from ..loans.models import Instalment, Loan, LoanEvent, Repayment

README = """Dữ liệu cá nhân của {name}, do {by} xuất ngày {at}.

member.json        thông tin đoàn viên, quá trình sinh hoạt, con, căn cứ xử lý dữ liệu
                   (sự đồng ý), các yêu cầu về dữ liệu cá nhân
cases.json         hồ sơ hỗ trợ (kể cả hỗ trợ theo chương trình), diễn biến, chi trả
evidence/          các tệp minh chứng của từng hồ sơ
loans.json         khoản vay, lịch trả nợ, các lần trả, diễn biến
contributions.json đóng góp, ủng hộ của người này
access_log.json    những lần người dùng mở, xem hoặc xuất dữ liệu của người này
"""


def _rows(queryset: QuerySet, *fields: str) -> list[dict[str, Any]]:
    return list(queryset.values(*fields))


def _steps(case_id: int) -> list[dict[str, Any]]:
    """The case's timeline as its page shows it (a batch record's includes its list's steps)."""
    case = Case.objects.select_related("batch").get(pk=case_id)
    return [
        {
            "at": step.at,
            "action": step.action,
            "unit__name": step.unit.name,
            "actor__username": step.actor.username,
            "amount": step.amount,
            "comment": step.comment,
            "with_the_list": getattr(step, "for_list", False),
        }
        for step in timeline(case)
    ]


def archive(*, member: Member, by: ActingUser) -> bytes:
    """The ZIP; only an administrator of the person's union (or above it) may produce it."""
    if not can(by, Capability.MANAGE_USERS, member.unit):
        raise PermissionDenied
    record_member_access(member=member, by=by, what=MemberAccess.What.SUBJECT)
    cases = Case.objects.filter(member=member)
    loans = Loan.objects.filter(member=member)
    person = _rows(
        Member.objects.filter(pk=member.pk),
        *[field.attname for field in Member._meta.concrete_fields],
    )[0]
    parts: dict[str, Any] = {
        "member.json": {
            "member": person,
            "unit": member.unit.name,
            "memberships": _rows(
                member.memberships.order_by("valid_from"),
                "unit__name",
                "valid_from",
                "valid_to",
                "reason",
                "note",
            ),
            "dependants": _rows(
                member.dependants.all(), "full_name", "sex", "date_of_birth", "relationship", "note"
            ),
            "legal_basis": _rows(
                member.consents.order_by("recorded_at", "id"),
                "basis",
                "notice_version",
                "given_on",
                "withdrawn_on",
                "recorded_by__username",
                "recorded_at",
            ),
            "requests": _rows(
                member.subject_requests.order_by("received_on", "id"),
                "kind",
                "received_on",
                "details",
                "status",
                "acknowledged_on",
                "completed_on",
                "outcome",
            ),
        },
        "cases.json": [
            {
                **case,
                "events": _steps(case["id"]),
                "payment": next(
                    iter(
                        _rows(
                            Payment.objects.filter(case_id=case["id"]),
                            "amount",
                            "paid_on",
                            "method",
                            "receipt_reference",
                            "received_by",
                        )
                    ),
                    None,
                ),
                "evidence": _rows(
                    Evidence.objects.filter(case_id=case["id"]),
                    "original_name",
                    "content_type",
                    "size",
                    "uploaded_at",
                ),
            }
            for case in _rows(
                cases.order_by("created_at", "id"),
                "id",
                "unit__name",
                "category",
                "circumstances",
                "support_type",
                "requested_amount",
                "approved_amount",
                "fund__name",
                "status",
                "program__name",
                "created_at",
                "submitted_at",
                "approved_on",
                "paid_on",
            )
        ],
        "loans.json": [
            {
                **loan,
                "instalments": _rows(
                    Instalment.objects.filter(loan_id=loan["id"]),
                    "version",
                    "number",
                    "due_on",
                    "principal",
                    "interest",
                    "principal_paid",
                    "interest_paid",
                    "settled_on",
                ),
                "repayments": _rows(
                    Repayment.objects.filter(loan_id=loan["id"]),
                    "kind",
                    "amount",
                    "principal",
                    "interest",
                    "paid_on",
                    "receipt_reference",
                ),
                "events": _rows(
                    LoanEvent.objects.filter(loan_id=loan["id"]),
                    "on",
                    "action",
                    "amount",
                    "comment",
                    "actor__username",
                ),
            }
            for loan in _rows(
                loans.order_by("created_at", "id"),
                "id",
                "unit__name",
                "fund__name",
                "purpose",
                "principal",
                "term_months",
                "guarantor",
                "status",
                "disbursed_on",
                "outstanding",
                "created_at",
            )
        ],
        "contributions.json": _rows(
            Contribution.objects.filter(member=member),
            "campaign__name",
            "donor_name",
            "amount",
            "received_on",
            "receipt_number",
        ),
        "access_log.json": {
            "member": _rows(
                MemberAccess.objects.filter(member=member).order_by("at"),
                "at",
                "user__username",
                "what",
            ),
            "cases": _rows(
                CaseAccess.objects.filter(case__member=member).order_by("at"),
                "at",
                "user__username",
                "case_id",
                "what",
                "evidence_name",
            ),
        },
    }
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            "README.txt",
            README.format(
                name=member.full_name,
                by=by.get_username(),
                at=timezone.localtime().strftime("%d/%m/%Y %H:%M"),
            ),
        )
        for name, content in parts.items():
            bundle.writestr(
                name, json.dumps(content, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            )
        for evidence in Evidence.objects.filter(case__member=member).order_by("pk"):
            safe = PurePath(evidence.original_name).name or f"tep-{evidence.pk}"
            with evidence.file.open("rb") as handle:
                bundle.writestr(f"evidence/{evidence.case_id}/{evidence.pk}-{safe}", handle.read())
    return output.getvalue()
