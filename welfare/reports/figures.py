"""The figures of the annual social-security report, from GROUP BY queries only.

One module that the dashboard, the Celery task, the spreadsheet and the command all call.
A year's report covers the grassroots records of the units that stood in the union's subtree
at the end of that year (or today's subtree for a union set up later), broken down by the
union's child units as they stood then, and only what the requester may see.  Support counts
in the year it was paid.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone

from members.models import Member, MemberKind, Membership
from unions.models import PATH_SEPARATOR, Placement, Unit, UnitKind
from unions.scope import visible_unit_ids

from ..models import Case, CaseStatus, Category, Fund, SupportType

# Support types reported on their own lines ("four union houses with 120 million đồng ...").
HIGHLIGHTED = [
    SupportType.SHELTER,
    SupportType.SAVINGS_BOOK,
    SupportType.SCHOLARSHIP,
    SupportType.TET_GIFT,
]


@dataclass
class Row:
    key: object
    label: str
    cases: int = 0
    people: int = 0
    amount: int = 0
    prev_cases: int = 0
    prev_amount: int = 0

    @property
    def change(self) -> int:
        return self.amount - self.prev_amount

    @property
    def change_percent(self) -> float | None:
        if not self.prev_amount:
            return None
        return round(100 * (self.amount - self.prev_amount) / self.prev_amount, 1)


@dataclass
class Totals:
    cases: int = 0
    people: int = 0
    turns: int = 0
    amount: int = 0


@dataclass
class Organisation:
    members: int = 0
    workers: int = 0
    grassroots_units: int = 0
    joined: int = 0
    left: int = 0


@dataclass
class AnnualFigures:
    union: Unit
    year: int
    as_of: datetime.date
    tree_of_the_year: bool  # False when the union did not exist then: today's subtree is used
    organisation: Organisation
    totals: Totals
    prev_totals: Totals
    by_type: list[Row]
    by_category: list[Row]
    by_fund: list[Row]
    by_child: list[Row]
    by_month: list[int]
    prev_by_month: list[int]
    highlighted: list[Row]
    # Sections filled by later features (programs, loans, campaigns): empty means "none".
    programs: list[Row] = field(default_factory=list)
    loans: list[Row] = field(default_factory=list)
    campaigns: list[Row] = field(default_factory=list)


def year_end(year: int) -> datetime.date:
    """The day the year's tree is read on: 31 December, or today for the year in progress."""
    return min(datetime.date(year, 12, 31), timezone.localdate())


@dataclass
class Basis:
    """Which units a report covers and which child unit each of them rolls up to."""

    as_of: datetime.date
    tree_of_the_year: bool
    units: QuerySet  # of unit ids, used as a subquery
    child_of: dict[int, int]
    children: dict[int, str]


def basis(union: Unit, year: int, user=None) -> Basis:
    as_of = year_end(year)
    own = Placement.objects.on(as_of).filter(unit=union).first()
    if own is not None:
        placements = Placement.objects.on(as_of).filter(path__startswith=own.path)
        pairs = list(placements.values_list("unit_id", "path"))
        prefix = own.path
        units = Unit.objects.filter(pk__in=placements.values("unit_id"))
    else:
        units = Unit.objects.in_subtree_of(union)
        pairs = list(units.values_list("pk", "path"))
        prefix = union.path
    if user is not None:
        units = units.filter(pk__in=visible_unit_ids(user))
    child_of = {}
    for unit_id, path in pairs:
        rest = path[len(prefix) :].split(PATH_SEPARATOR)
        child_of[unit_id] = int(rest[0]) if rest[0] else union.pk
    children = dict(Unit.objects.filter(pk__in=set(child_of.values())).values_list("pk", "name"))
    return Basis(as_of, own is not None, units.values("pk"), child_of, children)


def _paid(year: int, units: QuerySet) -> QuerySet:
    return Case.objects.filter(status=CaseStatus.PAID, paid_on__year=year, unit_id__in=units)


def _grouped(cases: QuerySet, key: str) -> dict:
    return {
        row[key]: row
        for row in cases.values(key)
        .annotate(
            cases=Count("pk"),
            people=Count("member_id", distinct=True),
            amount=Sum("approved_amount"),
        )
        .order_by()
    }


def _rows(current: dict, previous: dict, labels: dict) -> list[Row]:
    rows = []
    for key in sorted(set(current) | set(previous), key=lambda k: str(labels.get(k, k))):
        now, before = current.get(key, {}), previous.get(key, {})
        rows.append(
            Row(
                key=key,
                label=str(labels.get(key, key)),
                cases=now.get("cases", 0),
                people=now.get("people", 0),
                amount=now.get("amount") or 0,
                prev_cases=before.get("cases", 0),
                prev_amount=before.get("amount") or 0,
            )
        )
    return sorted(rows, key=lambda row: (-row.amount, row.label))


