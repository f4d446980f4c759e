"""The report's tables as a workbook: one sheet per table, in Vietnamese, numbers as numbers."""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from common.exports import text_not_formulas

from ..cases.models import SupportType
from .figures import AnnualFigures, Row
from .pdf import in_vietnamese

NUMBER = "#,##0"
PERCENT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="DCE3EC")
TOTAL_FILL = PatternFill("solid", fgColor="F2F4F7")
THIN = Side(style="thin", color="9AA3AE")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def render_xlsx(figures: AnnualFigures) -> bytes:
    with translation.override("vi"):
        workbook = build_workbook(in_vietnamese(figures))
    output = io.BytesIO()
    text_not_formulas(workbook).save(output)  # a program or union named "=..." stays a name
    return output.getvalue()


def build_workbook(figures: AnnualFigures) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the blank sheet a new workbook starts with
    year, prev = figures.year, figures.year - 1
    workbook.properties.title = _("Social-security report %(year)s") % {"year": year}
    workbook.properties.subject = figures.union.name
    workbook.properties.creator = figures.union.name

    _summary(workbook.create_sheet(_("Summary")), figures)
    for title, name_header, rows in (
        (_("By support type"), _("Support type"), figures.by_type),
        (_("By hardship category"), _("Hardship category"), figures.by_category),
        (_("By fund"), _("Fund"), figures.by_fund),
        (_("By unit"), _("Unit"), figures.by_child),
    ):
        _breakdown(
            workbook.create_sheet(title),
            name_header,
            rows,
            year,
            prev,
            children=rows is figures.by_type,
        )
    _months(workbook.create_sheet(_("By month")), figures)
    _organisation(workbook.create_sheet(_("Organisation")), figures)
    _breakdown(workbook.create_sheet(_("Programs")), _("Program"), figures.programs, year, prev)
    _loans(workbook.create_sheet(_("Loans")), figures)
    _contributions(workbook.create_sheet(_("Contributions")), figures)
    _contributions(
        workbook.create_sheet(_("Campaigns")),
        figures,
        rows=figures.campaigns,
        name_header=_("Campaign"),
        count_header=_("Contributions"),
    )
    return workbook


def _year(year: int) -> str:
    return _("Year %(year)s") % {"year": year}


def _header(sheet: Worksheet, titles: list[str]) -> None:
    sheet.append(titles)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 32


