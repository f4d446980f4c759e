"""The annual report as a PDF, by WeasyPrint, in the union's document format.

Always in Vietnamese.  The fonts are Noto Serif (text) and Noto Sans (tables and charts) from
the project's own npm packages (@fontsource/noto-serif, @fontsource/noto-sans), loaded from
``settings.NODE_MODULES``: each face's latin and vietnamese subsets are merged into one file
(see ``font_file``), so every letter with its diacritics comes from Noto and nothing falls back
to a system font.  The print CSS is the PDF's own (static/reports/print.css), not Bootstrap.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import io
import json
import logging
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from unions.models import Unit, UnitKind

from ..models import Category, SupportType
from . import charts
from .figures import AnnualFigures, Loans, Row
from .narrative import shelters as shelter_lines
from .words import dong, number

TEMPLATE = "welfare/reports/annual_pdf.html"
PRINT_CSS = "reports/print.css"
NATIONAL_BODY = "Tổng Liên đoàn Lao động Việt Nam"
NATIONAL_BODY_SHORT = "TỔNG LĐLĐ VIỆT NAM"

REGULAR, BOLD = (400, "normal"), (700, "normal")
ITALIC, BOLD_ITALIC = (400, "italic"), (700, "italic")
# (family, npm package, [(weight, style)])
FONTS = [
    ("Noto Serif", "noto-serif", [REGULAR, BOLD, ITALIC, BOLD_ITALIC]),
    ("Noto Sans", "noto-sans", [REGULAR, BOLD]),
]
# Vietnamese needs latin (with the vowels à á â ã è é ê ì í ò ó ô õ ù ú ý) and vietnamese
# (ă đ ĩ ũ ơ ư, the letters with two marks and ₫); latin-ext adds no Vietnamese letter.
SUBSETS = ("latin", "vietnamese")
MINUS = "\u2212"
FONT_BUILD = 2  # bump when font_file() changes what it writes

# WeasyPrint logs every layout step, and fontTools every font it subsets, at INFO: one PDF
# would fill the worker's log.  Quietened unless the settings' LOGGING says otherwise.
for _name in ("weasyprint.progress", "fontTools"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)


def render_pdf(figures: AnnualFigures, *, narrative: str, report) -> bytes:
    """The report's PDF, dated the day it is built.  ``report`` may be unsaved (the command
    line does not store its runs)."""
    with translation.override("vi"):  # the labels computed by context() too
        return render_document(TEMPLATE, context(figures, narrative=narrative, report=report))


def render_document(template: str, context: dict, *, extra_css: str = "") -> bytes:
    """Any document in the union's format (the report, a case's decision or voucher): the
    template rendered in Vietnamese, with the print CSS and the merged Noto fonts."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    with translation.override("vi"):
        html: str = render_to_string(template, context)
    # Text typed or imported with combining marks ("Unicode tổ hợp") is composed, so every
    # letter is one glyph of the font and the PDF's text comes back as it is usually typed.
    html = unicodedata.normalize("NFC", html)
    font_config = FontConfiguration()
    stylesheets = [
        CSS(string=font_faces(), font_config=font_config),
        CSS(filename=print_css(), font_config=font_config),
    ]
    if extra_css:
        stylesheets.append(CSS(string=extra_css, font_config=font_config))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=stylesheets, font_config=font_config
    )


def print_css() -> str:
    path = finders.find(PRINT_CSS)
    if not path:
        raise FileNotFoundError(PRINT_CSS)
    return str(path)


def font_files(package: str, weight: int, style: str) -> list[Path]:
    files = Path(settings.NODE_MODULES) / "@fontsource" / package / "files"
    paths = [files / f"{package}-{subset}-{weight}-{style}.woff" for subset in SUBSETS]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `npm ci` (make install)")
    return paths


def _version(package: str) -> str:
    path = Path(settings.NODE_MODULES) / "@fontsource" / package / "package.json"
    return json.loads(path.read_text())["version"]


def _cache_dir() -> Path:
    folder = Path(settings.BASE_DIR) / "var" / "fonts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only install: build them once per process
        folder = Path(tempfile.mkdtemp(prefix="tuongthan-fonts-"))
    return folder


