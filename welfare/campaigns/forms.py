"""Forms of the campaign pages: they parse what was typed; the rules live in ``services``."""

from __future__ import annotations

import uuid
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from common.imports.cells import CellError
from members.models import Member
from members.national_id import national_id_from
from unions.models import Unit
from unions.scope import Capability, units_held
from welfare.funds.forms import SUBMISSION_TOKEN, DongField
from welfare.funds.models import Fund

from .models import Campaign, DonorKind


class _UnitsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{'— ' * obj.depth}{obj.name}"


class CampaignForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Run by"), queryset=Unit.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    purpose = forms.CharField(
        label=_("Purpose of the campaign"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    fund = forms.ModelChoiceField(label=_("Receiving fund"), queryset=Fund.objects.none())
    target = DongField(label=_("Target (đồng)"))
    starts_on = forms.DateField(label=_("From"), widget=DateInput())
    ends_on = forms.DateField(label=_("To"), widget=DateInput())
    units = _UnitsField(
        label=_("Participating units"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("Empty: every unit under the campaign's union collects."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, user, campaign: Campaign | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        held = Unit.objects.filter(pk__in=units_held(user, Capability.OPEN_CASES))
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = held.order_by("depth", "name")
        above = {pk for unit in held for pk in unit.ancestor_ids()}
        funds = Fund.objects.filter(unit_id__in=above, is_active=True).select_related("unit")
        fund_field = cast(forms.ModelChoiceField, self.fields["fund"])
        fund_field.queryset = funds.order_by("unit__depth", "name")
        fund_field.label_from_instance = lambda fund: fund.label  # type: ignore[method-assign,assignment]
        roots = [campaign.unit] if campaign else list(held)
        subtree = Unit.objects.none()
        for root in roots:
            subtree |= Unit.objects.in_subtree_of(root)
        cast(forms.ModelMultipleChoiceField, self.fields["units"]).queryset = (
            subtree.active().order_by("path") if roots else Unit.objects.none()
        )
        if campaign is not None:
            # Its union and fund stay: its contributions are in that fund's ledger.
            del self.fields["unit"]
            del self.fields["fund"]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The period cannot end before it starts."))
        return data


class ContributionForm(forms.Form):
    """Records one contribution; its token makes the same form sent twice record once."""

    donor_kind = forms.ChoiceField(label=_("Donor"), choices=DonorKind.choices)
    donor_name = forms.CharField(
        label=_("Donor's name"),
        max_length=255,
        required=False,
        help_text=_("Empty for a member or a union: their name is used."),
    )
    member_id_number = forms.CharField(
        label=_("Member's ID number (CCCD)"), max_length=16, required=False
    )
    donor_unit = forms.ModelChoiceField(
        label=_("Donor union"), queryset=Unit.objects.none(), required=False
    )
    amount = DongField(label=_("Amount (đồng)"))
    received_on = forms.DateField(label=_("Date received"), widget=DateInput())
    receipt_number = forms.CharField(label=_("Receipt number"), max_length=32)
    collected_by = forms.ModelChoiceField(label=_("Collected by"), queryset=Unit.objects.none())
    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        units = units.active().order_by("path")
        self.fields["collected_by"].queryset = units
        self.fields["donor_unit"].queryset = units
        self.units = units
        if not self.is_bound:
            self.initial["submission"] = uuid.uuid4().hex
            self.initial["received_on"] = timezone.localdate()
            if len(units) == 1:
                self.initial["collected_by"] = units[0]

    def clean_submission(self) -> str:
        token = self.cleaned_data["submission"]
        return token if SUBMISSION_TOKEN.fullmatch(token) else ""

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day and day > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return day

    def clean(self):
        data = super().clean()
        data["member"] = None
        kind = data.get("donor_kind")
        text = (data.get("member_id_number") or "").strip()
        if kind == DonorKind.MEMBER:
            if not text:
                self.add_error("member_id_number", _("Give the member's ID number."))
            else:
                try:
                    number = national_id_from(text)
                except CellError as error:
                    self.add_error("member_id_number", str(error))
                    return data
                member = Member.objects.filter(
                    national_id=number, unit_id__in=self.units.values("pk")
                ).first()
                if member is None:
                    self.add_error(
                        "member_id_number",
                        _("No member with this ID number in the campaign's units."),
                    )
                data["member"] = member
        elif kind == DonorKind.UNIT and not data.get("donor_unit"):
            self.add_error("donor_unit", _("Choose the union or unit that gave."))
        elif not (data.get("donor_name") or "").strip() and kind:
            self.add_error("donor_name", _("Give the donor's name."))
        if kind != DonorKind.UNIT:
            data["donor_unit"] = None
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "donor_kind",
                "donor_name",
                "member",
                "donor_unit",
                "amount",
                "received_on",
                "receipt_number",
                "collected_by",
                "submission",
            )
        }


class ContributionFilter(forms.Form):
    q = forms.CharField(label=_("Donor or receipt"), required=False)
    donor_kind = forms.ChoiceField(
        label=_("Donor"), choices=[("", _("All donors")), *DonorKind.choices], required=False
    )
    unit = forms.ModelChoiceField(
        label=_("Collected by"), queryset=Unit.objects.none(), required=False
    )
    start = forms.DateField(label=_("From"), widget=DateInput(), required=False)
    end = forms.DateField(label=_("To"), widget=DateInput(), required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units.order_by("path")
