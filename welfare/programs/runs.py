"""Program-wide runs: one step of the money path taken over every participating unit at once,
in the background, with its progress (``ProgramRun``).

A run only calls the batch services (``services``), unit by unit and as its requester, so it
holds every rule they hold: a province officer's run reaches the units in their scope and no
other, an approval is refused under the fund's lock when it would exceed the budget or the
fund, a batch is paid once.  A unit a service refuses is noted with the service's reason
(``RunIssue``) and the run goes on with the next.

Each unit is one short transaction that also moves the run's resume point (``after_id``), under
the run's row lock: a worker killed half-way leaves every unit either done and counted or not
touched, and the task sent again resumes after the last unit done.  The queries per unit are
fixed (tests/welfare/test_program_runs.py counts them); the people of a unit are read and
written as sets.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from common.dispatch import dispatch_on_commit
from unions.scope import (
    ActingUser,
    Capability,
    holds_at,
    require_actor,
    scope_paths,
    scope_q,
    visible_unit_ids,
)
from welfare.cases.models import CaseStatus
from welfare.funds.ledger import AlreadyRecorded

from . import services
from .models import Batch, BatchLine, LineStatus, Participant, Program, ProgramRun, RunIssue

Kind = ProgramRun.Kind


# --- who may run what ------------------------------------------------------------------------


def may_run(user: ActingUser, program: Program, kind: str) -> bool:
    """Whether the program page offers the step to this user, for a program they see:
    building to whoever opens cases at its union or below, checking to everyone, approving to
    the reviewers of the fund's union, paying to its treasurers.  Read from the user's grants,
    with no query; each unit's service decides again."""
    if kind == Kind.BUILD:
        union = program.unit.path
        return any(
            path.startswith(union) or union.startswith(path)
            for path in scope_paths(user, Capability.OPEN_CASES)
        )
    if kind == Kind.CHECK:
        return True  # the program was found in the user's scope
    if kind == Kind.APPROVE:
        return holds_at(user, Capability.REVIEW_CASES, program.fund.unit_id)
    if kind == Kind.PAY:
        return holds_at(user, Capability.PAY, program.fund.unit_id)
    return False


def participants_in_scope(
    user: ActingUser, program: Program, capability: Capability = Capability.VIEW
) -> QuerySet[Participant]:
    return Participant.objects.filter(program=program).filter(
        scope_q(user, "unit__path", capability)
    )


def selection(run: ProgramRun, user: ActingUser) -> QuerySet[Participant]:
    """The participants the run works on, in the requester's scope: each run counts and
    touches only these."""
    program = run.program
    if run.kind == Kind.BUILD:
        return participants_in_scope(user, program, Capability.OPEN_CASES)
    units = visible_unit_ids(user)
    batches = Batch.objects.filter(program=program, unit_id__in=units)
    if run.kind == Kind.CHECK:
        batches = batches.exclude(status__in=[CaseStatus.REJECTED, CaseStatus.PAID])
    elif run.kind == Kind.APPROVE:
        # Waiting at the fund's union: the approver's level.
        batches = batches.filter(status=CaseStatus.SUBMITTED, current_unit_id=program.fund.unit_id)
    else:
        batches = batches.filter(status=CaseStatus.APPROVED)
    return Participant.objects.filter(pk__in=batches.values("participant_id"))


def get_run_for_user(user: ActingUser, pk: int | str) -> ProgramRun:
    return get_object_or_404(
        ProgramRun.objects.visible_to(user).select_related("program", "requested_by"), pk=pk
    )


def active_run(program: Program) -> ProgramRun | None:
    return ProgramRun.objects.filter(program=program, status__in=ProgramRun.ACTIVE).first()


# --- asking for a run ------------------------------------------------------------------------


