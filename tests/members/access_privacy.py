"""Access-matrix entries for personal data: the legal basis and consent on a member, the
personal-data notice, and the data-subject requests (members/privacy.py, welfare/privacy/)."""

from __future__ import annotations

from django.utils import timezone

from members import privacy
from members.models import SubjectRequest

from ..access import ADMIN_ONLY, MEMBER_EDITORS, ROLES, Effect, Entry, each, member_args
from ..factories import system_user

EDITORS = ("admin", "province", "commune", "grassroots")


def _received(world, inside, kind, details):
    member = world.member_a1 if inside else world.member_q1
    return privacy.receive_request(
        member=member,
        kind=kind,
        received_on=timezone.localdate(),
        details=details,
        by=system_user(),
    )


def request_args(world, role, inside):
    """A request to correct, received today from A1's member (outside: Q1's)."""
    return [_received(world, inside, SubjectRequest.Kind.CORRECT, "Ngày sinh sai")]


def restriction_args(world, role, inside):
    """A restriction carried out for A1's member (outside: Q1's)."""
    found = _received(world, inside, SubjectRequest.Kind.RESTRICT, "Hạn chế xử lý")
    privacy.complete_request(
        request=found, on=timezone.localdate(), outcome="Đã hạn chế", by=system_user()
    )
    return [found]


def lifted(found, client) -> dict:
    found.refresh_from_db()
    return {"lifted": found.lifted_on is not None}


def consents_recorded(member, client) -> dict:
    return {"consents": member.consents.count()}


def request_status(found, client) -> dict:
    found.refresh_from_db()
    return {"status": found.status}


def _today(world, obj) -> str:
    return timezone.localdate().isoformat()


ENTRIES = {
    # Whoever may edit the member records the legal basis or the consent they gave.
    "members:consent": Entry(
        inside={role: (302 if role in EDITORS else 403) for role in ROLES},
        args=member_args,
        method="post",
        data=lambda world, obj: {"basis": "consent", "given_on": _today(world, obj)},
        effect=Effect(consents_recorded, done=each(EDITORS, consents=1)),
    ),
    # The notice to sign, printed by those who record the consent.
    "privacy:notice": Entry(inside=MEMBER_EDITORS, args=member_args),
    # An administrator's list, scoped in what it lists:
    "privacy:requests": Entry(
        inside=ADMIN_ONLY,
        scoped_by="tests/welfare/test_subject_requests.py::test_the_list_holds_only_the_administrators_units",
    ),
    "privacy:request_create": Entry(inside=ADMIN_ONLY, args=member_args),
    "privacy:request": Entry(inside=ADMIN_ONLY, args=request_args),
    "privacy:request_answer": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=request_args,
        method="post",
        data=lambda world, obj: {"action": "acknowledge", "on": _today(world, obj)},
        effect=Effect(request_status, done={"admin": {"status": "acknowledged"}}),
    ),
    "privacy:request_lift": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=restriction_args,
        method="post",
        data=lambda world, obj: {"on": _today(world, obj), "reason": "Đề nghị bỏ hạn chế"},
        effect=Effect(lifted, done={"admin": {"lifted": True}}),
    ),
}
