from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from members.models import MemberAccess, SubjectRequest

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


class SubjectRequestForm(forms.ModelForm):
    """A request as the person made it: what they ask for, when it reached the union."""

    class Meta:
        model = SubjectRequest
        fields = ["kind", "received_on", "details"]
        widgets = {"received_on": DateInput(), "details": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "details": _("In the person's words: which data, what is wrong, how to reply."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()


class AnswerForm(forms.Form):
    """A step on a request: acknowledge it, record it done, or refuse it with the reason."""

    ACTIONS = [
        ("acknowledge", _("Acknowledged")),
        ("complete", _("Completed")),
        ("refuse", _("Refused")),
    ]

    action = forms.ChoiceField(label=_("Answer"), choices=ACTIONS, widget=forms.RadioSelect)
    on = forms.DateField(label=_("Date"), widget=DateInput)
    outcome = forms.CharField(
        label=_("What was done, or why it is refused"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, request: SubjectRequest, **kwargs):
        super().__init__(*args, **kwargs)
        actions = (
            self.ACTIONS if request.status == SubjectRequest.Status.RECEIVED else self.ACTIONS[1:]
        )
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = actions
        action.initial = actions[0][0]
        self.fields["on"].initial = timezone.localdate()


class LiftForm(forms.Form):
    """Lifting a restriction that was carried out: when, and why."""

    on = forms.DateField(label=_("Date"), widget=DateInput)
    reason = forms.CharField(
        label=_("Why the restriction is lifted"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the person asked for it to be lifted, on what date and how."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class SubjectRequestFilter(forms.Form):
    """What the administrator narrows the requests to; open requests by default."""

    SHOW = [
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("closed", _("Completed or refused")),
        ("all", _("All")),
    ]

    show = forms.ChoiceField(label=_("Show"), choices=SHOW, required=False)
    kind = forms.ChoiceField(label=_("Request"), required=False)
    q = forms.CharField(label=_("Name"), required=False, max_length=128)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All requests")), *SubjectRequest.Kind.choices]
