"""A unit chosen by typing part of its name, for forms whose choice of unit grows with the tree.

A province's administrator may place a member, a fund or a role at any of 1,500 units, a city's
at any of 6,700: a select of them all weighs half a megabyte and is unusable. The widget shows
a search box offering at most 20 matching units (``units:search``, static/js/search-choice.js)
and keeps the chosen unit's id in a hidden input (the markup of the list filters,
includes/search_choice_input.html); the form's field still validates the choice
against its queryset. When the choices are few (a grassroots officer's one union), it is a plain
select.
"""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

# Up to this many choices a plain select is easier than a search box.
FEW_CHOICES = 30


def unit_label(name: str, parent: str | None) -> str:
    """A unit's name with its parent's, since names repeat across communes."""
    return f"{name} — {parent}" if parent else name


class UnitSearchSelect(forms.Widget):
    """For a ``ModelChoiceField`` of units. ``search`` are the ``units:search`` parameters that
    ask for the same units as the field's queryset: ``for`` (a capability), ``kind``."""

    def __init__(self, attrs=None, *, search: dict | None = None):
        super().__init__(attrs)
        self.search = search or {}

    def render(self, name, value, attrs=None, renderer=None):
        queryset = self.choices.queryset
        few = list(queryset[: FEW_CHOICES + 1])
        attrs = self.build_attrs(self.attrs, attrs)
        if len(few) <= FEW_CHOICES:
            field = self.choices.field
            empty = [("", field.empty_label)] if field.empty_label is not None else []
            choices = [*empty, *((unit.pk, field.label_from_instance(unit)) for unit in few)]
            select = forms.Select(choices=choices)
            attrs["class"] = " ".join(
                "form-select" if css == "form-control" else css
                for css in attrs.get("class", "form-select").split()
            )
            return select.render(name, value, attrs, renderer)
        chosen = ""
        if value not in (None, ""):
            unit = queryset.filter(pk=value).select_related("parent").first()
            if unit is not None:
                chosen = unit_label(unit.name, unit.parent.name if unit.parent else None)
        url = reverse("units:search")
        if self.search:
            url = f"{url}?{urlencode(self.search)}"
        context = {
            "id": attrs.get("id") or f"id_{name}",
            "name": name,
            "value": value,
            "chosen": chosen,
            "url": url,
            "placeholder": _("Type part of the unit's name"),
            "css": " ".join(sorted(set(attrs.get("class", "").split()) | {"form-control"})),
            "required": self.is_required,
        }
        return render_to_string("includes/search_choice_input.html", context)

    def value_from_datadict(self, data, files, name):
        return data.get(name)
