"""Campaigns and their contributions: a target on a fund, run by a union, with the units that
collect for it; each contribution is a ledger entry of that fund with its donor (docs: the
design's "Programs, batches, loans, campaigns").

A contribution is recorded once: its receipt number is unique in its campaign, and an imported
row keeps the key of the line it came from.  A mistaken one is corrected by reversing its
ledger entry; the campaign's figures leave reversed contributions out.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from unions.models import PATH_SEPARATOR, Unit
from unions.scope import scope_paths, visible_unit_ids
from welfare.funds.models import Fund, LedgerEntry


def paths_above(path: str) -> list[str]:
    """ "1/5/9/" -> ["1/", "1/5/", "1/5/9/"]: the paths of a unit and the units above it."""
    parts = [part for part in path.split(PATH_SEPARATOR) if part]
    return [PATH_SEPARATOR.join(parts[: depth + 1]) + PATH_SEPARATOR for depth in range(len(parts))]


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user) -> CampaignQuerySet:
        """The campaigns of the unions in the user's scope; those of a union above them that
        their units take part in (all of its subtree when it lists none, else the units it
        lists and theirs)."""
        units = visible_unit_ids(user)
        above = sorted({p for path in scope_paths(user) for p in paths_above(path)})
        listed = Campaign.units.through.objects.filter(campaign_id=OuterRef("pk"))
        return self.filter(
            Q(unit_id__in=units)
            | Q(unit__path__in=above, has_units=False)
            | Exists(listed.filter(unit_id__in=units))
        )


class Campaign(models.Model):
    """A fundraising campaign (Tháng Công nhân, support for flood victims) run by one union,
    raising money into one fund against a target."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    purpose = models.TextField(_("purpose of the campaign"), blank=True)
    target = models.BigIntegerField(_("target (đồng)"))
    fund = models.ForeignKey(
        Fund, verbose_name=_("receiving fund"), on_delete=models.PROTECT, related_name="campaigns"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    # The units that collect; none listed means the whole subtree of the union.
    units = models.ManyToManyField(
        Unit, verbose_name=_("participating units"), blank=True, related_name="+"
    )
    # Whether ``units`` lists any, kept by the services so scoping needs no count.
    has_units = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name", "id"]
        indexes = [models.Index(fields=["unit", "-starts_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="campaign_target_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DonorKind(models.TextChoices):
    MEMBER = "member", _("Union member")
    UNIT = "unit", _("Union or unit")
    ENTERPRISE = "enterprise", _("Enterprise")
    OTHER = "other", _("Other person or organisation")


class ContributionQuerySet(models.QuerySet["Contribution"]):
    def visible_to(self, user) -> ContributionQuerySet:
        """Contributions collected by a unit in the user's scope: whoever sees the campaign's
        union sees them all, a collecting unit its own."""
        return self.filter(collected_by_id__in=visible_unit_ids(user))

    def standing(self) -> ContributionQuerySet:
        """Those whose ledger entry has not been reversed: what the campaign raised.

        Reversals are rare: their entries are read once (by the index on ``reverses``) and
        each contribution looked up among them, not the ledger probed per contribution."""
        reversed_entries = LedgerEntry.objects.filter(reverses__isnull=False).values("reverses_id")
        return self.exclude(entry_id__in=reversed_entries)


class Contribution(models.Model):
    """Money given to a campaign, recorded with its receipt and posted to the fund's ledger."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="contributions")
    donor_kind = models.CharField(_("donor"), max_length=16, choices=DonorKind.choices)
    donor_name = models.CharField(_("donor's name"), max_length=255)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    donor_unit = models.ForeignKey(
        Unit,
        verbose_name=_("donor union"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.BigIntegerField(_("amount (đồng)"))
    received_on = models.DateField(_("date received"))
    receipt_number = models.CharField(_("receipt number"), max_length=32)
    collected_by = models.ForeignKey(
        Unit, verbose_name=_("collected by"), on_delete=models.PROTECT, related_name="+"
    )
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="contribution", editable=False
    )
    # The key of the spreadsheet line it was imported from, empty when typed in.
    row_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["campaign", "-received_on", "-id"]),
            models.Index(fields=["campaign", "collected_by"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="contribution_amount_positive"),
            models.UniqueConstraint(
                fields=["campaign", "receipt_number"], name="one_contribution_per_receipt"
            ),
            models.UniqueConstraint(
                fields=["campaign", "row_key"],
                condition=~Q(row_key=""),
                name="one_contribution_per_imported_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.donor_name}"
