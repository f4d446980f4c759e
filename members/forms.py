from __future__ import annotations

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Exists, FloatField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from unions.forms import ReorganiseForm
from unions.models import PATH_SEPARATOR, Unit, UnitKind
from unions.scope import Capability
from unions.widgets import UnitSearchField, UnitSearchSelect

from .models import (
    ENDED_STATUSES,
    JOINED_KEY,
    Consent,
    Dependant,
    LegalBasis,
    Member,
    MemberKind,
    MemberStatus,
    Sex,
)
from .national_id import clean_national_id
from .search import name_words, normalise, uses_trigram_index
from .validation import check_birth_date, member_errors, tidy_name


def grassroots_choices(
    user, capability: Capability = Capability.EDIT_MEMBERS
) -> forms.ModelChoiceField:
    """Grassroots unions in alphabetical order (a flat list: no tree indentation), chosen by
    typing part of a name when there are many."""
    return UnitSearchField(
        queryset=Unit.objects.visible_to(user, capability)
        .active()
        .filter(kind=UnitKind.GRASSROOTS)
        .order_by("search_name", "pk"),
        label=_("Grassroots union"),
        widget=UnitSearchSelect(
            search={"for": capability.value, "active": "1", "kind": UnitKind.GRASSROOTS}
        ),
    )


class NationalIdField(forms.CharField):
    """Takes the number as typed from the card, in groups ("020 190 000 777"): the separators
    go before the length is checked."""

    def to_python(self, value):
        number = super().to_python(value)
        if not number:
            return number  # None for the nullable model field: an unidentified worker
        return clean_national_id(number) or self.empty_value

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
            "unidentified",
            "phone",
            "address",
            "unit",
            "kind",
            "union_card_number",
            "joined_on",
            "occupation",
            "status",
            "left_on",
            "policy_family",
            "poor_household",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "joined_on": DateInput(),
            "left_on": DateInput(),
        }
        field_classes = {"national_id": NationalIdField}
        error_messages = {
            "national_id": {"unique": _("A person with this ID number is already registered.")},
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            # The unit changes only by a transfer, which keeps the history.
            del self.fields["unit"]
        else:
            self.fields["unit"] = grassroots_choices(user)
            units = list(self.fields["unit"].queryset[:2])
            if len(units) == 1:  # an officer of one grassroots union: nothing to choose
                self.fields["unit"].initial = units[0].pk
            self.fields["status"].choices = [(MemberStatus.ACTIVE, MemberStatus.ACTIVE.label)]
            del self.fields["left_on"]  # a new member is active
        self.fields["unidentified"].label = _("No ID number (informal or seasonal worker)")
        self.fields["unidentified"].help_text = _(
            "Only for a non-member worker: then name, date of birth and unit are what identify "
            "them."
        )
        # Asked only when the person looks like one already recorded (see clean).
        self.fields["same_person_checked"] = forms.BooleanField(
            required=False,
            label=_("I checked: this is a different person, record them anyway"),
        )
        self.probable_duplicates: list[Member] = []
        self.duplicates_elsewhere = 0
        if "left_on" in self.fields:
            self.fields["left_on"].help_text = _(
                "Required when the status is left, transferred out or deceased."
            )
            if not self.instance.left_on:
                self.fields["left_on"].initial = timezone.localdate()
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
                "unidentified",
                "address",
            ),
            Fieldset(
                _("Union"),
                Row(
                    *([Column("unit", css_class="col-md-6")] if "unit" in self.fields else []),
                    Column("kind"),
                    Column("status"),
                    *([Column("left_on")] if "left_on" in self.fields else []),
                ),
                Row(Column("union_card_number"), Column("joined_on")),
                Row(Column("policy_family"), Column("poor_household")),
            ),
        )
        self.helper.add_input(Submit("submit", _("Save")))

    def clean_full_name(self) -> str:
        return tidy_name(self.cleaned_data["full_name"])

    def clean_union_card_number(self) -> str:
        """Checked here, not left to unique_union_card_number: the database's refusal of a
        conditional constraint reads in English and names the constraint."""
        number = self.cleaned_data["union_card_number"].strip()
        taken = Member.objects.filter(union_card_number=number).exclude(pk=self.instance.pk)
        if number and taken.exists():
            raise ValidationError(
                _("Another person already holds this union card number."), code="unique"
            )
        return number

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
            unidentified=bool(data.get("unidentified")),
        ):
            self.add_error(field, error)
        identity = {"full_name", "date_of_birth", "unidentified"}
        changed = not self.instance.pk or identity & set(self.changed_data)
        if data.get("unidentified") and changed and not self.errors:
            self._warn_of_duplicates(data)
        leaving = "left_on" in self.fields and data.get("status") in ENDED_STATUSES
        if leaving and not data.get("left_on") and "left_on" not in self.errors:
            self.add_error(
                "left_on", _("Give the date the person left, was transferred out or died.")
            )
        return data

    def _warn_of_duplicates(self, data) -> None:
        """Without a number, the same worker is easily recorded twice: one with the same
        normalised name and date of birth in the province must be confirmed as another person.
        Those in the user's scope are named; the others only counted."""
        unit = data.get("unit") or self.instance.unit
        province = unit.path.split(PATH_SEPARATOR)[0] + PATH_SEPARATOR
        found = (
            Member.objects.filter(
                search_name=normalise(data["full_name"]),
                date_of_birth=data["date_of_birth"],
                unit__path__startswith=province,
            )
            .exclude(pk=self.instance.pk)
            .select_related("unit")
            .order_by("pk")
        )
        self.probable_duplicates = list(
            found.filter(pk__in=Member.objects.visible_to(self.user).values("pk"))[
                :DUPLICATES_SHOWN
            ]
        )
        self.duplicates_elsewhere = found.exclude(
            pk__in=Member.objects.visible_to(self.user).values("pk")
        ).count()
        if not (self.probable_duplicates or self.duplicates_elsewhere):
            return
        self.helper.layout.insert(
            0,
            Div(
                HTML('{% include "members/probable_duplicates.html" %}'),
                "same_person_checked",
                css_class="alert alert-warning",
            ),
        )
        if not data.get("same_person_checked"):
            self.add_error(
                "same_person_checked",
                _(
                    "A person with the same name and date of birth is already recorded in "
                    "the province: open their record instead, or tick this box if this is "
                    "someone else."
                ),
            )


