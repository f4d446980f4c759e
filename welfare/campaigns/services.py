"""Campaigns and their contributions: every write is one service taking the acting user (``by``).

A campaign is opened and edited by those who run programs at its union (they open and review
support there).  A contribution is recorded by a treasurer of the union that owns the receiving
fund: one ledger entry, posted under the fund's lock, and the contribution that names its donor
and receipt, in the same transaction.  A receipt number is used once in a campaign: the same
contribution sent again records nothing more (``AlreadyRecorded``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    Collate,
    ExtractMonth,
    ExtractYear,
    StrIndex,
    Substr,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from members.models import Member
from unions.models import PATH_SEPARATOR, Unit
from unions.scope import (
    ActingUser,
    Capability,
    authorize_write,
    can,
    grants,
    require_actor,
    scope_paths,
)
from welfare.cases.approvals import check_fund_usable
from welfare.funds.ledger import (
    AlreadyRecorded,
    authorize_treasurer,
    lock_fund,
    record_contribution,
)
from welfare.funds.models import Fund

from .models import Campaign, Contribution, ContributionQuerySet, DonorKind

# --- reads ---------------------------------------------------------------------------------


def get_campaign_for_user(user: ActingUser, pk: int | str) -> Campaign:
    return get_object_or_404(
        Campaign.objects.visible_to(user).select_related("unit", "fund__unit"), pk=pk
    )


def get_contribution_for_user(user: ActingUser, pk: int | str) -> Contribution:
    return get_object_or_404(
        Contribution.objects.visible_to(user).select_related(
            "campaign__unit",
            "campaign__fund__unit",
            "collected_by",
            "entry__reversed_by",
            "recorded_by",
        ),
        pk=pk,
    )


@dataclass
class Raised:
    amount: int
    count: int
    donors: int

    def share_of(self, target: int) -> float:
        return self.amount / target * 100 if target else 0.0


def _exact(field: str) -> F | Collate:
    """A text column compared byte for byte: the same answer to "how many distinct", without
    the locale's slow collation (PostgreSQL)."""
    return Collate(F(field), "C") if connection.vendor == "postgresql" else F(field)


def raised(contributions: ContributionQuerySet) -> Raised:
    """What ``contributions`` add up to, leaving reversed ones out."""
    row = contributions.standing().aggregate(
        amount=Coalesce(Sum("amount"), 0),
        count=Count("pk"),
        donors=Count(_exact("donor_name"), distinct=True),
    )
    return Raised(int(row["amount"]), int(row["count"]), int(row["donors"]))


def in_scope(campaign: Campaign, unit: Unit, listed: Iterable[Unit] | None = None) -> bool:
    """Whether ``unit`` may collect for the campaign: under one of its participating units,
    or under its union when it lists none."""
    listed = list(campaign.units.all()) if listed is None else list(listed)
    roots = listed or [campaign.unit]
    return any(unit.path.startswith(root.path) for root in roots)


def collecting_units(campaign: Campaign, listed: list[Unit] | None = None) -> QuerySet[Unit]:
    """The units that may collect for the campaign (``listed``: its units, when read)."""
    listed = list(campaign.units.all()) if listed is None else listed
    roots = listed or [campaign.unit]
    q = Q(pk__in=[])
    for root in roots:
        q |= Q(path__startswith=root.path)
    return Unit.objects.filter(q)


def reader_top(user: ActingUser, campaign: Campaign) -> list[Unit]:
    """Where the reader's "by unit" figures start: the campaign's union when they see it,
    else the unions of their own under it (each the top of a subtree they see)."""
    if can(user, Capability.VIEW, campaign.unit):
        return [campaign.unit]
    roots = set(scope_paths(user))
    held = {g.path: g for g in grants(user) if g.path in roots}
    return [
        Unit(pk=g.unit_id, name=g.unit_name, path=g.path, kind=g.unit_kind)
        for path, g in sorted(held.items())
        if path.startswith(campaign.unit.path)
    ]


class UnitRef(NamedTuple):
    """What the "by unit" table needs of a unit, read without building model instances."""

    pk: int
    name: str
    path: str
    is_active: bool = True


