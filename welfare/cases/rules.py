"""Who may take which step on a case, and why not: each rule written once.

A rule answers with a ``Decision``.  The services enforce it (``Decision.enforce``), the case
page offers its buttons from it (``allowed_actions``) and the views answer from it: 403 for a
role that never takes the step on this case, back to the case with the reason otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeAlias

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from unions.scope import Capability, can, holds_at, units_held

from .models import Case, CaseEvent, CaseStatus

if TYPE_CHECKING:
    from welfare.programs.models import Batch

# What goes up the chain: a case, or a program's batch of people (welfare/programs/), which
# has a case's unit, fund, status, current level, author and events.
Reviewed: TypeAlias = "Case | Batch"

Action = CaseEvent.Action
# Decisions that count as "having acted" in a round.
DECISIONS = [Action.ENDORSED, Action.RETURNED, Action.REJECTED, Action.APPROVED, Action.PAID]
# Steps that make someone an author of the case: an author never decides on it.  Without the
# edits, a reviewer could return a case, raise its amount, resubmit and then approve it.
AUTHORING = [Action.CREATED, Action.EDITED, Action.SUBMITTED]
EDITABLE = (CaseStatus.DRAFT, CaseStatus.RETURNED)

CREATOR_ACTIONS = ("edit", "submit", "evidence")
REVIEW_ACTIONS = ("endorse", "return", "reject", "approve")


class Refusal(enum.Enum):
    """Why a step is refused, which decides how the refusal is told."""

    # The user's roles never take this step on this case: 403 / PermissionDenied.
    NEVER = "never"
    # A reviewer on the case's route, but the case waits at another level: the page says where;
    # the service, which acts at one level, answers PermissionDenied as for anyone without a
    # grant there.
    ANOTHER_LEVEL = "another_level"
    # The case's state or the user's own part in it: ValidationError with the reason.
    NOT_NOW = "not_now"
    # The payment was recorded before (a double click, a replayed form): nothing more is.
    ALREADY_PAID = "already_paid"
    # Approving would reserve money nobody can pay: the fund's union has no treasurer.  Told
    # as NOT_NOW, and the case page says it before the approver looks for the button.
    NO_TREASURER = "no_treasurer"


class AlreadyPaid(ValidationError):
    """The case was paid before (a double click or a replayed form): nothing was recorded."""


@dataclass(frozen=True)
class Decision:
    refusal: Refusal | None = None
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def status(self) -> int:
        """What a view answers: 200 to go on, 403, or 302 back to the case with the reason."""
        if self.refusal is None:
            return 200
        return 403 if self.refusal is Refusal.NEVER else 302

    def enforce(self) -> None:
        """Raise what the services raise for this refusal; nothing when allowed."""
        if self.refusal in (Refusal.NEVER, Refusal.ANOTHER_LEVEL):
            raise PermissionDenied(self.reason)
        if self.refusal is Refusal.ALREADY_PAID:
            raise AlreadyPaid(self.reason)
        if self.refusal in (Refusal.NOT_NOW, Refusal.NO_TREASURER):
            raise ValidationError(self.reason)


ALLOWED = Decision()
NEVER = Decision(Refusal.NEVER)


def _not_now(reason: str) -> Decision:
    return Decision(Refusal.NOT_NOW, reason)


def _say(standing: Standing, case_text: str, batch_text: str) -> str:
    """A refusal speaks of what it refuses: a case, or a program's batch."""
    return case_text if isinstance(standing.case, Case) else batch_text


def review_route(case: Reviewed) -> list[int]:
    """The unions that decide on the case, bottom up: those above its union up to the fund's
    owner (today's tree), or the union itself when the fund is its own."""
    path = case.unit.ancestor_ids()
    owner = case.fund.unit_id
    if owner == case.unit_id or owner not in path:
        return [owner]
    return path[path.index(owner) : -1][::-1]


