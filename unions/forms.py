from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import SetPasswordForm, SetPasswordMixin
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput

from .models import Role, RoleAssignment, Unit, UnitKind
from .scope import Capability
from .widgets import UnitSearchField, UnitSearchSelect


def _helper(submit_label) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", submit_label))
    return helper


class UnitChoiceField(UnitSearchField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{'— ' * obj.depth}{obj.name}"


def unit_choices(user, capability: Capability, **filters) -> forms.ModelChoiceField:
    """The active units where the user holds ``capability`` (and of ``filters``, e.g. a
    ``kind``), chosen by typing part of a name when there are many."""
    search = {"for": capability.value, "active": "1", **filters}
    return UnitChoiceField(
        queryset=Unit.objects.visible_to(user, capability)
        .active()
        .filter(**filters)
        .order_by("path"),
        label=_("Unit"),
        widget=UnitSearchSelect(search=search),
    )


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["code", "name", "kind", "founded_on", "employer", "address", "phone", "email"]
        widgets = {"founded_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The founding date and kind are part of the tree's history; fix them by a new unit.
            del self.fields["founded_on"]
            del self.fields["kind"]
        else:
            self.fields["founded_on"].initial = timezone.localdate
        self.helper = _helper(_("Save"))


class NewUnitForm(UnitForm):
    """A unit created under a parent the administrator manages."""

    field_order = ["parent"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = unit_choices(user, Capability.MANAGE_TREE)
        self.fields["parent"].label = _("Parent unit")
        self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(
            kind=UnitKind.GRASSROOTS
        )
        self.order_fields(["parent", *self.Meta.fields])


class ReorganiseForm(forms.Form):
    effective_on = forms.DateField(label=_("Effective date"), widget=DateInput())
    note = forms.CharField(
        label=_("Decision or note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_on"].initial = timezone.localdate
        self.helper = _helper(_("Confirm"))


class MoveUnitForm(ReorganiseForm):
    field_order = ["new_parent", "effective_on", "note"]

    def __init__(self, *args, user, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        new_parent = unit_choices(user, Capability.MANAGE_TREE)
        new_parent.label = _("New parent unit")
        assert new_parent.queryset is not None  # unit_choices always gives one
        new_parent.queryset = new_parent.queryset.exclude(kind=UnitKind.GRASSROOTS).exclude(
            path__startswith=unit.path
        )
        self.fields["new_parent"] = new_parent
        self.order_fields(self.field_order)


class MergeUnitForm(ReorganiseForm):
    field_order = ["into", "effective_on", "note"]

    def __init__(self, *args, user, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        into = unit_choices(user, Capability.MANAGE_TREE)
        into.label = _("Merge into")
        assert into.queryset is not None  # unit_choices always gives one
        into.queryset = into.queryset.exclude(path__startswith=unit.path)
        self.fields["into"] = into
        self.order_fields(self.field_order)


class DissolveUnitForm(ReorganiseForm):
    pass


# The login names the portal gives out: easy to type and to say over the phone.
login_name = RegexValidator(
    r"^[a-z0-9._-]+\Z",
    _("Use lowercase letters without diacritics, digits and . _ - only."),
)


class UserForm(forms.ModelForm):
    """A Vietnamese name is asked as it is written: family and middle names, then the given
    name ("Lương Văn" / "Thắng")."""

    class Meta:
        model = get_user_model()
        fields = ["username", "last_name", "first_name", "email", "is_active"]
        labels = {"last_name": _("Family and middle names"), "first_name": _("Given name")}
        help_texts = {
            "username": _("Lowercase letters without diacritics, digits and . _ -"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.helper = _helper(_("Save"))

    def clean_username(self):
        username = self.cleaned_data["username"]
        # Accounts made before this rule keep their names until someone changes them.
        if "username" in self.changed_data:
            login_name(username)
        return username


def password_rules_for_someone_else() -> str:
    """The password rules as an administrator setting another person's password reads them:
    Django's help speaks to the password's owner ("Your password can't be...")."""
    rules = []
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            rules.append(gettext("at least %(count)d characters") % {"count": validator.min_length})
        elif isinstance(validator, password_validation.UserAttributeSimilarityValidator):
            rules.append(gettext("not too like the person's login name, name or e-mail"))
        elif isinstance(validator, password_validation.CommonPasswordValidator):
            rules.append(gettext("not a commonly used password"))
        elif isinstance(validator, password_validation.NumericPasswordValidator):
            rules.append(gettext("not digits only"))
        else:
            rules.append(validator.get_help_text())
    return gettext(
        "The password must be: %(rules)s. Its owner chooses their own at the first login."
    ) % {"rules": "; ".join(rules)}


class TemporaryPasswordForm(SetPasswordForm):
    """An administrator's temporary password for someone else's account."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_rules_for_someone_else()


class NewUserForm(SetPasswordMixin, UserForm):
    """A new account always comes with its first role, so it is in someone's scope."""

    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_rules_for_someone_else()
        self.fields["unit"] = unit_choices(manager, Capability.MANAGE_USERS)
        self.fields["role"] = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def clean(self):
        self.validate_passwords()
        return super().clean()

    def _post_clean(self):
        super()._post_clean()
        self.validate_password_for_user(self.instance)

    def save(self, commit=True):
        user = super().save(commit=False)
        return self.set_password_and_save(user, commit=commit)


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["unit", "role"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = unit_choices(user, Capability.MANAGE_USERS)
        self.fields["role"].choices = Role.choices
        self.helper = _helper(_("Grant role"))

    def validate_unique(self):
        # The user is set by the view; check the triple here so the error lands on the form.
        super().validate_unique()
        if (
            self.instance.user_id
            and RoleAssignment.objects.filter(
                user_id=self.instance.user_id,
                unit=self.cleaned_data.get("unit"),
                role=self.cleaned_data.get("role"),
            ).exists()
        ):
            self.add_error("role", _("This user already holds this role at this unit."))


class SecondFactorCodeForm(forms.Form):
    """A code from the authenticator app (six digits) or, where allowed, a recovery code."""

    code = forms.CharField(label=_("Code"), max_length=32, strip=True)

    def __init__(self, *args, recovery: bool = True, autofocus: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.widget.attrs.update({"autocomplete": "one-time-code", "autocapitalize": "off"})
        if autofocus:
            field.widget.attrs["autofocus"] = True
        if recovery:
            field.label = _("Code from the app, or a recovery code")
            field.help_text = _(
                "Six digits from the authenticator app; without the phone, one of the "
                "recovery codes printed when the app was set up (each works once)."
            )
        else:
            field.label = _("Code from the app")
            field.widget.attrs["inputmode"] = "numeric"
            field.help_text = _("The six digits the authenticator app shows now.")
