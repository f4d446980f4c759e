"""Forms of the case pages: the case itself, its evidence, and each decision on the money path."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from unions.models import Unit
from unions.scope import grants, visible_unit_ids
from welfare.funds.forms import FundChoiceField
from welfare.funds.models import Fund

from . import approvals
from .evidence import MAX_FILES, check_count, check_upload, find_kept, keep_uploads
from .models import (
    Case,
    CaseStatus,
    Category,
    OrganisationKind,
    PaymentMethod,
    PendingUpload,
    SupportType,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Whole đồng as people type them: 1500000, 1.500.000, 1 500 000, 1,500,000, with or without ₫.
_DONG_GROUPS = re.compile(r"^(\d+|\d{1,3}(\.\d{3})+|\d{1,3}(,\d{3})+)$")
_DONG_SUFFIX = re.compile(r"(₫|đồng|đ|vnd)$", re.IGNORECASE)
MAX_AMOUNT = 10**13  # ten thousand billion đồng: far above any support, far below 64 bits
FIRST_YEAR = 2015


def parse_dong(text: str) -> int:
    compact = "".join(str(text).split())
    compact = _DONG_SUFFIX.sub("", compact)
    if not _DONG_GROUPS.match(compact):
        raise ValidationError(
            _("Enter a whole number of đồng, for example 1.500.000."), code="invalid"
        )
    return int(compact.replace(".", "").replace(",", ""))


def group_thousands(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


class DongInput(forms.TextInput):
    """Shows a stored amount grouped by dots, the way it is read: 1.500.000."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, int):
            return group_thousands(value)
        return super().format_value(value)


class DongField(forms.IntegerField):
    """An amount in whole đồng, typed with or without thousands separators."""

    widget = DongInput
    default_error_messages = {
        "invalid": _("Enter a whole number of đồng, for example 1.500.000."),
        "min_value": _("The amount must be greater than zero."),
        "max_value": _("The amount is too large."),
    }

    # 0 đồng allowed: a visit without money, which the form checks against the support type.
    allow_zero = False

    def __init__(self, *, min_value=None, max_value=MAX_AMOUNT, **kwargs):
        kwargs.pop("step_size", None)
        # A model's BigIntegerField offers the whole 64-bit range: an amount is never below
        # 1 đồng (the database's case_requested_positive) nor above MAX_AMOUNT.
        lowest = 0 if self.allow_zero else 1
        min_value = lowest if min_value is None else max(min_value, lowest)
        max_value = MAX_AMOUNT if max_value is None else min(max_value, MAX_AMOUNT)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int):
            return value
        return parse_dong(value)


class DongOrZeroField(DongField):
    """An amount that may be 0 đồng (a visit without money)."""

    allow_zero = True
    default_error_messages = {"min_value": _("The amount cannot be negative.")}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """One or more evidence files, each a real PDF, JPEG or PNG of 10 MB at most."""

    widget = MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"})

    def check_each(self, data: Any) -> tuple[list[UploadedFile], list[ValidationError]]:
        """The files that pass, and an error naming each one that does not."""
        uploads = data if isinstance(data, list | tuple) else ([data] if data else [])
        valid: list[UploadedFile] = []
        errors: list[ValidationError] = []
        for upload in uploads:
            try:
                super().clean(upload)
            except ValidationError as error:
                errors.extend(
                    ValidationError(
                        _("%(name)s: %(reason)s") % {"name": upload.name, "reason": message}
                    )
                    for message in error.messages
                )
                continue
            try:
                check_upload(upload)
            except ValidationError as error:
                errors.append(error)
            else:
                valid.append(upload)
        return valid, errors

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        valid, errors = self.check_each(data)
        if errors:
            raise ValidationError(errors)
        if not valid and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return valid


