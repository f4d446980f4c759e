"""The one scoping mechanism: which units a user may see, and what they may do there.

A role assignment at a unit reaches that unit's whole subtree in today's tree, found by a
prefix match on the materialised path.  Every model that belongs to a unit builds its
``visible_to(user)`` on ``scope_q``; views fetch objects through ``get_unit_for_user`` and the
``get_*_for_user`` functions of the other apps, which answer 404 for anything out of scope.

Every service that writes checks its acting user itself with ``authorize_write``: the same
answers as the views (404 outside the user's scope, 403 in scope when the role may not act),
whoever calls it.  There is no anonymous write: ``by=None`` is refused.  A superuser is the
one exception to the subtree rule: it stands for the system (the Django admin, the seeds,
a management command), may write anywhere and is the only account that may create a unit
without a parent (a province).  It sees nothing in the portal's own pages unless it also
holds a role, since ``scope_q`` and ``visible_to`` know only role assignments.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Role, RoleAssignment, Unit

# Whoever acts: ``request.user`` in a view, a ``User`` in a service, a task or a test.
ActingUser: TypeAlias = User | AnonymousUser

# The user's grants, kept on the user object so a request reads them once.
_GRANTS_CACHE = "_unit_grants"


class Capability(enum.StrEnum):
    VIEW = "view"
    EDIT_MEMBERS = "edit_members"
    MANAGE_TREE = "manage_tree"
    MANAGE_USERS = "manage_users"
    OPEN_CASES = "open_cases"
    # Held at the exact unit of a step, not through a unit above it (welfare/cases/approvals.py).
    REVIEW_CASES = "review_cases"
    PAY = "pay"
    WRITE_REPORTS = "write_reports"


_CASEWORK = {
    Capability.VIEW,
    Capability.EDIT_MEMBERS,
    Capability.OPEN_CASES,
    Capability.WRITE_REPORTS,
}
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OFFICER: frozenset({*_CASEWORK, Capability.REVIEW_CASES}),
    Role.STAFF: frozenset({*_CASEWORK, Capability.REVIEW_CASES}),
    Role.PROVINCE_STAFF: frozenset({*_CASEWORK, Capability.REVIEW_CASES}),
    Role.TREASURER: frozenset({Capability.VIEW, Capability.PAY}),
    Role.LEADER: frozenset({Capability.VIEW, Capability.WRITE_REPORTS}),
    Role.ADMINISTRATOR: frozenset(
        {
            Capability.VIEW,
            Capability.EDIT_MEMBERS,
            Capability.MANAGE_TREE,
            Capability.MANAGE_USERS,
        }
    ),
}


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: int
    unit_name: str
    path: str
    unit_kind: str = ""

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


def grants(user: ActingUser) -> list[Grant]:
    """The user's role assignments, read once per user object (one query per request)."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return []
    cached: list[Grant] | None = getattr(user, _GRANTS_CACHE, None)
    if cached is None:
        cached = [
            Grant(role, unit_id, unit_name, path, unit_kind)
            for role, unit_id, unit_name, path, unit_kind in RoleAssignment.objects.filter(
                user=user
            ).values_list("role", "unit_id", "unit__name", "unit__path", "unit__kind")
        ]
        setattr(user, _GRANTS_CACHE, cached)
    return cached


def forget_grants(user: ActingUser) -> None:
    if hasattr(user, _GRANTS_CACHE):
        delattr(user, _GRANTS_CACHE)


def scope_paths(user: ActingUser, capability: Capability = Capability.VIEW) -> list[str]:
    """The top-most paths under which the user holds ``capability``."""
    paths = sorted(
        {g.path for g in grants(user) if capability in ROLE_CAPABILITIES.get(g.role, ())}
    )
    tops: list[str] = []
    for path in paths:
        if not any(path.startswith(top) for top in tops):
            tops.append(path)
    return tops


