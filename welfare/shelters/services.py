"""Recording a shelter and moving it to the hand-over.  Each service checks the acting user
itself: whoever opens cases at the case's union (or above it) keeps its shelter's record."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.money import format_dong
from unions.scope import Capability, authorize_write, can, require_actor

from ..cases.evidence import store_file
from ..cases.models import Case, CaseStatus, SupportType
from .models import PROGRESS_ORDER, Progress, Shelter, ShelterContributor

# The case statuses in which the union has decided to support the shelter.
DECIDED = (CaseStatus.APPROVED, CaseStatus.PAID)
PHOTO_TYPES = ("image/jpeg", "image/png")


@dataclass
class Contribution:
    kind: str
    name: str
    amount: int


def union_amount(case: Case) -> int:
    """The union's money for the shelter: what was approved, else what is asked."""
    return case.approved_amount if case.approved_amount is not None else case.requested_amount


def may_keep(user, case: Case) -> bool:
    return (
        case.support_type == SupportType.SHELTER
        and case.member_id is not None  # a member's house, not an organisation's
        and case.status != CaseStatus.REJECTED
        and can(user, Capability.OPEN_CASES, case.unit)
    )


def _authorize(by, case: Case) -> None:
    authorize_write(by, Capability.OPEN_CASES, case.unit)
    if case.support_type != SupportType.SHELTER or case.member_id is None:
        raise PermissionDenied
    if case.status == CaseStatus.REJECTED:
        raise ValidationError(_("The case was rejected: its shelter is no longer kept."))


@transaction.atomic
def record_shelter(
    *, case: Case, work: str, estimated_cost: int, contributors: list[Contribution], by
) -> Shelter:
    """What is built or repaired, for how much and with whose money, replacing what was
    recorded before.  The union's money and the others' together may not pass the cost."""
    case = Case.objects.select_for_update().select_related("unit").get(pk=case.pk)
    _authorize(by, case)
    if estimated_cost <= 0:
        raise ValidationError({"estimated_cost": _("The amount must be greater than zero.")})
    others = sum(contribution.amount for contribution in contributors)
    if any(contribution.amount <= 0 for contribution in contributors):
        raise ValidationError(_("Each contribution must be greater than zero."))
    if union_amount(case) + others > estimated_cost:
        raise ValidationError(
            {
                "estimated_cost": _(
                    "The union's %(union)s and the other contributions of %(others)s come to "
                    "more than the estimated cost of %(cost)s."
                )
                % {
                    "union": format_dong(union_amount(case)),
                    "others": format_dong(others),
                    "cost": format_dong(estimated_cost),
                }
            }
        )
    shelter, _created = Shelter.objects.update_or_create(
        case=case,
        defaults={"work": work, "estimated_cost": estimated_cost, "updated_by": require_actor(by)},
    )
    shelter.contributors.all().delete()
    ShelterContributor.objects.bulk_create(
        ShelterContributor(shelter=shelter, kind=c.kind, name=c.name, amount=c.amount)
        for c in contributors
    )
    return shelter


@transaction.atomic
def advance_shelter(
    *,
    shelter: Shelter,
    progress: str,
    on: datetime.date,
    photo: UploadedFile | None = None,
    by,
) -> Shelter:
    """Construction started, or the shelter handed over (with the day and a photo, kept as the
    case's evidence).  Only forward, and only once the case is approved."""
    shelter = Shelter.objects.select_for_update().select_related("case__unit").get(pk=shelter.pk)
    case = shelter.case
    _authorize(by, case)
    if case.status not in DECIDED:
        raise ValidationError(_("The shelter moves on once its case is approved."))
    if progress not in (Progress.BUILDING, Progress.HANDED_OVER):
        raise ValidationError({"progress": _("Choose the step the shelter has reached.")})
    if PROGRESS_ORDER.index(Progress(progress)) <= PROGRESS_ORDER.index(Progress(shelter.progress)):
        raise ValidationError(
            {
                "progress": _("The shelter is already %(progress)s.")
                % {"progress": shelter.get_progress_display().lower()}
            }
        )
    if on > timezone.localdate():
        raise ValidationError({"on": _("The date cannot be in the future.")})
    if case.approved_on and on < case.approved_on:
        raise ValidationError(
            {
                "on": _("The date cannot be before the approval, on %(date)s.")
                % {"date": case.approved_on.strftime("%d/%m/%Y")}
            }
        )
    if progress == Progress.BUILDING:
        shelter.started_on = on
    else:
        if shelter.started_on and on < shelter.started_on:
            raise ValidationError(
                {
                    "on": _("The date cannot be before construction started, on %(date)s.")
                    % {"date": shelter.started_on.strftime("%d/%m/%Y")}
                }
            )
        if photo is None:
            raise ValidationError({"photo": _("A photo of the handed-over house is needed.")})
        shelter.handover_photo = store_file(
            case=case, upload=photo, by=require_actor(by), kinds=PHOTO_TYPES
        )
        shelter.handed_over_on = on
    shelter.progress = progress
    shelter.updated_by = require_actor(by)
    shelter.save()
    return shelter
