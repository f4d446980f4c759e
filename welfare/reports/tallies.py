"""The yearly tallies of support paid (``SupportTally``) and of money raised
(``RaisedYear``): kept by the services that pay and by the ledger, rebuilt from the records,
and checked against them.

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
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from unions.models import PATH_SEPARATOR, Placement

from ..cases.models import Case, CaseStatus
from ..funds.models import EntryKind, LedgerEntry, RaisedYear
from .models import Breakdown, SupportTally, TallyRecount

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
    """Every tally row of ``year`` computed from the paid records: on PostgreSQL by one
    grouped query, elsewhere in Python."""
    if connection.vendor == "postgresql":
        return _compute_in_postgresql(year)
    return _compute_in_python(year)


# Each paid record of the year joined to every unit on its path (the map comes as two
# arrays), grouped by every breakdown at once; the own rows by the record's unit.
COMPUTE_SQL = """
WITH paid AS (
    SELECT unit_id, member_id, dependant_id, support_type, category, fund_id,
           EXTRACT(MONTH FROM paid_on)::integer AS month, COALESCE(approved_amount, 0) AS amount
    FROM {case} WHERE status = %s AND paid_on >= %s AND paid_on < %s
)
SELECT FALSE, node_id, GROUPING(support_type), GROUPING(category), GROUPING(fund_id),
       GROUPING(month), support_type, category, fund_id, month,
       COUNT(*), COUNT(DISTINCT member_id), COUNT(DISTINCT dependant_id), SUM(amount)
FROM paid JOIN unnest(%s::bigint[], %s::bigint[]) AS path (unit_id, node_id) USING (unit_id)
GROUP BY GROUPING SETS (
    (node_id), (node_id, support_type), (node_id, category), (node_id, fund_id),
    (node_id, month)
)
UNION ALL
SELECT TRUE, unit_id, 1, 1, 1, 1, NULL, NULL, NULL, NULL,
       COUNT(*), COUNT(DISTINCT member_id), COUNT(DISTINCT dependant_id), SUM(amount)
FROM paid GROUP BY unit_id
"""


def _compute_in_postgresql(year: int) -> dict[Key, Figures]:
    units: list[int] = []
    nodes: list[int] = []
    for unit_id, path in unit_paths(year).items():
        for node in path:
            units.append(unit_id)
            nodes.append(node)
    sql = COMPUTE_SQL.format(case=connection.ops.quote_name(Case._meta.db_table))
    params: list[Any] = [
        CaseStatus.PAID,
        datetime.date(year, 1, 1),
        datetime.date(year + 1, 1, 1),
        units,
        nodes,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _decoded(cursor.fetchall())


def _decoded(rows: Iterable[tuple]) -> dict[Key, Figures]:
    """The tally rows of a grouped query shaped as ``COMPUTE_SQL``'s."""
    computed: dict[Key, Figures] = {}
    for own, node, *row in rows:
        grouped_out, (support_type, category, fund_id, month) = row[:4], row[4:8]
        cases, people, children, amount = (int(value or 0) for value in row[8:])
        key: tuple[str, str]
        if own:
            key = (Breakdown.OWN, "")
        elif not grouped_out[0]:
            key = (Breakdown.TYPE, support_type or "")
        elif not grouped_out[1]:
            key = (Breakdown.CATEGORY, category or "")
        elif not grouped_out[2]:
            key = (Breakdown.FUND, "" if fund_id is None else str(fund_id))
        elif not grouped_out[3]:
            key = (Breakdown.MONTH, str(month))
        else:
            key = (Breakdown.TOTAL, "")
        computed[(node, *key)] = (cases, people, children, amount)
    return computed


def _compute_in_python(year: int) -> dict[Key, Figures]:
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
    settle_recounts(None if only is None else set(only))
    return written


# --------------------------------------------------------------------------------------------
# Kept by the services that pay
# --------------------------------------------------------------------------------------------


