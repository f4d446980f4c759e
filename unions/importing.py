"""Imports into a unit of the tree: who may start them and whose jobs they see.

The import engine (``common/imports/``) knows nothing of the tree; every schema that imports
into a unit (the member list, past support records, ...) takes its access rules from here, so
a view, a command and a task meet the same scoping as the rest of the portal.
"""

from __future__ import annotations

from typing import Any

from common.imports.cells import cell_text
from common.imports.engine import Schema
from common.models import ImportJob

from .models import Unit, UnitKind
from .scope import Capability, can, can_anywhere, visible_unit_ids

UNIT_CODE_ALIASES = (
    "cong doan co so",
    "ma cong doan co so",
    "ma cong doan",
    "ma cdcs",
    "cdcs",
    "ma don vi",
    "don vi",
    "unit code",
    "grassroots union",
)


def unit_code_key(value: Any) -> str:
    return cell_text(value).upper()


class UnitImportSchema(Schema):
    """A schema whose rows land in ``unit``'s subtree, for users holding ``capability`` there."""

    capability: Capability

    def may_import_somewhere(self, user) -> bool:
        return can_anywhere(user, self.capability)

    def may_import(self, user, unit: Unit) -> bool:
        return can(user, self.capability, unit)

    def visible_jobs(self, user):
        return ImportJob.objects.filter(unit_id__in=visible_unit_ids(user, self.capability))

    def template_units(self, unit: Unit):
        return Unit.objects.in_subtree_of(unit).filter(kind=UnitKind.GRASSROOTS).active()
