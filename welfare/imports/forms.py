"""The form of the step that opens a fund a past-support sheet names (``past_funds``)."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from welfare.funds.models import FundKind


class PastFundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    kind = forms.ChoiceField(label=_("Kind"), choices=FundKind.choices, initial=FundKind.WELFARE)
    opened_on = forms.DateField(label=_("Opening date"), widget=DateInput)
    confirm = forms.BooleanField(
        label=_(
            "I confirm that this fund existed at this union from the opening date and that the "
            "sheet's records were paid from it. It is opened as a fund of past records: closed, "
            "with no balance."
        ),
        error_messages={"required": _("Tick the confirmation to open the fund.")},
    )

    @classmethod
    def for_missing(cls, missing: dict, index: int, data=None) -> PastFundForm:
        first = datetime.date.fromisoformat(missing["first"])
        return cls(
            data,
            prefix=f"fund{index}",
            initial={"name": missing["name"], "opened_on": datetime.date(first.year, 1, 1)},
        )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())
