"""Funds and cases on top of the ``world`` fixture, driven through the real services."""

from __future__ import annotations

import datetime
import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from unions.models import Role
from welfare.cases import approvals
from welfare.cases.evidence import attach_evidence
from welfare.funds.ledger import open_fund
from welfare.models import Case, CaseStatus, Category, FundKind, SupportType
from welfare.programs import services as programs
from welfare.programs.models import Applies, Participant
from welfare.reports import tallies

from ..factories import MemberFactory, make_user

OPENED = datetime.date(2024, 1, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def image_bytes(kind: str, size: tuple[int, int] = (8, 6)) -> bytes:
    """A real image: uploads are opened by Pillow, so a signature alone no longer passes."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, kind)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")


def pdf_upload(name: str = "giay-xac-nhan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def funds(world, media_root):
    # A1 pays from its own fund: an approval from a fund nobody can pay is refused.
    world.users["a1_treasurer"] = make_user("a1_treasurer", Role.TREASURER, world.a1)
    return SimpleNamespace(
        social=open_fund(
            unit=world.province,
            name="Quỹ Xã hội tỉnh P",
            kind=FundKind.SOCIAL,
            opening_balance=100_000_000,
            opened_on=OPENED,
            by=world.users["admin"],
        ),
        commune=open_fund(
            unit=world.commune_a,
            name="Quỹ phúc lợi Công đoàn phường A",
            kind=FundKind.WELFARE,
            opening_balance=20_000_000,
            opened_on=OPENED,
            by=world.users["admin"],
        ),
        own=open_fund(
            unit=world.a1,
            name="Quỹ CĐCS Công ty A1",
            kind=FundKind.WELFARE,
            opening_balance=5_000_000,
            opened_on=OPENED,
            by=world.users["admin"],
        ),
        other=open_fund(
            unit=world.other_province,
            name="Quỹ Xã hội tỉnh Q",
            kind=FundKind.SOCIAL,
            opening_balance=50_000_000,
            opened_on=OPENED,
            by=world.users["outsider"],
        ),
    )


STATES = ["draft", "submitted", "endorsed", "approved", "paid"]


@pytest.fixture
def make_case(world, funds):
    """make_case(state, fund=..., member=..., amount=...): a case driven to ``state`` by the
    people who would do it: the A1 officer opens and submits, commune A staff endorse,
    province staff approve, the province treasurer pays (for the province's social fund)."""

    def build(state="draft", *, fund=None, member=None, amount=3_000_000, by=None):
        fund = fund or funds.social
        member = member or world.member_a1
        in_q = member.unit_id == world.q1.pk
        creator = by or world.users["q_officer" if in_q else "grassroots"]
        case = approvals.create_case(
            case=Case(
                unit=member.unit,
                member=member,
                category=Category.ILLNESS,
                circumstances="Điều trị ung thư tại Bệnh viện K, hoàn cảnh khó khăn.",
                support_type=SupportType.GRANT,
                requested_amount=amount,
                fund=fund,
            ),
            by=creator,
        )
        attach_evidence(case=case, upload=pdf_upload(), by=creator)
        if STATES.index(state) >= 1:
            case = approvals.submit_case(case=case, by=creator)
        if in_q:
            assert state in ("draft", "submitted"), "cases in Q stop at submission"
            return case
        if STATES.index(state) >= 2 and case.current_unit_id != fund.unit_id:
            case = approvals.endorse_case(case=case, by=world.users["commune"])
        if STATES.index(state) >= 3:
            approver = {
                funds.social.pk: "province",
                funds.commune.pk: "commune",
                funds.own.pk: "a1_chair",
            }[fund.pk]
            case = approvals.approve_case(case=case, by=world.users[approver], amount=amount)
        if STATES.index(state) >= 4:
            payer = {funds.social.pk: "treasurer", funds.commune.pk: "commune_treasurer"}[fund.pk]
            approvals.record_payment(
                case=case,
                by=world.users[payer],
                paid_on=datetime.date.today(),
                method="cash",
                receipt_reference="PC-001",
                received_by=member.full_name,
            )
            case.refresh_from_db()
        return case

    return build


def paid_case(member, fund, amount, paid_on, support_type=SupportType.GRANT, **extra):
    """A paid case written directly, counted in the tallies as the money path counts it: the
    figures only read what the money path left behind."""
    case = Case.objects.create(
        unit=member.unit,
        member=member,
        dependant=extra.get("dependant"),
        category=extra.get("category", Category.ILLNESS),
        circumstances="—",
        support_type=support_type,
        requested_amount=amount,
        approved_amount=amount,
        fund=fund,
        status=CaseStatus.PAID,
        approved_on=extra.get("approved_on", paid_on),
        paid_on=paid_on,
        created_by=extra["by"],
    )
    tallies.count_paid([case.pk])
    return case


@pytest.fixture
def records(world, funds):
    """A small data set computed by hand: 2026 pays 7,500,000 ₫ in P (a 5,000,000 grant and
    two visits for 2,500,000; January 2,000,000, February 5,500,000); 2025 pays a 1,000,000 ₫
    Tết gift on 31 December; 2024 a 60,000,000 ₫ shelter and a 3,000,000 grant; Q pays
    7,000,000 ₫ in 2026."""
    by = world.users["grassroots"]
    a1, b1 = world.member_a1, world.member_b1
    second_a1 = MemberFactory(full_name="Hoàng Văn Sơn", unit=world.a1)
    # 2024: both communes, one shelter
    paid_case(a1, funds.social, 3_000_000, datetime.date(2024, 3, 5), by=by)
    paid_case(
        b1,
        funds.social,
        60_000_000,
        datetime.date(2024, 8, 20),
        SupportType.SHELTER,
        by=by,
        category=Category.HOUSING,
    )
    # 2025: one approved on 31 December and paid on 2 January 2026 -> counts in 2026
    paid_case(
        second_a1,
        funds.commune,
        2_000_000,
        datetime.date(2026, 1, 2),
        SupportType.VISIT,
        approved_on=datetime.date(2025, 12, 31),
        by=by,
    )
    paid_case(b1, funds.social, 1_000_000, datetime.date(2025, 12, 31), SupportType.TET_GIFT, by=by)
    # 2026
    paid_case(a1, funds.social, 5_000_000, datetime.date(2026, 2, 10), by=by)
    paid_case(a1, funds.commune, 500_000, datetime.date(2026, 2, 11), SupportType.VISIT, by=by)
    # not paid: never counted
    Case.objects.create(
        unit=world.a1,
        member=a1,
        category=Category.ILLNESS,
        circumstances="—",
        support_type=SupportType.GRANT,
        requested_amount=9_000_000,
        approved_amount=9_000_000,
        fund=funds.social,
        status=CaseStatus.APPROVED,
        approved_on=datetime.date(2026, 3, 1),
        created_by=by,
    )
    # another province: never in P's figures
    paid_case(world.member_q1, funds.other, 7_000_000, datetime.date(2026, 1, 20), by=by)
    return second_a1


# --- programs ---------------------------------------------------------------------------------
# A Tết program of province P on its social fund, driven through the real programs.  Its
# batches: A1's (built by the grassroots officer; route commune A -> province P) and B1's
# (built by an officer of B1).  Province staff approve, the province treasurer pays.

YEAR = datetime.date.today().year


@pytest.fixture
def tet(world, funds):
    """The program: 3.000.000 ₫ of budget, 500.000 ₫ a member, 1.000.000 ₫ a poor household."""
    world.users["b1_officer"] = make_user("b1_officer", Role.OFFICER, world.b1)
    program = programs.create_program(
        unit=world.province,
        name=f"Tết Sum vầy {YEAR}",
        support_type=SupportType.TET_GIFT,
        fund=funds.social,
        year=YEAR,
        budget=3_000_000,
        levels=[("Đoàn viên", Applies.MEMBER, 500_000), ("Hộ nghèo", Applies.POOR, 1_000_000)],
        by=world.users["province"],
    )
    for unit in (world.a1, world.b1):
        programs.add_participant(program=program, unit=unit, by=world.users["province"])
    return program


@pytest.fixture
def people(world):
    """Four more people at A1, one of them in a poor household."""
    return [
        MemberFactory(full_name=f"Người {n}", unit=world.a1, poor_household=(n == 0))
        for n in range(4)
    ]


@pytest.fixture
def make_batch(world, tet):
    """make_batch(unit, members, state): the unit's batch listing ``members`` at the program's
    standard amounts, driven to draft, submitted, approved or paid."""

    def build(unit=None, members=None, state="draft", take_out=None, unpaid=None):
        unit = unit or world.a1
        builder = world.users["grassroots" if unit == world.a1 else "b1_officer"]
        participant = Participant.objects.get(program=tet, unit=unit)
        batch = programs.start_batch(participant=participant, by=builder)
        if members is None:
            members = [world.member_a1 if unit == world.a1 else world.member_b1]
        pks = [m.pk for m in members]
        programs.add_people(
            batch=batch,
            members=type(members[0]).objects.filter(pk__in=pks),
            by=builder,
        )
        if state == "draft":
            return batch
        batch = programs.submit_batch(batch=batch, by=builder)
        commune = world.users["commune"] if unit == world.a1 else None
        if commune is not None:
            batch = programs.endorse_batch(batch=batch, by=commune)
        else:
            world.users.setdefault("b_staff", make_user("b_staff", Role.STAFF, world.commune_b))
            batch = programs.endorse_batch(batch=batch, by=world.users["b_staff"])
        if state == "submitted":
            return batch
        batch = programs.approve_batch(
            batch=batch, by=world.users["province"], take_out=take_out or {}
        )
        if state == "approved":
            return batch
        return programs.record_batch_payment(
            batch=batch,
            by=world.users["treasurer"],
            paid_on=datetime.date.today(),
            receipt_reference="PC-TET-01",
            unpaid=unpaid or {},
        )

    return build
