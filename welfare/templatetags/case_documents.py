"""The documents a case can be printed as, for the buttons of the case page."""

from django import template

from welfare.cases.documents import available_documents

register = template.Library()


@register.simple_tag
def case_documents(case) -> list:
    return available_documents(case)
