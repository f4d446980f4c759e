"""Programs and their batches: every write is one service taking the acting user (``by``).

A batch goes up the chain of ``welfare.cases.rules`` as a case does (the same rules decide each
step); approving it reserves its total once, under the fund's lock, after checking the
program's remaining budget and the fund's available money; each person left in it becomes a
support record of their own (a ``Case``), written in bulk.  Paying it posts one ledger entry
for the batch and returns the reserve of the people who were not paid.  Every step works on the
batch's lines as a set: the number of queries does not grow with the number of people.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models import Case as DbCase
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from common.bulk import insert_select, update_each
from common.money import format_dong
from members.models import Dependant, Member, MemberKind, MemberStatus
from unions.models import PATH_SEPARATOR, Unit, UnitKind
from unions.scope import ActingUser, Capability, authorize_write, can, require_actor
from welfare.cases import rules
from welfare.cases.approvals import FOR_A_CHILD, check_fund_usable, next_level
from welfare.cases.models import Case, CaseEvent, CaseStatus, SupportType
from welfare.funds.ledger import AlreadyRecorded, EntrySet, lock_fund
from welfare.funds.models import EntryKind, Fund
from welfare.reports import tallies

from .models import (
    Applies,
    Batch,
    BatchEvent,
    BatchLine,
    Level,
    LineStatus,
    Participant,
    Program,
    Unpaid,
)

Action = CaseEvent.Action
# The support records of a program that hold money: reserved or paid.
COMMITTED = (CaseStatus.APPROVED, CaseStatus.PAID)
BULK = 2000


# --- reads ---------------------------------------------------------------------------------


def get_program_for_user(user: ActingUser, pk: int | str) -> Program:
    return get_object_or_404(
        Program.objects.visible_to(user).select_related("unit", "fund__unit"), pk=pk
    )


def get_batch_for_user(user: ActingUser, pk: int | str) -> Batch:
    return get_object_or_404(
        Batch.objects.visible_to(user).select_related(
            "program", "unit", "fund__unit", "current_unit", "participant", "created_by"
        ),
        pk=pk,
    )


def committed(program: Program) -> int:
    """What the program's support records hold: approved and not yet paid, or paid, added up
    from the records (``Program.committed`` keeps the same figure as they change)."""
    total = Case.objects.filter(program=program, status__in=COMMITTED).aggregate(
        total=Coalesce(Sum("approved_amount"), 0)
    )["total"]
    return int(total)


def kept_figures(program: Program) -> tuple[int, int, int]:
    """``Program.committed``, ``paid`` and ``records`` added up from its batches and records,
    as approving and paying keep them."""
    batches = Batch.objects.filter(program=program).aggregate(
        paid=Coalesce(Sum("paid_amount", filter=Q(status=CaseStatus.PAID)), 0),
        records=Coalesce(Sum("records"), 0),
    )
    return committed(program), int(batches["paid"]), int(batches["records"])


@dataclass
class Standard:
    label: str
    amount: int


def standard_amount(levels: list[Level], *, kind: str, poor: bool, policy: bool) -> Standard | None:
    """The highest of the program's standard amounts that fits the person, None without one."""
    fits = {
        Applies.EVERYONE: True,
        Applies.MEMBER: kind == MemberKind.MEMBER,
        Applies.WORKER: kind == MemberKind.WORKER,
        Applies.POOR: poor,
        Applies.POLICY: policy,
    }
    best = max(
        (lv for lv in levels if fits.get(Applies(lv.applies_to))),
        key=lambda lv: lv.amount,
        default=None,
    )
    return Standard(best.label, best.amount) if best else None


@dataclass
class Earlier:
    """Support of the program's type this year that a person of the batch already has."""

    member_id: int
    name: str
    case_id: int
    on: datetime.date
    level: str
    program: str
    amount: int
    status: str


def earlier_support(batch: Batch) -> dict[int, list[Earlier]]:
    """Who in the batch already received (or was approved, or is proposed for) support of the
    program's type this year, from any program or case in the province: one query for the whole
    batch.  A national ID belongs to one person's record only (it is unique), so the person's
    record finds all their support."""
    program = batch.program
    year_start = datetime.date(program.year, 1, 1)
    lines = BatchLine.objects.filter(batch=batch).exclude(status=LineStatus.TAKEN_OUT)
    found = (
        _earlier(batch)
        .filter(member_id__in=lines.values("member_id"))
        .exclude(batch=batch)
        .values_list(
            "member_id",
            "member__full_name",
            "pk",
            "paid_on",
            "approved_on",
            "submitted_at",
            "unit__kind",
            "program__name",
            "approved_amount",
            "requested_amount",
            "status",
        )
        .order_by("pk")
    )
    kinds = dict(UnitKind.choices)
    by_member: dict[int, list[Earlier]] = defaultdict(list)
    for (
        member_id,
        person,
        pk,
        paid,
        approved,
        submitted,
        kind,
        name,
        amount,
        asked,
        status,
    ) in found:
        if member_id is None:
            continue
        on = paid or approved or (submitted.date() if submitted else year_start)
        by_member[member_id].append(
            Earlier(
                member_id=member_id,
                name=person,
                case_id=pk,
                on=on,
                level=str(kinds.get(kind, kind)),
                program=name or "",
                amount=amount or asked,
                status=status,
            )
        )
    return dict(by_member)


