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
        CONTRIBUTIONS = "contributions", _("Campaign contributions")
        BATCH = "batch", _("People of a program batch")

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
    # What the rows land in when it is not the unit itself (a program batch's id): the schema
    # of that kind reads it.
    target_id = models.PositiveIntegerField(null=True, blank=True)
    token = models.CharField(max_length=32, unique=True, editable=False)
    file = models.FileField(upload_to=import_upload_path, blank=True)
    original_name = models.CharField(_("file"), max_length=255)
    # What the import page asked beside the file (its schema's ``option_fields``), as JSON:
    # the preview and the write read the same values.
    options = models.JSONField(default=dict, blank=True)
    # What the preview says beside its counts ("12 people have no date joined"), in the job's
    # language, written once by the preview.
    notes = models.JSONField(default=list, blank=True)
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
    # Funds the file names that do not exist (the past-support import): [{name, unit_id, unit,
    # first, lines, rows}], offered on the job's page to be opened, then the file is checked again.
    missing_funds = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its task was last handed to the broker (common/dispatch.py).
    dispatched_at = models.DateTimeField(null=True, blank=True)
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


class NoticeQuerySet(models.QuerySet["Notice"]):
    def unread(self) -> NoticeQuerySet:
        return self.filter(read_at__isnull=True)


class Notice(models.Model):
    """One message to one user: kept for the portal's inbox, and e-mailed when the user has an
    address (``common.notices.notify``).  The text is written once, when it is sent, so it says
    what was true then."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # A path inside the portal ("/cases/12/"); the e-mail makes it absolute with PORTAL_URL.
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox, newest first, paged by keyset on (created_at, id).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notice_inbox"),
            # The bell's unread count and the unread ones newest first: only unread rows.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notice_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def summary(self) -> str:
        """The body on one line, for the inbox's list."""
        return " · ".join(line.strip() for line in self.body.splitlines() if line.strip())
