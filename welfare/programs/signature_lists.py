"""Signature lists (danh sách ký nhận): the paper each person of a unit's approved batch signs
when the money is handed over, in the union's document format, and its scan brought back.

The list is paginated here: a fixed number of rows a page (fewer on the first, under the
letterhead), each page its own small table ending with its subtotal ("Cộng trang"), the last
with the grand total.  Rows have a fixed height (room for a hand signature) and names never
wrap, so the rows counted for a page are the rows that land on it.  The pages are drawn by
ReportLab (``signature_pdf``), which keeps a 2,000-name list within its time and memory budget
(bench/signature_list.py).

The lists are always background work (``welfare.tasks.build_signature_list``) with the progress
page the reports and imports share: one unit's list, or every unit's as a ZIP.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from common import uploads
from common.dispatch import dispatch_on_commit
from common.money import amount_in_words, format_number
from common.templatetags.people import person_name
from unions.scope import ActingUser, Capability, can, require_actor, visible_unit_ids
from welfare.cases.evidence import MAX_FILES, check_upload
from welfare.cases.models import CaseStatus
from welfare.reports.pdf import (
    document_date,
    head_signature,
    header,
    signature,
)

from . import signature_pdf
from .models import Batch, BatchAccess, BatchLine, LineStatus, Program, SignatureList, SignedList

# Measured on A4 with the format's margins (bench/signature_list.py checks every page's rows
# land on it): the first page holds the letterhead, the title and the decision it follows.
FIRST_PAGE_ROWS = 17
# A list of one page: its rows, the total, the total in words and the signatures.
ONLY_PAGE_ROWS = 11
PAGE_ROWS = 30
# The total in words and the three signature blocks, counted in rows.
ENDING_ROWS = 8
BLANK_DATE = "ngày ….. tháng ….. năm ………"
PRINTABLE = (CaseStatus.APPROVED, CaseStatus.PAID)


@dataclass(frozen=True)
class Row:
    number: int
    name: str
    card: str
    amount: int
    figures: str  # "1.000.000": formatted once here, not by a filter per cell
    # A savings book's or scholarship's child, named under the member who signs for them: two
    # small lines that keep the row's fixed height.
    child: str = ""


@dataclass
class Page:
    number: int
    rows: list[Row]

    @property
    def subtotal(self) -> int:
        return sum(row.amount for row in self.rows)

    @property
    def figures(self) -> str:
        return format_number(self.subtotal)


def paginate(
    rows: list[Row],
    *,
    first: int = FIRST_PAGE_ROWS,
    only: int = ONLY_PAGE_ROWS,
    rest: int = PAGE_ROWS,
    ending: int = ENDING_ROWS,
) -> list[Page]:
    """The rows page by page: ``first`` under the letterhead, ``rest`` on the others, and on
    the last page room left for the total in words and the signatures (``ending`` rows' worth),
    so that they never stand alone on a page of their own and every page's number is known
    before it is rendered.  When the last rows leave no such room, the last of them goes to a
    page of its own with the ending."""
    chunks: list[list[Row]] = []
    start, size = 0, first
    while start < len(rows) or not chunks:
        chunks.append(rows[start : start + size])
        start, size = start + size, rest
    capacity = only if len(chunks) == 1 else rest - ending
    if len(chunks[-1]) > capacity:
        last = chunks.pop()
        chunks += [last[:-1], last[-1:]]
    return [Page(number=n, rows=chunk) for n, chunk in enumerate(chunks, start=1)]


def signing_lines(batch: Batch):
    """Who signs: the people left after approval (those taken out never appear), and once the
    batch is paid only the people paid.  In Vietnamese name order."""
    status = LineStatus.PAID if batch.status == CaseStatus.PAID else LineStatus.LISTED
    return (
        BatchLine.objects.filter(batch=batch, status=status)
        .order_by("member__sort_name", "member__full_name", "dependant__date_of_birth", "pk")
        .values_list(
            "member__full_name", "member__union_card_number", "amount", "dependant__full_name"
        )
    )


def _rows(batch: Batch) -> list[Row]:
    """A child's savings book or scholarship is signed for by the member, the child named."""
    return [
        Row(
            number=n,
            name=name,
            card=card,
            amount=amount,
            figures=format_number(amount),
            child=child or "",
        )
        for n, (name, card, amount, child) in enumerate(signing_lines(batch).iterator(), start=1)
    ]


def decision_reference(batch: Batch) -> str:
    """The decision the list pays out: the approving union's, numbered by hand as on a case's
    voucher, dated the day the batch was approved."""
    owner = batch.fund.unit
    day = batch.approved_on.strftime("%d/%m/%Y") if batch.approved_on else "…/…/……"
    return f"Quyết định số …/QĐ-{owner.code.upper()} ngày {day} của {owner.name}"


def signature_list_context(batch: Batch, rows: list[Row] | None = None) -> dict:
    """The list's template context; ``rows`` are the batch's signing people unless given (the
    benchmark gives made-up ones)."""
    rows = _rows(batch) if rows is None else rows
    total = sum(row.amount for row in rows)
    head = header(batch.unit)
    head["symbol"] = f"DS-{batch.unit.code.upper()}"
    head["number"] = ""
    with translation.override("vi"):
        support = str(batch.program.get_support_type_display())
    return {
        "head": head,
        "date": document_date(batch.paid_on) if batch.paid_on else BLANK_DATE,
        "batch": batch,
        "program": batch.program,
        "support": support,
        "decision": decision_reference(batch),
        "pages": paginate(rows),
        "people": len(rows),
        "several": False,
        "total": format_number(total),
        "total_words": amount_in_words(total),
        "signatures": [
            signature("Người lập", name=person_name(batch.created_by)),
            signature("Kế toán / Thủ quỹ"),
            head_signature(head),
        ],
        "recipients": [],
    }


def render_signature_list(batch: Batch, rows: list[Row] | None = None) -> bytes:
    """The unit's list as a PDF (``signature_pdf``).  The caller has checked the reader may
    see the batch."""
    with translation.override("vi"):  # the figures' separators too
        context = signature_list_context(batch, rows)
    context["several"] = len(context["pages"]) > 1
    return render_pages(context)


def render_pages(context: dict) -> bytes:
    content, taken = signature_pdf.render(context)
    if taken != len(context["pages"]):  # a page overflowed: numbered again with what it took
        content, _taken = signature_pdf.render(context, total_pages=taken)
    return content


def filename(batch: Batch) -> str:
    return f"danh-sach-ky-nhan-{batch.program.year}-{batch.unit.code}.pdf"


# --- asking for a list, and building it in the background --------------------------------


def get_batch(user: ActingUser, pk: int | str) -> Batch:
    return get_object_or_404(
        Batch.objects.visible_to(user).select_related(
            "program", "unit", "fund__unit", "created_by"
        ),
        pk=pk,
    )


def get_signature_list_for_user(user: ActingUser, pk: int | str) -> SignatureList:
    return get_object_or_404(
        SignatureList.objects.visible_to(user).select_related("program", "batch__unit"), pk=pk
    )


def printable_batches(program: Program):
    return (
        Batch.objects.filter(program=program, status__in=PRINTABLE)
        .select_related("program", "unit", "fund__unit", "created_by")
        .order_by("unit__path", "pk")
    )


def may_print_all(user: ActingUser, program: Program) -> bool:
    """Every unit's lists at once: whoever sees the program's union, as all its units."""
    return can(user, Capability.VIEW, program.unit)


def _ask(*, program: Program, batch: Batch | None, by: ActingUser, units: int) -> SignatureList:
    actor = require_actor(by)
    active = SignatureList.objects.filter(
        program=program, batch=batch, requested_by=actor, status__in=SignatureList.ACTIVE
    ).first()
    if active is not None:
        return active
    with transaction.atomic():
        job = SignatureList.objects.create(
            program=program, batch=batch, requested_by=actor, units_total=units
        )
        _queue(job.pk)
    return job


def _queue(job_id: int) -> None:
    from welfare.tasks import build_signature_list

    dispatch_on_commit(build_signature_list, SignatureList, job_id)


def request_signature_list(*, batch: Batch, by: ActingUser) -> SignatureList:
    """Queue one unit's list for whoever sees the batch, once it is approved or paid; asking
    again while it is being built returns that build."""
    if not Batch.objects.visible_to(by).filter(pk=batch.pk).exists():
        raise PermissionDenied
    if batch.status not in PRINTABLE:
        raise ValidationError(_("The signature list can be printed once the batch is approved."))
    return _ask(program=batch.program, batch=batch, by=by, units=1)


def request_all_signature_lists(*, program: Program, by: ActingUser) -> SignatureList:
    """Queue a ZIP of every approved or paid unit's list, for the program's union."""
    if not Program.objects.visible_to(by).filter(pk=program.pk).exists():
        raise PermissionDenied
    if not may_print_all(by, program):
        raise PermissionDenied
    units = printable_batches(program).count()
    if not units:
        raise ValidationError(_("No unit's batch is approved yet: there is no list to print."))
    return _ask(program=program, batch=None, by=by, units=units)


def _write_atomically(path: Path, chunks: Iterator[bytes] | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".building-")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(chunks if isinstance(chunks, bytes) else b"".join(chunks))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_signature_list(job_id: int) -> None:
    """Build the job's PDF or ZIP; safe to run again (the file is replaced whole and the job
    is marked ready last).  Progress is counted in units."""
    job = SignatureList.objects.select_related("program", "batch").get(pk=job_id)
    if job.status == SignatureList.Status.DONE:
        return
    SignatureList.objects.filter(pk=job.pk).update(
        status=SignatureList.Status.RUNNING, units_done=0
    )
    stem = f"signature-lists/{job.program_id}-{job.pk}-{uuid.uuid4().hex[:8]}"
    try:
        if job.batch_id is not None:
            batch = get_batch_unscoped(job.batch_id)
            name = f"{stem}.pdf"
            _write_atomically(Path(settings.MEDIA_ROOT) / name, render_signature_list(batch))
        else:
            name = f"{stem}.zip"
            _write_atomically(Path(settings.MEDIA_ROOT) / name, _zip(job))
    except Exception as error:
        SignatureList.objects.filter(pk=job.pk).update(
            status=SignatureList.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    SignatureList.objects.filter(pk=job.pk).update(
        status=SignatureList.Status.DONE,
        units_done=job.units_total or 1,
        file=name,
        finished_at=timezone.now(),
    )


def get_batch_unscoped(pk: int) -> Batch:
    return Batch.objects.select_related("program", "unit", "fund__unit", "created_by").get(pk=pk)


def _zip(job: SignatureList) -> bytes:
    batches = list(printable_batches(job.program))
    SignatureList.objects.filter(pk=job.pk).update(units_total=len(batches))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, batch in enumerate(batches, start=1):
            archive.writestr(filename(batch), render_signature_list(batch))
            SignatureList.objects.filter(pk=job.pk).update(units_done=done)
    return buffer.getvalue()


def download_name(job: SignatureList) -> str:
    if job.batch is not None:
        return filename(job.batch)
    return f"danh-sach-ky-nhan-{job.program.year}-{job.program.unit.code}.zip"


def record_access(*, batch: Batch, by: ActingUser, what: str, name: str = "") -> None:
    BatchAccess.objects.create(batch=batch, user=require_actor(by), what=what, name=name[:255])


def record_job_access(job: SignatureList, by: ActingUser) -> None:
    """A ZIP holds every unit's list: each of its batches gets the line in its log."""
    actor = require_actor(by)
    what = BatchAccess.What.SIGNATURE_LIST
    if job.batch_id is not None:
        BatchAccess.objects.create(batch_id=job.batch_id, user=actor, what=what)
        return
    ids = printable_batches(job.program).filter(unit_id__in=visible_unit_ids(actor))
    BatchAccess.objects.bulk_create(
        BatchAccess(batch_id=pk, user=actor, what=what) for pk in ids.values_list("pk", flat=True)
    )


# --- the signed list, scanned back -----------------------------------------------------------


def may_attach_signed(user: ActingUser, batch: Batch) -> bool:
    """The treasurer who pays the batch, or who builds it at its unit."""
    return batch.status in PRINTABLE and (
        can(user, Capability.PAY, batch.fund.unit) or can(user, Capability.OPEN_CASES, batch.unit)
    )


@transaction.atomic
def attach_signed_list(*, batch: Batch, upload: UploadedFile, by: ActingUser) -> SignedList:
    """Keep the signed scan (a real PDF, JPEG or PNG of 10 MB at most, checked by its content
    as case evidence is) on an approved or paid batch."""
    actor = require_actor(by)
    # Not the unions it reads: a union locked FOR UPDATE blocks every insert referring to it.
    batch = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("fund__unit", "unit")
        .get(pk=batch.pk)
    )
    if not may_attach_signed(actor, batch):
        if batch.status not in PRINTABLE and (
            can(actor, Capability.PAY, batch.fund.unit)
            or can(actor, Capability.OPEN_CASES, batch.unit)
        ):
            raise ValidationError(
                {"file": _("The signed list can be added once the batch is approved.")}
            )
        raise PermissionDenied
    if batch.signed_lists.count() >= MAX_FILES:
        raise ValidationError(
            {"file": _("A batch holds at most %(max)d signed lists.") % {"max": MAX_FILES}}
        )
    content_type, extension = check_upload(upload)
    scan = SignedList(
        batch=batch,
        original_name=uploads.display_name(upload.name),
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=actor,
    )
    scan.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
    scan.save()
    return scan
