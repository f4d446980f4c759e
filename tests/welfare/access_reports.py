"""Access-matrix entries for the annual reports."""

import datetime

from django.conf import settings
from django.core.files.base import ContentFile

from welfare.models import Report, TallyRecount

from ..access import ROLES, Effect, Entry, each

WRITERS = {"province", "commune", "grassroots", "leader"}


def _report(world, inside: bool) -> Report:
    union = world.a1 if inside else world.q1
    by = world.users["grassroots" if inside else "q_officer"]
    report = Report.objects.create(union=union, year=2025, requested_by=by, status="done")
    report.pdf.save("r.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    report.xlsx.save("r.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    report.save()
    assert str(settings.MEDIA_ROOT) in report.pdf.path
    return report


def report_args(world, role, inside):
    return [_report(world, inside)]


def download_args(world, role, inside):
    return [_report(world, inside), "pdf"]


def report_state(report, client) -> dict:
    report = Report.objects.get(pk=report.pk)
    return {"status": report.status, "narrative": report.narrative}


def recount_args(world, role, inside):
    """A recount is of the whole database (every unit's tallies), so none is outside a
    scope: only those who reorganise the tree follow it, and "outside" asks for one that
    does not exist."""
    day = datetime.date(2025, 7, 1)
    recount = TallyRecount.objects.create(first_year=2025, last_year=2026, effective_on=day)
    return [recount if inside else recount.pk + 1000]


MANAGERS_ONLY = {role: (200 if role == "admin" else 404) for role in ROLES}

NARRATIVE = "Năm 2025, công đoàn cơ sở đã thăm hỏi mọi đoàn viên ốm đau."


ENTRIES: dict[str, Entry] = {
    "reports:list": Entry(inside=dict.fromkeys(ROLES, 200)),
    "reports:detail": Entry(inside=dict.fromkeys(ROLES, 200), args=report_args),
    "reports:status": Entry(inside=dict.fromkeys(ROLES, 200), args=report_args),
    "reports:recount_status": Entry(inside=MANAGERS_ONLY, args=recount_args),
    "reports:download": Entry(inside=dict.fromkeys(ROLES, 200), args=download_args),
    "reports:narrative": Entry(
        inside={role: (302 if role in WRITERS else 403) for role in ROLES},
        args=report_args,
        method="post",
        data=lambda world, report: {"narrative": NARRATIVE},
        # The PDF is built again (queued) with the writer's own text.
        effect=Effect(
            report_state,
            done=each(WRITERS, status="queued", narrative=NARRATIVE),
        ),
    ),
}
