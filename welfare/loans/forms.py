"""Loan forms: they parse what was typed; the rules live in ``loans/services.py``."""

from __future__ import annotations

from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from welfare.funds.forms import DongField, _date_field, _MoneyForm
from welfare.funds.models import Fund, FundKind

from .models import Frequency, Loan, LoanProduct, LoanStatus


def _helper(form: forms.Form, label) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    annual_rate = forms.DecimalField(
        label=_("Interest rate (% a year)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=0,
        help_text=_("0 for an interest-free loan."),
    )
    max_principal = DongField(label=_("Maximum principal (đồng)"))
    term_months = forms.IntegerField(label=_("Longest term (months)"), min_value=1, max_value=120)
    frequency = forms.ChoiceField(label=_("Repayment"), choices=Frequency.choices)
    grace_days = forms.IntegerField(
        label=_("Grace days"),
        min_value=0,
        max_value=365,
        initial=0,
        help_text=_("Days after a due date before an unpaid instalment counts as overdue."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self, _("Create the loan product"))
        self.helper.layout = Layout(
            "name",
            Row(Column("annual_rate"), Column("max_principal")),
            Row(Column("term_months"), Column("frequency"), Column("grace_days")),
        )


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: LoanProduct) -> str:
        return f"{obj.name} — {obj.fund.name} ({obj.fund.unit.name})"


class ApplicationForm(forms.Form):
    product = ProductChoiceField(label=_("Loan product"), queryset=LoanProduct.objects.none())
    principal = DongField(label=_("Principal (đồng)"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=120)
    purpose = forms.CharField(
        label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    guarantor = forms.CharField(
        label=_("Guarantor"),
        max_length=255,
        required=False,
        help_text=_("Leave empty when the union's confirmation stands as the guarantee."),
    )

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        products = LoanProduct.objects.filter(
            fund__unit_id__in=unit.ancestor_ids(), is_active=True, fund__is_active=True
        ).select_related("fund__unit")
        field = cast(ProductChoiceField, self.fields["product"])
        field.queryset = products
        self.helper = _helper(self, _("Apply for the loan"))
        self.helper.layout = Layout(
            "product", Row(Column("principal"), Column("term_months")), "purpose", "guarantor"
        )


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, label, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = required
        self.helper = _helper(self, label)


class DisbursementForm(_MoneyForm):
    disbursed_on = _date_field(_("Date disbursed"))
    receipt_reference = forms.CharField(
        label=_("Receipt or transfer reference"), max_length=64, required=False
    )
    submit_label = _("Record the disbursement")


class RepaymentForm(_MoneyForm):
    amount = DongField(label=_("Amount paid (đồng)"))
    paid_on = _date_field(_("Date paid"))
    receipt_reference = forms.CharField(label=_("Receipt reference"), max_length=64, required=False)
    submit_label = _("Record the repayment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(Row(Column("amount"), Column("paid_on")), "receipt_reference")


class RecoveryForm(RepaymentForm):
    submit_label = _("Record the recovery")


class RescheduleForm(forms.Form):
    term_months = forms.IntegerField(label=_("New term (months)"), min_value=1, max_value=120)
    starts_on = _date_field(_("New schedule starts on"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self, _("Reschedule"))


class WriteOffForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(self, _("Write off"))


OVERDUE_CHOICES = [
    ("", _("Any")),
    ("1_30", _("1-30 days")),
    ("31_90", _("31-90 days")),
    ("91_180", _("91-180 days")),
    ("over_180", _("Over 180 days")),
]


class PortfolioFilter(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *LoanStatus.choices]
    )
    fund = forms.ModelChoiceField(
        label=_("Fund"), required=False, queryset=Fund.objects.none(), empty_label=_("All")
    )
    overdue = forms.ChoiceField(label=_("Overdue"), required=False, choices=OVERDUE_CHOICES)
    unit = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The funds the reader's loans come from: a commune's loans may come from the
        # province's fund, which the commune does not see among its own funds.
        # Asked per lending fund (a few), each stopping at its first loan in scope, rather
        # than reading every loan in scope for their funds.
        lent_from = Loan.objects.visible_to(user).filter(fund=OuterRef("pk"))
        cast(forms.ModelChoiceField, self.fields["fund"]).queryset = Fund.objects.filter(
            Exists(lent_from), kind=FundKind.LOAN
        )