class KeepsEvidence(forms.BaseForm):
    """A form whose evidence files outlive its errors.  When it is shown again, the files that
    passed are kept as the user's ``PendingUpload``s (``keep_chosen``, called by the view) and
    listed with a box to remove each; their tokens come back with the next post, and
    ``cleaned_data["kept"]`` holds them for the evidence service.  A token that names nothing
    of the user's (cleaned after a day, or another person's) is never used: ``lost`` counts
    them so the view can say so."""

    evidence_field = "evidence"
    kept_name = "kept"
    drop_name = "kept_drop"

    def setup_kept(self, *, by, case: Case | None) -> None:
        self.by, self.kept_for = by, case
        self.kept: list[PendingUpload] = []
        self.lost = 0
        self.dropped: list[str] = []
        if not self.is_bound or by is None:
            return
        tokens = self._posted(self.kept_name)
        drop = set(self._posted(self.drop_name))
        self.dropped = [token for token in tokens if token in drop]
        self.kept, self.lost = find_kept(
            [token for token in tokens if token not in drop], by=by, case=case
        )

    def _posted(self, name: str) -> list[str]:
        getlist = getattr(self.data, "getlist", None)
        values = getlist(name) if getlist else [self.data.get(name)]
        return [str(value)[:64] for value in values if value]

    @property
    def kept_names(self) -> str:
        return ", ".join(upload.original_name for upload in self.kept)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        cleaned["kept"] = list(self.kept)
        chosen = cleaned.get(self.evidence_field)
        if chosen is not None:
            held = self.kept_for.evidence.count() if self.kept_for else 0
            try:
                check_count(held=held, adding=len(chosen) + len(self.kept))
            except ValidationError as error:
                self.add_error(self.evidence_field, error)
        return cleaned

    def keep_chosen(self) -> None:
        """Keep the files chosen on this post that passed, for the form shown again; a file
        past the limit of a case is named as not kept."""
        if self.by is None or not self.is_bound:
            return
        field = cast(EvidenceField, self.fields[self.evidence_field])
        valid, _errors = field.check_each(self.files.getlist(self.add_prefix(self.evidence_field)))
        room = max(MAX_FILES - len(self.kept), 0)
        if len(valid) > room:
            names = ", ".join(str(upload.name) for upload in valid[room:])
            self.add_error(
                self.evidence_field,
                _("Not kept, a case holds at most %(max)d files: %(names)s.")
                % {"max": MAX_FILES, "names": names},
            )
        self.kept += keep_uploads(files=valid[:room], by=self.by, case=self.kept_for)


class KeptUploads:
    """The layout piece listing a form's kept files (with the form itself, whatever the page
    calls its form)."""

    def render(self, form, context, template_pack=None, **kwargs) -> str:
        return render_to_string("welfare/kept_uploads.html", {"form": form})


KEPT_UPLOADS = KeptUploads()


EVIDENCE_HELP = _("PDF, JPEG or PNG, 10 MB each at most. You can choose several files at once.")


ZERO_ONLY_FOR_VISITS = _(
    "Only a visit may be recorded without money (0 đồng); enter the amount of this support."
)
# Support given for a member's child, which names the child (approvals.FOR_A_CHILD).
FOR_A_CHILD = (SupportType.SAVINGS_BOOK, SupportType.SCHOLARSHIP)


class CaseForm(KeepsEvidence, forms.ModelForm):
    """A case for one person at their union (with the child, for a savings book or a
    scholarship), or for an organisation or group when ``organisation`` is set; the evidence
    is optional until it is submitted."""

    evidence = EvidenceField(label=_("Evidence files"), required=False, help_text=EVIDENCE_HELP)
    # Only on the organisation variant: the organisation is found by its name at the union,
    # or recorded there (approvals.organisation_for).
    organisation_name = forms.CharField(
        label=_("Name of the organisation or group"), max_length=200
    )
    organisation_kind = forms.ChoiceField(
        label=_("Kind of organisation"), choices=OrganisationKind.choices
    )
    organisation_address = forms.CharField(
        label=_("Address of the organisation"), max_length=255, required=False
    )

    class Meta:
        model = Case
        fields = ["category", "circumstances", "support_type", "requested_amount", "fund"]
        field_classes = {"requested_amount": DongOrZeroField, "fund": FundChoiceField}
        widgets = {"circumstances": forms.Textarea(attrs={"rows": 5})}
        help_texts = {
            "circumstances": _(
                "What happened and why the person needs support. Write only what the case needs."
            ),
            "fund": _("A fund of this union or of a union above it."),
            "requested_amount": _("0 for a visit without money."),
        }

    def __init__(self, *args, unit: Unit, by=None, member=None, organisation=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_kept(by=by, case=self.instance if self.instance.pk else None)
        self.for_organisation = organisation
        cast(FundChoiceField, self.fields["fund"]).queryset = (
            Fund.objects.usable_by(unit).select_related("unit").order_by("-unit__depth", "name")
        )
        beneficiary: list = []
        if organisation:
            known = self.instance.organisation if self.instance.pk else None
            if known is not None:
                self.fields["organisation_name"].initial = known.name
                self.fields["organisation_kind"].initial = known.kind
                self.fields["organisation_address"].initial = known.address
            beneficiary = [
                Fieldset(
                    _("Organisation or group supported"),
                    Row(
                        Column("organisation_name", css_class="col-md-6"),
                        Column("organisation_kind", css_class="col-md-6"),
                    ),
                    "organisation_address",
                )
            ]
        else:
            for name in ("organisation_name", "organisation_kind", "organisation_address"):
                del self.fields[name]
            self.dependants = list(member.dependants.all()) if member is not None else []
            self.fields["dependant"] = forms.ModelChoiceField(
                label=_("Child (savings book, scholarship)"),
                queryset=member.dependants.all() if member is not None else Case.objects.none(),
                required=False,
                initial=self.instance.dependant_id,
                help_text=_("The child the savings book or the scholarship is for."),
            )
        self.helper = FormHelper()
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}
        support_rows = [
            Row(
                Column("support_type", css_class="col-md-4"),
                Column("requested_amount", css_class="col-md-3"),
                Column("fund", css_class="col-md-5"),
            )
        ]
        if not organisation:
            support_rows.append(Row(Column("dependant", css_class="col-md-6")))
        self.helper.layout = Layout(
            *beneficiary,
            Fieldset(
                _("Hardship"),
                Row(Column("category", css_class="col-md-6")),
                "circumstances",
            ),
            Fieldset(_("Support asked for"), *support_rows),
            Fieldset(_("Evidence"), "evidence", KEPT_UPLOADS),
        )
        label = _("Save the draft") if self.instance.pk is None else _("Save the changes")
        self.helper.add_input(Submit("save", label))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        support_type, amount = cleaned.get("support_type"), cleaned.get("requested_amount")
        if amount == 0 and support_type and support_type != SupportType.VISIT:
            self.add_error("requested_amount", ZERO_ONLY_FOR_VISITS)
        if not self.for_organisation:
            if support_type in FOR_A_CHILD and cleaned.get("dependant") is None:
                message = (
                    _("Choose the child the savings book or the scholarship is for.")
                    if self.dependants
                    else _(
                        "This person has no child recorded: add the child on the person's "
                        "page first, then choose them here."
                    )
                )
                self.add_error("dependant", message)
            elif support_type not in FOR_A_CHILD:
                cleaned["dependant"] = None
        return cleaned

    def save(self, commit: bool = True) -> Case:
        case = super().save(commit=False)
        if not self.for_organisation:
            case.dependant = self.cleaned_data.get("dependant")
        if commit:
            case.save()
        return case


