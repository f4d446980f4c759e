"""Forms for funds and their ledger.  They only parse and check what the user typed; the
money rules (available never below zero, what may be reversed) live in ``ledger.py``."""

from __future__ import annotations

import re
import uuid
from typing import cast

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from common.money import format_dong
from unions.forms import UnitChoiceField
from unions.models import Unit
from unions.scope import Capability, scope_q, units_held
from unions.widgets import UnitSearchSelect

from .models import EntryKind, Fund, FundKind

# A trillion đồng is far above any fund of a province, and far below a 64-bit integer.
MAX_AMOUNT = 10**15
# Plain digits, or digits in groups of three separated by dots, spaces or (as English writes
# them) commas: "1500000", "1.500.000", "1 500 000", "1,500,000".  "1.5" or "1,5" is refused
# rather than guessed at.
AMOUNT_RE = re.compile(r"[0-9]+|[0-9]{1,3}(?:[.,\s][0-9]{3})+")
CURRENCY_RE = re.compile(r"\s*(₫|đ|đồng|vnđ|vnd)\s*$", re.IGNORECASE)


class DongField(forms.CharField):
    """An amount in whole đồng, typed the way people write it: "1.500.000", "1500000 ₫"."""

    default_error_messages = {
        "invalid": _("Enter the amount in whole đồng, for example 1.500.000."),
        "positive": _("The amount must be greater than zero."),
        "too_large": _("The amount is too large."),
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "1.500.000"}
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        text = CURRENCY_RE.sub("", text.replace("\u00a0", " ")).strip()
        if text.startswith("-"):
            raise ValidationError(self.error_messages["positive"], code="positive")
        if not AMOUNT_RE.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        amount = int(re.sub(r"[.,\s]", "", text))
        if amount == 0 and not self.allow_zero:
            raise ValidationError(self.error_messages["positive"], code="positive")
        if amount > MAX_AMOUNT:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        return amount

    def prepare_value(self, value):
        # An initial amount is shown grouped; what the user typed is shown as typed.
        return format_dong(value).removesuffix(" ₫") if isinstance(value, int) else value


def _date_field(label) -> forms.DateField:
    return forms.DateField(label=label, widget=DateInput(), initial=timezone.localdate)


SUBMISSION_TOKEN = re.compile(r"[0-9a-f]{32}")


def _not_in_future(value):
    if value and value > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."))
    return value


