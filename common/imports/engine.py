"""The import engine: one mechanism for every kind of spreadsheet import.

A schema (the member list in ``members/imports.py``, past support records in
``welfare/imports/``, found through ``autodiscover_modules("imports")`` so this layer never
imports the apps above it) names its columns, says who may import where, and checks and writes
its rows.  This module keeps the job's state (``ImportJob``) and runs the two phases:

- preview: read the file, check every row, save the rows to write as a JSON file under
  ``MEDIA_ROOT/imports/`` and the refused ones as a spreadsheet.  Nothing is written to the
  domain tables.
- apply: after the user confirms, write the saved rows with bulk inserts in batches, all in one
  transaction: either every row goes in or none does.

Files up to ``INLINE_ROWS`` rows are handled inside the request, so a small list previews at
once; bigger ones go to Celery (``common/tasks.py``) and the job page shows their progress.
"""

from __future__ import annotations

import datetime
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from common.dispatch import dispatch_on_commit
from common.models import ImportJob
from common.uploads import display_name

from .cells import shown
from .reader import (
    WRITE_BATCH,
    Column,
    FileRefused,
    Progress,
    Row,
    Table,
    estimate_rows,
    read_table,
)
from .workbooks import refused_workbook

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

INLINE_ROWS = 2000  # up to this many rows, preview and write inside the request
REFUSED_SHOWN = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EXTENSIONS = (".xlsx", ".xlsm", ".csv")


class StaleImport(Exception):
    """What the preview checked has changed since: nothing is written."""


# --------------------------------------------------------------------------------------------


@dataclass
class Refusal:
    line: int
    values: list[str]
    errors: list[tuple[str, str]]  # (column as in the file, reason)

    def as_json(self) -> dict:
        summary = " · ".join([value for value in self.values if value][:3])
        return {"line": self.line, "summary": summary, "errors": self.errors}


@dataclass
class Preview:
    create: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    # What the file names that the portal lacks and the user may add before importing
    # (the past-support import's missing funds), shown on the job's page.
    missing_funds: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown beside the counts


class Schema:
    """One kind of import.  Subclasses set the class attributes, say who may import where
    (``unions.importing.UnitImportSchema`` does it from the tree's scoping rules) and write
    ``check``/``write``."""

    kind: str
    columns: tuple[Column, ...]
    title: Any  # the template's sheet title
    template_filename: str
    notes: tuple[Any, ...] = ()

    def may_import_somewhere(self, user) -> bool:
        """Whether ``user`` may start this kind of import into any unit at all."""
        raise NotImplementedError

    def may_import(self, user, unit) -> bool:
        """Whether ``user`` may import into ``unit``."""
        raise NotImplementedError

    def visible_jobs(self, user):
        """The jobs of this kind that ``user`` may see."""
        raise NotImplementedError

    def option_fields(self) -> dict[str, forms.Field]:
        """Questions the import page asks beside the file; their answers reach ``check`` and
        ``write`` as ``job.options``."""
        return {}

    def clean_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The answers as JSON, checked again here as the view is not the only caller."""
        cleaned: dict[str, Any] = {}
        for name, form_field in self.option_fields().items():
            value = form_field.clean(options.get(name))
            cleaned[name] = value.isoformat() if isinstance(value, datetime.date) else value
        return cleaned

    def required_keys(self, unit) -> set[str]:
        return {column.key for column in self.columns if column.required}

    def check(self, job: ImportJob, table: Table, progress: Progress) -> Preview:
        raise NotImplementedError

    def write(self, job: ImportJob, plan: dict, progress: Progress) -> None:
        """Write the confirmed rows; runs inside the import's one transaction."""
        raise NotImplementedError

    def template_units(self, unit):
        """The units whose codes the template lists on its own sheet."""
        raise NotImplementedError


_SCHEMAS: dict[str, Schema] = {}


def register(schema: Schema) -> Schema:
    _SCHEMAS[schema.kind] = schema
    return schema


def schema_for(kind: str) -> Schema:
    if kind not in _SCHEMAS:
        autodiscover_modules("imports")  # the apps above this one register their schemas
    return _SCHEMAS[kind]


def refuse(table: Table, row: Row, errors: list[tuple[str, str]]) -> Refusal:
    width = len(table.headers)
    values = [shown(cell) for cell in row.cells[:width]]
    return Refusal(row.line, values + [""] * (width - len(values)), errors)


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def query_batch() -> int:
    """How many values one ``IN (...)`` may hold on this database."""
    return 900 if connection.vendor == "sqlite" else 5000


def matching(queryset, field: str, values: list[str]):
    """``queryset`` filtered on ``field`` being one of ``values``, in as few queries as the
    database allows: one ``= ANY(array)`` on PostgreSQL (a single parameter, however many
    values), ``IN`` lists of ``query_batch()`` elsewhere."""
    if connection.vendor == "postgresql":
        column = f"{queryset.model._meta.db_table}.{queryset.model._meta.get_field(field).column}"
        yield from queryset.filter(
            RawSQL(f"{column} = ANY(%s)", (list(values),), output_field=BooleanField())
        )
        return
    for batch in chunks(list(values), query_batch()):
        yield from queryset.filter(**{f"{field}__in": batch})


