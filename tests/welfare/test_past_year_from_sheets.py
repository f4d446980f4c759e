"""A province's past year loaded from its spreadsheets through the imports, then reported: the
report's tables and narrative give back exactly what the sheets hold.

The sheets are generated (a fixed seed): a member list of the province's three grassroots
unions and a year of support paid to them, some of it by the ward union above them.  What
the report must say is computed here from the sheets' rows, not from the database.
"""

from __future__ import annotations

import datetime
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from common.imports import engine
from common.models import ImportJob
from members.national_id import make_national_id
from welfare.models import EntryKind, LedgerEntry, SupportType
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative
from welfare.reports.words import short_dong

pytestmark = pytest.mark.django_db

YEAR = 2023
SEED = 2023
MEMBERS = {"P-A-1": 500, "P-A-2": 400, "P-B-1": 300}
SUPPORT_ROWS = 2400

MEMBER_HEADER = [
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Số định danh cá nhân (CCCD)",
    "Mã công đoàn cơ sở",
    "Ngày vào công đoàn",
    "Đối tượng (đoàn viên / người lao động)",
]
SUPPORT_HEADER = [
    "Số định danh cá nhân (CCCD)",
    "Họ và tên",
    "Mã công đoàn cơ sở",
    "Ngày chi",
    "Diện khó khăn",
    "Hình thức hỗ trợ",
    "Quỹ",
    "Cấp trên hỗ trợ",
    "Số tiền (đồng)",
]
# (what the sheet writes, the portal's value)
TYPES = [
    ("Thăm hỏi", SupportType.VISIT),
    ("Quà Tết", SupportType.TET_GIFT),
    ("Trợ cấp khó khăn", SupportType.GRANT),
    ("Mái ấm công đoàn", SupportType.SHELTER),
    ("Hỗ trợ khác", SupportType.OTHER),
]
CATEGORIES = ["Ốm đau", "Tai nạn lao động", "Thiên tai", "Hộ nghèo", "Khó khăn khác"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Hữu", "Ngọc"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hạnh", "Lan", "Mai", "Nam", "Phúc", "Thảo", "Yến"]
PROVINCE_FUND = "Quỹ Xã hội tỉnh P"
WARD_FUND = "Quỹ phúc lợi Công đoàn phường A"


@dataclass
class Person:
    national_id: str
    name: str
    unit: str  # grassroots code


@dataclass
class Expected:
    """The report's figures, added up from the sheet's rows."""

    cases: int = 0
    amount: int = 0
    people: set = field(default_factory=set)
    by_type: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_fund: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, set()]))
    by_child: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_month: list = field(default_factory=lambda: [0] * 12)

    def add(self, person: Person, unit: str, paid: datetime.date, kind, fund: str, amount: int):
        self.cases += 1
        self.amount += amount
        self.people.add(person.national_id)
        self.by_type[kind][0] += 1
        self.by_type[kind][1] += amount
        self.by_fund[fund][0] += 1
        self.by_fund[fund][1] += amount
        self.by_fund[fund][2].add(person.national_id)
        child = "P-A" if unit.startswith("P-A") else "P-B"
        self.by_child[child][0] += 1
        self.by_child[child][1] += amount
        self.by_month[paid.month - 1] += amount


def sheet(header: list[str], rows: list[list]) -> bytes:
    workbook = Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def member_sheet(rng: random.Random) -> tuple[bytes, list[Person]]:
    rows, people = [], []
    serial = 0
    for unit, count in MEMBERS.items():
        for _n in range(count):
            serial += 1
            sex = rng.choice(["male", "female"])
            birth = datetime.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            national_id = make_national_id("044", birth, sex, serial)
            joined = datetime.date(rng.randint(2010, 2022), rng.randint(1, 12), 1)
            rows.append(
                [
                    name,
                    "Nam" if sex == "male" else "Nữ",
                    birth.strftime("%d/%m/%Y"),
                    national_id,
                    unit,
                    joined.strftime("%d/%m/%Y"),
                    "Đoàn viên",
                ]
            )
            people.append(Person(national_id, name, unit))
    return sheet(MEMBER_HEADER, rows), people


