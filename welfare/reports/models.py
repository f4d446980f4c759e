"""The annual report a user asked for: its state, progress and files."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from unions.models import Unit
from unions.scope import visible_unit_ids


class ReportQuerySet(models.QuerySet["Report"]):
    def visible_to(self, user) -> ReportQuerySet:
        return self.filter(union_id__in=visible_unit_ids(user))


class Report(models.Model):
    """An annual social-security report for a union and a year, built in the background.

    The status and progress the user sees live here, not only in Celery's result backend.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    union = models.ForeignKey(
        Unit, verbose_name=_("union"), on_delete=models.PROTECT, related_name="reports"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=128, blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    narrative_edited = models.BooleanField(default=False)
    pdf = models.FileField(upload_to="reports/", blank=True)
    xlsx = models.FileField(upload_to="reports/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its build was last handed to the broker (common/dispatch.py).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["union", "year"],
                condition=Q(status__in=["queued", "running"]),
                name="one_build_per_union_and_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.union} {self.year}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class Breakdown(models.TextChoices):
    """How a ``SupportTally`` row cuts a year's support at its unit."""

    TOTAL = "total", _("whole subtree")
    OWN = "own", _("the unit's own records")
    TYPE = "type", _("support type")
    CATEGORY = "category", _("hardship category")
    FUND = "fund", _("fund")
    MONTH = "month", _("month paid")


class SupportTally(models.Model):
    """The support paid in a year under a unit, as the tree stood at the end of that year: one
    row per breakdown key (``key`` is empty for the total and the unit's own records).

    Kept by every service that marks records paid, in its transaction and after the fund's
    lock (``welfare/reports/tallies.py``), and rebuilt from the records by
    ``manage.py rebuild_tallies`` and after a reorganisation.  ``people`` and ``children`` are
    distinct members and dependants under the unit: exact, never added up across rows."""

    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    breakdown = models.CharField(max_length=8, choices=Breakdown.choices)
    key = models.CharField(max_length=32, blank=True)
    cases = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    children = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "unit", "breakdown", "key"], name="support_tally_key"
            ),
        ]
        # The own rows of a year, rolled up by child unit when the tree changed.
        indexes = [models.Index(fields=["year", "breakdown", "unit"], name="support_tally_cut")]

    def __str__(self) -> str:
        return f"{self.year} {self.unit_id} {self.breakdown} {self.key}"


class TallyRecountQuerySet(models.QuerySet["TallyRecount"]):
    def pending(self) -> TallyRecountQuerySet:
        return self.filter(status__in=TallyRecount.ACTIVE)

    def covering(self, year: int) -> TallyRecountQuerySet:
        """The recounts not done (still to run, or failed) of the years that include
        ``year``: until they are, the year's tallies are not read (its figures come from the
        records)."""
        return self.exclude(status=TallyRecount.Status.DONE).filter(
            first_year__lte=year, last_year__gte=year
        )


class TallyRecount(models.Model):
    """The years of tallies a reorganisation set to be counted again from the records, in the
    background (``tallies.run_recount``): queued with the reorganisation, done year by year.
    While it is not done the years it covers are read from the records, so no figure is ever
    read from tallies of the tree before the change."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to recount")
        RUNNING = "running", _("Recounting the figures")
        DONE = "done", _("Figures recounted")
        FAILED = "failed", _("Recount failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    first_year = models.PositiveSmallIntegerField()
    last_year = models.PositiveSmallIntegerField()
    effective_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    # The years already counted again, each committed with its rows.
    years_done = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TallyRecountQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "first_year"], name="tally_recount_pending")]

    def __str__(self) -> str:
        return f"{self.first_year}-{self.last_year} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
