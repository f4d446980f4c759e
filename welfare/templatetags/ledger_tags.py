"""Money in templates: whole đồng the Vietnamese way ("1.100.900.000 ₫")."""

from django import template

from common.money import format_dong

register = template.Library()

MINUS = "\u2212"


@register.filter
def vnd(amount) -> str:
    """1100900000 -> "1.100.900.000 ₫"; empty for no amount."""
    if amount is None or amount == "":
        return ""
    amount = int(amount)
    return f"{MINUS}{format_dong(-amount)}" if amount < 0 else format_dong(amount)


@register.filter
def signed_vnd(amount) -> str:
    """A ledger movement: "+1.500.000 ₫" in, the same with a minus sign out."""
    if amount is None or amount == "":
        return ""
    amount = int(amount)
    return f"+{format_dong(amount)}" if amount > 0 else vnd(amount)