def _finish(sheet: Worksheet, widths: list[int], total: bool = False) -> None:
    """Number formats, borders, widths, and a bold totals row when there is one."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.border = BORDER
            if isinstance(cell.value, int | float) and cell.number_format == "General":
                cell.number_format = NUMBER
    if total and sheet.max_row > 1:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
            cell.fill = TOTAL_FILL
    for index, width in enumerate(widths, start=1):
        longest = max(
            (len(str(cell.value)) for cell in sheet[get_column_letter(index)][1:] if cell.value),
            default=0,
        )
        sheet.column_dimensions[get_column_letter(index)].width = max(width, min(longest + 2, 60))


def _percent(now: int, before: int) -> float | None:
    return round((now - before) / before, 4) if before else None


def _summary(sheet: Worksheet, figures: AnnualFigures) -> None:
    year, prev = figures.year, figures.year - 1
    _header(
        sheet,
        [
            _("Item"),
            _year(year),
            _year(prev),
            _("Increase or decrease"),
            _("Increase or decrease") + " (%)",
        ],
    )
    totals, before = figures.totals, figures.prev_totals
    outside = (totals.people_without_membership, before.people_without_membership)
    lines = [
        (_("Cases supported"), totals.cases, before.cases),
        (_("People supported"), totals.people, before.people),
        *([(_("of whom not in the member list that year"), *outside)] if any(outside) else []),
        (_("Support turns"), totals.turns, before.turns),
        (_("Total amount (đồng)"), totals.amount, before.amount),
    ]
    organisations = figures.organisations
    if organisations is not None and (organisations.cases or organisations.prev_cases):
        # Part of the turns and the amount above, none of the people.
        lines += [
            (
                _("of which records for organisations and groups"),
                organisations.cases,
                organisations.prev_cases,
            ),
            (
                _("of which amount given to organisations and groups (đồng)"),
                organisations.amount,
                organisations.prev_amount,
            ),
        ]
    for label, now, then in lines:
        sheet.append([label, now, then, now - then, _percent(now, then)])
        sheet.cell(sheet.max_row, 5).number_format = PERCENT
    _finish(sheet, [34, 16, 16, 18, 12])
    # What the figures cover, under the table.
    sheet.append([])
    for label, value in (
        (_("Union"), figures.union.name),
        (_("Year"), year),
        (_("Figures up to"), figures.as_of),
    ):
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.cell(sheet.max_row, 2).alignment = Alignment(horizontal="left")
    sheet.cell(sheet.max_row, 2).number_format = "DD/MM/YYYY"


# The support types whose records name the child they went to.
FOR_A_CHILD = (SupportType.SAVINGS_BOOK, SupportType.SCHOLARSHIP)


def _breakdown(
    sheet: Worksheet,
    name_header: str,
    rows: list[Row],
    year: int,
    prev: int,
    *,
    children: bool = False,
) -> None:
    """A breakdown's sheet; with ``children``, a last column of the children the year's
    savings books and scholarships went to."""
    turns, people, amount = _("Turns"), _("People"), _("Amount (đồng)")
    extra = [f"{_('Children supported')} {year}"] if children else []
    _header(
        sheet,
        [
            _("No."),
            name_header,
            f"{turns} {year}",
            f"{people} {year}",
            f"{amount} {year}",
            f"{turns} {prev}",
            f"{amount} {prev}",
            _("Increase or decrease"),
            _("Increase or decrease") + " (%)",
            *extra,
        ],
    )
    for number, row in enumerate(rows, start=1):
        sheet.append(
            [
                number,
                row.label,
                row.cases,
                row.people,
                row.amount,
                row.prev_cases,
                row.prev_amount,
                row.change,
                _percent(row.amount, row.prev_amount),
                *([row.children if row.key in FOR_A_CHILD else None] if children else []),
            ]
        )
        sheet.cell(sheet.max_row, 9).number_format = PERCENT
    now, before = sum(r.amount for r in rows), sum(r.prev_amount for r in rows)
    # People are not added up: one person may be counted under several rows.
    sheet.append(
        [
            None,
            _("Total"),
            sum(r.cases for r in rows),
            None,
            now,
            sum(r.prev_cases for r in rows),
            before,
            now - before,
            _percent(now, before),
        ]
    )
    sheet.cell(sheet.max_row, 9).number_format = PERCENT
    for cell in sheet["A"][1:]:
        cell.alignment = Alignment(horizontal="center")
    _finish(sheet, [6, 36, 11, 11, 18, 11, 18, 18, 11, *([11] if children else [])], total=True)


def _months(sheet: Worksheet, figures: AnnualFigures) -> None:
    year, prev = figures.year, figures.year - 1
    _header(sheet, [_("Month"), _year(year), _year(prev), _("Increase or decrease")])
    for month, (now, then) in enumerate(
        zip(figures.by_month, figures.prev_by_month, strict=True), start=1
    ):
        sheet.append([_("Month %(month)s") % {"month": month}, now, then, now - then])
    now, then = sum(figures.by_month), sum(figures.prev_by_month)
    sheet.append([_("Total"), now, then, now - then])
    _finish(sheet, [14, 18, 18, 18], total=True)


def _organisation(sheet: Worksheet, figures: AnnualFigures) -> None:
    organisation = figures.organisation
    assert organisation is not None  # a workbook is built from the full figures
    _header(sheet, [_("Item"), _("As at %(date)s") % {"date": figures.as_of.strftime("%d/%m/%Y")}])
    for label, value in (
        (_("Union members"), organisation.members),
        (_("Non-member workers"), organisation.workers),
        (_("Grassroots unions"), organisation.grassroots_units),
        (_("New members in %(year)s") % {"year": figures.year}, organisation.joined),
        (_("Members who left in %(year)s") % {"year": figures.year}, organisation.left),
    ):
        sheet.append([label, value])
    _finish(sheet, [40, 16])


def _loans(sheet: Worksheet, figures: AnnualFigures) -> None:
    """The loan fund's year beside the year before, then by child unit."""
    year, prev = figures.year, figures.year - 1
    loans = figures.loans
    assert loans is not None  # a workbook is built from the full figures
    _header(
        sheet,
        [
            _("Item"),
            _year(year),
            _year(prev),
            _("Increase or decrease"),
            _("Increase or decrease") + " (%)",
        ],
    )
    now, before = loans.now, loans.before
    for label, name in (
        (_("Loans disbursed"), "disbursed_loans"),
        (_("Amount disbursed"), "disbursed"),
        (_("Principal repaid"), "principal_repaid"),
        (_("Interest paid"), "interest_paid"),
        (_("Written off"), "written_off"),
        (_("Recovered after write-off"), "recovered"),
        (_("Borrowers with a loan outstanding at year end"), "borrowers"),
        (_("Principal outstanding at year end"), "outstanding"),
        (_("of which overdue"), "overdue"),
        (_("of which overdue over 30 days"), "at_risk_30"),
    ):
        a, b = getattr(now, name), getattr(before, name)
        sheet.append([label, a, b, a - b, _percent(a, b)])
        sheet.cell(sheet.max_row, 5).number_format = PERCENT
    sheet.append(
        [_("Portfolio at risk over 30 days") + " (%)", now.par_30 / 100, before.par_30 / 100]
    )
    for column in (2, 3):
        sheet.cell(sheet.max_row, column).number_format = PERCENT
    _finish(sheet, [44, 18, 18, 18, 12])
    if not loans.by_child:
        return
    sheet.append([])
    titles = [
        _("Unit"),
        _("Disbursed in %(year)s") % {"year": year},
        _("Repaid in %(year)s") % {"year": year},
        _("Borrowers"),
        _("Outstanding"),
        _("of which overdue"),
    ]
    sheet.append(titles)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
    for row in loans.by_child:
        sheet.append(
            [
                row.label,
                row.now.disbursed,
                row.now.principal_repaid,
                row.now.borrowers,
                row.now.outstanding,
                row.now.overdue,
            ]
        )
        for cell in sheet[sheet.max_row]:
            cell.border = BORDER
            if isinstance(cell.value, int):
                cell.number_format = NUMBER


