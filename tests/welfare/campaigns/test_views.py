"""The campaign pages as their users meet them: the list and the campaign page at a fixed
number of queries, what they show (against the target, by unit, by month, the contributions),
a contribution typed in once, the export and the receipt."""

from __future__ import annotations

import datetime
import subprocess
import uuid

import pytest
from django.urls import reverse

from welfare.campaigns import services
from welfare.campaigns.models import Contribution, DonorKind
from welfare.funds.ledger import reverse_entry
from welfare.models import Fund

from ..test_case_views import gettext_vi, told
from .conftest import ENDS, STARTS, TODAY

pytestmark = pytest.mark.django_db


def detail(campaign) -> str:
    return reverse("campaigns:detail", args=[campaign.pk])


def test_the_campaign_page_costs_the_same_queries_for_any_number_of_contributions(
    client_for, world, campaign, contribute, django_assert_max_num_queries
):
    def cost(**query):
        client = client_for("province")
        client.get(detail(campaign), query)  # the session and the grants, read once
        with django_assert_max_num_queries(12) as counted:
            assert client.get(detail(campaign), query).status_code == 200
        return len(counted.captured_queries)

    contribute(campaign)
    few, few_drilled = cost(), cost(unit=world.commune_a.pk)
    for number in range(40):
        unit = (world.a1, world.a2, world.b1, world.commune_b)[number % 4]
        contribute(campaign, 100_000 + number, collected_by=unit)
    assert (cost(), cost(unit=world.commune_a.pk)) == (few, few_drilled)


def test_a_participating_campaign_costs_the_same_queries_for_any_number_of_units(
    client_for, world, funds, contribute, django_assert_max_num_queries
):
    listed = services.create_campaign(
        unit=world.province,
        name="Tháng Công nhân",
        fund=funds.social,
        target=1_000_000,
        starts_on=STARTS,
        ends_on=ENDS,
        by=world.users["province"],
        units=[world.a1, world.b1],
    )
    contribute(listed, collected_by=world.a1)
    client = client_for("province")
    client.get(detail(listed))
    with django_assert_max_num_queries(12):
        response = client.get(detail(listed))
    rows = {row.name: (row.amount, row.count) for row in response.context["rows"]}
    assert rows == {"Công đoàn phường A": (1_000_000, 1), "Công đoàn xã B": (0, 0)}


def test_the_campaign_list_costs_the_same_queries_for_any_number_of_campaigns(
    client_for, world, funds, campaign, contribute, django_assert_max_num_queries
):
    def cost():
        client = client_for("grassroots")
        client.get(reverse("campaigns:list"))
        with django_assert_max_num_queries(8) as counted:
            response = client.get(reverse("campaigns:list"))
        assert response.status_code == 200
        return len(counted.captured_queries), response

    few, _response = cost()
    for number in range(8):
        services.create_campaign(
            unit=world.province,
            name=f"Tháng Công nhân {number}",
            fund=funds.social,
            target=1_000_000,
            starts_on=STARTS,
            ends_on=ENDS,
            by=world.users["province"],
        )
    contribute(campaign, 2_500_000)
    many, response = cost()
    assert many == few
    assert "Tháng Công nhân 7" in response.content.decode()
    row = next(row for row in response.context["rows"] if row["campaign"] == campaign)
    assert (row["raised"], row["share"]) == (2_500_000, 25.0)


def test_the_campaign_page_shows_raised_against_target_by_unit_and_month(
    client_for, world, campaign, contribute
):
    contribute(campaign, 3_000_000, collected_by=world.a1)
    contribute(campaign, 1_500_000, collected_by=world.b1)
    mistaken = contribute(campaign, 9_000_000, collected_by=world.b1)
    reverse_entry(
        entry=mistaken.entry, occurred_on=TODAY, reason="Nhầm", by=world.users["treasurer"]
    )
    response = client_for("province").get(detail(campaign))
    context = response.context
    assert context["total"].amount == 4_500_000
    assert context["share"] == 45.0
    # Rolled up to the province's child units, as the annual report does.
    assert {row.name: row.amount for row in context["rows"]} == {
        "Công đoàn phường A": 3_000_000,
        "Công đoàn xã B": 1_500_000,
    }
    body = response.content.decode()
    assert "4.500.000 ₫" in body and "45,0%" in body
    assert TODAY.strftime("%m/%Y") in str(context["chart"])
    assert len(context["page"].object_list) == 3  # the reversed one is listed, marked
    assert gettext_vi("reversed on %(date)s", date=TODAY.strftime("%d/%m/%Y")) in body


