"""The union tree: units, their effective-dated placements, reorganisation events and roles.

A unit's place in the tree is kept as rows of ``Placement`` (parent and materialised path,
valid from / valid to).  The open row is today's tree and is mirrored on ``Unit.parent`` and
``Unit.path`` so that scoping is one indexed prefix match.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from common.text import keep_search_name

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PATH_SEPARATOR = "/"
# A subtree of up to this many units filters a list by their ids (UnitQuerySet.ids_in_subtree_of).
SUBTREE_IDS = 500


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Provincial confederation")
    DISTRICT = "district", _("District federation")
    SECTOR = "sector", _("Sector union")
    COMMUNE = "commune", _("Commune/ward union")
    ZONE = "zone", _("Industrial-zone union")
    GRASSROOTS = "grassroots", _("Grassroots union")
    OTHER = "other", _("Other union")


class UnitStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged")
    DISSOLVED = "dissolved", _("Dissolved")


class UnitQuerySet(models.QuerySet["Unit"]):
    def visible_to(self, user, capability=None) -> UnitQuerySet:
        """Units in the subtree (today's tree) of the user's role assignments that grant
        ``capability`` (any role when None)."""
        from .scope import Capability, scope_q

        return self.filter(scope_q(user, "path", capability or Capability.VIEW))

    def active(self) -> UnitQuerySet:
        return self.filter(status=UnitStatus.ACTIVE)

    def in_subtree_of(self, unit: Unit) -> UnitQuerySet:
        return self.filter(path__startswith=unit.path)

    def ids_in_subtree_of(self, unit: Unit):
        """The ids of the units in ``unit``'s subtree, for a list filtered by a unit: a list
        of ids when they are few, so that PostgreSQL estimates the rows from each unit's
        statistics (a subquery is planned as a twentieth of the table: it walked 36,000
        members in name order to find a commune's 632), else the subquery."""
        ids = list(self.in_subtree_of(unit).values_list("pk", flat=True)[: SUBTREE_IDS + 1])
        if len(ids) <= SUBTREE_IDS:
            return ids
        return self.in_subtree_of(unit).values("pk")


class Unit(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=255)
    # The name as searches compare it (common.text.normalise), kept by save().
    search_name = models.CharField(max_length=255, editable=False, default="")
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.ACTIVE
    )
    # Today's placement, mirrored from the open Placement row by the services in tree.py.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    founded_on = models.DateField(_("founded on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    employer = models.CharField(
        _("employer or agency"),
        max_length=255,
        blank=True,
        help_text=_("For a grassroots union: the company, hospital, school or agency."),
    )
    history = HistoricalRecords(excluded_fields=["search_name"])
    objects = UnitQuerySet.as_manager()
    # Set before a save: simple_history records who made the change.
    _history_user: User | None

    class Meta:
        verbose_name = _("union unit")
        verbose_name_plural = _("union units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", closed_on__isnull=True)
                | (~Q(status="active") & Q(closed_on__isnull=False)),
                name="unit_closed_iff_not_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        keep_search_name(self, "name", kwargs)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status == UnitStatus.ACTIVE

    @property
    def is_grassroots(self) -> bool:
        return self.kind == UnitKind.GRASSROOTS

    def ancestor_ids(self) -> list[int]:
        """Ids on today's path from the root down to (and including) this unit."""
        return [int(part) for part in self.path.split(PATH_SEPARATOR) if part]

    def ancestors(self) -> UnitQuerySet:
        return Unit.objects.filter(pk__in=self.ancestor_ids()[:-1]).order_by("depth")


class PlacementQuerySet(models.QuerySet["Placement"]):
    def on(self, date: datetime.date) -> PlacementQuerySet:
        """The placements in force on a date: the tree as it stood then."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date), valid_from__lte=date)

    def open(self) -> PlacementQuerySet:
        return self.filter(valid_to__isnull=True)


class Placement(models.Model):
    """Where a unit stood in the tree from ``valid_from`` up to (not including) ``valid_to``."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="placements")
    parent = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(max_length=255, db_index=True)
    depth = models.PositiveSmallIntegerField()
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    objects = PlacementQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(valid_to__isnull=True), name="one_open_placement"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="placement_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["valid_from", "valid_to"])]

    def __str__(self) -> str:
        return f"{self.unit_id} under {self.parent_id} from {self.valid_from}"


class UnitEvent(models.Model):
    """A reorganisation of the tree: who did what to which unit, effective when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        MOVED = "moved", _("Moved")
        MERGED = "merged", _("Merged into another unit")
        ABSORBED = "absorbed", _("Took over a merged unit")
        DISSOLVED = "dissolved", _("Dissolved")

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    effective_on = models.DateField(_("effective date"))
    old_parent = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    new_parent = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    other_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit} {self.effective_on}"


class Role(models.TextChoices):
    OFFICER = "officer", _("Grassroots officer")
    STAFF = "staff", _("Intermediate staff")
    PROVINCE_STAFF = "province_staff", _("Province staff")
    TREASURER = "treasurer", _("Treasurer")
    LEADER = "leader", _("Leader")
    ADMINISTRATOR = "administrator", _("Administrator")


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def visible_to(self, user, capability=None) -> RoleAssignmentQuerySet:
        from .scope import Capability, scope_q

        return self.filter(scope_q(user, "unit__path", capability or Capability.VIEW))


class RoleAssignment(models.Model):
    """A role held at one unit; it reaches that unit's whole subtree and nothing else."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = RoleAssignmentQuerySet.as_manager()
    # Set before a delete: simple_history records who made the change.
    _history_user: User | None

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_role_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} — {self.unit}"


class AccountSettings(models.Model):
    """What the portal keeps about an account beside Django's user: whether its password was
    set by someone else (a new account, an administrator's reset) and must be changed at the
    next login (``unions.middleware.PasswordChangeRequiredMiddleware``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_settings"
    )
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("account settings")
        verbose_name_plural = _("account settings")

    def __str__(self) -> str:
        return str(self.user)


class SecondFactorEvent(models.Model):
    """What happened to an account's second factor, and who did it: the owner set it up or
    renewed the recovery codes, signed in with a recovery code, or an administrator reset it."""

    class Action(models.TextChoices):
        ENROLLED = "enrolled", _("Set up the authenticator app")
        RECOVERY_CODES = "recovery_codes", _("Made new recovery codes")
        RECOVERY_CODE_USED = "recovery_code_used", _("Signed in with a recovery code")
        RESET = "reset", _("Second factor reset by an administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="second_factor_events"
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("second-factor event")
        verbose_name_plural = _("second-factor events")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