def _earlier(batch: Batch) -> QuerySet[Case]:
    """The support that counts as earlier for a batch's people: of the program's type, this
    year, proposed, approved or paid, anywhere in the batch's province."""
    program = batch.program
    province = batch.unit.path.split(PATH_SEPARATOR)[0] + PATH_SEPARATOR
    on_date = Q(approved_on__year=program.year) | Q(
        approved_on__isnull=True, submitted_at__year=program.year
    )
    return Case.objects.filter(
        on_date,
        support_type=program.support_type,
        status__in=[CaseStatus.SUBMITTED, *COMMITTED],
        unit__path__startswith=province,
    )


def earlier_support_counts(batches: Sequence[Batch]) -> dict[int, int]:
    """How many people of each batch ``earlier_support`` finds, for the batches of one
    program (one province, one year and type) in one query."""
    if not batches:
        return {}
    earlier = (
        _earlier(batches[0])
        .filter(member_id=OuterRef("member_id"))
        .exclude(batch_id=OuterRef("batch_id"))
    )
    rows = (
        BatchLine.objects.filter(batch__in=batches)
        .exclude(status=LineStatus.TAKEN_OUT)
        .filter(Exists(earlier))
        .order_by()
        .values("batch_id")
        .annotate(people=Count("member_id", distinct=True))
        .values_list("batch_id", "people")
    )
    return dict(rows)


# --- programs ------------------------------------------------------------------------------


def _check_runs_programs(by: ActingUser, unit: Unit) -> None:
    """Programs are run by the people who open and review support at a union."""
    authorize_write(by, Capability.OPEN_CASES, unit)


def _check_fund(fund: Fund, unit: Unit) -> None:
    try:
        check_fund_usable(fund, unit)
    except ValidationError as error:
        raise ValidationError(
            {"fund": _("Choose a fund of the program's union or of a union above it.")}
        ) from error


@transaction.atomic
def create_program(
    *,
    unit: Unit,
    name: str,
    support_type: str,
    fund: Fund,
    year: int,
    budget: int,
    by: ActingUser,
    category: str = "other",
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    levels: Sequence[tuple[str, str, int]] = (),
) -> Program:
    """A program of ``unit`` on ``fund``, with its standard amounts (label, for whom, amount)."""
    _check_runs_programs(by, unit)
    _check_fund(fund, unit)
    if budget is None or budget <= 0:
        raise ValidationError({"budget": _("The budget must be positive.")})
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The period cannot end before it starts.")})
    program = Program.objects.create(
        unit=unit,
        name=name,
        support_type=support_type,
        category=category,
        fund=fund,
        year=year,
        starts_on=starts_on,
        ends_on=ends_on,
        budget=budget,
        created_by=require_actor(by),
    )
    if any(amount is None or amount <= 0 for _label, _for, amount in levels):
        raise ValidationError({"levels": _("A standard amount must be positive.")})
    Level.objects.bulk_create(
        Level(program=program, label=label, applies_to=applies_to, amount=amount)
        for label, applies_to, amount in levels
    )
    return program


@transaction.atomic
def add_participant(
    *,
    program: Program,
    unit: Unit,
    by: ActingUser,
    quota_people: int | None = None,
    quota_amount: int | None = None,
) -> Participant:
    """A unit of the program's union's subtree takes part, with its quota."""
    _check_runs_programs(by, program.unit)
    if not unit.path.startswith(program.unit.path):
        raise ValidationError({"unit": _("Choose a unit under the program's union.")})
    if Participant.objects.filter(program=program, unit=unit).exists():
        raise ValidationError({"unit": _("This unit already takes part in the program.")})
    return Participant.objects.create(
        program=program, unit=unit, quota_people=quota_people, quota_amount=quota_amount
    )


def _next_year_name(name: str, old: int, new: int) -> str:
    return name.replace(str(old), str(new)) if str(old) in name else f"{name} {new}"


@transaction.atomic
def copy_program(
    *, program: Program, year: int, by: ActingUser, budget: int | None = None
) -> Program:
    """Open next year's program from this one: its levels and participants with their quotas,
    none of its batches."""
    _check_runs_programs(by, program.unit)
    shift = year - program.year

    def moved(day: datetime.date | None) -> datetime.date | None:
        if day is None:
            return None
        try:
            return day.replace(year=day.year + shift)
        except ValueError:  # 29 February
            return day.replace(year=day.year + shift, day=28)

    copy = create_program(
        unit=program.unit,
        name=_next_year_name(program.name, program.year, year),
        support_type=program.support_type,
        category=program.category,
        fund=program.fund,
        year=year,
        budget=budget or program.budget,
        starts_on=moved(program.starts_on),
        ends_on=moved(program.ends_on),
        levels=[(lv.label, lv.applies_to, lv.amount) for lv in program.levels.all()],
        by=by,
    )
    copy.copied_from = program
    copy.save(update_fields=["copied_from"])
    Participant.objects.bulk_create(
        Participant(
            program=copy,
            unit_id=p.unit_id,
            quota_people=p.quota_people,
            quota_amount=p.quota_amount,
        )
        for p in program.participants.all()
    )
    return copy