def _totals(cases: QuerySet) -> Totals:
    figures = cases.aggregate(
        cases=Count("pk"), people=Count("member_id", distinct=True), amount=Sum("approved_amount")
    )
    return Totals(
        cases=figures["cases"],
        people=figures["people"],
        turns=figures["cases"],
        amount=figures["amount"] or 0,
    )


def _by_month(cases: QuerySet) -> list[int]:
    months = [0] * 12
    for month, amount in (
        cases.annotate(month=ExtractMonth("paid_on"))
        .values("month")
        .annotate(amount=Sum("approved_amount"))
        .order_by()
        .values_list("month", "amount")
    ):
        months[month - 1] = amount or 0
    return months


def _by_child(cases: QuerySet, prev: QuerySet, base: Basis) -> list[Row]:
    rolled: dict[int, dict] = {}
    for source, prefix in ((cases, ""), (prev, "prev_")):
        for unit_id, row in _grouped(source, "unit_id").items():
            child = base.child_of.get(unit_id)
            if child is None:
                continue
            target = rolled.setdefault(child, {})
            for name in ("cases", "people", "amount"):
                target[prefix + name] = target.get(prefix + name, 0) + (row[name] or 0)
    rows = [
        Row(
            key=child,
            label=base.children.get(child, ""),
            cases=values.get("cases", 0),
            people=values.get("people", 0),
            amount=values.get("amount", 0),
            prev_cases=values.get("prev_cases", 0),
            prev_amount=values.get("prev_amount", 0),
        )
        for child, values in rolled.items()
    ]
    return sorted(rows, key=lambda row: (-row.amount, row.label))


def _organisation(base: Basis, year: int) -> Organisation:
    as_of = base.as_of
    start = datetime.date(year, 1, 1)
    at_year_end = Membership.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=as_of),
        valid_from__lte=as_of,
        unit_id__in=base.units,
    )
    by_kind = dict(
        at_year_end.values("member__kind")
        .annotate(n=Count("member_id", distinct=True))
        .order_by()
        .values_list("member__kind", "n")
    )
    joined = (
        Membership.objects.filter(
            reason=Membership.Reason.JOINED,
            valid_from__gte=start,
            valid_from__lte=as_of,
            unit_id__in=base.units,
        )
        .values("member_id")
        .distinct()
        .count()
    )
    left = (
        Member.history.filter(
            history_date__date__gte=start,
            history_date__date__lte=as_of,
            status__in=["left", "deceased", "transferred"],
            unit_id__in=base.units,
        )
        .values("id")
        .distinct()
        .count()
    )
    grassroots = (
        Unit.objects.filter(pk__in=base.units, kind=UnitKind.GRASSROOTS, founded_on__lte=as_of)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
        .count()
    )
    return Organisation(
        members=by_kind.get(MemberKind.MEMBER, 0),
        workers=by_kind.get(MemberKind.WORKER, 0),
        grassroots_units=grassroots,
        joined=joined,
        left=left,
    )


def annual_figures(union: Unit, year: int, user=None) -> AnnualFigures:
    """Every figure of the report for ``union`` and ``year``; ``user`` limits it to their scope."""
    base = basis(union, year, user)
    previous_base = basis(union, year - 1, user)
    cases = _paid(year, base.units)
    prev = _paid(year - 1, previous_base.units)
    type_labels = dict(SupportType.choices)
    fund_labels = dict(
        Fund.objects.filter(
            Q(pk__in=cases.values("fund_id")) | Q(pk__in=prev.values("fund_id"))
        ).values_list("pk", "name")
    )
    by_type = _rows(_grouped(cases, "support_type"), _grouped(prev, "support_type"), type_labels)
    highlighted_keys = {row.key: row for row in by_type}
    return AnnualFigures(
        union=union,
        year=year,
        as_of=base.as_of,
        tree_of_the_year=base.tree_of_the_year,
        organisation=_organisation(base, year),
        totals=_totals(cases),
        prev_totals=_totals(prev),
        by_type=by_type,
        by_category=_rows(
            _grouped(cases, "category"), _grouped(prev, "category"), dict(Category.choices)
        ),
        by_fund=_rows(_grouped(cases, "fund_id"), _grouped(prev, "fund_id"), fund_labels),
        by_child=_by_child(cases, _paid(year - 1, base.units), base),
        by_month=_by_month(cases),
        prev_by_month=_by_month(prev),
        highlighted=[
            highlighted_keys.get(key) or Row(key=key, label=str(type_labels[key]))
            for key in HIGHLIGHTED
        ],
    )
