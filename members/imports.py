"""Spreadsheet imports: read a sheet the way real lists are kept, check every row, show a
preview, and write everything in one transaction once the user confirms.

One mechanism, two row schemas: the member list (here) and past support records
(``welfare/imports.py``, found through ``autodiscover_modules("imports")`` so this app never
imports the one above it).  A schema names its columns and checks and writes its rows; this
module reads the files, keeps the job's state (``ImportJob``) and runs the two phases:

- preview: read the file, check every row, save the rows to write as a JSON file under
  ``MEDIA_ROOT/imports/`` and the refused ones as a spreadsheet.  Nothing is written to the
  member tables.
- apply: after the user confirms, write the saved rows with bulk inserts in batches, all in one
  transaction: either every row goes in or none does.

Files up to ``INLINE_ROWS`` rows are handled inside the request, so a small list previews at
once; bigger ones go to Celery (``members/tasks.py``) and the job page shows their progress.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet.datavalidation import DataValidation

from unions.models import Unit, UnitKind, UnitStatus
from unions.scope import Capability, can, has_capability, scope_paths

from .counters import refresh_member_counts
from .models import ImportJob, Member, MemberKind, Membership, MemberStatus, Sex
from .national_id import clean_national_id
from .search import normalise
from .validation import check_birth_date, member_errors, tidy_name

logger = logging.getLogger(__name__)

INLINE_ROWS = 2000  # up to this many rows, preview and write inside the request
WRITE_BATCH = 2000
HEADER_SEARCH_ROWS = 20
REFUSED_SHOWN = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
EXTENSIONS = (".xlsx", ".xlsm", ".csv")


class FileRefused(Exception):
    """The file as a whole cannot be imported (not a spreadsheet, no header row, ...)."""


class StaleImport(Exception):
    """What the preview checked has changed since: nothing is written."""


class CellError(ValueError):
    """One cell cannot be read; the message says why, in the user's language."""


# --------------------------------------------------------------------------------------------
# Reading cells as real sheets hold them
# --------------------------------------------------------------------------------------------

_INVISIBLE_MARKS = "\u200b\u200c\u200d\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_MARKS))
_INVISIBLE_FOUND = re.compile(f"[{_INVISIBLE_MARKS}]").search


def cell_text(value: Any) -> str:
    """A cell as tidy text: NFC Unicode, single spaces, numbers without a trailing ".0"."""
    if value is None:
        return ""
    if type(value) is not str:
        return _other_text(value)
    if not value.isascii():  # (cheap: CPython knows it without scanning)
        value = unicodedata.normalize("NFC", value)
        if _INVISIBLE_FOUND(value):
            value = value.translate(_INVISIBLE)
    return " ".join(value.split())


def _other_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    return cell_text(str(value))


def person_name(value: Any) -> str:
    """Each word capitalised, Vietnamese letters kept: "NGUYỄN văn  an" -> "Nguyễn Văn An"."""
    words = tidy_name(cell_text(value)).split()
    return " ".join(word[:1].upper() + word[1:].lower() for word in words)


_SCIENTIFIC = re.compile(r"\d[.,]?\d*e\+?\d+$", re.IGNORECASE)


def national_id_from(value: Any) -> str:
    """The ID as digits; a number that lost its leading zero in Excel gets it back."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError(_("“%(value)s” is not an identification number.") % {"value": value})
    text = cell_text(value).lstrip("'")
    if ("e" in text or "E" in text) and _SCIENTIFIC.search(text):
        raise CellError(
            _(
                "The number was shown in scientific notation (%(value)s) and its last digits "
                "were lost: format the column as text and type the number again."
            )
            % {"value": text}
        )
    digits = clean_national_id(text)
    if digits.isdigit() and len(digits) in (8, 10, 11):
        # A number that lost its leading zeros in Excel: a CMND (9 digits) or a CCCD (12; the
        # provinces 001-009 lose two).  The checks against the birth date catch a wrong guess.
        digits = digits.zfill(9 if len(digits) == 8 else 12)
    return digits


_DATE_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_EXCEL_SERIALS = (2, 2958465)  # 01/01/1900 .. 31/12/9999


def date_from(value: Any) -> datetime.date | None:
    """A date from a real Excel date, an Excel serial number, or text as dd/mm/yyyy or d/m/yy."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1000 <= value <= 2999 and float(value).is_integer():
            raise CellError(
                _("“%(value)s” is only a year: the full date is needed (dd/mm/yyyy).")
                % {"value": text}
            )
        if _EXCEL_SERIALS[0] <= value <= _EXCEL_SERIALS[1]:
            return from_excel(value).date()
    text = text.split(" ")[0]  # "15/03/1985 00:00:00"
    try:
        if match := _DATE_DMY.match(text):
            day, month, year = (int(part) for part in match.groups())
            if len(match.group(3)) == 2:
                year += 2000 if year <= timezone.localdate().year % 100 else 1900
            return datetime.date(year, month, day)
        if match := _DATE_ISO.match(text):
            year, month, day = (int(part) for part in match.groups())
            return datetime.date(year, month, day)
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}", text):
        raise CellError(
            _("“%(value)s” is only a year: the full date is needed (dd/mm/yyyy).") % {"value": text}
        )
    raise CellError(_("“%(value)s” is not a date: write it as dd/mm/yyyy.") % {"value": text})


def _choice(text: str, table: dict[str, Any]) -> Any:
    """The value ``text`` names in ``table`` (keys without marks), tried as typed first."""
    key = text.lower()
    if key in table:
        return table[key]
    key = normalise(text).strip(".")
    if key in table:
        return table[key]
    raise KeyError(key)


_SEXES = {
    **dict.fromkeys(["nam", "m", "male", "1", "trai", "man"], Sex.MALE),
    **dict.fromkeys(["nu", "nữ", "f", "female", "0", "2", "gai", "woman"], Sex.FEMALE),
}


