"""Amounts written the Vietnamese way: "1.100.900.000 ₫" in tables, "1,1 tỷ đồng" in prose."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from common.money import format_dong, format_number

UNITS = [(1_000_000_000, "tỷ"), (1_000_000, "triệu"), (1_000, "nghìn")]


# The report is written inside translation.override("vi"): these group thousands with dots.
dong = format_dong
number = format_number


def short_dong(amount: int) -> str:
    """1_100_900_000 -> "1,1 tỷ đồng"; 120_000_000 -> "120 triệu đồng"."""
    for size, name in UNITS:
        if abs(amount) >= size:
            value = (Decimal(amount) / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{value:f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"{text} {name} đồng"
    return f"{amount} đồng"
