from django import template

from members.national_id import masked_or_missing

register = template.Library()


@register.filter
def masked_id(value: str | None) -> str:
    return masked_or_missing(value)
