"""A signature list drawn by ReportLab, in the union's document format.

WeasyPrint lays out HTML: a 2,000-name list (68 pages of small tables) took it 11-25 s of a
shared core, twice the budget.  The list has a fixed layout (rows of a fixed height, one
table a page, paginated in Python by ``signature_lists.paginate``), which is what ReportLab's
tables are made for: the same list takes well under a second (bench/signature_list.py).
The letterhead, the wording and the fonts are those of the other documents (the merged Noto
files of ``welfare.reports.pdf``), so the list looks like its siblings.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    HRFlowable,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from welfare.reports.pdf import BOLD, BOLD_ITALIC, ITALIC, REGULAR, font_file

# Nghị định 30/2020's margins, as the print CSS's @page.
TOP, RIGHT, BOTTOM, LEFT = 20 * mm, 15 * mm, 20 * mm, 30 * mm
WIDTH = A4[0] - LEFT - RIGHT
ROW = 7.4 * mm
# Number, name, union card, amount, signature: the columns of the format.
COLUMNS = [11 * mm, WIDTH - 105 * mm, 32 * mm, 28 * mm, 34 * mm]
GRID = colors.HexColor("#333333")

SERIF, SERIF_BOLD, SERIF_ITALIC, SERIF_BOLD_ITALIC = (
    "NotoSerif",
    "NotoSerif-Bold",
    "NotoSerif-Italic",
    "NotoSerif-BoldItalic",
)
SANS, SANS_BOLD = "NotoSans", "NotoSans-Bold"


@functools.cache
def register_fonts() -> None:
    """The merged Noto faces, registered once per process under the names used here."""
    faces = [
        (SERIF, "noto-serif", REGULAR),
        (SERIF_BOLD, "noto-serif", BOLD),
        (SERIF_ITALIC, "noto-serif", ITALIC),
        (SERIF_BOLD_ITALIC, "noto-serif", BOLD_ITALIC),
        (SANS, "noto-sans", REGULAR),
        (SANS_BOLD, "noto-sans", BOLD),
    ]
    for name, package, (weight, style) in faces:
        pdfmetrics.registerFont(TTFont(name, str(font_file(package, weight, style))))
    pdfmetrics.registerFontFamily(
        SERIF, normal=SERIF, bold=SERIF_BOLD, italic=SERIF_ITALIC, boldItalic=SERIF_BOLD_ITALIC
    )
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SERIF_ITALIC, boldItalic=SERIF_BOLD_ITALIC
    )


def _style(name: str, **options) -> ParagraphStyle:
    defaults = {"fontName": SERIF, "fontSize": 12, "leading": 15.6, "alignment": TA_CENTER}
    return ParagraphStyle(name, **{**defaults, **options})


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "superior": _style("superior", fontSize=11, leading=14.3),
        "issuer": _style("issuer", fontName=SERIF_BOLD, fontSize=11, leading=14.3),
        "number": _style("number", fontSize=11.5, leading=15),
        "republic": _style("republic", fontName=SERIF_BOLD, fontSize=11, leading=14.3),
        "slogan": _style("slogan", fontName=SERIF_BOLD, fontSize=12, leading=15.6),
        "place": _style("place", fontName=SERIF_ITALIC, fontSize=12, leading=15.6),
        "title": _style("title", fontName=SERIF_BOLD, fontSize=14, leading=18, spaceBefore=2),
        "subtitle": _style("subtitle", fontName=SERIF_BOLD, fontSize=12, spaceAfter=4 * mm),
        "label": _style("label", alignment=TA_LEFT),
        "fact": _style("fact", alignment=TA_LEFT),
        "strong": _style("strong", fontName=SERIF_BOLD, alignment=TA_LEFT),
        "words": _style("words", alignment=TA_LEFT, spaceBefore=3 * mm),
        "role": _style("role", fontName=SERIF_BOLD, leading=15),
        "hint": _style("hint", fontName=SERIF_ITALIC, fontSize=10, leading=13),
        "name": _style("name", fontName=SERIF_BOLD, spaceBefore=20 * mm),
        "cell": _style("cell", fontName=SANS, fontSize=8, leading=9.2, alignment=TA_LEFT),
    }


def _text(value: object) -> str:
    """Paragraph markup for a value typed by a person: composed (NFC), so each letter is one
    glyph of the font, and escaped."""
    return escape(unicodedata.normalize("NFC", str(value)))


def _letterhead(context: dict, styles: dict) -> Table:
    head = context["head"]
    number = head["number"] or f"…/{head['symbol']}"
    issuer = [
        Paragraph(_text(head["superior"]), styles["superior"]),
        Paragraph(_text(head["issuer"]), styles["issuer"]),
        HRFlowable(
            width="28%",
            thickness=0.7,
            color=colors.black,
            spaceBefore=3,
            spaceAfter=3,
            hAlign="CENTER",
        ),
        Paragraph(f"Số: {_text(number)}", styles["number"]),
    ]
    motto = [
        Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", styles["republic"]),
        Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", styles["slogan"]),
        Spacer(1, 4),
        Paragraph(f"{_text(head['place'])}, {_text(context['date'])}", styles["place"]),
    ]
    table = Table([[issuer, motto]], colWidths=[WIDTH * 0.42, WIDTH * 0.58])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 3 * mm),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8 * mm),
            ]
        )
    )
    return table


def _opening(context: dict, styles: dict) -> list:
    batch, program = context["batch"], context["program"]
    facts = [
        ("Đơn vị:", Paragraph(_text(batch.unit.name), styles["strong"])),
        (
            "Chương trình:",
            Paragraph(f"{_text(program.name)} ({_text(batch.fund.name)})", styles["fact"]),
        ),
        ("Căn cứ:", Paragraph(_text(context["decision"]), styles["fact"])),
    ]
    table = Table(
        [[Paragraph(label, styles["label"]), value] for label, value in facts],
        colWidths=[WIDTH * 0.3, WIDTH * 0.7],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return [
        _letterhead(context, styles),
        Paragraph("DANH SÁCH KÝ NHẬN", styles["title"]),
        Paragraph(f"{_text(context['support'])} — {_text(program.name)}", styles["subtitle"]),
        table,
        Spacer(1, 2 * mm),
    ]


HEADINGS = ["STT", "Họ và tên", "Số thẻ đoàn viên", "Số tiền (đồng)", "Ký nhận"]


def _roster(page, context: dict, styles: dict, *, last: bool) -> Table:
    """One page's table: the heading, its rows, its subtotal and, on the last page, the
    total."""
    data: list[list] = [list(HEADINGS)]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, 0), SANS_BOLD, 9),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("FONT", (0, 1), (-1, -1), SANS, 10),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ("ALIGN", (3, 1), (3, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
    ]
    for row in page.rows:
        index = len(data)
        name: object = unicodedata.normalize("NFC", row.name)
        if row.child:
            name = Paragraph(
                f"{_text(row.name)}<br/><font name='{SERIF_ITALIC}' size='7'>"
                f"con: {_text(row.child)}</font>",
                styles["cell"],
            )
        elif (size := _fitting_size(row.name)) != 10:
            commands.append(("FONTSIZE", (1, index), (1, index), size))
        data.append([row.number, name, row.card, row.figures, ""])
    if not page.rows:
        data.append(["Không có người nhận.", "", "", "", ""])
        commands.append(("SPAN", (0, 1), (-1, 1)))
    endings = []
    if context["several"]:
        endings.append((f"Cộng trang {page.number}", page.figures, SANS_BOLD))
    if last:
        endings.append((f"Tổng cộng ({context['people']} người)", context["total"], SANS_BOLD))
    for label, figures, font in endings:
        index = len(data)
        data.append([label, "", "", figures, ""])
        commands += [
            ("SPAN", (0, index), (2, index)),
            ("ALIGN", (0, index), (0, index), "LEFT"),
            ("FONT", (0, index), (-1, index), font, 10),
        ]
    table = Table(data, colWidths=COLUMNS, rowHeights=ROW)
    table.setStyle(TableStyle(commands))
    return table


# The name column's room for text, within its padding.
NAME_ROOM = COLUMNS[1] - 7


def _fitting_size(name: str) -> float:
    """The name's size on its one line: 10 pt, or smaller until it fits (names never wrap:
    the rows have a fixed height)."""
    width = pdfmetrics.stringWidth(unicodedata.normalize("NFC", name), SANS, 10)
    if width <= NAME_ROOM:
        return 10
    return max(5.5, min(8, 10 * NAME_ROOM / width))


def _ending(context: dict, styles: dict) -> KeepTogether:
    blocks = []
    for block in context["signatures"]:
        cell = [Paragraph(_text(role), styles["role"]) for role in block["roles"]]
        if block["hint"]:
            cell.append(Paragraph(_text(block["hint"]), styles["hint"]))
        if block["name"]:
            cell.append(Paragraph(_text(block["name"]), styles["name"]))
        blocks.append(cell)
    widths = [WIDTH * 0.26, WIDTH * 0.26, WIDTH * 0.48][-len(blocks) :]
    signatures = Table([blocks], colWidths=widths)
    signatures.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    words = Paragraph(
        f"Tổng số tiền bằng chữ: <i>{_text(context['total_words'])}</i>.", styles["words"]
    )
    return KeepTogether([words, signatures])


def render(context: dict, *, total_pages: int | None = None) -> tuple[bytes, int]:
    """The list of ``signature_lists.signature_list_context`` as a PDF, and the pages it
    took.  Each page of the context is one page of the PDF, numbered "Trang n/N" with N
    ``total_pages`` (the pages counted by the pagination unless given)."""
    register_fonts()
    styles = _styles()
    pages = context["pages"]
    total = total_pages or len(pages)

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(SERIF, 9)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawCentredString(A4[0] / 2, BOTTOM / 2, f"Trang {document.page}/{total}")
        canvas.restoreState()

    output = io.BytesIO()
    document = BaseDocTemplate(
        output,
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=f"Danh sách ký nhận — {context['batch'].unit.name}",
        author=context["head"]["issuer"],
    )
    frame = Frame(LEFT, BOTTOM, WIDTH, A4[1] - TOP - BOTTOM, 0, 0, 0, 0, id="page")
    document.addPageTemplates([PageTemplate(id="list", frames=[frame], onPage=footer)])
    story: list = _opening(context, styles)
    for number, page in enumerate(pages, start=1):
        if number > 1:
            story.append(PageBreak())
        story.append(_roster(page, context, styles, last=number == len(pages)))
    story.append(_ending(context, styles))
    document.build(story)
    return output.getvalue(), document.page