def test_a_collecting_unit_sees_only_its_own_contributions(client_for, world, campaign, contribute):
    contribute(campaign, 3_000_000, collected_by=world.a1, donor_name="Công ty A1 ủng hộ")
    contribute(campaign, 1_500_000, collected_by=world.b1, donor_name="Bệnh viện B1 ủng hộ")
    response = client_for("grassroots").get(detail(campaign))
    body = response.content.decode()
    assert "Công ty A1 ủng hộ" in body and "Bệnh viện B1 ủng hộ" not in body
    assert [(row.name, row.amount) for row in response.context["rows"]] == [
        ("CĐCS Công ty A1", 3_000_000)
    ]


def test_a_unit_of_the_table_opens_on_its_own_child_units(client_for, world, campaign, contribute):
    contribute(campaign, 3_000_000, collected_by=world.a1)
    contribute(campaign, 700_000, collected_by=world.a2)
    contribute(campaign, 200_000, collected_by=world.commune_a)
    contribute(campaign, 1_500_000, collected_by=world.b1)
    client = client_for("province")
    top = client.get(detail(campaign))
    assert f"?unit={world.commune_a.pk}" in top.content.decode()
    drilled = client.get(detail(campaign), {"unit": world.commune_a.pk})
    context = drilled.context
    assert [(row.name, row.amount, row.own) for row in context["rows"]] == [
        ("Công đoàn phường A", 200_000, True),
        ("CĐCS Công ty A1", 3_000_000, False),
        ("CĐCS Trường A2", 700_000, False),
    ]
    assert [unit.name for unit in context["trail"]] == ["LĐLĐ tỉnh P"]
    # The chart and the list follow the unit opened.
    assert {c.amount for c in context["page"]} == {3_000_000, 700_000, 200_000}
    assert "3,9" in str(context["chart"])  # million đồng
    assert total_of(context) == 5_400_000  # the campaign's total stays whole


def test_a_commune_reader_starts_at_their_own_union(client_for, world, campaign, contribute):
    contribute(campaign, 3_000_000, collected_by=world.a1)
    contribute(campaign, 1_500_000, collected_by=world.b1)
    response = client_for("commune").get(detail(campaign))
    assert [(row.name, row.amount) for row in response.context["rows"]] == [
        ("CĐCS Công ty A1", 3_000_000)
    ]
    assert "Bệnh viện B1" not in response.content.decode()
    # A unit outside their scope is not theirs to open: the filter refuses it.
    outside = client_for("commune").get(detail(campaign), {"unit": world.b1.pk})
    assert "Bệnh viện B1" not in outside.content.decode()
    assert [row.name for row in outside.context["rows"]] == ["CĐCS Công ty A1"]


def test_a_reader_of_two_unions_sees_a_row_for_each(client, world, campaign, contribute):
    from unions.models import Role, RoleAssignment

    from ...factories import make_user

    reader = make_user("two_unions", Role.OFFICER, world.a1)
    RoleAssignment.objects.create(user=reader, unit=world.b1, role=Role.OFFICER)
    contribute(campaign, 3_000_000, collected_by=world.a1)
    contribute(campaign, 1_500_000, collected_by=world.b1)
    contribute(campaign, 700_000, collected_by=world.a2)
    client.force_login(reader)
    response = client.get(detail(campaign))
    assert [(row.name, row.amount) for row in response.context["rows"]] == [
        ("CĐCS Công ty A1", 3_000_000),
        ("CĐCS Bệnh viện B1", 1_500_000),
    ]
    assert "Trường A2" not in response.content.decode()


def total_of(context) -> int:
    return context["total"].amount