# --- building a batch ----------------------------------------------------------------------


@transaction.atomic
def start_batch(*, participant: Participant, by: ActingUser) -> Batch:
    """The participating unit's batch, opened by someone who opens cases there."""
    participant = Participant.objects.select_related("unit", "program").get(pk=participant.pk)
    authorize_write(by, Capability.OPEN_CASES, participant.unit)
    existing = Batch.objects.filter(participant=participant).order_by("pk").first()
    if existing is not None:
        return existing
    batch = Batch.objects.create(
        participant=participant,
        program=participant.program,
        unit=participant.unit,
        fund_id=participant.program.fund_id,
        created_by=require_actor(by),
    )
    _record(batch, Action.CREATED, batch.unit_id, by)
    return batch


def _lock(batch: Batch, by: ActingUser) -> Batch:
    """The batch locked for a step; 404 for a batch outside the user's scope, as the views."""
    locked = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("program", "unit", "fund__unit", "current_unit", "participant")
        .get(pk=batch.pk)
    )
    authorize_write(by, Capability.VIEW, locked.unit)
    return locked


def _record(
    batch: Batch, action: str, unit: Unit | int, by: ActingUser, amount=None, comment: str = ""
) -> None:
    BatchEvent.objects.create(
        batch=batch,
        action=action,
        unit_id=getattr(unit, "pk", unit),
        actor=require_actor(by),
        amount=amount,
        comment=comment,
    )


def batch_total(batch: Batch) -> tuple[int, int]:
    """People listed (not taken out) and their amount."""
    row = (
        BatchLine.objects.filter(batch=batch)
        .exclude(status=LineStatus.TAKEN_OUT)
        .aggregate(people=Count("pk"), amount=Coalesce(Sum("amount"), 0))
    )
    return int(row["people"]), int(row["amount"])


def candidates(batch: Batch) -> QuerySet[Member]:
    """The people a batch may list: active, in the batch's unit's subtree, not listed yet, and
    not restricting the processing of their data (members/privacy.py)."""
    return Member.objects.filter(
        unit__path__startswith=batch.unit.path,
        status=MemberStatus.ACTIVE,
        processing_restricted=False,
    ).exclude(pk__in=BatchLine.objects.filter(batch=batch).values("member_id"))


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def children_listed(program: Program, member_ids) -> dict[int, list[int]]:
    """For a savings book or scholarship program, the children each member's lines are for:
    dependants under 18 in the program's year, and for a scholarship of school age (6 to 18)
    at some time in it."""
    born_after = datetime.date(program.year - 18, 1, 1)
    born_by = datetime.date(
        program.year - 6 if program.support_type == SupportType.SCHOLARSHIP else program.year,
        12,
        31,
    )
    children: dict[int, list[int]] = defaultdict(list)
    for member_id, pk in (
        Dependant.objects.filter(
            member_id__in=member_ids,
            date_of_birth__gte=born_after,
            date_of_birth__lte=born_by,
        )
        .order_by("member_id", "date_of_birth", "pk")
        .values_list("member_id", "pk")
    ):
        children[member_id].append(pk)
    return dict(children)


def eligible(levels: Sequence[Level]) -> Q:
    """Who a program's standard amounts are for (a person fitting none of them has none)."""
    condition = Q(pk__in=[])
    for level in levels:
        if level.applies_to == Applies.EVERYONE:
            return Q()
        condition |= FITS[Applies(level.applies_to)]
    return condition


FITS = {
    Applies.MEMBER: Q(kind=MemberKind.MEMBER),
    Applies.WORKER: Q(kind=MemberKind.WORKER),
    Applies.POOR: Q(poor_household=True),
    Applies.POLICY: Q(policy_family=True),
}


def standard_expressions(levels: Sequence[Level]) -> tuple[DbCase, DbCase]:
    """``standard_amount`` as SQL over a person's row: the amount and the label of the highest
    level that fits (the earliest of equal ones), NULL without one."""
    ordered = sorted(levels, key=lambda lv: (-lv.amount, lv.pk or 0))

    def fits(level: Level) -> Q:
        if level.applies_to == Applies.EVERYONE:
            return Q(pk__isnull=False)
        return FITS[Applies(level.applies_to)]

    amount = DbCase(
        *(When(fits(lv), then=Value(lv.amount)) for lv in ordered),
        default=None,
        output_field=BigIntegerField(),
    )
    label = DbCase(
        *(When(fits(lv), then=Value(lv.label)) for lv in ordered),
        default=Value(""),
        output_field=CharField(),
    )
    return amount, label


