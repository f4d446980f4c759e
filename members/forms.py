from __future__ import annotations

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from unions.forms import DateInput, ReorganiseForm, UnitChoiceField, show_units_above_grassroots
from unions.models import Unit, UnitKind
from unions.scope import Capability

from .models import Dependant, Member, MemberKind, MemberStatus, Sex
from .national_id import clean_national_id
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


SORTS = {
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    "dob": ("date_of_birth", "id"),
    "-dob": ("-date_of_birth", "-id"),
    "joined": ("joined_on", "id"),
    "-joined": ("-joined_on", "-id"),
    "unit": ("unit__name", "search_name", "id"),
    "-unit": ("-unit__name", "-search_name", "-id"),
}


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label=_("Name, ID number or union card"))
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.none(),
        method="filter_unit",
        label=_("Unit (with the units under it)"),
        empty_label=_("All units"),
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
            ("unit", _("Unit")),
        ],
        method="apply_sort",
        label=_("Sort by"),
        empty_label=None,
    )

    class Meta:
        model = Member
        fields = ["q", "unit", "status", "sex", "kind"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["unit"].queryset = Unit.objects.visible_to(user).order_by("path")
        self.form.fields["unit"].label_from_instance = UnitChoiceField.label_from_instance.__get__(
            self.form.fields["unit"]
        )
        show_units_above_grassroots(self.form.fields["unit"], self.data.get("unit"))

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_unit(self, queryset, name, unit: Unit):
        """A unit filter reaches the unit's whole subtree."""
        return queryset.filter(unit__in=Unit.objects.in_subtree_of(unit).values("pk"))

    def apply_sort(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["name"]))

    @property
    def qs(self):
        queryset = super().qs
        if not self.is_bound or not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS["name"])
        return queryset