@functools.cache
def font_file(package: str, weight: int, style: str) -> Path:
    """One TrueType file with the package's latin and vietnamese subsets merged.

    @fontsource ships each script as its own file.  Declared side by side with unicode-range,
    WeasyPrint embeds them under one PDF font name (the family, weight and style) and the
    glyphs get mixed up ("Độc lậĐ"), so the subsets are merged once with fontTools (a
    WeasyPrint dependency) and kept under var/fonts, named by the package's version.
    """
    import fontTools
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    name = f"{package}-{_version(package)}-{weight}-{style}-ft{fontTools.version}-{FONT_BUILD}.ttf"
    target = _cache_dir() / name
    if target.exists():
        return target
    quiet = logging.getLogger("fontTools")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        parts = []
        for path in font_files(package, weight, style):
            font = TTFont(path)
            font.flavor = None
            part = io.BytesIO()
            font.save(part)
            part.seek(0)
            parts.append(part)
        merged = Merger().merge(parts)
        _keep_precomposed(merged)
    finally:
        quiet.setLevel(level)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".merging-", suffix=".ttf")
    try:
        with os.fdopen(handle, "wb") as output:
            merged.save(output)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _keep_precomposed(font) -> None:
    """Drop the 'ccmp' lookups that split a letter into base and mark (Noto Sans writes "ọ" as
    "o" + dot below): WeasyPrint then maps the mark back to the wrong letter in the PDF's text
    ("Học" is extracted as "H ọc", "ụ" as "ọ").  Vietnamese text is composed (NFC) and every
    letter has its own glyph, so nothing is lost."""
    if "GSUB" not in font:
        return
    table = font["GSUB"].table
    lookups = table.LookupList.Lookup

    def splits(index: int) -> bool:
        lookup = lookups[index]
        kind = lookup.LookupType
        if kind == 7:  # extension
            kind = lookup.SubTable[0].ExtensionLookupType
        return kind == 2  # multiple substitution: one glyph into several

    for record in table.FeatureList.FeatureRecord:
        if record.FeatureTag == "ccmp":
            kept = [index for index in record.Feature.LookupListIndex if not splits(index)]
            record.Feature.LookupListIndex = kept
            record.Feature.LookupCount = len(kept)


@functools.cache
def font_faces() -> str:
    """@font-face rules pointing at the merged Noto files."""
    return "\n".join(
        f"@font-face {{ font-family: '{family}'; font-weight: {weight}; font-style: {style}; "
        f"src: url('{font_file(package, weight, style).as_uri()}') format('truetype'); }}"
        for family, package, faces in FONTS
        for weight, style in faces
    )


# --- the document header ---------------------------------------------------------------------

PLACE_PREFIX = re.compile(r"^\s*(liên đoàn lao động|lđlđ)\s+(tỉnh|thành phố|tp\.?)?\s*", re.I)


def place_name(root_name: str) -> str:
    """ "Liên đoàn Lao động tỉnh Lạng Sơn" -> "Lạng Sơn": the place a document is issued at."""
    place = PLACE_PREFIX.sub("", root_name).strip() or root_name
    return "Thành phố Hồ Chí Minh" if place == "Hồ Chí Minh" else place


def document_date(day: datetime.date) -> str:
    """ "ngày 05 tháng 02 năm 2026": a zero before days under 10 and the months 1 and 2."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


NBSP = "\u00a0"
# The words after which a union's name says its place: the place is one proper name.
PLACE_WORDS = (
    "THÀNH PHỐ",
    "THỊ XÃ",
    "THỊ TRẤN",
    "ĐẶC KHU",
    "TỈNH",
    "PHƯỜNG",
    "XÃ",
    "QUẬN",
    "HUYỆN",
)


def unbroken_place(name: str) -> str:
    """A union's name in capitals whose place never breaks across lines ("LIÊN ĐOÀN LAO ĐỘNG
    TỈNH / LẠNG SƠN", never "... TỈNH LẠNG / SƠN"): the words after the last place word are
    joined by no-break spaces, or, without one, the last two words."""
    words = name.split()
    last = None
    for index in range(len(words)):
        for place in PLACE_WORDS:
            size = len(place.split())
            if " ".join(words[index : index + size]) == place:
                last = index + size
    if last is not None and 1 <= len(words) - last <= 4:
        keep = len(words) - last
    else:
        keep = min(2, len(words))
    if keep < 2:
        return name
    return " ".join([*words[:-keep], NBSP.join(words[-keep:])])


def header(union: Unit) -> dict:
    """The superior body and place, from today's tree."""
    if union.parent_id is None:
        superior, superior_full, root = NATIONAL_BODY_SHORT, NATIONAL_BODY, union
    else:
        parent = Unit.objects.only("name").get(pk=union.parent_id)
        superior, superior_full = unbroken_place(parent.name.upper()), parent.name
        root_id = union.ancestor_ids()[0]
        root = parent if root_id == parent.pk else Unit.objects.only("name").get(pk=root_id)
    return {
        "superior": superior,
        "superior_full": superior_full,
        "issuer": unbroken_place(union.name.upper()),
        "symbol": f"BC-{union.code.upper()}",
        "place": place_name(root.name),
        "signatory": (
            "TM. BAN CHẤP HÀNH" if union.kind == UnitKind.GRASSROOTS else "TM. BAN THƯỜNG VỤ"
        ),
    }