class Action(Submit):
    """A submit button whose colour is given whole (crispy's Submit is always btn-primary)."""

    field_classes = "btn"


def _action_helper(case: Case, url_name: str, label: StrOrPromise, css_class: str) -> FormHelper:
    helper = FormHelper()
    helper.form_action = reverse(url_name, args=[case.pk])
    helper.add_input(Action("submit", label, css_class=css_class))
    return helper


class EvidenceForm(KeepsEvidence, forms.Form):
    # The form metaclass moves declared fields into base_fields; ``form.files`` stays the
    # uploads, which the stubs cannot tell.  Not required: adding evidence to a draft is
    # optional, and a post may bring only files kept from the try before (checked in clean).
    files = EvidenceField(  # type: ignore[assignment]
        label=_("Add evidence files"), required=False, help_text=EVIDENCE_HELP
    )
    evidence_field = "files"

    def __init__(self, *args, case: Case, by=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_kept(by=by, case=case)
        self.helper = _action_helper(case, "cases:evidence_add", _("Upload"), "btn-outline-primary")
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.layout = Layout("files", KEPT_UPLOADS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "files" in cleaned and not cleaned["files"] and not cleaned["kept"]:
            self.add_error("files", _("Choose at least one file to upload."))
        return cleaned


class SubmitForm(forms.Form):
    comment = forms.CharField(
        label=_("Note for the reviewers (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        label = (
            _("Submit again") if case.status == CaseStatus.RETURNED else _("Submit for approval")
        )
        self.helper = _action_helper(case, "cases:submit", label, "btn-primary")


class EndorseForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _action_helper(
            case, "cases:endorse", _("Endorse and pass it up"), "btn-success"
        )


class ReasonForm(forms.Form):
    """Return or reject: the same reason box, two buttons that post to their own URLs."""

    comment = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason: the person who opened the case reads it.")},
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _action_helper(case, "cases:return", _("Return for changes"), "btn-warning")
        self.helper.add_input(
            Action(
                "reject",
                _("Reject"),
                css_class="btn-outline-danger ms-2",
                formaction=reverse("cases:reject", args=[case.pk]),
            )
        )


class ApproveForm(forms.Form):
    amount = DongOrZeroField(label=_("Amount approved (đồng)"))
    comment = forms.CharField(
        label=_("Appraisal (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].initial = case.requested_amount
        self.fields["amount"].help_text = _(
            "Prefilled with the amount asked for; it may differ. It is reserved on %(fund)s."
        ) % {"fund": case.fund.name}
        if case.support_type == SupportType.VISIT:
            self.fields["amount"].help_text += " " + _(
                "0 records a visit without money: it is marked done at once, nothing is paid."
            )
        self.support_type = case.support_type
        self.helper = _action_helper(case, "cases:approve", _("Approve"), "btn-success")

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0 and self.support_type != SupportType.VISIT:
            raise ValidationError(ZERO_ONLY_FOR_VISITS)
        return amount


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("Payment date"), widget=DateInput())
    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, widget=forms.RadioSelect
    )
    receipt_reference = forms.CharField(label=_("Receipt or transfer reference"), max_length=64)
    received_by = forms.CharField(label=_("Received by"), max_length=128)

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate
        self.fields["method"].initial = PaymentMethod.CASH
        self.fields["received_by"].initial = (
            "" if case.organisation_id is not None else case.beneficiary_name
        )
        self.helper = _action_helper(case, "cases:pay", _("Record the payment"), "btn-success")
        self.helper.layout = Layout(
            Row(Column("paid_on"), Column("method")),
            Row(Column("receipt_reference"), Column("received_by")),
        )

    def clean_receipt_reference(self) -> str:
        return self.cleaned_data["receipt_reference"].strip()

    def clean_received_by(self) -> str:
        return " ".join(self.cleaned_data["received_by"].split())


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, ID number or union card"), required=False)


def _year_choices():
    this_year = timezone.localdate().year
    return [(year, str(year)) for year in range(this_year, FIRST_YEAR - 1, -1)]


def case_funds(user):
    """Funds the cases in the user's scope draw from: those of the units in scope and of the
    unions above them (read from the user's own grants, no tree walk)."""
    above = {int(part) for grant in grants(user) for part in grant.path.split("/") if part}
    return Fund.objects.filter(
        Q(unit_id__in=visible_unit_ids(user)) | Q(unit_id__in=above)
    ).select_related("unit")


class CaseFilter(django_filters.FilterSet):
    waiting = django_filters.BooleanFilter(
        method="filter_waiting", widget=forms.CheckboxInput, label=_("Only cases waiting for me")
    )
    mine = django_filters.BooleanFilter(
        method="filter_mine", widget=forms.CheckboxInput, label=_("Only cases I opened")
    )
    status = django_filters.ChoiceFilter(
        choices=CaseStatus.choices, label=_("Status"), empty_label=_("All")
    )
    category = django_filters.ChoiceFilter(
        choices=Category.choices, label=_("Hardship category"), empty_label=_("All")
    )
    support_type = django_filters.ChoiceFilter(
        choices=SupportType.choices, label=_("Support type"), empty_label=_("All")
    )
    # Chosen by typing (includes/search_choice.html): only the chosen fund and unit are read,
    # so the page does not grow with the tree.
    fund = django_filters.ModelChoiceFilter(
        queryset=Fund.objects.none(), label=_("Fund"), widget=forms.HiddenInput
    )
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.none(),
        method="filter_unit",
        label=_("Unit (with the units under it)"),
        widget=forms.HiddenInput,
    )
    member = django_filters.NumberFilter(field_name="member_id", widget=forms.HiddenInput)
    year = django_filters.ChoiceFilter(
        choices=_year_choices,
        field_name="created_at",
        lookup_expr="year",
        label=_("Year opened"),
        empty_label=_("All years"),
    )
    # The dashboard's figures count support in the year it was paid; its links use this.
    paid_year = django_filters.NumberFilter(
        field_name="paid_on", lookup_expr="year", widget=forms.HiddenInput
    )

    class Meta:
        model = Case
        fields = [
            "waiting",
            "mine",
            "status",
            "category",
            "support_type",
            "fund",
            "unit",
            "member",
            "year",
            "paid_year",
        ]

    def __init__(self, data=None, *, user, **kwargs):
        self.only_waiting = bool(data) and data.get("waiting") in ("1", "on", "true", "True")
        queryset = (
            approvals.waiting_for(user) if self.only_waiting else Case.objects.visible_to(user)
        )
        queryset = queryset.select_related("member", "organisation", "unit", "fund", "current_unit")
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        self.filters["unit"].queryset = Unit.objects.visible_to(user)
        self.filters["fund"].queryset = case_funds(user)
        # The filter's field puts "All years" first itself.
        self.form.fields["year"].choices = _year_choices()

    def filter_waiting(self, queryset, name, value):
        return queryset  # chosen as the base queryset in __init__ (approvals.waiting_for)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(created_by=self.user) if value else queryset

    def filter_unit(self, queryset, name, unit: Unit):
        return queryset.filter(unit__in=Unit.objects.ids_in_subtree_of(unit))

    @property
    def qs(self):
        queryset = super().qs
        if self.only_waiting:
            return queryset.order_by("submitted_at", "id")
        return queryset.order_by("-created_at", "-id")
