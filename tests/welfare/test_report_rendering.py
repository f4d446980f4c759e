"""The annual report rendered: the PDF's text and fonts, the workbook's totals, the charts.

The PDF is read back with poppler-utils (pdftotext, pdffonts), as a reader would copy it.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import subprocess
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from welfare.models import Report
from welfare.reports import charts
from welfare.reports.figures import Row, annual_figures
from welfare.reports.narrative import narrative
from welfare.reports.pdf import document_date, font_faces, header, place_name, render_pdf
from welfare.reports.xlsx import render_xlsx

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def vi(message: str) -> str:
    """What the document prints for an English msgid (the catalogue may not have it yet)."""
    with translation.override("vi"):
        return gettext(message)


def flat(text: str) -> str:
    return " ".join(text.split())


@dataclasses.dataclass
class Pdf:
    path: object
    layout: str  # pdftotext -layout: table rows stay on one line
    text: str  # reading order, whitespace collapsed: wrapped phrases join up again
    pages: int


def render(tmp_path, figures, name="report.pdf") -> Pdf:
    report = Report(union=figures.union, year=figures.year)
    content = render_pdf(figures, narrative=narrative(figures), report=report)
    assert content.startswith(b"%PDF")
    path = tmp_path / name
    path.write_bytes(content)
    layout = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    plain = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return Pdf(path, layout, flat(plain), layout.count("\f"))


def pdf_fonts(path) -> list[tuple[str, str]]:
    """(name, embedded) of every font in the PDF."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    fonts = []
    for line in out.stdout.splitlines()[2:]:
        parts = line.split()
        fonts.append((parts[0], parts[-5]))
    return fonts


def line_with(layout: str, *words: str) -> str:
    lines = [line for line in layout.splitlines() if all(word in line for word in words)]
    assert lines, f"no line holds {words}"
    return lines[0]


# --- the PDF -------------------------------------------------------------------------------------


def test_province_report_reads_back_with_its_figures_and_header(world, records, tmp_path):
    figures = annual_figures(world.province, 2026)
    pdf = render(tmp_path, figures)
    text = pdf.text

    # the union document header
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "TỔNG LĐLĐ VIỆT NAM" in text
    assert "LĐLĐ TỈNH P" in text
    assert "Số: …/BC-P" in text
    assert f"P, {document_date(timezone.localdate())}" in text
    assert "BÁO CÁO CÔNG TÁC AN SINH XÃ HỘI NĂM 2026" in text

    # headline figures, the Vietnamese way
    assert "7.500.000 ₫" in line_with(pdf.layout, "7.500.000 ₫", "1.000.000 ₫")
    grant = line_with(pdf.layout, "Trợ cấp bằng tiền")
    assert "5.000.000 ₫" in grant and "0 ₫" in grant
    visit = line_with(pdf.layout, "Thăm hỏi, tặng quà", "2.500.000 ₫")
    assert " 2 " in visit  # two turns
    assert "Quà Tết" in text and "Đoàn viên công đoàn" in text
    assert "Mái ấm Công đoàn" in text  # the highlighted shelter line, even with none this year
    assert "Công đoàn phường A" in line_with(pdf.layout, "Công đoàn phường A", "7.500.000 ₫")
    assert "Quỹ Xã hội tỉnh P" in text
    # the narrative, as generated
    assert flat(narrative(figures).split("\n\n")[0]) in text

    # nothing from the other province
    assert "tỉnh Q" not in text and "7.000.000" not in text

    # sections without records, and the note on counting: no program, loan or contribution
    # recorded in either year, each said for those years
    none = vi("None in %(year)s or %(prev_year)s.") % {"year": 2026, "prev_year": 2025}
    assert text.count(none) == 2
    no_loan = vi(
        "No loan from the funds covered by this report was outstanding or repaid in %(year)s "
        "or %(prev_year)s."
    )
    assert text.count(flat(no_loan % {"year": 2026, "prev_year": 2025})) == 1
    assert "Năm nay" not in text and "năm nay" not in text
    assert (
        flat(
            vi(
                "Support is counted in the year it was paid: a case approved on 31/12 and paid on "
                "02/01 counts in the year of payment."
            )
        )
        in text
    )
    # the signature blocks and recipients
    for words in ("Người lập", "Kế toán", "TM. BAN THƯỜNG VỤ", "CHỦ TỊCH", "Nơi nhận:"):
        assert words in text
    assert "Tổng Liên đoàn Lao động Việt Nam (để báo cáo)" in text
    # page numbers
    assert "Trang 1/" in pdf.layout
    assert f"Trang {pdf.pages}/{pdf.pages}" in pdf.layout