SIGN = "(Ký, ghi rõ họ tên)"
SIGN_AND_SEAL = "(Ký tên, đóng dấu)"


def signature(*roles: str, hint: str = SIGN, name: str = "", css: str = "") -> dict:
    """One signature block of pdf_signatures.html: its title lines, the hint under them and,
    when the portal knows who signs, the name printed under the space left for the hand."""
    css = f"{css} named".strip() if name else css
    return {"roles": roles, "hint": hint, "name": name, "css": css}


def head_signature(head: dict) -> dict:
    return signature(head["signatory"], "CHỦ TỊCH", hint=SIGN_AND_SEAL, css="head")


# --- the tables --------------------------------------------------------------------------------


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else MINUS if value < 0 else ""
    return f"{sign}{abs(value):.1f}".replace(".", ",") + "%"


def change_of(now: int, before: int) -> str:
    if not before:
        return "—" if not now else _("new")
    return percent(round(100 * (now - before) / before, 1))


def share(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + "%"


def signed(value: int, money: bool = False) -> str:
    text = dong(abs(value)) if money else number(abs(value))
    return ("+" if value > 0 else MINUS if value < 0 else "") + text


def table(rows: list[Row], *, total: bool = True, children: bool = False) -> dict:
    """A breakdown as formatted cells: turns and amounts in the year and the year before, and
    the change; with ``children``, the children the year's records went to (savings books,
    scholarships; blank on the other rows)."""
    lines = [
        {
            "label": row.label,
            "children": (
                number(row.children)
                if row.key in (SupportType.SAVINGS_BOOK, SupportType.SCHOLARSHIP)
                else ""
            ),
            "cases": number(row.cases),
            "amount": dong(row.amount),
            "prev_cases": number(row.prev_cases),
            "prev_amount": dong(row.prev_amount),
            "change": change_of(row.amount, row.prev_amount),
        }
        for row in rows
    ]
    result: dict[str, Any] = {"rows": lines, "total": None, "with_children": children}
    if total and rows:
        now, before = sum(r.amount for r in rows), sum(r.prev_amount for r in rows)
        result["total"] = {
            "cases": number(sum(r.cases for r in rows)),
            "amount": dong(now),
            "prev_cases": number(sum(r.prev_cases for r in rows)),
            "prev_amount": dong(before),
            "change": change_of(now, before),
        }
    return result


def organisation_lines(row: Row | None) -> list[tuple[str, str, str, str, str]]:
    """The totals' lines of the support given to organisations and groups: part of the turns
    and the amount above, none of the people."""
    if row is None or not (row.cases or row.prev_cases):
        return []
    return [
        (
            _("of which records for organisations and groups"),
            number(row.cases),
            number(row.prev_cases),
            signed(row.cases - row.prev_cases),
            change_of(row.cases, row.prev_cases),
        ),
        (
            _("of which amount given to organisations and groups"),
            dong(row.amount),
            dong(row.prev_amount),
            signed(row.amount - row.prev_amount, money=True),
            change_of(row.amount, row.prev_amount),
        ),
    ]


def loan_measures(loans: Loans) -> list[tuple[str, str, str, str]]:
    """Section V's lines: the year's lending, then the portfolio on the year's last day, each
    with the year before and the change.  Interest and recoveries only where there were any
    (most funds lend at 0 %)."""
    now, before = loans.now, loans.before

    def count(label: str, name: str) -> tuple[str, str, str, str]:
        a, b = getattr(now, name), getattr(before, name)
        return (label, number(a), number(b), change_of(a, b))

    def money(label: str, name: str) -> tuple[str, str, str, str]:
        a, b = getattr(now, name), getattr(before, name)
        return (label, dong(a), dong(b), change_of(a, b))

    lines = [
        count(_("Loans disbursed"), "disbursed_loans"),
        money(_("Amount disbursed"), "disbursed"),
        money(_("Principal repaid"), "principal_repaid"),
    ]
    if now.interest_paid or before.interest_paid:
        lines.append(money(_("Interest paid"), "interest_paid"))
    if now.written_off or before.written_off:
        lines.append(money(_("Written off"), "written_off"))
    if now.recovered or before.recovered:
        lines.append(money(_("Recovered after write-off"), "recovered"))
    lines += [
        count(_("Borrowers with a loan outstanding at year end"), "borrowers"),
        money(_("Principal outstanding at year end"), "outstanding"),
        money(_("of which overdue"), "overdue"),
        (
            _("Portfolio at risk over 30 days"),
            share(now.par_30),
            share(before.par_30),
            "",
        ),
    ]
    return lines


def loan_units(loans: Loans) -> list[dict[str, str]]:
    return [
        {
            "label": row.label,
            "disbursed": dong(row.now.disbursed),
            "borrowers": number(row.now.borrowers),
            "outstanding": dong(row.now.outstanding),
            "overdue": dong(row.now.overdue),
        }
        for row in loans.by_child
    ]


def in_vietnamese(figures: AnnualFigures) -> AnnualFigures:
    """The figures with the support types and hardship categories named in Vietnamese, whatever
    language was active when they were computed."""
    types, categories = dict(SupportType.choices), dict(Category.choices)

    def relabel(rows: list[Row], labels: dict) -> list[Row]:
        return [
            dataclasses.replace(row, label=str(labels[row.key])) if row.key in labels else row
            for row in rows
        ]

    return dataclasses.replace(
        figures,
        by_type=relabel(figures.by_type, types),
        by_category=relabel(figures.by_category, categories),
        highlighted=relabel(figures.highlighted, types),
    )


def context(figures: AnnualFigures, *, narrative: str, report) -> dict:
    figures = in_vietnamese(figures)
    totals, prev = figures.totals, figures.prev_totals
    organisation = figures.organisation
    assert organisation is not None  # a report is built from the full figures
    built_on = timezone.localdate()
    head = header(figures.union)
    # A grassroots union has no unions under it: no "and the unions under it", no copy
    # for them, no breakdown by unit.
    has_children = figures.union.kind != UnitKind.GRASSROOTS
    organisation_rows = [
        (_("Union members"), number(organisation.members)),
        (_("Non-member workers"), number(organisation.workers)),
        (_("New members in %(year)s") % {"year": figures.year}, number(organisation.joined)),
        (
            _("Members who left in %(year)s") % {"year": figures.year},
            number(organisation.left),
        ),
    ]
    years = {"year": figures.year, "prev_year": figures.year - 1}
    chart_list = [
        (
            _("Support paid by month in %(year)s and %(prev_year)s (million đồng)") % years,
            charts.month_chart(figures),
        ),
        (_("Support paid by type in %(year)s (million đồng)") % years, charts.type_chart(figures)),
    ]
    if has_children:
        organisation_rows.insert(2, (_("Grassroots unions"), number(organisation.grassroots_units)))
        chart_list.append(
            (
                _("Support paid by unit in %(year)s (million đồng)") % years,
                charts.child_chart(figures),
            )
        )
    return {
        "figures": figures,
        "year": figures.year,
        "prev_year": figures.year - 1,
        "union": figures.union,
        "head": head,
        "date": document_date(built_on),
        "as_of": figures.as_of,
        "in_progress": figures.as_of < datetime.date(figures.year, 12, 31),
        "narrative": narrative.strip(),
        "shelters": shelter_lines(figures),
        "organisation": organisation_rows,
        "totals": [
            (
                _("Cases supported"),
                number(totals.cases),
                number(prev.cases),
                signed(totals.cases - prev.cases),
                change_of(totals.cases, prev.cases),
            ),
            (
                _("People supported"),
                number(totals.people),
                number(prev.people),
                signed(totals.people - prev.people),
                change_of(totals.people, prev.people),
            ),
            (
                _("Support turns"),
                number(totals.turns),
                number(prev.turns),
                signed(totals.turns - prev.turns),
                change_of(totals.turns, prev.turns),
            ),
            (
                _("Total amount"),
                dong(totals.amount),
                dong(prev.amount),
                signed(totals.amount - prev.amount, money=True),
                change_of(totals.amount, prev.amount),
            ),
            *organisation_lines(figures.organisations),
        ],
        # Under "People supported", unnumbered: those of them on no member list that year.
        "without_membership": (
            (
                _("of whom not in the member list that year"),
                number(totals.people_without_membership),
                number(prev.people_without_membership),
                signed(totals.people_without_membership - prev.people_without_membership),
                change_of(totals.people_without_membership, prev.people_without_membership),
            )
            if totals.people_without_membership or prev.people_without_membership
            else None
        ),
        "total_amount": dong(totals.amount),
        "by_type": table(figures.by_type),
        "by_category": table(figures.by_category),
        "by_fund": table(figures.by_fund),
        "by_child": table(figures.by_child),
        "highlighted": table(figures.highlighted, total=False, children=True),
        "programs": table(figures.programs),
        "loans": figures.loans if figures.loans and figures.loans.any else None,
        "loan_measures": loan_measures(figures.loans) if figures.loans else [],
        "loan_units": loan_units(figures.loans) if figures.loans else [],
        "contributions": table(figures.contributions),
        "campaigns": table(figures.campaigns),
        "charts": chart_list,
        "has_children": has_children,
        "signatures": [signature("Người lập"), signature("Kế toán"), head_signature(head)],
        "recipients": [
            f"{head['superior_full']} (để báo cáo);",
            *(["Các công đoàn trực thuộc;"] if has_children else []),
            "Lưu: VT.",
        ],
        "report": report,
    }