def allocate_ids(model, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken from the table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(model, rows: list[dict]) -> None:
    """Insert plain rows (attribute name -> value) as fast as the database allows: COPY on
    PostgreSQL, a prepared INSERT elsewhere.  No model instance is built, so the rows must
    carry every non-null column (auto_now fields included)."""
    if not rows:
        return
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])
        return
    # Elsewhere (SQLite, the demo): one prepared INSERT run for every row, values prepared
    # as the ORM would (dates and aware datetimes in the database's own format).
    prepare = [
        (lambda value, field=field: field.get_db_prep_save(value, connection))
        if isinstance(field, models.DateField)
        else None
        for field in fields
    ]
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        for batch in chunks(rows, WRITE_BATCH):
            cursor.executemany(
                sql,
                [
                    [
                        row[name] if step is None else step(row[name])
                        for name, step in zip(names, prepare, strict=True)
                    ]
                    for row in batch
                ],
            )


# --------------------------------------------------------------------------------------------
# Jobs: upload, preview, confirm, write
# --------------------------------------------------------------------------------------------


def get_job_for_user(user, pk, *, kind: str) -> ImportJob:
    """The job if its unit is in the user's scope for this kind of import (404 otherwise);
    403 first for a role that may not import at all."""
    schema = schema_for(kind)
    if not schema.may_import_somewhere(user):
        raise PermissionDenied
    jobs = schema.visible_jobs(user).filter(kind=kind)
    return get_object_or_404(jobs.select_related("unit", "created_by"), pk=pk)


def check_upload(upload) -> None:
    name = upload.name.lower()
    if name.endswith(".xls"):
        raise ValidationError(
            _("This is an old Excel file (.xls): open it in Excel and save it as .xlsx.")
        )
    if not name.endswith(EXTENSIONS):
        raise ValidationError(_("Choose an Excel workbook (.xlsx) or a CSV file."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB: split it into several files.")
            % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )


def start_import(
    *, kind: str, unit, upload, by, options: dict | None = None, target_id: int | None = None
) -> ImportJob:
    """Keep the uploaded file and check it: at once for a small file, by Celery otherwise."""
    schema = schema_for(kind)
    if not schema.may_import(by, unit):
        raise PermissionDenied
    check_upload(upload)
    options = schema.clean_options(options or {})
    if not unit.is_active:
        raise ValidationError(
            _("%(unit)s is closed: nothing can be imported into it.") % {"unit": unit.name}
        )
    job = ImportJob(
        kind=kind,
        unit=unit,
        created_by=by,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        token=secrets.token_hex(16),
        target_id=target_id,
        original_name=display_name(upload.name),
        options=options,
    )
    job.file.save(f"source{Path(upload.name).suffix.lower()}", upload, save=False)
    job.save()
    _check(job)
    job.refresh_from_db()
    return job


def _inline(step: Callable[[int], None], job_id: int) -> None:
    """Run a step inside the request: a failure is logged and shown on the job's page (the
    step has marked the job failed), not turned into a server error."""
    try:
        step(job_id)
    except Exception:
        logger.exception("Import %s failed", job_id)


def _update(job_id: int, **values) -> None:
    ImportJob.objects.filter(pk=job_id).update(**values)


def _fail(job: ImportJob, message: str) -> None:
    """Mark the job failed and drop its working files: the user uploads the file again."""
    _update(job.pk, status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now())
    _discard_work_files(job)


def _stepper(job_id: int, start: int, span: int) -> Progress:
    last = [-1]

    def report(share: float) -> None:
        percent = start + int(span * share)
        if percent != last[0]:
            last[0] = percent
            _update(job_id, progress=percent)

    return report


def _generic_failure() -> str:
    return _(
        "The import failed and nothing was written. Try again; if it fails again, tell your "
        "administrator."
    )


def run_preview(job_id: int) -> None:
    """Read and check the file; save what would be written.  Safe to run again."""
    job = ImportJob.objects.select_related("unit", "created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.READING):
        return
    schema = schema_for(job.kind)
    _update(job.pk, status=ImportJob.Status.READING, progress=1)
    with translation.override(job.language):
        try:
            table = read_table(
                Path(job.file.path),
                schema.columns,
                schema.required_keys(job.unit),
                _stepper(job.pk, 1, 49),
            )
            preview = schema.check(job, table, _stepper(job.pk, 50, 45))
            plan = json.dumps(
                {"create": preview.create, "update": preview.update},
                ensure_ascii=False,
                default=_json_default,
            )
            folder = Path(job.file.name).parent
            plan_name = default_storage_save(f"{folder}/plan.json", plan.encode())
            refused_name = ""
            if preview.refused:
                content = refused_workbook(table.headers, preview.refused)
                refused_name = default_storage_save(f"{folder}/loi.xlsx", content)
        except FileRefused as error:
            _fail(job, str(error))
            return
        except Exception:
            _fail(job, _generic_failure())
            raise
    _update(
        job.pk,
        status=ImportJob.Status.PREVIEWED,
        progress=100,
        rows=len(table.rows),
        to_create=len(preview.create),
        to_update=len(preview.update),
        unchanged=preview.unchanged,
        refused=len(preview.refused),
        refused_sample=[refusal.as_json() for refusal in preview.refused[:REFUSED_SHOWN]],
        missing_funds=preview.missing_funds,
        notes=preview.notes,
        plan=plan_name,
        refused_file=refused_name,
        previewed_at=timezone.now(),
    )


def _json_default(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(type(value))


def default_storage_save(name: str, content: bytes) -> str:
    from django.core.files.storage import default_storage

    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def confirm_import(*, job: ImportJob, by) -> ImportJob:
    """The user's go-ahead: write the previewed rows (inline when few, by Celery otherwise)."""
    if job.created_by_id != by.pk:
        raise PermissionDenied  # the preview was checked against the uploader's scope
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.CONFIRMED, progress=0
    )
    if not claimed:
        raise ValidationError(_("This import is not waiting for confirmation."))
    if job.to_create + job.to_update <= INLINE_ROWS:
        _inline(run_apply, job.pk)
    else:
        from common.tasks import apply_import

        dispatch_on_commit(apply_import, ImportJob, job.pk)
    job.refresh_from_db()
    return job


def recheck_import(*, job: ImportJob, by) -> ImportJob:
    """Check the same file again, after what its preview found missing was added (a fund
    opened for a past year): the preview's results go, the uploaded file stays."""
    if job.created_by_id != by.pk:
        raise PermissionDenied
    reset = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.QUEUED,
        progress=0,
        rows=0,
        to_create=0,
        to_update=0,
        unchanged=0,
        refused=0,
        refused_sample=[],
        missing_funds=[],
        previewed_at=None,
    )
    if not reset:
        raise ValidationError(_("This import is not waiting for confirmation."))
    job.refresh_from_db()
    for stored in (job.plan, job.refused_file):
        if stored:
            stored.delete(save=False)
    _update(job.pk, plan="", refused_file="")
    _check(job)
    job.refresh_from_db()
    return job


def _check(job: ImportJob) -> None:
    """Check the job's file: at once for a small file, by Celery (after the commit) otherwise."""
    if estimate_rows(Path(job.file.path)) <= INLINE_ROWS:
        _inline(run_preview, job.pk)
    else:
        from common.tasks import preview_import

        dispatch_on_commit(preview_import, ImportJob, job.pk)


def cancel_import(*, job: ImportJob, by) -> ImportJob:
    if job.created_by_id != by.pk:
        raise PermissionDenied
    cancelled = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED]
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if not cancelled:
        raise ValidationError(_("This import can no longer be cancelled."))
    job.refresh_from_db()
    _discard_work_files(job)
    return job