def sex_from(value: Any) -> str | None:
    """Nam/Nữ, male/female, M/F, 1/0 (1 = male, 0 or 2 = female, as in social insurance)."""
    text = cell_text(value)
    if not text:
        return None
    try:
        return _choice(text, _SEXES)
    except KeyError:
        raise CellError(_("“%(value)s” is not a sex: write Nam or Nữ.") % {"value": text}) from None


_YES_NO = {
    **dict.fromkeys(["x", "co", "có", "c", "1", "yes", "y", "true", "v", "✓", "√", "dung"], True),
    **dict.fromkeys(["0", "khong", "không", "k", "no", "n", "false", "-"], False),
}


def yes_no_from(value: Any) -> bool | None:
    """x / có / 1 / yes for yes; không / 0 / no for no; an empty cell says nothing."""
    text = cell_text(value)
    if not text:
        return None
    try:
        return _choice(text, _YES_NO)
    except KeyError:
        raise CellError(
            _("“%(value)s” is not yes or no: write x for yes, leave the cell empty for no.")
            % {"value": text}
        ) from None


_KINDS = {"đoàn viên": MemberKind.MEMBER, "người lao động": MemberKind.WORKER}


def kind_from(value: Any) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    if text.lower() in _KINDS:
        return _KINDS[text.lower()]
    key = normalise(text)
    if "doan vien" in key or key in ("dv", "member", "union member"):
        return MemberKind.MEMBER
    if "lao dong" in key or key in ("nld", "worker", "non-member worker"):
        return MemberKind.WORKER
    raise CellError(
        _("“%(value)s” is neither “đoàn viên” nor “người lao động”.") % {"value": cell_text(value)}
    )


def amount_from(value: Any) -> int:
    """Whole đồng from 1500000, "1.500.000", "1,500,000 đ" or "1.500.000 ₫"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and value > 0:
            return int(value)
    else:
        text = re.sub(r"(?i)\s*(vnd|vnđ|đồng|dong|đ|₫)\s*$", "", cell_text(value))
        digits = re.sub(r"[.,\s]", "", text)
        if digits.isdigit() and int(digits) > 0:
            return int(digits)
    raise CellError(_("“%(value)s” is not an amount in đồng.") % {"value": cell_text(value) or "0"})


def phone_from(value: Any) -> str:
    """A phone number; one stored as a number that lost its leading 0 gets it back."""
    text = cell_text(value).lstrip("'")
    if isinstance(value, int | float) and len(text) == 9 and text.isdigit():
        return "0" + text
    return text


def header_key(text: Any) -> str:
    """A header compared without case, marks or punctuation: "Số CCCD/CMND" -> "so cccd cmnd"."""
    return re.sub(r"[^a-z0-9]+", " ", normalise(cell_text(text))).strip()


def shown(value: Any) -> str:
    """A cell as the user typed it, for the refused-rows list and spreadsheet."""
    return cell_text(value)


# --------------------------------------------------------------------------------------------
# Reading the table: the header row anywhere in the first rows, then the data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as in the template: Vietnamese, the file format of the portal's users
    aliases: tuple[str, ...] = ()  # other headers found in real lists; a longer header
    # starting with one of them also matches ("Họ và tên đoàn viên")
    required: bool = False
    text: bool = False  # the template formats the column as text (keeps leading zeros)
    width: int = 18
    choices: tuple[str, ...] = ()  # offered as a drop-down in the template

    def matches(self, key: str) -> bool:
        for alias in (header_key(self.header), *self.aliases):
            if key == alias or key.startswith(alias + " "):
                return True
        return False


@dataclass
class Row:
    line: int  # the row number the spreadsheet shows
    cells: list[Any]


@dataclass
class Table:
    headers: list[str]  # the header row as found, tidied
    index: dict[str, int]  # column key -> position
    rows: list[Row]
    labels: dict[str, str] = field(default_factory=dict)

    def value(self, row: Row, key: str) -> Any:
        position = self.index.get(key)
        if position is None or position >= len(row.cells):
            return None
        return row.cells[position]

    def label(self, key: str) -> str:
        """The column as the user's file names it (the template's header if it is absent)."""
        return self.labels[key]


Progress = Callable[[float], None]


def _no_progress(share: float) -> None:
    return None


def _match_header(cells: Iterable[Any], columns: tuple[Column, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, cell in enumerate(cells):
        key = header_key(cell)
        if not key:
            continue
        for column in columns:
            if column.key not in found and column.matches(key):
                found[column.key] = position
                break
    return found


def _filled(cell: Any) -> bool:
    if isinstance(cell, str):
        return cell != "" and not cell.isspace()
    return cell is not None


def _is_column_numbers(cells: list[Any]) -> bool:
    """The "(1) (2) (3) ..." row many official lists put under their header."""
    filled = [cell_text(cell) for cell in cells if cell_text(cell)]
    return len(filled) >= 3 and all(re.fullmatch(r"\(?\d{1,2}\)?", text) for text in filled)


Share = Callable[[int], float]  # how much of the sheet was read, given the line reached


def _sheet_rows(path: Path) -> Iterator[tuple[Share, Iterator[list[Any]]]]:
    """(share read, rows) for each sheet of the file; a row is the list of its cell values."""
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(path)
    else:
        yield from _xlsx_sheets(path)


# The cells of an XLSX sheet are read here rather than by openpyxl's worksheet reader, which
# builds an object per cell and reads about 7,000 rows of 13 columns a second: 15 s for a
# 100,000-row list on our 2-core machine, a quarter of the import's budget.  This loop reads
# the same XML with ElementTree's C parser about five times as fast.  openpyxl still reads
# everything else: the package, the shared strings, the sheet order, the styles that mark
# dates and the 1900/1904 calendar.
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE = f"{_MAIN_NS}row", f"{_MAIN_NS}c", f"{_MAIN_NS}v"
_INLINE, _TEXT, _RUN = f"{_MAIN_NS}is", f"{_MAIN_NS}t", f"{_MAIN_NS}r"


class _CountingReader:
    """A file that counts what has been read from it, for the progress bar."""

    def __init__(self, raw, size: int):
        self.raw, self.size, self.done = raw, max(size, 1), 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.done += len(data)
        return data

    def share(self, line: int) -> float:
        return self.done / self.size


def _open_workbook(path: Path) -> ExcelReader:
    try:
        reader = ExcelReader(str(path), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
    except Exception as error:
        raise FileRefused(_("This file could not be read as an Excel workbook (.xlsx).")) from error
    return reader


def _worksheet_paths(reader: ExcelReader) -> list[str]:
    return [
        rel.target
        for _sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
    ]


def _xlsx_sheets(path: Path) -> Iterator[tuple[Share, Iterator[list[Any]]]]:
    reader = _open_workbook(path)
    try:
        for target in _worksheet_paths(reader):
            size = reader.archive.getinfo(target).file_size
            source = _CountingReader(reader.archive.open(target), size)
            yield source.share, _xlsx_rows(source, reader)
    finally:
        reader.archive.close()


def _xlsx_rows(source: _CountingReader, reader: ExcelReader) -> Iterator[list[Any]]:
    """Each row's values by column, the empty rows included so that lines keep their number."""
    strings = reader.shared_strings
    dates = set(getattr(reader.wb, "_date_formats", ()) or ())
    epoch = reader.wb.epoch
    positions: dict[str, int] = {}
    line = 0
    try:
        for _event, element in iterparse(source):
            if element.tag != _ROW:
                continue
            number = element.get("r")
            number = int(float(number)) if number else line + 1
            while line + 1 < number:
                line += 1
                yield []
            line = number
            cells: list[Any] = []
            for cell in element:
                if cell.tag != _CELL:
                    continue
                ref = cell.get("r")
                if ref:
                    letters = ref.rstrip("0123456789")
                    if letters not in positions:
                        positions[letters] = column_index_from_string(letters) - 1
                    position = positions[letters]
                else:
                    position = len(cells)
                if position > len(cells):
                    cells.extend([None] * (position - len(cells)))
                value = _xlsx_value(cell, strings, dates, epoch)
                if position == len(cells):
                    cells.append(value)
                else:
                    cells[position] = value
            element.clear()
            yield cells
    except ParseError as error:
        raise FileRefused(_("This file could not be read as an Excel workbook (.xlsx).")) from error
    finally:
        source.raw.close()


