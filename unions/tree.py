"""Services that change the tree: create, move, merge, dissolve.

Each runs in one transaction, closes the placements it replaces at the effective date and
opens new ones, so the tree as of any earlier date is never rewritten.  Each checks that its
acting user ``by`` manages the tree at every unit it touches (``scope.authorize_write``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, Max, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from common.text import normalise

from .models import (
    PATH_SEPARATOR,
    Placement,
    PlacementQuerySet,
    Unit,
    UnitEvent,
    UnitKind,
    UnitQuerySet,
    UnitStatus,
)
from .scope import ActingUser, Capability, authorize_write, require_actor, scope_paths, scope_q
from .signals import tree_changed, unit_closing, unit_merged


def _child_path(parent: Unit | None, unit_id: int) -> str:
    return f"{parent.path if parent else ''}{unit_id}{PATH_SEPARATOR}"


def _check_effective_date(effective_on: datetime.date, *, not_before: datetime.date | None) -> None:
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": _("The effective date cannot be in the future.")})
    if not_before and effective_on < not_before:
        raise ValidationError(
            {
                "effective_on": _(
                    "The effective date cannot be before %(date)s, the last change to this "
                    "part of the tree."
                )
                % {"date": not_before.strftime("%d/%m/%Y")}
            }
        )


def _check_active(unit: Unit, field: str) -> None:
    if not unit.is_active:
        raise ValidationError({field: _("%(unit)s is closed.") % {"unit": unit.name}})


@transaction.atomic
def create_unit(
    *,
    parent: Unit | None,
    code: str,
    name: str,
    kind: str,
    founded_on: datetime.date,
    by: User,
    **details: Any,
) -> Unit:
    """A new unit under ``parent``; a province (no parent) only by a superuser."""
    if parent is None:
        require_actor(by)
        if not by.is_superuser:
            raise PermissionDenied
    if founded_on > timezone.localdate():
        raise ValidationError({"founded_on": _("The founding date cannot be in the future.")})
    placed_from = founded_on
    if parent is not None:
        parent = Unit.objects.select_for_update().get(pk=parent.pk)
        authorize_write(by, Capability.MANAGE_TREE, parent)
        _check_active(parent, "parent")
        if parent.kind == UnitKind.GRASSROOTS:
            raise ValidationError({"parent": _("A grassroots union cannot have units under it.")})
        # A union older than its parent's place in the tree (a company union registered under
        # a commune union set up in 2025) stands in the tree from the day that place began.
        placed_from = max(founded_on, _last_change_on_path(parent) or founded_on)
    elif kind != UnitKind.PROVINCE:
        raise ValidationError({"parent": _("Only a provincial confederation has no parent.")})
    unit = Unit(
        parent=parent,
        code=code,
        name=name,
        kind=kind,
        founded_on=founded_on,
        depth=(parent.depth + 1) if parent else 0,
        path="-",
        **details,
    )
    unit.full_clean(exclude=["path", "parent"])
    unit.save()
    unit.path = _child_path(parent, unit.pk)
    unit.save(update_fields=["path"])
    Placement.objects.create(
        unit=unit, parent=parent, path=unit.path, depth=unit.depth, valid_from=placed_from
    )
    UnitEvent.objects.create(
        unit=unit, kind=UnitEvent.Kind.CREATED, effective_on=placed_from, new_parent=parent, by=by
    )
    return unit


def _last_change_in_subtree(unit: Unit) -> datetime.date | None:
    return (
        Placement.objects.open()
        .filter(path__startswith=unit.path)
        .aggregate(last=Max("valid_from"))["last"]
    )


def _last_change_on_path(unit: Unit) -> datetime.date | None:
    """The latest date on which ``unit`` or one of its ancestors took its current place."""
    return (
        Placement.objects.open()
        .filter(unit_id__in=unit.ancestor_ids())
        .aggregate(last=Max("valid_from"))["last"]
    )


def _latest(*dates: datetime.date | None) -> datetime.date | None:
    return max((d for d in dates if d), default=None)


def _replace_placements(unit: Unit, new_parent: Unit, effective_on: datetime.date) -> None:
    """Re-root the open placements of ``unit``'s subtree under ``new_parent`` from a date."""
    old_prefix = unit.path
    new_prefix = _child_path(new_parent, unit.pk)
    depth_shift = new_parent.depth + 1 - unit.depth
    subtree = list(Unit.objects.select_for_update().filter(path__startswith=old_prefix))
    open_rows = {
        p.unit_id: p for p in Placement.objects.open().filter(unit__in=[u.pk for u in subtree])
    }
    closing, opening, rewriting = [], [], []
    for member_unit in subtree:
        row = open_rows[member_unit.pk]
        new_path = new_prefix + member_unit.path[len(old_prefix) :]
        new_parent_id = new_parent.pk if member_unit.pk == unit.pk else member_unit.parent_id
        member_unit.path = new_path
        member_unit.depth += depth_shift
        member_unit.parent_id = new_parent_id
        if row.valid_from == effective_on:
            # The placement began the same day: it never stood on any date, so replace it.
            row.path, row.depth, row.parent_id = new_path, member_unit.depth, new_parent_id
            rewriting.append(row)
        else:
            row.valid_to = effective_on
            closing.append(row)
            opening.append(
                Placement(
                    unit_id=member_unit.pk,
                    parent_id=new_parent_id,
                    path=new_path,
                    depth=member_unit.depth,
                    valid_from=effective_on,
                )
            )
    Placement.objects.bulk_update(closing, ["valid_to"])
    Placement.objects.bulk_update(rewriting, ["path", "depth", "parent"])
    Placement.objects.bulk_create(opening)
    Unit.objects.bulk_update(subtree, ["path", "depth", "parent"])