@dataclass
class UnitRaised:
    """What one unit's subtree collected for a campaign; ``own`` for what the unit whose
    child units are listed collected itself."""

    unit: Unit | UnitRef
    amount: int = 0
    count: int = 0
    own: bool = False

    @property
    def name(self) -> str:
        return self.unit.name


def raised_by_unit(
    contributions: ContributionQuerySet,
    tops: list[Unit],
    *,
    children: Iterable[Unit | UnitRef] = (),
    keep_empty: bool = False,
) -> tuple[list[UnitRaised], dict[datetime.date, int]]:
    """The standing ``contributions`` of ``tops``'s subtrees rolled up to its ``children``
    (and a row for what it collected itself) with one top, to each of them with several; and
    the same money by the month it was received in.  One grouped query however many units
    collect: each contribution's collecting unit's path is cut after the child unit's part.
    Units that collected nothing get a row only with ``keep_empty``."""
    if not tops:
        return [], {}
    standing = contributions.standing().order_by()
    path = "collected_by__path"
    head: Substr | Case
    if len(tops) == 1:
        node = tops[0]
        rest = Substr(path, len(node.path) + 1)
        head = Substr(path, 1, len(node.path) + StrIndex(rest, Value(PATH_SEPARATOR)))
        standing = standing.filter(collected_by__path__startswith=node.path)
        units: list[Unit | UnitRef] = list(children)
    else:
        head = Case(
            *(When(**{f"{path}__startswith": top.path}, then=Value(top.path)) for top in tops),
            output_field=CharField(),
        )
        q = Q(pk__in=[])
        for top in tops:
            q |= Q(collected_by__path__startswith=top.path)
        standing = standing.filter(q)
        units = list(tops)
    sums, months = _sums_by_head_and_month(standing.annotate(head=head))
    rows = []
    if len(tops) == 1 and tops[0].path in sums:
        rows.append(UnitRaised(tops[0], *sums.pop(tops[0].path), own=True))
    known = {unit.path for unit in units}
    missing = [path for path in sums if path not in known]
    if missing:  # not a child unit today: the tree changed as the page was read
        units += Unit.objects.filter(path__in=missing).only("pk", "name", "path", "status")
    listed = [
        UnitRaised(unit, *sums[unit.path]) if unit.path in sums else UnitRaised(unit)
        for unit in units
        if unit.path in sums or (keep_empty and unit.is_active)
    ]
    rows += sorted(listed, key=lambda row: (-row.amount, row.name))
    return rows, months


