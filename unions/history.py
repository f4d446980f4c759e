"""Reading the change history kept by django-simple-history, for the pages that show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Change:
    record: Any
    fields: list[str]

    @property
    def history_date(self):
        return self.record.history_date

    @property
    def history_type(self) -> str:
        return self.record.history_type

    @property
    def history_user(self):
        return self.record.history_user


def recent_changes(history, limit: int = 20) -> list[Change]:
    """The latest changes with the labels of the fields each one changed (two queries at most)."""
    records = list(history.select_related("history_user")[: limit + 1])
    model = history.model.instance_type
    changes = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        fields: list[str] = []
        if older is not None and newer.history_type == "~":
            delta = newer.diff_against(older)
            fields = [str(model._meta.get_field(c.field).verbose_name) for c in delta.changes]
        changes.append(Change(newer, fields))
    return changes[:limit]
