"""Access-matrix entries for the spreadsheet imports: members and past support records."""

from __future__ import annotations

import json
import secrets

from django.core.files.base import ContentFile

from common.imports.workbooks import refused_workbook
from common.models import ImportJob
from welfare.funds.models import Fund

from ..access import MEMBER_EDITORS, ROLES, Effect, Entry, each

CASEWORKERS = {"province", "commune", "grassroots"}
SUPPORT_IMPORTERS = {role: (200 if role in CASEWORKERS else 403) for role in ROLES}


def _job(world, role, inside: bool, kind: str) -> ImportJob:
    """A checked import waiting for confirmation, uploaded by the role itself (inside) or by
    an officer of province Q (outside)."""
    job = ImportJob(
        kind=kind,
        unit=world.a1 if inside else world.q1,
        created_by=world.users[role if inside else "q_officer"],
        token=secrets.token_hex(16),
        original_name="danh-sach.xlsx",
        status=ImportJob.Status.PREVIEWED,
        rows=1,
        refused=1,
        refused_sample=[{"line": 2, "summary": "x", "errors": [["Ngày sinh", "?"]]}],
    )
    job.plan.save(f"{job.token}-plan.json", ContentFile(json.dumps({"create": [], "update": []})))
    job.refused_file.save(f"{job.token}-loi.xlsx", ContentFile(refused_workbook(["A"], [])))
    return job


def member_job_args(world, role, inside):
    return [_job(world, role, inside, ImportJob.Kind.MEMBERS)]


def support_job_args(world, role, inside):
    return [_job(world, role, inside, ImportJob.Kind.SUPPORT)]


def job_state(job, client) -> dict:
    return {"status": ImportJob.objects.get(pk=job.pk).status}


def _done(allowed: dict[str, int], status: str) -> dict[str, dict]:
    return each([role for role, code in allowed.items() if code == 200], status=status)


def _refused_first(allowed: dict[str, int]) -> dict[str, int]:
    """Roles that may not import get 403 before any lookup, inside or outside scope."""
    return {role: 403 for role, status in allowed.items() if status == 403}


def _redirects(allowed: dict[str, int]) -> dict[str, int]:
    return {role: (302 if status == 200 else status) for role, status in allowed.items()}


def _entries(prefix: str, allowed: dict[str, int], job_args) -> dict[str, Entry]:
    refused = _refused_first(allowed)
    return {
        f"{prefix}list": Entry(inside=allowed),
        f"{prefix}template": Entry(inside=allowed),
        f"{prefix}detail": Entry(inside=allowed, args=job_args, outside=refused),
        f"{prefix}status": Entry(inside=allowed, args=job_args, outside=refused),
        f"{prefix}refused": Entry(inside=allowed, args=job_args, outside=refused),
        # The uploader's own preview, with nothing left to write: it is written at once.
        f"{prefix}confirm": Entry(
            inside=_redirects(allowed),
            args=job_args,
            method="post",
            outside=refused,
            effect=Effect(job_state, done=_done(allowed, ImportJob.Status.DONE)),
        ),
        f"{prefix}cancel": Entry(
            inside=_redirects(allowed),
            args=job_args,
            method="post",
            outside=refused,
            effect=Effect(job_state, done=_done(allowed, ImportJob.Status.CANCELLED)),
        ),
    }


def support_job_with_missing_fund_args(world, role, inside):
    """A preview that found the fund "Quỹ cũ" missing at its union, with its file kept."""
    job = _job(world, role, inside, ImportJob.Kind.SUPPORT)
    job.missing_funds = [
        {
            "name": "Quỹ cũ",
            "unit_id": job.unit_id,
            "unit": job.unit.name,
            "first": "2021-03-10",
            "lines": [2],
            "rows": 1,
        }
    ]
    job.file.save(f"{job.token}-source.csv", ContentFile("Số định danh cá nhân (CCCD)\n".encode()))
    return [job, 0]


def past_fund_state(job, client) -> dict:
    return {"funds": Fund.objects.filter(name="Quỹ cũ", unit_id=job.unit_id).count()}


def past_fund_form(world, job) -> dict:
    return {
        "fund0-name": "Quỹ cũ",
        "fund0-kind": "welfare",
        "fund0-opened_on": "2021-01-01",
        "fund0-confirm": "on",
    }


ENTRIES: dict[str, Entry] = {
    "support_imports:open_fund": Entry(
        inside=_redirects(SUPPORT_IMPORTERS),
        args=support_job_with_missing_fund_args,
        method="post",
        outside=_refused_first(SUPPORT_IMPORTERS),
        data=past_fund_form,
        effect=Effect(past_fund_state, done=each(CASEWORKERS, funds=1)),
    ),
    **_entries("members:import_", MEMBER_EDITORS, member_job_args),
    **_entries("support_imports:", SUPPORT_IMPORTERS, support_job_args),
}
