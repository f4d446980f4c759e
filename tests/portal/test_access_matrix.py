"""The access matrix: every URL pattern of the portal, every demo role, inside and outside scope.

A URL pattern without an entry here fails ``test_every_url_pattern_is_in_the_matrix``, so each
new view has to state who may open it.  Inside: an object in the role's subtree.  Outside: the
same kind of object in another province, and for the commune and grassroots roles also in a
neighbouring unit of the same province; it must answer exactly like a missing object (404).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ..access import (
    ADMIN_ONLY,
    ALL_OK,
    MEMBER_EDITORS,
    REFUSED_FIRST,
    ROLES,
    Entry,
    assignment_args,
    dependant_args,
    member_args,
    sibling_unit_args,
    unit_args,
    user_args,
)
from ..members.access_imports import ENTRIES as IMPORT_ENTRIES
from ..unions.access_tree import ENTRIES as TREE_ENTRIES
from ..welfare.access_entries import ENTRIES as WELFARE_ENTRIES

MATRIX: dict[str, Entry] = {
    "home": Entry(inside=ALL_OK),
    "dashboard": Entry(
        inside={role: (200 if role in ("province", "leader") else 403) for role in ROLES}
    ),
    "healthz": Entry(inside=ALL_OK, anonymous=200),
    "login": Entry(inside=ALL_OK, anonymous=200),
    "logout": Entry(inside=dict.fromkeys(ROLES, 302), method="post"),
    "password_change": Entry(inside=ALL_OK),
    "password_change_done": Entry(inside=ALL_OK),
    # For people who cannot log in; an unknown or used link says so on its page.
    "password_reset": Entry(inside=ALL_OK, anonymous=200),
    "password_reset_done": Entry(inside=ALL_OK, anonymous=200),
    "password_reset_confirm": Entry(
        inside=ALL_OK, args=lambda *_: ["MQ", "no-such-token"], outside=ALL_OK, anonymous=200
    ),
    "password_reset_complete": Entry(inside=ALL_OK, anonymous=200),
    "set_language": Entry(inside=dict.fromkeys(ROLES, 302), method="post", anonymous=302),
    "units:tree": Entry(inside=ALL_OK),
    "units:create": Entry(inside=ADMIN_ONLY),
    "units:detail": Entry(inside=ALL_OK, args=unit_args),
    "units:edit": Entry(inside=ADMIN_ONLY, args=unit_args),
    "units:move": Entry(inside=ADMIN_ONLY, args=unit_args),
    "units:merge": Entry(inside=ADMIN_ONLY, args=unit_args),
    "units:dissolve": Entry(inside=ADMIN_ONLY, args=unit_args),
    "accounts:users": Entry(inside=ADMIN_ONLY),
    "accounts:user_create": Entry(inside=ADMIN_ONLY),
    "accounts:user": Entry(inside=ADMIN_ONLY, args=user_args, outside=REFUSED_FIRST),
    # Its POST's effect, and the refusal outside scope: tests/unions/test_passwords.py.
    "accounts:user_password": Entry(inside=ADMIN_ONLY, args=user_args, outside=REFUSED_FIRST),
    "accounts:role_grant": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=user_args,
        method="post",
        outside=REFUSED_FIRST,
    ),
    "accounts:role_revoke": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=assignment_args,
        method="post",
        outside=REFUSED_FIRST,
    ),
    "members:list": Entry(inside=ALL_OK),
    # No object in the URL: the export is filtered by scope (tests/members/test_exports.py).
    "members:export": Entry(inside=ALL_OK, args=lambda *_: ["csv"], outside=ALL_OK),
    "members:create": Entry(inside=MEMBER_EDITORS),
    "members:detail": Entry(inside=ALL_OK, args=member_args),
    "members:edit": Entry(inside=MEMBER_EDITORS, args=member_args),
    "members:transfer": Entry(inside=MEMBER_EDITORS, args=member_args),
    "members:dependant_create": Entry(inside=MEMBER_EDITORS, args=member_args),
    "members:dependant_edit": Entry(inside=MEMBER_EDITORS, args=dependant_args),
    "members:dependant_delete": Entry(
        inside={role: (403 if role in ("treasurer", "leader") else 302) for role in ROLES},
        args=dependant_args,
        method="post",
    ),
    **WELFARE_ENTRIES,
    **IMPORT_ENTRIES,
    **TREE_ENTRIES,
}

# Only the Django admin is left out: it is for superusers and tested on its own below.
EXCLUDED_NAMESPACES = {"admin"}


def portal_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in EXCLUDED_NAMESPACES:
                    continue
                inner = pattern.namespace or namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"URL pattern {pattern.pattern} has no name"
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_pattern_is_in_the_matrix():
    missing = portal_url_names() - MATRIX.keys()
    stale = MATRIX.keys() - portal_url_names()
    assert not missing, f"URL patterns without an access-matrix entry: {sorted(missing)}"
    assert not stale, f"Matrix entries for URL patterns that no longer exist: {sorted(stale)}"


def _request(client, entry: Entry, url: str):
    return client.post(url) if entry.method == "post" else client.get(url)


CASES = [(name, role) for name in sorted(MATRIX) for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_inside_scope(client_for, world, name, role):
    entry = MATRIX[name]
    args = entry.args(world, role, True) if entry.args else []
    response = _request(client_for(role), entry, reverse(name, args=args))
    assert response.status_code == entry.inside[role], (name, role)


OBJECT_CASES = [(n, r) for n, r in CASES if MATRIX[n].args is not None]


@pytest.mark.parametrize(("name", "role"), OBJECT_CASES)
def test_outside_scope_is_not_found(client_for, world, name, role):
    entry = MATRIX[name]
    expected = entry.outside.get(role, 404)
    url = reverse(name, args=entry.args(world, role, False))
    response = _request(client_for(role), entry, url)
    assert response.status_code == expected, (name, role, response.status_code)


@pytest.mark.parametrize("name", sorted(n for n in MATRIX if MATRIX[n].args is unit_args))
@pytest.mark.parametrize("role", ["commune", "grassroots"])
def test_neighbouring_unit_is_not_found(client_for, world, name, role):
    entry = MATRIX[name]
    url = reverse(name, args=sibling_unit_args(world, role))
    assert _request(client_for(role), entry, url).status_code == 404


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous(client, world, name):
    entry = MATRIX[name]
    args = entry.args(world, "admin", True) if entry.args else []
    url = reverse(name, args=args)
    response = _request(client, entry, url)
    assert response.status_code == entry.anonymous, name
    if entry.anonymous == 302 and name not in ("set_language",):
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_django_admin_is_for_superusers_only(client_for, role):
    response = client_for(role).get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_superuser_opens_django_admin(client, db):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.vn", "x-pass-123")
    client.force_login(root)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:members_member_changelist")).status_code == 200