@transaction.atomic
def add_people(
    *,
    batch: Batch,
    members: QuerySet[Member],
    by: ActingUser,
    amount: int | None = None,
    amounts: dict[int, int] | None = None,
) -> int:
    """List the people of ``members`` (those the batch may list) at ``amount``, at their own
    amount in ``amounts`` (member id -> đồng, an imported list's), or at the program's standard
    amount for each; returns how many lines were listed.  Without ``amounts`` the lines are
    written by one INSERT ... SELECT, however many people.  A savings book or scholarship
    program lists each member's children instead (``children_listed``), a line each."""
    batch = _lock(batch, by)
    rules.decide(by, batch, "edit").enforce()
    amounts = amounts or {}
    if (amount is not None and amount <= 0) or any(value <= 0 for value in amounts.values()):
        raise ValidationError({"amount": _("The amount must be positive.")})
    levels = list(batch.program.levels.all())
    chosen = members.filter(pk__in=candidates(batch).values("pk")).order_by(
        "unit__path", "search_name", "pk"
    )
    no_standard = ValidationError(
        {"amount": _("The program has no standard amount: give the amount per person.")}
    )
    amount_of: Combinable
    label_of: Combinable
    if amounts or batch.program.support_type in FOR_A_CHILD:
        added = _add_each(batch, chosen, levels, amount, amounts, no_standard)
    else:
        if amount is None:
            fits = eligible(levels)  # empty when a level is for everyone
            if fits and chosen.exclude(fits).exists():
                raise no_standard
            amount_of, label_of = standard_expressions(levels)
        else:
            amount_of, label_of = Value(amount), Value("")
        added = _insert_lines(batch, chosen, amount_of, label_of)
    if added:
        _record(
            batch,
            Action.EDITED,
            batch.unit_id,
            by,
            comment=_("%(n)s people added") % {"n": added},
        )
    return added


def _insert_lines(batch: Batch, chosen: QuerySet[Member], amount_of, label_of) -> int:
    """The batch's lines for the people ``chosen``, in one INSERT ... SELECT."""
    return insert_select(
        BatchLine,
        chosen,
        {
            "batch": batch.pk,
            "member": F("pk"),
            "unit": F("unit_id"),
            "level": label_of,
            "amount": amount_of,
        },
    )


class Built(NamedTuple):
    batch: Batch
    added: int


@transaction.atomic
def build_batches(
    *, participants: Sequence[Participant], by: ActingUser
) -> dict[int, Built | Refusal]:
    """Open each participating unit's batch if it is not yet, and list in it everyone of the
    unit's subtree whom the program's standard amounts are for and who is not listed yet
    (``add_people`` with the standard amounts), in a fixed number of queries per unit.  Per
    participant id: the batch, or why it was not built (nothing is written for it)."""
    actor = require_actor(by)
    outcomes: dict[int, Built | Refusal] = {}
    allowed = []
    for participant in participants:
        try:
            authorize_write(by, Capability.OPEN_CASES, participant.unit)
        except (Http404, PermissionDenied) as error:
            outcomes[participant.pk] = error
            continue
        allowed.append(participant)
    existing = dict(
        Batch.objects.filter(participant__in=allowed).values_list("participant_id", "pk")
    )
    opened = Batch.objects.bulk_create(
        Batch(
            participant=participant,
            program_id=participant.program_id,
            unit_id=participant.unit_id,
            fund_id=participant.program.fund_id,
            created_by=actor,
        )
        for participant in allowed
        if participant.pk not in existing
    )
    events = [
        BatchEvent(batch=batch, action=Action.CREATED, unit_id=batch.unit_id, actor=actor)
        for batch in opened
    ]
    existing.update({batch.participant_id: batch.pk for batch in opened})
    locked = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("program", "unit", "fund__unit", "current_unit", "participant")
        .filter(pk__in=existing.values())
    )
    levels: dict[int, list[Level]] = defaultdict(list)
    for level in Level.objects.filter(program__in={p.program_id for p in allowed}):
        levels[level.program_id].append(level)
    for batch in locked:
        decision = rules.decide(by, batch, "edit", steps=set())  # the edit rule reads no steps
        if not decision.allowed:
            outcomes[batch.participant_id] = (
                PermissionDenied(decision.reason)
                if decision.status == 403
                else ValidationError(decision.reason)
            )
            continue
        program_levels = levels[batch.program_id]
        amount_of, label_of = standard_expressions(program_levels)
        chosen = (
            candidates(batch)
            .filter(eligible(program_levels))
            .order_by("unit__path", "search_name", "pk")
        )
        if batch.program.support_type in FOR_A_CHILD:
            added = _add_each(batch, chosen, program_levels, None, {}, ValidationError(""))
        else:
            added = _insert_lines(batch, chosen, amount_of, label_of)
        if added:
            events.append(
                BatchEvent(
                    batch=batch,
                    action=Action.EDITED,
                    unit_id=batch.unit_id,
                    actor=actor,
                    comment=_("%(n)s people added") % {"n": added},
                )
            )
        outcomes[batch.participant_id] = Built(batch, added)
    BatchEvent.objects.bulk_create(events)
    return outcomes