class Standing:
    """A user's part in one case, read once however many rules ask (one query at most; none
    when the steps were read with others', ``steps_on``)."""

    def __init__(self, user, case: Reviewed, steps: set[str] | None = None):
        self.user, self.case = user, case
        if steps is not None:
            self.__dict__["_my_steps"] = steps

    @cached_property
    def _my_steps(self) -> set[str]:
        steps = self.case.events.filter(_mine(self.case), actor=self.user).values_list(
            "action", flat=True
        )
        return set(steps.distinct())

    @property
    def created(self) -> bool:
        return self.case.created_by_id == self.user.pk

    @property
    def edited(self) -> bool:
        """Created, edited or submitted the case: an author of it."""
        return bool(self._my_steps & set(AUTHORING))

    @property
    def acted_this_round(self) -> bool:
        return bool(self._my_steps & set(DECISIONS))

    def authored_or_acted(self) -> Decision | None:
        if self.created:
            return _not_now(
                _say(
                    self,
                    _("You created this case, so someone else must decide on it."),
                    _("You created this batch, so someone else must decide on it."),
                )
            )
        if self.edited:
            return _not_now(
                _say(
                    self,
                    _("You edited this case, so someone else must decide on it."),
                    _("You edited this batch, so someone else must decide on it."),
                )
            )
        if self.acted_this_round:
            return _not_now(
                _say(
                    self,
                    _("You have already acted on this case."),
                    _("You have already acted on this batch."),
                )
            )
        return None


# --- the creator's steps -----------------------------------------------------------------


def _opens_cases_here(standing: Standing) -> bool:
    return can(standing.user, Capability.OPEN_CASES, standing.case.unit)


def edit(standing: Standing) -> Decision:
    """Someone who opens cases at the case's union changes a draft or a returned case."""
    if not _opens_cases_here(standing):
        return NEVER
    if standing.case.status not in EDITABLE:
        return _not_now(
            _say(
                standing,
                _("Only a draft or a returned case can be changed."),
                _("Only a draft or a returned batch can be changed."),
            )
        )
    return ALLOWED


def submit(standing: Standing) -> Decision:
    if not _opens_cases_here(standing):
        return NEVER
    if standing.case.status not in EDITABLE:
        return _not_now(
            _say(
                standing,
                _("This case has already been submitted."),
                _("This batch has already been submitted."),
            )
        )
    return ALLOWED


def add_evidence(standing: Standing) -> Decision:
    """While the case can be changed: the file an approver decides on does not change under
    them."""
    if not _opens_cases_here(standing):
        return NEVER
    if standing.case.status not in EDITABLE:
        return _not_now(
            _say(
                standing,
                _("Evidence can be added only to a draft or a returned case."),
                _("Files can be added only to a draft or a returned batch."),
            )
        )
    return ALLOWED


# --- the reviewers' steps ----------------------------------------------------------------


def _review(standing: Standing) -> Decision:
    """What every review step needs: the case waits at a level where the user reviews, and the
    user neither wrote it nor has decided in this round."""
    user, case = standing.user, standing.case
    levels = set(review_route(case))
    if case.current_unit_id is not None:
        levels.add(case.current_unit_id)
    if not levels & set(units_held(user, Capability.REVIEW_CASES)):
        return NEVER
    if case.status != CaseStatus.SUBMITTED or case.current_unit_id is None:
        return _not_now(
            _say(
                standing,
                _("This case is not waiting for a decision."),
                _("This batch is not waiting for a decision."),
            )
        )
    if not holds_at(user, Capability.REVIEW_CASES, case.current_unit_id):
        return Decision(
            Refusal.ANOTHER_LEVEL,
            _say(
                standing,
                _("This case is waiting for a decision at %(unit)s."),
                _("This batch is waiting for a decision at %(unit)s."),
            )
            % {"unit": case.current_unit},
        )
    return standing.authored_or_acted() or ALLOWED


def _at_owner(case: Reviewed) -> bool:
    return case.current_unit_id == case.fund.unit_id