def test_pdf_embeds_only_noto_fonts(world, records, tmp_path):
    pdf = render(tmp_path, annual_figures(world.province, 2026))
    fonts = pdf_fonts(pdf.path)
    assert fonts
    for name, embedded in fonts:
        assert name.split("+")[-1].startswith(("Noto-Serif", "Noto-Sans")), name
        assert embedded == "yes", name
    names = {name.split("+")[-1] for name, _ in fonts}
    assert {"Noto-Serif", "Noto-Serif-Bold", "Noto-Sans"} <= names


def test_every_vietnamese_letter_comes_back_from_every_face(tmp_path):
    """All 134 letters, lower and upper case, in each face the report uses."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    marks = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    letters = [unicodedata.normalize("NFC", b + m) for b in "aăâeêioôơuưy" for m in marks]
    words = " ".join(f"x{letter}x" for letter in [*letters, "đ"])
    line = f"{words} {words.upper()} 1.100.900.000 ₫"
    faces = [
        "font-family: 'Noto Serif'",
        "font-family: 'Noto Serif'; font-weight: 700",
        "font-family: 'Noto Serif'; font-style: italic",
        "font-family: 'Noto Serif'; font-weight: 700; font-style: italic",
        "font-family: 'Noto Sans'",
        "font-family: 'Noto Sans'; font-weight: 700",
    ]
    config = FontConfiguration()
    path = tmp_path / "letters.pdf"
    HTML(string="".join(f'<p style="{face}">{line}</p>' for face in faces)).write_pdf(
        path, stylesheets=[CSS(string=font_faces(), font_config=config)], font_config=config
    )
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert flat(text) == flat(" ".join([line] * len(faces)))
    assert len(pdf_fonts(path)) == len(faces)


def test_commune_report_names_its_superior_and_place(world, records, tmp_path):
    pdf = render(tmp_path, annual_figures(world.commune_a, 2024))
    assert "LĐLĐ TỈNH P" in pdf.text
    assert "CÔNG ĐOÀN PHƯỜNG A" in pdf.text
    assert "Số: …/BC-P-A" in pdf.text
    assert "3.000.000 ₫" in pdf.text
    assert "60.000.000" not in pdf.text  # commune B's shelter


def test_grassroots_report_is_signed_by_its_executive_committee(world, records, tmp_path):
    pdf = render(tmp_path, annual_figures(world.a1, 2026))
    assert "CÔNG ĐOÀN PHƯỜNG A" in pdf.text and "CĐCS CÔNG TY A1" in pdf.text
    assert "TM. BAN CHẤP HÀNH" in pdf.text
    assert "Các công đoàn trực thuộc" not in pdf.text
    assert "Công đoàn phường A (để báo cáo)" in pdf.text
    assert "7.500.000 ₫" in pdf.text  # all three cases of 2026 were opened at A1


def test_header_of_a_grassroots_union_and_of_a_province(world):
    grassroots = header(world.a1)
    assert grassroots["superior"] == "CÔNG ĐOÀN PHƯỜNG A"
    assert grassroots["issuer"] == "CĐCS CÔNG TY\u00a0A1"  # its name's end kept on one line
    assert grassroots["place"] == "P"
    assert grassroots["signatory"] == "TM. BAN CHẤP HÀNH"
    province = header(world.province)
    assert province["superior"] == "TỔNG LĐLĐ VIỆT NAM"
    assert province["signatory"] == "TM. BAN THƯỜNG VỤ"


@pytest.mark.parametrize(
    ("name", "place"),
    [
        ("Liên đoàn Lao động tỉnh Lạng Sơn", "Lạng Sơn"),
        ("LĐLĐ tỉnh P", "P"),
        ("Liên đoàn Lao động thành phố Hà Nội", "Hà Nội"),
        ("Liên đoàn Lao động Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
    ],
)
def test_place_is_the_province_name(name, place):
    assert place_name(name) == place


def test_document_date_pads_days_and_the_first_two_months():
    assert document_date(datetime.date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert document_date(datetime.date(2026, 11, 24)) == "ngày 24 tháng 11 năm 2026"


def test_empty_year_renders_with_none_sections_and_placeholders(world, tmp_path):
    figures = annual_figures(world.province, 2023)
    assert figures.totals.amount == 0 and not figures.by_type
    pdf = render(tmp_path, figures)
    assert "BÁO CÁO CÔNG TÁC AN SINH XÃ HỘI NĂM 2023" in pdf.text
    total = line_with(pdf.layout, vi("Total amount"))
    assert total.split()[-4:] == ["0₫", "0₫", "0₫", "—"]  # pdftotext drops the narrow space
    # types, categories, funds, units, programs, contributions
    none = vi("None in %(year)s or %(prev_year)s.") % {"year": 2023, "prev_year": 2022}
    assert pdf.text.count(none) == 6
    both = vi("No support was paid in %(year)s or %(prev_year)s.")
    assert pdf.text.count(both % {"year": 2023, "prev_year": 2022}) == 1
    assert pdf.text.count(vi("No support was paid in %(year)s.") % {"year": 2023}) == 2
    assert "Năm nay" not in pdf.text and "năm nay" not in pdf.text
    workbook = load_workbook(io.BytesIO(render_xlsx(figures)))
    assert len(workbook.sheetnames) == 11


def test_pdf_is_vietnamese_whatever_language_was_active(world, records, tmp_path):
    with translation.override("en"):
        figures = annual_figures(world.province, 2026)
        assert {row.label for row in figures.by_type} >= {"Cash grant"}
        pdf = render(tmp_path, figures)
    assert "Trợ cấp bằng tiền" in pdf.text
    assert "Cash grant" not in pdf.text


# --- the workbook --------------------------------------------------------------------------------


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def test_workbook_has_one_sheet_per_table_with_totals_matching_the_figures(world, records):
    figures = annual_figures(world.province, 2026)
    workbook = load_workbook(io.BytesIO(render_xlsx(figures)))
    names = [
        vi(name)
        for name in (
            "Summary",
            "By support type",
            "By hardship category",
            "By fund",
            "By unit",
            "By month",
            "Organisation",
            "Programs",
            "Loans",
            "Contributions",
            "Campaigns",
        )
    ]
    assert workbook.sheetnames == names
    summary, by_type, by_category, by_fund, by_unit, by_month, organisation = (
        workbook[name] for name in names[:7]
    )

    amount_row = rows_of(summary)[3]
    assert amount_row[1:4] == (7_500_000, 1_000_000, 6_500_000)

    for sheet, rows in (
        (by_type, figures.by_type),
        (by_category, figures.by_category),
        (by_fund, figures.by_fund),
        (by_unit, figures.by_child),
    ):
        data = rows_of(sheet)
        assert len(data) == len(rows) + 1
        total = data[-1]
        assert total[1] == vi("Total")
        assert total[2] == sum(row.cases for row in rows)
        assert total[4] == sum(row.amount for row in rows) == 7_500_000
        assert total[6] == sum(row.prev_amount for row in rows)
        assert sheet.freeze_panes == "A2"
        assert sheet.cell(2, 5).number_format == "#,##0"
        assert all(sheet.column_dimensions[letter].width for letter in "ABCDE")
    assert rows_of(by_type)[-1][6] == 1_000_000
    grant = next(row for row in rows_of(by_type) if row[1] == "Trợ cấp bằng tiền")
    assert grant[2:5] == (1, 1, 5_000_000)

    months = rows_of(by_month)
    assert [row[1] for row in months[:12]] == figures.by_month
    assert months[0][1] == 2_000_000 and months[1][1] == 5_500_000
    assert months[-1][1:3] == (7_500_000, 1_000_000)

    assert rows_of(organisation)[0][1] == figures.organisation.members == 3
    assert isinstance(rows_of(organisation)[0][1], int)


# --- the charts ----------------------------------------------------------------------------------


def bars(svg: str, kind: str = "current") -> list[ET.Element]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    return [rect for rect in root.iter(f"{SVG}rect") if kind in rect.get("class", "").split()]


def test_month_chart_draws_one_bar_per_month_with_support(world, records):
    figures = annual_figures(world.province, 2026)
    svg = charts.month_chart(figures)
    current = bars(svg)
    assert len(current) == sum(1 for amount in figures.by_month if amount) == 2
    assert [bar.get("data-month") for bar in current] == ["1", "2"]
    assert [bar.get("data-month") for bar in bars(svg, "previous")] == ["12"]  # the Tết gift
    assert "Noto Sans" in ET.fromstring(svg).get("font-family")


def test_type_and_unit_charts(world, records):
    figures = annual_figures(world.province, 2026)
    assert len(bars(charts.type_chart(figures))) == 2  # grant and visit; no Tết gift this year
    assert len(bars(charts.child_chart(figures))) == 1  # commune A


def test_unit_chart_keeps_twelve_units_and_adds_up_the_others(world, records):
    figures = annual_figures(world.province, 2026)
    rows = [Row(key=n, label=f"CĐCS A&B <{n}>", amount=(20 - n) * 1_000_000) for n in range(15)]
    with translation.override("vi"):  # charts speak the active language (web) or Vietnamese (PDF)
        svg = charts.child_chart(dataclasses.replace(figures, by_child=rows))
    drawn = bars(svg)
    assert len(drawn) == 13
    others = "".join(drawn[-1].itertext())
    assert others == vi("Other units (%(count)s)") % {"count": 3} + ": 21.000.000 ₫"  # 8+7+6


def test_charts_of_an_empty_year_are_placeholders(world):
    figures = annual_figures(world.province, 2023)
    for chart in (charts.month_chart, charts.type_chart, charts.child_chart):
        svg = chart(figures)
        assert not bars(svg)
        assert ET.fromstring(svg).find(f"{SVG}rect").get("class") == "placeholder"


def test_amounts_in_millions_the_vietnamese_way():
    assert charts.millions(7_500_000) == "7,5"
    assert charts.millions(12_340_000) == "12,3"
    assert charts.millions(1_234_000_000) == "1.234"
    assert charts.millions(50_000) == "0,05"
    assert charts.millions(0) == "0"


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("LIÊN ĐOÀN LAO ĐỘNG TỈNH LẠNG SƠN", "LẠNG\u00a0SƠN"),
        ("LIÊN ĐOÀN LAO ĐỘNG THÀNH PHỐ HỒ CHÍ MINH", "HỒ\u00a0CHÍ\u00a0MINH"),
        ("CÔNG ĐOÀN PHƯỜNG ĐÔNG KINH", "ĐÔNG\u00a0KINH"),
        ("CĐCS CÔNG TY CP CẤP THOÁT NƯỚC LẠNG SƠN", "LẠNG\u00a0SƠN"),
    ],
)
def test_the_place_in_a_unions_name_never_breaks(name, kept):
    from welfare.reports.pdf import unbroken_place

    text = unbroken_place(name)
    assert text.endswith(kept)
    assert text.replace("\u00a0", " ") == name
    assert text.count("\u00a0") == kept.count("\u00a0")


def test_a_long_table_breaks_across_pages_with_its_header_repeated(world, records, tmp_path):
    """A table longer than what is left of its page starts right under its heading and goes
    on over the next page under the same column headers: it never moves whole to the next
    page, leaving a gap behind."""
    figures = annual_figures(world.province, 2026)
    units = [
        Row(key=n, label=f"Công đoàn cơ sở số {n:02d}", cases=n, amount=n * 1_000_000)
        for n in range(1, 61)
    ]
    pdf = render(tmp_path, dataclasses.replace(figures, by_child=units))
    # the pages before the charts, which name the largest units again
    pages = pdf.layout.split("\f")
    pages = pages[: min(n for n, page in enumerate(pages) if "VII. " in page) + 1]
    heading = "5. " + vi("By unit")

    def page_of(text: str, start: int = 0) -> int:
        return min(n for n, page in enumerate(pages) if text in page and n >= start)

    # (the narrative names the largest unit before the table: rows are looked for after it)
    start = page_of(heading)
    first, last = page_of("Công đoàn cơ sở số 01", start), page_of("Công đoàn cơ sở số 60", start)
    assert first == start  # the table starts where its heading is
    assert last > first  # and breaks: sixty rows do not fit on what is left of the page
    for number in range(first + 1, last + 1):
        assert "STT" in pages[number] and "Năm 2026" in pages[number], number  # header repeated
    # every row is there once, in order
    order = [page_of(f"Công đoàn cơ sở số {n:02d}", start) for n in range(1, 61)]
    assert order == sorted(order)


def test_people_supported_without_a_membership_are_said_in_the_pdf_and_workbook(
    world, records, funds, tmp_path
):
    from members.models import MemberStatus

    from ..factories import MemberFactory
    from .conftest import paid_case

    assert "danh sách đoàn viên năm đó" not in narrative(annual_figures(world.province, 2026))
    gone = MemberFactory(
        full_name="Phan Văn Lộc",
        unit=world.a1,
        status=MemberStatus.LEFT,
        joined_on=datetime.date(2015, 1, 1),
        left_on=datetime.date(2025, 6, 30),
    )
    paid_case(
        gone, funds.social, 1_000_000, datetime.date(2026, 3, 2), by=world.users["grassroots"]
    )
    figures = annual_figures(world.province, 2026)
    story = narrative(figures)
    assert "Trong đó 1 người không có trong danh sách đoàn viên năm đó." in story.split("\n\n")[0]
    pdf = render(tmp_path, figures)
    assert flat(story.split("\n\n")[0]) in pdf.text
    # The row under "People supported", unnumbered (its label wraps in the narrow column).
    assert vi("of whom not in the member list that year") in pdf.text
    row = line_with(pdf.layout, "+1", "mới")
    assert row.split()[:3] == ["1", "0", "+1"]
    assert line_with(pdf.layout, "Số lượt hỗ trợ").split()[0] == "3"
    summary = load_workbook(io.BytesIO(render_xlsx(figures))).worksheets[0]
    by_label = {row[0]: row[1:3] for row in rows_of(summary)}
    assert by_label[vi("of whom not in the member list that year")] == (1, 0)
    assert by_label[vi("People supported")] == (3, 1)
