"""Streaming exports of a list page: CSV and XLSX, row by row, never the whole table in memory.

Every list view builds its queryset from ``visible_to(user)`` and its filters, and hands it
here with the columns to write, so an export holds exactly what the page shows. Both formats
send their first bytes while the later rows are still being read from the database.
"""

from __future__ import annotations

import csv
import datetime
import math
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar
from xml.sax.saxutils import escape, quoteattr

from django.db.models import Model, QuerySet
from django.http import Http404, StreamingHttpResponse
from django.utils.functional import Promise
from stream_zip import ZIP_32, stream_zip

CHUNK = 2000

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Column(Generic[M]):
    header: str | Promise
    value: Callable[[M], object]


def choice_labels(choices: Iterable[tuple[str, str | Promise]]) -> dict[str, str]:
    """A choice's label by its value, translated once per export rather than once per row."""
    return {value: str(label) for value, label in choices}


class _Echo:
    def write(self, value: str) -> str:
        return value


# A text starting with one of these is run as a formula when a CSV file is opened in a
# spreadsheet ("=HYPERLINK(...)" typed as a member's address): it gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A cell's value that no spreadsheet reads as a formula (OWASP's CSV injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text_not_formulas(workbook: Any) -> Any:
    """An openpyxl workbook whose texts starting with "=" stay texts: openpyxl would write
    them as formulas.  The portal's workbooks hold no formula of their own."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    return workbook


def _rows(queryset: QuerySet[M], columns: list[Column[M]]) -> Iterator[list[object]]:
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield [column.value(obj) for column in columns]


def stream_csv(
    queryset: QuerySet[M], columns: list[Column[M]], filename: str
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield "\ufeff"  # so Excel opens the UTF-8 text with its Vietnamese letters intact
        yield writer.writerow([str(column.header) for column in columns])
        for row in _rows(queryset, columns):
            yield writer.writerow(["" if value is None else neutralised(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


# --- XLSX ------------------------------------------------------------------------------------
# openpyxl can only write a finished file, so the first byte would wait for the last row. An
# XLSX file is a ZIP of a few XML parts: the fixed ones are written out below, the sheet is
# written row by row, and stream-zip compresses it into the ZIP as it goes.

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_CHUNK_BYTES = 64 * 1024
MAX_CELL_TEXT = 32_767  # Excel's limit; it calls a file with a longer text corrupt

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = f"""{_XML_DECLARATION}\
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""

_PACKAGE_RELS = f"""{_XML_DECLARATION}\
<Relationships xmlns="{_RELS_NS}">\
<Relationship Id="rId1" Type="{_DOC_RELS_NS}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""

_WORKBOOK_RELS = f"""{_XML_DECLARATION}\
<Relationships xmlns="{_RELS_NS}">\
<Relationship Id="rId1" Type="{_DOC_RELS_NS}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{_DOC_RELS_NS}/styles" Target="styles.xml"/>\
</Relationships>"""

# Cell style 0 is the default, style 1 the bold header.
_STYLES = f"""{_XML_DECLARATION}\
<styleSheet xmlns="{_MAIN_NS}">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""

_SHEET_START = f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}"><sheetData>'
_SHEET_END = "</sheetData></worksheet>"

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def column_letter(index: int) -> str:
    """The letters of the column at ``index`` counted from 0: A, B, ... Z, AA, AB, ..."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def sheet_name(title: str) -> str:
    """A title Excel accepts as a sheet's name: none of ``[]:*?/\\``, at most 31 characters."""
    name = _NOT_IN_SHEET_NAME.sub("", _NOT_XML.sub("", str(title)))[:31].strip("'")
    return name or "Sheet1"


def _text_cell(ref: str, text: str, style: str) -> str:
    text = _NOT_XML.sub("", text)[:MAX_CELL_TEXT]
    space = ' xml:space="preserve"' if text != text.strip() else ""  # keep edge spaces
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _cell(ref: str, value: object, style: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float | Decimal) and math.isfinite(value)):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    return _text_cell(ref, str(value), style)


def _sheet_xml(header: list[str], rows: Iterable[list[object]]) -> Iterator[bytes]:
    """The worksheet part, in pieces of about ``SHEET_CHUNK_BYTES``, read from ``rows`` lazily."""
    refs = [column_letter(index) for index in range(len(header))]
    cells = "".join(
        _cell(f"{ref}1", text, ' s="1"') for ref, text in zip(refs, header, strict=True)
    )
    pending = [_SHEET_START, f'<row r="1">{cells}</row>']
    size = 0
    for number, row in enumerate(rows, start=2):
        cells = "".join(
            _cell(f"{ref}{number}", value) for ref, value in zip(refs, row, strict=True)
        )
        line = f'<row r="{number}">{cells}</row>'
        pending.append(line)
        size += len(line)
        if size >= SHEET_CHUNK_BYTES:
            yield "".join(pending).encode()
            pending, size = [], 0
    pending.append(_SHEET_END)
    yield "".join(pending).encode()


def _xlsx_parts(
    header: list[str], rows: Iterable[list[object]], title: str
) -> Iterator[tuple[str, datetime.datetime, int, Any, Iterable[bytes]]]:
    workbook = (
        f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_RELS_NS}"><sheets>'
        f'<sheet name={quoteattr(sheet_name(title))} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    now = datetime.datetime.now()
    mode = stat.S_IFREG | 0o644
    # ZIP_32: a sheet never nears 4 GB, and Excel refuses ZIP64 records it does not need.
    for name, content in [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _PACKAGE_RELS),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
    ]:
        yield name, now, mode, ZIP_32, [content.encode()]
    yield "xl/worksheets/sheet1.xml", now, mode, ZIP_32, _sheet_xml(header, rows)


def _deflate() -> Any:  # zlib's Compress type is private
    # zlib's default level 6: on a ledger, a file a tenth bigger than level 9's in under half
    # the time.
    return zlib.compressobj(level=6, wbits=-zlib.MAX_WBITS)


def stream_xlsx(
    queryset: QuerySet[M], columns: list[Column[M]], filename: str, title: str
) -> StreamingHttpResponse:
    header = [str(column.header) for column in columns]
    parts = _xlsx_parts(header, _rows(queryset, columns), title)
    content = stream_zip(parts, get_compressobj=_deflate, extended_timestamps=False)
    response = StreamingHttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def export_response(
    fmt: str, queryset: QuerySet[M], columns: list[Column[M]], filename: str, title: str
) -> StreamingHttpResponse:
    if fmt == "csv":
        return stream_csv(queryset, columns, filename)
    if fmt == "xlsx":
        return stream_xlsx(queryset, columns, filename, title)
    raise Http404
