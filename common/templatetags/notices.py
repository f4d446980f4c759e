from django import template
from django.template.context import Context

from common.notices import BELL_COUNTED, unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notices(context: Context) -> str:
    """The bell's badge: the signed-in reader's unread notices, "99+" past the cap, "" for
    none; one small query, none for a visitor."""
    request = context.get("request")
    count = unread_count(getattr(request, "user", None))
    if not count:
        return ""
    return f"{BELL_COUNTED}+" if count > BELL_COUNTED else str(count)
