"""The demo's union shelters: every shelter case the demo paid gets its shelter record (a new
build or a repair, the estimated cost, an enterprise's, the commune's and the family's money),
recorded by the province's caseworker (the demo login ``province``) through the shelter
services; the older ones were handed over, with a photo, the latest are under construction,
and this year's Mái ấm Công đoàn program has one in each stage (approved, building, handed
over).  Shelters already recorded are left as they are."""

from __future__ import annotations

import datetime
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from welfare.models import Case, CaseStatus, SupportType
from welfare.shelters import services
from welfare.shelters.models import ContributorKind, Progress, Shelter, Work

from .demo_members import PROVINCE_CODE
from .demo_welfare import _no_mail, _say

ENTERPRISES = [
    "Công ty CP Xi măng Đồng Bành",
    "Công ty CP Gạch Tuynel Hữu Lũng",
    "Ngân hàng TMCP Công Thương chi nhánh Lạng Sơn",
]


COMMUNES = ["UBND phường Đông Kinh", "UBND xã Hữu Lũng", "UBND xã Chi Lăng"]


def _photo(number: int) -> SimpleUploadedFile:
    """A small drawn picture of a house: the demo's hand-over photo."""
    image = Image.new("RGB", (480, 320), (214, 232, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 150, 360, 290), fill=(244, 226, 190), outline=(120, 80, 40), width=4)
    draw.polygon([(100, 155), (240, 60), (380, 155)], fill=(170, 40, 40))
    draw.rectangle((215, 210, 265, 290), fill=(120, 80, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile(f"ban-giao-mai-am-{number}.png", buffer.getvalue())


def build_shelters_demo(stdout=None) -> int:
    """Returns how many shelters were recorded."""
    cases = list(
        Case.objects.filter(
            support_type=SupportType.SHELTER,
            status=CaseStatus.PAID,
            unit__path__startswith=_province_path(),
            shelter__isnull=True,
        )
        .select_related("unit")
        .order_by("paid_on", "pk")
    )
    if not cases:
        return 0
    _say(stdout, "Recording the demo's union shelters...")
    today = timezone.localdate()
    by = get_user_model().objects.get(username="province")
    with _no_mail(), transaction.atomic():
        for number, case in enumerate(cases):
            shelter = _record(case, number, by)
            if case.program_id is None:
                _advance_by_date(shelter, case, number, today, by)
            else:
                _advance_in_program(shelter, case, number, by)
    _say(stdout, f"{len(cases)} shelters.")
    return len(cases)


def _province_path() -> str:
    from unions.models import Unit

    province = Unit.objects.filter(code=PROVINCE_CODE).first()
    return province.path if province else "-"


def _record(case: Case, number: int, by) -> Shelter:
    union = case.approved_amount or case.requested_amount
    repair = number % 3 == 2
    others = [
        services.Contribution(ContributorKind.ENTERPRISE, ENTERPRISES[number % 3], union // 2),
        services.Contribution(ContributorKind.GOVERNMENT, COMMUNES[number % 3], 5_000_000),
        services.Contribution(ContributorKind.FAMILY, "", union // 4),
    ]
    cost = union + sum(other.amount for other in others) + (0 if repair else 10_000_000)
    return services.record_shelter(
        case=case,
        work=Work.REPAIR if repair else Work.BUILD,
        estimated_cost=cost,
        contributors=others,
        by=by,
    )


def _advance_by_date(shelter: Shelter, case: Case, number: int, today, by) -> None:
    """A shelter of past years: building two weeks after approval, handed over 75 days on."""
    approved = case.approved_on or case.paid_on or today
    started = min(approved + datetime.timedelta(days=14), today)
    services.advance_shelter(shelter=shelter, progress=Progress.BUILDING, on=started, by=by)
    handed = started + datetime.timedelta(days=75)
    if handed <= today:
        services.advance_shelter(
            shelter=shelter, progress=Progress.HANDED_OVER, on=handed, photo=_photo(number), by=by
        )


def _advance_in_program(shelter: Shelter, case: Case, number: int, by) -> None:
    """A shelter of this year's program, approved lately: in turn left approved, building, or
    handed over, so the program page shows every stage."""
    stage = number % 3
    if stage == 0:
        return
    on = case.approved_on or timezone.localdate()
    services.advance_shelter(shelter=shelter, progress=Progress.BUILDING, on=on, by=by)
    if stage == 2:
        services.advance_shelter(
            shelter=shelter, progress=Progress.HANDED_OVER, on=on, photo=_photo(number), by=by
        )
