"""Access-matrix entries for a batch's imported list: the upload from the batch (a draft of
A1, or of Q1 outside scope) and the import engine's pages of such a job."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from common.models import ImportJob

from ..access import ROLES, Effect, Entry, each
from ..members.access_imports import CASEWORKERS, SUPPORT_IMPORTERS, _entries, _job
from .access_programs import build_batch

EDITORS = {role: (302 if role in CASEWORKERS else 403) for role in ROLES}


def batch_job_args(world, role, inside):
    job = _job(world, role, inside, ImportJob.Kind.BATCH)
    job.target_id = build_batch(world, inside, "draft").pk
    job.save(update_fields=["target_id"])
    return [job]


def draft_batch_args(world, role, inside):
    return [build_batch(world, inside, "draft")]


def list_file(world, batch) -> dict:
    content = f"Số định danh cá nhân (CCCD)\n{world.member_a1.national_id}\n".encode()
    return {"file": SimpleUploadedFile("danh-sach.csv", content)}


def jobs_started(batch, client) -> dict:
    return {"jobs": ImportJob.objects.filter(kind=ImportJob.Kind.BATCH, target_id=batch.pk).count()}


ENTRIES: dict[str, Entry] = {
    **_entries("batch_imports:", SUPPORT_IMPORTERS, batch_job_args),
    # The list sends back to the programs: the upload starts from a batch.
    "batch_imports:list": Entry(inside={role: 302 for role in ROLES}),
    "programs:batch_import": Entry(
        inside=EDITORS,
        args=draft_batch_args,
        method="post",
        data=list_file,
        effect=Effect(jobs_started, done=each(CASEWORKERS, jobs=1)),
    ),
}
