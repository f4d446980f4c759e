"""Handing background work to the broker without letting a request wait on it.

A report or an import is a row first (status "queued"); its task is sent once the request's
transaction commits.  When Redis cannot be reached the request still answers at once (short
broker timeouts in settings), the row stays waiting with no ``dispatched_at``, and the beat
task ``welfare.tasks.requeue_waiting`` sends it again when the broker is back.  A row sent
long ago and still not started (a broker restarted empty, a worker lost) is sent again too:
every such task is idempotent.
"""

from __future__ import annotations

import datetime
import logging

from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# How long a row may wait undispatched, and dispatched but not started, before it is sent again.
UNSENT_AFTER = datetime.timedelta(minutes=1)
NOT_STARTED_AFTER = datetime.timedelta(minutes=30)


def send(task, model: type[models.Model], pk: int) -> bool:
    """``task.delay(pk)`` now; the row's ``dispatched_at`` says it was handed over.  False
    (logged) when the broker cannot be reached."""
    try:
        task.delay(pk)
    except Exception:  # kombu's OperationalError, a refused socket, a timeout
        logger.warning("broker unreachable: %s %s waits for the next sweep", model.__name__, pk)
        return False
    model._default_manager.filter(pk=pk).update(dispatched_at=timezone.now())
    return True


def dispatch_on_commit(task, model: type[models.Model], pk: int) -> None:
    def send_when_committed() -> None:  # named: Django logs a failing hook by its name
        send(task, model, pk)

    transaction.on_commit(send_when_committed)


def requeue(task, rows: models.QuerySet, now: datetime.datetime | None = None) -> int:
    """Send again the ``rows`` (waiting to start) never handed over, or handed over long ago;
    how many were sent."""
    now = now or timezone.now()
    stale = rows.filter(
        models.Q(dispatched_at__isnull=True, created_at__lt=now - UNSENT_AFTER)
        | models.Q(dispatched_at__lt=now - NOT_STARTED_AFTER)
    )
    sent = 0
    for pk in stale.values_list("pk", flat=True):
        if not send(task, rows.model, pk):
            break  # the broker is still down: the next sweep tries again
        sent += 1
    return sent
