"""Programs and batch support: a budget on a fund with participating units and their quotas,
and each unit's batch of people going up the same approval chain as a case (docs/design.md).

Once a batch is approved every person in it becomes a support record of their own (a ``Case``
linked to the program, the batch and the batch line), so the annual report, the earlier-support
warning and the person's history read batches as they read cases.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from members.models import Dependant, Member
from unions.models import Unit
from unions.scope import visible_unit_ids
from welfare.cases.models import CaseEvent, CaseStatus, Category, SupportType
from welfare.funds.models import Fund, LedgerEntry


class ProgramQuerySet(models.QuerySet["Program"]):
    def visible_to(self, user) -> ProgramQuerySet:
        """The programs of the unions in the user's scope, and those a unit in their scope
        takes part in (a grassroots officer sees the province's Tết program, and only their
        own batch in it)."""
        units = visible_unit_ids(user)
        taking_part = Participant.objects.filter(program=OuterRef("pk"), unit_id__in=units)
        return self.filter(Q(unit_id__in=units) | Exists(taking_part))


class Program(models.Model):
    """A support program (Tết Sum vầy, Tháng Công nhân, a scholarship) run by one union."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(_("name"), max_length=200)
    support_type = models.CharField(_("support type"), max_length=16, choices=SupportType.choices)
    # What the support records of the program are filed under in the report.
    category = models.CharField(
        _("hardship category"), max_length=16, choices=Category.choices, default=Category.OTHER
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="programs"
    )
    year = models.PositiveIntegerField(_("year"))
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("to"), null=True, blank=True)
    budget = models.BigIntegerField(_("budget (đồng)"))
    # What its support records hold (approved and not yet paid, or paid), kept by approving
    # and paying under the fund's lock: the budget check reads one row, not every record.
    # ``services.committed`` adds it up from the records.
    committed = models.BigIntegerField(default=0)
    # What its batches paid and how many records they hold, kept with ``committed`` (the
    # program page reads them from this row, not from its thousands of batches).
    paid = models.BigIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["-year", "name", "id"]
        indexes = [models.Index(fields=["unit", "-year"])]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gt=0), name="program_budget_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Applies(models.TextChoices):
    """Who a standard amount is for; a person gets the highest level that fits them."""

    EVERYONE = "everyone", _("Everyone")
    MEMBER = "member", _("Union members")
    WORKER = "worker", _("Non-member workers")
    POOR = "poor", _("Poor households")
    POLICY = "policy", _("Policy families")


class Level(models.Model):
    """A standard amount of a program: 500.000 ₫ for members, 1.000.000 ₫ for poor households."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="levels")
    label = models.CharField(_("level"), max_length=100)
    applies_to = models.CharField(
        _("for"), max_length=16, choices=Applies.choices, default=Applies.EVERYONE
    )
    amount = models.BigIntegerField(_("amount (đồng)"))

    class Meta:
        ordering = ["amount", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="level_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.label


class Participant(models.Model):
    """A unit taking part in a program, with its quota of people and money."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="participants")
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    quota_people = models.PositiveIntegerField(_("quota (people)"), null=True, blank=True)
    quota_amount = models.BigIntegerField(_("quota (đồng)"), null=True, blank=True)

    class Meta:
        ordering = ["unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["program", "unit"], name="one_participant_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.unit_id}"


class BatchQuerySet(models.QuerySet["Batch"]):
    def visible_to(self, user) -> BatchQuerySet:
        # A program's participants are in its union's subtree: whoever sees the program's
        # union sees the batch's unit too.
        return self.filter(unit_id__in=visible_unit_ids(user))


class Batch(models.Model):
    """One participating unit's list of people in a program, going up the approval chain as a
    case does (``welfare.cases.rules`` decides each step for both)."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="batch")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="batches")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    # The program's fund, kept on the batch so the chain's rules read it as a case's.
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.DRAFT
    )
    current_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_amount = models.BigIntegerField(null=True, blank=True)
    # Its support records holding money (approved, then paid), kept by approving and paying:
    # the program page adds up thousands of batches, not every record.
    records = models.PositiveIntegerField(default=0)
    approved_on = models.DateField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    paid_amount = models.BigIntegerField(null=True, blank=True)
    receipt_reference = models.CharField(max_length=64, blank=True)
    payment_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["unit__path", "id"]
        indexes = [models.Index(fields=["status", "current_unit"])]

    def __str__(self) -> str:
        return f"{self.program} — {self.unit}"


class LineStatus(models.TextChoices):
    LISTED = "listed", _("Listed")
    TAKEN_OUT = "taken_out", _("Taken out by the approver")
    PAID = "paid", _("Paid")
    NOT_PAID = "not_paid", _("Not paid")


class Unpaid(models.TextChoices):
    """Why a person of an approved batch was not paid: their reserve goes back to the fund."""

    NOT_FOUND = "not_found", _("Not found")
    REFUSED = "refused", _("Refused the support")
    MOVED_AWAY = "moved_away", _("Moved away")


class BatchLine(models.Model):
    """One person in a batch, with the amount proposed for them."""

    # Indexed with the line's status (below), which serves every lookup by batch.
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="lines", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    # A savings book or a scholarship is for one of the member's children (a line each).
    dependant = models.ForeignKey(
        Dependant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # one_line_per_child and the partial index below
    )
    # The person's union when listed: their support record is made there.  Never looked up
    # by it, so not indexed: a city's run writes and pays 445,000 lines.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", db_index=False)
    level = models.CharField(max_length=100, blank=True)
    amount = models.BigIntegerField(_("amount (đồng)"))
    status = models.CharField(max_length=16, choices=LineStatus.choices, default=LineStatus.LISTED)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    exception = models.CharField(max_length=16, choices=Unpaid.choices, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "member"],
                condition=Q(dependant__isnull=True),
                name="one_line_per_person",
            ),
            models.UniqueConstraint(
                fields=["batch", "dependant"],
                condition=Q(dependant__isnull=False),
                name="one_line_per_child",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="line_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["batch", "status"]),
            models.Index(
                fields=["dependant"], condition=Q(dependant__isnull=False), name="line_dependant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.member_id}"


class BatchEvent(models.Model):
    """One step on a batch's timeline, as ``CaseEvent`` is on a case's."""

    Action = CaseEvent.Action

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=CaseEvent.Action.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.batch_id}"


class UnitProgress:
    """What a background job over a program's units shows while it runs (a signature-list
    build, a program-wide run): ``status`` among its ``ACTIVE`` ones, ``units_done`` of
    ``units_total``, 100 once done."""

    status: str
    units_done: int
    units_total: int
    ACTIVE: tuple

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def progress(self) -> int:
        if self.status == "done":
            return 100
        if not self.units_total:
            return 0
        return min(99, 100 * self.units_done // self.units_total)


class SignatureListQuerySet(models.QuerySet["SignatureList"]):
    def visible_to(self, user) -> SignatureListQuerySet:
        """One unit's list: whoever sees the batch.  Every unit's lists at once: whoever sees
        the program's union, whose subtree holds every participating unit."""
        units = visible_unit_ids(user)
        return self.filter(
            Q(batch__isnull=False, batch__unit_id__in=units)
            | Q(batch__isnull=True, program__unit_id__in=units)
        )


