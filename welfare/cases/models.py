"""Hardship cases: who asked for what, the chain's events, the evidence, who opened the file,
and the payment that ends the money path (docs/design.md)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.text import normalise
from common.uploads import PREVIEWABLE
from members.models import Dependant, Member
from unions.models import Unit
from unions.scope import visible_unit_ids
from welfare.funds.models import Fund, LedgerEntry


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


class OrganisationKind(models.TextChoices):
    HEALTH = "health", _("Hospital or health facility")
    SCHOOL = "school", _("School")
    CHECKPOINT = "checkpoint", _("Quarantine area or checkpoint")
    COMMUNITY = "community", _("Community or village")
    DRIVE = "drive", _("Drive or movement")
    OTHER = "other", _("Other organisation")


class BeneficiaryOrganisation(models.Model):
    """An organisation or group given support rather than a person: a hospital, a quarantine
    checkpoint, a school in a flood area, a drive such as "Máy tính cho em".  It belongs to
    the union that gave or recorded the support, and is seen like that union's cases."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("union"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name of the organisation"), max_length=200)
    kind = models.CharField(
        _("kind of organisation"), max_length=16, choices=OrganisationKind.choices
    )
    address = models.CharField(_("address of the organisation"), max_length=255, blank=True)
    # The name compared without case or marks: one organisation per name at a union, so an
    # import or a form that names it again finds it rather than adding a second.
    search_name = models.CharField(max_length=200, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation supported")
        verbose_name_plural = _("organisations supported")
        ordering = ["search_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "search_name"], name="organisation_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name = " ".join(self.name.split())
        self.search_name = normalise(self.name)
        super().save(*args, **kwargs)


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user) -> CaseQuerySet:
        return self.filter(unit_id__in=visible_unit_ids(user))


class Case(models.Model):
    """A hardship case (hồ sơ hỗ trợ) for one person, or for one organisation or group,
    opened at one union."""

    # Indexed with its opening time (below), which serves every lookup by unit.
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("opened at"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    # Exactly one of the two is the beneficiary (case_one_beneficiary).
    member = models.ForeignKey(
        Member,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    organisation = models.ForeignKey(
        BeneficiaryOrganisation,
        verbose_name=_("organisation or group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # a partial index below: most records name no organisation
    )
    # The member's child a savings book or a scholarship is given for; the member stays the
    # family link (and the person supported).
    dependant = models.ForeignKey(
        Dependant,
        verbose_name=_("child"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # a partial index below
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
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a partial index below: set only while in review
    )
    approved_amount = models.BigIntegerField(_("amount approved (đồng)"), null=True, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_created"
    )
    # The support record of one person in an approved program batch (welfare/programs/):
    # approved and paid with its batch, never on its own.
    program = models.ForeignKey(
        "welfare.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    batch = models.ForeignKey(
        "welfare.Batch", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    batch_line = models.OneToOneField(
        "welfare.BatchLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="record",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # A paid record whose person had no membership at its unit in the year paid (they may
    # have had one elsewhere in the union counted): the few the report's "people without a
    # membership" looks at.  Kept by ``reports/unlisted.py``.
    unlisted = models.BooleanField(default=False, db_default=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["paid_on", "unit"],
                condition=Q(unlisted=True, status="paid"),
                name="case_paid_unlisted",
            ),
            # The case list's newest-first order, walked without sorting the table.
            models.Index(fields=["-created_at", "-id"], name="case_newest_first"),
            models.Index(
                fields=["status", "current_unit", "submitted_at"],
                condition=Q(current_unit__isnull=False),
                name="case_in_review",
            ),
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
            models.Index(
                fields=["paid_on"], condition=Q(paid_on__isnull=False), name="case_paid_on"
            ),
            # A record's columns that are mostly empty are indexed only where they are set, so
            # the hundreds of thousands of records a program-wide run writes and pays at once
            # add no entries to them (bench/README.md, "Program-wide runs").
            models.Index(
                fields=["organisation"],
                condition=Q(organisation__isnull=False),
                name="case_organisation",
            ),
            models.Index(
                fields=["dependant"], condition=Q(dependant__isnull=False), name="case_dependant"
            ),
            models.Index(
                fields=["current_unit"],
                condition=Q(current_unit__isnull=False),
                name="case_current_unit",
            ),
        ]
        constraints = [
            # A visit without money (thăm hỏi, động viên) is a record of 0 đồng; every other
            # support gives money.
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0)
                | Q(requested_amount=0, support_type=SupportType.VISIT),
                name="case_requested_positive",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0)
                | Q(approved_amount=0, support_type=SupportType.VISIT),
                name="case_approved_positive",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False, organisation__isnull=True)
                | Q(member__isnull=True, organisation__isnull=False),
                name="case_one_beneficiary",
            ),
            models.CheckConstraint(
                condition=Q(dependant__isnull=True) | Q(member__isnull=False),
                name="case_dependant_has_member",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.beneficiary_name}"

    @property
    def beneficiary_name(self) -> str:
        """Who the support is for, as every page and document names them."""
        if self.organisation_id is not None:
            assert self.organisation is not None
            return self.organisation.name
        assert self.member is not None
        return self.member.full_name

    @property
    def for_organisation(self) -> bool:
        return self.organisation_id is not None

    @property
    def without_money(self) -> bool:
        """A visit without money: approved at 0 đồng, "paid" on approval with no payment."""
        amount = self.approved_amount if self.approved_amount is not None else self.requested_amount
        return self.support_type == SupportType.VISIT and amount == 0


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

    @property
    def previewable(self) -> bool:
        return self.content_type in PREVIEWABLE


def pending_path(instance: PendingUpload, filename: str) -> str:
    return f"pending/{filename}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


class PendingUpload(models.Model):
    """An evidence file chosen on a case form that came back with errors, kept so that it need
    not be chosen again: the form carries its token, only its owner's form can use it, and it
    becomes the case's ``Evidence`` when the form is saved (``evidence.add_evidence``).  Kept a
    day at most (``clean_pending_uploads``)."""

    token = models.CharField(max_length=64, unique=True, default=new_token)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The draft it was chosen for; none on the new-case form, where there is no case yet.
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="pending_uploads"
    )
    file = models.FileField(upload_to=pending_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class CaseAccess(models.Model):
    """Someone opened a case file, one of its evidence files or printed one of its documents:
    hardship cases hold health and family details, so who read them is kept
    (``access_log.record_case_access``, never edited)."""

    class What(models.TextChoices):
        PAGE = "page", _("Opened the case file")
        EVIDENCE = "evidence", _("Downloaded an evidence file")
        PROPOSAL = "proposal", _("Printed the proposal")
        DECISION = "decision", _("Printed the approval decision")
        VOUCHER = "voucher", _("Printed the payment voucher")

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