def _xlsx_value(cell, strings: list, dates: set, epoch) -> Any:
    """A cell's value as openpyxl gives it with ``data_only``: numbers, text, booleans, dates
    (numbers in a date style), a formula's last result."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        if inline is None:
            return None
        parts = []
        for child in inline:  # plain text, or rich-text runs (phonetic guides left out)
            if child.tag == _TEXT:
                parts.append(child.text or "")
            elif child.tag == _RUN:
                parts.append(child.findtext(_TEXT) or "")
        return "".join(parts)
    value = cell.findtext(_VALUE)
    if not value:
        return None
    if kind == "n":
        number = float(value) if "." in value or "e" in value or "E" in value else int(value)
        style = cell.get("s")
        if style and int(style) in dates:
            try:
                return from_excel(number, epoch)
            except (OverflowError, ValueError):
                return value
        return number
    if kind == "s":
        return strings[int(value)]
    if kind == "b":
        return value == "1"
    if kind == "d":
        return from_ISO8601(value)
    return value  # "str": a formula's text; "e": an error such as #N/A


def _csv_rows(path: Path) -> Iterator[tuple[Share, Iterator[list[Any]]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(
            _(
                "This CSV file is not in UTF-8: in Excel choose “Save as” and the type "
                "“CSV UTF-8 (Comma delimited)”, or save it as .xlsx."
            )
        ) from None
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = max(text.count("\n"), 1)
    rows = (list(row) for row in csv.reader(io.StringIO(text), dialect))
    yield (lambda line: line / lines), rows


def read_table(
    path: Path,
    columns: tuple[Column, ...],
    required: set[str],
    progress: Progress = _no_progress,
) -> Table:
    """The first sheet with a header row (found in its first 20 rows by the column names,
    without regard to case or marks) and every non-empty row under it."""
    for share, rows in _sheet_rows(path):
        line = 0
        found: dict[str, int] = {}
        headers: list[Any] = []
        for cells in rows:
            line += 1
            found = _match_header(cells, columns)
            if required <= found.keys():
                headers = cells
                break
            if line >= HEADER_SEARCH_ROWS:
                break
        if not headers:
            continue
        table = Table(
            headers=[cell_text(cell) for cell in headers],
            index=found,
            rows=[],
            labels={column.key: column.header for column in columns},
        )
        for key, position in found.items():
            table.labels[key] = table.headers[position]
        first = True
        for cells in rows:
            line += 1
            if first and _is_column_numbers(cells):
                first = False
                continue
            first = False
            if not any(_filled(cell) for cell in cells):
                continue
            table.rows.append(Row(line, cells))
            if len(table.rows) > MAX_ROWS:
                raise FileRefused(
                    _("The file has more than %(rows)s rows: split it into several files.")
                    % {"rows": f"{MAX_ROWS:,}".replace(",", ".")}
                )
            if line % WRITE_BATCH == 0:
                progress(min(share(line), 1.0))
        if not table.rows:
            raise FileRefused(_("The file has a header row but no rows under it."))
        return table
    names = ", ".join(f"“{column.header}”" for column in columns if column.key in required)
    raise FileRefused(
        _(
            "No header row was found in the first %(rows)s rows: the sheet needs the "
            "columns %(names)s."
        )
        % {"rows": HEADER_SEARCH_ROWS, "names": names}
    )


def estimate_rows(path: Path) -> int:
    """About how many rows the file holds, cheaply: to choose between inline and Celery."""
    if path.suffix.lower() == ".csv":
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    try:
        reader = _open_workbook(path)
    except FileRefused:
        return 0  # the preview will say what is wrong with it
    try:
        targets = _worksheet_paths(reader)
        if not targets:
            return 0
        with reader.archive.open(targets[0]) as source:
            start = source.read(4096).decode("utf-8", "replace")
        if match := re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', start):
            return int(match.group(1))
        # No size written (openpyxl's own files): guess from the sheet's size, generously.
        return reader.archive.getinfo(targets[0]).file_size // 300
    finally:
        reader.archive.close()


# --------------------------------------------------------------------------------------------
# Schemas: what a kind of import reads, checks and writes
# --------------------------------------------------------------------------------------------


@dataclass
class Refusal:
    line: int
    values: list[str]
    errors: list[tuple[str, str]]  # (column as in the file, reason)

    def as_json(self) -> dict:
        summary = " · ".join([value for value in self.values if value][:3])
        return {"line": self.line, "summary": summary, "errors": self.errors}


@dataclass
class Preview:
    create: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)


class Schema:
    """One kind of import.  Subclasses set the class attributes and write ``check``/``write``."""

    kind: str
    capability: Capability
    columns: tuple[Column, ...]
    title: Any  # the template's sheet title
    template_filename: str
    notes: tuple[Any, ...] = ()

    def required_keys(self, unit: Unit) -> set[str]:
        return {column.key for column in self.columns if column.required}

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        raise NotImplementedError

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        """Write the confirmed rows; runs inside the import's one transaction."""
        raise NotImplementedError

    def template_units(self, unit: Unit):
        """The units whose codes the template lists on its own sheet."""
        return Unit.objects.in_subtree_of(unit).filter(kind=UnitKind.GRASSROOTS).active()


