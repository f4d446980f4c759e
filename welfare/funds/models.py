"""Funds and their ledger.

Amounts are whole đồng in 64-bit integers.  A fund's ``balance`` is kept equal to the sum of
its ledger entries and ``reserved`` to the approved-but-unpaid amounts, by the services in
``funds/ledger.py`` and ``cases/approvals.py`` only; database constraints refuse a negative
available amount whatever the code does.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from common.text import keep_search_name
from unions.models import RoleAssignment, Unit
from unions.scope import Capability, roles_with, visible_unit_ids


def treasurers_at(unit) -> models.QuerySet[RoleAssignment]:
    """The active grants at exactly ``unit`` (an id or an ``OuterRef``) that pay from its
    funds: a payment is recorded only by a treasurer of the fund's own union."""
    return RoleAssignment.objects.filter(
        unit_id=unit, role__in=roles_with(Capability.PAY), user__is_active=True
    )


class FundKind(models.TextChoices):
    SOCIAL = "social", _("Social fund")
    LOAN = "loan", _("Fund for supporting poor workers")
    SHELTER = "shelter", _("Shelter fund")
    WELFARE = "welfare", _("Union welfare money")
    OTHER = "other", _("Other fund")


class FundQuerySet(models.QuerySet["Fund"]):
    def visible_to(self, user, capability: Capability = Capability.VIEW) -> FundQuerySet:
        return self.filter(unit_id__in=visible_unit_ids(user, capability))

    def usable_by(self, unit: Unit) -> FundQuerySet:
        """Funds a case at ``unit`` may draw from: the unit's own and those of units above it."""
        return self.filter(unit_id__in=unit.ancestor_ids(), is_active=True)

    def with_treasurer(self) -> FundQuerySet:
        """Each fund with ``has_treasurer``: whether anyone could pay what it approves."""
        return self.annotate(has_treasurer=Exists(treasurers_at(OuterRef("unit_id"))))


class Fund(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("owner union"), on_delete=models.PROTECT, related_name="funds"
    )
    name = models.CharField(_("name"), max_length=255)
    # The name as searches compare it (common.text.normalise), kept by save().
    search_name = models.CharField(max_length=255, editable=False, default="")
    kind = models.CharField(_("kind"), max_length=16, choices=FundKind.choices)
    balance = models.BigIntegerField(_("balance"), default=0, editable=False)
    reserved = models.BigIntegerField(_("reserved"), default=0, editable=False)
    # The ledger's totals, kept by ``ledger.post_entry`` beside the balance (money out is
    # negative: balance = money in + money out), so the fund page never sums the whole ledger.
    money_in = models.BigIntegerField(_("money in"), default=0, db_default=0, editable=False)
    money_out = models.BigIntegerField(_("money out"), default=0, db_default=0, editable=False)
    entry_count = models.PositiveIntegerField(_("entries"), default=0, db_default=0, editable=False)
    is_active = models.BooleanField(_("open"), default=True)
    # The day the fund's books start: a past support record drawn from it before that day is
    # refused (welfare/imports/support.py).  Empty for funds opened before it was kept; their
    # first opening entry stands for it.
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FundQuerySet.as_manager()

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ["unit__path", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(reserved__gte=0), name="fund_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(balance__gte=F("reserved")), name="fund_available_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance=F("money_in") + F("money_out")),
                name="fund_totals_make_the_balance",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        keep_search_name(self, "name", kwargs)
        super().save(*args, **kwargs)

    @property
    def available(self) -> int:
        return self.balance - self.reserved

    @property
    def payable(self) -> bool:
        """Someone at the owner union can record a payment from this fund."""
        if hasattr(self, "has_treasurer"):
            return self.has_treasurer
        return treasurers_at(self.unit_id).exists()

    @property
    def label(self) -> str:
        """The fund's name with its owner's, as a choice among funds shows it."""
        return f"{self.name} — {self.unit.name}"


class EntryKind(models.TextChoices):
    OPENING = "opening", _("Opening balance")
    CONTRIBUTION = "contribution", _("Contribution")
    ALLOCATION_IN = "allocation_in", _("Allocation received")
    ALLOCATION_OUT = "allocation_out", _("Allocation sent")
    DISBURSEMENT = "disbursement", _("Support paid")
    CORRECTION = "correction", _("Correction")
    LOAN_OUT = "loan_out", _("Loan disbursed")
    LOAN_REPAYMENT = "loan_repayment", _("Loan repayment")
    LOAN_RECOVERY = "loan_recovery", _("Loan recovery after write-off")


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def visible_to(self, user) -> LedgerEntryQuerySet:
        return self.filter(fund__unit_id__in=visible_unit_ids(user))


class LedgerEntry(models.Model):
    """One movement of money in a fund.  Append-only: a mistake gets a reversing entry."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.BigIntegerField(_("amount"), help_text=_("Positive in, negative out."))
    balance_after = models.BigIntegerField(_("balance after"))
    occurred_on = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=255, blank=True)
    source = models.CharField(_("from"), max_length=255, blank=True)
    case = models.ForeignKey(
        "Case", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # The token of the form that recorded it: the same form sent twice (a double click, a
    # reload) records nothing more (ledger.AlreadyRecorded). Empty for entries from services.
    submission = models.CharField(
        max_length=32, blank=True, default="", db_default="", editable=False
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["fund", "id"]
        indexes = [
            models.Index(fields=["fund", "occurred_on", "id"]),
            # A fund's entries of one kind in recorded order, and their sum, from the index.
            models.Index(
                fields=["fund", "kind", "id"], include=["amount"], name="ledger_fund_kind"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.UniqueConstraint(
                fields=["fund", "submission"],
                condition=~Q(submission=""),
                name="one_entry_per_submission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are never edited; record a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError("Ledger entries are never deleted; record a reversing entry.")


class LedgerMonth(models.Model):
    """A fund's entries of one kind in one month: how many, money in, money out, and the ids
    of the first and last of them. Kept by ``ledger.post_entry`` under the fund's lock, so a
    ledger filtered by kind or by period is summed from a few rows and its page walk bounded
    (the province fund of a city takes 170,000 entries a year)."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="months")
    month = models.DateField()  # the first day of the month the money moved in
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    entry_count = models.PositiveIntegerField(default=0)
    money_in = models.BigIntegerField(default=0)
    money_out = models.BigIntegerField(default=0)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fund", "month", "kind"], name="one_ledger_month"),
        ]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.month:%m/%Y} {self.kind}"


class RaisedYear(models.Model):
    """The money contributed to a fund in one year, for one campaign (none: contributions
    outside campaigns): the contributions less those reversed (``entries``) and their amount
    net of the reversals, a reversal counting in the year it is dated.  Kept by
    ``ledger.post_entry`` under the fund's lock; rebuilt by ``manage.py rebuild_tallies``."""

    year = models.PositiveSmallIntegerField()
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="raised_years")
    campaign = models.ForeignKey(
        "welfare.Campaign", null=True, on_delete=models.CASCADE, related_name="+"
    )
    entries = models.IntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "fund", "campaign"],
                condition=Q(campaign__isnull=False),
                name="one_raised_year_per_campaign",
            ),
            models.UniqueConstraint(
                fields=["year", "fund"],
                condition=Q(campaign__isnull=True),
                name="one_raised_year_outside_campaigns",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.year} {self.campaign_id or '-'}"
