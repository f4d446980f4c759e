"""Access-matrix entries for the case pages.

Inside: a case for the A1 member, opened by the grassroots officer and drawn from province P's
social fund, so its route is commune A -> province P.  Outside: a case at Q1 in province Q.
Each entry builds the case in the state its action needs, through the real services.

What a POST answers, sent with the form filled in as the acting role would fill it:
- a role that can never take the action on this case: 403 (admin, treasurer and leader never
  open or decide; only the province treasurer pays; the grassroots officer is not on the route);
- a role on the route whose turn it is not (province staff while the case waits at commune A,
  commune staff after it has endorsed): 302 back to the case with the reason, nothing changed;
- the role whose turn it is: 302, and the case, its timeline and its fund show the step.
(An empty or wrong form is refused by the form: tests/welfare/test_case_views.py.)
"""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from welfare.cases import approvals
from welfare.cases.evidence import attach_evidence
from welfare.funds.ledger import open_fund
from welfare.models import Case, Category, Fund, FundKind, SupportType

from ..access import ALL_OK, ROLES, Effect, Entry, each, told
from ..factories import system_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OPENERS = ("province", "commune", "grassroots")


def _fund(unit, name) -> Fund:
    fund = Fund.objects.filter(unit=unit, name=name).first()
    return fund or open_fund(
        unit=unit,
        name=name,
        kind=FundKind.SOCIAL,
        opening_balance=100_000_000,
        opened_on=datetime.date(2024, 1, 1),
        by=system_user(),
    )


def build_case(world, inside: bool, state: str) -> Case:
    """A case driven to draft, submitted (at commune A), endorsed (at the province) or
    approved; outside scope it stops at submitted (province Q has nobody to go further)."""
    if inside:
        member, creator = world.member_a1, world.users["grassroots"]
        fund = _fund(world.province, "Quỹ Xã hội tỉnh P")
    else:
        member, creator = world.member_q1, world.users["q_officer"]
        fund = _fund(world.other_province, "Quỹ Xã hội tỉnh Q")
    case = approvals.create_case(
        case=Case(
            unit=member.unit,
            member=member,
            category=Category.ILLNESS,
            circumstances="Điều trị dài ngày tại bệnh viện tỉnh.",
            support_type=SupportType.GRANT,
            requested_amount=2_000_000,
            fund=fund,
        ),
        by=creator,
    )
    upload = SimpleUploadedFile("giay-ra-vien.pdf", PDF, content_type="application/pdf")
    attach_evidence(case=case, upload=upload, by=creator)
    if state == "draft":
        return case
    case = approvals.submit_case(case=case, by=creator)
    if state == "submitted" or not inside:
        return case
    case = approvals.endorse_case(case=case, by=world.users["commune"])
    if state == "endorsed":
        return case
    return approvals.approve_case(case=case, by=world.users["province"], amount=2_000_000)


def case_args(state: str):
    def args(world, role, inside):
        return [build_case(world, inside, state)]

    return args


def document_args(world, role, inside):
    """The approval decision of an approved case (outside scope: of a submitted one, which
    must answer 404 where an in-scope one would send back to the case with a message)."""
    return [build_case(world, inside, "approved"), "quyet-dinh"]


def evidence_args(world, role, inside):
    return [build_case(world, inside, "draft").evidence.get()]


def case_state(case, client) -> dict:
    """What a decision changes: where the case stands, its timeline, its files, its fund."""
    case = Case.objects.select_related("current_unit", "fund").get(pk=case.pk)
    last = case.events.select_related("actor").last()
    fund = case.fund
    return {
        "status": case.status,
        "at": case.current_unit.code if case.current_unit else None,
        "last_event": (last.action, last.actor.username),
        "approved": case.approved_amount,
        "evidence": case.evidence.count(),
        "fund": {
            "balance": fund.balance,
            "reserved": fund.reserved,
            "entries": fund.entries.count(),
        },
    }


def exported_names(world) -> tuple[str, str]:
    """A case in scope and one in province Q: the export holds the first person, not the other."""
    inside, outside = build_case(world, True, "submitted"), build_case(world, False, "submitted")
    return inside.member.full_name, outside.member.full_name


def comment(world, case):
    return {"comment": "Thiếu giấy ra viện bản gốc."}


def payment(world, case):
    return {
        "paid_on": datetime.date.today().isoformat(),
        "method": "cash",
        "receipt_reference": "PC-0001",
        "received_by": "Nguyễn Văn An",
    }


def evidence_file(world, case):
    return {"files": SimpleUploadedFile("don-de-nghi.pdf", PDF, content_type="application/pdf")}


