"""A campaign of province P raising money into its social fund (``funds.social``), and a helper
that records a contribution to it as the province's treasurer."""

from __future__ import annotations

import datetime
import itertools

import pytest

from welfare.campaigns import services
from welfare.campaigns.models import Campaign, Contribution, DonorKind

TODAY = datetime.date.today()
STARTS = TODAY - datetime.timedelta(days=70)
ENDS = TODAY + datetime.timedelta(days=30)
_receipts = itertools.count(1)


@pytest.fixture
def campaign(world, funds) -> Campaign:
    return services.create_campaign(
        unit=world.province,
        name="Ủng hộ đồng bào bị lũ lụt",
        purpose="Hỗ trợ đoàn viên vùng lũ.",
        fund=funds.social,
        target=10_000_000,
        starts_on=STARTS,
        ends_on=ENDS,
        by=world.users["province"],
    )


@pytest.fixture
def contribute(world):
    def record(campaign: Campaign, amount: int = 1_000_000, **kw) -> Contribution:
        fields = {
            "donor_kind": DonorKind.ENTERPRISE,
            "donor_name": "Công ty TNHH Minh Phát",
            "received_on": TODAY,
            "receipt_number": f"BN-{next(_receipts):04d}",
            "collected_by": world.a1,
            "by": world.users["treasurer"],
            **kw,
        }
        return services.record_campaign_contribution(campaign=campaign, amount=amount, **fields)

    return record