def start_run(
    *,
    program: Program,
    kind: str,
    by: ActingUser,
    paid_on: datetime.date | None = None,
    receipt_reference: str = "",
) -> ProgramRun:
    """Queue a step over the program's units in the requester's scope.  One step runs at a
    time over a program: asking while one runs returns that one."""
    actor = require_actor(by)
    if not Program.objects.visible_to(actor).filter(pk=program.pk).exists():
        raise Http404
    if kind not in Kind.values or not may_run(actor, program, kind):
        raise PermissionDenied
    if kind == Kind.BUILD and not program.levels.exists():
        raise ValidationError(
            _("The program has no standard amount: its units' batches are built by hand.")
        )
    if kind == Kind.PAY:
        if paid_on is None or paid_on > timezone.localdate():
            raise ValidationError({"paid_on": _("The payment date cannot be in the future.")})
        if not receipt_reference.strip():
            raise ValidationError({"receipt_reference": _("Give the receipt reference.")})
    running = active_run(program)
    if running is not None:
        return running
    run = ProgramRun(
        program=program,
        kind=kind,
        requested_by=actor,
        paid_on=paid_on if kind == Kind.PAY else None,
        receipt_reference=receipt_reference.strip()[:64],
    )
    run.units_total = selection(run, actor).count()
    if not run.units_total:
        raise ValidationError(_("No unit in your scope has a batch for this step."))
    try:
        with transaction.atomic():
            run.save()
            _queue(run.pk)
    except IntegrityError:  # another request started a run at the same moment
        running = active_run(program)
        if running is None:
            raise
        return running
    return run


def _queue(run_id: int) -> None:
    from welfare.tasks import run_program_step

    dispatch_on_commit(run_program_step, ProgramRun, run_id)


# --- each unit's step ------------------------------------------------------------------------


@dataclass
class Outcome:
    # The batch the step changed (its people are counted with the chunk's), if it did.
    changed: Batch | None = None
    # People flagged by the check, and the note kept for their unit.
    people: int = 0
    note: str = ""


Outcomes = dict[int, "Outcome | services.Refusal"]  # participant id -> what the step did


def _build(run: ProgramRun, participants: list[Participant], by) -> Outcomes:
    built = services.build_batches(participants=participants, by=by)
    return {
        pk: result
        if isinstance(result, Exception)
        else Outcome(result.batch if result.added else None)
        for pk, result in built.items()
    }


def _check(run: ProgramRun, participants: list[Participant], by) -> Outcomes:
    flagged = services.earlier_support_counts([p.batch for p in participants])
    outcomes: Outcomes = {}
    for participant in participants:
        people = flagged.get(participant.batch.pk, 0)
        outcomes[participant.pk] = (
            Outcome(
                people=people,
                note=_(
                    "%(n)s people of the batch already have support of the program's type "
                    "this year."
                )
                % {"n": people},
            )
            if people
            else Outcome()
        )
    return outcomes


def _approve(run: ProgramRun, participants: list[Participant], by) -> Outcomes:
    by_batch = {participant.batch.pk: participant.pk for participant in participants}
    approved = services.approve_batches(batches=[p.batch for p in participants], by=by)
    return {
        by_batch[pk]: result if isinstance(result, Exception) else Outcome(result)
        for pk, result in approved.items()
    }


def _pay(run: ProgramRun, participants: list[Participant], by) -> Outcomes:
    assert run.paid_on is not None
    by_batch = {participant.batch.pk: participant.pk for participant in participants}
    paid = services.record_batches_paid(
        batches=[p.batch for p in participants],
        by=by,
        paid_on=run.paid_on,
        receipt_reference=run.receipt_reference,
        # A worker killed after a chunk's commit resumes after it; within one, a batch's
        # entry is posted once whatever happens.
        submissions={pk: f"program-run-{run.pk}-{pk}" for pk in by_batch},
    )
    return {
        by_batch[pk]: (
            Outcome()  # paid meanwhile, by hand: nothing more is recorded
            if isinstance(result, AlreadyRecorded)
            else result
            if isinstance(result, Exception)
            else Outcome(result)
        )
        for pk, result in paid.items()
    }


STEPS: dict[str, Callable[[ProgramRun, list[Participant], object], Outcomes]] = {
    Kind.BUILD: _build,
    Kind.CHECK: _check,
    Kind.APPROVE: _approve,
    Kind.PAY: _pay,
}

# What a changed batch counts: its people listed (built, approved) or paid.
COUNTED = {
    Kind.BUILD: LineStatus.LISTED,
    Kind.APPROVE: LineStatus.LISTED,
    Kind.PAY: LineStatus.PAID,
}


# --- the background work ---------------------------------------------------------------------