def _sums_by_head_and_month(
    contributions: QuerySet[Contribution],
) -> tuple[dict[str, tuple[int, int]], dict[datetime.date, int]]:
    """(amount, count) by ``head`` and amount by month of ``contributions`` (annotated with
    ``head``), in one pass: on PostgreSQL by ``GROUPING SETS`` over the rows the queryset
    selects (a few hundred groups), elsewhere grouped by both and added up here."""
    # The month as one number (2026 * 12 + 4), read without the ORM's date converters.
    number = ExtractYear("received_on") * 12 + ExtractMonth("received_on") - 1
    picked = contributions.annotate(month=number)
    sums: dict[str, tuple[int, int]] = {}
    by_number: dict[int, int] = {}
    if connection.vendor == "postgresql":
        inner, params = picked.values_list("head", "month", "amount").query.sql_with_params()
        sql = (
            "SELECT GROUPING(head), head, month, SUM(amount), COUNT(*) "
            f"FROM ({inner}) AS picked (head, month, amount) "
            "GROUP BY GROUPING SETS ((head), (month))"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for by_month, key, month, amount, count in cursor.fetchall():
                if by_month:
                    by_number[int(month)] = int(amount)
                else:
                    sums[key] = (int(amount), int(count))
    else:
        grouped = (
            picked.values_list("head", "month")
            .annotate(amount=Sum("amount"), count=Count("pk"))
            .order_by()
        )
        for key, month, amount, count in grouped:
            before = sums.get(key, (0, 0))
            sums[key] = (before[0] + int(amount), before[1] + int(count))
            by_number[int(month)] = by_number.get(int(month), 0) + int(amount)
    months = {
        datetime.date(month // 12, month % 12 + 1, 1): amount for month, amount in by_number.items()
    }
    return sums, months


# --- campaigns -----------------------------------------------------------------------------


def _check_runs_campaigns(by: ActingUser, unit: Unit) -> None:
    """Campaigns are run by the people who run programs at a union (welfare/programs)."""
    authorize_write(by, Capability.OPEN_CASES, unit)


def _check(
    *,
    unit: Unit,
    fund: Fund,
    target: int | None,
    starts_on: datetime.date,
    ends_on: datetime.date,
    units: list[Unit],
) -> None:
    errors: dict[str, str] = {}
    try:
        check_fund_usable(fund, unit)
    except ValidationError:
        errors["fund"] = _("Choose a fund of the campaign's union or of a union above it.")
    if target is None or target <= 0:
        errors["target"] = _("The target must be positive.")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The period cannot end before it starts.")
    if any(not u.path.startswith(unit.path) for u in units):
        errors["units"] = _("Choose units under the campaign's union.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_campaign(
    *,
    unit: Unit,
    name: str,
    fund: Fund,
    target: int,
    starts_on: datetime.date,
    ends_on: datetime.date,
    by: ActingUser,
    purpose: str = "",
    units: Iterable[Unit] = (),
) -> Campaign:
    """A campaign of ``unit`` raising money into ``fund``; ``units`` collect for it (the whole
    subtree of ``unit`` when none is given)."""
    _check_runs_campaigns(by, unit)
    units = list(units)
    _check(unit=unit, fund=fund, target=target, starts_on=starts_on, ends_on=ends_on, units=units)
    campaign = Campaign.objects.create(
        unit=unit,
        name=name,
        purpose=purpose,
        fund=fund,
        target=target,
        starts_on=starts_on,
        ends_on=ends_on,
        has_units=bool(units),
        created_by=require_actor(by),
    )
    campaign.units.set(units)
    return campaign


@transaction.atomic
def update_campaign(
    *,
    campaign: Campaign,
    name: str,
    target: int,
    starts_on: datetime.date,
    ends_on: datetime.date,
    by: ActingUser,
    purpose: str = "",
    units: Iterable[Unit] = (),
) -> Campaign:
    """Change a campaign's name, purpose, target, period and units. Its union and fund stay:
    its contributions are in that fund's ledger. A period no longer holds a contribution
    already recorded outside it, nor may a unit stop collecting once it has collected."""
    # Not the union it reads: a union locked FOR UPDATE blocks every insert referring to it.
    campaign = (
        Campaign.objects.select_for_update(of=("self",)).select_related("unit").get(pk=campaign.pk)
    )
    _check_runs_campaigns(by, campaign.unit)
    units = list(units)
    _check(
        unit=campaign.unit,
        fund=campaign.fund,
        target=target,
        starts_on=starts_on,
        ends_on=ends_on,
        units=units,
    )
    recorded = Contribution.objects.filter(campaign=campaign)
    outside = recorded.filter(Q(received_on__lt=starts_on) | Q(received_on__gt=ends_on))
    if outside.exists():
        raise ValidationError(
            {"starts_on": _("Contributions were already recorded outside this period.")}
        )
    if units:
        probe = Campaign(pk=campaign.pk, unit=campaign.unit)
        collectors = Unit.objects.filter(pk__in=recorded.values("collected_by_id").distinct())
        if any(not in_scope(probe, unit, units) for unit in collectors):
            raise ValidationError(
                {"units": _("A unit that has already collected must stay among the units.")}
            )
    campaign.name, campaign.purpose, campaign.target = name, purpose, target
    campaign.starts_on, campaign.ends_on, campaign.has_units = starts_on, ends_on, bool(units)
    campaign.save()
    campaign.units.set(units)
    return campaign


# --- contributions -------------------------------------------------------------------------


def may_record(user: ActingUser, campaign: Campaign) -> bool:
    """Whether ``user`` is a treasurer of the union that owns the campaign's fund."""
    try:
        authorize_treasurer(user, campaign.fund)
    except (PermissionDenied, Http404):
        return False
    return True


def _same(contribution: Contribution, amount: int, donor_name: str) -> bool:
    return contribution.amount == amount and contribution.donor_name == donor_name


@transaction.atomic
def record_campaign_contribution(
    *,
    campaign: Campaign,
    donor_kind: str,
    donor_name: str,
    amount: int,
    received_on: datetime.date,
    receipt_number: str,
    collected_by: Unit,
    by: ActingUser,
    member: Member | None = None,
    donor_unit: Unit | None = None,
    row_key: str = "",
    submission: str = "",
) -> Contribution:
    """Post the contribution to the campaign's fund and keep it with its donor and receipt.

    By a treasurer of the fund's union.  The fund is locked before the receipt number is
    looked up, so two recordings of the same receipt cannot both pass; the same receipt sent
    again with the same donor and amount, or the same form (its ``submission`` token) sent
    twice, records nothing more (``AlreadyRecorded``)."""
    campaign = Campaign.objects.select_related("unit", "fund__unit").get(pk=campaign.pk)
    authorize_treasurer(by, campaign.fund)
    receipt_number = receipt_number.strip()
    donor_name = donor_name.strip()
    if member is not None and not donor_name:
        donor_name = member.full_name
    if donor_unit is not None and not donor_name:
        donor_name = donor_unit.name
    errors: dict[str, str] = {}
    if not receipt_number:
        errors["receipt_number"] = _("Give the receipt number.")
    if not donor_name:
        errors["donor_name"] = _("Give the donor's name.")
    if donor_kind == DonorKind.MEMBER and member is None:
        errors["member"] = _("Choose the member who gave.")
    if donor_kind != DonorKind.MEMBER and member is not None:
        errors["member"] = _("A member is named only for a member's contribution.")
    if donor_kind == DonorKind.UNIT and donor_unit is None:
        errors["donor_unit"] = _("Choose the union or unit that gave.")
    if donor_kind != DonorKind.UNIT and donor_unit is not None:
        errors["donor_unit"] = _("A union is named only for a union's contribution.")
    if amount is None or amount <= 0:
        errors["amount"] = _("A contribution must be a positive amount.")
    if received_on and not campaign.starts_on <= received_on <= campaign.ends_on:
        errors["received_on"] = _("The date must be within the campaign, %(start)s to %(end)s.") % {
            "start": campaign.starts_on.strftime("%d/%m/%Y"),
            "end": campaign.ends_on.strftime("%d/%m/%Y"),
        }
    if not in_scope(campaign, collected_by):
        errors["collected_by"] = _("Choose a unit that collects for this campaign.")
    if errors:
        raise ValidationError(errors)
    lock_fund(campaign.fund)
    existing = Contribution.objects.filter(campaign=campaign, receipt_number=receipt_number).first()
    if existing is not None:
        if _same(existing, amount, donor_name):
            raise AlreadyRecorded
        raise ValidationError(
            {
                "receipt_number": _(
                    "Receipt %(number)s is already recorded in this campaign for %(donor)s."
                )
                % {"number": receipt_number, "donor": existing.donor_name}
            }
        )
    entry = record_contribution(
        fund=campaign.fund,
        amount=amount,
        occurred_on=received_on,
        source=donor_name[:255],
        description=(
            _("%(campaign)s, receipt %(number)s")
            % {"campaign": campaign.name, "number": receipt_number}
        )[:255],
        by=require_actor(by),
        submission=submission,
        campaign_id=campaign.pk,
    )
    return Contribution.objects.create(
        campaign=campaign,
        donor_kind=donor_kind,
        donor_name=donor_name,
        member=member,
        donor_unit=donor_unit,
        amount=amount,
        received_on=received_on,
        receipt_number=receipt_number,
        collected_by=collected_by,
        entry=entry,
        row_key=row_key,
        recorded_by=require_actor(by),
    )
