"""Amounts as Vietnamese readers write them: whole đồng, dots between thousands."""


def format_dong(amount: int) -> str:
    """1100900000 -> "1.100.900.000 ₫", the Vietnamese way."""
    return f"{amount:,} ₫".replace(",", ".")
