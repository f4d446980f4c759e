"""The report's charts as plain SVG, drawn once and used on the web page and in the PDF.

No JavaScript and no chart library: each function returns an ``<svg>`` string sized by its
``viewBox`` (it scales to the width of its container), in the active language, with the font
of the PDF ("Noto Sans", served to the web from the same npm package).  Amounts are drawn in
millions of đồng (triệu), written the Vietnamese way ("7,5", "1.234").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .figures import AnnualFigures
from .words import dong

WIDTH = 640
FONT = "'Noto Sans', 'Noto Serif', sans-serif"
THIS_YEAR = "#1f4e79"
LAST_YEAR = "#b4bfcc"
UNITS = "#2f7d6d"
GRID = "#d9dee5"
INK = "#222222"
MUTED = "#5b6470"
TOP_CHILDREN = 12


def _months() -> list[str]:
    return [
        pgettext("month abbreviation", "Jan"),
        pgettext("month abbreviation", "Feb"),
        pgettext("month abbreviation", "Mar"),
        pgettext("month abbreviation", "Apr"),
        pgettext("month abbreviation", "May"),
        pgettext("month abbreviation", "Jun"),
        pgettext("month abbreviation", "Jul"),
        pgettext("month abbreviation", "Aug"),
        pgettext("month abbreviation", "Sep"),
        pgettext("month abbreviation", "Oct"),
        pgettext("month abbreviation", "Nov"),
        pgettext("month abbreviation", "Dec"),
    ]


def millions(amount: int) -> str:
    """An amount in triệu, the Vietnamese way: 7_500_000 -> "7,5"; 1_234_000_000 -> "1.234"."""
    value = amount / 1_000_000
    if value == 0:
        return "0"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 0.1 else 2
    text = f"{value:,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _nice_step(maximum: float, ticks: int = 4) -> float:
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _svg(height: float, body: list[str], label: str) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height:g}" '
        f'preserveAspectRatio="xMidYMid meet" font-family="{FONT}" font-size="12" '
        f'fill="{INK}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, **attributes) -> str:
    extra = "".join(
        f' {name.strip("_").replace("_", "-")}="{value}"' for name, value in attributes.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def placeholder(label: str, message: str, height: int = 90) -> SafeString:
    """The chart of a year with nothing paid: a framed note (naming the years) instead of
    empty axes."""
    return _svg(
        height,
        [
            f'<rect class="placeholder" x="1" y="1" width="{WIDTH - 2}" height="{height - 2}" '
            f'fill="none" stroke="{GRID}" stroke-dasharray="6 4"/>',
            _text(WIDTH / 2, height / 2 + 5, message, text_anchor="middle", fill=MUTED),
        ],
        label,
    )


def month_chart(figures: AnnualFigures) -> SafeString:
    """Support paid by month, the report's year beside the year before (bars in triệu đồng)."""
    label = _("Support paid by month")
    current, previous = list(figures.by_month), list(figures.prev_by_month)
    top = max(current + previous)
    if top <= 0:
        return placeholder(
            label,
            _("No support was paid in %(year)s or %(prev_year)s.")
            % {"year": figures.year, "prev_year": figures.year - 1},
        )
    height, left, right, plot_top, plot_bottom = 270, 64, 10, 44, 240
    step = _nice_step(top / 1_000_000)
    ceiling = step * math.ceil(top / 1_000_000 / step)
    scale = (plot_bottom - plot_top) / ceiling

    body = [
        _text(left - 8, 18, _("million đồng"), fill=MUTED, font_size="11"),
    ]
    for index, (colour, year) in enumerate(
        ((LAST_YEAR, figures.year - 1), (THIS_YEAR, figures.year))
    ):
        x = WIDTH - right - 250 + index * 125
        body.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x + 17, 18, _("Year %(year)s") % {"year": year}, font_size="11"))
    tick = 0.0
    while tick <= ceiling + step / 1000:
        y = plot_bottom - tick * scale
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="{1.2 if tick == 0 else 0.6}"/>'
        )
        body.append(
            _text(
                left - 6,
                y + 4,
                millions(round(tick * 1_000_000)),
                text_anchor="end",
                fill=MUTED,
                font_size="11",
            )
        )
        tick += step
    group = (WIDTH - left - right) / 12
    bar = group * 0.36
    months = _months()
    for month in range(12):
        x0 = left + month * group + (group - 2 * bar - 2) / 2
        for offset, amount, colour, css, year in (
            (0, previous[month], LAST_YEAR, "previous", figures.year - 1),
            (bar + 2, current[month], THIS_YEAR, "current", figures.year),
        ):
            if amount <= 0:
                continue
            h = max(amount * scale / 1_000_000, 0.8)
            body.append(
                f'<rect class="bar {css}" data-month="{month + 1}" x="{x0 + offset:.1f}" '
                f'y="{plot_bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(months[month])}/{year}: {escape(dong(amount))}</title></rect>"
            )
        if current[month] > 0:
            h = current[month] * scale / 1_000_000
            body.append(
                _text(
                    x0 + bar + 2 + bar / 2,
                    plot_bottom - h - 4,
                    millions(current[month]),
                    text_anchor="middle",
                    font_size="9.5",
                    fill=THIS_YEAR,
                    # left out where the chart is small (a phone): the bars say it
                    class_="chart-secondary",
                )
            )
        body.append(
            _text(left + month * group + group / 2, plot_bottom + 17, months[month], **_middle())
        )
    return _svg(height, body, label)