class SignatureList(UnitProgress, models.Model):
    """A signature list (danh sách ký nhận) asked for and built in the background: one unit's
    PDF, or, without a batch, a ZIP of the PDF of every unit whose batch is approved or paid.
    Its state and progress are what the progress page polls, as a report's are."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="signature_lists")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="signature_lists"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    units_done = models.PositiveIntegerField(default=0)
    units_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="signature-lists/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its build was last handed to the broker (common/dispatch.py).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SignatureListQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "batch", "status"])]

    def __str__(self) -> str:
        return f"{self.program_id} {self.batch_id or '*'}"


def signed_list_path(instance: SignedList, filename: str) -> str:
    return f"signed-lists/{instance.batch_id}/{filename}"


class SignedList(models.Model):
    """The signature list scanned back once the people signed it: the batch's evidence of
    payment, stored outside the web root and served only through the batch."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="signed_lists")
    file = models.FileField(upload_to=signed_list_path)
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


class BatchAccess(models.Model):
    """Someone printed a batch's signature list or downloaded its signed scan: the list holds
    names and the money each person received, so who read it is kept, as for a case."""

    class What(models.TextChoices):
        SIGNATURE_LIST = "signature_list", _("Downloaded the signature list")
        SIGNED_LIST = "signed_list", _("Downloaded the signed list")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=16, choices=What.choices)
    name = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.what} {self.batch_id}"


class ProgramRunQuerySet(models.QuerySet["ProgramRun"]):
    def visible_to(self, user) -> ProgramRunQuerySet:
        """A run is seen by whoever asked for it, and by whoever sees its program's union, whose
        subtree holds every unit a run can reach: its counts never tell of units out of the
        reader's scope."""
        return self.filter(
            Q(requested_by_id=getattr(user, "pk", None))
            | Q(program__unit_id__in=visible_unit_ids(user))
        )


class ProgramRun(UnitProgress, models.Model):
    """One step taken over a whole program in the background: build every participating
    unit's batch, check them all for earlier support, approve every batch waiting at the
    approver's level, or record every approved batch paid.  It works unit by unit, each in a
    short transaction that also moves ``after_unit``, so its progress shows as it goes and a
    worker killed half-way resumes after the last unit it finished, never doing one twice."""

    class Kind(models.TextChoices):
        BUILD = "build", _("Build every unit's batch")
        CHECK = "check", _("Check for earlier support")
        APPROVE = "approve", _("Approve the waiting batches")
        PAY = "pay", _("Record the approved batches paid")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(_("step"), max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The payment's date and receipt, for a run that records payments.
    paid_on = models.DateField(null=True, blank=True)
    receipt_reference = models.CharField(max_length=64, blank=True)
    units_total = models.PositiveIntegerField(default=0)
    units_done = models.PositiveIntegerField(default=0)
    units_refused = models.PositiveIntegerField(default=0)
    # People listed, flagged, approved or paid, and their money, over the units done.
    people = models.PositiveIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    # The participant last finished (they are taken in id order): where a run resumes.
    after_id = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProgramRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["program", "status"])]
        constraints = [
            # One step at a time over a program: two runs would race for the same batches.
            models.UniqueConstraint(
                fields=["program"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_program",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.kind}"


class RunIssue(models.Model):
    """A unit a run refused (over budget, not the approver's turn, ...) or flagged (people
    with earlier support), and why, in the words the batch page would use."""

    run = models.ForeignKey(ProgramRun, on_delete=models.CASCADE, related_name="issues")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    refused = models.BooleanField(default=True)
    people = models.PositiveIntegerField(default=0)
    reason = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.run_id} {self.unit_id}"
