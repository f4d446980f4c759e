"""The demo's campaigns: the province raises money for flood victims into its social fund,
collected across the province, and runs "Tháng Công nhân" with two listed units, each with
contributions from members, unions, enterprises and other donors, one of them reversed — all
recorded by the demo treasurer through the campaign services.  Run once: a province that has a
campaign already is left as it is."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from members.models import Member, MemberStatus
from unions.models import Unit
from welfare.campaigns import services
from welfare.campaigns.models import Campaign, DonorKind
from welfare.funds.ledger import reverse_entry
from welfare.models import Fund, FundKind

from .demo_members import COMMUNE_ACCOUNT_UNIT, GRASSROOTS_ACCOUNT_UNIT, PROVINCE_CODE
from .demo_welfare import _no_mail, _say

ENTERPRISES = [
    ("Công ty CP Xi măng Đồng Bành", 50_000_000),
    ("Công ty TNHH Phát triển Hữu Nghị", 30_000_000),
    ("Ngân hàng TMCP Công Thương chi nhánh Lạng Sơn", 40_000_000),
    ("Công ty CP Bia Hà Nội - Lạng Sơn", 25_000_000),
]
OTHERS = [
    ("Ông Hoàng Văn Thắng", 2_000_000),
    ("Bà Lương Thị Hạnh", 1_500_000),
    ("Hội Doanh nhân trẻ tỉnh Lạng Sơn", 15_000_000),
]


def build_campaigns_demo(stdout=None) -> int:
    """Returns how many contributions were recorded (0 when the demo has campaigns already)."""
    province = Unit.objects.filter(code=PROVINCE_CODE).first()
    fund = Fund.objects.filter(unit=province, kind=FundKind.SOCIAL).first()
    if province is None or fund is None or Campaign.objects.filter(unit=province).exists():
        return 0
    _say(stdout, "Adding the demo campaigns...")
    with _no_mail(), transaction.atomic():
        made = _build(province, fund, timezone.localdate())
    _say(stdout, f"{made} contributions to 2 campaigns.")
    return made


def _build(province: Unit, fund: Fund, today: datetime.date) -> int:
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["province", "treasurer"])
    }
    grassroots = Unit.objects.get(code=GRASSROOTS_ACCOUNT_UNIT)
    ward = Unit.objects.get(code=COMMUNE_ACCOUNT_UNIT)
    others = list(Unit.objects.filter(parent=province).exclude(pk=ward.pk).order_by("path")[:4])
    flood = services.create_campaign(
        unit=province,
        name=f"Ủng hộ đồng bào bị lũ lụt năm {today.year}",
        purpose=(
            "Vận động đoàn viên, người lao động, các cấp công đoàn và doanh nghiệp trong tỉnh "
            "ủng hộ đồng bào, đoàn viên bị thiệt hại do bão lũ."
        ),
        fund=fund,
        target=500_000_000,
        starts_on=today - datetime.timedelta(days=80),
        ends_on=today + datetime.timedelta(days=25),
        by=users["province"],
    )
    month = services.create_campaign(
        unit=province,
        name=f"Tháng Công nhân {today.year}",
        purpose="Vận động ủng hộ Quỹ Xã hội trong Tháng Công nhân.",
        fund=fund,
        target=120_000_000,
        starts_on=today - datetime.timedelta(days=45),
        ends_on=today + datetime.timedelta(days=15),
        units=[ward, *others[:1]],
        by=users["province"],
    )
    members = list(
        Member.objects.filter(unit=grassroots, status=MemberStatus.ACTIVE).order_by("pk")[:12]
    )
    # (campaign, days before today, kind, name, amount, collected by, member, donor unit)
    gifts: list[tuple] = []
    for number, member in enumerate(members):
        amount = (200_000, 300_000, 500_000)[number % 3]
        gifts.append(
            (flood, 70 - number * 5, DonorKind.MEMBER, "", amount, grassroots, member, None)
        )
    for number, (name, amount) in enumerate(ENTERPRISES):
        gifts.append(
            (flood, 60 - number * 12, DonorKind.ENTERPRISE, name, amount, province, None, None)
        )
    for number, (name, amount) in enumerate(OTHERS):
        gifts.append((flood, 40 - number * 9, DonorKind.OTHER, name, amount, province, None, None))
    for number, unit in enumerate([ward, *others]):
        gifts.append(
            (
                flood,
                55 - number * 8,
                DonorKind.UNIT,
                "",
                10_000_000 + number * 2_000_000,
                unit,
                None,
                unit,
            )
        )
    gifts += [
        (month, 40, DonorKind.UNIT, "", 8_000_000, ward, None, ward),
        (month, 30, DonorKind.MEMBER, "", 500_000, grassroots, members[0], None),
        (month, 20, DonorKind.ENTERPRISE, ENTERPRISES[0][0], 20_000_000, ward, None, None),
    ]
    if others:
        gifts.append((month, 10, DonorKind.UNIT, "", 6_000_000, others[0], None, others[0]))
    gifts.sort(key=lambda gift: -gift[1])  # the ledger reads down by date
    made = 0
    recorded = []
    for campaign, days, kind, name, amount, unit, member, donor_unit in gifts:
        made += 1
        recorded.append(
            services.record_campaign_contribution(
                campaign=campaign,
                donor_kind=kind,
                donor_name=name,
                member=member,
                donor_unit=donor_unit,
                amount=amount,
                received_on=today - datetime.timedelta(days=days),
                receipt_number=f"BN-{made:04d}",
                collected_by=unit,
                by=users["treasurer"],
            )
        )
    # One receipt typed with an extra zero, corrected by its reversal.
    mistaken = services.record_campaign_contribution(
        campaign=flood,
        donor_kind=DonorKind.OTHER,
        donor_name="Bà Lương Thị Hạnh",
        amount=15_000_000,
        received_on=today - datetime.timedelta(days=3),
        receipt_number=f"BN-{made + 1:04d}",
        collected_by=province,
        by=users["treasurer"],
    )
    reverse_entry(
        entry=mistaken.entry,
        occurred_on=today - datetime.timedelta(days=2),
        reason="Ghi nhầm số tiền (thừa một chữ số 0)",
        by=users["treasurer"],
    )
    return made + 1
