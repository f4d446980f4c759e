"""Forms for a shelter's record and its progress; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.db.models import BLANK_CHOICE_DASH
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput

from ..funds.forms import DongField
from .models import ContributorKind, Progress, Work


class ShelterForm(forms.Form):
    work = forms.ChoiceField(label=_("Work"), choices=Work.choices, widget=forms.RadioSelect)
    estimated_cost = DongField(label=_("Estimated cost (đồng)"))


class ContributorForm(forms.Form):
    # Starts empty, so that a row left blank is not a change the formset would check.
    kind = forms.ChoiceField(
        label=_("Contributor"), choices=[*BLANK_CHOICE_DASH, *ContributorKind.choices]
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    amount = DongField(label=_("Amount (đồng)"))


ContributorFormSet = forms.formset_factory(ContributorForm, extra=2, max_num=10)


class ProgressForm(forms.Form):
    progress = forms.ChoiceField(
        label=_("Step reached"),
        choices=[
            (Progress.BUILDING, Progress.BUILDING.label),
            (Progress.HANDED_OVER, Progress.HANDED_OVER.label),
        ],
    )
    on = forms.DateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)
    photo = forms.FileField(
        label=_("Photo of the house handed over (JPEG or PNG)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
