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
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict

AFTER = "after"
BEFORE = "before"
LAST = "last"
PARAMS = (AFTER, BEFORE, LAST)


def capped_count(queryset: QuerySet, cap: int) -> tuple[int, bool]:
    """How many rows, counting no further than ``cap``: ``(count, more)``.

    ``SELECT count(*) FROM (SELECT id … LIMIT cap + 1)``: the cost stops growing at ``cap``
    rows, where an exact count reads the whole scope. ``more`` is true past the cap, for
    "of more than 10,000".
    """
    count = queryset.order_by().values("pk")[: cap + 1].count()
    return min(count, cap), count > cap


def _encode(values: Sequence) -> str:
    def plain(value):
        if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
            return value.isoformat()
        if isinstance(value, (decimal.Decimal, bytes)):
            return str(value)
        return value

    data = json.dumps([plain(value) for value in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode(cursor: str) -> list:
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

    object_list: list
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

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
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


class KeysetPaginator:
    """Pages through ``queryset`` in ``ordering``: names of non-null model fields or
    annotations (``annotate()``, so the rows carry the values), each with an optional ``-``,
    the last one the primary key. Directions may be uniform or mixed; for speed, an index
    should cover the same columns in the same (or the exactly reversed) directions.
    """

    def __init__(self, queryset: QuerySet, ordering: Sequence[str], per_page: int):
        keys = [(name.removeprefix("-"), name.startswith("-")) for name in ordering]
        pk_name = queryset.model._meta.pk.name
        keys = [(pk_name if name == "pk" else name, desc) for name, desc in keys]
        if not keys or keys[-1][0] != pk_name:
            raise ValueError("A keyset ordering ends with the primary key.")
        self.queryset = queryset
        self.keys = keys
        self.per_page = per_page
        self.fields = [self._field(name) for name, _ in keys]

    def _field(self, name: str):
        annotation = self.queryset.query.annotations.get(name)
        if annotation is not None:
            return annotation.output_field
        try:
            return self.queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            raise ValueError(f"Cannot order a keyset by {name!r}.") from None

    def _order(self, reverse: bool = False) -> list[str]:
        return [f"{'-' if desc != reverse else ''}{name}" for name, desc in self.keys]

    def cursor(self, obj) -> str:
        """The opaque cursor of a row: ``?after=`` it is the page after the row."""
        return _encode([getattr(obj, name) for name, _ in self.keys])

    def _values(self, cursor: str) -> list | None:
        """The cursor's values as Python values of the fields, or None if it is not one."""
        try:
            raw = _decode(cursor)
            if len(raw) != len(self.keys):
                return None
            values = [field.to_python(value) for field, value in zip(self.fields, raw, strict=True)]
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, ValidationError):
            return None
        if any(value is None for value in values):
            return None
        return values

    def _beyond(self, values: list, reverse: bool) -> Q:
        """Rows strictly after ``values`` in the ordering (before them if ``reverse``)."""
        condition = None
        for (name, desc), value in reversed(list(zip(self.keys, values, strict=True))):
            up = desc == reverse
            strict = Q(**{f"{name}__{'gt' if up else 'lt'}": value})
            if condition is None:
                condition = strict
            else:
                loose = Q(**{f"{name}__{'gte' if up else 'lte'}": value})
                condition = loose & (strict | condition)
        return condition

    def get_page(self, params: QueryDict) -> KeysetPage:
        """The page the query string asks for; a missing or unreadable cursor gives the first."""
        base = params.copy()
        for param in (*PARAMS, "page"):
            base.pop(param, None)
        n = self.per_page
        after = self._values(params.get(AFTER, "")) if params.get(AFTER) else None
        before = self._values(params.get(BEFORE, "")) if params.get(BEFORE) else None
        if after is not None:
            rows = list(
                self.queryset.filter(self._beyond(after, False)).order_by(*self._order())[: n + 1]
            )
            has_previous, has_next = True, len(rows) > n
            rows = rows[:n]
        elif before is not None:
            rows = list(
                self.queryset.filter(self._beyond(before, True)).order_by(*self._order(True))[
                    : n + 1
                ]
            )
            has_previous, has_next = len(rows) > n, True
            rows = rows[:n][::-1]
        elif params.get(LAST):
            rows = list(self.queryset.order_by(*self._order(True))[: n + 1])
            has_previous, has_next = len(rows) > n, False
            rows = rows[:n][::-1]
        else:
            rows = list(self.queryset.order_by(*self._order())[: n + 1])
            has_previous, has_next = False, len(rows) > n
            rows = rows[:n]
        page = KeysetPage(rows, has_previous, has_next, filter_query=base.urlencode())
        if has_previous and rows:
            page.first_query = page.filter_query
            page.previous_query = self._link(base, BEFORE, self.cursor(rows[0]))
        if has_next and rows:
            page.next_query = self._link(base, AFTER, self.cursor(rows[-1]))
            page.last_query = self._link(base, LAST, "1")
        return page

    @staticmethod
    def _link(base: QueryDict, param: str, value: str) -> str:
        query = base.copy()
        query[param] = value
        return query.urlencode()
