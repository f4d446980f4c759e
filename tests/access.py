"""Building blocks of the access matrix (tests/portal/test_access_matrix.py).

Each app's views add their entries in a module of their own; the matrix gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from unions.models import RoleAssignment

ROLES = ["admin", "province", "commune", "grassroots", "treasurer", "leader"]
ALL_OK = dict.fromkeys(ROLES, 200)
ADMIN_ONLY = {role: (200 if role == "admin" else 403) for role in ROLES}
# Account pages refuse other roles before looking anything up.
REFUSED_FIRST = {role: 403 for role in ROLES if role != "admin"}
MEMBER_EDITORS = {role: (403 if role in ("treasurer", "leader") else 200) for role in ROLES}


@dataclass
class Entry:
    """How to reach one URL pattern and what each role must get."""

    inside: dict[str, int]
    # args for the URL given the world, the role and whether the object is inside scope
    args: Callable | None = None
    method: str = "get"
    # what each role gets for an object outside its scope: 404 unless the role is refused
    # before any lookup (403)
    outside: dict[str, int] = field(default_factory=dict)
    anonymous: int = 302


def unit_args(world, role, inside):
    if inside:
        return [world.a1.pk]
    return [world.q1.pk]


def sibling_unit_args(world, role):
    return [world.b1.pk] if role == "commune" else [world.a2.pk]


def member_args(world, role, inside):
    return [world.member_a1.pk if inside else world.member_q1.pk]


def dependant_args(world, role, inside):
    member = world.member_a1 if inside else world.member_q1
    return [member.dependants.get().pk]


def user_args(world, role, inside):
    return [world.users["grassroots" if inside else "outsider"].pk]


def assignment_args(world, role, inside):
    user = world.users["grassroots" if inside else "outsider"]
    return [RoleAssignment.objects.get(user=user).pk]