def endorse(standing: Standing) -> Decision:
    """An intermediate level agrees and passes the case up."""
    decision = _review(standing)
    if decision.allowed and _at_owner(standing.case):
        return _not_now(_("The fund's own union approves or rejects; it does not endorse."))
    return decision


def return_(standing: Standing) -> Decision:
    return _review(standing)


def reject(standing: Standing) -> Decision:
    return _review(standing)


def approve(standing: Standing) -> Decision:
    """The fund's owner approves, and only when its union has a treasurer: an approval nobody
    can pay would keep the amount reserved for ever."""
    decision = _review(standing)
    if decision.allowed and not _at_owner(standing.case):
        return _not_now(
            _say(
                standing,
                _("Only the union that owns the fund approves this case."),
                _("Only the union that owns the fund approves this batch."),
            )
        )
    fund = standing.case.fund
    # A visit asked for at 0 đồng moves no money, so it needs nobody to pay it.
    without_money = getattr(standing.case, "without_money", False)
    if decision.allowed and not fund.payable and not without_money:
        return Decision(
            Refusal.NO_TREASURER,
            _(
                "%(unit)s has no treasurer, so nobody could pay from %(fund)s. Ask an "
                "administrator to give someone the treasurer role there before approving."
            )
            % {"unit": fund.unit.name, "fund": fund.name},
        )
    return decision


# --- the treasurer's step ----------------------------------------------------------------


def pay(standing: Standing) -> Decision:
    """A treasurer of the fund's owner pays an approved case, once, and never one they wrote or
    decided on."""
    user, case = standing.user, standing.case
    if not holds_at(user, Capability.PAY, case.fund.unit_id):
        return NEVER
    if case.status == CaseStatus.PAID:
        return Decision(
            Refusal.ALREADY_PAID,
            _say(
                standing,
                _("This case has already been paid."),
                _("This batch has already been paid."),
            ),
        )
    if isinstance(case, Case) and case.batch_id is not None:
        return _not_now(_("This support is paid with its program's batch."))
    if case.status != CaseStatus.APPROVED:
        return _not_now(
            _say(
                standing,
                _("Only an approved case can be paid."),
                _("Only an approved batch can be paid."),
            )
        )
    return standing.authored_or_acted() or ALLOWED


RULES: dict[str, Callable[[Standing], Decision]] = {
    "edit": edit,
    "submit": submit,
    "evidence": add_evidence,
    "endorse": endorse,
    "return": return_,
    "reject": reject,
    "approve": approve,
    "pay": pay,
}


def _mine(case: Reviewed) -> Q:
    """The steps that count as the user's own on the case: authoring ever, deciding in this
    round."""
    mine = Q(action__in=AUTHORING)
    if case.submitted_at is not None:
        mine |= Q(action__in=DECISIONS, at__gte=case.submitted_at)
    return mine


def steps_on(user, batches: list[Batch]) -> dict[int, set[str]]:
    """The user's own steps on each of many batches, in one query: ``decide(..., steps=)``
    then asks nothing more."""
    from welfare.programs.models import BatchEvent

    if not batches:
        return {}
    by_pk = {batch.pk: batch for batch in batches}
    found: dict[int, set[str]] = {pk: set() for pk in by_pk}
    rows = BatchEvent.objects.filter(
        batch_id__in=list(by_pk), actor=user, action__in=[*AUTHORING, *DECISIONS]
    ).values_list("batch_id", "action", "at")
    for batch_id, action, at in rows:
        submitted = by_pk[batch_id].submitted_at
        if action in AUTHORING or (submitted is not None and at >= submitted):
            found[batch_id].add(action)
    return found


def decide(user, case: Reviewed, action: str, steps: set[str] | None = None) -> Decision:
    """Whether ``user`` may take ``action`` on ``case`` now, and if not, why."""
    return RULES[action](Standing(user, case, steps))


def allowed_actions(user, case: Reviewed) -> set[str]:
    """What the case page offers this user on this case (the services decide again)."""
    standing = Standing(user, case)
    return {action for action, rule in RULES.items() if rule(standing).allowed}
