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
