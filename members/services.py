"""Writes on members: each one transaction, called alike by views, commands and tests.

Each checks that its acting user ``by`` may edit members at every union it touches: 404
outside their scope, 403 in scope when their role only reads (``scope.authorize_write``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from unions.models import Unit, UnitKind
from unions.scope import ActingUser, Capability, authorize_write, can

from .counters import refresh_member_counts, refresh_membership_years
from .models import ENDED_STATUSES, Dependant, Member, Membership, MemberStatus


def get_member_for_user(user: ActingUser, pk: int | str, *, write: bool = False) -> Member:
    """The member if in the user's scope (404 otherwise, as if missing); 403 if read-only."""
    member = get_object_or_404(Member.objects.visible_to(user).select_related("unit"), pk=pk)
    if write and not can(user, Capability.EDIT_MEMBERS, member.unit):
        raise PermissionDenied
    return member


def get_dependant_for_user(user: ActingUser, pk: int | str, *, write: bool = False) -> Dependant:
    dependant = get_object_or_404(
        Dependant.objects.filter(member__in=Member.objects.visible_to(user)).select_related(
            "member__unit"
        ),
        pk=pk,
    )
    if write and not can(user, Capability.EDIT_MEMBERS, dependant.member.unit):
        raise PermissionDenied
    return dependant


@transaction.atomic
def create_member(*, member: Member, by: User) -> Member:
    """Save a validated new member and open their first membership at their unit."""
    authorize_write(by, Capability.EDIT_MEMBERS, Unit.objects.get(pk=member.unit_id))
    member._history_user = by
    member.save()
    Membership.objects.create(
        member=member,
        unit=member.unit,
        valid_from=member.joined_on or timezone.localdate(),
        reason=Membership.Reason.JOINED,
        by=by,
    )
    return member


@transaction.atomic
def update_member(*, member: Member, by: User) -> Member:
    """Save an edited member, at the union they were at and the one they are put at.  Leaving
    (left, transferred out, deceased) closes their open membership on ``left_on`` (today when
    not given); coming back opens a new one from today; a corrected leaving date moves the end
    of the membership it closed."""
    before = (
        Member.objects.select_for_update().values("unit_id", "status", "left_on").get(pk=member.pk)
    )
    for unit in Unit.objects.filter(pk__in={before["unit_id"], member.unit_id}):
        authorize_write(by, Capability.EDIT_MEMBERS, unit)
    _keep_membership(member, was=before["status"], was_left_on=before["left_on"], by=by)
    member._history_user = by
    member.save()
    # A corrected leaving date or kind changes the years' counts, and the unit counters not.
    refresh_membership_years({before["unit_id"], member.unit_id})
    return member


def _keep_membership(
    member: Member, *, was: str, was_left_on: datetime.date | None, by: User
) -> None:
    today = timezone.localdate()
    ends, ended = member.status in ENDED_STATUSES, was in ENDED_STATUSES
    if not ends:
        member.left_on = None
        if ended and not member.memberships.filter(valid_to__isnull=True).exists():
            Membership.objects.create(
                member=member,
                unit=member.unit,
                valid_from=today,
                reason=Membership.Reason.REJOINED,
                by=by,
            )
        return
    member.left_on = member.left_on or was_left_on or today
    if member.left_on > today:
        raise ValidationError({"left_on": _("The date left cannot be in the future.")})
    if ended:  # still gone: only the date may have been corrected
        if member.left_on == was_left_on:
            return
        row = member.memberships.filter(valid_to=was_left_on).order_by("-valid_from").first()
    else:
        row = _open_membership(member)
    if row is None:
        return
    if member.left_on < row.valid_from:
        raise ValidationError(
            {
                "left_on": _("The member joined the current union on %(date)s.")
                % {"date": row.valid_from.strftime("%d/%m/%Y")}
            }
        )
    row.valid_to = member.left_on
    row.save(update_fields=["valid_to"])


@transaction.atomic
def save_dependant(*, dependant: Dependant, by: User) -> Dependant:
    """Add or edit a member's child, by one who may edit that member."""
    authorize_write(by, Capability.EDIT_MEMBERS, _unit_of_member(dependant.member_id))
    dependant.save()
    return dependant


@transaction.atomic
def delete_dependant(*, dependant: Dependant, by: User) -> None:
    authorize_write(by, Capability.EDIT_MEMBERS, _unit_of_member(dependant.member_id))
    dependant.delete()


