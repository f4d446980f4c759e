"""The yearly tallies of support paid (``SupportTally``): kept by the services that pay,
rebuilt from the records, and checked against them.

Each paid record counts in the year it was paid, at every unit on its unit's path in the tree
as it stood at the end of that year (``figures.year_end``): the whole-subtree rows of the
record's unit and of each unit above it, by total, support type, category, fund and month, and
the record's own unit's ``own`` row.  A report over a union's subtree of that year then reads
a few dozen rows instead of every record of the year.

Distinct people (and children) stay exact without a row per person: when records are paid,
their members' other paid records of the year are read (a member has a handful), and a
person adds one to a row only if none of their other records already counts there.  The
row locks taken by adding the records first make a concurrent payment of the same person
wait, and then see the other's records, so two payments never both count the person.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.utils import timezone

from unions.models import PATH_SEPARATOR, Placement

from ..cases.models import Case, CaseStatus
from .models import Breakdown, SupportTally

# The columns of a paid record the tallies are made of, in this order.
COLUMNS = (
    "pk",
    "unit_id",
    "member_id",
    "dependant_id",
    "support_type",
    "category",
    "fund_id",
    "paid_on",
    "approved_amount",
)

Key = tuple[int, str, str]  # (unit, breakdown, key)
Figures = tuple[int, int, int, int]  # cases, people, children, amount


def year_end(year: int) -> datetime.date:
    """The day the year's tree is read on: 31 December, or today for the year in progress."""
    return min(datetime.date(year, 12, 31), timezone.localdate())


def _year(year: int) -> dict:
    return {"paid_on__gte": datetime.date(year, 1, 1), "paid_on__lt": datetime.date(year + 1, 1, 1)}


def unit_paths(year: int, unit_ids: Iterable[int] | None = None) -> dict[int, tuple[int, ...]]:
    """Each unit's path (the units above it and itself) in the tree at the end of ``year``;
    a unit that did not stand in the tree then has none."""
    placements = Placement.objects.on(year_end(year))
    if unit_ids is not None:
        placements = placements.filter(unit_id__in=set(unit_ids))
    return {
        unit_id: tuple(int(part) for part in path.split(PATH_SEPARATOR) if part)
        for unit_id, path in placements.values_list("unit_id", "path")
    }


def _keys(row: tuple, path: tuple[int, ...]) -> Iterator[Key]:
    """The tally rows one record counts in."""
    _pk, unit_id, _member, _dependant, support_type, category, fund_id, paid_on, _amount = row
    yield (unit_id, Breakdown.OWN, "")
    cuts = (
        (Breakdown.TOTAL, ""),
        (Breakdown.TYPE, support_type or ""),
        (Breakdown.CATEGORY, category or ""),
        (Breakdown.FUND, "" if fund_id is None else str(fund_id)),
        (Breakdown.MONTH, str(paid_on.month)),
    )
    for node in path:
        for breakdown, key in cuts:
            yield (node, breakdown, key)


def _paid_rows(year: int, **filters) -> Iterator[tuple]:
    return (
        Case.objects.filter(status=CaseStatus.PAID, **_year(year), **filters)
        .order_by()
        .values_list(*COLUMNS)
        .iterator(chunk_size=20_000)
    )


# --------------------------------------------------------------------------------------------
# Computed from the records: the rebuild and the check
# --------------------------------------------------------------------------------------------


def compute(year: int) -> dict[Key, Figures]:
    """Every tally row of ``year`` computed from the paid records."""
    paths = unit_paths(year)
    counts: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    people: dict[Key, set[int]] = defaultdict(set)
    children: dict[Key, set[int]] = defaultdict(set)
    for row in _paid_rows(year):
        path = paths.get(row[1], ())
        member_id, dependant_id, amount = row[2], row[3], row[8] or 0
        for key in _keys(row, path):
            figures = counts[key]
            figures[0] += 1
            figures[1] += amount
            if member_id is not None:
                people[key].add(member_id)
            if dependant_id is not None:
                children[key].add(dependant_id)
    return {
        key: (cases, len(people.get(key, ())), len(children.get(key, ())), amount)
        for key, (cases, amount) in counts.items()
    }


def stored(year: int) -> dict[Key, Figures]:
    rows = SupportTally.objects.filter(year=year).values_list(
        "unit_id", "breakdown", "key", "cases", "people", "children", "amount"
    )
    return {
        (unit_id, breakdown, key): (cases, people, children, amount)
        for unit_id, breakdown, key, cases, people, children, amount in rows
        if cases
    }


def years() -> set[int]:
    """The years that have paid records or tallies."""
    paid = Case.objects.filter(status=CaseStatus.PAID).dates("paid_on", "year")
    kept = SupportTally.objects.values_list("year", flat=True).distinct()
    return {day.year for day in paid} | set(kept)


