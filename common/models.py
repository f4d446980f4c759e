"""The state every spreadsheet import keeps, whatever its rows are."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def import_upload_path(instance: ImportJob, filename: str) -> str:
    return f"imports/{instance.token}/{filename}"


class ImportJob(models.Model):
    """One spreadsheet import: the uploaded file, its preview and, once confirmed, its result.

    What the user sees (status, progress, counts, the first refused rows) lives here; the rows
    checked by the preview wait in a file under ``MEDIA_ROOT/imports/`` until the user confirms.
    """

    class Kind(models.TextChoices):
        MEMBERS = "members", _("Members")
        SUPPORT = "support", _("Past support records")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        READING = "reading", _("Reading and checking the file")
        PREVIEWED = "previewed", _("Checked, waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed, waiting to be written")
        WRITING = "writing", _("Being written")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (Status.QUEUED, Status.READING, Status.CONFIRMED, Status.WRITING)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # The unit the rows land in; the schema of the app above says who may import there.
    unit = models.ForeignKey(
        "unions.Unit", verbose_name=_("import into"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(max_length=8, default="vi")
    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(upload_to=import_upload_path, blank=True)
    original_name = models.CharField(_("file"), max_length=255)
    plan = models.FileField(blank=True)
    refused_file = models.FileField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    to_create = models.PositiveIntegerField(_("new"), default=0)
    to_update = models.PositiveIntegerField(_("to update"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    refused = models.PositiveIntegerField(_("refused"), default=0)
    # The first refused rows, shown on the job page: [{line, values, errors: [[column, reason]]}]
    refused_sample = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    previewed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        ordering = ["-created_at", "-id"]
        db_table = "members_importjob"  # the table it had when imports lived in members/
        indexes = [models.Index(fields=["unit", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