class _MoneyForm(forms.Form):
    """A form that moves money. It carries a token of its own, so that the same form sent
    twice (a double click, a reload) records the money once (``ledger.AlreadyRecorded``)."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False)
    submit_label = _("Record")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission"] = uuid.uuid4().hex
        self.helper = FormHelper()
        self.helper.render_hidden_fields = True  # the token, whatever the layout names
        self.helper.add_input(Submit("submit", self.submit_label))

    def clean_submission(self) -> str:
        token = self.cleaned_data["submission"]
        return token if SUBMISSION_TOKEN.fullmatch(token) else ""

    def clean_occurred_on(self):
        return _not_in_future(self.cleaned_data["occurred_on"])


class ContributionForm(_MoneyForm):
    amount = DongField(label=_("Amount (đồng)"))
    occurred_on = _date_field(_("Date received"))
    source = forms.CharField(
        label=_("From whom"),
        max_length=255,
        help_text=_("A member, a unit, an enterprise or a campaign."),
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    submit_label = _("Record the contribution")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(
            Row(Column("amount"), Column("occurred_on")), "source", "description"
        )


class FundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Fund) -> str:
        return obj.label


class AllocationForm(_MoneyForm):
    to_fund = FundChoiceField(label=_("To fund"), queryset=Fund.objects.none())
    amount = DongField(label=_("Amount (đồng)"))
    occurred_on = _date_field(_("Date"))
    description = forms.CharField(
        label=_("Description"),
        max_length=255,
        required=False,
        help_text=_("For example the decision number."),
    )
    submit_label = _("Allocate")

    def __init__(self, *args, user, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        cast(FundChoiceField, self.fields["to_fund"]).queryset = (
            Fund.objects.visible_to(user)
            .filter(is_active=True)
            .exclude(pk=fund.pk)
            .select_related("unit")
        )
        self.helper.layout = Layout(
            "to_fund", Row(Column("amount"), Column("occurred_on")), "description"
        )


class ReversalForm(_MoneyForm):
    occurred_on = _date_field(_("Date of the correction"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown in the ledger next to the correcting entry."),
    )
    submit_label = _("Record the correction")

    def clean_reason(self) -> str:
        return " ".join(self.cleaned_data["reason"].split())


def openable_units(user):
    """Active units where the user may open a fund: where they are treasurer, or any unit
    they administer."""
    return (
        Unit.objects.active()
        .filter(
            Q(pk__in=units_held(user, Capability.PAY))
            | scope_q(user, "path", Capability.MANAGE_TREE)
        )
        .order_by("path")
    )


class FundForm(forms.Form):
    unit = UnitChoiceField(
        label=_("Owner union"), queryset=Unit.objects.none(), widget=UnitSearchSelect
    )
    name = forms.CharField(label=_("Name"), max_length=255)
    kind = forms.ChoiceField(label=_("Kind"), choices=FundKind.choices)
    opening_balance = DongField(label=_("Opening balance (đồng)"), allow_zero=True, initial=0)
    opened_on = _date_field(_("Opening date"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = openable_units(user)
        # Many for an administrator: chosen by typing (a treasurer has a select of a few).
        self.fields["unit"].widget.search = {"for": Capability.MANAGE_TREE, "active": "1"}
        units = list(self.fields["unit"].queryset[:2])
        if len(units) == 1:  # a treasurer of one union: nothing to choose
            self.fields["unit"].initial = units[0].pk
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "unit",
            Row(Column("name", css_class="col-md-8"), Column("kind")),
            Row(Column("opening_balance"), Column("opened_on")),
        )
        self.helper.add_input(Submit("submit", _("Open the fund")))

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_opened_on(self):
        return _not_in_future(self.cleaned_data["opened_on"])


class FundFilter(django_filters.FilterSet):
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.none(),
        method="filter_unit",
        label=_("Unit (with the units under it)"),
        widget=forms.HiddenInput,  # chosen by typing (includes/search_choice.html)
    )
    kind = django_filters.ChoiceFilter(
        choices=FundKind.choices, label=_("Kind"), empty_label=_("All kinds")
    )
    # For those who give out roles: approvals from these funds are refused until someone at
    # the owner union can pay (welfare/cases/rules.py ``approve``).
    no_treasurer = django_filters.BooleanFilter(
        method="filter_no_treasurer",
        widget=forms.CheckboxInput,
        label=_("Only funds whose union has no treasurer"),
    )

    class Meta:
        model = Fund
        fields = ["unit", "kind", "no_treasurer"]

    def __init__(self, *args, user, managing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        unit_filter = cast(django_filters.ModelChoiceFilter, self.filters["unit"])
        unit_filter.queryset = Unit.objects.visible_to(user)
        if not managing:
            del self.filters["no_treasurer"]

    def filter_no_treasurer(self, queryset, name, value):
        return queryset.filter(has_treasurer=False) if value else queryset

    def filter_unit(self, queryset, name, unit: Unit):
        return queryset.filter(unit__in=Unit.objects.ids_in_subtree_of(unit))


class LedgerFilterForm(forms.Form):
    """The ledger's period (on the date money moved) and kind of entry."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    kind = forms.ChoiceField(
        label=_("Kind of entry"),
        required=False,
        choices=[("", _("All kinds")), *EntryKind.choices],
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(
                _("The start date %(start)s is after the end date %(end)s."),
                params={"start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y")},
            )
        return data

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("date_from"):
            entries = entries.filter(occurred_on__gte=data["date_from"])
        if data.get("date_to"):
            entries = entries.filter(occurred_on__lte=data["date_to"])
        if data.get("kind"):
            entries = entries.filter(kind=data["kind"])
        return entries