def _unit_of_member(member_pk: int) -> Unit:
    return Unit.objects.get(members__pk=member_pk)


def _open_membership(member: Member) -> Membership | None:
    return member.memberships.select_for_update().filter(valid_to__isnull=True).first()


@transaction.atomic
def transfer_member(
    *, member: Member, to_unit: Unit, effective_on: datetime.date, by: User, note: str = ""
) -> Member:
    """Move a member to another grassroots union; the old membership stays in their history."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    # Both units locked in pk order, as the recount of their counters locks them.
    units = {
        unit.pk: unit
        for unit in Unit.objects.select_for_update(no_key=True)
        .filter(pk__in=[member.unit_id, to_unit.pk])
        .order_by("pk")
    }
    to_unit = units[to_unit.pk]
    authorize_write(by, Capability.EDIT_MEMBERS, units[member.unit_id])
    authorize_write(by, Capability.EDIT_MEMBERS, to_unit)
    if to_unit.kind != UnitKind.GRASSROOTS or not to_unit.is_active:
        raise ValidationError(
            {"to_unit": _("Members can only move to an active grassroots union.")}
        )
    if to_unit.pk == member.unit_id:
        raise ValidationError({"to_unit": _("The member already belongs to this union.")})
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError(_("Only an active member can be transferred."))
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": _("The effective date cannot be in the future.")})
    current = _open_membership(member)
    if current and effective_on < current.valid_from:
        raise ValidationError(
            {
                "effective_on": _("The member joined the current union on %(date)s.")
                % {"date": current.valid_from.strftime("%d/%m/%Y")}
            }
        )
    _close_and_open(
        [member], to_unit, effective_on, by, Membership.Reason.TRANSFER, note, {member.pk: current}
    )
    member.unit = to_unit
    member._history_user = by
    member.save()
    return member


def _close_and_open(
    members: Iterable[Member],
    to_unit: Unit,
    effective_on: datetime.date,
    by: User | None,
    reason: str,
    note: str,
    open_rows: Mapping[int, Membership | None],
) -> None:
    closing, opening = [], []
    for member in members:
        row = open_rows.get(member.pk)
        if row is not None:
            if row.valid_from >= effective_on:
                row.delete()  # began the same day: it never stood on any date
            else:
                row.valid_to = effective_on
                closing.append(row)
        opening.append(
            Membership(
                member=member,
                unit=to_unit,
                valid_from=effective_on,
                reason=reason,
                note=note,
                by=by,
            )
        )
    Membership.objects.bulk_update(closing, ["valid_to"])
    Membership.objects.bulk_create(opening)


def refuse_closing_with_members(
    sender: object,
    *,
    unit: Unit,
    successor: Unit | None,
    effective_on: datetime.date | None = None,
    **kwargs: Any,
) -> str | None:
    """Answer ``unions.signals.unit_closing``: a unit with active members needs a successor
    that can hold them, and closes no earlier than its members' last arrival or departure."""
    if effective_on is not None and (
        Membership.objects.filter(unit=unit)
        .filter(Q(valid_from__gt=effective_on) | Q(valid_to__gt=effective_on))
        .exists()
    ):
        return _(
            "Members joined or left %(unit)s after this date: choose a later effective date."
        ) % {"unit": unit.name}
    if not Member.objects.filter(unit=unit, status=MemberStatus.ACTIVE).exists():
        return None
    if successor is None:
        return _("%(unit)s still has active members: transfer them or merge the unit instead.") % {
            "unit": unit.name
        }
    if successor.kind != UnitKind.GRASSROOTS:
        return _("%(unit)s has members, so it can only be merged into a grassroots union.") % {
            "unit": unit.name
        }
    return None


def move_members_to_successor(
    sender: object,
    *,
    unit: Unit,
    successor: Unit,
    effective_on: datetime.date,
    by: User | None,
    **kw: Any,
) -> None:
    """Answer ``unions.signals.unit_merged``: the merged unit's active members follow it."""
    members = list(Member.objects.select_for_update().filter(unit=unit, status=MemberStatus.ACTIVE))
    if not members:
        return
    open_rows = {
        row.member_id: row
        for row in Membership.objects.filter(member__in=members, valid_to__isnull=True)
    }
    _close_and_open(
        members, successor, effective_on, by, Membership.Reason.MERGE, unit.name, open_rows
    )
    for member in members:
        member.unit = successor
    bulk_update_with_history(members, Member, ["unit"], default_user=by)
    refresh_member_counts([unit.pk, successor.pk])
