"""The demo's personal-data records: the legal basis recorded for the members of the demo
grassroots officer's union (most on the union's duties, a few by consent to the notice), and
three data-subject requests at the province's administrator: a request for a copy,
acknowledged; a correction past its deadline; a restriction carried out.  Recorded through
members/privacy.py, as the pages do.  Run once: nothing is added when a request exists."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from members import privacy
from members.models import LegalBasis, Member, SubjectRequest

from .demo_members import GRASSROOTS_ACCOUNT_UNIT, PROVINCE_CODE
from .demo_welfare import _say


def build_privacy_demo(stdout=None) -> int:
    """Returns how many requests were recorded."""
    if SubjectRequest.objects.exists():
        return 0
    members = list(
        Member.objects.filter(unit__code=GRASSROOTS_ACCOUNT_UNIT, cases__isnull=True)
        .distinct()
        .order_by("pk")
    )
    if len(members) < 3:
        return 0
    _say(stdout, "Recording the demo's legal bases and data-subject requests...")
    users = get_user_model().objects.in_bulk(["admin", "grassroots"], field_name="username")
    admin, officer = users["admin"], users["grassroots"]
    today = timezone.localdate()
    with transaction.atomic():
        for number, member in enumerate(members[3:]):
            privacy.record_consent(
                member=member,
                basis=LegalBasis.CONSENT if number % 4 == 0 else LegalBasis.UNION_DUTIES,
                given_on=today - datetime.timedelta(days=30 + number),
                by=officer,
            )
        copy, correction, restriction = members[:3]
        asked = privacy.receive_request(
            member=copy,
            kind=SubjectRequest.Kind.ACCESS,
            received_on=today - datetime.timedelta(days=1),
            details="Xin bản sao toàn bộ dữ liệu công đoàn đang lưu về tôi, gửi qua thư điện tử.",
            by=admin,
        )
        privacy.acknowledge_request(request=asked, on=today, by=admin)
        privacy.receive_request(
            member=correction,
            kind=SubjectRequest.Kind.CORRECT,
            received_on=today - datetime.timedelta(days=20),
            details="Ngày sinh trên hồ sơ sai, đúng là 12/05/1988 theo căn cước.",
            by=admin,
        )
        restricted = privacy.receive_request(
            member=restriction,
            kind=SubjectRequest.Kind.RESTRICT,
            received_on=today - datetime.timedelta(days=10),
            details="Tạm dừng sử dụng dữ liệu của tôi cho các chương trình trong khi tôi nghỉ "
            "không lương.",
            by=admin,
        )
        privacy.complete_request(
            request=restricted,
            on=today - datetime.timedelta(days=8),
            outcome="Đã hạn chế xử lý; thông báo cho công đoàn cơ sở.",
            by=admin,
        )
    _say(stdout, f"3 requests at {PROVINCE_CODE}; {len(members) - 3} legal bases.")
    return 3
