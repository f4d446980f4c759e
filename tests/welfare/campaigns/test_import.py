"""Import of a campaign's contributions: each row posted to the fund with its receipt, the
refused rows with their line, column and reason, and the same file imported again adding
nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from common.imports import engine
from common.models import ImportJob
from welfare.campaigns.models import Contribution
from welfare.models import Fund

from ..test_case_views import gettext_vi
from .conftest import TODAY

pytestmark = pytest.mark.django_db

HEADER = [
    "Cuộc vận động",
    "Số biên nhận",
    "Ngày nhận",
    "Đối tượng",
    "Tên người, đơn vị ủng hộ",
    "Số CCCD của đoàn viên",
    "Mã công đoàn ủng hộ",
    "Số tiền (đồng)",
    "Mã đơn vị thu",
]


def xlsx(rows) -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def preview(world, content, role="treasurer") -> ImportJob:
    return engine.start_import(
        kind=ImportJob.Kind.CONTRIBUTIONS,
        unit=world.province,
        upload=SimpleUploadedFile("dong-gop.xlsx", content),
        by=world.users[role],
    )


def rows(world, campaign) -> list[list]:
    day = TODAY.strftime("%d/%m/%Y")
    return [
        [
            campaign.name,
            "BN-101",
            day,
            "Doanh nghiệp",
            "Công ty May Hòa Bình",
            "",
            "",
            "5.000.000",
            "",
        ],
        [
            campaign.name,
            "BN-102",
            day,
            "Đoàn viên",
            "",
            world.member_a1.national_id,
            "",
            "300000",
            "P-A-1",
        ],
        [str(campaign.pk), "BN-103", day, "Công đoàn", "", "", "P-B-1", "2.000.000", "P-B-1"],
        # refused: a campaign of another union, a date in the future, an unknown donor
        ["Chiến dịch không có", "BN-104", day, "Khác", "Ông Tư", "", "", "100.000", ""],
        [campaign.name, "BN-105", "01/01/2099", "Khác", "Bà Năm", "", "", "100.000", ""],
        [campaign.name, "BN-106", day, "Người ngoài hành tinh", "X", "", "", "100.000", ""],
        [campaign.name, "BN-101", day, "Doanh nghiệp", "Công ty khác", "", "", "1.000", ""],
    ]


def test_a_list_is_previewed_then_recorded_and_imported_again_adds_nothing(world, funds, campaign):
    content = xlsx(rows(world, campaign))
    job = preview(world, content)
    assert (job.status, job.to_create, job.refused) == (ImportJob.Status.PREVIEWED, 3, 4)
    refused = {item["line"]: item["errors"] for item in job.refused_sample}
    assert refused[5][0][0] == "Cuộc vận động"
    assert refused[6] == [["Ngày nhận", gettext_vi("The date cannot be in the future.")]]
    assert refused[7][0][0] == "Đối tượng"
    assert refused[8] == [
        [
            "Số biên nhận",
            gettext_vi("The same receipt is already on line %(line)s of this file.", line=2),
        ]
    ]
    assert not Contribution.objects.exists()
    job = engine.confirm_import(job=job, by=world.users["treasurer"])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    recorded = {c.receipt_number: c for c in Contribution.objects.select_related("entry")}
    assert set(recorded) == {"BN-101", "BN-102", "BN-103"}
    assert recorded["BN-102"].member == world.member_a1
    assert recorded["BN-102"].donor_name == "Nguyễn Văn An"
    assert recorded["BN-103"].donor_unit == world.b1
    assert recorded["BN-103"].collected_by == world.b1
    assert all(c.row_key and c.entry.amount == c.amount for c in recorded.values())
    balance = Fund.objects.get(pk=funds.social.pk).balance
    assert balance == 100_000_000 + 5_000_000 + 300_000 + 2_000_000

    again = preview(world, content)
    assert (again.to_create, again.unchanged) == (0, 3)
    engine.confirm_import(job=again, by=world.users["treasurer"])
    assert Contribution.objects.count() == 3
    assert Fund.objects.get(pk=funds.social.pk).balance == balance


def test_only_the_funds_treasurer_imports(world, campaign):
    with pytest.raises(PermissionDenied):
        preview(world, xlsx(rows(world, campaign)[:1]), role="province")


def test_the_import_page_offers_the_template(client_for, campaign):
    client = client_for("treasurer")
    page = client.get(reverse("contribution_imports:list"))
    assert page.status_code == 200
    template = client.get(reverse("contribution_imports:template"))
    assert template.status_code == 200
    assert template["Content-Disposition"].endswith('mau-nhap-dong-gop.xlsx"')


def many_rows(world, campaign, count: int, first: int = 1) -> list[list]:
    day = TODAY.strftime("%d/%m/%Y")
    units = ("P-A-1", "P-A-2", "P-B-1", "")
    return [
        [
            campaign.name,
            f"BN-{number:05d}",
            day,
            "Doanh nghiệp",
            f"Công ty số {number}",
            "",
            "",
            f"{100_000 + number}",
            units[number % 4],
        ]
        for number in range(first, first + count)
    ]


def write_cost(world, content, django_assert_max_num_queries) -> int:
    """The queries of the write step alone (``run_apply`` as the worker runs it)."""
    job = preview(world, content)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CONFIRMED)
    with django_assert_max_num_queries(40) as counted:
        engine.run_apply(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    return len(counted.captured_queries)


def test_the_write_costs_the_same_queries_for_any_number_of_rows(
    world, funds, campaign, django_assert_max_num_queries
):
    from welfare.funds.ledger import month_totals
    from welfare.models import LedgerEntry, LedgerMonth
    from welfare.reports import tallies

    # The first list opens the fund's month and year rows; those after add to them.
    write_cost(world, xlsx(many_rows(world, campaign, 3)), django_assert_max_num_queries)
    few = write_cost(
        world, xlsx(many_rows(world, campaign, 3, first=4)), django_assert_max_num_queries
    )
    many = write_cost(
        world, xlsx(many_rows(world, campaign, 120, first=10)), django_assert_max_num_queries
    )
    assert many == few
    # Each landed in the ledger once, in order, and every kept total says so.
    assert Contribution.objects.count() == 126
    entries = list(LedgerEntry.objects.filter(fund=funds.social).order_by("pk"))
    balance = 0
    for entry in entries:
        balance += entry.amount
        assert entry.balance_after == balance
    fund = Fund.objects.get(pk=funds.social.pk)
    assert (
        fund.balance
        == balance
        == 100_000_000 + sum(100_000 + n for n in [*range(1, 7), *range(10, 130)])
    )
    assert fund.entry_count == len(entries)
    assert tallies.raised_differences() == {}
    kept = set(
        LedgerMonth.objects.values_list("fund_id", "month", "kind", "entry_count", "money_in")
    )
    computed = {
        (row["fund_id"], row["month"], row["kind"], row["entry_count"], row["money_in"])
        for row in month_totals(LedgerEntry.objects.all())
    }
    assert kept == computed
    assert Contribution.objects.filter(collected_by=world.province).count() == 31


def test_a_receipt_recorded_since_the_preview_writes_nothing(world, funds, campaign, contribute):
    job = preview(world, xlsx(many_rows(world, campaign, 5)))
    contribute(campaign, 1_000, receipt_number="BN-00003")
    job = engine.confirm_import(job=job, by=world.users["treasurer"])
    assert job.status == ImportJob.Status.FAILED
    assert Contribution.objects.count() == 1
