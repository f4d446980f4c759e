"""The access matrix: every URL pattern of the portal, every demo role, inside and outside scope.

A URL pattern without an entry here fails ``test_every_url_pattern_is_in_the_matrix``, so each
new view has to state who may open it.  Inside: an object in the role's subtree.  Outside: the
same kind of object in another province, and for the commune and grassroots roles also in a
neighbouring unit of the same province; it must answer exactly like a missing object (404).

A POST is sent with its form filled in (``Entry.data``) and states its ``Effect``: the role
whose action it is changes exactly what the action changes, every other role (and every role
outside scope, and an anonymous visitor) changes nothing, and a refusal by redirect says why.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from members.models import MemberAccess
from unions.models import Role

from ..access import (
    ADMIN_ONLY,
    ALL_OK,
    MEMBER_EDITORS,
    REFUSED_FIRST,
    ROLES,
    Effect,
    Entry,
    assignment_args,
    dependant_args,
    dependant_state,
    each,
    language_state,
    locked_user_args,
    lockout_state,
    member_args,
    roles_held,
    session_state,
    sibling_unit_args,
    unit_args,
    user_args,
)
from ..common.access_notices import ENTRIES as NOTICE_ENTRIES
from ..members.access_imports import ENTRIES as IMPORT_ENTRIES
from ..members.access_privacy import ENTRIES as PRIVACY_ENTRIES
from ..unions.access_second_factor import ENTRIES as SECOND_FACTOR_ENTRIES
from ..unions.access_tree import ENTRIES as TREE_ENTRIES
from ..welfare.access_cases import build_case
from ..welfare.access_entries import ENTRIES as WELFARE_ENTRIES


def reveals_recorded(member, client) -> dict:
    return {"reveals": member.accesses.filter(what=MemberAccess.What.REVEAL).count()}


def _reset_link_args(world, role, inside):
    account = world.users["grassroots" if inside else "outsider"]
    return [urlsafe_base64_encode(force_bytes(account.pk)), "no-such-token"]


MATRIX: dict[str, Entry] = {
    "home": Entry(inside=ALL_OK),
    "dashboard": Entry(
        inside={role: (200 if role in ("province", "leader") else 403) for role in ROLES}
    ),
    "healthz": Entry(inside=ALL_OK, anonymous=200),
    "login": Entry(inside=ALL_OK, anonymous=200),
    "logout": Entry(
        inside=dict.fromkeys(ROLES, 302),
        method="post",
        effect=Effect(session_state, done=each(ROLES, logged_in=False)),
    ),
    "set_language": Entry(
        inside=dict.fromkeys(ROLES, 302),
        method="post",
        anonymous=302,
        data=lambda world, obj: {"language": "en", "next": "/"},
        effect=Effect(language_state, done=each([*ROLES, "anonymous"], language="en")),
    ),
    "password_change": Entry(inside=ALL_OK),
    "password_change_done": Entry(inside=ALL_OK),
    # For people who cannot log in; an unknown or used link says so on its page.
    "password_reset": Entry(inside=ALL_OK, anonymous=200),
    "password_reset_done": Entry(inside=ALL_OK, anonymous=200),
    # A link with a wrong token, for one's own account or another's: the page offers a new
    # link and names nobody.
    "password_reset_confirm": Entry(
        inside=ALL_OK,
        args=_reset_link_args,
        outside=ALL_OK,
        anonymous=200,
        scope_names=lambda world: (reverse("password_reset"), world.users["outsider"].email),
        scoped_by="tests/unions/test_passwords.py::test_reset_by_email_in_vietnamese_sets_a_new_password",
    ),
    "password_reset_complete": Entry(inside=ALL_OK, anonymous=200),
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
    # The lockout after repeated failed logins, lifted by an administrator of the account.
    "accounts:user_unlock": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=locked_user_args,
        method="post",
        outside=REFUSED_FIRST,
        effect=Effect(lockout_state, done={"admin": {"locked": False}}),
    ),
    # The grassroots officer of A1 (outside: an administrator of province Q) is given a role at A2.
    "accounts:role_grant": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=user_args,
        method="post",
        outside=REFUSED_FIRST,
        data=lambda world, user: {"role-unit": world.a2.pk, "role-role": Role.OFFICER},
        effect=Effect(
            roles_held,
            done={"admin": {"roles": [("officer", "P-A-1"), ("officer", "P-A-2")]}},
        ),
    ),
    "accounts:role_revoke": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=assignment_args,
        method="post",
        outside=REFUSED_FIRST,
        effect=Effect(
            lambda assignment, client: roles_held(assignment.user, client),
            done={"admin": {"roles": []}},
        ),
    ),
    "members:list": Entry(inside=ALL_OK),
    # No object in the URL: the export is filtered by scope.
    "members:export": Entry(
        inside=ALL_OK,
        args=lambda *_: ["csv"],
        outside=ALL_OK,
        scope_names=lambda world: (world.member_a1.full_name, world.member_q1.full_name),
        scoped_by="tests/members/test_exports.py::test_export_never_leaks_outside_scope",
    ),
    "members:create": Entry(inside=MEMBER_EDITORS),
    "members:detail": Entry(inside=ALL_OK, args=member_args),
    "members:edit": Entry(inside=MEMBER_EDITORS, args=member_args),
    # The full ID number, on purpose: shown on the answer and recorded.
    "members:reveal_id": Entry(
        inside=MEMBER_EDITORS,
        args=member_args,
        method="post",
        effect=Effect(
            reveals_recorded, done=each(("admin", "province", "commune", "grassroots"), reveals=1)
        ),
    ),
    # Everything held about one person, for an administrator of their union.
    "privacy:subject_archive": Entry(
        inside={role: (200 if role == "admin" else 403) for role in ROLES},
        args=member_args,
        method="post",
        effect=Effect(
            lambda member, client: {
                "archives": member.accesses.filter(what=MemberAccess.What.SUBJECT).count()
            },
            done={"admin": {"archives": 1}},
        ),
    ),
    # Who read personal data, for administrators; scoped in what it lists:
    "privacy:access_log": Entry(
        inside=ADMIN_ONLY,
        scoped_by="tests/welfare/test_access_log.py::test_the_log_lists_only_the_administrators_units",
    ),
    "members:transfer": Entry(inside=MEMBER_EDITORS, args=member_args),
    "members:dependant_create": Entry(inside=MEMBER_EDITORS, args=member_args),
    "members:dependant_edit": Entry(inside=MEMBER_EDITORS, args=dependant_args),
    "members:dependant_delete": Entry(
        inside={role: (403 if role in ("treasurer", "leader") else 302) for role in ROLES},
        args=dependant_args,
        method="post",
        effect=Effect(
            dependant_state,
            done=each(("admin", "province", "commune", "grassroots"), exists=False),
        ),
    ),
    **WELFARE_ENTRIES,
    **IMPORT_ENTRIES,
    **PRIVACY_ENTRIES,
    **TREE_ENTRIES,
    **NOTICE_ENTRIES,
    **SECOND_FACTOR_ENTRIES,
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


def test_every_post_states_its_outcome():
    """A status code alone cannot tell "done" from "refused": each POST says what it leaves."""
    silent = [name for name, entry in MATRIX.items() if entry.method == "post" and not entry.effect]
    assert not silent, f"POST entries without an effect: {sorted(silent)}"


def _test_exists(reference: str) -> bool:
    path, _, function = reference.partition("::")
    module = Path(__file__).resolve().parents[2] / path
    if not module.is_file() or not function:
        return False
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body)


def test_every_answer_allowed_outside_scope_proves_its_scoping():
    """An export or a search answers 200 whatever the scope: what it holds must be scoped,
    checked here (``scope_names``) and by a named test that exists."""
    unproved = [
        name
        for name, entry in MATRIX.items()
        if 200 in entry.outside.values() and not (entry.scope_names and entry.scoped_by)
    ]
    assert not unproved, f"allowed outside scope without a scoping check: {sorted(unproved)}"
    missing = [
        (name, entry.scoped_by)
        for name, entry in MATRIX.items()
        if entry.scoped_by and not _test_exists(entry.scoped_by)
    ]
    assert not missing, f"scoped_by names a test that does not exist: {missing}"


def test_every_url_pattern_is_in_the_matrix():
    missing = portal_url_names() - MATRIX.keys()
    stale = MATRIX.keys() - portal_url_names()
    assert not missing, f"URL patterns without an access-matrix entry: {sorted(missing)}"
    assert not stale, f"Matrix entries for URL patterns that no longer exist: {sorted(stale)}"


def _url(name: str, args) -> str:
    return reverse(name, args=[getattr(arg, "pk", arg) for arg in args])


def _request(client, entry: Entry, name: str, args, world, who: str, inside: bool):
    """The entry's request; returns the response and the check of what a POST left behind,
    to run once the status is known to be right."""
    if entry.method != "post":
        return client.get(_url(name, args)), lambda: None
    obj = args[0] if args else None
    effect = entry.effect
    before = effect.state(obj, client)
    response = client.post(_url(name, args), entry.data(world, obj) if entry.data else {})
    after = effect.state(obj, client)

    def check():
        done = effect.done.get(who) if inside else None
        if done is None:
            assert after == before, (name, who, "refused, yet changed", before, after)
        else:
            assert after != before and after == {**before, **done}, (name, who, before, after)
        if done is None and inside and who in ROLES and response.status_code == 302:
            said = [str(message) for message in get_messages(response.wsgi_request)]
            assert who in effect.refusal, (name, who, "refused by a redirect: say why", said)
            assert effect.refusal[who] in said, (name, who, said)

    return response, check


CASES = [(name, role) for name in sorted(MATRIX) for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_inside_scope(client_for, world, name, role):
    entry = MATRIX[name]
    args = entry.args(world, role, True) if entry.args else []
    response, check = _request(client_for(role), entry, name, args, world, role, True)
    assert response.status_code == entry.inside[role], (name, role)
    check()


OBJECT_CASES = [(n, r) for n, r in CASES if MATRIX[n].args is not None]


@pytest.mark.parametrize(("name", "role"), OBJECT_CASES)
def test_outside_scope_is_not_found(client_for, world, name, role):
    entry = MATRIX[name]
    expected = entry.outside.get(role, 404)
    args = entry.args(world, role, False)
    names = entry.scope_names(world) if entry.scope_names else None
    response, check = _request(client_for(role), entry, name, args, world, role, False)
    assert response.status_code == expected, (name, role, response.status_code)
    check()
    if names:
        shown, hidden = names
        body = _body(response)
        assert shown in body and hidden not in body, (name, role, shown, hidden)


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig")


@pytest.mark.parametrize("name", sorted(n for n in MATRIX if MATRIX[n].args is unit_args))
@pytest.mark.parametrize("role", ["commune", "grassroots"])
def test_neighbouring_unit_is_not_found(client_for, world, name, role):
    entry = MATRIX[name]
    args = sibling_unit_args(world, role)
    response, check = _request(client_for(role), entry, name, args, world, role, False)
    assert response.status_code == 404
    check()


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous(client, world, name):
    entry = MATRIX[name]
    args = entry.args(world, "admin", True) if entry.args else []
    response, check = _request(client, entry, name, args, world, "anonymous", True)
    assert response.status_code == entry.anonymous, name
    check()
    if entry.anonymous == 302 and name not in ("set_language",):
        assert response["Location"].startswith(reverse("login"))


def test_the_matrix_keeps_its_files_in_the_tests_own_media_root(world, tmp_path):
    """Evidence and reports the rows build go where the autouse settings fixture of
    tests/conftest.py sends them, a folder of the test's own, never the project's var/media."""
    stored = Path(build_case(world, True, "draft").evidence.get().file.path).resolve()
    assert stored.is_relative_to((tmp_path / "media").resolve())
    assert not stored.is_relative_to(Path(__file__).resolve().parents[2] / "var")


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
