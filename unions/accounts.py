"""User accounts and role assignments, managed by administrators within their subtree."""

from __future__ import annotations

from axes.models import AccessAttempt
from axes.utils import reset as reset_login_failures
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as UserModel
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AccountSettings, Role, RoleAssignment, Unit
from .scope import ActingUser, Capability, authorize_write, forget_grants, require_actor

User = get_user_model()


def users_visible_to(manager: ActingUser) -> QuerySet[UserModel]:
    """Accounts holding at least one role inside the manager's user-management scope."""
    assignments = RoleAssignment.objects.visible_to(manager, Capability.MANAGE_USERS)
    return User.objects.filter(pk__in=assignments.values("user_id"))


def get_user_for_manager(manager: ActingUser, pk: int | str) -> UserModel:
    return get_object_or_404(users_visible_to(manager), pk=pk)


def get_assignment_for_manager(manager: ActingUser, pk: int | str) -> RoleAssignment:
    return get_object_or_404(
        RoleAssignment.objects.visible_to(manager, Capability.MANAGE_USERS).select_related(
            "unit", "user"
        ),
        pk=pk,
    )


@transaction.atomic
def grant_role(*, user: UserModel, unit: Unit, role: str, by: UserModel) -> RoleAssignment:
    """Give ``user`` a role at ``unit``: both the unit and the account (by a role it already
    holds) must be inside the manager's user-management scope."""
    authorize_write(by, Capability.MANAGE_USERS, unit)
    check_manages(by, user)
    return _grant(user=user, unit=unit, role=role, by=by)


def check_manages(manager: UserModel, user: UserModel) -> None:
    """404 for an account the manager may not see (it holds no role in their scope)."""
    if not require_actor(manager).is_superuser:
        get_user_for_manager(manager, user.pk)


@transaction.atomic
def update_account(*, form: ModelForm[UserModel], by: UserModel) -> UserModel:
    """Save the edits of an account's name, e-mail and status by one who manages it."""
    check_manages(by, form.instance)
    return form.save()


def _grant(*, user: UserModel, unit: Unit, role: str, by: UserModel) -> RoleAssignment:
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, unit=unit, role=role, defaults={"granted_by": by}
    )
    if not created:
        raise ValidationError(_("This user already holds this role at this unit."))
    forget_grants(user)
    return assignment


@transaction.atomic
def create_user_with_role(
    *,
    form: ModelForm[UserModel],
    unit: Unit,
    role: str,
    by: UserModel,
    must_change_password: bool = True,
) -> UserModel:
    """A new account with its first role; refused before anything is saved.  Its password
    was chosen by the administrator, so its owner changes it at the first login."""
    authorize_write(by, Capability.MANAGE_USERS, unit)
    user = form.save()
    _grant(user=user, unit=unit, role=role, by=by)
    _set_must_change(user, must_change_password)
    return user


@transaction.atomic
def set_temporary_password(*, user: UserModel, password: str, by: UserModel) -> None:
    """An administrator gives an account in their scope a password of their choosing (404
    outside it); its owner must change it at the next login.  Changing the password ends the
    account's open sessions (Django checks the password hash on every request)."""
    check_manages(by, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    _set_must_change(user, True)


def password_changed(user: UserModel) -> None:
    """The owner chose a password of their own (changed it, or reset it from the e-mail)."""
    _set_must_change(user, False)


def must_change_password(user: UserModel) -> bool:
    return AccountSettings.objects.filter(user=user, must_change_password=True).exists()


def _set_must_change(user: UserModel, flag: bool) -> None:
    AccountSettings.objects.update_or_create(user=user, defaults={"must_change_password": flag})


@transaction.atomic
def revoke_role(*, assignment: RoleAssignment, by: UserModel) -> None:
    authorize_write(by, Capability.MANAGE_USERS, assignment.unit)
    if assignment.user_id == by.pk and assignment.role == Role.ADMINISTRATOR:
        raise ValidationError(_("You cannot remove your own administrator role."))
    assignment._history_user = by
    assignment.delete()
    forget_grants(assignment.user)


def is_locked_out(user: UserModel) -> bool:
    """Whether logins to the account are locked from some address (django-axes) right now."""
    return bool(
        AccessAttempt.objects.filter(
            username=user.get_username(),
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        ).exists()
    )


@transaction.atomic
def unlock_account(*, user: UserModel, by: UserModel) -> int:
    """An administrator lifts the login lockout of an account in their scope (404 outside
    it), from every address; returns how many locked addresses were cleared."""
    check_manages(by, user)
    return int(reset_login_failures(username=user.get_username()))