# Units done in one transaction: the progress moves, and a killed worker resumes, per chunk.
CHUNK = 20


def run_program_run(run_id: int) -> None:
    """Work through the run's units after its resume point; safe to call again at any time
    (a finished run returns at once, a resumed one skips the units done)."""
    claimed = ProgramRun.objects.filter(pk=run_id, status__in=ProgramRun.ACTIVE).update(
        status=ProgramRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    run = ProgramRun.objects.select_related("program__fund", "requested_by").get(pk=run_id)
    by = run.requested_by
    try:
        ids = list(
            selection(run, by)
            .filter(pk__gt=run.after_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), CHUNK):
            _chunk(run.pk, ids[start : start + CHUNK])
    except Exception as error:
        ProgramRun.objects.filter(pk=run_id).update(
            status=ProgramRun.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ProgramRun.objects.filter(pk=run_id, status=ProgramRun.Status.RUNNING).update(
        status=ProgramRun.Status.DONE, finished_at=timezone.now()
    )
    _refresh_statistics(run_id)


# Rows written past which the tables' planner statistics are refreshed at the end of a run.
MANY_ROWS = 10_000


def _refresh_statistics(run_id: int) -> None:
    """A run over a city writes hundreds of thousands of rows in minutes: until autovacuum
    comes by, PostgreSQL plans the batch and program pages on the tables as they were (a
    batch page of 50 lines took 200 ms instead of 1), so the run analyses the lines it
    built, once it is done."""
    run = ProgramRun.objects.get(pk=run_id)
    if connection.vendor != "postgresql" or run.people < MANY_ROWS:
        return
    # Only the new lines: approving and paying change a tenth of the records and lines at
    # most, past which autovacuum analyses them itself, and analysing a city's 1.4 million
    # records in the step took 5-12 s.
    written = {Kind.BUILD: [BatchLine, Batch]}.get(Kind(run.kind), [])
    with connection.cursor() as cursor:
        for model in written:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@transaction.atomic
def _chunk(run_id: int, participant_ids: list[int]) -> None:
    """Some units, by the batch services (a refused unit has nothing written), and the run's
    counts and resume point, all committed together."""
    # The run's row lock: a second worker on the same run waits here, then finds the units
    # done and passes over them.
    run = (
        ProgramRun.objects.select_for_update(of=("self",))
        .select_related("program", "requested_by")
        .get(pk=run_id)
    )
    if run.status != ProgramRun.Status.RUNNING:
        return
    participants = list(
        Participant.objects.filter(pk__in=participant_ids, pk__gt=run.after_id)
        .select_related("unit", "program__fund", "batch__program", "batch__unit")
        .order_by("pk")
    )
    if not participants:
        return
    outcomes = STEPS[run.kind](run, participants, run.requested_by)
    issues: list[RunIssue] = []
    changed: list[int] = []
    for participant in participants:
        outcome = outcomes.get(participant.pk, Outcome())
        batch = getattr(participant, "batch", None)
        run.after_id = participant.pk
        if isinstance(outcome, Http404):  # out of the requester's scope: not counted
            continue
        run.units_done += 1
        if isinstance(outcome, (PermissionDenied, ValidationError)):
            reason = (
                " ".join(outcome.messages)
                if isinstance(outcome, ValidationError)
                else _("This unit's batch is not waiting for you to take this step.")
            )
            issues.append(RunIssue(run=run, unit=participant.unit, batch=batch, reason=reason))
            run.units_refused += 1
            continue
        if outcome.note:
            issues.append(
                RunIssue(
                    run=run,
                    unit=participant.unit,
                    batch=batch,
                    refused=False,
                    people=outcome.people,
                    reason=outcome.note,
                )
            )
        run.people += outcome.people
        if outcome.changed is not None:
            changed.append(outcome.changed.pk)
    if changed and run.kind in COUNTED:  # one query for the chunk's people and money
        row = BatchLine.objects.filter(
            batch_id__in=changed, status=COUNTED[Kind(run.kind)]
        ).aggregate(people=Count("pk"), amount=Coalesce(Sum("amount"), 0))
        run.people += row["people"]
        run.amount += row["amount"]
    RunIssue.objects.bulk_create(issues)
    run.save(update_fields=["units_done", "units_refused", "people", "amount", "after_id"])