_SCHEMAS: dict[str, Schema] = {}


def register(schema: Schema) -> Schema:
    _SCHEMAS[schema.kind] = schema
    return schema


def schema_for(kind: str) -> Schema:
    if kind not in _SCHEMAS:
        autodiscover_modules("imports")  # the apps above this one register their schemas
    return _SCHEMAS[kind]


def refuse(table: Table, row: Row, errors: list[tuple[str, str]]) -> Refusal:
    width = len(table.headers)
    values = [shown(cell) for cell in row.cells[:width]]
    return Refusal(row.line, values + [""] * (width - len(values)), errors)


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def query_batch() -> int:
    """How many values one ``IN (...)`` may hold on this database."""
    return 900 if connection.vendor == "sqlite" else 5000


def matching(queryset, field: str, values: list[str]):
    """``queryset`` filtered on ``field`` being one of ``values``, in as few queries as the
    database allows: one ``= ANY(array)`` on PostgreSQL (a single parameter, however many
    values), ``IN`` lists of ``query_batch()`` elsewhere."""
    if connection.vendor == "postgresql":
        column = f"{queryset.model._meta.db_table}.{queryset.model._meta.get_field(field).column}"
        yield from queryset.filter(
            RawSQL(f"{column} = ANY(%s)", (list(values),), output_field=BooleanField())
        )
        return
    for batch in chunks(list(values), query_batch()):
        yield from queryset.filter(**{f"{field}__in": batch})


