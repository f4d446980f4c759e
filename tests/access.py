"""Building blocks of the access matrix (tests/portal/test_access_matrix.py).

Each app's views add their entries in a module of their own; the matrix gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from unions.models import RoleAssignment

ROLES = ["admin", "province", "commune", "grassroots", "treasurer", "leader"]
ALL_OK = dict.fromkeys(ROLES, 200)
ADMIN_ONLY = {role: (200 if role == "admin" else 403) for role in ROLES}
# Account pages refuse other roles before looking anything up.
REFUSED_FIRST = {role: 403 for role in ROLES if role != "admin"}
MEMBER_EDITORS = {role: (403 if role in ("treasurer", "leader") else 200) for role in ROLES}


def told(msgid: str, **params) -> str:
    """A message as the portal says it by default: in Vietnamese."""
    with translation.override("vi"):
        text = gettext(msgid)
    return text % params if params else text


@dataclass
class Effect:
    """What a POST leaves behind, read by ``state(obj, client)`` before and after the request
    (``obj`` is the URL's first object, None when it names none).

    Inside scope, a role in ``done`` changes exactly the fields ``done[role]`` names, to the
    values given there; every other role, every role outside scope and an anonymous visitor
    (unless ``done`` names "anonymous") leave the state as it was.  A role turned away by a
    redirect must find ``refusal[role]`` among the messages: a 302 alone says nothing."""

    state: Callable[[Any, Any], dict]
    done: dict[str, dict] = field(default_factory=dict)
    refusal: dict[str, str] = field(default_factory=dict)


def each(roles, **change) -> dict[str, dict]:
    """The same change done by each of ``roles``."""
    return {role: dict(change) for role in roles}


@dataclass
class Entry:
    """How to reach one URL pattern and what each role must get."""

    inside: dict[str, int]
    # args for the URL given the world, the role and whether the object is inside scope:
    # objects (their pk goes in the URL) or plain values
    args: Callable | None = None
    method: str = "get"
    # what each role gets for an object outside its scope: 404 unless the role is refused
    # before any lookup (403)
    outside: dict[str, int] = field(default_factory=dict)
    anonymous: int = 302
    # a POST's form as someone who may take the action would fill it in: data(world, obj)
    data: Callable | None = None
    # a POST's outcome (every POST entry states one)
    effect: Effect | None = None
    # An answer that is not refused outside scope (an export, a search) is scoped in what it
    # holds.  The matrix checks it itself when ``scope_names(world)`` gives (a name the
    # answer must hold, the name of an object outside scope it must not); ``scoped_by``
    # names the test that proves it ("tests/x/test_y.py::test_z"; checked to exist).
    scope_names: Callable | None = None
    scoped_by: str = ""


def unit_args(world, role, inside):
    return [world.a1 if inside else world.q1]


def sibling_unit_args(world, role):
    return [world.b1] if role == "commune" else [world.a2]


def member_args(world, role, inside):
    return [world.member_a1 if inside else world.member_q1]


def dependant_args(world, role, inside):
    member = world.member_a1 if inside else world.member_q1
    return [member.dependants.get()]


def user_args(world, role, inside):
    return [world.users["grassroots" if inside else "outsider"]]


def locked_user_args(world, role, inside):
    """The account of ``user_args``, locked out by repeated failed logins from one address."""
    user = world.users["grassroots" if inside else "outsider"]
    AccessAttempt.objects.get_or_create(
        username=user.username,
        ip_address="198.51.100.7",
        user_agent="test",
        defaults={
            "failures_since_start": settings.AXES_FAILURE_LIMIT,
            "get_data": "",
            "post_data": "",
            "http_accept": "",
            "path_info": "/accounts/login/",
        },
    )
    return [user]


def lockout_state(user, client) -> dict:
    return {"locked": AccessAttempt.objects.filter(username=user.username).exists()}


def assignment_args(world, role, inside):
    user = world.users["grassroots" if inside else "outsider"]
    return [RoleAssignment.objects.get(user=user)]


def roles_held(user, client) -> dict:
    held = RoleAssignment.objects.filter(user=user).select_related("unit")
    return {"roles": sorted((a.role, a.unit.code) for a in held)}


def dependant_state(dependant, client) -> dict:
    return {"exists": type(dependant).objects.filter(pk=dependant.pk).exists()}


def session_state(obj, client) -> dict:
    return {"logged_in": "_auth_user_id" in client.session}


def language_state(obj, client) -> dict:
    cookie = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return {"language": cookie.value if cookie else None}
