"""Campaigns and contributions through their services: who may open and record, the ledger
entry each contribution posts, receipts recorded once, and reversals the totals follow."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from welfare.campaigns import services
from welfare.campaigns.models import Campaign, Contribution, DonorKind
from welfare.funds.ledger import AlreadyRecorded, reverse_entry
from welfare.models import EntryKind, Fund

from .conftest import ENDS, STARTS, TODAY

pytestmark = pytest.mark.django_db


def _open(world, fund, by, **kw):
    return services.create_campaign(
        unit=kw.pop("unit", world.province),
        name="Tháng Công nhân",
        fund=fund,
        target=kw.pop("target", 5_000_000),
        starts_on=STARTS,
        ends_on=ENDS,
        by=by,
        **kw,
    )


def test_those_who_run_programs_open_a_campaign_and_a_treasurer_does_not(world, funds):
    campaign = _open(world, funds.social, world.users["province"])
    assert campaign.unit == world.province and not campaign.has_units
    with pytest.raises(PermissionDenied):
        _open(world, funds.social, world.users["treasurer"])
    with pytest.raises(Http404):
        _open(world, funds.other, world.users["province"], unit=world.other_province)


def test_a_campaign_refuses_a_fund_of_a_union_below_and_units_outside(world, funds):
    with pytest.raises(ValidationError) as refused:
        _open(world, funds.commune, world.users["province"])
    assert "fund" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        _open(world, funds.commune, world.users["commune"], unit=world.commune_a, units=[world.b1])
    assert "units" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        _open(world, funds.social, world.users["province"], target=0)
    assert "target" in refused.value.message_dict


def test_a_contribution_posts_one_ledger_entry_to_the_fund(world, funds, campaign, contribute):
    before = Fund.objects.get(pk=funds.social.pk).balance
    contribution = contribute(campaign, 2_500_000, donor_name="Công ty May Hòa Bình")
    fund = Fund.objects.get(pk=funds.social.pk)
    assert fund.balance == before + 2_500_000
    entry = contribution.entry
    assert (entry.kind, entry.amount, entry.fund_id) == (EntryKind.CONTRIBUTION, 2_500_000, fund.pk)
    assert entry.source == "Công ty May Hòa Bình"
    assert contribution.receipt_number in entry.description
    assert services.raised(Contribution.objects.filter(campaign=campaign)).amount == 2_500_000


def test_only_the_treasurer_of_the_funds_union_records(world, campaign, contribute):
    for role in ("province", "commune_treasurer", "leader"):
        with pytest.raises((PermissionDenied, Http404)):
            contribute(campaign, by=world.users[role])
    assert not Contribution.objects.exists()


def test_the_same_receipt_is_recorded_once(world, funds, campaign, contribute):
    contribute(campaign, 1_000_000, receipt_number="BN-7")
    with pytest.raises(AlreadyRecorded):
        contribute(campaign, 1_000_000, receipt_number="BN-7")
    with pytest.raises(ValidationError) as refused:
        contribute(campaign, 3_000_000, receipt_number="BN-7")
    assert "receipt_number" in refused.value.message_dict
    assert Contribution.objects.count() == 1
    assert Fund.objects.get(pk=funds.social.pk).entry_count == 2  # opening + one contribution


def test_a_contribution_outside_the_period_or_the_scope_is_refused(world, campaign, contribute):
    with pytest.raises(ValidationError) as refused:
        contribute(campaign, received_on=STARTS - datetime.timedelta(days=1))
    assert "received_on" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        contribute(campaign, collected_by=world.q1)
    assert "collected_by" in refused.value.message_dict
    listed = _open(world, campaign.fund, world.users["province"], units=[world.commune_b])
    with pytest.raises(ValidationError) as refused:
        contribute(listed, collected_by=world.a1)
    assert "collected_by" in refused.value.message_dict
    assert contribute(listed, collected_by=world.b1).collected_by == world.b1


def test_a_member_or_a_union_donor_is_named(world, campaign, contribute):
    with pytest.raises(ValidationError) as refused:
        contribute(campaign, donor_kind=DonorKind.MEMBER, donor_name="")
    assert "member" in refused.value.message_dict
    gift = contribute(campaign, donor_kind=DonorKind.MEMBER, donor_name="", member=world.member_a1)
    assert gift.donor_name == "Nguyễn Văn An"
    gift = contribute(campaign, donor_kind=DonorKind.UNIT, donor_name="", donor_unit=world.a2)
    assert gift.donor_name == "CĐCS Trường A2"


def test_a_reversed_contribution_leaves_the_campaigns_total(world, funds, campaign, contribute):
    kept = contribute(campaign, 1_000_000)
    mistaken = contribute(campaign, 4_000_000)
    reverse_entry(
        entry=mistaken.entry,
        occurred_on=TODAY,
        reason="Ghi nhầm số tiền",
        by=world.users["treasurer"],
    )
    total = services.raised(Contribution.objects.filter(campaign=campaign))
    assert (total.amount, total.count) == (kept.amount, 1)
    assert Fund.objects.get(pk=funds.social.pk).balance == 100_000_000 + 1_000_000


def test_who_sees_a_campaign(world, funds, campaign):
    listed = _open(world, funds.social, world.users["province"], units=[world.commune_b])
    seen = {
        role: set(Campaign.objects.visible_to(world.users[role]).values_list("pk", flat=True))
        for role in ("province", "commune", "grassroots", "leader", "outsider")
    }
    both = {campaign.pk, listed.pk}
    assert seen["province"] == seen["leader"] == both
    # A1 and commune A are under the province, which lists no units for the first campaign;
    # the second lists only commune B.
    assert seen["commune"] == seen["grassroots"] == {campaign.pk}
    assert seen["outsider"] == set()


def test_a_campaigns_period_keeps_its_recorded_contributions(world, campaign, contribute):
    contribute(campaign, received_on=TODAY - datetime.timedelta(days=10))
    with pytest.raises(ValidationError) as refused:
        services.update_campaign(
            campaign=campaign,
            name=campaign.name,
            target=campaign.target,
            starts_on=TODAY - datetime.timedelta(days=5),
            ends_on=ENDS,
            by=world.users["province"],
        )
    assert "starts_on" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.update_campaign(
            campaign=campaign,
            name=campaign.name,
            target=campaign.target,
            starts_on=STARTS,
            ends_on=ENDS,
            units=[world.commune_b],
            by=world.users["province"],
        )
    assert "units" in refused.value.message_dict
    changed = services.update_campaign(
        campaign=campaign,
        name="Ủng hộ đồng bào miền Trung",
        target=20_000_000,
        starts_on=STARTS,
        ends_on=ENDS,
        units=[world.commune_a],
        by=world.users["province"],
    )
    assert (changed.name, changed.target, changed.has_units) == (
        "Ủng hộ đồng bào miền Trung",
        20_000_000,
        True,
    )
    with pytest.raises(PermissionDenied):
        services.update_campaign(
            campaign=campaign,
            name="x",
            target=1,
            starts_on=STARTS,
            ends_on=ENDS,
            by=world.users["treasurer"],
        )
