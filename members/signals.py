"""Signals through which the apps above ``members`` follow its writes.

``members`` knows nothing of welfare; the welfare app answers these inside the same
transaction as the write.
"""

from django.dispatch import Signal

# Sent when the memberships at ``unit_ids`` may have changed (a member joined, left, came
# back, moved or was merged away, or an import wrote them), after the units' counts.
memberships_changed = Signal()
