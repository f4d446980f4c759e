"""Hardship cases, funds and their ledger: the money path of DESIGN.md.

Amounts are whole đồng in 64-bit integers.  A fund's ``balance`` is kept equal to the sum of
its ledger entries and ``reserved`` to the approved-but-unpaid amounts, by the services in
``ledger.py`` and ``approvals.py`` only; database constraints refuse a negative available
amount whatever the code does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from portal.text import keep_search_name
from unions.models import Unit
from unions.scope import Capability, visible_unit_ids


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


class Fund(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("owner union"), on_delete=models.PROTECT, related_name="funds"
    )
    name = models.CharField(_("name"), max_length=255)
    # The name as searches compare it (portal.text.normalise), kept by save().
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

    def save(self, *args, **kwargs):
        keep_search_name(self, "name", kwargs)
        super().save(*args, **kwargs)

    @property
    def available(self) -> int:
        return self.balance - self.reserved

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

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are never edited; record a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
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


class Category(models.TextChoices):
    ILLNESS = "illness", _("Serious illness")
    ACCIDENT = "accident", _("Labour accident")
    OCCUPATIONAL = "occupational", _("Occupational disease")
    JOB_LOSS = "job_loss", _("Job loss")
    DISASTER = "disaster", _("Natural disaster or flood")
    DEATH = "death", _("Death of the member")
    HOUSING = "housing", _("Dilapidated or no house")
    POOR = "poor", _("Poor household")
    POLICY = "policy", _("Policy family")
    EPIDEMIC = "epidemic", _("Epidemic")
    OTHER = "other", _("Other hardship")


class SupportType(models.TextChoices):
    GRANT = "grant", _("Cash grant")
    VISIT = "visit", _("Visit with gift")
    TET_GIFT = "tet_gift", _("Tết gift")
    SAVINGS_BOOK = "savings_book", _("Savings book for a child")
    SHELTER = "shelter", _("Shelter build or repair")
    SCHOLARSHIP = "scholarship", _("Scholarship")
    OTHER = "other", _("Other support")


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("In review")
    RETURNED = "returned", _("Returned for changes")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved, waiting for payment")
    PAID = "paid", _("Paid")


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user) -> CaseQuerySet:
        return self.filter(unit_id__in=visible_unit_ids(user))


class Case(models.Model):
    """A hardship case (hồ sơ hỗ trợ) for one person, opened at one union."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("opened at"), on_delete=models.PROTECT, related_name="cases"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("person"), on_delete=models.PROTECT, related_name="cases"
    )
    category = models.CharField(_("hardship category"), max_length=16, choices=Category.choices)
    circumstances = models.TextField(_("circumstances"))
    support_type = models.CharField(_("support type"), max_length=16, choices=SupportType.choices)
    requested_amount = models.BigIntegerField(_("amount requested (đồng)"))
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.DRAFT
    )
    # The union whose turn it is while the case is in review.
    current_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_amount = models.BigIntegerField(_("amount approved (đồng)"), null=True, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The case list's newest-first order, walked without sorting the table.
            models.Index(fields=["-created_at", "-id"], name="case_newest_first"),
            models.Index(fields=["status", "current_unit", "submitted_at"]),
            # Approved cases waiting for the treasurers of a fund's owner.
            models.Index(fields=["status", "fund", "submitted_at"], name="case_payable"),
            # "Waiting for me", oldest first: walked in order until a page of the reader's
            # cases is found, rather than sorting every case waiting at a province's funds.
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=["submitted", "approved"]),
                name="case_waiting_order",
            ),
            models.Index(fields=["unit", "created_at"]),
            models.Index(fields=["paid_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0), name="case_requested_positive"
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gt=0),
                name="case_approved_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.member}"


class CaseEvent(models.Model):
    """One step on a case's timeline: who did what, at which level, with what amount."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        SUBMITTED = "submitted", _("Submitted")
        ENDORSED = "endorsed", _("Endorsed")
        RETURNED = "returned", _("Returned")
        REJECTED = "rejected", _("Rejected")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.case_id}"


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"evidence/{instance.case_id}/{filename}"


class Evidence(models.Model):
    """A supporting document; stored outside the web root, served only through the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class CaseAccess(models.Model):
    """Someone opened a case file or one of its evidence files: hardship cases hold health
    and family details, so who read them is kept (welfare.views, never edited)."""

    class What(models.TextChoices):
        PAGE = "page", _("Opened the case file")
        EVIDENCE = "evidence", _("Downloaded an evidence file")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=16, choices=What.choices)
    evidence_name = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "-at", "-id"], name="case_access_newest")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.what} {self.at:%d/%m/%Y %H:%M}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")


class Payment(models.Model):
    """The payment of an approved case.  One per case, enforced by the database."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="payment")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField(_("amount"))
    paid_on = models.DateField(_("payment date"))
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    receipt_reference = models.CharField(_("receipt or transfer reference"), max_length=64)
    received_by = models.CharField(_("received by"), max_length=128)
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} for #{self.case_id}"


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
