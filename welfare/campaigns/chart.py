"""A campaign's money raised over time as a plain SVG column chart, drawn like the report's
charts (``welfare/reports/charts.py``): no JavaScript, amounts in triệu."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from welfare.reports.charts import GRID, MUTED, THIS_YEAR, WIDTH, _svg, _text, millions, placeholder
from welfare.reports.words import dong


def month_columns(items: Sequence[tuple[datetime.date, int]], label: str) -> SafeString:
    """One column per month (``items`` in order, each month's first day and amount)."""
    if not any(amount for _month, amount in items):
        return placeholder(label, _("Nothing has been raised yet."))
    top, bottom, height = 24, 36, 220
    span = height - top - bottom
    largest = max(amount for _month, amount in items)
    slot = WIDTH / len(items)
    bar = min(56.0, slot * 0.6)
    body = [
        _text(WIDTH - 2, 14, _("million đồng"), text_anchor="end", fill=MUTED, font_size="11"),
        f'<line x1="0" y1="{height - bottom}" x2="{WIDTH}" y2="{height - bottom}" '
        f'stroke="{GRID}"/>',
    ]
    for index, (month, amount) in enumerate(items):
        x = index * slot + (slot - bar) / 2
        tall = span * amount / largest if largest else 0
        y = height - bottom - tall
        name = month.strftime("%m/%Y")
        body.append(
            f'<rect class="bar current" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{max(tall, 1):.1f}" fill="{THIS_YEAR}"><title>{escape(name)}: '
            f"{escape(dong(amount))}</title></rect>"
        )
        middle = x + bar / 2
        body.append(_text(middle, y - 4, millions(amount), text_anchor="middle", font_size="11"))
        body.append(_text(middle, height - bottom + 16, name, text_anchor="middle", font_size="11"))
    return _svg(height, body, label)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first days of the months from ``start``'s to ``end``'s, both included."""
    month, last, months = start.replace(day=1), end.replace(day=1), []
    while month <= last:
        months.append(month)
        month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return months
