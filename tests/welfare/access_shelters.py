"""Access-matrix entries for a shelter's pages, on a shelter case at A1 (inside; approved) or
at Q1 (outside; submitted).  Whoever opens cases at the case's union keeps its shelter: the
caseworkers of A1, commune A and the province; the others are refused (403), and a case
outside scope is not found."""

from __future__ import annotations

import datetime

from welfare.models import Case, SupportType
from welfare.shelters import services
from welfare.shelters.models import Shelter, Work

from ..access import ROLES, Effect, Entry, each
from .access_cases import OPENERS, build_case

KEEPERS = {role: (200 if role in OPENERS else 403) for role in ROLES}


def _shelter_case(world, inside: bool, recorded: bool) -> Case:
    case = build_case(world, inside, "approved")
    Case.objects.filter(pk=case.pk).update(support_type=SupportType.SHELTER)
    case.refresh_from_db()
    if recorded:
        services.record_shelter(
            case=case,
            work=Work.BUILD,
            estimated_cost=60_000_000,
            contributors=[],
            by=world.users["grassroots" if inside else "q_officer"],
        )
    return case


def edit_args(world, role, inside):
    return [_shelter_case(world, inside, recorded=False)]


def progress_args(world, role, inside):
    return [_shelter_case(world, inside, recorded=True)]


def progress_state(case, client) -> dict:
    return {"progress": Shelter.objects.get(case=case).progress}


def progress_form(world, case) -> dict:
    return {"progress": "building", "on": datetime.date.today().isoformat()}


ENTRIES: dict[str, Entry] = {
    "shelters:edit": Entry(inside=KEEPERS, args=edit_args),
    "shelters:progress": Entry(
        inside={role: (302 if code == 200 else code) for role, code in KEEPERS.items()},
        args=progress_args,
        method="post",
        data=progress_form,
        effect=Effect(progress_state, done=each(OPENERS, progress="building")),
    ),
}
