"""Per-unit counts of active members, workers and women, kept equal to the members table.

Every write that adds members, moves them between units or changes their status, kind or sex
calls ``refresh_member_counts`` in its own transaction (``Member.save`` does it for single
rows; the bulk writers call it with the units they touched). It recounts those units from the
members table rather than adding and subtracting, so a counter cannot drift; the row locks on
the units make concurrent recounts of one unit run one after the other, each seeing the
other's committed rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from unions.models import Unit

from .models import Member, MemberKind, MemberStatus, Sex, UnitMemberCount


def refresh_member_counts(unit_ids: Iterable[int | None]) -> None:
    """Recount the counters of ``unit_ids`` from their members, inside the caller's transaction."""
    ids = sorted({pk for pk in unit_ids if pk is not None})
    if not ids:
        return
    with transaction.atomic(savepoint=False):
        # FOR NO KEY UPDATE: serialises recounts of a unit without blocking the foreign-key
        # checks of rows inserted for it; in pk order, so two recounts cannot deadlock.
        list(
            Unit.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        counts = {row.unit_id: row for row in _counted(Member.objects.filter(unit_id__in=ids))}
        UnitMemberCount.objects.bulk_create(
            [
                counts.get(pk) or UnitMemberCount(unit_id=pk, members=0, workers=0, women=0)
                for pk in ids
            ],
            update_conflicts=True,
            unique_fields=["unit"],
            update_fields=["members", "workers", "women"],
        )
        refresh_membership_years(ids)


def rebuild_member_counts() -> int:
    """Recount every unit (the seed, ``manage.py recount_members``); returns the number of
    units that have active people."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Recounts of single units wait until this one is committed.
            table = connection.ops.quote_name(UnitMemberCount._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        UnitMemberCount.objects.all().delete()
        rows = UnitMemberCount.objects.bulk_create(_counted(Member.objects.all()), batch_size=2000)
        return len(rows)


def _counted(members) -> Iterator[UnitMemberCount]:
    """The counter rows of the units of ``members``: their active people by kind and sex."""
    counts = (
        members.filter(status=MemberStatus.ACTIVE)
        .values("unit")
        .annotate(
            members=Count("pk", filter=Q(kind=MemberKind.MEMBER)),
            workers=Count("pk", filter=Q(kind=MemberKind.WORKER)),
            women=Count("pk", filter=Q(sex=Sex.FEMALE)),
        )
        .order_by()
    )
    for row in counts.iterator():
        yield UnitMemberCount(
            unit_id=row["unit"], members=row["members"], workers=row["workers"], women=row["women"]
        )


def member_totals(units) -> dict[str, int]:
    """Active members, workers and women of ``units`` (a queryset or subquery of unit ids)."""
    return UnitMemberCount.objects.filter(unit_id__in=units).aggregate(
        members=Coalesce(Sum("members"), 0),
        workers=Coalesce(Sum("workers"), 0),
        women=Coalesce(Sum("women"), 0),
    )


def subtree_member_counts(unit: Unit, subtree) -> dict[str, int]:
    """The active people of ``subtree`` (``active``) and of ``unit`` itself (``here``)."""
    people = F("members") + F("workers")
    return UnitMemberCount.objects.filter(unit_id__in=subtree.values("pk")).aggregate(
        active=Coalesce(Sum(people), 0),
        here=Coalesce(Sum(people, filter=Q(unit=unit)), 0),
    )


# --------------------------------------------------------------------------------------------
# Membership by year (``MembershipYear``): what the annual report adds up
# --------------------------------------------------------------------------------------------

# Each year from ``first`` to this one with its last day (today for the year in progress),
# joined to the memberships that stood in it at the units counted, by their member's kind.
MEMBERSHIP_YEARS_SQL = """
WITH years AS (
    SELECT y::integer AS year, make_date(y::integer, 1, 1) AS first_day,
           LEAST(make_date(y::integer, 12, 31), %s::date) AS last_day
    FROM generate_series(%s::integer, %s::integer) AS y
)
SELECT years.year, m.unit_id,
       COUNT(*) FILTER (WHERE m.valid_from <= years.last_day
                        AND (m.valid_to IS NULL OR m.valid_to > years.last_day)
                        AND p.kind <> %s),
       COUNT(*) FILTER (WHERE m.valid_from <= years.last_day
                        AND (m.valid_to IS NULL OR m.valid_to > years.last_day)
                        AND p.kind = %s),
       COUNT(*) FILTER (WHERE m.reason = %s AND m.valid_from >= years.first_day
                        AND m.valid_from <= years.last_day)
FROM years
JOIN {membership} m ON m.valid_from <= years.last_day
     AND (m.valid_to IS NULL OR m.valid_to > years.first_day OR m.valid_from >= years.first_day)
JOIN {member} p ON p.id = m.member_id
WHERE {units}
GROUP BY years.year, m.unit_id
"""


def _first_year() -> int | None:
    from .models import Membership

    first = Membership.objects.order_by("valid_from").values_list("valid_from", flat=True).first()
    return first.year if first else None


def membership_years(unit_ids: Iterable[int] | None = None) -> dict[tuple[int, int], tuple]:
    """Every ``MembershipYear`` of the units (all when None) from the records:
    (year, unit) -> (members, workers, joined, left)."""
    from django.utils import timezone

    from .models import ENDED_STATUSES, Membership

    today = timezone.localdate()
    first = _first_year()
    if first is None:
        return {}
    ids = None if unit_ids is None else sorted(set(unit_ids))
    units = "TRUE" if ids is None else "m.unit_id = ANY(%s)"
    sql = MEMBERSHIP_YEARS_SQL.format(
        membership=connection.ops.quote_name(Membership._meta.db_table),
        member=connection.ops.quote_name(Member._meta.db_table),
        units=units,
    )
    params: list = [
        today,
        first,
        today.year,
        MemberKind.WORKER,
        MemberKind.WORKER,
        Membership.Reason.JOINED,
    ]
    if ids is not None:
        params.append(ids)
    found: dict[tuple[int, int], list[int]] = {}
    if connection.vendor != "postgresql":  # the demo's SQLite: the same rule in Python
        found = _membership_years_in_python(ids, today)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for year, unit_id, members, workers, joined in cursor.fetchall():
                found[(year, unit_id)] = [members, workers, joined, 0]
    left = Member.objects.filter(
        status__in=ENDED_STATUSES, left_on__isnull=False, left_on__lte=today
    )
    if ids is not None:
        left = left.filter(unit_id__in=ids)
    rows = left.values_list("left_on__year", "unit_id").annotate(n=Count("pk")).order_by()
    for year, unit_id, n in rows:
        found.setdefault((year, unit_id), [0, 0, 0, 0])[3] = n
    return {key: tuple(values) for key, values in found.items() if any(values)}


def _membership_years_in_python(ids: list[int] | None, today) -> dict[tuple[int, int], list]:
    """``MEMBERSHIP_YEARS_SQL``'s counts, membership by membership, for a database without
    its date functions."""
    import datetime

    from .models import Membership

    memberships = Membership.objects.all()
    if ids is not None:
        memberships = memberships.filter(unit_id__in=ids)
    found: dict[tuple[int, int], list[int]] = {}
    rows = memberships.values_list("unit_id", "valid_from", "valid_to", "reason", "member__kind")
    for unit_id, valid_from, valid_to, reason, kind in rows:
        last_year = today.year if valid_to is None else min(valid_to.year, today.year)
        for year in range(valid_from.year, last_year + 1):
            last_day = min(datetime.date(year, 12, 31), today)
            figures = found.setdefault((year, unit_id), [0, 0, 0, 0])
            if valid_from <= last_day and (valid_to is None or valid_to > last_day):
                figures[1 if kind == MemberKind.WORKER else 0] += 1
            if (
                reason == Membership.Reason.JOINED
                and year == valid_from.year
                and valid_from <= last_day
            ):
                figures[2] += 1
    return found


def refresh_membership_years(unit_ids: Iterable[int | None]) -> None:
    """Recount every year of ``unit_ids`` from their memberships, in the caller's transaction
    (after the units' locks of ``refresh_member_counts``), and tell the apps above."""
    from .models import Membership, MembershipYear

    ids = sorted({pk for pk in unit_ids if pk is not None})
    if not ids:
        return
    from .signals import memberships_changed

    counted = membership_years(ids)
    MembershipYear.objects.filter(unit_id__in=ids).delete()
    MembershipYear.objects.bulk_create(
        MembershipYear(
            year=year, unit_id=unit_id, members=members, workers=workers, joined=joined, left=left
        )
        for (year, unit_id), (members, workers, joined, left) in counted.items()
    )
    memberships_changed.send(Membership, unit_ids=ids)


def stored_membership_years() -> dict[tuple[int, int], tuple]:
    from .models import MembershipYear

    rows = MembershipYear.objects.values_list(
        "year", "unit_id", "members", "workers", "joined", "left"
    )
    return {(row[0], row[1]): tuple(row[2:]) for row in rows if any(row[2:])}


def membership_year_differences() -> dict[tuple[int, int], tuple]:
    """The rows where the membership by year and the records disagree: (kept, computed)."""
    kept, computed = stored_membership_years(), membership_years()
    return {
        key: (kept.get(key), computed.get(key))
        for key in set(kept) | set(computed)
        if kept.get(key) != computed.get(key)
    }


def rebuild_membership_years() -> int:
    """Count every unit's every year again, and mark the years counted; returns the rows."""
    from django.utils import timezone

    from .models import MembershipYear, MembershipYearCounted

    with transaction.atomic():
        MembershipYear.objects.all().delete()
        rows = MembershipYear.objects.bulk_create(
            (
                MembershipYear(
                    year=year, unit_id=unit_id, members=m, workers=w, joined=j, left=left
                )
                for (year, unit_id), (m, w, j, left) in membership_years().items()
            ),
            batch_size=5000,
        )
        first = _first_year()
        years = range(first, timezone.localdate().year + 1) if first else range(0)
        for year in years:
            MembershipYearCounted.objects.update_or_create(year=year)
        return len(rows)


def count_new_year() -> bool:
    """The daily task: on its first run of a year, count every unit's membership again, so
    that the new year's rows stand for every unit.  Returns whether it counted."""
    from django.utils import timezone

    from .models import MembershipYearCounted

    if MembershipYearCounted.objects.filter(year=timezone.localdate().year).exists():
        return False
    rebuild_membership_years()
    return True