def _check_new_parent(unit: Unit, new_parent: Unit, field: str) -> None:
    if new_parent.pk == unit.pk or new_parent.path.startswith(unit.path):
        raise ValidationError(
            {field: _("A unit cannot be placed under itself or one of its own units.")}
        )
    _check_active(new_parent, field)
    if new_parent.kind == UnitKind.GRASSROOTS:
        raise ValidationError({field: _("A grassroots union cannot have units under it.")})


@transaction.atomic
def move_unit(
    *, unit: Unit, new_parent: Unit, effective_on: datetime.date, by: User, note: str = ""
) -> Unit:
    """Move a unit with its whole subtree under another parent from ``effective_on``."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    new_parent = Unit.objects.select_for_update().get(pk=new_parent.pk)
    authorize_write(by, Capability.MANAGE_TREE, unit)
    authorize_write(by, Capability.MANAGE_TREE, new_parent)
    _check_active(unit, "unit")
    _check_new_parent(unit, new_parent, "new_parent")
    if unit.parent_id == new_parent.pk:
        raise ValidationError({"new_parent": _("The unit is already under this parent.")})
    _check_effective_date(
        effective_on,
        not_before=_latest(_last_change_in_subtree(unit), _last_change_on_path(new_parent)),
    )
    old_parent_id = unit.parent_id
    _replace_placements(unit, new_parent, effective_on)
    UnitEvent.objects.create(
        unit=unit,
        kind=UnitEvent.Kind.MOVED,
        effective_on=effective_on,
        old_parent_id=old_parent_id,
        new_parent=new_parent,
        note=note,
        by=by,
    )
    tree_changed.send(Unit, effective_on=effective_on)
    unit.refresh_from_db()
    return unit


def _raise_closing_objections(
    unit: Unit, successor: Unit | None, effective_on: datetime.date
) -> None:
    objections = [
        message
        for _receiver, message in unit_closing.send(
            Unit, unit=unit, successor=successor, effective_on=effective_on
        )
    ]
    objections = [message for message in objections if message]
    if objections:
        raise ValidationError(objections)


@transaction.atomic
def merge_unit(
    *, unit: Unit, into: Unit, effective_on: datetime.date, by: User, note: str = ""
) -> Unit:
    """Close ``unit`` and hand its child units and members to its successor ``into``.

    ``unions`` knows nothing of members, so they take part through two signals sent here
    (``unions/signals.py``), answered by the members app inside this transaction:
    ``unit_closing`` first (``members.services.refuse_closing_with_members`` may object), then
    ``unit_merged`` once the unit is closed (``members.services.move_members_to_successor``
    closes their memberships here and opens them at ``into`` on ``effective_on``)."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    into = Unit.objects.select_for_update().get(pk=into.pk)
    authorize_write(by, Capability.MANAGE_TREE, unit)
    authorize_write(by, Capability.MANAGE_TREE, into)
    _check_active(unit, "unit")
    if into.pk == unit.pk or into.path.startswith(unit.path):
        raise ValidationError(
            {"into": _("A unit cannot be merged into itself or one of its own units.")}
        )
    _check_active(into, "into")
    children = list(unit.children.filter(status=UnitStatus.ACTIVE))
    if children and into.kind == UnitKind.GRASSROOTS:
        raise ValidationError(
            {"into": _("This unit has units under it; a grassroots union cannot take them.")}
        )
    _check_effective_date(
        effective_on,
        not_before=_latest(
            _last_change_in_subtree(unit),
            _last_change_on_path(into) if children else into.founded_on,
        ),
    )
    _raise_closing_objections(unit, into, effective_on)
    for child in children:
        child.refresh_from_db()
        _replace_placements(child, into, effective_on)
        UnitEvent.objects.create(
            unit=child,
            kind=UnitEvent.Kind.MOVED,
            effective_on=effective_on,
            old_parent=unit,
            new_parent=into,
            note=note,
            by=by,
        )
    if children:
        tree_changed.send(Unit, effective_on=effective_on)
    unit.refresh_from_db()
    unit.status = UnitStatus.MERGED
    unit.closed_on = effective_on
    unit.successor = into
    unit.save()
    unit_merged.send(Unit, unit=unit, successor=into, effective_on=effective_on, by=by)
    UnitEvent.objects.create(
        unit=unit,
        kind=UnitEvent.Kind.MERGED,
        effective_on=effective_on,
        other_unit=into,
        note=note,
        by=by,
    )
    UnitEvent.objects.create(
        unit=into,
        kind=UnitEvent.Kind.ABSORBED,
        effective_on=effective_on,
        other_unit=unit,
        note=note,
        by=by,
    )
    return unit


