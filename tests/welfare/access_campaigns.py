"""Access-matrix entries for the campaign pages.

Inside: province P's campaign into its social fund, listing no units (so every unit of the
province collects for it and sees it), with one contribution collected by A1.  Outside: the
same in province Q.  The writes' rules (who opens, who records) are in
tests/welfare/campaigns/test_services.py and test_views.py.
"""

from __future__ import annotations

import datetime

from welfare.campaigns import services
from welfare.campaigns.models import Campaign, Contribution, DonorKind

from ..access import ALL_OK, Entry
from ..factories import system_user
from .access_cases import OPENERS_OK, _fund, only

TODAY = datetime.date.today()


def build_campaign(world, inside: bool) -> Campaign:
    owner = world.province if inside else world.other_province
    fund = _fund(owner, "Quỹ Xã hội tỉnh P" if inside else "Quỹ Xã hội tỉnh Q")
    return Campaign.objects.filter(unit=owner).first() or services.create_campaign(
        unit=owner,
        name="Ủng hộ đồng bào bị lũ lụt",
        fund=fund,
        target=50_000_000,
        starts_on=TODAY - datetime.timedelta(days=30),
        ends_on=TODAY + datetime.timedelta(days=30),
        by=system_user(),
    )


def campaign_args(world, role, inside):
    return [build_campaign(world, inside)]


def export_args(world, role, inside):
    return [build_campaign(world, inside), "csv"]


def contribution_args(world, role, inside) -> list[Contribution]:
    campaign = build_campaign(world, inside)
    existing = Contribution.objects.filter(campaign=campaign).first()
    return [
        existing
        or services.record_campaign_contribution(
            campaign=campaign,
            donor_kind=DonorKind.ENTERPRISE,
            donor_name="Công ty TNHH Minh Phát",
            amount=2_000_000,
            received_on=TODAY,
            receipt_number="BN-001",
            collected_by=world.a1 if inside else world.q1,
            by=system_user(),
        )
    ]


ENTRIES: dict[str, Entry] = {
    "campaigns:list": Entry(inside=ALL_OK),
    "campaigns:create": Entry(inside=OPENERS_OK),
    "campaigns:detail": Entry(inside=ALL_OK, args=campaign_args),
    # Only those who run programs at the campaign's own union edit it.
    "campaigns:edit": Entry(inside=only({"province": 200}), args=campaign_args),
    # The treasurer of the fund's union; the fund's union is not in the scope of the commune
    # or the grassroots union, who only see the campaign they collect for.
    "campaigns:contribute": Entry(
        inside=only({"treasurer": 200, "commune": 404, "grassroots": 404}), args=campaign_args
    ),
    "campaigns:export": Entry(inside=ALL_OK, args=export_args),
    "campaigns:receipt": Entry(inside=ALL_OK, args=contribution_args),
}


def _contribution_import_entries() -> dict[str, Entry]:
    from common.models import ImportJob

    from ..members.access_imports import _entries, _job

    def job_args(world, role, inside):
        return [_job(world, role, inside, ImportJob.Kind.CONTRIBUTIONS)]

    # Only treasurers record contributions; the job of the matrix is at A1, in their scope.
    return _entries("contribution_imports:", only({"treasurer": 200}), job_args)


ENTRIES.update(_contribution_import_entries())
