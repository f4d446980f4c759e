"""A batch's people from a spreadsheet: the list a grassroots union already keeps (CCCD, name,
amount), checked against the people the batch may list, with the import engine's preview and
refused rows.  Confirmed, the rows are listed on the batch by ``services.add_people`` with their
own amounts (or the program's standard amount where the sheet gives none), so the batch's rules
(who may change it, when) hold as for people picked on the page."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.imports.cells import CellError, amount_from, cell_text, person_name
from common.imports.engine import Preview, StaleImport, matching, refuse, register
from common.imports.reader import WRITE_BATCH, Column, Progress, Row, Table
from common.models import ImportJob
from common.text import normalise
from members.models import Member, MemberStatus
from members.national_id import national_id_from
from unions.importing import UnitImportSchema
from unions.scope import Capability

from .models import Batch, BatchLine
from .services import add_people, standard_amount

LARGEST_AMOUNT = 1_000_000_000  # one person's support in a batch: more is a typing mistake


class BatchSchema(UnitImportSchema):
    kind = ImportJob.Kind.BATCH
    capability = Capability.OPEN_CASES
    title = "Danh sách hỗ trợ"
    template_filename = "mau-danh-sach-ho-tro.xlsx"
    columns = (
        Column(
            "national_id",
            "Số định danh cá nhân (CCCD)",
            ("so dinh danh", "cccd", "so cccd", "cmnd", "so cmnd", "cmnd cccd", "so cmnd cccd"),
            required=True,
            text=True,
            width=20,
        ),
        Column("full_name", "Họ và tên", ("ho ten", "ho va ten", "ten", "full name"), width=26),
        Column(
            "amount",
            "Số tiền (đồng)",
            ("so tien", "thanh tien", "muc ho tro", "so tien ho tro", "amount"),
            width=16,
        ),
    )
    notes = (
        gettext_lazy("How to fill in this list"),
        gettext_lazy(
            "• One person per row, from row 2: people of the batch's union (matched by the "
            "CCCD); the name, when given, must match."
        ),
        gettext_lazy(
            "• Amount in đồng, e.g. 500.000. Left empty: the program's standard amount for "
            "the person."
        ),
        gettext_lazy("• Importing the same list again adds nobody twice."),
    )

    def template_units(self, unit):
        return unit.__class__.objects.none()

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        batch = _batch(job)
        levels = list(batch.program.levels.all())
        people = _people(table, batch)
        listed = set(
            matching(
                BatchLine.objects.filter(batch=batch).values_list("member_id", flat=True),
                "member_id",
                sorted(person["pk"] for person in people.values()),
            )
        )
        preview = Preview()
        first_line: dict[int, int] = {}
        total = len(table.rows)
        for number, row in enumerate(table.rows, start=1):
            errors: list[tuple[str, str]] = []
            record = _record(table, row, errors, people, batch, levels)
            member: int = record.get("member_id", 0)
            if not errors and member in first_line:
                errors.append(
                    (
                        table.label("national_id"),
                        _("The same person is already on line %(line)s of this file.")
                        % {"line": first_line[member]},
                    )
                )
            if errors:
                preview.refused.append(refuse(table, row, errors))
            elif member in listed:
                first_line[member] = row.line
                preview.unchanged += 1
            else:
                first_line[member] = row.line
                preview.create.append({"line": row.line, **record})
            if number % WRITE_BATCH == 0:
                progress(number / total)
        progress(1.0)
        return preview

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        batch = _batch(job)
        rows = plan["create"]
        amounts = {row["member_id"]: row["amount"] for row in rows if row["amount"] is not None}
        members = Member.objects.filter(pk__in=[row["member_id"] for row in rows])
        try:
            added = add_people(batch=batch, members=members, by=job.created_by, amounts=amounts)
        except (ValidationError, PermissionDenied) as error:
            message = " ".join(getattr(error, "messages", [])) or _(
                "The batch can no longer be changed."
            )
            raise StaleImport(message) from error
        if added != len(rows):
            # Someone listed some of these people, or they left the union, since the preview.
            raise StaleImport(_("The batch changed since this file was checked: upload it again."))
        progress(1.0)


def _batch(job: ImportJob) -> Batch:
    if job.target_id is None:
        raise StaleImport(_("This list names no batch: upload it from the batch's page."))
    return Batch.objects.select_related("program", "unit").get(pk=job.target_id)


def _people(table: Table, batch: Batch) -> dict[str, dict[str, Any]]:
    ids = set()
    for row in table.rows:
        try:
            ids.add(national_id_from(table.value(row, "national_id")))
        except CellError:
            continue
    columns = (
        "pk",
        "national_id",
        "full_name",
        "search_name",
        "unit__path",
        "unit__name",
        "status",
        "kind",
        "poor_household",
        "policy_family",
    )
    return {
        person["national_id"]: person
        for person in matching(Member.objects.values(*columns), "national_id", sorted(ids))
    }


def _record(table, row: Row, errors: list, people: dict, batch: Batch, levels) -> dict:
    label = table.label("national_id")
    try:
        national_id = national_id_from(table.value(row, "national_id"))
    except CellError as error:
        errors.append((label, str(error)))
        return {}
    if not national_id:
        errors.append((label, _("Missing: this column must be filled in.")))
        return {}
    person = people.get(national_id)
    if person is None or not person["unit__path"].startswith(batch.unit.path):
        errors.append(
            (
                label,
                _("Nobody with this ID number is a member of %(unit)s.")
                % {"unit": batch.unit.name},
            )
        )
        return {}
    if person["status"] != MemberStatus.ACTIVE:
        errors.append((label, _("This person is no longer an active member.")))
        return {}
    try:
        name = person_name(table.value(row, "full_name"))
    except CellError as error:
        errors.append((table.label("full_name"), str(error)))
        name = ""
    if name and normalise(name) != person["search_name"]:
        errors.append(
            (
                table.label("full_name"),
                _("The member with this ID number is %(name)s.") % {"name": person["full_name"]},
            )
        )
    amount = None
    if cell_text(table.value(row, "amount")):
        try:
            amount = amount_from(table.value(row, "amount"))
        except CellError as error:
            errors.append((table.label("amount"), str(error)))
        else:
            if amount is not None and amount <= 0:
                errors.append((table.label("amount"), _("The amount must be positive.")))
            elif amount is not None and amount > LARGEST_AMOUNT:
                errors.append((table.label("amount"), _("The amount is too large.")))
    elif (
        standard_amount(
            levels,
            kind=person["kind"],
            poor=person["poor_household"],
            policy=person["policy_family"],
        )
        is None
    ):
        errors.append(
            (
                table.label("amount"),
                _("The program has no standard amount for this person: give the amount."),
            )
        )
    return {"member_id": person["pk"], "amount": amount}


register(BatchSchema())
