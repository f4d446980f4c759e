"""The rules a member's data must satisfy, shared by the member form and the spreadsheet import.

Each rule is written once here; ``MemberForm`` and ``members.imports`` both call these
functions, so a list loaded from Excel is held to exactly what a person typed in is.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import MemberKind
from .national_id import validate_national_id

OLDEST_BIRTH_YEAR = 1900


def tidy_name(text: str) -> str:
    """Single spaces between the words of a name, none around it."""
    return " ".join(text.split())


def check_birth_date(value: datetime.date | None, *, today: datetime.date | None = None) -> None:
    if value is None:
        return
    if value > (today or timezone.localdate()):
        raise ValidationError(_("The date of birth cannot be in the future."))
    if value.year < OLDEST_BIRTH_YEAR:
        raise ValidationError(_("The date of birth must be after 1900."))


def member_errors(
    *,
    national_id: str | None,
    date_of_birth: datetime.date | None,
    sex: str | None,
    joined_on: datetime.date | None,
    kind: str | None,
    union_card_number: str | None,
    unidentified: bool = False,
    today: datetime.date | None = None,
) -> list[tuple[str, ValidationError]]:
    """The rules across fields, as (field name, error) pairs: an empty list when all hold."""
    errors: list[tuple[str, ValidationError]] = []
    if unidentified and kind != MemberKind.WORKER:
        errors.append(
            (
                "unidentified",
                ValidationError(
                    _("Only a non-member worker can be recorded without an ID number.")
                ),
            )
        )
    elif unidentified and national_id:
        errors.append(
            (
                "national_id",
                ValidationError(
                    _("An ID number is given: untick “no ID number”, or leave the number empty.")
                ),
            )
        )
    elif not unidentified and not national_id:
        errors.append(
            (
                "national_id",
                ValidationError(
                    _(
                        "Give the ID number. A non-member worker without one (informal, "
                        "seasonal) is recorded with “no ID number” ticked."
                    ),
                    code="required",
                ),
            )
        )
    if national_id:
        try:
            validate_national_id(national_id, date_of_birth=date_of_birth, sex=sex)
        except ValidationError as error:
            errors.append(("national_id", error))
    today = today or timezone.localdate()
    if joined_on and joined_on > today:
        errors.append(("joined_on", ValidationError(_("The date joined cannot be in the future."))))
    elif joined_on and date_of_birth and joined_on < date_of_birth:
        errors.append(
            (
                "joined_on",
                ValidationError(_("The date joined cannot be before the date of birth.")),
            )
        )
    if kind == MemberKind.WORKER and union_card_number:
        errors.append(
            (
                "union_card_number",
                ValidationError(_("A non-member worker has no union card number.")),
            )
        )
    return errors
