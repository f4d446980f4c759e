"""Access-matrix entries for the case pages.

Inside: a case for the A1 member, opened by the grassroots officer and drawn from province P's
social fund, so its route is commune A -> province P.  Outside: a case at Q1 in province Q.
Each entry builds the case in the state its action needs, through the real services.

What a POST answers:
- a role that can never take the action on this case: 403 (admin, treasurer and leader never
  open or decide; only the province treasurer pays; the grassroots officer is not on the route);
- a role on the route whose turn it is not (province staff while the case waits at commune A,
  commune staff after it has endorsed): 302 back to the case with the reason;
- the role whose turn it is: 302 when the action is done (submit, endorse), 200 when the empty
  POST of the matrix is refused by the form (a reason, an amount, a payment date, a file).
"""

from __future__ import annotations

import atexit
import datetime
import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from welfare.cases import approvals
from welfare.cases.evidence import attach_evidence
from welfare.funds.ledger import open_fund
from welfare.models import Case, Category, Fund, FundKind, SupportType

from ..access import ALL_OK, ROLES, Entry
from ..factories import system_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OPENERS = ("province", "commune", "grassroots")
_media = None


def _keep_files_out_of_var_media() -> None:
    """The matrix runs without the ``media_root`` fixture: send its evidence to a temporary
    directory for the rest of the run instead of the project's var/media."""
    global _media
    if _media is None:
        _media = tempfile.mkdtemp(prefix="tuongthan-matrix-media-")
        atexit.register(shutil.rmtree, _media, ignore_errors=True)
        override_settings(MEDIA_ROOT=_media).enable()


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
    _keep_files_out_of_var_media()
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
        return [build_case(world, inside, state).pk]

    return args


def document_args(world, role, inside):
    """The approval decision of an approved case (outside scope: of a submitted one, which
    must answer 404 where an in-scope one would send back to the case with a message)."""
    return [build_case(world, inside, "approved").pk, "quyet-dinh"]


def evidence_args(world, role, inside):
    return [build_case(world, inside, "draft").evidence.get().pk]


def only(codes: dict[str, int], default: int = 403) -> dict[str, int]:
    return {role: codes.get(role, default) for role in ROLES}


OPENERS_OK = only(dict.fromkeys(OPENERS, 200))

ENTRIES: dict[str, Entry] = {
    "cases:list": Entry(inside=ALL_OK),
    # No object in the URL: the export is filtered by scope (test_case_views.py).
    "cases:export": Entry(inside=ALL_OK, args=lambda *_: ["csv"], outside=ALL_OK),
    # Without ?member= the page asks for the person; the member lookup is tested on its own.
    # No object in the URL: the answer lists only funds in scope (tests/welfare/test_views.py).
    "cases:fund_search": Entry(inside=ALL_OK),
    "cases:create": Entry(inside=OPENERS_OK),
    "cases:detail": Entry(inside=ALL_OK, args=case_args("submitted")),
    "cases:access": Entry(inside=ALL_OK, args=case_args("submitted")),
    "cases:evidence": Entry(inside=ALL_OK, args=evidence_args),
    # Anyone who may read the case prints its documents (test_case_documents.py).
    "cases:document": Entry(inside=ALL_OK, args=document_args),
    "cases:edit": Entry(inside=OPENERS_OK, args=case_args("draft")),
    "cases:evidence_add": Entry(inside=OPENERS_OK, args=case_args("draft"), method="post"),
    "cases:submit": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)), args=case_args("draft"), method="post"
    ),
    "cases:endorse": Entry(
        inside=only({"commune": 302, "province": 302}), args=case_args("submitted"), method="post"
    ),
    "cases:return": Entry(
        inside=only({"commune": 200, "province": 302}), args=case_args("submitted"), method="post"
    ),
    "cases:reject": Entry(
        inside=only({"commune": 200, "province": 302}), args=case_args("submitted"), method="post"
    ),
    "cases:approve": Entry(
        inside=only({"province": 200, "commune": 302}), args=case_args("endorsed"), method="post"
    ),
    "cases:pay": Entry(inside=only({"treasurer": 200}), args=case_args("approved"), method="post"),
}
