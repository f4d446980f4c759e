"""The figures of the annual social-security report, from GROUP BY queries only.

One module that the dashboard, the Celery task, the spreadsheet and the command all call.
A year's report covers the grassroots records of the units that stood in the union's subtree
at the end of that year (or today's subtree for a union set up later), broken down by the
union's child units as they stood then, and only what the requester may see.  Support counts
in the year it was paid.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, SupportsInt, cast

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import Case as DjangoCase
from django.db.models.functions import Cast, Coalesce, ExtractMonth

from members.models import (
    ENDED_STATUSES,
    Member,
    MemberKind,
    Membership,
    MembershipYear,
    MembershipYearCounted,
)
from unions.models import PATH_SEPARATOR, Placement, Unit, UnitKind
from unions.scope import visible_unit_ids

from ..loans.portfolio import YearFigures, tallied_year_figures
from ..models import (
    Case,
    CaseStatus,
    Category,
    EntryKind,
    Fund,
    LedgerEntry,
    RaisedYear,
    SupportType,
)
from ..shelters.models import Shelter, ShelterContributor, Work
from .models import Breakdown, SupportTally, TallyRecount
from .tallies import year_end

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
    # Distinct children named on the records (savings books, scholarships); 0 elsewhere.
    children: int = 0

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
    # Of ``people``, those with no membership of the units covered on any day of the year
    # (support to someone the organisation section does not count); 0 in a summary.
    people_without_membership: int = 0


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
    organisation: Organisation | None  # None when not asked for
    totals: Totals
    prev_totals: Totals
    by_type: list[Row]
    by_category: list[Row]
    by_fund: list[Row]
    by_child: list[Row]
    by_month: list[int]
    prev_by_month: list[int]
    highlighted: list[Row]
    # The support paid under programs (already counted in the totals above), by program.
    programs: list[Row] = field(default_factory=list)
    # Lending from the funds covered, in the year and the year before, and by child unit.
    loans: Loans | None = None
    # Contributions recorded in the ledgers of the funds covered, by fund: ``cases`` counts
    # the entries (less those reversed), ``amount`` their sum net of reversals.
    contributions: list[Row] = field(default_factory=list)
    # The same money raised by campaign (those of it recorded for a campaign), counted alike.
    campaigns: list[Row] = field(default_factory=list)
    # The shelter records among the support paid (welfare/shelters/); None in a summary.
    shelters: Shelters | None = None
    # The support given to organisations and groups (already in the amounts and turns above,
    # never in the people): ``cases`` the records, ``people`` the distinct organisations.
    organisations: Row | None = None


@dataclass
class ShelterYear:
    """The shelters whose support was paid in a year: how many built and repaired, and their
    money (the unions' amounts beside the other contributors')."""

    built: int = 0
    repaired: int = 0
    cost: int = 0
    union: int = 0
    others: int = 0

    @property
    def count(self) -> int:
        return self.built + self.repaired


@dataclass
class Shelters:
    now: ShelterYear
    before: ShelterYear


@dataclass
class LoanRow:
    key: int
    label: str
    now: YearFigures
    before: YearFigures


@dataclass
class Loans:
    now: YearFigures
    before: YearFigures
    by_child: list[LoanRow]

    @property
    def any(self) -> bool:
        return self.now.any or self.before.any


@dataclass
class Basis:
    """Which units a report covers and which child unit each of them rolls up to."""

    as_of: datetime.date
    tree_of_the_year: bool
    units: QuerySet  # of unit ids, used as a subquery
    child_of: dict[int, int]  # every unit covered (and visible) -> the child unit it rolls up to
    children: dict[int, str]
    union_id: int = 0
    # The union's whole subtree of the year, all of it visible: what its tallies count.
    whole: bool = False


def basis(union: Unit, year: int, user=None) -> Basis:
    as_of = year_end(year)
    # Whether a reorganisation's recount of the year is still to be done, in the same query:
    # until it is, the year's tallies are not read (``TallyRecount``).
    recounting = Exists(TallyRecount.objects.covering(year))
    own = Placement.objects.on(as_of).filter(unit=union).annotate(recounting=recounting).first()
    if own is not None:
        placements: QuerySet = Placement.objects.on(as_of).filter(path__startswith=own.path)
        field, prefix = "unit_id", own.path
        units = Unit.objects.filter(pk__in=placements.values("unit_id"))
    else:
        placements = units = Unit.objects.in_subtree_of(union)
        field, prefix = "pk", union.path
    # Each unit with whether the user sees it, in the one query: a subtree the user sees
    # whole is what the union's tallies count.
    visible: Any = Value(True)
    if user is not None:
        units = units.filter(pk__in=visible_unit_ids(user))
        visible = ExpressionWrapper(
            Q(**{f"{field}__in": visible_unit_ids(user)}), output_field=BooleanField()
        )
    pairs = placements.annotate(visible=visible).values_list(field, "path", "visible")
    child_of = {}
    whole = own is not None and not cast(Any, own).recounting
    for unit_id, path, seen in pairs:
        if not seen:
            whole = False
            continue
        rest = path[len(prefix) :].split(PATH_SEPARATOR)
        child_of[unit_id] = int(rest[0]) if rest[0] else union.pk
    # The child units' names: the union's children in that tree (a subquery, not their ids).
    below = (
        Placement.objects.on(as_of).filter(parent=union).values("unit_id")
        if own is not None
        else Unit.objects.filter(parent=union).values("pk")
    )
    rolled_up_to = set(child_of.values())
    children = {
        pk: name
        for pk, name in Unit.objects.filter(Q(pk=union.pk) | Q(pk__in=below)).values_list(
            "pk", "name"
        )
        if pk in rolled_up_to
    }
    return Basis(as_of, own is not None, units.values("pk"), child_of, children, union.pk, whole)


# --------------------------------------------------------------------------------------------
# The support paid in a year, by every breakdown
# --------------------------------------------------------------------------------------------

# The breakdowns of one year's support, each keyed by a column of the paid cases.
BREAKDOWNS = ("support_type", "category", "fund_id", "month")
# Those the dashboard shows (a city's province has thousands of funds).
SUMMARY_BREAKDOWNS = ("support_type", "month")


@dataclass
class Tally:
    cases: int = 0
    people: int = 0  # distinct members: never added up across rows
    amount: int = 0
    children: int = 0  # distinct dependants named on the records, like people


@dataclass
class YearTally:
    """One year's paid support over the counted units, and over the child units' own units."""

    total: Tally
    by: dict[str, dict[object, Tally]]  # breakdown -> key -> tally, over the counted units
    by_child: dict[int, Tally]  # child unit -> tally, over the units of ``child_of``


def year_tally(
    year: int,
    counted: Basis,
    children: Basis,
    people_by_breakdown: bool = True,
    breakdowns: Collection[str] = BREAKDOWNS,
) -> YearTally:
    """The support paid in ``year`` in the units of ``counted``, broken down by type, category,
    fund and month, and by child unit over the units of ``children`` (the report's own year,
    which for the year before may differ from ``counted``).  Distinct people are counted in
    the total, and in every breakdown only if ``people_by_breakdown`` (0 otherwise).

    When ``counted`` is a union's whole subtree of the year, from the tallies kept by the
    services that pay (``tallies.py``): a few dozen rows, and the own rows of the child
    units' units.  Otherwise (a subtree cut by the requester's scope, a union that did not
    exist that year) from the records: on PostgreSQL one pass over the year's paid cases
    (``GROUPING SETS``); elsewhere one ``GROUP BY`` query per breakdown.  People are counted
    exactly, never added up.  ``breakdowns`` may leave some out where they cost (the tallies
    read only those)."""
    if counted.whole:
        return _tally_from_tallies(year, counted, children, people_by_breakdown, breakdowns)
    if connection.vendor == "postgresql":
        return _tally_grouping_sets(year, counted.child_of, children.child_of, people_by_breakdown)
    return _tally_by_queries(year, counted, children, people_by_breakdown)


# The breakdowns of ``YearTally.by`` and the tally rows they read, with each key's type.
TALLIED = {
    "support_type": (Breakdown.TYPE, str),
    "category": (Breakdown.CATEGORY, str),
    "fund_id": (Breakdown.FUND, int),
    "month": (Breakdown.MONTH, int),
}


def _tally_from_tallies(
    year: int,
    counted: Basis,
    children: Basis,
    people_by_breakdown: bool,
    breakdowns: Collection[str] = BREAKDOWNS,
) -> YearTally:
    """``year_tally`` for a union's whole subtree of the year, read from ``SupportTally`` in
    one query: the union's rows, and the rows of its child-unit column.

    That column reads the child units' whole-subtree rows when ``children`` puts every unit
    of ``counted`` under the same child unit (this year's own column, or the year before in
    an unchanged tree; units added since then, outside that year's tree, by their own rows).
    Otherwise it adds up the own rows of the units of ``children`` by child unit: cases and
    money only, as people are never added up (the year before's column does not show them)."""
    union_id = counted.union_id
    mapped = children.child_of
    same_tree = children is counted or all(
        mapped.get(unit_id) == child for unit_id, child in counted.child_of.items()
    )
    fields = ("unit_id", "breakdown", "key", "cases", "people", "children", "amount")
    tallies = SupportTally.objects.filter(year=year, cases__gt=0)
    # Index scans joined by UNION ALL: an OR of them would read the whole year.
    left_out = [TALLIED[name][0] for name in set(BREAKDOWNS) - set(breakdowns)]
    parts = [tallies.filter(unit_id=union_id).exclude(breakdown__in=left_out)]
    if same_tree:
        # The union's children in the year's tree (a subquery, not their ids); a unit put
        # under the union since then counts by the own rows of its units.
        below = Placement.objects.on(counted.as_of).filter(parent_id=union_id)
        parts.append(tallies.filter(unit_id__in=below.values("unit_id"), breakdown=Breakdown.TOTAL))
        added = set(mapped) - set(counted.child_of)
        if added:
            parts.append(tallies.filter(unit_id__in=added, breakdown=Breakdown.OWN))
    else:
        assert not people_by_breakdown
        parts.append(
            tallies.filter(breakdown=Breakdown.OWN, unit_id__in=children.units).exclude(
                unit_id=union_id
            )
        )
    first, *others = (part.values_list(*fields) for part in parts)
    named = {breakdown: (name, kind) for name, (breakdown, kind) in TALLIED.items()}
    total = Tally()
    by: dict[str, dict[object, Tally]] = {key: {} for key in BREAKDOWNS}
    by_child: dict[int, Tally] = {}
    for unit_id, breakdown, key, cases, people, dependants, amount in first.union(
        *others, all=True
    ):
        own = breakdown == Breakdown.OWN
        if people_by_breakdown:
            tally = Tally(cases=cases, people=people, amount=amount, children=dependants)
        else:
            tally = Tally(cases=cases, amount=amount)
        if unit_id == union_id and not own:
            if breakdown == Breakdown.TOTAL:
                total = Tally(cases=cases, people=people, amount=amount, children=tally.children)
            else:
                name, kind = named[breakdown]
                by[name][kind(key) if key else None] = tally
        else:
            # A child unit's subtree, or the own records of a unit: the union, a unit added
            # since, every unit when the tree changed.  Rows only add up to one child unit
            # where people are not shown.
            child = unit_id if breakdown == Breakdown.TOTAL else mapped.get(unit_id)
            if child is not None:
                rolled = by_child.setdefault(child, Tally())
                rolled.cases += tally.cases
                rolled.people += tally.people
                rolled.amount += tally.amount
                rolled.children += tally.children
    return YearTally(total=total, by=by, by_child=by_child)


def _paid(year: int, units) -> QuerySet:
    return Case.objects.filter(
        status=CaseStatus.PAID,
        paid_on__gte=datetime.date(year, 1, 1),
        paid_on__lt=datetime.date(year + 1, 1, 1),
        unit_id__in=units,
    )


def _tally(row: dict) -> Tally:
    return Tally(
        cases=row["cases"],
        people=row.get("people", 0),
        amount=int(row["amount"] or 0),
        children=row.get("children", 0),
    )


# A record for an organisation has no member: COUNT(DISTINCT member_id) leaves it out of
# the people, as it leaves a record without a child out of the children.
FIGURES = {
    "cases": Count("pk"),
    "people": Count("member_id", distinct=True),
    "amount": Sum("approved_amount"),
    "children": Count("dependant_id", distinct=True),
}
FIGURES_WITHOUT_PEOPLE = {"cases": FIGURES["cases"], "amount": FIGURES["amount"]}
# The total when the breakdowns leave out the people: its people, not its children.
TOTAL_WITHOUT_CHILDREN = {key: FIGURES[key] for key in ("cases", "people", "amount")}


def _tally_by_queries(
    year: int, counted: Basis, children: Basis, people_by_breakdown: bool
) -> YearTally:
    cases = _paid(year, counted.units).annotate(month=ExtractMonth("paid_on"))
    figures = FIGURES if people_by_breakdown else FIGURES_WITHOUT_PEOPLE
    by = {
        key: {
            row[key]: _tally(row)
            for row in cases.values(key).annotate(**figures).order_by().values(key, *figures)
        }
        for key in BREAKDOWNS
    }
    child_units: dict[int, list[int]] = {}
    for unit_id, child in children.child_of.items():
        child_units.setdefault(child, []).append(unit_id)
    by_child = {}
    if child_units:
        child_case = DjangoCase(
            *(When(unit_id__in=units, then=Value(pk)) for pk, units in child_units.items()),
            output_field=IntegerField(),
        )
        by_child = {
            row["child"]: _tally(row)
            for row in _paid(year, children.units)
            .annotate(child=child_case)
            .values("child")
            .annotate(**figures)
            .order_by()
            .values("child", *figures)
        }
    total = cases.aggregate(**(FIGURES if people_by_breakdown else TOTAL_WITHOUT_CHILDREN))
    return YearTally(total=_tally(total), by=by, by_child=by_child)


# Work memory for the sorts and hashes of one pass: a province's year fits, no spill to disk.
PASS_WORK_MEM = "64MB"

# Each paid case of the year in the units covered, with the child unit it rolls up to and
# whether it is counted in the breakdowns (the map of units comes as three arrays).
PAID_SQL = """
    SELECT c.support_type COLLATE "C" AS support_type, c.category COLLATE "C" AS category,
           c.fund_id, c.member_id, c.dependant_id, c.approved_amount,
           EXTRACT(MONTH FROM c.paid_on)::integer AS month, m.child_id, m.counted
    FROM {case} c
    JOIN unnest(%s::bigint[], %s::bigint[], %s::boolean[]) AS m (unit_id, child_id, counted)
        ON m.unit_id = c.unit_id
    WHERE c.status = %s AND c.paid_on >= %s AND c.paid_on < %s
"""

KEYS = "counted, support_type, category, fund_id, month, child_id"
GROUPED_OUT = ", ".join(f"GROUPING({key})" for key in KEYS.split(", "))

# Distinct people in every group: sorted grouping sets (a DISTINCT aggregate cannot hash).
DISTINCT_PEOPLE_SQL = f"""
SELECT {GROUPED_OUT}, {KEYS}, COUNT(*), COUNT(DISTINCT member_id), SUM(approved_amount),
       COUNT(DISTINCT dependant_id)
FROM ({PAID_SQL}) AS paid
GROUP BY GROUPING SETS (
    (counted, support_type), (counted, category), (counted, fund_id), (counted, month),
    (counted), (child_id)
)
"""

# Distinct people in the total only, all hashed: the total's grouping set also groups by
# member, and the outer query counts its members (one row per person; the row of the
# organisations' records, whose member is NULL, is not a person).  The other groups count 0.
TOTAL_PEOPLE_SQL = f"""
SELECT {", ".join(f"g{n}" for n in range(6))}, {KEYS}, SUM(n), COUNT(member_id), SUM(amount), 0
FROM (
    SELECT {", ".join(f"GROUPING({key}) AS g{n}" for n, key in enumerate(KEYS.split(", ")))},
           {KEYS}, member_id, COUNT(*) AS n, SUM(approved_amount) AS amount
    FROM ({PAID_SQL}) AS paid
    GROUP BY GROUPING SETS (
        (counted, support_type), (counted, category), (counted, fund_id), (counted, month),
        (counted, member_id), (child_id)
    )
) AS per
GROUP BY {", ".join(f"g{n}" for n in range(6))}, {KEYS}
"""


def _tally_grouping_sets(
    year: int, counted: dict[int, int], child_of: dict[int, int], people_by_breakdown: bool
) -> YearTally:
    """Every breakdown in one scan of the year: each paid case joins the map of the units
    covered (the child it rolls up to, whether it is counted) and feeds every grouping set."""
    units = sorted(set(counted) | set(child_of))
    params: list[Any] = [
        units,
        [child_of.get(unit_id) for unit_id in units],
        [unit_id in counted for unit_id in units],
        CaseStatus.PAID,
        datetime.date(year, 1, 1),
        datetime.date(year + 1, 1, 1),
    ]
    sql = DISTINCT_PEOPLE_SQL if people_by_breakdown else TOTAL_PEOPLE_SQL
    sql = sql.format(case=connection.ops.quote_name(Case._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total = Tally()
    by: dict[str, dict[object, Tally]] = {key: {} for key in BREAKDOWNS}
    by_child: dict[int, Tally] = {}
    for row in rows:
        grouped_out, values = row[:6], row[6:12]
        tally = Tally(
            cases=int(row[12]),
            people=int(row[13]),
            amount=int(row[14] or 0),
            children=int(row[15]),
        )
        if not grouped_out[5]:  # by child unit
            if values[5] is not None:
                by_child[values[5]] = tally if people_by_breakdown else _no_people(tally)
        elif values[0]:  # the counted units
            for key, out, value in zip(BREAKDOWNS, grouped_out[1:5], values[1:5], strict=True):
                if not out:
                    by[key][value] = tally if people_by_breakdown else _no_people(tally)
                    break
            else:
                total = tally
    return YearTally(total=total, by=by, by_child=by_child)


@contextmanager
def _pass_memory():
    """On PostgreSQL, a transaction whose sorts and hashes get ``PASS_WORK_MEM``; inside an
    outer transaction the setting is put back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        nested = connection.in_atomic_block and len(connection.atomic_blocks) > 1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)",
                [PASS_WORK_MEM],
            )
            before = cursor.fetchone()[0]
        yield
        if nested:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [before])


def _organisations(year: int, base: Basis, previous_base: Basis) -> Row:
    """The support paid to organisations and groups in ``year`` and the year before, in the
    units each year covers: records, distinct organisations and amounts, one grouped query."""

    def period(first: int, units) -> Q:
        return Q(
            paid_on__gte=datetime.date(first, 1, 1),
            paid_on__lt=datetime.date(first + 1, 1, 1),
            unit_id__in=units,
        )

    now, before = period(year, base.units), period(year - 1, previous_base.units)
    row = (
        Case.objects.filter(status=CaseStatus.PAID, organisation__isnull=False)
        .filter(now | before)
        .aggregate(
            cases=Count("pk", filter=now),
            organisations=Count("organisation_id", filter=now, distinct=True),
            amount=Sum("approved_amount", filter=now),
            prev_cases=Count("pk", filter=before),
            prev_amount=Sum("approved_amount", filter=before),
        )
    )
    return Row(
        key="organisations",
        label="",
        cases=row["cases"],
        people=row["organisations"],
        amount=int(row["amount"] or 0),
        prev_cases=row["prev_cases"],
        prev_amount=int(row["prev_amount"] or 0),
    )


def _no_people(tally: Tally) -> Tally:
    return Tally(cases=tally.cases, amount=tally.amount)


def _rows(current: dict, previous: dict, labels: dict) -> list[Row]:
    rows = []
    for key in sorted(set(current) | set(previous), key=lambda k: str(labels.get(k, k))):
        now, before = current.get(key, Tally()), previous.get(key, Tally())
        rows.append(
            Row(
                key=key,
                label=str(labels.get(key, key)),
                cases=now.cases,
                people=now.people,
                amount=now.amount,
                prev_cases=before.cases,
                prev_amount=before.amount,
                children=now.children,
            )
        )
    return sorted(rows, key=lambda row: (-row.amount, row.label))


def _totals(tally: Tally) -> Totals:
    return Totals(cases=tally.cases, people=tally.people, turns=tally.cases, amount=tally.amount)


def _by_month(tally: YearTally) -> list[int]:
    months = [0] * 12
    for month, figures in tally.by["month"].items():
        # The month's key is the number PostgreSQL's or SQLite's date part gives.
        months[int(cast(SupportsInt, month)) - 1] = figures.amount
    return months


def _by_child(now: YearTally, before: YearTally, base: Basis) -> list[Row]:
    rows = []
    for child in set(now.by_child) | set(before.by_child):
        current, previous = now.by_child.get(child, Tally()), before.by_child.get(child, Tally())
        rows.append(
            Row(
                key=child,
                label=base.children.get(child, ""),
                cases=current.cases,
                people=current.people,
                amount=current.amount,
                prev_cases=previous.cases,
                prev_amount=previous.amount,
            )
        )
    return sorted(rows, key=lambda row: (-row.amount, row.label))


def _ledger_period(first: int, units) -> Q:
    """The ledger entries of the year ``first`` in the funds of ``units``."""
    return Q(
        occurred_on__gte=datetime.date(first, 1, 1),
        occurred_on__lt=datetime.date(first + 1, 1, 1),
        fund__unit_id__in=units,
    )


def _raised(
    *, given: Q, taken_back: Q, now: Q, before: Q, key: str, label: str, **keys: Any
) -> list[Row]:
    """Money raised in the two years, grouped by ``key`` (named ``label``), in one grouped
    query: the entries that give it, less the corrections that take it back (a reversed
    contribution loses its amount and its count in the year the correction is dated).
    ``keys`` annotates the entries with ``key`` and ``label`` where they are not columns."""
    entries = LedgerEntry.objects.filter(given | taken_back).filter(now | before)
    if keys:
        entries = entries.annotate(**keys)
    rows = (
        entries.values(key, label)
        .annotate(
            given=Count("pk", filter=now & given),
            taken_back=Count("pk", filter=now & taken_back),
            money=Sum("amount", filter=now),
            prev_given=Count("pk", filter=before & given),
            prev_taken_back=Count("pk", filter=before & taken_back),
            prev_money=Sum("amount", filter=before),
        )
        .order_by()
    )
    result = [
        Row(
            key=row[key],
            label=row[label],
            cases=row["given"] - row["taken_back"],
            amount=int(row["money"] or 0),
            prev_cases=row["prev_given"] - row["prev_taken_back"],
            prev_amount=int(row["prev_money"] or 0),
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row.amount, -row.prev_amount, row.label))


def _raised_from_tallies(
    year: int, base: Basis, previous_base: Basis, *, by_campaign: bool
) -> list[Row]:
    """``_raised`` read from ``RaisedYear``: a row per fund and year (or campaign and year) of
    the funds of the units each year covers, in one grouped query."""
    now = Q(year=year, fund__unit_id__in=base.units)
    before = Q(year=year - 1, fund__unit_id__in=previous_base.units)
    rows = RaisedYear.objects.filter(now | before)
    key, label = ("campaign_id", "campaign__name") if by_campaign else ("fund_id", "fund__name")
    if by_campaign:
        rows = rows.filter(campaign__isnull=False)
    # Grouped by year as well, and the years told apart here: the units of each year are then
    # looked up once, by the filter, not again by a FILTER clause per sum.
    grouped = (
        rows.values(key, label, "year")
        .annotate(net_entries=Sum("entries"), money=Sum("amount"))
        .order_by()
    )
    found: dict[Any, Row] = {}
    for row in grouped:
        entry = found.setdefault(row[key], Row(key=row[key], label=row[label]))
        if row["year"] == year:
            entry.cases += int(row["net_entries"] or 0)
            entry.amount += int(row["money"] or 0)
        else:
            entry.prev_cases += int(row["net_entries"] or 0)
            entry.prev_amount += int(row["money"] or 0)
    result = list(found.values())
    return sorted(result, key=lambda row: (-row.amount, -row.prev_amount, row.label))


def _contributions(year: int, base: Basis, previous_base: Basis) -> list[Row]:
    """Money contributed in ``year`` and the year before to the funds of the units each year
    covers, by fund, from the yearly tallies the ledger keeps (``_contributions_in_ledger``
    counts the same from the entries)."""
    return _raised_from_tallies(year, base, previous_base, by_campaign=False)


def _campaigns(year: int, base: Basis, previous_base: Basis) -> list[Row]:
    """The money of ``_contributions`` that was raised for a campaign, by campaign, from the
    yearly tallies (``_campaigns_in_ledger`` counts the same from the entries)."""
    return _raised_from_tallies(year, base, previous_base, by_campaign=True)


def _contributions_in_ledger(year: int, base: Basis, previous_base: Basis) -> list[Row]:
    """Money contributed in ``year`` and the year before to the funds of the units each year
    covers, by fund.  Allocations are left out: they move money between funds, they do not
    raise it."""
    return _raised(
        given=Q(kind=EntryKind.CONTRIBUTION),
        taken_back=Q(kind=EntryKind.CORRECTION, reverses__kind=EntryKind.CONTRIBUTION),
        now=_ledger_period(year, base.units),
        before=_ledger_period(year - 1, previous_base.units),
        key="fund_id",
        label="fund__name",
    )


def _campaigns_in_ledger(year: int, base: Basis, previous_base: Basis) -> list[Row]:
    """The money of ``_contributions`` that was raised for a campaign, by campaign."""
    return _raised(
        given=Q(kind=EntryKind.CONTRIBUTION, contribution__isnull=False),
        taken_back=Q(kind=EntryKind.CORRECTION, reverses__contribution__isnull=False),
        now=_ledger_period(year, base.units),
        before=_ledger_period(year - 1, previous_base.units),
        key="campaign",
        label="campaign_name",
        campaign=Coalesce("contribution__campaign_id", "reverses__contribution__campaign_id"),
        campaign_name=Coalesce(
            "contribution__campaign__name", "reverses__contribution__campaign__name"
        ),
    )


def _programs(year: int, base: Basis, previous_base: Basis) -> list[Row]:
    """The support paid under each program in ``year`` and the year before, in the units each
    year covers: one grouped query."""

    def period(first: int, units) -> Q:
        return Q(
            paid_on__gte=datetime.date(first, 1, 1),
            paid_on__lt=datetime.date(first + 1, 1, 1),
            unit_id__in=units,
        )

    now, before = period(year, base.units), period(year - 1, previous_base.units)
    rows = (
        Case.objects.filter(status=CaseStatus.PAID, program__isnull=False)
        .filter(now | before)
        .values("program_id", "program__name")
        .annotate(
            cases=Count("pk", filter=now),
            people=Count("member_id", filter=now, distinct=True),
            amount=Sum("approved_amount", filter=now),
            prev_cases=Count("pk", filter=before),
            prev_amount=Sum("approved_amount", filter=before),
        )
        .order_by()
    )
    result = [
        Row(
            key=row["program_id"],
            label=row["program__name"],
            cases=row["cases"],
            people=row["people"],
            amount=int(row["amount"] or 0),
            prev_cases=row["prev_cases"],
            prev_amount=int(row["prev_amount"] or 0),
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row.amount, -row.prev_amount, row.label))


def _shelters(year: int, base: Basis, previous_base: Basis) -> Shelters:
    """The shelters of the shelter records paid in ``year`` and the year before, in the units
    each year covers: one aggregate query, the other contributors summed per shelter."""

    def period(first: int, units) -> Q:
        return Q(
            case__paid_on__gte=datetime.date(first, 1, 1),
            case__paid_on__lt=datetime.date(first + 1, 1, 1),
            case__unit_id__in=units,
        )

    others = (
        ShelterContributor.objects.filter(shelter=OuterRef("pk"))
        .values("shelter")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    now, before = period(year, base.units), period(year - 1, previous_base.units)
    measures: dict[str, Any] = {}
    for prefix, when in (("now", now), ("before", before)):
        measures |= {
            f"{prefix}_built": Count("pk", filter=when & Q(work=Work.BUILD)),
            f"{prefix}_repaired": Count("pk", filter=when & Q(work=Work.REPAIR)),
            f"{prefix}_cost": Sum("estimated_cost", filter=when),
            f"{prefix}_union": Sum("case__approved_amount", filter=when),
            f"{prefix}_others": Sum("others", filter=when),
        }
    found = (
        Shelter.objects.filter(case__status=CaseStatus.PAID)
        .filter(now | before)
        .annotate(others=Coalesce(Subquery(others), 0))
        .aggregate(**measures)
    )

    def year_of(prefix: str) -> ShelterYear:
        return ShelterYear(
            **{name: int(found[f"{prefix}_{name}"] or 0) for name in ShelterYear.__annotations__}
        )

    return Shelters(now=year_of("now"), before=year_of("before"))


def _loans(year: int, base: Basis, previous_base: Basis) -> Loans:
    """Lending in the year and the year before from the loans applied at the units each year
    covers, with this year's child units as the rows: read from the yearly tallies by child
    unit (the year before's units outside this year's tree count in its total only)."""
    now = tallied_year_figures(base.child_of, year, base.as_of)
    outside = 0  # no unit has this id: the year before's units without a child row
    before = tallied_year_figures(
        {unit: base.child_of.get(unit, outside) for unit in previous_base.child_of},
        year - 1,
        previous_base.as_of,
    )
    nothing = YearFigures()
    children: dict[int, LoanRow] = {}
    for child, figures in now.items():
        children[child] = LoanRow(child, base.children.get(child, ""), figures, YearFigures())
    for child, figures in before.items():
        if child != outside:
            row = children.setdefault(
                child, LoanRow(child, base.children.get(child, ""), YearFigures(), YearFigures())
            )
            row.before = figures
    return Loans(
        now=sum(now.values(), nothing),
        before=sum(before.values(), nothing),
        by_child=sorted(
            children.values(), key=lambda row: (-row.now.outstanding, -row.now.disbursed, row.label)
        ),
    )


def _organisation(base: Basis, year: int) -> Organisation:
    """The membership of the units covered in ``year``: from the per-unit counts by year
    (``MembershipYear``, kept by the members services) once the year is counted for every
    unit, from the memberships otherwise."""
    if MembershipYearCounted.objects.filter(year=year).exists():
        kept = MembershipYear.objects.filter(year=year, unit_id__in=base.units).aggregate(
            members=Sum("members"), workers=Sum("workers"), joined=Sum("joined"), left=Sum("left")
        )
        counts = {name: int(value or 0) for name, value in kept.items()}
        return Organisation(
            members=counts["members"],
            workers=counts["workers"],
            grassroots_units=_grassroots(base),
            joined=counts["joined"],
            left=counts["left"],
        )
    return _organisation_from_records(base, year)


def _grassroots(base: Basis) -> int:
    as_of = base.as_of
    return (
        Unit.objects.filter(pk__in=base.units, kind=UnitKind.GRASSROOTS, founded_on__lte=as_of)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
        .count()
    )


def _organisation_from_records(base: Basis, year: int) -> Organisation:
    as_of = base.as_of
    start = datetime.date(year, 1, 1)
    at_year_end = Q(valid_from__lte=as_of) & (Q(valid_to__isnull=True) | Q(valid_to__gt=as_of))
    joined = Q(reason=Membership.Reason.JOINED, valid_from__gte=start, valid_from__lte=as_of)
    # A member holds one membership on any date (members.services closes the open one on the
    # day it opens the next, and a member has at most one open) and one "joined" membership
    # in all, so memberships are counted, not distinct members.  Workers are looked up by a
    # subquery rather than joining every member for their kind; the others are members
    # (MemberKind has these two values).
    workers = Member.objects.filter(kind=MemberKind.WORKER).values("pk")
    counts = Membership.objects.filter(at_year_end | joined, unit_id__in=base.units).aggregate(
        at_year_end=Count("pk", filter=at_year_end),
        workers=Count("pk", filter=at_year_end & Q(member_id__in=workers)),
        joined=Count("pk", filter=joined),
    )
    # Left in the year: the people whose membership ended then (left, transferred out of the
    # portal's unions, died) and who have not come back.
    left = Member.objects.filter(
        status__in=ENDED_STATUSES,
        left_on__gte=start,
        left_on__lte=as_of,
        unit_id__in=base.units,
    ).count()
    return Organisation(
        members=counts["at_year_end"] - counts["workers"],
        workers=counts["workers"],
        grassroots_units=_grassroots(base),
        joined=counts["joined"],
        left=left,
    )


# Of the people given, those with a membership at the units covered in the year: looked up by
# person (their index), where a join would read every membership of the units.
LISTED_PEOPLE_SQL = """
SELECT COUNT(DISTINCT m.member_id) FROM {membership} m
WHERE m.member_id = ANY(%s) AND m.valid_from <= %s
  AND (m.valid_to IS NULL OR m.valid_to > %s) AND m.unit_id IN ({units})
"""


def _people_without_membership(base: Basis, year: int) -> int:
    """The people paid support in ``year`` in the units covered who were on no member list of
    those units that year: no membership there overlapping 1 January to ``as_of`` (a
    membership ends the day its ``valid_to`` says).  Only the people of records flagged
    ``unlisted`` (no membership at the record's own unit that year, ``reports/unlisted.py``)
    can be such: their people first (a few hundred in a city's year), then their
    memberships."""
    people = list(
        _paid(year, base.units)
        .filter(unlisted=True, member__isnull=False)
        .order_by()
        .values_list("member_id", flat=True)
        .distinct()
    )
    if not people:
        return 0
    units, unit_params = base.units.order_by().query.sql_with_params()
    sql = LISTED_PEOPLE_SQL.format(
        membership=connection.ops.quote_name(Membership._meta.db_table), units=units
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [people, base.as_of, datetime.date(year, 1, 1), *unit_params])
        listed = int(cursor.fetchone()[0])
    return len(people) - listed


def _fund_labels(union: Unit, *years: tuple[int, Basis], now: YearTally, before: YearTally):
    """The names of the funds the breakdown by fund names: looked up by a subquery of the
    tallies' fund rows when both years were read from them (a city has thousands of funds)."""
    ids = (set(now.by["fund_id"]) | set(before.by["fund_id"])) - {None}
    funds = Fund.objects.order_by()
    if all(counted.whole for _year, counted in years):
        tallied = Q()
        for year, _counted in years:
            tallied |= Q(year=year)
        keys = SupportTally.objects.filter(
            tallied, unit=union, breakdown=Breakdown.FUND, cases__gt=0
        ).exclude(key="")
        funds = funds.filter(pk__in=keys.values(as_id=Cast("key", BigIntegerField())))
    else:
        funds = funds.filter(pk__in=ids)
    return {pk: name for pk, name in funds.values_list("pk", "name") if pk in ids}


def annual_figures(union: Unit, year: int, user=None, *, summary: bool = False) -> AnnualFigures:
    """Every figure of the report for ``union`` and ``year``; ``user`` limits it to their scope.
    A ``summary`` (the dashboard's) leaves out what it does not show: the membership counts
    (``organisation`` is None), the breakdowns by category and fund (empty) and the people of
    each breakdown row (0; the totals have them)."""
    base = basis(union, year, user)
    previous_base = basis(union, year - 1, user)
    # The year before is counted in its own tree, but its child-unit column follows this year's.
    # The sorts of a pass over the records need more memory; the tallies need none.
    memory = nullcontext() if base.whole and previous_base.whole else _pass_memory()
    with memory:
        shown = SUMMARY_BREAKDOWNS if summary else BREAKDOWNS
        now = year_tally(year, base, base, people_by_breakdown=not summary, breakdowns=shown)
        before = year_tally(
            year - 1, previous_base, base, people_by_breakdown=False, breakdowns=shown
        )
    type_labels = dict(SupportType.choices)
    fund_labels = (
        {}
        if summary
        else _fund_labels(union, (year, base), (year - 1, previous_base), now=now, before=before)
    )
    by_type = _rows(now.by["support_type"], before.by["support_type"], type_labels)
    highlighted_keys = {row.key: row for row in by_type}
    totals, prev_totals = _totals(now.total), _totals(before.total)
    if not summary:
        totals.people_without_membership = _people_without_membership(base, year)
        prev_totals.people_without_membership = _people_without_membership(previous_base, year - 1)
    return AnnualFigures(
        union=union,
        year=year,
        as_of=base.as_of,
        tree_of_the_year=base.tree_of_the_year,
        organisation=None if summary else _organisation(base, year),
        totals=totals,
        prev_totals=prev_totals,
        by_type=by_type,
        by_category=[]
        if summary
        else _rows(now.by["category"], before.by["category"], dict(Category.choices)),
        by_fund=[] if summary else _rows(now.by["fund_id"], before.by["fund_id"], fund_labels),
        by_child=_by_child(now, before, base),
        by_month=_by_month(now),
        prev_by_month=_by_month(before),
        highlighted=[
            highlighted_keys.get(key) or Row(key=key, label=str(type_labels[key]))
            for key in HIGHLIGHTED
        ],
        programs=[] if summary else _programs(year, base, previous_base),
        loans=None if summary else _loans(year, base, previous_base),
        contributions=[] if summary else _contributions(year, base, previous_base),
        campaigns=[] if summary else _campaigns(year, base, previous_base),
        shelters=None if summary else _shelters(year, base, previous_base),
        organisations=None if summary else _organisations(year, base, previous_base),
    )
