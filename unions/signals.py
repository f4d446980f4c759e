"""Signals through which the apps above ``unions`` take part in a reorganisation.

``unions`` knows nothing of members; the members app answers these inside the same
transaction as the reorganisation.
"""

from django.dispatch import Signal

# Sent before a unit is merged or dissolved, with ``unit`` and ``successor`` (None when
# dissolving).  A receiver returns a message explaining why the unit cannot close, or None.
unit_closing = Signal()

# Sent when ``unit`` has been merged into ``successor`` on ``effective_on`` by ``by``.
unit_merged = Signal()

# Sent when units moved under another parent from ``effective_on`` (a move, or a merge that
# hands its child units on): the tree of every year read on or after that day changed.
tree_changed = Signal()