def _add_each(
    batch: Batch,
    chosen: QuerySet[Member],
    levels: list[Level],
    amount: int | None,
    amounts: dict[int, int],
    no_standard: ValidationError,
) -> int:
    """The lines of people with amounts of their own, or of their children, one by one."""
    rows = chosen.values_list("pk", "unit_id", "kind", "poor_household", "policy_family")
    lines: list[BatchLine] = []
    for_children = batch.program.support_type in FOR_A_CHILD
    for chunk in _chunks(rows.iterator(chunk_size=BULK), BULK):
        children = children_listed(batch.program, [row[0] for row in chunk]) if for_children else {}
        for pk, unit_id, kind, poor, policy in chunk:
            standard = standard_amount(levels, kind=kind, poor=poor, policy=policy)
            if pk in amounts:
                standard = Standard(standard.label if standard else "", amounts[pk])
            elif amount is not None:
                standard = Standard("", amount)
            elif standard is None:
                raise no_standard
            # One line for the member, or one for each of their children listed.
            beneficiaries: list[int | None] = [*children.get(pk, [])] if for_children else [None]
            lines.extend(
                BatchLine(
                    batch=batch,
                    member_id=pk,
                    dependant_id=child,
                    unit_id=unit_id,
                    level=standard.label,
                    amount=standard.amount,
                )
                for child in beneficiaries
            )
    BatchLine.objects.bulk_create(lines, batch_size=BULK)
    return len(lines)


@transaction.atomic
def change_lines(
    *, batch: Batch, by: ActingUser, amounts: dict[int, int], remove: set[int]
) -> None:
    """Change the amounts of some people and take others off a draft or returned batch."""
    batch = _lock(batch, by)
    rules.decide(by, batch, "edit").enforce()
    lines = BatchLine.objects.filter(batch=batch)
    if any(value is None or value <= 0 for value in amounts.values()):
        raise ValidationError(_("Every amount must be positive."))
    if remove:
        lines.filter(pk__in=remove).delete()
    by_amount: dict[int, list[int]] = defaultdict(list)
    for pk, value in amounts.items():
        if pk not in remove:
            by_amount[value].append(pk)
    for value, pks in by_amount.items():  # one UPDATE per distinct amount
        lines.filter(pk__in=pks).update(amount=value, level="")
    _record(batch, Action.EDITED, batch.unit_id, by)


# --- the chain -----------------------------------------------------------------------------


@transaction.atomic
def submit_batch(*, batch: Batch, by: ActingUser, comment: str = "") -> Batch:
    batch = _lock(batch, by)
    rules.decide(by, batch, "submit").enforce()
    people, amount = batch_total(batch)
    if not people:
        raise ValidationError(_("List at least one person before submitting."))
    participant = batch.participant
    if participant.quota_people is not None and people > participant.quota_people:
        raise ValidationError(
            _("The batch lists %(over)s people more than the unit's quota of %(quota)s.")
            % {"over": people - participant.quota_people, "quota": participant.quota_people}
        )
    if participant.quota_amount is not None and amount > participant.quota_amount:
        raise ValidationError(
            _("The batch is %(over)s over the unit's quota of %(quota)s.")
            % {
                "over": format_dong(amount - participant.quota_amount),
                "quota": format_dong(participant.quota_amount),
            }
        )
    batch.status = CaseStatus.SUBMITTED
    batch.submitted_at = timezone.now()
    batch.current_unit = next_level(batch, batch.unit)
    batch.save()
    _record(batch, Action.SUBMITTED, batch.unit_id, by, amount, comment)
    return batch


def _waiting_at(batch: Batch) -> Unit:
    assert batch.current_unit is not None  # rules.decide refuses unless submitted somewhere
    return batch.current_unit


@transaction.atomic
def endorse_batch(*, batch: Batch, by: ActingUser, comment: str = "") -> Batch:
    batch = _lock(batch, by)
    rules.decide(by, batch, "endorse").enforce()
    level = _waiting_at(batch)
    batch.current_unit = next_level(batch, level)
    batch.save(update_fields=["current_unit", "updated_at"])
    _record(batch, Action.ENDORSED, level, by, comment=comment)
    return batch


def _send_back(batch: Batch, by: ActingUser, comment: str, action: str) -> Batch:
    batch = _lock(batch, by)
    rules.decide(by, batch, "return" if action == Action.RETURNED else "reject").enforce()
    if not comment.strip():
        raise ValidationError({"comment": _("Give the reason.")})
    level = _waiting_at(batch)
    batch.status = CaseStatus.RETURNED if action == Action.RETURNED else CaseStatus.REJECTED
    batch.current_unit = None
    batch.save(update_fields=["status", "current_unit", "updated_at"])
    _record(batch, action, level, by, comment=comment)
    return batch


@transaction.atomic
def return_batch(*, batch: Batch, by: ActingUser, comment: str) -> Batch:
    return _send_back(batch, by, comment, Action.RETURNED)


@transaction.atomic
def reject_batch(*, batch: Batch, by: ActingUser, comment: str) -> Batch:
    return _send_back(batch, by, comment, Action.REJECTED)