def count_paid(case_ids: Iterable[int]) -> None:
    """Add records just marked paid to the tallies of the year each was paid in.  Called by
    the paying service in its transaction, after the fund's lock."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    from .unlisted import mark_cases

    mark_cases(ids)
    if connection.vendor == "postgresql":
        paid = Case.objects.filter(pk__in=ids, status=CaseStatus.PAID)
        for day in paid.dates("paid_on", "year"):
            _count_year_in_postgresql(day.year, ids)
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


# The figures ``ids`` add to the tallies of a year, shaped as ``COMPUTE_SQL``'s, in one
# grouped query however many they are (a program-wide payment adds thousands at once): their
# records and, with ``{earlier}``, the same people's other records paid that year, each record
# joined to the units on its path.  A person adds one to a row when none of their other
# records counts there: the people of a row are then the distinct people of all the records
# less those of the other records alone.
PAID_SQL = """
WITH new AS (
    SELECT id, unit_id, member_id, dependant_id, support_type, category, fund_id,
           EXTRACT(MONTH FROM paid_on)::integer AS month, COALESCE(approved_amount, 0) AS amount
    FROM {case}
    WHERE id = ANY(%(ids)s) AND status = %(paid)s AND paid_on >= %(start)s AND paid_on < %(end)s
), counted AS (
    SELECT TRUE AS is_new, unit_id, member_id, dependant_id, support_type, category, fund_id,
           month, amount
    FROM new
    {earlier}
), path AS (
    SELECT placement.unit_id, node::bigint AS node_id
    FROM {placement} AS placement,
         unnest(string_to_array(rtrim(placement.path, %(separator)s), %(separator)s)) AS node
    WHERE placement.unit_id IN (SELECT unit_id FROM counted)
      AND placement.valid_from <= %(day)s
      AND (placement.valid_to IS NULL OR placement.valid_to > %(day)s)
)
SELECT FALSE, node_id, GROUPING(support_type), GROUPING(category), GROUPING(fund_id),
       GROUPING(month), support_type, category, fund_id, month, {figures}
FROM counted JOIN path USING (unit_id)
GROUP BY GROUPING SETS (
    (node_id), (node_id, support_type), (node_id, category), (node_id, fund_id),
    (node_id, month)
)
UNION ALL
SELECT TRUE, unit_id, 1, 1, 1, 1, NULL, NULL, NULL, NULL, {figures}
FROM counted GROUP BY unit_id
"""

PAID_EARLIER_SQL = """
    UNION ALL
    SELECT FALSE, unit_id, member_id, dependant_id, support_type, category, fund_id,
           EXTRACT(MONTH FROM paid_on)::integer, COALESCE(approved_amount, 0)
    FROM {case}
    WHERE status = %(paid)s AND paid_on >= %(start)s AND paid_on < %(end)s
      AND member_id IN (SELECT member_id FROM new) AND id NOT IN (SELECT id FROM new)
"""

PAID_FIGURES = """
    COUNT(*) FILTER (WHERE is_new),
    COUNT(DISTINCT member_id) - COUNT(DISTINCT member_id) FILTER (WHERE NOT is_new),
    COUNT(DISTINCT dependant_id) - COUNT(DISTINCT dependant_id) FILTER (WHERE NOT is_new),
    COALESCE(SUM(amount) FILTER (WHERE is_new), 0)