def support_sheet(rng: random.Random, people: list[Person]) -> tuple[bytes, Expected]:
    expected = Expected()
    rows, seen = [], set()
    while len(rows) < SUPPORT_ROWS:
        person = rng.choice(people)
        paid = datetime.date(YEAR, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        written, kind = rng.choice(TYPES)
        amount = rng.randint(2, 50) * 100_000
        # A tenth of the support to the ward's members was given by the ward union itself.
        from_above = person.unit.startswith("P-A") and rng.random() < 0.1
        unit, fund = ("P-A", WARD_FUND) if from_above else (person.unit, PROVINCE_FUND)
        key = (person.national_id, unit, paid, kind, amount)
        if key in seen:
            continue  # the same record twice is refused as such: keep the sheet clean
        seen.add(key)
        rows.append(
            [
                person.national_id,
                person.name.upper(),  # lists are often typed in capitals
                unit,
                paid.strftime("%d/%m/%Y"),
                rng.choice(CATEGORIES),
                written,
                fund,
                "x" if from_above else "",
                f"{amount:,}".replace(",", "."),
            ]
        )
        expected.add(person, unit, paid, kind, fund, amount)
    return sheet(SUPPORT_HEADER, rows), expected


def run_import(world, kind: str, content: bytes, capture) -> ImportJob:
    by = world.users["province"]
    with capture(execute=True):
        job = engine.start_import(
            kind=kind, unit=world.province, upload=SimpleUploadedFile("sheet.xlsx", content), by=by
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED, job.error
    assert job.refused == 0, job.refused_sample[:3]
    with capture(execute=True):
        engine.confirm_import(job=job, by=by)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    return job


@pytest.fixture
def books_from_2020(funds):
    """The funds' books start in 2020, before the year loaded."""
    LedgerEntry.objects.filter(kind=EntryKind.OPENING).update(occurred_on=datetime.date(2020, 1, 1))
    type(funds.social).objects.update(opened_on=datetime.date(2020, 1, 1))
    return funds


def test_a_past_year_from_its_sheets_gives_back_what_the_sheets_hold(
    world, books_from_2020, eager_celery, django_capture_on_commit_callbacks
):
    rng = random.Random(SEED)
    members, people = member_sheet(rng)
    support, expected = support_sheet(rng, people)
    members_before = annual_figures(world.province, YEAR).organisation.members

    run_import(world, ImportJob.Kind.MEMBERS, members, django_capture_on_commit_callbacks)
    job = run_import(world, ImportJob.Kind.SUPPORT, support, django_capture_on_commit_callbacks)
    assert job.to_create == SUPPORT_ROWS

    figures = annual_figures(world.province, YEAR)

    # the totals
    assert (figures.totals.turns, figures.totals.amount, figures.totals.people) == (
        expected.cases,
        expected.amount,
        len(expected.people),
    )
    # every table
    assert {row.key: [row.cases, row.amount] for row in figures.by_type} == dict(expected.by_type)
    funds = {row.label: [row.cases, row.amount, row.people] for row in figures.by_fund}
    assert funds == {
        name: [cases, amount, len(ids)] for name, (cases, amount, ids) in expected.by_fund.items()
    }
    codes = {world.commune_a.name: "P-A", world.commune_b.name: "P-B"}
    assert {codes[row.label]: [row.cases, row.amount] for row in figures.by_child} == dict(
        expected.by_child
    )
    assert figures.by_month == expected.by_month
    assert sum(row.amount for row in figures.by_type) == expected.amount
    # the members counted at the end of the year: every one of the sheet joined by 2022
    assert figures.organisation.members == members_before + sum(MEMBERS.values())

    # the narrative says the same figures, rounded only as it says
    text = narrative(figures)
    assert short_dong(expected.amount) in text
    assert f"{len(expected.people):,}".replace(",", ".") in text
    assert f"{expected.cases:,}".replace(",", ".") in text
    for kind, (_cases, amount) in expected.by_type.items():
        assert short_dong(amount) in text, kind
    for name, (_cases, amount, _ids) in expected.by_fund.items():
        assert f"{name} chi {short_dong(amount)}" in text
