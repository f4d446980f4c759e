from __future__ import annotations

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connections
from django.db.models import FloatField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from unions.forms import DateInput, ReorganiseForm
from unions.models import Unit, UnitKind
from unions.scope import Capability

from .models import JOINED_KEY, Dependant, Member, MemberKind, MemberStatus, Sex
from .national_id import clean_national_id
from .search import normalise, uses_trigram_index
from .validation import check_birth_date, member_errors, tidy_name


def grassroots_choices(
    user, capability: Capability = Capability.EDIT_MEMBERS
) -> forms.ModelChoiceField:
    """Grassroots unions in alphabetical order (a flat list: no tree indentation)."""
    return forms.ModelChoiceField(
        queryset=Unit.objects.visible_to(user, capability)
        .active()
        .filter(kind=UnitKind.GRASSROOTS)
        .order_by("name"),
        label=_("Grassroots union"),
    )


class NationalIdField(forms.CharField):
    """Takes the number as typed from the card, in groups ("020 190 000 777"): the separators
    go before the length is checked."""

    def to_python(self, value):
        return clean_national_id(super().to_python(value))

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = [
            "full_name",
            "sex",
            "date_of_birth",
            "national_id",
            "phone",
            "address",
            "unit",
            "kind",
            "union_card_number",
            "joined_on",
            "occupation",
            "status",
            "policy_family",
            "poor_household",
        ]
        widgets = {"date_of_birth": DateInput(), "joined_on": DateInput()}
        field_classes = {"national_id": NationalIdField}
        error_messages = {
            "national_id": {"unique": _("A person with this ID number is already registered.")},
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The unit changes only by a transfer, which keeps the history.
            del self.fields["unit"]
        else:
            self.fields["unit"] = grassroots_choices(user)
            units = list(self.fields["unit"].queryset[:2])
            if len(units) == 1:  # an officer of one grassroots union: nothing to choose
                self.fields["unit"].initial = units[0].pk
            self.fields["status"].choices = [(MemberStatus.ACTIVE, MemberStatus.ACTIVE.label)]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(
                _("Person"),
                Row(
                    Column("full_name", css_class="col-md-6"),
                    Column("sex"),
                    Column("date_of_birth"),
                ),
                Row(Column("national_id"), Column("phone"), Column("occupation")),
                "address",
            ),
            Fieldset(
                _("Union"),
                Row(
                    *([Column("unit", css_class="col-md-6")] if "unit" in self.fields else []),
                    Column("kind"),
                    Column("status"),
                ),
                Row(Column("union_card_number"), Column("joined_on")),
                Row(Column("policy_family"), Column("poor_household")),
            ),
        )
        self.helper.add_input(Submit("submit", _("Save")))

    def clean_full_name(self) -> str:
        return tidy_name(self.cleaned_data["full_name"])

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        check_birth_date(value)
        return value

    def clean(self):
        data = super().clean()
        for field, error in member_errors(
            national_id=data.get("national_id"),
            date_of_birth=data.get("date_of_birth"),
            sex=data.get("sex"),
            joined_on=data.get("joined_on"),
            kind=data.get("kind"),
            union_card_number=data.get("union_card_number"),
        ):
            self.add_error(field, error)
        return data


class DependantForm(forms.ModelForm):
    class Meta:
        model = Dependant
        fields = ["full_name", "sex", "date_of_birth", "note"]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        check_birth_date(value)
        return value


class TransferForm(ReorganiseForm):
    field_order = ["to_unit", "effective_on", "note"]

    def __init__(self, *args, user, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"] = grassroots_choices(user)
        self.fields["to_unit"].label = _("Transfer to")
        self.fields["to_unit"].queryset = self.fields["to_unit"].queryset.exclude(pk=member.unit_id)
        self.order_fields(self.field_order)


# Each sort is a keyset ordering (see portal.keyset) served by an index: member_name_order,
# member_birth_order and member_joined_order. There is no "by unit" sort: ordering by the unit's
# name needs the join before the limit, which no index of the member table can serve, and the
# unit filter gives one unit's members anyway.
SORTS = {
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    "dob": ("date_of_birth", "id"),
    "-dob": ("-date_of_birth", "-id"),
    "-joined": ("-joined_key", "-id"),
}
# A name search on PostgreSQL: the best trigram matches first (see MemberFilter.filter_search).
BEST_MATCH = ("-match", "search_name", "id")


def best_matches(members, limit: int):
    """The ``limit`` best matches of a ranked name search, ranked again, to page through.

    Ranking reads every hit (12,000 for "nguyen van" in a city), once: the pages then walk
    these few rows, where a keyset condition on the rank over all hits would compute the
    similarity again for each of them on every page. The export takes every hit.
    """
    top = members.order_by(*BEST_MATCH).values("pk")[:limit]
    return Member.objects.filter(pk__in=top).annotate(match=members.query.annotations["match"])


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Name, ID number or union card"))
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.none(),
        method="filter_unit",
        label=_("Unit (with the units under it)"),
        empty_label=_("All units"),
        widget=forms.HiddenInput,
    )
    status = django_filters.ChoiceFilter(
        choices=MemberStatus.choices, label=_("Status"), empty_label=_("All")
    )
    sex = django_filters.ChoiceFilter(choices=Sex.choices, label=_("Sex"), empty_label=_("All"))
    kind = django_filters.ChoiceFilter(
        choices=MemberKind.choices, label=_("Membership"), empty_label=_("All")
    )
    sort = django_filters.ChoiceFilter(
        choices=[
            ("name", _("Name A-Z")),
            ("-name", _("Name Z-A")),
            ("dob", _("Oldest first")),
            ("-dob", _("Youngest first")),
            ("-joined", _("Joined recently")),
        ],
        method="keep_order",
        label=_("Sort by"),
        empty_label=None,
    )

    class Meta:
        model = Member
        fields = ["q", "unit", "status", "sex", "kind"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the chosen unit is read (to validate it and show its name); the page offers the
        # others through a search box (members:unit_search), so it does not grow with the tree.
        self.filters["unit"].queryset = Unit.objects.visible_to(user)

    def filter_search(self, queryset, name, value):
        """Name, ID number or union card; a name search of 3 letters or more on PostgreSQL is
        also ranked by trigram similarity, which the list shows best first under the default
        sort (by name): ordering by it makes PostgreSQL take the trigram index and sort only the
        hits, where the name order walks the name index filtering every row before the hits."""
        queryset = queryset.search(value)
        if uses_trigram_index(value, connections[queryset.db].vendor):
            # similarity() is a real; as a double the value read back into a cursor is exact.
            match = Cast(TrigramSimilarity("search_name", normalise(value)), FloatField())
            queryset = queryset.annotate(match=match)
        return queryset

    def filter_unit(self, queryset, name, unit: Unit):
        """A unit filter reaches the unit's whole subtree."""
        return queryset.filter(unit__in=Unit.objects.in_subtree_of(unit).values("pk"))

    def keep_order(self, queryset, name, value):
        return queryset  # applied by qs, after every filter

    @property
    def ordering(self) -> tuple[str, ...]:
        """The keyset ordering of the list (ending with the primary key)."""
        sort = (self.form.cleaned_data.get("sort") if self.is_bound else None) or "name"
        if sort == "name" and "match" in super().qs.query.annotations:
            return BEST_MATCH
        return SORTS.get(sort, SORTS["name"])

    @property
    def qs(self):
        queryset = super().qs
        ordering = self.ordering
        if "-joined_key" in ordering:
            queryset = queryset.annotate(joined_key=JOINED_KEY)
        return queryset.order_by(*ordering)
