"""``Case.unlisted``: the paid records whose person had no membership at the record's unit in
the year it was paid.

The report's "people supported without a membership" counts the people paid in a union's
units who were on no member list of those units that year.  A person with a membership at
the unit of one of their records was on a list of every union that record counts in, so only
the people of unlisted records can count: a few hundred records in a city's year instead of
every paid record, each then checked against the memberships of the units covered.

A record's flag depends on the memberships at its own unit: it is set when the record is paid
(``tallies.count_paid``), and set again for the paid records of the units whose memberships
changed (``members.signals.memberships_changed``, sent by every write of the members).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from members.models import Membership

from ..cases.models import Case, CaseStatus

# The record's unit held a membership of its person in the year it was paid, begun by today:
# the person was on that unit's list as every report of the year reads it, up to the year's
# last day or a later today.  (A membership dated ahead, which the services refuse, leaves the
# record flagged and the report's query decides.)
LISTED_SQL = """
EXISTS (
    SELECT 1 FROM {membership} m
    WHERE m.member_id = c.member_id AND m.unit_id = c.unit_id
      AND m.valid_from <= LEAST(make_date(EXTRACT(YEAR FROM c.paid_on)::integer, 12, 31), %s)
      AND (m.valid_to IS NULL
           OR m.valid_to > make_date(EXTRACT(YEAR FROM c.paid_on)::integer, 1, 1))
)
"""

UPDATE_SQL = """
UPDATE {case} c SET unlisted = NOT {listed}
WHERE c.status = %s AND c.member_id IS NOT NULL AND {where}
  AND c.unlisted IS DISTINCT FROM (NOT {listed})
"""


def flags_in_python(records, memberships, today) -> dict[int, tuple[bool, bool]]:
    """Each paid record's flag as it is and as the memberships say, computed in Python: the
    same rule as ``LISTED_SQL``, for a database without its date functions (the demo's
    SQLite).  ``records`` and ``memberships`` are querysets (real or historical models)."""
    rows = list(
        records.filter(status=CaseStatus.PAID, member__isnull=False).values_list(
            "pk", "member_id", "unit_id", "paid_on", "unlisted"
        )
    )
    held: dict[tuple[int, int], list[tuple]] = {}
    for member_id, unit_id, valid_from, valid_to in memberships.filter(
        member_id__in={row[1] for row in rows}
    ).values_list("member_id", "unit_id", "valid_from", "valid_to"):
        held.setdefault((member_id, unit_id), []).append((valid_from, valid_to))
    flags = {}
    for pk, member_id, unit_id, paid_on, unlisted in rows:
        start = datetime.date(paid_on.year, 1, 1)
        end = min(datetime.date(paid_on.year, 12, 31), today)
        listed = any(
            valid_from <= end and (valid_to is None or valid_to > start)
            for valid_from, valid_to in held.get((member_id, unit_id), ())
        )
        flags[pk] = (unlisted, not listed)
    return flags


def _update_in_python(records) -> int:
    flags = flags_in_python(records, Membership.objects.all(), timezone.localdate())
    changed = 0
    for value in (True, False):
        pks = [pk for pk, (now, due) in flags.items() if now != due and due is value]
        changed += Case.objects.filter(pk__in=pks).update(unlisted=value) if pks else 0
    return changed


def _update(where: str, params: list, records) -> int:
    """The flags of the paid records ``where`` says (``records`` the same, as a queryset)."""
    if connection.vendor != "postgresql":
        return _update_in_python(records)
    listed = LISTED_SQL.format(membership=connection.ops.quote_name(Membership._meta.db_table))
    sql = UPDATE_SQL.format(
        case=connection.ops.quote_name(Case._meta.db_table), listed=listed, where=where
    )
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(sql, [today, CaseStatus.PAID, *params, today])
        return cursor.rowcount


def mark_cases(case_ids: Iterable[int]) -> None:
    ids = sorted(set(case_ids))
    if ids:
        _update("c.id = ANY(%s)", [ids], Case.objects.filter(pk__in=ids))


def mark_units(unit_ids: Iterable[int]) -> None:
    ids = sorted(set(unit_ids))
    if ids:
        _update("c.unit_id = ANY(%s)", [ids], Case.objects.filter(unit_id__in=ids))


def memberships_changed(sender, *, unit_ids: Iterable[int], **kwargs) -> None:
    """``members.signals.memberships_changed``: the paid records of those units again."""
    mark_units(unit_ids)


def rebuild() -> int:
    """Every paid record's flag again; returns the records changed."""
    return _update("TRUE", [], Case.objects.all())


def differences() -> list[int]:
    """The paid records whose flag is not what the memberships say."""
    if connection.vendor != "postgresql":
        flags = flags_in_python(Case.objects.all(), Membership.objects.all(), timezone.localdate())
        return sorted(pk for pk, (now, due) in flags.items() if now != due)
    listed = LISTED_SQL.format(membership=connection.ops.quote_name(Membership._meta.db_table))
    sql = (
        f"SELECT c.id FROM {connection.ops.quote_name(Case._meta.db_table)} c "
        f"WHERE c.status = %s AND c.member_id IS NOT NULL "
        f"AND c.unlisted IS DISTINCT FROM (NOT {listed}) ORDER BY c.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [CaseStatus.PAID, timezone.localdate()])
        return [pk for (pk,) in cursor.fetchall()]
