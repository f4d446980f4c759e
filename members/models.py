from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from common.text import keep_search_name
from unions.models import Unit
from unions.scope import Capability, visible_unit_ids

from .search import normalise

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    TRANSFERRED = "transferred", _("Transferred out")
    LEFT = "left", _("Left")
    DECEASED = "deceased", _("Deceased")


# The statuses that end a person's membership: their open membership closes on ``left_on``.
ENDED_STATUSES = (MemberStatus.TRANSFERRED, MemberStatus.LEFT, MemberStatus.DECEASED)


class MemberKind(models.TextChoices):
    MEMBER = "member", _("Union member")
    WORKER = "worker", _("Non-member worker")


# "Joined recently" sorts on this: a member with no joining date comes last, and the key is
# never NULL, so the list can page through it by keyset.
JOINED_KEY = Coalesce("joined_on", Value(datetime.date(1, 1, 1)))


class MemberQuerySet(models.QuerySet["Member"]):
    def visible_to(self, user, capability: Capability = Capability.VIEW) -> MemberQuerySet:
        return self.filter(unit_id__in=visible_unit_ids(user, capability))

    def same_person(self, member: Member) -> MemberQuerySet:
        """The records of one person: by ID number, or by normalised name and date of birth
        (how an unidentified worker is recognised, and a person listed twice by mistake)."""
        match = Q(search_name=member.search_name, date_of_birth=member.date_of_birth)
        if member.national_id:  # an empty number matches nobody: it is not an identity
            match |= Q(national_id=member.national_id)
        if member.pk:
            match |= Q(pk=member.pk)
        return self.filter(match)

    def search(self, text: str) -> MemberQuerySet:
        """Match a name with or without diacritics, a national ID, or a union card number."""
        text = text.strip()
        if not text:
            return self
        compact = "".join(text.split())
        if compact.isdigit():
            return self.filter(Q(national_id__startswith=compact) | Q(union_card_number=compact))
        return self.filter(Q(search_name__contains=normalise(text)) | Q(union_card_number=text))


