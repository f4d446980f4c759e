"""Amounts written the Vietnamese way: "1.100.900.000 ₫" in tables, "1,1 tỷ đồng" in prose."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from common.money import format_dong, format_number

UNITS = [(1_000_000_000, "tỷ"), (1_000_000, "triệu"), (1_000, "nghìn")]
# Said before a rounded amount, so the prose never claims more (or less) than the records:
# "gần 3 tỷ" is a little under 3 billion, "hơn 2,97 tỷ" a little over 2.97 billion.
NEARLY, OVER = "gần", "hơn"


# The report is written inside translation.override("vi"): these group thousands with dots.
dong = format_dong
number = format_number


def short_dong(amount: int) -> str:
    """120_000_000 -> "120 triệu đồng"; 2_973_300_000 -> "hơn 2,97 tỷ đồng"; 14_183_333 ->
    "gần 14,2 triệu đồng".  Two decimals under ten of a unit, one under a thousand, none
    above; an amount shown rounded says which way ("gần" when the figure
    shown is above the amount, "hơn" when below), so the prose never rounds up unsaid."""
    for index, (size, name) in enumerate(UNITS):
        if abs(amount) < size:
            continue
        shown, exact = _rounded(amount, size)
        if abs(shown) >= 1000 and index > 0:  # 999.960.000 is nearly 1 tỷ, not 1.000 triệu
            size, name = UNITS[index - 1]
            shown, exact = _rounded(amount, size)
        text = f"{shown:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        prefix = "" if shown == exact else (NEARLY if shown > exact else OVER) + " "
        return f"{prefix}{_group(text)} {name} đồng"
    return f"{format_number(amount)} đồng"


def _rounded(amount: int, size: int) -> tuple[Decimal, Decimal]:
    exact = Decimal(amount) / size
    places = Decimal("0.01") if abs(exact) < 10 else Decimal("0.1")
    if abs(exact) >= 1000:
        places = Decimal("1")
    return exact.quantize(places, rounding=ROUND_HALF_UP), exact


def _group(text: str) -> str:
    """ "1234.5" -> "1.234,5": thousands with dots and the decimal comma."""
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + ".".join(groups) + ("," + fraction if fraction else "")