def differences(year: int) -> dict[Key, tuple[Figures | None, Figures | None]]:
    """The rows where the tallies of ``year`` and its records disagree: (kept, computed)."""
    kept, computed = stored(year), compute(year)
    return {
        key: (kept.get(key), computed.get(key))
        for key in set(kept) | set(computed)
        if kept.get(key) != computed.get(key)
    }


@transaction.atomic
def rebuild(only: Iterable[int] | None = None) -> int:
    """Count the years again from their records (all of them, or ``only`` those); returns
    the number of rows written.  Run again, it writes the same rows."""
    written = 0
    for year in sorted(years() if only is None else set(only)):
        SupportTally.objects.filter(year=year).delete()
        rows = [
            SupportTally(
                year=year,
                unit_id=unit_id,
                breakdown=breakdown,
                key=key,
                cases=cases,
                people=people,
                children=children,
                amount=amount,
            )
            for (unit_id, breakdown, key), (cases, people, children, amount) in compute(
                year
            ).items()
        ]
        SupportTally.objects.bulk_create(rows, batch_size=5000)
        written += len(rows)
    return written


def recount_after_reorganisation(sender, *, effective_on: datetime.date, **kwargs) -> None:
    """``unions.signals.tree_changed``: every year whose tree is read on or after
    ``effective_on`` is counted again, in the reorganisation's transaction (a reorganisation
    is rare; the years before it are untouched)."""
    rebuild(range(effective_on.year, timezone.localdate().year + 1))


# --------------------------------------------------------------------------------------------
# Kept by the services that pay
# --------------------------------------------------------------------------------------------


def count_paid(case_ids: Iterable[int]) -> None:
    """Add records just marked paid to the tallies of the year each was paid in.  Called by
    the paying service in its transaction, after the fund's lock."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    by_year: dict[int, list[tuple]] = defaultdict(list)
    for row in Case.objects.filter(pk__in=ids, status=CaseStatus.PAID).values_list(*COLUMNS):
        by_year[row[7].year].append(row)
    for year, rows in sorted(by_year.items()):
        _count_year(year, rows, ids)


def _count_year(year: int, rows: list[tuple], ids: list[int]) -> None:
    paths = unit_paths(year, {row[1] for row in rows})
    counts: Counter[Key] = Counter()
    amounts: Counter[Key] = Counter()
    for row in rows:
        for key in _keys(row, paths.get(row[1], ())):
            counts[key] += 1
            amounts[key] += row[8] or 0
    # Adding the records first locks their rows, so that what follows sees the other
    # payments of the same rows committed.
    _add(year, {key: (counts[key], 0, 0, amounts[key]) for key in counts})
    members = {row[2] for row in rows} - {None}
    earlier: list[tuple] = []
    if members:
        new_ids = set(ids)
        earlier = [row for row in _paid_rows(year, member_id__in=members) if row[0] not in new_ids]
    paths |= unit_paths(year, {row[1] for row in earlier} - set(paths))
    seen_people: set[tuple[Key, int]] = set()
    seen_children: set[tuple[Key, int]] = set()
    people: Counter[Key] = Counter()
    children: Counter[Key] = Counter()
    for is_new, group in ((False, earlier), (True, rows)):
        for row in group:
            member_id, dependant_id = row[2], row[3]
            for key in _keys(row, paths.get(row[1], ())):
                if member_id is not None and (key, member_id) not in seen_people:
                    seen_people.add((key, member_id))
                    people[key] += is_new
                if dependant_id is not None and (key, dependant_id) not in seen_children:
                    seen_children.add((key, dependant_id))
                    children[key] += is_new
    _add(
        year,
        {
            key: (0, people[key], children[key], 0)
            for key in set(people) | set(children)
            if people[key] or children[key]
        },
    )


UPSERT_SQL = """
INSERT INTO {table} (year, unit_id, breakdown, "key", cases, people, children, amount)
VALUES {values}
ON CONFLICT (year, unit_id, breakdown, "key") DO UPDATE SET
    cases = {table}.cases + excluded.cases,
    people = {table}.people + excluded.people,
    children = {table}.children + excluded.children,
    amount = {table}.amount + excluded.amount
"""


def _add(year: int, deltas: dict[Key, Figures]) -> None:
    """Add to the rows of ``year``, creating those that are missing, in the order of their
    keys (so that two payments lock shared rows in the same order)."""
    items = sorted(deltas.items())
    table = connection.ops.quote_name(SupportTally._meta.db_table)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params: list = []
        for (unit_id, breakdown, key), figures in chunk:
            params += [year, unit_id, str(breakdown), key, *figures]
        with connection.cursor() as cursor:
            cursor.execute(UPSERT_SQL.format(table=table, values=values), params)
