"""User accounts and role assignments, managed by administrators within their subtree."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as UserModel
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from .models import Role, RoleAssignment, Unit
from .scope import ActingUser, Capability, can, forget_grants

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
    if not can(by, Capability.MANAGE_USERS, unit):
        raise PermissionDenied
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, unit=unit, role=role, defaults={"granted_by": by}
    )
    if not created:
        raise ValidationError(_("This user already holds this role at this unit."))
    forget_grants(user)
    return assignment


@transaction.atomic
def create_user_with_role(
    *, form: ModelForm[UserModel], unit: Unit, role: str, by: UserModel
) -> UserModel:
    user = form.save()
    grant_role(user=user, unit=unit, role=role, by=by)
    return user


@transaction.atomic
def revoke_role(*, assignment: RoleAssignment, by: UserModel) -> None:
    if assignment.user_id == by.pk and assignment.role == Role.ADMINISTRATOR:
        raise ValidationError(_("You cannot remove your own administrator role."))
    assignment._history_user = by
    assignment.delete()
    forget_grants(assignment.user)