def allocate_ids(model, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken from the table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(model, rows: list[dict]) -> None:
    """Insert plain rows (attribute name -> value) as fast as the database allows: COPY on
    PostgreSQL, a prepared INSERT elsewhere.  No model instance is built, so the rows must
    carry every non-null column (auto_now fields included)."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])
        return
    # Elsewhere (SQLite, the demo): one prepared INSERT run for every row, values prepared
    # as the ORM would (dates and aware datetimes in the database's own format).
    prepare = [
        (lambda value, field=field: field.get_db_prep_save(value, connection))
        if isinstance(field, models.DateField)
        else None
        for field in fields
    ]
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        for batch in chunks(rows, WRITE_BATCH):
            cursor.executemany(
                sql,
                [
                    [
                        row[name] if step is None else step(row[name])
                        for name, step in zip(names, prepare, strict=True)
                    ]
                    for row in batch
                ],
            )


# --------------------------------------------------------------------------------------------
# Jobs: upload, preview, confirm, write
# --------------------------------------------------------------------------------------------


def get_job_for_user(user, pk, *, kind: str) -> ImportJob:
    """The job if its unit is in the user's scope for this kind of import (404 otherwise);
    403 first for a role that may not import at all."""
    schema = schema_for(kind)
    if not has_capability(user, schema.capability):
        raise PermissionDenied
    jobs = ImportJob.objects.visible_to(user, schema.capability).filter(kind=kind)
    return get_object_or_404(jobs.select_related("unit", "created_by"), pk=pk)


def check_upload(upload) -> None:
    name = upload.name.lower()
    if name.endswith(".xls"):
        raise ValidationError(
            _("This is an old Excel file (.xls): open it in Excel and save it as .xlsx.")
        )
    if not name.endswith(EXTENSIONS):
        raise ValidationError(_("Choose an Excel workbook (.xlsx) or a CSV file."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB: split it into several files.")
            % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )


def start_import(*, kind: str, unit: Unit, upload, by) -> ImportJob:
    """Keep the uploaded file and check it: at once for a small file, by Celery otherwise."""
    schema = schema_for(kind)
    if not can(by, schema.capability, unit):
        raise PermissionDenied
    check_upload(upload)
    if not unit.is_active:
        raise ValidationError(
            _("%(unit)s is closed: nothing can be imported into it.") % {"unit": unit.name}
        )
    job = ImportJob(
        kind=kind,
        unit=unit,
        created_by=by,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        token=secrets.token_hex(16),
        original_name=Path(upload.name).name[:255],
    )
    job.file.save(f"source{Path(upload.name).suffix.lower()}", upload, save=False)
    job.save()
    if estimate_rows(Path(job.file.path)) <= INLINE_ROWS:
        _inline(run_preview, job.pk)
        job.refresh_from_db()
    else:
        from .tasks import preview_import

        transaction.on_commit(lambda: preview_import.delay(job.pk))
    return job


def _inline(step: Callable[[int], None], job_id: int) -> None:
    """Run a step inside the request: a failure is logged and shown on the job's page (the
    step has marked the job failed), not turned into a server error."""
    try:
        step(job_id)
    except Exception:
        logger.exception("Import %s failed", job_id)


def _update(job_id: int, **values) -> None:
    ImportJob.objects.filter(pk=job_id).update(**values)


def _fail(job: ImportJob, message: str) -> None:
    """Mark the job failed and drop its working files: the user uploads the file again."""
    _update(job.pk, status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now())
    _discard_work_files(job)


def _stepper(job_id: int, start: int, span: int) -> Progress:
    last = [-1]

    def report(share: float) -> None:
        percent = start + int(span * share)
        if percent != last[0]:
            last[0] = percent
            _update(job_id, progress=percent)

    return report


def _generic_failure() -> str:
    return _(
        "The import failed and nothing was written. Try again; if it fails again, tell your "
        "administrator."
    )


def run_preview(job_id: int) -> None:
    """Read and check the file; save what would be written.  Safe to run again."""
    job = ImportJob.objects.select_related("unit", "created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.READING):
        return
    schema = schema_for(job.kind)
    _update(job.pk, status=ImportJob.Status.READING, progress=1)
    with translation.override(job.language):
        try:
            table = read_table(
                Path(job.file.path),
                schema.columns,
                schema.required_keys(job.unit),
                _stepper(job.pk, 1, 49),
            )
            preview = schema.check(job, table, _stepper(job.pk, 50, 45))
            plan = json.dumps(
                {"create": preview.create, "update": preview.update},
                ensure_ascii=False,
                default=_json_default,
            )
            folder = Path(job.file.name).parent
            plan_name = default_storage_save(f"{folder}/plan.json", plan.encode())
            refused_name = ""
            if preview.refused:
                content = refused_workbook(table.headers, preview.refused)
                refused_name = default_storage_save(f"{folder}/loi.xlsx", content)
        except FileRefused as error:
            _fail(job, str(error))
            return
        except Exception:
            _fail(job, _generic_failure())
            raise
    _update(
        job.pk,
        status=ImportJob.Status.PREVIEWED,
        progress=100,
        rows=len(table.rows),
        to_create=len(preview.create),
        to_update=len(preview.update),
        unchanged=preview.unchanged,
        refused=len(preview.refused),
        refused_sample=[refusal.as_json() for refusal in preview.refused[:REFUSED_SHOWN]],
        plan=plan_name,
        refused_file=refused_name,
        previewed_at=timezone.now(),
    )


def _json_default(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(type(value))


def default_storage_save(name: str, content: bytes) -> str:
    from django.core.files.storage import default_storage

    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def confirm_import(*, job: ImportJob, by) -> ImportJob:
    """The user's go-ahead: write the previewed rows (inline when few, by Celery otherwise)."""
    if job.created_by_id != by.pk:
        raise PermissionDenied  # the preview was checked against the uploader's scope
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.CONFIRMED, progress=0
    )
    if not claimed:
        raise ValidationError(_("This import is not waiting for confirmation."))
    if job.to_create + job.to_update <= INLINE_ROWS:
        _inline(run_apply, job.pk)
    else:
        from .tasks import apply_import

        transaction.on_commit(lambda: apply_import.delay(job.pk))
    job.refresh_from_db()
    return job


def cancel_import(*, job: ImportJob, by) -> ImportJob:
    if job.created_by_id != by.pk:
        raise PermissionDenied
    cancelled = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED]
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if not cancelled:
        raise ValidationError(_("This import can no longer be cancelled."))
    job.refresh_from_db()
    _discard_work_files(job)
    return job


def _discard_work_files(job: ImportJob) -> None:
    """The uploaded file and the saved rows go once the import is over; the refused rows
    stay for the user to correct."""
    for stored in (job.file, job.plan):
        if stored:
            stored.delete(save=False)
    _update(job.pk, file="", plan="")


class _WriteProgress:
    """Progress other requests can read while the import's transaction is still open.

    On PostgreSQL it is written through a second connection (its own autocommit); on SQLite,
    which has one writer, it shows when the transaction commits.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = -1
        self.side = None

    def __call__(self, share: float) -> None:
        percent = min(99, int(share * 100))
        if percent == self.last:
            return
        self.last = percent
        if connection.vendor != "postgresql":
            return
        if self.side is None:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s",
                [percent, self.job_id],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def run_apply(job_id: int) -> None:
    """Write the confirmed rows, all or nothing.  Safe to run again: the job is marked done in
    the same transaction as the rows, and a done job is never written twice."""
    job = ImportJob.objects.select_related("unit", "created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.CONFIRMED, ImportJob.Status.WRITING):
        return
    schema = schema_for(job.kind)
    _update(job.pk, status=ImportJob.Status.WRITING, progress=0)
    progress = _WriteProgress(job.pk)
    with translation.override(job.language):
        try:
            with job.plan.open("rb") as handle:
                plan = json.load(handle)
            with transaction.atomic():
                schema.write(job, plan, progress)
                _update(
                    job.pk,
                    status=ImportJob.Status.DONE,
                    progress=100,
                    error="",
                    finished_at=timezone.now(),
                )
        except StaleImport as error:
            _fail(job, str(error))
            return
        except IntegrityError:
            _fail(job, stale_message())
            return
        except Exception:
            _fail(job, _generic_failure())
            raise
        finally:
            progress.close()
    job.refresh_from_db()
    _discard_work_files(job)


def stale_message() -> str:
    return _(
        "The data changed since the preview (someone added or moved one of these records). "
        "Nothing was written: upload the file again to check it anew."
    )


# --------------------------------------------------------------------------------------------
# Spreadsheets the user downloads: the template and the refused rows
# --------------------------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_HEADER = "Lỗi"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refused_workbook(headers: list[str], refused: list[Refusal]) -> bytes:
    """The refused rows with the file's own columns and a last column saying what is wrong,
    so they can be corrected and imported again as they are."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Lỗi")
    sheet.append([*headers, ERROR_HEADER])
    for refusal in refused:
        reasons = "; ".join(f"{column}: {reason}" for column, reason in refusal.errors)
        line = _("Line %(line)s") % {"line": refusal.line}
        sheet.append([*refusal.values, f"{line} — {reasons}"])
    return _save(workbook)


