"""The table in a spreadsheet: the header row anywhere in the first rows, then the data,
streamed from .xlsx (without building the workbook) or CSV."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

from .cells import cell_text, header_key

HEADER_SEARCH_ROWS = 20
MAX_ROWS = 200_000
WRITE_BATCH = 2000
# An XLSX is a ZIP: what it unpacks to is read from its central directory before openpyxl
# opens it.  200,000 rows of a wide list unpack to a few hundred MB of XML at a ratio of 10
# to 50; a zip bomb claims far more, or far more files.  zipfile never reads past the size a
# member declares, so a directory that lies about it cannot get more through.
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_UNPACKED_BYTES = 512 * 1024 * 1024
ZIP_MAX_RATIO = 200  # for a member that unpacks to more than ZIP_RATIO_FROM_BYTES
ZIP_RATIO_FROM_BYTES = 1024 * 1024


class FileRefused(Exception):
    """The file as a whole cannot be imported (not a spreadsheet, no header row, ...)."""


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
# builds an object per cell (bench/README.md gives the figures).  This loop reads the same XML
# with ElementTree's C parser and builds only the row lists.  openpyxl still reads
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


def _check_zip(path: Path) -> None:
    """Refuse a workbook whose members would unpack to too much, before any is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise FileRefused(_("This file could not be read as an Excel workbook (.xlsx).")) from error
    unpacked = sum(member.file_size for member in members)
    too_dense = any(
        member.file_size > ZIP_RATIO_FROM_BYTES
        and member.file_size > ZIP_MAX_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if len(members) > ZIP_MAX_MEMBERS or unpacked > ZIP_MAX_UNPACKED_BYTES or too_dense:
        raise FileRefused(
            _(
                "This workbook unpacks to far more data than a list to import holds: it is "
                "damaged or made to overload the portal. Open it in Excel, save it again as "
                ".xlsx and upload that copy."
            )
        )


def _open_workbook(path: Path) -> ExcelReader:
    _check_zip(path)
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
            reference = element.get("r")
            number = int(float(reference)) if reference else line + 1
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
