"""The XLSX export on its own: a file Excel and openpyxl open, with the header in bold, numbers
as numbers and text as written, sent while the rows are still being read."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

from openpyxl import load_workbook

from common.exports import Column, export_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Source:
    """A queryset stand-in that hands out its objects through ``iterator()``, counting them."""

    def __init__(self, objects):
        self.objects = objects
        self.read = 0

    def iterator(self, chunk_size=None):
        for obj in self.objects:
            self.read += 1
            yield obj


def columns_of(*headers: str) -> list[Column]:
    return [
        Column(header, lambda row, index=index: row[index]) for index, header in enumerate(headers)
    ]


def export(rows, columns, title="Đoàn viên"):
    return export_response("xlsx", Source(rows), columns, "doan-vien", title)


def open_sheet(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_xlsx_export_keeps_text_numbers_and_empty_cells_as_written():
    columns = columns_of("Họ và tên", "Số tiền", "Số dư", "Ghi chú", "Tỷ lệ", "Hộ nghèo")
    rows = [
        ("Nguyễn Văn An", 2_500_000, Decimal("1234.50"), None, 0.25, True),
        ("Đặng Thị Bình", -300_000, Decimal("0"), "Cty <A&B> \x01vay\x1f nợ", None, False),
        ("  Lê Văn Cường  ", 0, None, "dòng 1\ndòng 2", 1e-05, None),
    ]
    sheet = open_sheet(export(rows, columns))
    values = list(sheet.iter_rows(values_only=True))
    assert values == [
        ("Họ và tên", "Số tiền", "Số dư", "Ghi chú", "Tỷ lệ", "Hộ nghèo"),
        ("Nguyễn Văn An", 2_500_000, 1234.5, None, 0.25, True),
        ("Đặng Thị Bình", -300_000, 0, "Cty <A&B> vay nợ", None, False),
        ("  Lê Văn Cường  ", 0, None, "dòng 1\ndòng 2", 1e-05, None),
    ]
    assert isinstance(sheet["B2"].value, int)
    assert all(cell.font.b for cell in sheet[1])
    assert not sheet["A2"].font.b


def test_xlsx_export_names_its_sheet_after_the_title_as_excel_allows():
    sheet = open_sheet(
        export([], columns_of("Mã"), title="Sổ quỹ: [06/2025] *tạm*? \\ quỹ xã hội tỉnh")
    )
    assert sheet.title == "Sổ quỹ 062025 tạm  quỹ xã hội t"
    assert len(sheet.title) == 31
    assert [row for row in sheet.iter_rows(values_only=True)] == [("Mã",)]


def test_xlsx_export_letters_columns_past_z():
    headers = [f"Cột {index}" for index in range(30)]
    sheet = open_sheet(export([tuple(range(30))], columns_of(*headers)))
    assert (sheet["Z1"].value, sheet["AA1"].value, sheet["AD1"].value) == (
        "Cột 25",
        "Cột 26",
        "Cột 29",
    )
    assert (sheet["A2"].value, sheet["Z2"].value, sheet["AA2"].value, sheet["AD2"].value) == (
        0,
        25,
        26,
        29,
    )
    assert sheet.max_column == 30


def test_xlsx_export_is_an_attachment_with_the_spreadsheet_type():
    response = export([("An",)], columns_of("Họ và tên"))
    assert response.streaming
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="doan-vien.xlsx"'


def test_xlsx_export_is_sent_while_the_rows_are_still_being_read():
    total = 50_000
    rows = (
        (number, hashlib.sha256(str(number).encode()).hexdigest(), f"Hộ số {number}")
        for number in range(total)
    )
    source = Source(rows)
    response = export_response("xlsx", source, columns_of("Số", "Mã", "Tên"), "so-quy", "Sổ quỹ")
    chunks, sent = [], []  # sent: each chunk's size and the rows read when it went out
    for chunk in response.streaming_content:
        chunks.append(chunk)
        sent.append((len(chunk), source.read))
    size = sum(length for length, _ in sent)
    sent_in_first_tenth = sum(length for length, read in sent if read < total / 10)
    sent_before_last_row = sum(length for length, read in sent if read < total)
    assert sent_in_first_tenth >= 64 * 1024
    assert sent_before_last_row > 0.9 * size

    sheet = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == total + 1
    assert values[-1] == (total - 1, hashlib.sha256(b"49999").hexdigest(), "Hộ số 49999")