class Member(models.Model):
    """A union member or a non-member worker, identified by the personal ID number."""

    full_name = models.CharField(_("full name"), max_length=128)
    # Compared bytewise on PostgreSQL too (migration 0006), so a name prefix is an index range.
    search_name = models.CharField(max_length=128, editable=False, db_index=True)
    # The name's key in Vietnamese order (common.text.sort_key): lists sort by it, so "Đ"
    # comes after "D". Compared bytewise on PostgreSQL too (migration 0010).
    sort_name = models.CharField(max_length=160, editable=False, default="")
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"))
    # Empty only for an unidentified worker (seasonal, informal: no card to copy the number
    # from); unique among the filled ones, as NULLs never collide.
    national_id = models.CharField(
        _("personal ID number (CCCD)"),
        max_length=12,
        unique=True,
        null=True,
        blank=True,
        help_text=_("12 digits on the citizen ID card; 9 digits for an old ID card."),
    )
    # Stored, not derived, so lists filter on it and the constraint below ties it to the
    # missing number: such a person is matched by normalised name and date of birth instead.
    # A database default too: the seed and the bench write members as raw rows.
    unidentified = models.BooleanField(
        _("no ID number (informal or seasonal worker)"),
        default=False,
        db_default=False,
    )
    kind = models.CharField(
        _("membership"), max_length=8, choices=MemberKind.choices, default=MemberKind.MEMBER
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("grassroots union"), on_delete=models.PROTECT, related_name="members"
    )
    union_card_number = models.CharField(_("union card number"), max_length=32, blank=True)
    joined_on = models.DateField(_("date joined"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=128, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    # The day the membership ended (left, transferred out of the portal's unions, or died);
    # empty while active. ``members.services.update_member`` closes the membership on it.
    left_on = models.DateField(_("date left or died"), null=True, blank=True)
    policy_family = models.BooleanField(_("policy family"), default=False)
    poor_household = models.BooleanField(_("poor household"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set while the person's request to restrict the processing of their data stands
    # (members/privacy.py): no new case is opened for them.  A database default too, for the
    # plain rows the import and the scale seed write.
    processing_restricted = models.BooleanField(
        _("processing restricted"), default=False, db_default=False, editable=False
    )

    history = HistoricalRecords(excluded_fields=["search_name", "sort_name", "updated_at"])
    objects = MemberQuerySet.as_manager()
    # Set before a save: simple_history records who made the change.
    _history_user: User | None

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["union_card_number"],
                condition=~Q(union_card_number=""),
                name="unique_union_card_number",
            ),
            models.CheckConstraint(
                condition=Q(national_id__regex=r"^([0-9]{9}|[0-9]{12})$"),
                name="national_id_digits",
            ),
            # Only a non-member worker may lack the number, and then says so.
            models.CheckConstraint(
                condition=Q(unidentified=False, national_id__isnull=False)
                | Q(unidentified=True, national_id__isnull=True, kind="worker"),
                name="national_id_or_unidentified_worker",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status"]),
            models.Index(fields=["search_name", "id"], name="member_name_order"),
            models.Index(fields=["sort_name", "id"], name="member_sort_order"),
            # Keyset pagination of the other sorts of the member list.
            models.Index(fields=["date_of_birth", "id"], name="member_birth_order"),
            models.Index(JOINED_KEY, "id", name="member_joined_order"),
            # The few unidentified workers, by unit: the list's filter and the imports'
            # matching read only them.
            models.Index(
                fields=["unit"], condition=Q(unidentified=True), name="member_unidentified"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, and in the same transaction recount the units whose counters the change moves
        (a new member, a change of unit, status, kind or sex)."""
        from .counters import refresh_member_counts

        keep_search_name(self, "full_name", kwargs)
        before = getattr(self, "_counted", None)
        after = self._counted_state()
        if before is not None and before == after and not self._state.adding:
            super().save(*args, **kwargs)
            return
        with transaction.atomic(savepoint=False):
            if before is not None:
                old_unit = before[0]
            elif not self._state.adding:  # loaded with deferred fields: ask before saving
                old_unit = Member.objects.filter(pk=self.pk).values_list("unit_id").first()
                old_unit = old_unit and old_unit[0]
            else:
                old_unit = None
            super().save(*args, **kwargs)
            refresh_member_counts({self.unit_id, old_unit})
        self._counted = self._counted_state()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._counted = instance._counted_state()
        return instance

    def _counted_state(self) -> tuple | None:
        """What the unit counters depend on, as loaded (None when a field was deferred)."""
        names = ("unit_id", "status", "kind", "sex")
        if any(name not in self.__dict__ for name in names):
            return None
        return tuple(self.__dict__[name] for name in names)


@receiver(post_delete, sender=Member)
def _recount_after_delete(sender, instance: Member, **kwargs) -> None:
    from .counters import refresh_member_counts

    refresh_member_counts({instance.unit_id})


class UnitMemberCount(models.Model):
    """The active people of one unit (its own, not its subtree's): what the home page and the
    unit page add up over a scope instead of counting the members table.

    ``members.counters.refresh_member_counts`` recounts a unit's row from the members table in
    the transaction of every change; ``manage.py recount_members`` rebuilds them all.
    """

    unit = models.OneToOneField(
        Unit, primary_key=True, on_delete=models.CASCADE, related_name="member_count"
    )
    members = models.PositiveIntegerField(default=0)  # active, kind "member"
    workers = models.PositiveIntegerField(default=0)  # active, kind "worker"
    women = models.PositiveIntegerField(default=0)  # active, female, either kind

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.members} members, {self.workers} workers"


class MembershipYear(models.Model):
    """One unit's membership in one year (its own, not its subtree's): the memberships there on
    the year's last day (today for the year in progress) by kind, those that began by joining,
    and the people whose membership ended there in the year.  What the annual report adds up
    over a union's units instead of reading every membership.

    ``members.counters.refresh_member_counts`` recounts the units a change touches, every year;
    ``MembershipYearCounted`` says a year has been counted for every unit (the report reads
    the records for a year that has not); ``manage.py rebuild_tallies`` recounts them all."""

    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    members = models.PositiveIntegerField(default=0)
    workers = models.PositiveIntegerField(default=0)
    joined = models.PositiveIntegerField(default=0)
    left = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "unit"], name="one_membership_year"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.year}"


class MembershipYearCounted(models.Model):
    """A year whose ``MembershipYear`` rows are counted for every unit."""

    year = models.PositiveSmallIntegerField(unique=True)
    counted_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.year)


class Dependant(models.Model):
    """A member's child: savings books and scholarships are given for them."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="dependants")
    full_name = models.CharField(_("full name"), max_length=128)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"))
    relationship = models.CharField(_("relationship"), max_length=32, default="child")
    note = models.CharField(_("note"), max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dependant")
        verbose_name_plural = _("dependants")
        ordering = ["date_of_birth", "id"]

    def __str__(self) -> str:
        return self.full_name


class Membership(models.Model):
    """Which unit a member belonged to, from when until when: kept across transfers and merges."""

    class Reason(models.TextChoices):
        JOINED = "joined", _("Joined")
        TRANSFER = "transfer", _("Transferred")
        MERGE = "merge", _("Unit merged")
        REJOINED = "rejoined", _("Rejoined")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=255, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(valid_to__isnull=True), name="one_open_membership"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} at {self.unit_id} from {self.valid_from}"


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _recount_membership_years(sender, instance: Membership, **kwargs) -> None:
    """A membership saved or deleted one at a time recounts its unit's years; the bulk
    writers (transfers, merges, imports) recount the units they touched themselves."""
    from .counters import refresh_membership_years

    refresh_membership_years({instance.unit_id})


class MemberAccess(models.Model):
    """Someone read a member's personal data: opened the member's page or edit form, revealed
    the full ID number, or exported a list with full ID numbers (``member`` is then empty and
    ``detail`` holds the list's filters).  Kept for ``PERSONAL_DATA_LOG_DAYS`` (Personal Data
    Protection Law), never edited; ``members/access_log.py`` writes it."""

    class What(models.TextChoices):
        PAGE = "page", _("Opened the member's page")
        EDIT = "edit", _("Opened the member's edit form")
        REVEAL = "reveal", _("Revealed the ID number")
        EXPORT = "export", _("Exported a list with full ID numbers")
        SUBJECT = "subject", _("Produced everything held about the person (data-subject request)")

    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.CASCADE, related_name="accesses"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=16, choices=What.choices)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["member", "-at", "-id"], name="member_access_newest")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.what} {self.at:%d/%m/%Y %H:%M}"


class LegalBasis(models.TextChoices):
    """Why the union may process a member's personal data (Law 91/2025/QH15 on Personal Data
    Protection: consent, or one of the cases it allows without consent)."""

    CONSENT = "consent", _("Consent of the data subject")
    UNION_DUTIES = "union_duties", _("Performance of the union's duties under the Trade Union Law")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation")
    VITAL_INTERESTS = "vital_interests", _("Protection of the life or health of the person")


class ConsentQuerySet(models.QuerySet["Consent"]):
    def newest_first(self) -> ConsentQuerySet:
        return self.order_by("-recorded_at", "-id")


class Consent(models.Model):
    """The legal basis on which a member's data is processed, as recorded on a day: the newest
    row of a member is the one that stands.  Never edited: a withdrawal of consent is a row of
    its own, carrying the consent it withdraws (basis, notice version, day given) and the day
    it was withdrawn (members/privacy.py)."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="consents", verbose_name=_("data subject")
    )
    basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    # PERSONAL_DATA_NOTICE_VERSION when recorded: which notice the person was given.
    notice_version = models.CharField(_("notice version"), max_length=16)
    given_on = models.DateField(_("date given"))
    withdrawn_on = models.DateField(_("date withdrawn"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True)
                | Q(basis="consent", withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawal_after_consent",
            ),
        ]
        indexes = [models.Index(fields=["member", "-recorded_at", "-id"], name="consent_newest")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.basis} {self.given_on}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_on is not None


class SubjectRequestQuerySet(models.QuerySet["SubjectRequest"]):
    def visible_to(self, user) -> SubjectRequestQuerySet:
        """The requests of the members of the units the user manages users in: an
        administrator's work, like the access log."""
        return self.filter(member__unit_id__in=visible_unit_ids(user, Capability.MANAGE_USERS))

    def open(self) -> SubjectRequestQuerySet:
        return self.filter(status__in=SubjectRequest.OPEN)

    def overdue(self, today: datetime.date) -> SubjectRequestQuerySet:
        """Open past the day to complete it, or not acknowledged past the day to do that."""
        return self.open().filter(
            Q(complete_by__lt=today)
            | Q(status=SubjectRequest.Status.RECEIVED, acknowledge_by__lt=today)
        )


class SubjectRequest(models.Model):
    """A person's request about their personal data (Law 91/2025/QH15, Decree 356/2025/NĐ-CP):
    what they asked, when, and how the union answered it within the law's deadlines, which are
    computed once on receipt (members/privacy.py) so that lists sort and filter on them."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access to their data")
        CORRECT = "correct", _("Correction of their data")
        RESTRICT = "restrict", _("Restriction of processing")
        WITHDRAW = "withdraw", _("Withdrawal of consent")
        DELETE = "delete", _("Deletion of their data")
        OBJECT = "object", _("Objection to processing")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")

    OPEN = (Status.RECEIVED, Status.ACKNOWLEDGED)

    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="subject_requests",
        verbose_name=_("data subject"),
    )
    kind = models.CharField(_("request"), max_length=16, choices=Kind.choices)
    received_on = models.DateField(_("date received"))
    details = models.TextField(_("what the person asked"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    acknowledge_by = models.DateField(_("acknowledge by"))
    complete_by = models.DateField(_("complete by"))
    acknowledged_on = models.DateField(_("date acknowledged"), null=True, blank=True)
    # The day it was completed or refused.
    completed_on = models.DateField(_("date closed"), null=True, blank=True)
    # What was done (completed) or why not (refused: required).
    outcome = models.TextField(_("outcome"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A restriction carried out stands until it is lifted (the person asks, or its ground ends):
    # recorded beside the request, which keeps what was done.
    lifted_on = models.DateField(_("restriction lifted on"), null=True, blank=True)
    lift_reason = models.TextField(_("why the restriction was lifted"), blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SubjectRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_on__isnull=True)
                | Q(acknowledged_on__gte=models.F("received_on")),
                name="subject_request_acknowledged_after_receipt",
            ),
            models.CheckConstraint(
                condition=Q(status="received", acknowledged_on__isnull=True, completed_on=None)
                | Q(status="acknowledged", acknowledged_on__isnull=False, completed_on=None)
                | Q(
                    status__in=["completed", "refused"],
                    completed_on__isnull=False,
                    acknowledged_on__isnull=False,
                    completed_on__gte=models.F("acknowledged_on"),
                ),
                name="subject_request_closed_with_its_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(outcome=""),
                name="subject_request_refused_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(lifted_on__isnull=True)
                | Q(
                    kind="restrict",
                    status="completed",
                    lifted_on__gte=models.F("completed_on"),
                    lifted_by__isnull=False,
                )
                & ~Q(lift_reason=""),
                name="subject_request_lifted_restriction_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "complete_by", "id"], name="subject_request_due"),
            models.Index(fields=["-received_on", "-id"], name="subject_request_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.received_on}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def may_be_lifted(self) -> bool:
        """A restriction carried out and not yet lifted."""
        return (
            self.kind == self.Kind.RESTRICT
            and self.status == self.Status.COMPLETED
            and self.lifted_on is None
        )

    @property
    def acknowledgment_overdue(self) -> bool:
        return self.status == self.Status.RECEIVED and self.acknowledge_by < timezone.localdate()

    @property
    def overdue(self) -> bool:
        """Open past a deadline, as ``SubjectRequestQuerySet.overdue`` finds it."""
        late = self.complete_by < timezone.localdate()
        return self.is_open and (late or self.acknowledgment_overdue)