@transaction.atomic
def approve_batch(
    *, batch: Batch, by: ActingUser, take_out: dict[int, str] | None = None, comment: str = ""
) -> Batch:
    """Approve the batch, less the people taken out (each with a reason): its total is
    reserved once on the fund, refused when it exceeds the program's remaining budget or the
    fund's available money; each person left becomes an approved support record."""
    outcome = approve_batches(
        batches=[batch], by=by, take_out={batch.pk: take_out or {}}, comment=comment
    )[batch.pk]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


Refusal = Http404 | PermissionDenied | ValidationError


@transaction.atomic
def approve_batches(
    *,
    batches: Sequence[Batch],
    by: ActingUser,
    take_out: dict[int, dict[int, str]] | None = None,
    comment: str = "",
) -> dict[int, Batch | Refusal]:
    """Approve each of the batches as ``approve_batch`` does one (``take_out``: batch id ->
    its people taken out), in a fixed number of queries however many batches and people:
    each batch is checked against what the budget and the fund have left once the batches
    before it are reserved, under the fund's lock.  Per batch id, the approved batch or why
    it was refused (nothing is written for a refused one)."""
    actor = require_actor(by)
    take_out = take_out or {}
    locked = list(
        Batch.objects.select_for_update(of=("self",))
        .select_related("program", "unit", "fund__unit", "current_unit", "participant")
        .filter(pk__in=[batch.pk for batch in batches])
        .order_by("pk")
    )
    outcomes: dict[int, Batch | Refusal] = {}
    steps = rules.steps_on(actor, locked)
    payable: dict[int, bool] = {}
    waiting = []
    for batch in locked:
        try:
            authorize_write(by, Capability.VIEW, batch.unit)
            if batch.fund_id not in payable:  # one question per fund, not per batch
                payable[batch.fund_id] = batch.fund.payable
            batch.fund.has_treasurer = payable[batch.fund_id]  # type: ignore[attr-defined]
            rules.decide(by, batch, "approve", steps[batch.pk]).enforce()
            if any(not reason.strip() for reason in take_out.get(batch.pk, {}).values()):
                raise ValidationError({"take_out": _("Give the reason for each person taken out.")})
        except (Http404, PermissionDenied, ValidationError) as error:
            outcomes[batch.pk] = error
            continue
        waiting.append(batch)
    if not waiting:
        return outcomes
    out = {pk for batch in waiting for pk in take_out.get(batch.pk, {})}
    listed = BatchLine.objects.filter(batch__in=waiting, status=LineStatus.LISTED).order_by()
    known = dict(listed.filter(pk__in=out).values_list("pk", "batch_id")) if out else {}
    kept = {
        batch_id: (int(total), people)
        for batch_id, total, people in listed.exclude(pk__in=out)
        .values("batch_id")
        .annotate(total=Sum("amount"), people=Count("pk"))
        .values_list("batch_id", "total", "people")
    }
    # Every batch and case of a fund waits here; several funds are locked in one order.
    funds = {pk: lock_fund(pk) for pk in sorted({batch.fund_id for batch in waiting})}
    programs = {batch.program_id for batch in waiting}
    held = dict(Program.objects.filter(pk__in=programs).values_list("pk", "committed"))
    added: dict[int, int] = defaultdict(int)
    recorded: dict[int, int] = defaultdict(int)  # program -> the records made
    approved = []
    for batch in waiting:
        refusal = _approval_refusal(
            batch,
            funds[batch.fund_id],
            kept.get(batch.pk, (0, 0))[0],
            held[batch.program_id] + added[batch.program_id],
            {pk for pk in take_out.get(batch.pk, {}) if known.get(pk) != batch.pk},
        )
        if refusal is not None:
            outcomes[batch.pk] = refusal
            continue
        total, people = kept[batch.pk]
        funds[batch.fund_id].reserved += total
        added[batch.program_id] += total
        recorded[batch.program_id] += people
        batch.approved_amount = total
        batch.records = people
        approved.append(batch)
    if not approved:
        return outcomes
    for fund in funds.values():
        fund.save(update_fields=["reserved"])
    for program_id, amount in added.items():
        Program.objects.filter(pk=program_id).update(
            committed=F("committed") + amount, records=F("records") + recorded[program_id]
        )
    for batch in approved:
        reasons: dict[str, list[int]] = defaultdict(list)
        for pk, reason in take_out.get(batch.pk, {}).items():
            reasons[reason.strip()].append(pk)
        for reason, pks in reasons.items():
            BatchLine.objects.filter(pk__in=pks).update(
                status=LineStatus.TAKEN_OUT, reason=reason[:255]
            )
    today = timezone.localdate()
    insert_select(
        Case,
        BatchLine.objects.filter(batch__in=approved, status=LineStatus.LISTED).order_by("pk"),
        {
            "unit": F("unit_id"),
            "member": F("member_id"),
            "dependant": F("dependant_id"),
            "category": F("batch__program__category"),
            "circumstances": F("batch__program__name"),
            "support_type": F("batch__program__support_type"),
            "requested_amount": F("amount"),
            "approved_amount": F("amount"),
            "fund": F("batch__fund_id"),
            "status": CaseStatus.APPROVED,
            "approved_on": today,
            "created_by": F("batch__created_by_id"),
            "submitted_at": F("batch__submitted_at"),
            "program": F("batch__program_id"),
            "batch": F("batch_id"),
            "batch_line": F("pk"),
        },
    )
    now = timezone.now()
    events = []
    for batch in approved:
        events.append(
            BatchEvent(
                batch=batch,
                action=Action.APPROVED,
                unit=_waiting_at(batch),
                actor=actor,
                amount=batch.approved_amount,
                comment=comment,
            )
        )
        batch.status = CaseStatus.APPROVED
        batch.approved_on = today
        batch.current_unit = None
        batch.updated_at = now
        outcomes[batch.pk] = batch
    update_each(
        approved,
        ["status", "approved_amount", "records", "approved_on", "current_unit", "updated_at"],
    )
    BatchEvent.objects.bulk_create(events)
    return outcomes


