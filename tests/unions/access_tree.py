"""Access-matrix entries for the union tree's rows that load on demand, and the unit search
of the lists' filters."""

from __future__ import annotations

from ..access import ALL_OK, Entry, unit_args

ENTRIES: dict[str, Entry] = {
    # A unit inside the role's subtree; outside it, and a neighbouring unit, answer 404.
    "units:children": Entry(inside=ALL_OK, args=unit_args),
    # No object in the URL: the answer lists only units in scope.
    "units:search": Entry(
        inside=ALL_OK,
        scoped_by="tests/unions/test_views.py::test_unit_search_finds_units_in_scope_without_diacritics",
    ),
}
