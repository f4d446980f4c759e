"""Keyset pagination: pages of a queryset fetched from the last row seen, not by an OFFSET.

An OFFSET makes the database read and throw away every row before the page, so page 500 costs
500 times page 1 and the last page reads the whole list. Here a page is "the n rows after (or
before) this row in this order": the ordering is a few non-null columns ending with the primary
key, the links carry the boundary row's values as an opaque cursor (``?after=…``/``?before=…``),
and the condition is written so that an index on the same columns starts the scan at the
cursor. Every page, the last one included (the reversed order, then reversed back), costs what
the first one does. There are no page numbers: first / previous / next / last.

The condition on ``(a, b, id) > (x, y, z)`` is nested, ``a >= x AND (a > x OR (b >= y AND
(b > y OR id > z)))``: PostgreSQL turns the leading ``a >= x`` into an Index Cond and only the
few rows tied on ``a`` meet the rest, and it works for mixed directions, where a row-value
comparison does not. django-cursor-pagination was inspected and rejected for exactly this: its
pure OR expansion (``a > x OR (a = x AND …)``) has no leading bound, so PostgreSQL filters it
row by row from the start of the index.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, Model, Q, QuerySet
from django.http import QueryDict

AFTER = "after"
BEFORE = "before"
LAST = "last"
PARAMS = (AFTER, BEFORE, LAST)


def capped_count(queryset: QuerySet[Any], cap: int) -> tuple[int, bool]:
    """How many rows, counting no further than ``cap``: ``(count, more)``.

    ``SELECT count(*) FROM (SELECT id … LIMIT cap + 1)``: the cost stops growing at ``cap``
    rows, where an exact count reads the whole scope. ``more`` is true past the cap, for
    "of more than 10,000".
    """
    count = queryset.order_by().values("pk")[: cap + 1].count()
    return min(count, cap), count > cap


def _encode(values: Sequence[object]) -> str:
    def plain(value: object) -> object:
        if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
            return value.isoformat()
        if isinstance(value, (decimal.Decimal, bytes)):
            return str(value)
        return value

    data = json.dumps([plain(value) for value in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[object]:
    padded = cursor + "=" * (-len(cursor) % 4)
    values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    if not isinstance(values, list):
        raise ValueError("a cursor is a list")
    return values


@dataclass
class KeysetPage:
    """One page; the ``*_query`` attributes are query strings for the links (None: no link).
    ``filter_query`` is the list's query string without the cursor: its filters and sort, for
    the export links and the first page."""

    object_list: list[Any]
    has_previous: bool
    has_next: bool
    filter_query: str = ""
    first_query: str | None = None
    previous_query: str | None = None
    next_query: str | None = None
    last_query: str | None = None
    # Set by the view when it counts (see capped_count); the template shows them when known.
    count: int | None = None
    count_is_capped: bool = False
    start_index: int | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def set_count(self, count: int, capped: bool = False) -> None:
        """Record the (capped) count; the rows' positions follow on the first and last pages."""
        self.count, self.count_is_capped = count, capped
        if not self.object_list:
            return
        if not self.has_previous:
            self.start_index = 1
        elif not self.has_next and not capped:
            self.start_index = count - len(self.object_list) + 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def end_index(self) -> int | None:
        if self.start_index is None:
            return None
        return self.start_index + len(self.object_list) - 1


class _Keyset:
    """One queryset in one keyset ordering: its rows after a cursor's values."""

    def __init__(self, queryset: QuerySet[Any], ordering: Sequence[str]) -> None:
        keys = [(name.removeprefix("-"), name.startswith("-")) for name in ordering]
        pk_name = queryset.model._meta.pk.name
        keys = [(pk_name if name == "pk" else name, desc) for name, desc in keys]
        if not keys or keys[-1][0] != pk_name:
            raise ValueError("A keyset ordering ends with the primary key.")
        self.queryset = queryset
        self.keys = keys
        self.fields = [self._field(name) for name, _ in keys]

    def _field(self, name: str) -> Field[Any, Any]:
        annotation = self.queryset.query.annotations.get(name)
        if annotation is not None:
            output: Field[Any, Any] = annotation.output_field
            return output
        try:
            field = self.queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if not isinstance(field, Field):  # missing, or a relation seen from its other side
            raise ValueError(f"Cannot order a keyset by {name!r}.")
        return field

    def _order(self, reverse: bool) -> list[str]:
        return [f"{'-' if desc != reverse else ''}{name}" for name, desc in self.keys]

    def values_of(self, obj: Model) -> list[object]:
        return [getattr(obj, name) for name, _ in self.keys]

    def read(self, raw: list[object]) -> list[object] | None:
        """A cursor's raw values as Python values of the fields, or None if they are not."""
        if len(raw) != len(self.keys):
            return None
        try:
            values = [field.to_python(value) for field, value in zip(self.fields, raw, strict=True)]
        except (ValueError, TypeError, ValidationError):
            return None
        if any(value is None for value in values):
            return None
        return values

    def _beyond(self, values: list[object], reverse: bool) -> Q:
        """Rows strictly after ``values`` in the ordering (before them if ``reverse``)."""
        condition: Q | None = None
        for (name, desc), value in reversed(list(zip(self.keys, values, strict=True))):
            up = desc == reverse
            strict = Q(**{f"{name}__{'gt' if up else 'lt'}": value})
            if condition is None:
                condition = strict
            else:
                loose = Q(**{f"{name}__{'gte' if up else 'lte'}": value})
                condition = loose & (strict | condition)
        assert condition is not None  # a keyset ordering has at least the primary key
        return condition

    def rows(self, limit: int, *, after: list[object] | None, reverse: bool) -> list[Any]:
        """Up to ``limit`` rows in the ordering (reversed), past ``after`` if given."""
        queryset = self.queryset
        if after is not None:
            queryset = queryset.filter(self._beyond(after, reverse))
        return list(queryset.order_by(*self._order(reverse))[:limit])


