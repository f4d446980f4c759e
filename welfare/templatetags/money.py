from django import template

from common.money import format_dong

register = template.Library()


@register.filter
def dong(amount) -> str:
    """An amount in whole đồng as Vietnamese read it: 1100900000 -> "1.100.900.000 ₫"."""
    if amount is None or amount == "":
        return ""
    return format_dong(int(amount))