"""


def _count_year_in_postgresql(year: int, ids: list[int]) -> None:
    """``_count_year`` as two grouped queries: the records and money first (which locks the
    rows they add to, as there), then the people and children, read after the locks."""
    case = connection.ops.quote_name(Case._meta.db_table)
    params: dict[str, Any] = {
        "ids": ids,
        "paid": CaseStatus.PAID,
        "start": datetime.date(year, 1, 1),
        "end": datetime.date(year + 1, 1, 1),
        "day": year_end(year),
        "separator": PATH_SEPARATOR,
    }

    def figures(earlier: str) -> dict[Key, Figures]:
        sql = PAID_SQL.format(
            case=case,
            placement=connection.ops.quote_name(Placement._meta.db_table),
            earlier=earlier.format(case=case),
            figures=PAID_FIGURES,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return _decoded(cursor.fetchall())

    _add(year, {key: (cases, 0, 0, amount) for key, (cases, _, _, amount) in figures("").items()})
    _add(
        year,
        {
            key: (0, people, children, 0)
            for key, (_, people, children, _) in figures(PAID_EARLIER_SQL).items()
            if people or children
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


# --------------------------------------------------------------------------------------------
# Money raised: contributions by fund and campaign (``RaisedYear``, kept by ``post_entry``)
# --------------------------------------------------------------------------------------------

RaisedKey = tuple[int, int, int | None]  # (year, fund, campaign)


def compute_raised() -> dict[RaisedKey, tuple[int, int]]:
    """Every ``RaisedYear`` row from the ledger: (entries less reversals, net amount)."""
    given = Q(kind=EntryKind.CONTRIBUTION)
    taken_back = Q(kind=EntryKind.CORRECTION, reverses__kind=EntryKind.CONTRIBUTION)
    rows = (
        LedgerEntry.objects.filter(given | taken_back)
        .annotate(
            year=ExtractYear("occurred_on"),
            campaign=Coalesce("contribution__campaign_id", "reverses__contribution__campaign_id"),
        )
        .values("year", "fund_id", "campaign")
        .annotate(
            given=Count("pk", filter=given),
            taken_back=Count("pk", filter=taken_back),
            money=Sum("amount"),
        )
        .order_by()
    )
    return {
        (row["year"], row["fund_id"], row["campaign"]): (
            row["given"] - row["taken_back"],
            int(row["money"] or 0),
        )
        for row in rows
    }


def stored_raised() -> dict[RaisedKey, tuple[int, int]]:
    return {
        (year, fund_id, campaign_id): (entries, amount)
        for year, fund_id, campaign_id, entries, amount in RaisedYear.objects.values_list(
            "year", "fund_id", "campaign_id", "entries", "amount"
        )
    }


def raised_differences() -> dict[RaisedKey, tuple[tuple[int, int] | None, ...]]:
    kept, computed = stored_raised(), compute_raised()
    return {
        key: (kept.get(key), computed.get(key))
        for key in set(kept) | set(computed)
        if kept.get(key) != computed.get(key)
    }


@transaction.atomic
def rebuild_raised() -> int:
    RaisedYear.objects.all().delete()
    rows = [
        RaisedYear(year=year, fund_id=fund_id, campaign_id=campaign, entries=entries, amount=amount)
        for (year, fund_id, campaign), (entries, amount) in compute_raised().items()
    ]
    RaisedYear.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


# --------------------------------------------------------------------------------------------
# After a reorganisation: the years counted again in the background, in one statement a year
# --------------------------------------------------------------------------------------------


def recount_after_reorganisation(sender, *, effective_on: datetime.date, **kwargs) -> None:
    """``unions.signals.tree_changed``: every year whose tree is read on or after
    ``effective_on`` is to be counted again.  The request only writes the ``TallyRecount``
    row, in the reorganisation's transaction, and queues ``run_recount`` once it commits;
    until the recount is done those years' figures are read from the records."""
    from common.dispatch import dispatch_on_commit
    from welfare.tasks import recount_tallies

    recount = TallyRecount.objects.create(
        first_year=effective_on.year,
        last_year=max(effective_on.year, timezone.localdate().year),
        effective_on=effective_on,
    )
    dispatch_on_commit(recount_tallies, TallyRecount, recount.pk)


def run_recount(recount_id: int) -> None:
    """Count the recount's years again, each in its own transaction committed with the row
    that says it is done, so a worker lost halfway goes on from the next year.  Idempotent."""
    recount = TallyRecount.objects.filter(pk=recount_id).first()
    if recount is None or not recount.is_active:
        return
    now = timezone.now()
    TallyRecount.objects.filter(pk=recount.pk).update(
        status=TallyRecount.Status.RUNNING, started_at=recount.started_at or now
    )
    years = list(range(recount.first_year, recount.last_year + 1))
    done = list(recount.years_done)
    try:
        for year in years:
            if year in done:
                continue
            with transaction.atomic():
                recount_year(year)
                done.append(year)
                TallyRecount.objects.filter(pk=recount.pk).update(
                    years_done=done, progress=int(100 * len(done) / len(years))
                )
    except Exception as error:
        TallyRecount.objects.filter(pk=recount.pk).update(
            status=TallyRecount.Status.FAILED, error=str(error)[:2000]
        )
        raise
    TallyRecount.objects.filter(pk=recount.pk).update(
        status=TallyRecount.Status.DONE, progress=100, finished_at=timezone.now()
    )