class KeysetPaginator:
    """Pages through ``queryset`` in ``ordering``: names of non-null model fields or
    annotations (``annotate()``, so the rows carry the values), each with an optional ``-``,
    the last one the primary key. Directions may be uniform or mixed; for speed, an index
    should cover the same columns in the same (or the exactly reversed) directions.

    ``then`` lists further ``(queryset, ordering)`` parts shown after the first, each in its
    own order, as one list: a name search lists the names that start with the words typed
    (from the name index) before the other hits. The parts must not share rows.
    """

    def __init__(
        self,
        queryset: QuerySet[Any],
        ordering: Sequence[str],
        per_page: int,
        *,
        then: Sequence[tuple[QuerySet[Any], Sequence[str]]] = (),
    ) -> None:
        self.parts = [_Keyset(queryset, ordering), *(_Keyset(q, o) for q, o in then)]
        self.per_page = per_page

    def cursor(self, part: int, obj: Model) -> str:
        """The opaque cursor of a row of one part: ``?after=`` it is the page after the row."""
        values = self.parts[part].values_of(obj)
        return _encode([part, *values] if len(self.parts) > 1 else values)

    def _position(self, cursor: str) -> tuple[int, list[object]] | None:
        """The part and values a cursor points at, or None if it is not one of ours."""
        try:
            raw = _decode(cursor)
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
            return None
        part = 0
        if len(self.parts) > 1:
            first = raw[0] if raw else None
            if type(first) is not int or not 0 <= first < len(self.parts):
                return None
            part, raw = first, raw[1:]
        values = self.parts[part].read(raw)
        return None if values is None else (part, values)

    def _walk(
        self, part: int, after: list[object] | None, reverse: bool
    ) -> list[tuple[int, Model]]:
        """Up to a page and one rows as ``(part, row)``: from ``part`` past ``after`` (from its
        start if None), then on into the next parts (the previous ones if ``reverse``)."""
        limit = self.per_page + 1
        found: list[tuple[int, Model]] = []
        parts = range(part, -1, -1) if reverse else range(part, len(self.parts))
        for index in parts:
            rows = self.parts[index].rows(
                limit - len(found), after=after if index == part else None, reverse=reverse
            )
            found += [(index, row) for row in rows]
            if len(found) == limit:
                break
        return found

    def get_page(self, params: QueryDict) -> KeysetPage:
        """The page the query string asks for; a missing or unreadable cursor gives the first."""
        base = params.copy()
        for param in (*PARAMS, "page"):
            base.pop(param, None)
        n = self.per_page
        after_cursor, before_cursor = params.get(AFTER), params.get(BEFORE)
        after = self._position(after_cursor) if after_cursor else None
        before = self._position(before_cursor) if before_cursor else None
        if after is not None:
            found = self._walk(*after, reverse=False)
            has_previous, has_next = True, len(found) > n
            found = found[:n]
        elif before is not None:
            found = self._walk(*before, reverse=True)
            has_previous, has_next = len(found) > n, True
            found = found[:n][::-1]
        elif params.get(LAST):
            found = self._walk(len(self.parts) - 1, None, reverse=True)
            has_previous, has_next = len(found) > n, False
            found = found[:n][::-1]
        else:
            found = self._walk(0, None, reverse=False)
            has_previous, has_next = False, len(found) > n
            found = found[:n]
        page = KeysetPage(
            [row for _, row in found], has_previous, has_next, filter_query=base.urlencode()
        )
        if has_previous and found:
            page.first_query = page.filter_query
            page.previous_query = self._link(base, BEFORE, self.cursor(*found[0]))
        if has_next and found:
            page.next_query = self._link(base, AFTER, self.cursor(*found[-1]))
            page.last_query = self._link(base, LAST, "1")
        return page

    @staticmethod
    def _link(base: QueryDict, param: str, value: str) -> str:
        query = base.copy()
        query[param] = value
        return query.urlencode()