def _approval_refusal(
    batch: Batch, fund: Fund, total: int, committed_now: int, strangers: set[int]
) -> ValidationError | None:
    """Why the batch cannot be approved for ``total`` with what the program has committed
    and the fund has left, or None."""
    if strangers:
        return ValidationError({"take_out": _("Someone taken out is not in the batch.")})
    if total == 0:
        return ValidationError(_("Nobody is left in the batch: reject it instead."))
    remaining = batch.program.budget - committed_now
    if total > remaining:
        return ValidationError(
            _(
                "The batch (%(total)s) exceeds the program's remaining budget (%(remaining)s) "
                "by %(over)s."
            )
            % {
                "total": format_dong(total),
                "remaining": format_dong(max(remaining, 0)),
                "over": format_dong(total - max(remaining, 0)),
            }
        )
    if total > fund.available:
        return ValidationError(
            _("%(fund)s cannot cover the batch (%(total)s): it is %(over)s short.")
            % {
                "fund": fund.name,
                "total": format_dong(total),
                "over": format_dong(total - fund.available),
            }
        )
    return None


@transaction.atomic
def record_batch_payment(
    *,
    batch: Batch,
    by: ActingUser,
    paid_on: datetime.date,
    receipt_reference: str,
    unpaid: dict[int, str] | None = None,
    submission: str = "",
) -> Batch:
    """The treasurer of the fund's union pays the approved batch: every person, or all but the
    named exceptions, whose reserve goes back to the fund.  One ledger entry for the batch; the
    same form sent twice records nothing more (``ledger.AlreadyRecorded``)."""
    outcome = record_batches_paid(
        batches=[batch],
        by=by,
        paid_on=paid_on,
        receipt_reference=receipt_reference,
        unpaid={batch.pk: unpaid or {}},
        submissions={batch.pk: submission},
    )[batch.pk]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