def _middle() -> dict:
    return {"text_anchor": "middle", "font_size": "11.5"}


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(
    items: Sequence[tuple[str, int]],
    label: str,
    colour: str = THIS_YEAR,
    *,
    year: int,
    rest: int = 0,
) -> SafeString:
    """Horizontal bars, one per (label, amount) of ``year``, in the order given, amounts in
    triệu; the last ``rest`` bars (an "others" line) are drawn in a lighter colour."""
    items = [(name, amount) for name, amount in items if amount > 0]
    if not items:
        return placeholder(label, _("No support was paid in %(year)s.") % {"year": year})
    # Each name on a line of its own above its bar, over the whole width: a whole unit name
    # ("Công đoàn các Khu công nghiệp tỉnh Lạng Sơn") stays readable when the chart is drawn
    # small, on a phone, with larger letters.
    row, top, value_width = 46, 30, 70
    height = top + row * len(items)
    span = WIDTH - value_width
    largest = max(amount for _name, amount in items)
    body = [
        _text(WIDTH - 2, 16, _("million đồng"), text_anchor="end", fill=MUTED, font_size="11"),
    ]
    for index, (name, amount) in enumerate(items):
        y = top + index * row
        fill = LAST_YEAR if index >= len(items) - rest else colour
        width = max(span * amount / largest, 1.0)
        body.append(_text(0, y + 16, _shorten(name, 56)))
        body.append(
            f'<rect class="bar current" x="0" y="{y + 24}" width="{width:.1f}" '
            f'height="12" fill="{fill}"><title>{escape(name)}: '
            f"{escape(dong(amount))}</title></rect>"
        )
        body.append(_text(width + 5, y + 35, millions(amount), font_size="11"))
    return _svg(height, body, label)


def type_chart(figures: AnnualFigures) -> SafeString:
    """Support paid in the report's year by support type."""
    return bar_chart(
        [(row.label, row.amount) for row in figures.by_type],
        _("Support paid by type"),
        year=figures.year,
    )


def child_chart(figures: AnnualFigures) -> SafeString:
    """Support paid in the report's year by child unit: the twelve largest, then the others."""
    rows = sorted((row for row in figures.by_child if row.amount > 0), key=lambda row: -row.amount)
    items = [(row.label, row.amount) for row in rows[:TOP_CHILDREN]]
    rest = rows[TOP_CHILDREN:]
    if rest:
        items.append(
            (
                _("Other units (%(count)s)") % {"count": len(rest)},
                sum(row.amount for row in rest),
            )
        )
    return bar_chart(
        items, _("Support paid by unit"), colour=UNITS, year=figures.year, rest=1 if rest else 0
    )
