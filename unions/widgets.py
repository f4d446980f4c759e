"""A unit chosen by typing part of its name, for forms whose choice of unit grows with the tree.

A province's administrator may place a member, a fund or a role at any of 1,500 units, a city's
at any of 6,700: a select of them all weighs half a megabyte and is unusable. The widget shows
a search box offering at most 20 matching units (``units:search``, static/js/search-choice.js)
and keeps the chosen unit's id in a hidden input (the markup of the list filters,
includes/search_choice_input.html); the form's field still validates the choice
against its queryset. Text typed without picking a suggestion is sent too: ``UnitSearchField``
takes it when it names exactly one unit and otherwise says which units match. When the choices
are few (a grassroots officer's one union), it is a plain select.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from common.text import normalise

# Up to this many choices a plain select is easier than a search box.
FEW_CHOICES = 30
# The search box's own name: the hidden input carries the field's name.
TYPED_SUFFIX = "__typed"
# At most this many matching units are named when typed text names several.
NAMED_MATCHES = 5


class TypedUnit(str):
    """What was typed in a unit's search box when no suggestion was picked."""


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
        if isinstance(value, TypedUnit):
            chosen, value = str(value), ""
        elif value not in (None, ""):
            unit = queryset.filter(pk=value).select_related("parent").first()
            if unit is not None:
                chosen = unit_label(unit.name, unit.parent.name if unit.parent else None)
        url = reverse("units:search")
        if self.search:
            url = f"{url}?{urlencode(self.search)}"
        context = {
            "id": attrs.get("id") or f"id_{name}",
            "name": name,
            "typed_name": f"{name}{TYPED_SUFFIX}",
            "value": value,
            "chosen": chosen,
            "url": url,
            "placeholder": _("Type part of the unit's name"),
            "css": " ".join(sorted(set(attrs.get("class", "").split()) | {"form-control"})),
            "required": self.is_required,
        }
        return render_to_string("includes/search_choice_input.html", context)

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        typed = (data.get(f"{name}{TYPED_SUFFIX}") or "").strip()
        if value in (None, "") and typed:
            return TypedUnit(typed)
        return value


class UnitSearchField(forms.ModelChoiceField):
    """A unit chosen from a select or by typing (``UnitSearchSelect``): typed text is taken
    when it names exactly one of the choices ("lang son" for "Lạng Sơn"), first by the whole
    name, then by part of it; otherwise the error names the units that match."""

    def to_python(self, value):
        if isinstance(value, TypedUnit):
            return self._unit_named(value)
        return super().to_python(value)

    def _unit_named(self, typed: str):
        assert self.queryset is not None
        name, _sep, parent = typed.partition(" — ")
        exact = self.queryset.filter(search_name=normalise(name))
        if parent:
            exact = exact.filter(parent__search_name=normalise(parent))
        found = list(exact[:2])
        if len(found) != 1:
            found = list(
                self.queryset.filter(search_name__contains=normalise(typed))
                .select_related("parent")
                .order_by("search_name", "pk")[: NAMED_MATCHES + 1]
            )
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValidationError(
                _("No unit you may choose here is called “%(typed)s”."),
                code="no_match",
                params={"typed": typed},
            )
        names = [unit_label(u.name, u.parent.name if u.parent else None) for u in found]
        shown = "; ".join(names[:NAMED_MATCHES]) + ("; …" if len(names) > NAMED_MATCHES else "")
        raise ValidationError(
            _("“%(typed)s” matches several units (%(units)s): pick one of the suggestions."),
            code="several_matches",
            params={"typed": typed, "units": shown},
        )
