"""Loans from a fund for supporting poor workers (Quỹ Trợ vốn CNVCLĐ nghèo): the fund's loan
products, the loans, their repayment schedules, repayments and events (docs/design.md, Loans).

Amounts are whole đồng. The loan's running figures (``outstanding``, ``principal_paid``, ...)
and each instalment's paid parts are kept by ``loans/services.py`` under the fund's lock, beside
the ledger entry that moved the money; every step is a ``LoanEvent`` and nothing is deleted.
A rescheduling does not touch the old schedule: it starts a new ``version`` of instalments.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from unions.models import Unit
from unions.scope import visible_unit_ids
from welfare.funds.models import Fund, LedgerEntry


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


MONTHS_PER_PERIOD: dict[str, int] = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3}


class LoanProductQuerySet(models.QuerySet["LoanProduct"]):
    def visible_to(self, user) -> LoanProductQuerySet:
        return self.filter(fund__unit_id__in=visible_unit_ids(user))


class LoanProduct(models.Model):
    """What a fund lends on: the rate (usually 0 %), the ceiling, the term, how often it is
    repaid and how many days after a due date an instalment counts as overdue."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="loan_products"
    )
    name = models.CharField(_("name"), max_length=255)
    annual_rate = models.DecimalField(
        _("interest rate (% a year)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    max_principal = models.BigIntegerField(_("maximum principal (đồng)"))
    term_months = models.PositiveSmallIntegerField(
        _("term (months)"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    frequency = models.CharField(
        _("repayment"), max_length=16, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=0)
    is_active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LoanProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan product")
        verbose_name_plural = _("loan products")
        ordering = ["fund", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_principal__gt=0), name="loan_product_max_positive"
            ),
            models.CheckConstraint(
                condition=Q(annual_rate__gte=0), name="loan_product_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LoanStatus(models.TextChoices):
    APPLIED = "applied", _("Waiting for the unit's confirmation")
    CONFIRMED = "confirmed", _("Waiting for approval")
    APPROVED = "approved", _("Approved, waiting for disbursement")
    REJECTED = "rejected", _("Rejected")
    CURRENT = "current", _("Being repaid")
    CLOSED = "closed", _("Repaid in full")
    WRITTEN_OFF = "written_off", _("Written off")


# The loans whose money is out: the portfolio's figures count these.
DISBURSED = [LoanStatus.CURRENT, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF]


class LoanQuerySet(models.QuerySet["Loan"]):
    def visible_to(self, user) -> LoanQuerySet:
        return self.filter(unit_id__in=visible_unit_ids(user))


class Loan(models.Model):
    """A loan to one member, applied for at their union, lent from the product's fund."""

    product = models.ForeignKey(
        LoanProduct, verbose_name=_("loan product"), on_delete=models.PROTECT, related_name="loans"
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="loans"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("applied at"), on_delete=models.PROTECT, related_name="loans"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="loans"
    )
    purpose = models.TextField(_("purpose"))
    principal = models.BigIntegerField(_("principal (đồng)"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    guarantor = models.CharField(
        _("guarantor"),
        max_length=255,
        blank=True,
        help_text=_("Leave empty when the union's confirmation stands as the guarantee."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=LoanStatus.choices, default=LoanStatus.APPLIED
    )
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    # The current schedule: instalments of this version (a rescheduling adds the next one).
    schedule_version = models.PositiveSmallIntegerField(default=0)
    # Running figures, kept under the fund's lock by the services.
    outstanding = models.BigIntegerField(_("outstanding principal"), default=0)
    principal_paid = models.BigIntegerField(_("principal repaid"), default=0)
    interest_paid = models.BigIntegerField(_("interest paid"), default=0)
    written_off = models.BigIntegerField(_("written off"), default=0)
    recovered = models.BigIntegerField(_("recovered after write-off"), default=0)
    # The last day of grace of the oldest unsettled instalment of the current schedule (None
    # once all are settled, or the loan is not being repaid): overdue from the next day.
    late_since = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loans_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="loan_newest_first"),
            models.Index(fields=["fund", "status"], name="loan_fund_status"),
            models.Index(fields=["unit", "status"], name="loan_unit_status"),
            models.Index(
                fields=["late_since", "unit"],
                condition=Q(status="current"),
                name="loan_late_since",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(outstanding__gte=0), name="loan_outstanding_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(recovered__lte=F("written_off")), name="loan_recovery_up_to_written_off"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.member}"

    @property
    def money_out(self) -> bool:
        return self.status in DISBURSED


class Instalment(models.Model):
    """One due date of a schedule. ``overdue_after`` is the last day of grace: from the next
    day an instalment not settled is overdue, and its age counts the days past that."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="instalments")
    version = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField()
    due_on = models.DateField(_("due on"))
    overdue_after = models.DateField()
    principal = models.BigIntegerField(_("principal"))
    interest = models.BigIntegerField(_("interest"), default=0)
    principal_paid = models.BigIntegerField(default=0)
    interest_paid = models.BigIntegerField(default=0)
    settled_on = models.DateField(null=True, blank=True)
    # Set by the daily task the first time it finds the instalment overdue.
    marked_overdue_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["loan", "version", "number"]
        indexes = [
            # The unsettled instalments of current schedules, by the day they fall overdue.
            models.Index(
                fields=["overdue_after", "loan"],
                condition=Q(settled_on__isnull=True),
                name="instalment_unsettled",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "version", "number"], name="one_instalment_number"
            ),
            models.CheckConstraint(
                condition=Q(principal_paid__lte=F("principal"), interest_paid__lte=F("interest")),
                name="instalment_paid_up_to_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}/{self.version}/{self.number}"

    @property
    def amount(self) -> int:
        return self.principal + self.interest

    @property
    def paid(self) -> int:
        return self.principal_paid + self.interest_paid

    @property
    def remaining(self) -> int:
        return self.amount - self.paid


class RepaymentKind(models.TextChoices):
    REPAYMENT = "repayment", _("Repayment")
    RECOVERY = "recovery", _("Recovery after write-off")


class Repayment(models.Model):
    """Money a borrower paid back, with the ledger entry that returned it to the fund."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    kind = models.CharField(max_length=16, choices=RepaymentKind.choices)
    amount = models.BigIntegerField(_("amount"))
    principal = models.BigIntegerField(default=0)
    interest = models.BigIntegerField(default=0)
    paid_on = models.DateField(_("date paid"))
    receipt_reference = models.CharField(_("receipt reference"), max_length=64, blank=True)
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on #{self.loan_id}"


class LoanEvent(models.Model):
    """One step in a loan's life, shown as its timeline; never edited."""

    class Action(models.TextChoices):
        APPLIED = "applied", _("Applied")
        CONFIRMED = "confirmed", _("Confirmed by the union")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DISBURSED = "disbursed", _("Disbursed")
        REPAID = "repaid", _("Repayment recorded")
        OVERDUE = "overdue", _("Instalment overdue")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        WRITTEN_OFF = "written_off", _("Written off")
        RECOVERED = "recovered", _("Recovery recorded")
        CLOSED = "closed", _("Repaid in full")

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=16, choices=Action.choices)
    # Empty for the daily overdue check, which nobody does by hand.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.BigIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    on = models.DateField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.loan_id}"


class LoanYear(models.Model):
    """One year of lending at one unit (where the loans were applied) from one fund: the money
    that moved in it, each flow in the year it is dated, and the loans settled in it (their
    principal outstanding reached nil, by repayment or write-off).  What is outstanding and how
    many borrowers there are at a year's end follow from the years up to it.

    ``overdue_*`` and ``at_risk_30`` are the loans overdue on the last day of a year that has
    ended, counted once the year is over (``LoanYearEnd``); the year in progress reads its
    overdue loans from the instalments.  Kept by ``loans/services.py`` under the fund's lock
    (``loans/tallies.py``); rebuilt by ``manage.py rebuild_tallies``."""

    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="+")
    disbursed_loans = models.IntegerField(default=0)
    disbursed = models.BigIntegerField(default=0)
    principal_repaid = models.BigIntegerField(default=0)
    interest_paid = models.BigIntegerField(default=0)
    written_off = models.BigIntegerField(default=0)
    recovered = models.BigIntegerField(default=0)
    settled_loans = models.IntegerField(default=0)
    overdue_loans = models.IntegerField(default=0)
    overdue = models.BigIntegerField(default=0)
    at_risk_30 = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "unit", "fund"], name="one_loan_year"),
        ]
        indexes = [models.Index(fields=["unit", "year"], name="loan_year_unit")]

    def __str__(self) -> str:
        return f"{self.year} {self.unit_id} {self.fund_id}"


class LoanYearEnd(models.Model):
    """A year that has ended whose overdue loans on its last day are counted in ``LoanYear``."""

    year = models.PositiveSmallIntegerField(unique=True)
    counted_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.year)
