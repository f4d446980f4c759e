"""Who read a member's personal data (members.models.MemberAccess): the member's page and edit
form, a revealed ID number, an export with full ID numbers.  Cases keep their own log
(welfare/cases/access_log.py)."""

from __future__ import annotations

from .models import Member, MemberAccess


def record_member_access(
    *, member: Member | None, by, what: MemberAccess.What, detail: str = ""
) -> MemberAccess:
    return MemberAccess.objects.create(member=member, user=by, what=what, detail=detail[:500])