WAITING_AT_COMMUNE = told(
    "This case is waiting for a decision at %(unit)s.", unit="Công đoàn phường A"
)
WAITING_AT_PROVINCE = told("This case is waiting for a decision at %(unit)s.", unit="LĐLĐ tỉnh P")
FUND = {"balance": 100_000_000, "reserved": 0, "entries": 1}


def only(codes: dict[str, int], default: int = 403) -> dict[str, int]:
    return {role: codes.get(role, default) for role in ROLES}


OPENERS_OK = only(dict.fromkeys(OPENERS, 200))

ENTRIES: dict[str, Entry] = {
    "cases:list": Entry(inside=ALL_OK),
    # No object in the URL: the export is filtered by scope.
    "cases:export": Entry(
        inside=ALL_OK,
        args=lambda *_: ["csv"],
        outside=ALL_OK,
        scope_names=exported_names,
        scoped_by="tests/welfare/test_exports.py::test_case_export_never_holds_a_case_outside_scope",
    ),
    # No object in the URL: the answer lists only funds in scope.
    "cases:fund_search": Entry(
        inside=ALL_OK,
        scoped_by="tests/welfare/test_case_views.py"
        "::test_fund_search_finds_funds_by_their_union_without_diacritics_in_scope",
    ),
    # Without ?member= the page asks for the person; the member lookup is tested on its own.
    "cases:create": Entry(inside=OPENERS_OK),
    "cases:detail": Entry(inside=ALL_OK, args=case_args("submitted")),
    "cases:access": Entry(inside=ALL_OK, args=case_args("submitted")),
    "cases:evidence": Entry(inside=ALL_OK, args=evidence_args),
    # Anyone who may read the case prints its documents (test_case_documents.py).
    "cases:document": Entry(inside=ALL_OK, args=document_args),
    "cases:edit": Entry(inside=OPENERS_OK, args=case_args("draft")),
    "cases:evidence_add": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)),
        args=case_args("draft"),
        method="post",
        data=evidence_file,
        effect=Effect(case_state, done=each(OPENERS, evidence=2)),
    ),
    "cases:submit": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)),
        args=case_args("draft"),
        method="post",
        effect=Effect(
            case_state,
            done={
                role: {"status": "submitted", "at": "P-A", "last_event": ("submitted", role)}
                for role in OPENERS
            },
        ),
    ),
    "cases:endorse": Entry(
        inside=only({"commune": 302, "province": 302}),
        args=case_args("submitted"),
        method="post",
        effect=Effect(
            case_state,
            done={"commune": {"at": "P", "last_event": ("endorsed", "commune")}},
            refusal={"province": WAITING_AT_COMMUNE},
        ),
    ),
    "cases:return": Entry(
        inside=only({"commune": 302, "province": 302}),
        args=case_args("submitted"),
        method="post",
        data=comment,
        effect=Effect(
            case_state,
            done={
                "commune": {"status": "returned", "at": None, "last_event": ("returned", "commune")}
            },
            refusal={"province": WAITING_AT_COMMUNE},
        ),
    ),
    "cases:reject": Entry(
        inside=only({"commune": 302, "province": 302}),
        args=case_args("submitted"),
        method="post",
        data=comment,
        effect=Effect(
            case_state,
            done={
                "commune": {"status": "rejected", "at": None, "last_event": ("rejected", "commune")}
            },
            refusal={"province": WAITING_AT_COMMUNE},
        ),
    ),
    # Province staff approve less than was asked: the fund reserves what was approved.
    "cases:approve": Entry(
        inside=only({"province": 302, "commune": 302}),
        args=case_args("endorsed"),
        method="post",
        data=lambda world, case: {"amount": "1500000", "comment": ""},
        effect=Effect(
            case_state,
            done={
                "province": {
                    "status": "approved",
                    "at": None,
                    "approved": 1_500_000,
                    "last_event": ("approved", "province"),
                    "fund": {**FUND, "reserved": 1_500_000},
                }
            },
            refusal={"commune": WAITING_AT_PROVINCE},
        ),
    ),
    # Paying releases the reservation and posts the money leaving the fund's ledger.
    "cases:pay": Entry(
        inside=only({"treasurer": 302}),
        args=case_args("approved"),
        method="post",
        data=payment,
        effect=Effect(
            case_state,
            done={
                "treasurer": {
                    "status": "paid",
                    "last_event": ("paid", "treasurer"),
                    "fund": {"balance": 98_000_000, "reserved": 0, "entries": 2},
                }
            },
        ),
    ),
}