def template_workbook(schema: Schema, unit: Unit | None = None) -> bytes:
    """An empty list with the columns the import reads, its notes, and the unit codes."""
    workbook = Workbook()
    sheet = workbook.active
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


# --------------------------------------------------------------------------------------------
# The member list
# --------------------------------------------------------------------------------------------

UPDATABLE = (
    "full_name",
    "sex",
    "date_of_birth",
    "union_card_number",
    "joined_on",
    "occupation",
    "phone",
    "address",
    "kind",
    "policy_family",
    "poor_household",
)
MAX_LENGTHS = {
    name: Member._meta.get_field(name).max_length
    for name in ("full_name", "union_card_number", "occupation", "phone", "address")
}
UNIT_CODE_ALIASES = (
    "cong doan co so",
    "ma cong doan co so",
    "ma cong doan",
    "ma cdcs",
    "cdcs",
    "ma don vi",
    "don vi",
    "unit code",
    "grassroots union",
)


def unit_code_key(value: Any) -> str:
    return cell_text(value).upper()


class MemberSchema(Schema):
    kind = ImportJob.Kind.MEMBERS
    capability = Capability.EDIT_MEMBERS
    title = "Danh sách đoàn viên"
    template_filename = "mau-nhap-doan-vien.xlsx"
    columns = (
        Column(
            "full_name",
            "Họ và tên",
            ("ho ten", "ho va ten", "ten", "full name", "name"),
            required=True,
            width=28,
        ),
        Column("sex", "Giới tính", ("gioi tinh", "sex", "gender", "nam nu"), choices=("Nam", "Nữ")),
        Column(
            "date_of_birth",
            "Ngày sinh",
            ("ngay sinh", "ngay thang nam sinh", "sinh ngay", "date of birth", "birth date"),
            required=True,
            text=True,
            width=14,
        ),
        Column(
            "national_id",
            "Số định danh cá nhân (CCCD)",
            (
                "so dinh danh",
                "dinh danh ca nhan",
                "cccd",
                "so cccd",
                "can cuoc cong dan",
                "so can cuoc",
                "cmnd",
                "so cmnd",
                "cmnd cccd",
                "so cmnd cccd",
                "personal id number",
                "national id",
                "id number",
            ),
            required=True,
            text=True,
            width=20,
        ),
        Column(
            "union_card_number",
            "Số thẻ đoàn viên",
            ("so the doan vien", "so the", "the doan vien", "ma the", "union card"),
            text=True,
        ),
        Column(
            "joined_on",
            "Ngày vào công đoàn",
            ("ngay vao cong doan", "ngay ket nap", "ngay gia nhap", "ngay vao", "date joined"),
            text=True,
            width=14,
        ),
        Column(
            "occupation",
            "Nghề nghiệp",
            ("nghe nghiep", "chuc vu", "cong viec", "vi tri viec lam", "occupation"),
            width=22,
        ),
        Column(
            "phone",
            "Điện thoại",
            ("dien thoai", "so dien thoai", "sdt", "dt", "phone"),
            text=True,
            width=14,
        ),
        Column(
            "address",
            "Địa chỉ",
            ("dia chi", "noi o", "cho o hien nay", "noi thuong tru", "address"),
            width=34,
        ),
        Column(
            "kind",
            "Đối tượng (đoàn viên / người lao động)",
            ("doi tuong", "loai", "membership", "kind"),
            width=20,
            choices=("Đoàn viên", "Người lao động"),
        ),
        Column(
            "policy_family",
            "Gia đình chính sách",
            ("gia dinh chinh sach", "gdcs", "policy family"),
            width=12,
            choices=("x",),
        ),
        Column(
            "poor_household",
            "Hộ nghèo",
            ("ho ngheo", "poor household"),
            width=10,
            choices=("x",),
        ),
        Column("unit_code", "Công đoàn cơ sở (mã)", UNIT_CODE_ALIASES, text=True, width=16),
    )
    notes = (
        gettext_lazy("How to fill in this list"),
        gettext_lazy(
            "• One person per row, from row 2. Keep the header row; columns may be "
            "in any order and other columns are ignored."
        ),
        gettext_lazy(
            "• Required: full name, date of birth, personal ID number (CCCD, 12 "
            "digits; 9 digits for an old ID card). Sex may be left empty when the CCCD "
            "has 12 digits: it is read from the number."
        ),
        gettext_lazy("• Dates as dd/mm/yyyy (15/03/1985) or as Excel dates."),
        gettext_lazy(
            "• Sex: Nam or Nữ. Membership: Đoàn viên or Người lao động (empty means "
            "Đoàn viên). Policy family, poor household: x for yes."
        ),
        gettext_lazy(
            "• Grassroots union (code): only needed when importing into a union with "
            "several grassroots unions under it. The codes are on the sheet "
            "“Union codes” when the template is downloaded for a union."
        ),
        gettext_lazy(
            "• A person already registered in your unions (same CCCD) is updated, not "
            "added twice; empty cells leave their data as it is."
        ),
    )

    def required_keys(self, unit: Unit) -> set[str]:
        keys = super().required_keys(unit)
        if unit.kind != UnitKind.GRASSROOTS:
            keys.add("unit_code")
        return keys

    # -- checking -----------------------------------------------------------------------------

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        target = job.unit
        grassroots = {
            code.upper(): (pk, status, name)
            for pk, code, status, name in Unit.objects.in_subtree_of(target)
            .filter(kind=UnitKind.GRASSROOTS)
            .values_list("pk", "code", "status", "name")
        }
        parsed: list[tuple[Row, dict, set[str], list[tuple[str, str]]]] = []
        total = len(table.rows)
        today = timezone.localdate()
        for number, row in enumerate(table.rows, start=1):
            fields, provided, errors = self._parse(table, row, target, grassroots, today)
            parsed.append((row, fields, provided, errors))
            if number % WRITE_BATCH == 0:
                progress(0.7 * number / total)
        self._refuse_duplicates(table, parsed)
        progress(0.75)
        existing = self._existing(parsed)
        progress(0.9)
        preview = Preview()
        scope = scope_paths(job.created_by, self.capability)
        for row, fields, provided, errors in parsed:
            person = existing["people"].get(fields.get("national_id"))
            card = fields.get("union_card_number")
            holder = existing["cards"].get(card) if card else None
            if not errors and holder is not None and holder != fields["national_id"]:
                errors.append(
                    (
                        table.label("union_card_number"),
                        _("This union card number belongs to another person."),
                    )
                )
            if not errors and person is not None:
                if not any(person["unit__path"].startswith(path) for path in scope):
                    errors.append(
                        (
                            table.label("national_id"),
                            _("This person is registered in another union."),
                        )
                    )
                elif person["unit_id"] != fields["unit_id"]:
                    errors.append(
                        (
                            table.label("national_id"),
                            _(
                                "This person is already a member of %(unit)s: transfer them, "
                                "or import them into that union."
                            )
                            % {"unit": person["unit__name"]},
                        )
                    )
            if errors:
                preview.refused.append(refuse(table, row, errors))
            elif person is None:
                preview.create.append(self._new(fields, row.line))
            else:
                changes = {
                    name: fields[name]
                    for name in UPDATABLE
                    if name in provided and fields[name] != person[name]
                }
                if changes:
                    preview.update.append({"id": person["pk"], "line": row.line, **changes})
                else:
                    preview.unchanged += 1
        progress(1.0)
        return preview

    def _parse(self, table: Table, row: Row, target: Unit, grassroots: dict, today):
        """The row's fields, which optional ones the file gave, and its errors."""
        errors: list[tuple[str, str]] = []
        unreadable: set[str] = set()
        fields: dict[str, Any] = {}
        provided: set[str] = {"full_name", "date_of_birth", "sex"}
        cells, width = row.cells, len(row.cells)
        raw = {key: cells[at] if at < width else None for key, at in table.index.items()}

        def read(key: str, parser: Callable[[Any], Any]) -> Any:
            try:
                return parser(raw.get(key))
            except CellError as error:
                errors.append((table.label(key), str(error)))
                unreadable.add(key)
                return None

        def missing(key: str, message: str = "") -> None:
            if key not in unreadable:
                reason = message or _("Missing: this column must be filled in.")
                errors.append((table.label(key), reason))

        fields["full_name"] = read("full_name", person_name)
        if not fields["full_name"]:
            missing("full_name")
        national_id = fields["national_id"] = read("national_id", national_id_from)
        if not national_id:
            missing("national_id")
        birth = read("date_of_birth", date_from)
        if birth is None:
            missing("date_of_birth")
        else:
            try:
                check_birth_date(birth, today=today)
            except ValidationError as error:
                errors.append((table.label("date_of_birth"), error.messages[0]))
                birth = None
        fields["date_of_birth"] = birth
        sex = read("sex", sex_from)
        if sex is None and national_id and len(national_id) == 12 and national_id.isdigit():
            sex = Sex.FEMALE if int(national_id[3]) % 2 else Sex.MALE  # the CCCD says it
        if sex is None:
            missing("sex", _("Missing: write Nam or Nữ."))
        fields["sex"] = sex
        fields["occupation"] = cell_text(raw.get("occupation"))
        fields["address"] = cell_text(raw.get("address"))
        fields["phone"] = phone_from(raw.get("phone"))
        fields["union_card_number"] = cell_text(raw.get("union_card_number")).lstrip("'")
        for key, length in MAX_LENGTHS.items():
            if fields[key]:
                provided.add(key)
                if len(fields[key]) > length:
                    errors.append(
                        (
                            table.label(key),
                            _("Too long: at most %(max)s characters.") % {"max": length},
                        )
                    )
        joined = fields["joined_on"] = read("joined_on", date_from)
        if joined is not None:
            provided.add("joined_on")
        kind = read("kind", kind_from)
        fields["kind"] = kind or MemberKind.MEMBER
        if kind is not None:
            provided.add("kind")
        for key in ("policy_family", "poor_household"):
            flag = read(key, yes_no_from)
            fields[key] = bool(flag)
            if flag is not None:
                provided.add(key)
        fields["unit_id"] = self._unit(table, raw, target, grassroots, errors)
        if "date_of_birth" in unreadable or "sex" in unreadable:
            birth = sex = None  # the ID is checked for its format only
        for field_name, error in member_errors(
            national_id=national_id,
            date_of_birth=birth,
            sex=sex,
            joined_on=joined,
            kind=fields["kind"],
            union_card_number=fields["union_card_number"],
            today=today,
        ):
            errors.append((table.label(field_name), error.messages[0]))
        return fields, provided, errors

    def _unit(self, table, raw, target, grassroots, errors) -> int | None:
        code = unit_code_key(raw.get("unit_code"))
        if not code:
            if target.kind == UnitKind.GRASSROOTS:
                return target.pk
            errors.append(
                (
                    table.label("unit_code"),
                    _("Missing: the code of the grassroots union is needed under %(unit)s.")
                    % {"unit": target.name},
                )
            )
            return None
        found = grassroots.get(code)
        if found is None:
            errors.append(
                (
                    table.label("unit_code"),
                    _("No grassroots union with the code “%(code)s” under %(unit)s.")
                    % {"code": code, "unit": target.name},
                )
            )
            return None
        pk, status, name = found
        if status != UnitStatus.ACTIVE:
            errors.append(
                (
                    table.label("unit_code"),
                    _("%(unit)s is closed: it can take no new members.") % {"unit": name},
                )
            )
            return None
        return pk

    def _refuse_duplicates(self, table: Table, parsed: list) -> None:
        """A person or a union card twice in the file: the first row counts, later ones are
        refused and name it."""
        first_id: dict[str, int] = {}
        first_card: dict[str, int] = {}
        for row, fields, _provided, errors in parsed:
            national_id = fields.get("national_id")
            if national_id:
                if national_id in first_id:
                    errors.append(
                        (
                            table.label("national_id"),
                            _("The same ID number is already on line %(line)s of this file.")
                            % {"line": first_id[national_id]},
                        )
                    )
                else:
                    first_id[national_id] = row.line
            card = fields.get("union_card_number")
            if card:
                if card in first_card:
                    errors.append(
                        (
                            table.label("union_card_number"),
                            _("The same union card number is already on line %(line)s.")
                            % {"line": first_card[card]},
                        )
                    )
                else:
                    first_card[card] = row.line

    def _existing(self, parsed: list) -> dict:
        """The people and union cards of the file already registered: one query each on
        PostgreSQL, one per batch elsewhere."""
        ids = {fields["national_id"] for _r, fields, _p, _e in parsed if fields["national_id"]}
        cards = {
            fields["union_card_number"]
            for _r, fields, _p, _e in parsed
            if fields["union_card_number"]
        }
        columns = ("pk", "national_id", "unit_id", "unit__path", "unit__name", *UPDATABLE)
        people = {
            person["national_id"]: person
            for person in matching(Member.objects.values(*columns), "national_id", sorted(ids))
        }
        holders = dict(
            matching(
                Member.objects.values_list("union_card_number", "national_id"),
                "union_card_number",
                sorted(cards),
            )
        )
        return {"people": people, "cards": holders}

    @staticmethod
    def _new(fields: dict, line: int) -> dict:
        return {"line": line, **fields}

    # -- writing ------------------------------------------------------------------------------

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        by = job.created_by
        creates, updates = plan["create"], plan["update"]
        total = max(1, len(creates) + len(updates))
        reason = f"import #{job.pk}"
        new_ids = [row["national_id"] for row in creates]
        if next(matching(Member.objects.values_list("pk"), "national_id", new_ids), None):
            raise StaleImport(stale_message())
        now = timezone.now()
        today = timezone.localdate()
        done = 0
        touched = {row["unit_id"] for row in creates}
        for batch in chunks(creates, WRITE_BATCH):
            self._create(batch, by=by, reason=reason, now=now, today=today)
            done += len(batch)
            progress(done / total)
        scope = scope_paths(by, self.capability)
        for batch in chunks(updates, WRITE_BATCH // 4):
            found = Member.objects.select_related("unit").in_bulk([row["id"] for row in batch])
            members = []
            for row in batch:
                member = found.get(row["id"])
                if member is None or not any(member.unit.path.startswith(p) for p in scope):
                    raise StaleImport(stale_message())
                for name in UPDATABLE:
                    if name in row:
                        setattr(member, name, _decode(name, row[name]))
                member.search_name = normalise(member.full_name)
                member.updated_at = now
                members.append(member)
                touched.add(member.unit_id)
            Member.objects.bulk_update(members, [*UPDATABLE, "search_name", "updated_at"])
            Member.history.bulk_history_create(
                members,
                update=True,
                default_user=by,
                default_change_reason=reason,
                default_date=now,
            )
            done += len(batch)
            progress(done / total)
        refresh_member_counts(touched)

    @staticmethod
    def _create(rows: list[dict], *, by, reason: str, now, today) -> None:
        """New members with their history row and first membership: plain rows, COPY on
        PostgreSQL (the ids come from the sequence first), bulk inserts elsewhere."""
        members = []
        for row in rows:
            values = {name: _decode(name, row[name]) for name in (*UPDATABLE, "national_id")}
            values["kind"] = str(values["kind"])
            values["sex"] = str(values["sex"])
            members.append(
                {
                    **values,
                    "unit_id": row["unit_id"],
                    "status": MemberStatus.ACTIVE.value,
                    "search_name": normalise(values["full_name"]),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if connection.vendor == "postgresql":
            for member, pk in zip(members, allocate_ids(Member, len(members)), strict=True):
                member["id"] = pk
            insert_rows(Member, members)
        else:
            saved = Member.objects.bulk_create([Member(**member) for member in members])
            for member, instance in zip(members, saved, strict=True):
                member["id"] = instance.pk
        history = Member.history.model
        kept = [
            field.attname for field in history._meta.concrete_fields if field.attname in members[0]
        ]
        insert_rows(
            history,
            [
                {
                    **{name: member[name] for name in kept},
                    "history_date": now,
                    "history_change_reason": reason,
                    "history_type": "+",
                    "history_user_id": by.pk,
                }
                for member in members
            ],
        )
        insert_rows(
            Membership,
            [
                {
                    "member_id": member["id"],
                    "unit_id": member["unit_id"],
                    "valid_from": member["joined_on"] or today,
                    "valid_to": None,
                    "reason": Membership.Reason.JOINED.value,
                    "note": "",
                    "by_id": by.pk,
                }
                for member in members
            ],
        )


_DATE_FIELDS = {"date_of_birth", "joined_on", "paid_on"}


def _decode(name: str, value: Any) -> Any:
    """A value read back from the saved plan (dates were written as ISO text)."""
    if name in _DATE_FIELDS and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


register(MemberSchema())
