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
