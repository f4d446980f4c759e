"""The spreadsheets an import hands back: the empty template with its notes and unit codes,
and the refused rows with the reason beside each."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

if TYPE_CHECKING:
    from .engine import Refusal, Schema

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_HEADER = "Lỗi"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _as_text(sheet, value: object) -> object:
    """The refused rows are written back as typed: a text starting with "=" stays a text
    (openpyxl would write it as a formula)."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def refused_workbook(headers: list[str], refused: list[Refusal]) -> bytes:
    """The refused rows with the file's own columns and a last column saying what is wrong,
    so they can be corrected and imported again as they are."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Lỗi")
    sheet.append([*headers, ERROR_HEADER])
    for refusal in refused:
        reasons = "; ".join(f"{column}: {reason}" for column, reason in refusal.errors)
        line = _("Line %(line)s") % {"line": refusal.line}
        sheet.append([_as_text(sheet, value) for value in [*refusal.values, f"{line} — {reasons}"]])
    return _save(workbook)


def template_workbook(schema: Schema, unit=None) -> bytes:
    """An empty list with the columns the import reads, its notes, and the unit codes."""
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook starts with one sheet
    sheet.title = str(schema.title)[:31]
    sheet.append([column.header for column in schema.columns])
    for position, column in enumerate(schema.columns, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(row=1, column=position)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[letter].width = column.width
        if column.text:  # a column style: Excel keeps what is typed as text, zeros and all
            sheet.column_dimensions[letter].number_format = "@"
        if column.choices:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True
            )
            validation.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(validation)
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(title=_("Instructions")[:31])
    notes.column_dimensions["A"].width = 110
    for note in schema.notes:
        notes.append([str(note)])
    if unit is not None:
        codes = workbook.create_sheet(title=_("Union codes")[:31])
        codes.append([_("Code"), _("Name")])
        for code, name in schema.template_units(unit).order_by("code").values_list("code", "name"):
            codes.append([code, name])
        codes.column_dimensions["A"].width = 18
        codes.column_dimensions["B"].width = 60
    return _save(workbook)
