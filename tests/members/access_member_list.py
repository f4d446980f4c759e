"""Access-matrix entries for the member list's helpers."""

from __future__ import annotations

from ..access import ALL_OK, Entry

ENTRIES: dict[str, Entry] = {
    # No object in the URL: the answer lists only units in scope (tests/members/test_views.py).
    "members:unit_search": Entry(inside=ALL_OK),
}