def test_the_contributions_filter_and_export_alike(client_for, world, campaign, contribute):
    contribute(campaign, 3_000_000, donor_name="Công ty May Hòa Bình", receipt_number="BN-HB")
    contribute(campaign, 500_000, donor_kind=DonorKind.OTHER, donor_name="Ông Trần Văn Tư")
    client = client_for("province")
    found = client.get(detail(campaign), {"donor_kind": DonorKind.OTHER})
    assert [c.donor_name for c in found.context["page"]] == ["Ông Trần Văn Tư"]
    found = client.get(detail(campaign), {"q": "bn-hb"})
    assert [c.donor_name for c in found.context["page"]] == ["Công ty May Hòa Bình"]
    exported = client.get(
        reverse("campaigns:export", args=[campaign.pk, "csv"]), {"donor_kind": DonorKind.OTHER}
    )
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    assert "Ông Trần Văn Tư" in text and "Hòa Bình" not in text


def test_the_empty_campaign_says_so(client_for, campaign):
    body = client_for("province").get(detail(campaign)).content.decode()
    assert gettext_vi("No contribution has been recorded yet.") in body
    assert gettext_vi("No unit has collected yet.") in body
    assert gettext_vi("Nothing has been raised yet.") in body


def test_the_treasurer_records_a_contribution_once(client_for, world, funds, campaign):
    url = reverse("campaigns:contribute", args=[campaign.pk])
    data = {
        "donor_kind": DonorKind.MEMBER,
        "member_id_number": world.member_a1.national_id,
        "amount": "1.200.000",
        "received_on": TODAY.isoformat(),
        "receipt_number": "BN-0042",
        "collected_by": world.a1.pk,
        "submission": uuid.uuid4().hex,
    }
    client = client_for("treasurer")
    response = client.post(url, data)
    assert response.status_code == 302
    assert told(response) == gettext_vi(
        "A contribution of %(amount)s from %(donor)s was recorded.",
        amount="1.200.000 ₫",
        donor="Nguyễn Văn An",
    )
    again = client.post(url, data)
    assert again.status_code == 302
    assert told(again) == gettext_vi("This was already recorded. Nothing more was recorded.")
    contribution = Contribution.objects.get()
    assert (contribution.member, contribution.amount) == (world.member_a1, 1_200_000)
    assert Fund.objects.get(pk=funds.social.pk).balance == 100_000_000 + 1_200_000


def test_the_contribution_form_speaks_vietnamese(client_for, world, campaign):
    url = reverse("campaigns:contribute", args=[campaign.pk])
    response = client_for("treasurer").post(
        url,
        {
            "donor_kind": DonorKind.ENTERPRISE,
            "amount": "0",
            "received_on": (ENDS + datetime.timedelta(days=1)).isoformat(),
            "receipt_number": "",
            "collected_by": world.a1.pk,
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["donor_name"] == [gettext_vi("Give the donor's name.")]
    assert errors["amount"] == [gettext_vi("The amount must be greater than zero.")]
    assert errors["received_on"] == [gettext_vi("The date cannot be in the future.")]
    assert not Contribution.objects.exists()


def test_the_receipt_prints_the_amount_in_figures_and_words(
    client_for, world, campaign, contribute, tmp_path
):
    contribution = contribute(campaign, 2_500_000, receipt_number="BN-0007")
    response = client_for("grassroots").get(reverse("campaigns:receipt", args=[contribution.pk]))
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "receipt.pdf"
    path.write_bytes(response.content)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "BIÊN NHẬN" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Số: BN-0007" in text
    assert "LĐLĐ TỈNH P" in text
    assert "2.500.000 ₫" in text
    assert "Hai triệu năm trăm nghìn đồng" in text
    assert "Công ty TNHH Minh Phát" in text


def test_a_campaign_is_opened_from_its_form(client_for, world, funds):
    response = client_for("province").post(
        reverse("campaigns:create"),
        {
            "unit": world.province.pk,
            "name": "Tháng Công nhân 2026",
            "fund": funds.social.pk,
            "target": "200.000.000",
            "starts_on": STARTS.isoformat(),
            "ends_on": ENDS.isoformat(),
            "units": [world.commune_a.pk, world.commune_b.pk],
        },
    )
    assert response.status_code == 302
    campaign = world.province.campaigns.get()
    assert campaign.target == 200_000_000
    assert set(campaign.units.all()) == {world.commune_a, world.commune_b}
