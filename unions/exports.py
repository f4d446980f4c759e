"""Streaming exports of a list page: CSV and XLSX, row by row, never the whole table in memory.

Every list view builds its queryset from ``visible_to(user)`` and its filters, and hands it
here with the columns to write, so an export holds exactly what the page shows.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.http import FileResponse, Http404, StreamingHttpResponse
from openpyxl import Workbook

CHUNK = 2000


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[object], object]


def choice_labels(choices) -> dict[str, str]:
    """A choice's label by its value, translated once per export rather than once per row."""
    return {value: str(label) for value, label in choices}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(queryset, columns: list[Column]) -> Iterator[list]:
    for obj in queryset.iterator(chunk_size=CHUNK):
        yield [column.value(obj) for column in columns]


def stream_csv(queryset, columns: list[Column], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield "\ufeff"  # so Excel opens the UTF-8 text with its Vietnamese letters intact
        yield writer.writerow([str(column.header) for column in columns])
        for row in _rows(queryset, columns):
            yield writer.writerow(["" if value is None else value for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def stream_xlsx(queryset, columns: list[Column], filename: str, title: str) -> FileResponse:
    """openpyxl's write-only mode keeps one row in memory; the file is spooled to disk."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([str(column.header) for column in columns])
    for row in _rows(queryset, columns):
        sheet.append(row)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx")


def export_response(fmt: str, queryset, columns: list[Column], filename: str, title: str):
    if fmt == "csv":
        return stream_csv(queryset, columns, filename)
    if fmt == "xlsx":
        return stream_xlsx(queryset, columns, filename, title)
    raise Http404
