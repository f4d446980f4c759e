"""A member's personal data under Law 91/2025/QH15 on Personal Data Protection and Decree
356/2025/NĐ-CP (in force since 1 January 2026): the legal basis or consent it is processed on,
and the person's requests about it, with the deadlines the decree gives to answer them.

Consent is recorded by whoever may edit the member; requests are received and answered by an
administrator of the member's union, like the data-subject archive (welfare/privacy/subject.py).
Each write checks its acting user ``by`` itself (``scope.authorize_write``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from unions.scope import ActingUser, Capability, authorize_write, can

from .models import Consent, LegalBasis, Member, SubjectRequest

# --- deadlines ---------------------------------------------------------------------------------

# The decree's time to acknowledge a request, in working days.
ACKNOWLEDGE_WORKING_DAYS = 2
# ... and to carry it out, in days.  The decree says "15 ngày", not "ngày làm việc": calendar
# days, counted as the Civil Code counts a period in days (2015, articles 147-148): from the day
# after receipt, and a period ending on a weekend or a holiday ends on the next working day.
COMPLETE_DAYS = 15


def holidays() -> frozenset[datetime.date]:
    return frozenset(datetime.date.fromisoformat(day) for day in settings.PERSONAL_DATA_HOLIDAYS)


def is_working_day(day: datetime.date, days_off: Iterable[datetime.date] = ()) -> bool:
    return day.weekday() < 5 and day not in days_off


def add_working_days(
    day: datetime.date, count: int, days_off: Iterable[datetime.date] = ()
) -> datetime.date:
    """The ``count``-th working day after ``day`` (Monday to Friday, less ``days_off``): a
    request received on a Friday, a Saturday or a Sunday is acknowledged by the Tuesday."""
    days_off = frozenset(days_off)
    while count > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day, days_off):
            count -= 1
    return day


def next_working_day(day: datetime.date, days_off: Iterable[datetime.date] = ()) -> datetime.date:
    """``day`` itself when it is a working day, else the first working day after it."""
    days_off = frozenset(days_off)
    while not is_working_day(day, days_off):
        day += datetime.timedelta(days=1)
    return day


def deadlines(received_on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The days by which a request received on ``received_on`` is to be acknowledged and
    carried out."""
    days_off = holidays()
    acknowledge_by = add_working_days(received_on, ACKNOWLEDGE_WORKING_DAYS, days_off)
    complete_by = next_working_day(received_on + datetime.timedelta(days=COMPLETE_DAYS), days_off)
    return acknowledge_by, complete_by


# --- consent -----------------------------------------------------------------------------------


def current_consent(member: Member) -> Consent | None:
    """The legal basis that stands for the member: the newest record (a withdrawal included)."""
    return member.consents.select_related("recorded_by").newest_first().first()


