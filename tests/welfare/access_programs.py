"""Access-matrix entries for the program pages.

Inside: province P's Tết program on its social fund, in which A1 takes part; A1's batch lists
the A1 member, built and submitted by the grassroots officer, so its route is commune A ->
province P.  Outside: the same in province Q, for Q1.  Each entry builds the batch in the state
its step needs, through the real services.

As on the case pages: a role that never takes a step gets 403; a role on the route whose turn
it is not goes back to the batch with the reason; the role whose turn it is changes the batch.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from members.models import Member
from welfare.cases.models import SupportType
from welfare.programs import services
from welfare.programs.models import (
    Batch,
    BatchLine,
    Level,
    Participant,
    Program,
    ProgramRun,
    SignatureList,
    SignedList,
)

from ..access import ALL_OK, ROLES, Effect, Entry, each, told
from ..factories import system_user
from .access_cases import OPENERS, OPENERS_OK, _fund, only

BATCH_WAITING = "This batch is waiting for a decision at %(unit)s."
WAITING_AT_COMMUNE = told(BATCH_WAITING, unit="Công đoàn phường A")
WAITING_AT_PROVINCE = told(BATCH_WAITING, unit="LĐLĐ tỉnh P")

YEAR = datetime.date.today().year


def build_participant(world, inside: bool) -> Participant:
    if inside:
        owner, unit, fund = world.province, world.a1, _fund(world.province, "Quỹ Xã hội tỉnh P")
    else:
        owner, unit = world.other_province, world.q1
        fund = _fund(world.other_province, "Quỹ Xã hội tỉnh Q")
    program = Program.objects.filter(unit=owner).first() or services.create_program(
        unit=owner,
        name=f"Tết Sum vầy {YEAR}",
        support_type=SupportType.TET_GIFT,
        fund=fund,
        year=YEAR,
        budget=50_000_000,
        by=system_user(),
    )
    return Participant.objects.filter(program=program, unit=unit).first() or (
        services.add_participant(program=program, unit=unit, by=system_user())
    )


def build_batch(world, inside: bool, state: str) -> Batch:
    """A batch of one person at 1.000.000 ₫, driven to draft, submitted (at commune A),
    endorsed (at the province) or approved; outside scope it stops at submitted."""
    participant = build_participant(world, inside)
    member = world.member_a1 if inside else world.member_q1
    builder = world.users["grassroots" if inside else "q_officer"]
    batch = services.start_batch(participant=participant, by=builder)
    services.add_people(
        batch=batch, members=Member.objects.filter(pk=member.pk), amount=1_000_000, by=builder
    )
    if state == "draft":
        return batch
    batch = services.submit_batch(batch=batch, by=builder)
    if state == "submitted" or not inside:
        return batch
    batch = services.endorse_batch(batch=batch, by=world.users["commune"])
    if state == "endorsed":
        return batch
    return services.approve_batch(batch=batch, by=world.users["province"])


def program_args(world, role, inside):
    return [build_participant(world, inside).program]


def participant_args(world, role, inside):
    return [build_participant(world, inside)]


def batch_args(state: str):
    def args(world, role, inside):
        return [build_batch(world, inside, state)]

    return args


PDF = b"%PDF-1.4\n%%EOF\n"


def approved_program_args(world, role, inside):
    """A program with an approved batch: inside, its lists can be printed."""
    return [build_batch(world, inside, "approved").program]


def signature_list_args(world, role, inside):
    """A built signature list of the batch (outside: of Q1's batch)."""
    batch = build_batch(world, inside, "approved")
    job = SignatureList(
        program=batch.program, batch=batch, requested_by=system_user(), status="done"
    )
    job.file.save("list.pdf", ContentFile(PDF), save=False)
    job.save()
    return [job]


def signed_list_args(world, role, inside):
    batch = build_batch(world, inside, "approved")
    scan = SignedList(
        batch=batch,
        original_name="ky-nhan.pdf",
        content_type="application/pdf",
        size=len(PDF),
        uploaded_by=system_user(),
    )
    scan.file.save("scan.pdf", ContentFile(PDF), save=False)
    scan.save()
    return [scan]


def levelled_program_args(world, role, inside):
    """The program with a standard amount: a build lists people at it."""
    program = build_participant(world, inside).program
    Level.objects.get_or_create(
        program=program, label="Đoàn viên", defaults={"applies_to": "member", "amount": 500_000}
    )
    return [program]


def run_args(world, role, inside):
    """A finished build over the program (outside: over Q's), asked for by the system."""
    program = build_participant(world, inside).program
    return [
        ProgramRun.objects.create(
            program=program,
            kind=ProgramRun.Kind.BUILD,
            requested_by=system_user(),
            status=ProgramRun.Status.DONE,
            units_total=1,
            units_done=1,
        )
    ]


def runs_asked(program, client) -> dict:
    return {"runs": list(ProgramRun.objects.filter(program=program).values_list("kind", flat=True))}


def lists_asked(obj, client) -> dict:
    if isinstance(obj, Batch):
        return {"lists": SignatureList.objects.filter(batch=obj).count()}
    return {"lists": SignatureList.objects.filter(program=obj, batch=None).count()}


def scans_kept(batch, client) -> dict:
    return {"scans": SignedList.objects.filter(batch=batch).count()}


def _scan(world, batch):
    return {"file": SimpleUploadedFile("ky-nhan.pdf", PDF, content_type="application/pdf")}


def program_state(program, client) -> dict:
    return {
        "units": sorted(program.participants.values_list("unit__code", flat=True)),
        "copies": Program.objects.filter(copied_from=program).count(),
    }


def participant_state(participant, client) -> dict:
    return {"batch": Batch.objects.filter(participant=participant).exists()}


def batch_state(batch, client) -> dict:
    batch = Batch.objects.select_related("current_unit", "fund").get(pk=batch.pk)
    last = batch.events.select_related("actor").last()
    fund = batch.fund
    return {
        "status": batch.status,
        "at": batch.current_unit.code if batch.current_unit else None,
        "last_event": (last.action, last.actor.username) if last else None,
        "approved": batch.approved_amount,
        "amounts": list(batch.lines.values_list("amount", flat=True)),
        "records": batch.cases.count(),
        "fund": {
            "balance": fund.balance,
            "reserved": fund.reserved,
            "entries": fund.entries.count(),
        },
    }


def _line_amount(world, batch):
    line = BatchLine.objects.filter(batch=batch).first()
    return {f"amount-{line.pk}": "700.000"}


def _reason(world, batch):
    return {"comment": "Danh sách thiếu xác nhận của công đoàn cơ sở."}


def _payment(world, batch):
    return {
        "paid_on": datetime.date.today().isoformat(),
        "receipt_reference": "PC-TET-001",
        "submission": uuid.uuid4().hex,
    }


FUND = {"balance": 100_000_000, "reserved": 0, "entries": 1}
# Every unit's lists at once: whoever sees the program's union (province P).
AT_PROVINCE = ("admin", "province", "treasurer", "leader")
# The signed scan: the treasurer who pays, or who builds the batch at its unit.
SCANNERS = (*OPENERS, "treasurer")
PROVINCE_ONLY = only({"province": 302})
REVIEWERS = only({"commune": 302, "province": 302})

ENTRIES: dict[str, Entry] = {
    "programs:list": Entry(inside=ALL_OK),
    "programs:create": Entry(inside=OPENERS_OK),
    "programs:detail": Entry(inside=ALL_OK, args=program_args),
    # Only those who run programs at the program's union add units and copy it.
    "programs:participant_add": Entry(
        inside=PROVINCE_ONLY,
        args=program_args,
        method="post",
        data=lambda world, program: {"unit": world.a2.pk},
        effect=Effect(program_state, done={"province": {"units": ["P-A-1", "P-A-2"]}}),
    ),
    "programs:copy": Entry(
        inside=PROVINCE_ONLY,
        args=program_args,
        method="post",
        data=lambda world, program: {"year": YEAR + 1},
        effect=Effect(program_state, done={"province": {"copies": 1}}),
    ),
    # Whoever opens cases at the participating unit opens its batch.
    "programs:batch_start": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)),
        args=participant_args,
        method="post",
        effect=Effect(participant_state, done=each(OPENERS, batch=True)),
    ),
    "programs:batch": Entry(inside=ALL_OK, args=batch_args("draft")),
    "programs:batch_people": Entry(inside=OPENERS_OK, args=batch_args("draft")),
    "programs:batch_lines": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)),
        args=batch_args("draft"),
        method="post",
        data=_line_amount,
        effect=Effect(
            batch_state,
            done={role: {"amounts": [700_000], "last_event": ("edited", role)} for role in OPENERS},
        ),
    ),
    "programs:batch_submit": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)),
        args=batch_args("draft"),
        method="post",
        effect=Effect(
            batch_state,
            done={
                role: {"status": "submitted", "at": "P-A", "last_event": ("submitted", role)}
                for role in OPENERS
            },
        ),
    ),
    "programs:batch_endorse": Entry(
        inside=REVIEWERS,
        args=batch_args("submitted"),
        method="post",
        effect=Effect(
            batch_state,
            done={"commune": {"at": "P", "last_event": ("endorsed", "commune")}},
            refusal={"province": WAITING_AT_COMMUNE},
        ),
    ),
    "programs:batch_return": Entry(
        inside=REVIEWERS,
        args=batch_args("submitted"),
        method="post",
        data=_reason,
        effect=Effect(
            batch_state,
            done={
                "commune": {"status": "returned", "at": None, "last_event": ("returned", "commune")}
            },
            refusal={"province": WAITING_AT_COMMUNE},
        ),
    ),
    "programs:batch_reject": Entry(
        inside=REVIEWERS,
        args=batch_args("submitted"),
        method="post",
        data=_reason,
        effect=Effect(
            batch_state,
            done={
                "commune": {"status": "rejected", "at": None, "last_event": ("rejected", "commune")}
            },
            refusal={"province": WAITING_AT_COMMUNE},
        ),
    ),
    # Approving reserves the batch once and makes the person's support record.
    "programs:batch_approve": Entry(
        inside=REVIEWERS,
        args=batch_args("endorsed"),
        method="post",
        effect=Effect(
            batch_state,
            done={
                "province": {
                    "status": "approved",
                    "at": None,
                    "approved": 1_000_000,
                    "records": 1,
                    "last_event": ("approved", "province"),
                    "fund": {**FUND, "reserved": 1_000_000},
                }
            },
            refusal={"commune": WAITING_AT_PROVINCE},
        ),
    ),
    # Paying releases the reserve and posts one entry for the batch.
    "programs:batch_pay": Entry(
        inside=only({"treasurer": 302}),
        args=batch_args("approved"),
        method="post",
        data=_payment,
        effect=Effect(
            batch_state,
            done={
                "treasurer": {
                    "status": "paid",
                    "last_event": ("paid", "treasurer"),
                    "fund": {"balance": 99_000_000, "reserved": 0, "entries": 2},
                }
            },
        ),
    ),
    # Whoever sees the batch prints its signature list, built in the background.
    "programs:batch_signature_list": Entry(
        inside=dict.fromkeys(ROLES, 302),
        args=batch_args("approved"),
        method="post",
        effect=Effect(lists_asked, done=each(ROLES, lists=1)),
    ),
    "programs:program_signature_lists": Entry(
        inside=only(dict.fromkeys(AT_PROVINCE, 302)),
        args=approved_program_args,
        method="post",
        effect=Effect(lists_asked, done=each(AT_PROVINCE, lists=1)),
    ),
    # A step over every unit: whoever opens cases at the program's union or below builds
    # (each run reaches their own units only, tests/welfare/programs/test_runs.py).
    "programs:run_start": Entry(
        inside=only(dict.fromkeys(OPENERS, 302)),
        args=levelled_program_args,
        method="post",
        data=lambda world, program: {"kind": "build", "build-kind": "build", "build-confirm": "on"},
        effect=Effect(runs_asked, done=each(OPENERS, runs=["build"])),
    ),
    # A run tells of every unit of the program: whoever sees the program's union reads it.
    "programs:run": Entry(inside=only(dict.fromkeys(AT_PROVINCE, 200), default=404), args=run_args),
    "programs:run_status": Entry(
        inside=only(dict.fromkeys(AT_PROVINCE, 200), default=404), args=run_args
    ),
    "programs:signature_list": Entry(inside=ALL_OK, args=signature_list_args),
    "programs:signature_list_status": Entry(inside=ALL_OK, args=signature_list_args),
    "programs:signature_list_download": Entry(inside=ALL_OK, args=signature_list_args),
    "programs:signed_list_add": Entry(
        inside=only(dict.fromkeys(SCANNERS, 302)),
        args=batch_args("approved"),
        method="post",
        data=_scan,
        effect=Effect(scans_kept, done=each(SCANNERS, scans=1)),
    ),
    "programs:signed_list": Entry(inside=ALL_OK, args=signed_list_args),
}
