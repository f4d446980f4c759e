"""Import of past support records: paid cases at their unit, no ledger, no duplicates."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from common.imports import engine
from common.models import ImportJob
from members.services import transfer_member
from unions.tree import merge_unit, move_unit
from welfare.imports import support as welfare_imports
from welfare.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    EntryKind,
    LedgerEntry,
    SupportType,
)
from welfare.reports.figures import annual_figures

from ..factories import MemberFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "Số định danh cá nhân (CCCD)",
    "Họ và tên",
    "Ngày sinh",
    "Mã công đoàn cơ sở",
    "Ngày chi",
    "Diện khó khăn",
    "Hình thức hỗ trợ",
    "Quỹ",
    "Tên chương trình",
    "Cấp trên hỗ trợ",
    "Số tiền (đồng)",
]


def record(member, **overrides) -> list:
    values = {
        "id": member.national_id,
        "name": member.full_name.upper(),
        "birth": member.date_of_birth.strftime("%d/%m/%Y"),
        "unit": member.unit.code,
        "paid": "15/03/2023",
        "category": "Ốm đau",
        "type": "Trợ cấp",
        "fund": "Quỹ Xã hội tỉnh P",
        "program": "",
        "from_above": "",
        "amount": "2.000.000",
    }
    values.update(overrides)
    return list(values.values())


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def preview(world, content, *, role="province", unit=None) -> ImportJob:
    return engine.start_import(
        kind=ImportJob.Kind.SUPPORT,
        unit=unit or world.province,
        upload=SimpleUploadedFile("ho-tro-2023.xlsx", content),
        by=world.users[role],
    )


def confirm(world, job, role="province") -> ImportJob:
    job = engine.confirm_import(job=job, by=world.users[role])
    job.refresh_from_db()
    return job


@pytest.fixture(autouse=True)
def funds_opened_before_the_records(funds):
    """The funds of ``funds`` are opened in 2024; the past records here go back to 2023, when
    a fund must already have been open (the import checks it): their books start in 2020."""
    LedgerEntry.objects.filter(kind=EntryKind.OPENING).update(occurred_on=FUNDS_OPENED)
    return funds


FUNDS_OPENED = datetime.date(2020, 1, 1)


def reasons(job) -> dict[int, list[tuple[str, str]]]:
    return {row["line"]: [tuple(error) for error in row["errors"]] for row in job.refused_sample}


def test_each_record_becomes_a_paid_case_without_touching_the_ledger(world, funds):
    entries = LedgerEntry.objects.count()
    job = preview(
        world,
        xlsx(
            [
                record(world.member_a1, program="Tháng Công nhân 2023"),
                record(
                    world.member_b1,
                    type="Quà Tết",
                    category="",
                    paid="20/01/2023",
                    amount=500000,
                    fund="Quỹ phúc lợi Công đoàn phường A",
                ),
                record(
                    world.member_a1,
                    unit="P-A-1",
                    type="Thăm hỏi",
                    fund="Quỹ CĐCS Công ty A1",
                    paid=datetime.datetime(2023, 6, 1),
                    category="tai nạn lao động",
                ),
            ]
        ),
    )
    # B1 is under commune B: the commune A fund is not above it
    assert (job.to_create, job.refused) == (2, 1), job.refused_sample
    assert reasons(job)[3][0][0] == "Quỹ"
    assert not Case.objects.exists()

    job = confirm(world, job)

    assert job.status == ImportJob.Status.DONE, job.error
    first, second = Case.objects.order_by("paid_on")
    assert (first.member, first.unit, first.paid_on) == (
        world.member_a1,
        world.a1,
        datetime.date(2023, 3, 15),
    )
    assert (first.status, first.approved_amount, first.requested_amount) == (
        "paid",
        2_000_000,
        2_000_000,
    )
    assert (first.category, first.support_type, first.fund) == ("illness", "grant", funds.social)
    assert first.circumstances == "Tháng Công nhân 2023"
    assert first.created_by == world.users["province"]
    assert (second.category, second.support_type, second.fund) == ("accident", "visit", funds.own)
    [event] = first.events.all()
    assert (event.action, event.amount, event.unit) == ("paid", 2_000_000, world.province)
    assert event.comment
    assert LedgerEntry.objects.count() == entries
    funds.social.refresh_from_db()
    assert (funds.social.balance, funds.social.reserved) == (100_000_000, 0)


def test_the_report_of_that_year_counts_them(world, funds):
    confirm(world, preview(world, xlsx([record(world.member_a1)])))
    figures = annual_figures(world.province, 2023, user=world.users["province"])
    assert (figures.totals.cases, figures.totals.amount) == (1, 2_000_000)


def test_reimporting_the_same_file_adds_nothing(world, funds):
    content = xlsx([record(world.member_a1), record(world.member_a1, paid="16/03/2023")])
    confirm(world, preview(world, content))

    again = preview(world, content)

    assert (again.to_create, again.unchanged, again.refused) == (0, 2, 0)
    assert Case.objects.count() == 2


def test_the_same_record_twice_in_a_file_is_refused_once(world, funds):
    job = preview(world, xlsx([record(world.member_a1), record(world.member_a1, amount=2000000)]))
    assert (job.to_create, job.refused) == (1, 1)
    assert "2" in reasons(job)[3][0][1]


def test_refused_records_say_why_in_vietnamese(world, funds):
    stranger = MemberFactory.build(unit=world.a1, national_id="040190000123")
    future = (datetime.date.today() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    rows = [
        record(world.member_q1, unit="P-A-1"),  # line 2: registered in province Q
        record(stranger),  # line 3: nobody has this ID
        record(world.member_a1, paid=future),  # line 4
        record(world.member_a1, type="Cho vay"),  # line 5: not a support type
        record(world.member_a1, fund="Quỹ Xã hội tỉnh Q"),  # line 6: another province's fund
        record(world.member_a1, unit="Q-1"),  # line 7: not under the province
        record(world.member_a1, name="Nguyễn Văn Ba"),  # line 8: not this person's name
        record(world.member_a1, amount="hai triệu"),  # line 9
    ]
    with translation.override("vi"):
        job = preview(world, xlsx(rows))
        elsewhere = gettext("This person is registered in another union.")
    found = reasons(job)
    assert sorted(found) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert found[2] == [("Số định danh cá nhân (CCCD)", elsewhere)]
    assert world.q1.name not in str(job.refused_sample)
    assert found[3][0][0] == "Số định danh cá nhân (CCCD)"
    assert [column for column, _reason in found[4]] == ["Ngày chi"]
    assert [column for column, _reason in found[5]] == ["Hình thức hỗ trợ"]
    assert [column for column, _reason in found[6]] == ["Quỹ"]
    assert [column for column, _reason in found[7]] == ["Mã công đoàn cơ sở"]
    assert found[8] == [("Họ và tên", found[8][0][1])] and "Nguyễn Văn An" in found[8][0][1]
    assert [column for column, _reason in found[9]] == ["Số tiền (đồng)"]
    assert job.to_create == 0


def test_the_fund_is_looked_up_on_the_tree_as_it_stood_on_the_date(world, funds):
    """A2 moved from commune A to commune B in 2024: support paid in 2023 from commune A's
    fund is accepted, the same in 2025 is not."""
    member = MemberFactory(unit=world.a2, full_name="Bùi Thị Hạnh", sex="female")
    move_unit(
        unit=world.a2,
        new_parent=world.commune_b,
        effective_on=datetime.date(2024, 1, 1),
        by=world.users["admin"],
    )
    fund = "Quỹ phúc lợi Công đoàn phường A"
    job = preview(
        world,
        xlsx([record(member, fund=fund), record(member, fund=fund, paid="10/02/2025")]),
    )
    assert (job.to_create, job.refused) == (1, 1)
    assert reasons(job)[3][0][0] == "Quỹ"


def test_a_fund_is_found_by_the_start_of_its_name_or_its_number(world, funds):
    job = preview(
        world,
        xlsx(
            [
                record(world.member_a1, fund="quy xa hoi"),
                record(world.member_a1, fund=str(funds.social.pk), paid="01/04/2023"),
            ]
        ),
    )
    assert (job.to_create, job.refused) == (2, 0), job.refused_sample


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trợ cấp", SupportType.GRANT),
        ("grant", SupportType.GRANT),
        ("Quà Tết Sum vầy 2024", SupportType.TET_GIFT),
        ("Thăm hỏi, tặng quà", SupportType.VISIT),
        ("Mái ấm Công đoàn", SupportType.SHELTER),
        ("hoc bong", SupportType.SCHOLARSHIP),
    ],
)
def test_support_types_in_the_words_lists_use(text, expected):
    from welfare.imports.support import SUPPORT_WORDS, _words_for, choice_from

    assert choice_from(text, _words_for(SupportType, SUPPORT_WORDS), "%(value)s") == expected


def test_a_grassroots_officer_imports_the_records_of_their_own_union(world, funds):
    header = [column for column in HEADER if column != "Mã công đoàn cơ sở"]
    row = record(world.member_a1, fund="Quỹ CĐCS Công ty A1")
    del row[3]
    job = preview(world, xlsx([row], header=header), role="grassroots", unit=world.a1)
    job = confirm(world, job, role="grassroots")
    assert job.status == ImportJob.Status.DONE
    assert Case.objects.get().unit == world.a1
    assert CaseEvent.objects.get().unit == world.a1


def test_all_or_nothing_when_the_database_fails(world, funds, monkeypatch):
    monkeypatch.setattr("welfare.imports.support.WRITE_BATCH", 1)
    rows = [record(world.member_a1, paid=f"0{day}/03/2023") for day in (1, 2, 3)]
    job = preview(world, xlsx(rows))
    original, calls = welfare_imports.insert_rows, []

    def failing(model, rows):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return original(model, rows)

    monkeypatch.setattr(welfare_imports, "insert_rows", failing)

    job = confirm(world, job)

    assert len(calls) == 2
    assert job.status == ImportJob.Status.FAILED
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_pages_of_the_support_import(client_for, world, funds):
    client = client_for("province")
    assert client.get(reverse("support_imports:list")).status_code == 200
    response = client.post(
        reverse("support_imports:list"),
        {
            "unit": world.province.pk,
            "file": SimpleUploadedFile("a.xlsx", xlsx([record(world.member_a1)])),
        },
    )
    job = ImportJob.objects.get(kind=ImportJob.Kind.SUPPORT)
    assert response["Location"] == reverse("support_imports:detail", args=[job.pk])
    client.post(reverse("support_imports:confirm", args=[job.pk]))
    assert Case.objects.filter(status=CaseStatus.PAID, category=Category.ILLNESS).count() == 1
    template = client.get(reverse("support_imports:template"), {"unit": world.commune_a.pk})
    workbook = load_workbook(io.BytesIO(template.content))
    assert [cell.value for cell in workbook.worksheets[0][1]] == HEADER
    # a member-import job is not reachable through the support pages, nor the reverse
    assert client.get(reverse("members:import_detail", args=[job.pk])).status_code == 404


# --- the past as it stood ------------------------------------------------------------------


def test_a_union_that_did_not_exist_on_the_date_is_refused_with_its_dates(world, funds):
    member = MemberFactory(unit=world.a2, full_name="Bùi Thị Hạnh")
    Unit = type(world.a2)
    Unit.objects.filter(pk=world.a2.pk).update(founded_on=datetime.date(2023, 6, 1))
    job = preview(
        world,
        xlsx(
            [
                record(member, paid="15/03/2023"),  # before A2 was founded
                record(member, paid="15/07/2023"),
            ]
        ),
    )
    assert (job.to_create, job.refused) == (1, 1), job.refused_sample
    [(column, reason)] = reasons(job)[2]
    assert column == "Mã công đoàn cơ sở"
    assert "01/06/2023" in reason and "15/03/2023" in reason and world.a2.name in reason


def test_a_merged_union_names_the_union_that_stood_in_its_place(world, funds):
    member = MemberFactory(unit=world.a2, full_name="Bùi Thị Hạnh")
    record_row = record(member, paid="10/03/2025")
    merge_unit(
        unit=world.a2,
        into=world.a1,
        effective_on=datetime.date(2025, 1, 1),
        by=world.users["admin"],
    )
    job = preview(world, xlsx([record_row]))
    [(column, reason)] = reasons(job)[2]
    assert column == "Mã công đoàn cơ sở"
    assert "01/01/2025" in reason and world.a1.name in reason


def test_a_fund_opened_after_the_date_is_refused(world, funds):
    LedgerEntry.objects.filter(fund=funds.social, kind=EntryKind.OPENING).update(
        occurred_on=datetime.date(2023, 6, 1)
    )
    job = preview(
        world, xlsx([record(world.member_a1), record(world.member_a1, paid="02/06/2023")])
    )
    assert (job.to_create, job.refused) == (1, 1)
    [(column, reason)] = reasons(job)[2]
    assert column == "Quỹ" and "01/06/2023" in reason and "Quỹ Xã hội tỉnh P" in reason


def test_support_booked_above_grassroots_needs_the_column_for_it(world, funds):
    upper = record(
        world.member_a1, unit=world.commune_a.code, fund="Quỹ phúc lợi Công đoàn phường A"
    )
    marked = list(upper)
    marked[HEADER.index("Cấp trên hỗ trợ")] = "x"
    marked[HEADER.index("Ngày chi")] = "16/03/2023"
    job = preview(world, xlsx([upper, marked]))
    assert (job.to_create, job.refused) == (1, 1), job.refused_sample
    [(column, reason)] = reasons(job)[2]
    assert column == "Mã công đoàn cơ sở"
    assert world.a1.name in reason and "Cấp trên hỗ trợ" in reason
    confirm(world, job)
    assert Case.objects.get().unit == world.commune_a


def test_a_person_in_another_union_on_the_date_is_refused(world, funds):
    member = MemberFactory(unit=world.a2, full_name="Bùi Thị Hạnh")
    # booked at A1 while the person was in A2; marking it from above does not help, A1 is
    # not above A2
    wrong = record(member, unit=world.a1.code)
    marked = list(wrong)
    marked[HEADER.index("Cấp trên hỗ trợ")] = "có"
    marked[HEADER.index("Ngày chi")] = "16/03/2023"
    job = preview(world, xlsx([wrong, marked]))
    assert (job.to_create, job.refused) == (0, 2)
    found = reasons(job)
    assert world.a2.name in found[2][0][1] and world.a1.name in found[2][0][1]
    assert "Cấp trên hỗ trợ" in found[3][0][1]


def test_a_transfer_is_read_on_the_date_of_each_record(world, funds):
    member = MemberFactory(unit=world.a1, full_name="Bùi Thị Hạnh")
    transfer_member(
        member=member,
        to_unit=world.a2,
        effective_on=datetime.date(2024, 1, 1),
        by=world.users["province"],
    )
    job = preview(
        world,
        xlsx(
            [
                record(member, unit=world.a1.code, paid="15/03/2023"),  # in A1 then
                record(member, unit=world.a2.code, paid="15/03/2024"),  # in A2 then
                record(member, unit=world.a1.code, paid="16/03/2024"),  # no longer in A1
            ]
        ),
    )
    assert (job.to_create, job.refused) == (2, 1), job.refused_sample
    assert world.a2.name in reasons(job)[4][0][1]


def unidentified_worker(unit, name="Lò Văn Thắng"):
    return MemberFactory(
        full_name=name,
        date_of_birth=datetime.date(1996, 8, 20),
        national_id=None,
        unidentified=True,
        kind="worker",
        unit=unit,
        joined_on=datetime.date(2020, 1, 1),
    )


def test_a_row_without_a_cccd_names_an_unidentified_worker_by_name_and_birth(world, funds):
    worker = unidentified_worker(world.a1)
    row = record(worker, id="", name="LO VAN THANG")
    job = preview(world, xlsx([row]))
    assert (job.to_create, job.refused) == (1, 0), job.refused_sample
    confirm(world, job)
    case = Case.objects.get(member=worker)
    assert (case.status, case.approved_amount) == (CaseStatus.PAID, 2_000_000)
    # imported again: the same record is there
    assert preview(world, xlsx([row])).unchanged == 1


def test_a_row_without_a_cccd_is_refused_when_no_or_several_workers_match(world, funds):
    unidentified_worker(world.a1, name="Vàng A Páo")
    unidentified_worker(world.a2, name="Vàng A Páo")
    # Identified people are not matched by name: only a worker recorded without a number is.
    identified = MemberFactory(unit=world.a1, full_name="Bùi Thị Hạnh")
    outside = unidentified_worker(world.q1, name="Sùng A Lử")  # another province's worker
    rows = [
        record(identified, id=""),
        record(outside, id="", unit="P-A-1"),
        record(identified, id="", birth="20/08/1996", unit="P-A-1"),
        ["", "Vàng A Páo", "20/08/1996", "P-A-1", *record(identified)[4:]],
        ["", "", "", "P-A-1", *record(identified)[4:]],
    ]
    with translation.override("vi"):
        job = preview(world, xlsx(rows))
    assert (job.to_create, job.refused) == (0, 5)
    found = reasons(job)
    assert "không có người lao động nào" in found[2][0][1]
    assert "không có người lao động nào" in found[3][0][1]
    assert "nhiều người lao động" in found[5][0][1]
    assert found[6][0][0] == "Số định danh cá nhân (CCCD)"