DUPLICATES_SHOWN = 10


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
        to_unit = grassroots_choices(user)
        to_unit.label = _("Transfer to")
        assert to_unit.queryset is not None  # grassroots_choices always gives one
        to_unit.queryset = to_unit.queryset.exclude(pk=member.unit_id)
        self.fields["to_unit"] = to_unit
        self.order_fields(self.field_order)


# The member list's filter value for "no legal basis recorded, or consent withdrawn".
NO_BASIS = "none"

# Each sort is a keyset ordering (see common.keyset) served by an index: member_name_order,
# member_birth_order and member_joined_order. There is no "by unit" sort: ordering by the unit's
# name needs the join before the limit, which no index of the member table can serve, and the
# unit filter gives one unit's members anyway.
SORTS = {
    "name": ("sort_name", "id"),
    "-name": ("-sort_name", "-id"),
    "dob": ("date_of_birth", "id"),
    "-dob": ("-date_of_birth", "-id"),
    "-joined": ("-joined_key", "-id"),
}
# The names of a search that start with the words typed, read in order from the search-name
# index (the words carry no marks, so only that column has them as a prefix; "Đ" and "D" names
# alternate there, as the words typed do not tell them apart).
STARTING = ("search_name", "id")
# The names of a search that do not start with the words typed, best trigram match first.
BEST_MATCH = ("-match", "sort_name", "id")


def best_matches(members, text: str, limit: int):
    """The ``limit`` members closest to ``text`` by trigram similarity, to page through.

    Ranking reads every hit, once: the pages then walk these few rows, where a keyset
    condition on the rank over all hits would compute the similarity again for each of them
    on every page. The export takes every hit.
    """
    # similarity() is a real; as a double the value read back into a cursor is exact.
    match = Cast(TrigramSimilarity("search_name", text), FloatField())
    top = members.annotate(match=match).order_by(*BEST_MATCH).values("pk")[:limit]
    return Member.objects.filter(pk__in=top).annotate(match=match)


