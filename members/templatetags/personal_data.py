from django import template

from members.national_id import masked

register = template.Library()


@register.filter
def masked_id(value: str) -> str:
    return masked(value or "")
