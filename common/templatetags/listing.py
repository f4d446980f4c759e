from django import template

register = template.Library()


@register.filter
def active_filters(form, ignored: str = "") -> int:
    """How many of a list's filters hold a value, for the folded filters' button on a phone.
    ``ignored`` names the fields that stay in sight or only order the list ("q,sort")."""
    if form is None or not form.is_bound:
        return 0
    skip = {name.strip() for name in ignored.split(",") if name.strip()}
    data = form.data
    values = data.getlist if hasattr(data, "getlist") else lambda name: [data.get(name, "")]
    return sum(
        1
        for name in form.fields
        if name not in skip and any(value not in ("", None) for value in values(name))
    )