def _not_future(day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


@transaction.atomic
def record_consent(*, member: Member, basis: str, given_on: datetime.date, by: User) -> Consent:
    """Record the legal basis the member's data is processed on from ``given_on``: their
    consent to the current notice, or a basis that needs none."""
    member = Member.objects.select_for_update().select_related("unit").get(pk=member.pk)
    authorize_write(by, Capability.EDIT_MEMBERS, member.unit)
    if basis not in LegalBasis.values:
        raise ValidationError({"basis": _("Choose a legal basis.")})
    _not_future(given_on, "given_on")
    return Consent.objects.create(
        member=member,
        basis=basis,
        notice_version=settings.PERSONAL_DATA_NOTICE_VERSION,
        given_on=given_on,
        recorded_by=by,
    )


@transaction.atomic
def withdraw_consent(*, member: Member, withdrawn_on: datetime.date, by: User) -> Consent:
    """Record that the member withdrew the consent that stands: a row of its own, the consent
    it withdraws kept as it was."""
    member = Member.objects.select_for_update().select_related("unit").get(pk=member.pk)
    authorize_write(by, Capability.EDIT_MEMBERS, member.unit)
    standing = current_consent(member)
    if standing is None or standing.basis != LegalBasis.CONSENT or standing.withdrawn:
        raise ValidationError(_("The person has no consent on record to withdraw."))
    _not_future(withdrawn_on, "given_on")
    if withdrawn_on < standing.given_on:
        raise ValidationError(
            {
                "given_on": _("The consent was given on %(date)s.")
                % {"date": standing.given_on.strftime("%d/%m/%Y")}
            }
        )
    return Consent.objects.create(
        member=member,
        basis=LegalBasis.CONSENT,
        notice_version=standing.notice_version,
        given_on=standing.given_on,
        withdrawn_on=withdrawn_on,
        recorded_by=by,
    )


# --- data-subject requests ---------------------------------------------------------------------


def get_request_for_user(user: ActingUser, pk: int | str) -> SubjectRequest:
    """The request if its member is in the user's scope (404 otherwise, as if missing); 403
    when the user may see the member but does not manage users at their union."""
    found = get_object_or_404(
        SubjectRequest.objects.filter(member__in=Member.objects.visible_to(user)).select_related(
            "member__unit", "recorded_by", "closed_by"
        ),
        pk=pk,
    )
    if not can(user, Capability.MANAGE_USERS, found.member.unit):
        raise PermissionDenied
    return found


def _dated(day: datetime.date, after: datetime.date, field: str) -> None:
    _not_future(day, field)
    if day < after:
        raise ValidationError(
            {
                field: _("The request was received on %(date)s.")
                % {"date": after.strftime("%d/%m/%Y")}
            }
        )


def _keep_restriction(member: Member) -> None:
    """Processing stays restricted while a request to restrict it has been neither refused
    nor, once carried out, lifted."""
    restricted = (
        member.subject_requests.filter(kind=SubjectRequest.Kind.RESTRICT, lifted_on=None)
        .exclude(status=SubjectRequest.Status.REFUSED)
        .exists()
    )
    Member.objects.filter(pk=member.pk).update(processing_restricted=restricted)
    member.processing_restricted = restricted


def check_not_restricted(member: Member) -> None:
    """Refuse to build anything new on the data of a person who asked to restrict its
    processing, while the restriction stands: a case, a loan (welfare calls it)."""
    if Member.objects.filter(pk=member.pk, processing_restricted=True).exists():
        raise ValidationError(
            _(
                "%(name)s asked to restrict the processing of their personal data: no new "
                "case or loan can be opened for them while the restriction stands."
            )
            % {"name": member.full_name}
        )


@transaction.atomic
def receive_request(
    *, member: Member, kind: str, received_on: datetime.date, details: str, by: User
) -> SubjectRequest:
    """Record a request as received, with its deadlines.  A request to restrict processing
    restricts it at once: no new case or loan is opened for the person, and no program batch
    lists them, while it stands."""
    member = Member.objects.select_for_update().select_related("unit").get(pk=member.pk)
    authorize_write(by, Capability.MANAGE_USERS, member.unit)
    if kind not in SubjectRequest.Kind.values:
        raise ValidationError({"kind": _("Choose what the person asks for.")})
    _not_future(received_on, "received_on")
    acknowledge_by, complete_by = deadlines(received_on)
    request = SubjectRequest.objects.create(
        member=member,
        kind=kind,
        received_on=received_on,
        details=details.strip(),
        acknowledge_by=acknowledge_by,
        complete_by=complete_by,
        recorded_by=by,
    )
    if kind == SubjectRequest.Kind.RESTRICT:
        _keep_restriction(member)
    return request


def _lock(request: SubjectRequest, by: User) -> SubjectRequest:
    locked = (
        SubjectRequest.objects.select_for_update().select_related("member__unit").get(pk=request.pk)
    )
    authorize_write(by, Capability.MANAGE_USERS, locked.member.unit)
    if not locked.is_open:
        raise ValidationError(_("This request has already been answered."))
    return locked


@transaction.atomic
def acknowledge_request(*, request: SubjectRequest, on: datetime.date, by: User) -> SubjectRequest:
    """Record that the person was told their request was received and is being handled."""
    request = _lock(request, by)
    if request.status != SubjectRequest.Status.RECEIVED:
        raise ValidationError(_("This request has already been acknowledged."))
    _dated(on, request.received_on, "on")
    request.status = SubjectRequest.Status.ACKNOWLEDGED
    request.acknowledged_on = on
    request.save(update_fields=["status", "acknowledged_on"])
    return request


def _close(request: SubjectRequest, status: str, on: datetime.date, outcome: str, by: User):
    _dated(on, request.acknowledged_on or request.received_on, "on")
    request.status = status
    # An answer given before an acknowledgment was recorded acknowledges it too.
    request.acknowledged_on = request.acknowledged_on or on
    request.completed_on = on
    request.outcome = outcome.strip()
    request.closed_by = by
    request.save(
        update_fields=["status", "acknowledged_on", "completed_on", "outcome", "closed_by"]
    )


@transaction.atomic
def complete_request(
    *, request: SubjectRequest, on: datetime.date, outcome: str, by: User
) -> SubjectRequest:
    """Record that the request was carried out.  A withdrawal of consent also records the
    withdrawal on the member, when a consent stands."""
    request = _lock(request, by)
    _close(request, SubjectRequest.Status.COMPLETED, on, outcome, by)
    member = request.member
    standing = current_consent(member)
    if (
        request.kind == SubjectRequest.Kind.WITHDRAW
        and standing is not None
        and standing.basis == LegalBasis.CONSENT
        and not standing.withdrawn
    ):
        withdraw_consent(member=member, withdrawn_on=max(on, standing.given_on), by=by)
    return request


@transaction.atomic
def refuse_request(
    *, request: SubjectRequest, on: datetime.date, reason: str, by: User
) -> SubjectRequest:
    """Record that the request was refused, with the reason the person is given; a refused
    request to restrict processing lifts the restriction it put in place."""
    request = _lock(request, by)
    if not reason.strip():
        raise ValidationError({"outcome": _("Say why the request is refused.")})
    _close(request, SubjectRequest.Status.REFUSED, on, reason, by)
    if request.kind == SubjectRequest.Kind.RESTRICT:
        _keep_restriction(request.member)
    return request


@transaction.atomic
def lift_restriction(
    *, request: SubjectRequest, on: datetime.date, reason: str, by: User
) -> SubjectRequest:
    """Lift a restriction of processing that was carried out: the person asked for it, or the
    ground for it ended.  The request keeps what was done; the lifting is recorded beside it,
    and new cases, loans and batches may name the person again unless another restriction
    stands."""
    locked = (
        SubjectRequest.objects.select_for_update().select_related("member__unit").get(pk=request.pk)
    )
    authorize_write(by, Capability.MANAGE_USERS, locked.member.unit)
    if not locked.may_be_lifted:
        raise ValidationError(_("Only a restriction that was carried out can be lifted, once."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the restriction is lifted.")})
    _not_future(on, "on")
    assert locked.completed_on is not None
    if on < locked.completed_on:
        raise ValidationError(
            {
                "on": _("The restriction was carried out on %(date)s.")
                % {"date": locked.completed_on.strftime("%d/%m/%Y")}
            }
        )
    locked.lifted_on = on
    locked.lift_reason = reason.strip()
    locked.lifted_by = by
    locked.save(update_fields=["lifted_on", "lift_reason", "lifted_by"])
    _keep_restriction(locked.member)
    return locked