def _contributions(
    sheet: Worksheet,
    figures: AnnualFigures,
    *,
    rows: list[Row] | None = None,
    name_header: str = "",
    count_header: str = "",
) -> None:
    """Contributions recorded in the funds' ledgers, by fund (or the ``rows`` given: by
    campaign), for both years."""
    year, prev = figures.year, figures.year - 1
    count, amount = count_header or _("Entries"), _("Amount (đồng)")
    _header(
        sheet,
        [
            _("No."),
            name_header or _("Fund"),
            f"{count} {year}",
            f"{amount} {year}",
            f"{count} {prev}",
            f"{amount} {prev}",
            _("Increase or decrease"),
            _("Increase or decrease") + " (%)",
        ],
    )
    rows = figures.contributions if rows is None else rows
    for number, row in enumerate(rows, start=1):
        sheet.append(
            [
                number,
                row.label,
                row.cases,
                row.amount,
                row.prev_cases,
                row.prev_amount,
                row.change,
                _percent(row.amount, row.prev_amount),
            ]
        )
        sheet.cell(sheet.max_row, 8).number_format = PERCENT
    now, before = sum(r.amount for r in rows), sum(r.prev_amount for r in rows)
    sheet.append(
        [
            None,
            _("Total"),
            sum(r.cases for r in rows),
            now,
            sum(r.prev_cases for r in rows),
            before,
            now - before,
            _percent(now, before),
        ]
    )
    sheet.cell(sheet.max_row, 8).number_format = PERCENT
    _finish(sheet, [6, 36, 13, 18, 13, 18, 18, 11], total=True)