@transaction.atomic
def record_batches_paid(
    *,
    batches: Sequence[Batch],
    by: ActingUser,
    paid_on: datetime.date,
    receipt_reference: str,
    unpaid: dict[int, dict[int, str]] | None = None,
    submissions: dict[int, str] | None = None,
) -> dict[int, Batch | Refusal]:
    """Record each of the batches paid as ``record_batch_payment`` does one (``unpaid``:
    batch id -> its exceptions), with one ledger entry per batch and the per-person rows
    written as sets: a fixed number of queries per batch.  Per batch id, the paid batch or
    why not (``AlreadyRecorded`` for one paid before); nothing is written for a refused one."""
    actor = require_actor(by)
    unpaid = unpaid or {}
    submissions = submissions or {}
    locked = list(
        Batch.objects.select_for_update(of=("self",))
        .select_related("program", "unit", "fund__unit", "current_unit", "participant")
        .filter(pk__in=[batch.pk for batch in batches])
        .order_by("pk")
    )
    steps = rules.steps_on(actor, locked)
    outcomes: dict[int, Batch | Refusal] = {}
    payable = []
    for batch in locked:
        named = unpaid.get(batch.pk, {})
        try:
            authorize_write(by, Capability.VIEW, batch.unit)
            if batch.status == CaseStatus.PAID:
                authorize_write(by, Capability.PAY, batch.fund.unit, here=True)
                raise AlreadyRecorded
            rules.decide(by, batch, "pay", steps[batch.pk]).enforce()
            if any(reason not in Unpaid.values for reason in named.values()):
                raise ValidationError({"unpaid": _("Choose why each exception was not paid.")})
            if paid_on > timezone.localdate():
                raise ValidationError({"paid_on": _("The payment date cannot be in the future.")})
            if batch.approved_on and paid_on < batch.approved_on:
                raise ValidationError(
                    {"paid_on": _("The payment date cannot be before the approval.")}
                )
        except (Http404, PermissionDenied, ValidationError) as error:
            outcomes[batch.pk] = error
            continue
        payable.append(batch)
    if not payable:
        return outcomes
    listed = BatchLine.objects.filter(batch__in=payable, status=LineStatus.LISTED).order_by()
    people = dict(listed.values("batch_id").annotate(n=Count("pk")).values_list("batch_id", "n"))
    named_lines = {pk for batch in payable for pk in unpaid.get(batch.pk, {})}
    exceptions = (
        {
            pk: (batch_id, amount)
            for pk, batch_id, amount in listed.filter(pk__in=named_lines).values_list(
                "pk", "batch_id", "amount"
            )
        }
        if named_lines
        else {}
    )
    funds = {pk: lock_fund(pk) for pk in sorted({batch.fund_id for batch in payable})}
    # One entry a batch, checked one by one and written together.
    entries = EntrySet(list(funds.values()), [submissions.get(b.pk, "") for b in payable])
    released: dict[int, int] = defaultdict(int)  # program -> what its people not paid held
    paid_out: dict[int, int] = defaultdict(int)  # program -> what was paid
    unpaid_records: dict[int, int] = defaultdict(int)  # program -> its people not paid
    paid_batches = []
    for batch in payable:
        named = unpaid.get(batch.pk, {})
        if any(exceptions.get(pk, (None, 0))[0] != batch.pk for pk in named):
            outcomes[batch.pk] = ValidationError(
                {"unpaid": _("Someone named as not paid is not in the batch.")}
            )
            continue
        approved = batch.approved_amount or 0
        paid = approved - sum(exceptions[pk][1] for pk in named)
        fund = funds[batch.fund_id]
        fund.reserved -= approved
        entry = None
        if paid:
            try:
                entry = entries.add(
                    fund=fund,
                    kind=EntryKind.DISBURSEMENT,
                    amount=-paid,
                    occurred_on=paid_on,
                    description=(
                        _("%(program)s — %(unit)s: %(people)s people")
                        % {
                            "program": batch.program.name,
                            "unit": batch.unit.name,
                            "people": people.get(batch.pk, 0) - len(named),
                        }
                    )[:255],
                    source=receipt_reference[:255],
                    by=actor,
                    submission=submissions.get(batch.pk, ""),
                )
            except ValidationError as error:  # AlreadyRecorded too: nothing was posted
                fund.reserved += approved
                outcomes[batch.pk] = error
                continue
        released[batch.program_id] += approved - paid
        paid_out[batch.program_id] += paid
        unpaid_records[batch.program_id] += len(named)
        batch.paid_amount = paid
        batch.records -= len(named)
        batch.payment_entry = entry
        paid_batches.append(batch)
    entries.write()
    for fund in funds.values():
        fund.save(update_fields=["reserved"])
    if not paid_batches:
        return outcomes
    for program_id, amount in released.items():
        # The people not paid no longer hold the program's money, nor count as its records.
        Program.objects.filter(pk=program_id).update(
            committed=F("committed") - amount,
            paid=F("paid") + paid_out[program_id],
            records=F("records") - unpaid_records[program_id],
        )
    _record_exceptions(paid_batches, unpaid, actor)
    BatchLine.objects.filter(batch__in=paid_batches, status=LineStatus.LISTED).update(
        status=LineStatus.PAID
    )  # the listed lines left
    now = timezone.now()
    paying = Case.objects.filter(batch__in=paid_batches, status=CaseStatus.APPROVED)
    paid_ids = list(paying.values_list("pk", flat=True))
    paying.update(status=CaseStatus.PAID, paid_on=paid_on, updated_at=now)
    tallies.count_paid(paid_ids)
    events = []
    for batch in paid_batches:
        batch.status = CaseStatus.PAID
        batch.paid_on = paid_on
        batch.receipt_reference = receipt_reference
        batch.updated_at = now
        events.append(
            BatchEvent(
                batch=batch,
                action=Action.PAID,
                unit_id=batch.fund.unit_id,
                actor=actor,
                amount=batch.paid_amount,
                comment=receipt_reference,
            )
        )
        outcomes[batch.pk] = batch
    update_each(
        paid_batches,
        [
            "status",
            "paid_on",
            "paid_amount",
            "records",
            "receipt_reference",
            "payment_entry",
            "updated_at",
        ],
    )
    BatchEvent.objects.bulk_create(events)
    return outcomes


def _record_exceptions(batches: list[Batch], unpaid: dict[int, dict[int, str]], actor) -> None:
    """The people named as not paid: their lines say why, their records are closed unpaid
    with the reason on their timeline."""
    named = {pk: reason for batch in batches for pk, reason in unpaid.get(batch.pk, {}).items()}
    if not named:
        return
    by_reason: dict[str, list[int]] = defaultdict(list)
    for pk, reason in named.items():
        by_reason[reason].append(pk)
    for reason, pks in by_reason.items():
        BatchLine.objects.filter(pk__in=pks).update(status=LineStatus.NOT_PAID, exception=reason)
    not_paid = Case.objects.filter(batch_line_id__in=list(named))
    labels = dict(Unpaid.choices)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=pk,
            action=Action.REJECTED,
            unit_id=unit_id,
            actor=actor,
            comment=str(labels[named[line_id]]),
        )
        for pk, line_id, unit_id in not_paid.values_list("pk", "batch_line_id", "fund__unit_id")
    )
    not_paid.update(status=CaseStatus.REJECTED, updated_at=timezone.now())


def may_build(user: ActingUser, participant: Participant) -> bool:
    """Whether the user builds the participating unit's batch."""
    return can(user, Capability.OPEN_CASES, participant.unit)
