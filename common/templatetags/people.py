from django import template

register = template.Library()


@register.filter
def person_name(user) -> str:
    """A Vietnamese name reads family name first: "Lương Văn Thắng", not "Thắng Lương Văn"."""
    if user is None:
        return ""
    return f"{user.last_name} {user.first_name}".strip() or user.username