def _discard_work_files(job: ImportJob) -> None:
    """The uploaded file and the saved rows go once the import is over; the refused rows
    stay for the user to correct."""
    for stored in (job.file, job.plan):
        if stored:
            stored.delete(save=False)
    _update(job.pk, file="", plan="")


class _WriteProgress:
    """Progress other requests can read while the import's transaction is still open.

    On PostgreSQL it is written through a second connection (its own autocommit); on SQLite,
    which has one writer, it shows when the transaction commits.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = -1
        self.side: BaseDatabaseWrapper | None = None

    def __call__(self, share: float) -> None:
        percent = min(99, int(share * 100))
        if percent == self.last:
            return
        self.last = percent
        if connection.vendor != "postgresql":
            return
        if self.side is None:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s",
                [percent, self.job_id],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def run_apply(job_id: int) -> None:
    """Write the confirmed rows, all or nothing.  Safe to run again: the job is marked done in
    the same transaction as the rows, and a done job is never written twice."""
    job = ImportJob.objects.select_related("unit", "created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.CONFIRMED, ImportJob.Status.WRITING):
        return
    schema = schema_for(job.kind)
    _update(job.pk, status=ImportJob.Status.WRITING, progress=0)
    progress = _WriteProgress(job.pk)
    with translation.override(job.language):
        try:
            with job.plan.open("rb") as handle:
                plan = json.load(handle)
            with transaction.atomic():
                schema.write(job, plan, progress)
                _update(
                    job.pk,
                    status=ImportJob.Status.DONE,
                    progress=100,
                    error="",
                    finished_at=timezone.now(),
                )
        except StaleImport as error:
            _fail(job, str(error))
            return
        except IntegrityError:
            _fail(job, stale_message())
            return
        except Exception:
            _fail(job, _generic_failure())
            raise
        finally:
            progress.close()
    job.refresh_from_db()
    _discard_work_files(job)


def stale_message() -> str:
    return _(
        "The data changed since the preview (someone added or moved one of these records). "
        "Nothing was written: upload the file again to check it anew."
    )