class MemberFilter(django_filters.FilterSet):
    # Name (with or without diacritics), ID number or union card: applied by filter_queryset.
    q = django_filters.CharFilter(label=_("Name, ID number or union card"))
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
    # Workers recorded without a number, for the officer to come back and complete.
    identified = django_filters.ChoiceFilter(
        choices=[("no", _("No ID number yet")), ("yes", _("With an ID number"))],
        method="filter_identified",
        label=_("ID number"),
        empty_label=_("All"),
    )
    consent = django_filters.ChoiceFilter(
        choices=[(NO_BASIS, _("None recorded or consent withdrawn"))],
        method="filter_consent",
        label=_("Legal basis"),
        empty_label=_("All"),
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
        fields = ["q", "unit", "status", "sex", "kind", "consent"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the chosen unit is read (to validate it and show its name); the page offers the
        # others through a search box (units:search), so it does not grow with the tree.
        self.filters["unit"].queryset = Unit.objects.visible_to(user)

    def filter_queryset(self, queryset):
        """Every filter, the search last: ``parts`` starts again from the list before it."""
        search = self.form.cleaned_data.get("q")
        for name, value in self.form.cleaned_data.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        self.unsearched = queryset
        return queryset.search(search) if search else queryset

    def filter_unit(self, queryset, name, unit: Unit):
        """A unit filter reaches the unit's whole subtree."""
        return queryset.filter(unit__in=Unit.objects.ids_in_subtree_of(unit))

    def filter_identified(self, queryset, name, value):
        return queryset.filter(unidentified=value == "no")

    def filter_consent(self, queryset, name, value):
        """The people whose newest consent record is not a standing basis (none, or a
        withdrawal): one probe of the index consent_newest per person read."""
        newest = (
            Consent.objects.filter(member=OuterRef(OuterRef("pk")))
            .order_by("-recorded_at", "-id")
            .values("pk")[:1]
        )
        standing = Consent.objects.filter(pk=Subquery(newest), withdrawn_on__isnull=True)
        return queryset.filter(~Exists(standing))

    def keep_order(self, queryset, name, value):
        return queryset  # applied by qs, after every filter

    @property
    def ordering(self) -> tuple[str, ...]:
        """The keyset ordering of the list (ending with the primary key)."""
        sort = (self.form.cleaned_data.get("sort") if self.is_bound else None) or "name"
        return SORTS.get(sort, SORTS["name"])

    def parts(self, limit: int) -> list[tuple[QuerySet, tuple[str, ...]]]:
        """The list as the page shows it, as ``(queryset, keyset ordering)`` parts.

        A name search in name order lists the names that start with the words typed first:
        PostgreSQL reads them in order from the name index (the column compares bytewise,
        members migration 0006), so the first pages cost the same however many people share
        a common name ("nguyen van" is one member in forty). The other hits follow: the
        ``limit`` closest by trigram similarity on PostgreSQL for 3 letters or more, by name
        otherwise. Any other list is one part, in its order.
        """
        queryset = self.qs
        words = self.name_prefix
        if words is None:
            return [(queryset, self.ordering)]
        starting, others = self.starting_and_others(words)
        rest: tuple[QuerySet, tuple[str, ...]]
        if uses_trigram_index(words, connections[queryset.db].vendor):
            rest = (best_matches(others, words, limit), BEST_MATCH)
        else:
            rest = (others, SORTS["name"])
        return [(starting, STARTING), rest]

    def starting_and_others(self, words: str) -> tuple[QuerySet, QuerySet]:
        """The hits of a name search whose name starts with ``words``, and the other hits.

        Starting with the words implies containing them: the first part asks only that, so
        that nothing but the name index serves it."""
        starting = self.unsearched.filter(search_name__startswith=words).order_by(*STARTING)
        return starting, self.qs.exclude(search_name__startswith=words)

    @property
    def name_prefix(self) -> str | None:
        """The normalised words of a name search listed in name order, else None."""
        if not self.is_bound or not self.form.is_valid() or self.ordering != SORTS["name"]:
            return None
        return name_words(self.form.cleaned_data.get("q") or "")

    @property
    def qs(self):
        queryset = super().qs
        ordering = self.ordering
        if "-joined_key" in ordering:
            queryset = queryset.annotate(joined_key=JOINED_KEY)
        return queryset.order_by(*ordering)


# The consent form's choice that records a withdrawal rather than a basis.
WITHDRAWN = "withdrawn"


class ConsentForm(forms.Form):
    """The legal basis or consent recorded on the member's page, or its withdrawal."""

    basis = forms.ChoiceField(label=_("Legal basis"))
    given_on = forms.DateField(label=_("Date"), widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["basis"].choices = [
            *LegalBasis.choices,
            (WITHDRAWN, _("The person withdrew their consent")),
        ]
        self.fields["given_on"].initial = timezone.localdate()
