from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from members.models import MemberAccess

from ..cases.models import CaseAccess


class AccessLogFilter(forms.Form):
    """What the administrator narrows the log to; every field optional."""

    LOGS = [("cases", _("Case files")), ("members", _("Member records"))]

    log = forms.ChoiceField(label=_("Log"), choices=LOGS, required=False)
    what = forms.ChoiceField(label=_("Action"), required=False)
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        log = self.data.get("log") or "cases"
        choices = CaseAccess.What.choices if log == "cases" else MemberAccess.What.choices
        self.fields["what"].choices = [("", _("All actions")), *choices]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date cannot be before the start date."))
        return data
