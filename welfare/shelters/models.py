"""A shelter is a support record (a ``Case`` of support type "shelter") with what is built or
repaired, its estimated cost, the union's money (the case's amount) beside every other
contributor's, and its progress from approval to the hand-over, proved by a photo."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..cases.models import Case, Evidence


class Work(models.TextChoices):
    BUILD = "build", _("New build")
    REPAIR = "repair", _("Repair")


class Progress(models.TextChoices):
    APPROVED = "approved", _("Approved, not started")
    BUILDING = "building", _("Under construction")
    HANDED_OVER = "handed_over", _("Handed over")


# The order progress moves in: never back.
PROGRESS_ORDER = [Progress.APPROVED, Progress.BUILDING, Progress.HANDED_OVER]


class ContributorKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    GOVERNMENT = "government", _("Local government")
    FAMILY = "family", _("Family")
    OTHER = "other", _("Other contributor")


class Shelter(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="shelter")
    work = models.CharField(_("work"), max_length=8, choices=Work.choices)
    estimated_cost = models.BigIntegerField(_("estimated cost (đồng)"))
    # Counts once the case is approved; until then the shelter waits with its case.
    progress = models.CharField(
        _("progress"), max_length=12, choices=Progress.choices, default=Progress.APPROVED
    )
    started_on = models.DateField(_("construction started on"), null=True, blank=True)
    handed_over_on = models.DateField(_("handed over on"), null=True, blank=True)
    # One of the case's evidence files: served, checked and logged as evidence is.
    handover_photo = models.OneToOneField(
        Evidence, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shelter")
        verbose_name_plural = _("shelters")
        constraints = [
            models.CheckConstraint(condition=Q(estimated_cost__gt=0), name="shelter_cost_positive"),
            models.CheckConstraint(
                condition=~Q(progress="handed_over")
                | Q(handed_over_on__isnull=False, handover_photo__isnull=False),
                name="shelter_handed_over_with_date_and_photo",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_work_display()} #{self.case_id}"


class ShelterContributor(models.Model):
    """Money for a shelter from someone other than the union: an enterprise, the commune's
    government, the family."""

    shelter = models.ForeignKey(Shelter, on_delete=models.CASCADE, related_name="contributors")
    kind = models.CharField(_("contributor"), max_length=12, choices=ContributorKind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    amount = models.BigIntegerField(_("amount (đồng)"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="shelter_contributor_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