@transaction.atomic
def dissolve_unit(*, unit: Unit, effective_on: datetime.date, by: User, note: str = "") -> Unit:
    """Close a unit that no longer holds active units or members; it stays in history.

    Before closing, ``unit_closing`` (``unions/signals.py``) lets the members app refuse while
    the unit still has active members (``members.services.refuse_closing_with_members``)."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    authorize_write(by, Capability.MANAGE_TREE, unit)
    _check_active(unit, "unit")
    if unit.children.filter(status=UnitStatus.ACTIVE).exists():
        raise ValidationError(
            _("Move, merge or dissolve the units under %(unit)s first.") % {"unit": unit.name}
        )
    _check_effective_date(effective_on, not_before=_last_change_in_subtree(unit))
    _raise_closing_objections(unit, None, effective_on)
    unit.status = UnitStatus.DISSOLVED
    unit.closed_on = effective_on
    unit.save()
    UnitEvent.objects.create(
        unit=unit, kind=UnitEvent.Kind.DISSOLVED, effective_on=effective_on, note=note, by=by
    )
    return unit


@transaction.atomic
def update_unit(*, unit: Unit, by: User) -> Unit:
    """Save the details of a unit (name, code, contacts; not its place in the tree)."""
    placed = Unit.objects.select_for_update().get(pk=unit.pk)
    authorize_write(by, Capability.MANAGE_TREE, placed)
    unit.parent_id, unit.path, unit.depth = placed.parent_id, placed.path, placed.depth
    unit._history_user = by
    unit.save()
    return unit


KIND_ORDER = {kind: index for index, kind in enumerate(UnitKind.values)}
# A node's units are shown this many at a time, the next ones on request: the province of a
# city has some 800 units right under it.
TREE_BATCH = 50


@dataclass(slots=True)
class TreeNode:
    """A unit as the tree page shows it: where it stood, and how many units stood under it.

    Plain values rather than a ``Unit``: the page shows hundreds of nodes and needs five
    fields of each.
    """

    pk: int
    name: str
    kind: str
    status: str
    closed_on: datetime.date | None
    parent_id: int | None
    closed: bool
    child_count: int = 0
    # The child units when they are shown with the node; None when they load on demand.
    children: list[TreeNode] | None = None
    # Where the next batch of ``children`` starts when they are not all shown, else None.
    more_from: int | None = None


class _Shown:
    """The units the tree page shows, as they stood on ``date`` (today when None): those the
    user may see today, without units not yet founded on that date or, in today's tree,
    closed ones unless asked for.  Today's tree is read from ``Unit``, an earlier one from
    the placements in force on that date.
    """

    def __init__(self, user: ActingUser, date: datetime.date | None, *, show_closed: bool) -> None:
        self.user, self.date = user, date
        if date is None:
            self.rows: UnitQuerySet | PlacementQuerySet = Unit.objects.filter(scope_q(user, "path"))
            if not show_closed:
                self.rows = self.rows.active()
            self.fields = ("pk", "name", "kind", "status", "closed_on", "parent_id")
        else:
            self.rows = (
                Placement.objects.on(date)
                .filter(unit__founded_on__lte=date)
                .filter(scope_q(user, "unit__path"))
            )
            self.fields = (
                *("unit_id", "unit__name", "unit__kind", "unit__status", "unit__closed_on"),
                "parent_id",
            )

    def roots(self) -> list[TreeNode]:
        if self.date is None:
            # Today's scope is whole subtrees: its roots are the units the roles are held at.
            return self.nodes(self.rows.filter(path__in=scope_paths(self.user)))
        # A unit that has not moved since then stands under the parent it has today, which
        # is in scope unless the unit is one of the units the roles are held at.
        tops = scope_paths(self.user)
        moved_in = Q(valid_to__isnull=False) & (
            Q(parent=None) | ~scope_q(self.user, "parent__path")
        )
        return self.nodes(self.rows.filter(Q(unit__path__in=tops) | moved_in))

    def under(self, parent_id: int, start: int = 0) -> tuple[list[TreeNode], int | None]:
        """One batch of the units right under a unit, from ``start`` in the page's order
        (kind, then name), and where the next batch starts (None: that was the last)."""
        kind, pk = self.fields[2], self.fields[0]
        # By the name without marks, as Vietnamese readers sort: "Bắc Châu" before "Bình An".
        name = "search_name" if self.date is None else "unit__search_name"
        rank = Case(
            *(When(**{kind: key}, then=Value(index)) for key, index in KIND_ORDER.items()),
            default=Value(len(KIND_ORDER)),
        )
        rows = (
            self.rows.filter(parent=parent_id)
            .annotate(kind_rank=rank)
            .order_by("kind_rank", name, self.fields[1], pk)[start : start + TREE_BATCH + 1]
        )
        nodes = self.nodes(rows, ordered=True)
        if len(nodes) > TREE_BATCH:
            return nodes[:TREE_BATCH], start + TREE_BATCH
        return nodes, None

    def nodes(self, rows: QuerySet[Any], *, ordered: bool = False) -> list[TreeNode]:
        date = self.date
        nodes = [
            TreeNode(
                *(pk, name, kind, status, closed_on, parent_id),
                closed=closed_on is not None and (date is None or closed_on <= date),
            )
            for pk, name, kind, status, closed_on, parent_id in rows.values_list(*self.fields)
        ]
        if not ordered:
            nodes.sort(key=lambda node: (KIND_ORDER.get(node.kind, 99), normalise(node.name)))
        return nodes

    def count_children(self, nodes: list[TreeNode]) -> None:
        """Set the number of units right under each of ``nodes`` (at most a batch of them)."""
        parents = [node.pk for node in nodes if node.kind != UnitKind.GRASSROOTS]
        if not parents:
            return  # grassroots unions have no units under them
        counts = dict(
            self.rows.filter(parent__in=parents)
            .values("parent_id")
            .annotate(count=Count("*"))
            .values_list("parent_id", "count")
        )
        for node in nodes:
            node.child_count = counts.get(node.pk, 0)


def tree_top(
    user: ActingUser, date: datetime.date | None = None, *, show_closed: bool = False
) -> list[TreeNode]:
    """The roots of the user's tree on ``date`` (or today) with the first batch of units right
    under each.

    Deeper units and further batches are left to ``tree_children``: the page shows the same
    rows however large the tree, which it only counts. A unit whose parent on that date is
    outside the user's scope is a root of its own (so a commune officer sees their own subtree
    as a tree of its own).
    """
    shown = _Shown(user, date, show_closed=show_closed)
    roots = shown.roots()
    shown.count_children(roots)
    for root in roots:
        root.children, root.more_from = shown.under(root.pk) if root.child_count else ([], None)
        shown.count_children(root.children)
    return roots


def tree_children(
    user: ActingUser,
    unit: Unit,
    date: datetime.date | None = None,
    *,
    show_closed: bool = False,
    start: int = 0,
) -> tuple[list[TreeNode], int | None]:
    """One batch of the units right under ``unit`` on ``date`` (or today) that the user may
    see, from ``start``, and where the next batch starts (None: that was the last)."""
    shown = _Shown(user, date, show_closed=show_closed)
    nodes, more_from = shown.under(unit.pk, start)
    shown.count_children(nodes)
    return nodes, more_from
