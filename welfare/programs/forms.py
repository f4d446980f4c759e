"""Forms of the program pages: they parse what was typed; the rules live in ``services``."""

from __future__ import annotations

import uuid
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from members.models import MemberKind
from unions.models import Unit
from unions.scope import Capability, units_held
from unions.widgets import UnitSearchField, UnitSearchSelect
from welfare.cases.evidence import check_upload
from welfare.cases.models import Category, SupportType
from welfare.funds.forms import SUBMISSION_TOKEN, DongField
from welfare.funds.models import Fund

from .models import Applies, Program, ProgramRun

LEVEL_ROWS = 3


class ProgramForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Run by"), queryset=Unit.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    support_type = forms.ChoiceField(label=_("Support type"), choices=SupportType.choices)
    category = forms.ChoiceField(
        label=_("Filed in the report under"), choices=Category.choices, initial=Category.OTHER
    )
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.none())
    budget = DongField(label=_("Budget (đồng)"))
    starts_on = forms.DateField(label=_("From"), widget=DateInput(), required=False)
    ends_on = forms.DateField(label=_("To"), widget=DateInput(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        held = Unit.objects.filter(pk__in=units_held(user, Capability.OPEN_CASES))
        self.fields["unit"].queryset = held.order_by("depth", "name")
        above = {pk for unit in held for pk in unit.ancestor_ids()}
        funds = Fund.objects.filter(unit_id__in=above, is_active=True).select_related("unit")
        self.fields["fund"].queryset = funds.order_by("unit__depth", "name")
        self.fields["fund"].label_from_instance = lambda fund: fund.label
        self.fields["year"].initial = timezone.localdate().year
        for row in range(1, LEVEL_ROWS + 1):
            self.fields[f"level{row}_label"] = forms.CharField(
                label=_("Standard amount %(n)s: level") % {"n": row}, required=False
            )
            self.fields[f"level{row}_for"] = forms.ChoiceField(
                label=_("for"), choices=Applies.choices, required=False
            )
            self.fields[f"level{row}_amount"] = DongField(label=_("amount (đồng)"), required=False)

    def levels(self) -> list[tuple[str, str, int]]:
        data = self.cleaned_data
        return [
            (
                data[f"level{row}_label"].strip() or str(Applies(data[f"level{row}_for"]).label),
                data[f"level{row}_for"] or Applies.EVERYONE,
                data[f"level{row}_amount"],
            )
            for row in range(1, LEVEL_ROWS + 1)
            if data.get(f"level{row}_amount")
        ]

    def level_rows(self):
        return [
            (self[f"level{row}_label"], self[f"level{row}_for"], self[f"level{row}_amount"])
            for row in range(1, LEVEL_ROWS + 1)
        ]


class ParticipantForm(forms.Form):
    # A city's program may take any of thousands of units: chosen by typing.
    unit = UnitSearchField(label=_("Unit"), queryset=Unit.objects.none(), widget=UnitSearchSelect)
    quota_people = forms.IntegerField(label=_("Quota (people)"), min_value=1, required=False)
    quota_amount = DongField(label=_("Quota (đồng)"), required=False)

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        taking_part = program.participants.values("unit_id")
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = (
            Unit.objects.in_subtree_of(program.unit)
            .active()
            .exclude(pk__in=taking_part)
            .order_by("path")
        )


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("Year of the copy"), min_value=2000, max_value=2100)
    budget = DongField(label=_("Budget (đồng)"), required=False)


class PeopleFilter(forms.Form):
    """Which people of the batch's unit to list."""

    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Members and workers")), *MemberKind.choices],
        required=False,
    )
    poor_household = forms.BooleanField(label=_("Poor household"), required=False)
    policy_family = forms.BooleanField(label=_("Policy family"), required=False)
    category = forms.ChoiceField(
        label=_("Hardship case in the last 24 months"),
        choices=[("", "—"), *Category.choices],
        required=False,
    )
    school_age = forms.BooleanField(
        label=_("With a child of school age (6 to 18 in the program's year)"),
        help_text=_("For scholarships: the member's children recorded as dependants."),
        required=False,
    )
    supported = forms.ChoiceField(
        label=_("Support this year"),
        choices=[
            ("", _("Whoever")),
            ("not_in_other", _("Not supported by another program this year")),
            ("in_other", _("Supported by another program this year")),
            ("in_this", _("Already supported in this program (another unit's batch)")),
        ],
        required=False,
    )

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        units = Unit.objects.in_subtree_of(unit).order_by("path")
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units


class BatchImportForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("Excel workbook (.xlsx) or CSV in UTF-8: CCCD, full name, amount."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv"}),
    )


class AddPeopleForm(forms.Form):
    amount = DongField(
        label=_("Amount per person (đồng)"),
        required=False,
        help_text=_("Empty: each person's standard amount of the program."),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    comment = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason: the unit that built the batch reads it.")},
    )


class BatchPaymentForm(forms.Form):
    """Records a batch paid; its token makes the same form sent twice record once."""

    paid_on = forms.DateField(label=_("Payment date"), widget=DateInput())
    receipt_reference = forms.CharField(label=_("Voucher or transfer reference"), max_length=64)
    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission"] = uuid.uuid4().hex
            self.initial["paid_on"] = timezone.localdate()

    def clean_submission(self) -> str:
        token = self.cleaned_data["submission"]
        return token if SUBMISSION_TOKEN.fullmatch(token) else ""

    def clean_receipt_reference(self) -> str:
        return self.cleaned_data["receipt_reference"].strip()


def parse_amount(text: str) -> int:
    """An amount typed in a batch's table, read as the amount fields read it."""
    value = DongField().clean(text)
    if value is None:
        raise ValidationError(_("Enter the amount in whole đồng, for example 1.500.000."))
    return int(value)


class SignedListForm(forms.Form):
    """The signed signature list, scanned: a real PDF, JPEG or PNG of 10 MB at most."""

    file = forms.FileField(
        label=_("Signed list (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        error_messages={"required": _("Choose the scanned file of the signed list.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload


class RunForm(forms.Form):
    """A step over every unit of a program: nothing runs without the box ticked."""

    kind = forms.ChoiceField(choices=ProgramRun.Kind.choices, widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("I have checked: take this step for every unit in my scope."), required=True
    )


class RunPaymentForm(RunForm):
    """Records every approved batch paid on one date, under one voucher."""

    paid_on = forms.DateField(label=_("Payment date"), widget=DateInput())
    receipt_reference = forms.CharField(label=_("Voucher or transfer reference"), max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["paid_on"] = timezone.localdate()

    def clean_receipt_reference(self) -> str:
        return self.cleaned_data["receipt_reference"].strip()