def scope_q(user: ActingUser, path_field: str, capability: Capability = Capability.VIEW) -> Q:
    """A filter on ``path_field`` (a unit path) that keeps only the user's subtrees."""
    q = Q(pk__in=[])
    for path in scope_paths(user, capability):
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def visible_unit_ids(
    user: ActingUser, capability: Capability = Capability.VIEW
) -> QuerySet[Unit, Any]:
    """A subquery of unit ids, for filtering big tables by ``unit_id IN (...)``."""
    return Unit.objects.filter(scope_q(user, "path", capability)).values("pk")


def can(user: ActingUser, capability: Capability, unit: Unit) -> bool:
    """Whether ``user`` may do ``capability`` at ``unit``: a grant at it or any unit above it."""
    return any(unit.path.startswith(path) for path in scope_paths(user, capability))


def can_anywhere(user: ActingUser, capability: Capability) -> bool:
    """Whether ``user`` may do ``capability`` at some unit: the gate of a page whose content is
    then filtered by ``scope_q`` / ``visible_to`` for the same capability (a list, a form)."""
    return bool(scope_paths(user, capability))


def units_held(user: ActingUser, capability: Capability) -> list[int]:
    """The units where the user holds ``capability`` by an assignment at that very unit."""
    return [g.unit_id for g in grants(user) if capability in ROLE_CAPABILITIES.get(g.role, ())]


def only_unit_held(user: ActingUser, capability: Capability) -> int | None:
    """The unit where the user holds ``capability``, when there is exactly one: a form choosing
    a unit for that capability starts on it."""
    held = set(units_held(user, capability))
    return held.pop() if len(held) == 1 else None


def roles_with(capability: Capability) -> list[str]:
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]


def holders(
    capability: Capability, unit_ids: Iterable[int], *, besides: Iterable[int] = ()
) -> QuerySet[User]:
    """The active users who hold ``capability`` by a grant at one of these very units (whom a
    step waits for, whom a notice goes to), less ``besides``; each once."""
    grants = RoleAssignment.objects.filter(
        unit_id__in=list(unit_ids), role__in=roles_with(capability)
    )
    return (
        User.objects.filter(pk__in=grants.values("user_id"), is_active=True)
        .exclude(pk__in=list(besides))
        .order_by("pk")
    )


def holds_at(user: ActingUser, capability: Capability, unit_id: int) -> bool:
    """Whether ``user`` holds ``capability`` by a grant at this very unit, not one above it
    (reviewing a step of the chain, paying from a fund)."""
    return unit_id in units_held(user, capability)


def authorize(user: ActingUser, capability: Capability, unit: Unit) -> None:
    """403 for a user who may see ``unit`` but not do ``capability`` there."""
    if not can(user, capability, unit):
        raise PermissionDenied


def require_actor(user: ActingUser | None) -> User:
    """403 for a write without a signed-in acting user: every write is done by someone, and
    the signed-in user returned is that someone."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        raise PermissionDenied
    return user


def authorize_write(
    user: ActingUser | None, capability: Capability, unit: Unit, *, here: bool = False
) -> None:
    """Refuse a write at ``unit`` as the views do: 404 when the unit is outside the user's
    scope, 403 when it is in scope but the role may not do ``capability`` there (``here``: by
    a grant at this very unit, as a treasurer pays).  A superuser may write anywhere."""
    actor = require_actor(user)
    if actor.is_superuser:
        return
    if not can(actor, Capability.VIEW, unit):
        raise Http404
    if not (holds_at(actor, capability, unit.pk) if here else can(actor, capability, unit)):
        raise PermissionDenied


def get_unit_for_user(
    user: ActingUser, pk: int | str, *, capability: Capability = Capability.VIEW
) -> Unit:
    """The unit if it is in the user's scope (404 otherwise), 403 if the role may not act."""
    unit = get_object_or_404(Unit.objects.visible_to(user), pk=pk)
    authorize(user, capability, unit)
    return unit