def settle_recounts(years: set[int] | None) -> None:
    """After ``rebuild``: the recounts waiting or failed whose years it counted again are
    done (all of them when it counted every year)."""
    unsettled = TallyRecount.objects.exclude(status=TallyRecount.Status.DONE)
    for recount in unsettled:
        if years is None or set(range(recount.first_year, recount.last_year + 1)) <= years:
            TallyRecount.objects.filter(pk=recount.pk).update(
                status=TallyRecount.Status.DONE, progress=100, finished_at=timezone.now()
            )


def recount_year(year: int) -> int:
    """Replace the tallies of ``year`` by those computed from its paid records, in the
    caller's transaction; returns the rows written.  The table is locked against writers
    first (readers go on): a payment being counted is waited for, and one that comes later
    adds to the new rows, so none is lost or counted twice.  On PostgreSQL one ``INSERT ...
    SELECT`` (the records, each joined to the units of its path in the year's tree, grouped
    by every breakdown at once); elsewhere the rows computed in Python."""
    table = connection.ops.quote_name(SupportTally._meta.db_table)
    if connection.vendor != "postgresql":
        SupportTally.objects.filter(year=year).delete()
        rows = [
            SupportTally(year=year, unit_id=unit_id, breakdown=breakdown, key=key,
                         cases=cases, people=people, children=children, amount=amount)
            for (unit_id, breakdown, key), (cases, people, children, amount) in compute(
                year
            ).items()
        ]  # fmt: skip
        SupportTally.objects.bulk_create(rows, batch_size=5000)
        return len(rows)
    quote = connection.ops.quote_name
    sql = RECOUNT_SQL.format(
        tally=table,
        case=quote(Case._meta.db_table),
        placement=quote(Placement._meta.db_table),
    )
    on = year_end(year)
    params: dict[str, Any] = {
        "year": year,
        "paid": CaseStatus.PAID,
        "start": datetime.date(year, 1, 1),
        "end": datetime.date(year + 1, 1, 1),
        "on": on,
        "sep": PATH_SEPARATOR,
        **{name: str(value) for name, value in Breakdown.__members__.items()},
    }
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {table} WHERE year = %s", [year])
        cursor.execute(sql, params)
        return cursor.rowcount


# The statement ``recount_year`` runs: ``COMPUTE_SQL``'s grouping written straight into the
# table, with the map of each unit to the units of its path read from the placements in
# force at the year's end.
RECOUNT_SQL = """
WITH paid AS (
    SELECT unit_id, member_id, dependant_id, support_type, category, fund_id,
           EXTRACT(MONTH FROM paid_on)::integer AS month, COALESCE(approved_amount, 0) AS amount
    FROM {case} WHERE status = %(paid)s AND paid_on >= %(start)s AND paid_on < %(end)s
), path AS (
    SELECT p.unit_id, node::bigint AS node_id
    FROM {placement} p
    CROSS JOIN LATERAL unnest(string_to_array(rtrim(p.path, %(sep)s), %(sep)s)) AS node
    WHERE p.valid_from <= %(on)s AND (p.valid_to IS NULL OR p.valid_to > %(on)s)
)
INSERT INTO {tally} (year, unit_id, breakdown, "key", cases, people, children, amount)
SELECT %(year)s, node_id,
       CASE WHEN GROUPING(support_type) = 0 THEN %(TYPE)s
            WHEN GROUPING(category) = 0 THEN %(CATEGORY)s
            WHEN GROUPING(fund_id) = 0 THEN %(FUND)s
            WHEN GROUPING(month) = 0 THEN %(MONTH)s
            ELSE %(TOTAL)s END,
       CASE WHEN GROUPING(support_type) = 0 THEN COALESCE(support_type, '')
            WHEN GROUPING(category) = 0 THEN COALESCE(category, '')
            WHEN GROUPING(fund_id) = 0 THEN COALESCE(fund_id::text, '')
            WHEN GROUPING(month) = 0 THEN month::text
            ELSE '' END,
       COUNT(*), COUNT(DISTINCT member_id), COUNT(DISTINCT dependant_id), SUM(amount)
FROM paid JOIN path USING (unit_id)
GROUP BY GROUPING SETS (
    (node_id), (node_id, support_type), (node_id, category), (node_id, fund_id),
    (node_id, month)
)
UNION ALL
SELECT %(year)s, unit_id, %(OWN)s, '',
       COUNT(*), COUNT(DISTINCT member_id), COUNT(DISTINCT dependant_id), SUM(amount)
FROM paid GROUP BY unit_id
"""
