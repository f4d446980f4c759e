"""The rows of the union tree page.

The page shows a few hundred rows (the units right under the reader's roots, a batch at a
time); written in the template language a row cost about 120 µs to render, written here about
2 µs, so the rows are built in Python, the way the Django admin builds its changelist rows.
"""

from __future__ import annotations

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from unions.models import UnitKind, UnitStatus
from unions.tree import TreeNode

register = template.Library()


class _Rows:
    """Writes nodes as ``<li>`` rows; labels and links are worked out once, not per row."""

    GRASSROOTS_ICON = '<i class="bi bi-building text-secondary"></i> '
    UNIT_ICON = '<i class="bi bi-diagram-3 text-primary"></i> '

    def __init__(self, query: str):
        self.base_url = reverse("units:tree")
        self.query = query
        self.kind_badges = {
            key: f' <span class="badge text-bg-light border ms-1">{escape(str(label))}</span>'
            for key, label in UnitKind.choices
        }
        self.statuses = {key: escape(str(label)) for key, label in UnitStatus.choices}
        self.count_badge = (
            ' <span class="badge rounded-pill text-bg-primary ms-1"'
            f' title="{escape(_("Units under it"))}">'
        )
        self.see_unit_page = escape(_("Open the unit's page to see them"))
        self.show_more = escape(_("Show more units"))
        self.parts: list[str] = []

    def more(self, parent_pk: int, start: int) -> None:
        """The row that loads the next batch of a unit's units (unit-tree.js); without
        JavaScript it opens the unit's page, which lists them all."""
        url = f"{self.base_url}{parent_pk}/"
        query = f"from={start}" + (f"&{self.query.removeprefix('?')}" if self.query else "")
        self.parts.append(
            f'<li class="tree-more small py-1"><a href="{url}" data-more="{url}children/?'
            f'{escape(query)}"><i class="bi bi-chevron-double-down"></i> {self.show_more}</a>'
            "</li>"
        )

    def write(self, nodes: list[TreeNode], *, top: bool) -> None:
        write = self.parts.append
        link_class = ' class="fw-semibold"' if top else ""
        for node in nodes:
            url = f"{self.base_url}{node.pk}/"
            icon = self.GRASSROOTS_ICON if node.kind == UnitKind.GRASSROOTS else self.UNIT_ICON
            kind = self.kind_badges.get(node.kind) or escape(node.kind)
            line = f'{icon}<a href="{url}"{link_class}>{escape(node.name)}</a>{kind}'
            if node.child_count:
                line += f"{self.count_badge}{node.child_count}</span>"
            if node.closed:
                status = self.statuses.get(node.status) or escape(node.status)
                closed_on = node.closed_on.strftime("%d/%m/%Y") if node.closed_on else ""
                line += f' <span class="badge text-bg-secondary ms-1">{status} {closed_on}</span>'
            item = '<li class="tree-node tree-closed">' if node.closed else '<li class="tree-node">'
            if not node.child_count:
                write(f'{item}<div class="tree-leaf py-1">{line}</div></li>')
            elif node.children is not None:
                write(f'{item}<details open><summary class="py-1">{line}</summary>')
                write('<ul class="list-unstyled ps-4 mb-0">')
                self.write(node.children, top=False)
                if node.more_from is not None:
                    self.more(node.pk, node.more_from)
                write("</ul></details></li>")
            else:
                # Without JavaScript the node opens on a link to the unit's page, which lists
                # its units; unit-tree.js replaces the link with the rows.
                write(
                    f'{item}<details data-children="{url}children/{self.query}">'
                    f'<summary class="py-1">{line}</summary><ul class="list-unstyled ps-4 mb-0">'
                    f'<li class="small text-secondary py-1"><a href="{url}">{self.see_unit_page}'
                    "</a></li></ul></details></li>"
                )


@register.simple_tag
def tree_rows(
    nodes: list[TreeNode],
    query: str = "",
    top: bool = False,
    more_of: int | None = None,
    more_from: int | None = None,
) -> SafeString:
    """The ``<li>`` rows of ``nodes``; ``query`` goes on the links that load a node's units.
    ``nodes`` being one batch of the units under ``more_of``, a last row loads the next batch
    from ``more_from`` when there is one."""
    rows = _Rows(query)
    rows.write(nodes, top=top)
    if more_of is not None and more_from is not None:
        rows.more(more_of, more_from)
    return mark_safe("".join(rows.parts))  # every value in the rows is escaped
