from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from unions.forms import unit_choices
from unions.scope import Capability, only_unit_held

from .build import FIRST_YEAR


class ReportRequestForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"] = unit_choices(user, Capability.WRITE_REPORTS)
        self.fields["union"].label = _("Union")
        self.fields["union"].initial = only_unit_held(user, Capability.WRITE_REPORTS)
        this_year = timezone.localdate().year
        self.fields["year"] = forms.TypedChoiceField(
            label=_("Year"),
            coerce=int,
            choices=[(year, year) for year in range(this_year, FIRST_YEAR - 1, -1)],
            initial=this_year,
        )


class NarrativeForm(forms.Form):
    narrative = forms.CharField(
        label=_("Narrative"), widget=forms.Textarea(attrs={"rows": 10}), max_length=20_000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template holds the form and its action
        self.helper.add_input(Submit("submit", _("Save and build the PDF again")))
