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
    BeneficiaryOrganisation,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    EntryKind,
    LedgerEntry,
    SupportType,
)
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative

from ..factories import DependantFactory, MemberFactory

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
# The columns for a child, and for an organisation instead of a person.
BENEFICIARY_HEADER = [
    "Họ tên con (sổ tiết kiệm, học bổng)",
    "Tổ chức nhận hỗ trợ",
    "Loại tổ chức",
    "Địa chỉ tổ chức",
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
    assert [cell.value for cell in workbook.worksheets[0][1]] == HEADER + BENEFICIARY_HEADER
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


# --- a fund the sheet names and the portal lacks --------------------------------------------


def test_a_missing_fund_is_listed_with_its_lines_and_first_date(world, funds):
    rows = [
        record(world.member_a1, fund="Quỹ phúc lợi CĐCS A1", paid="20/05/2021"),
        record(world.member_a1, fund="quỹ phúc lợi cđcs a1", paid="03/02/2021", amount="500.000"),
        record(world.member_a1),
    ]
    job = preview(world, xlsx(rows))
    assert (job.to_create, job.refused) == (1, 2)
    [missing] = job.missing_funds
    assert missing["name"] == "Quỹ phúc lợi CĐCS A1"
    assert (missing["unit_id"], missing["unit"]) == (world.a1.pk, world.a1.name)
    assert (missing["first"], missing["lines"], missing["rows"]) == ("2021-02-03", [2, 3], 2)


def open_fund_form(job, index=0, **overrides) -> dict:
    values = {
        "name": job.missing_funds[index]["name"],
        "kind": "welfare",
        "opened_on": "2021-01-01",
        "confirm": "on",
    }
    values.update(overrides)
    return {f"fund{index}-{key}": value for key, value in values.items()}


def test_opening_the_missing_fund_checks_the_file_again(client_for, world, funds):
    rows = [
        record(world.member_a1, fund="Quỹ phúc lợi CĐCS A1", paid=f"0{d}/03/2021") for d in (1, 2)
    ]
    job = preview(world, xlsx(rows))
    client = client_for("province")
    page = client.get(reverse("support_imports:detail", args=[job.pk]))
    assert b"open-fund-form" in page.content and "Quỹ phúc lợi CĐCS A1" in page.content.decode()

    url = reverse("support_imports:open_fund", args=[job.pk, 0])
    form = open_fund_form(job)
    response = client.post(url, form)

    assert response["Location"] == reverse("support_imports:detail", args=[job.pk])
    fund = world.a1.funds.get(name="Quỹ phúc lợi CĐCS A1")
    # a fund of past records: closed, empty, opened on the day given
    assert (fund.opened_on, fund.is_active, fund.balance, fund.entries.count()) == (
        datetime.date(2021, 1, 1),
        False,
        0,
        0,
    )
    job.refresh_from_db()
    assert (job.status, job.to_create, job.refused, job.missing_funds) == (
        ImportJob.Status.PREVIEWED,
        2,
        0,
        [],
    )
    confirm(world, job)
    assert Case.objects.filter(fund=fund, status=CaseStatus.PAID).count() == 2
    # the page of the job no longer offers it, and a second post opens nothing
    client.post(url, form)
    assert world.a1.funds.filter(name="Quỹ phúc lợi CĐCS A1").count() == 1


def test_a_past_fund_is_not_opened_without_the_confirmation_or_after_its_records(
    client_for, world, funds
):
    job = preview(world, xlsx([record(world.member_a1, fund="Quỹ A1 cũ", paid="10/03/2021")]))
    client = client_for("province")
    url = reverse("support_imports:open_fund", args=[job.pk, 0])
    messages = []
    for form in (
        open_fund_form(job, confirm=""),
        open_fund_form(job, opened_on="2021-03-11"),
        open_fund_form(job, name="Quỹ khác"),
        open_fund_form(job, opened_on="2099-01-01"),
    ):
        response = client.post(url, form, follow=True)
        messages.append(" ".join(str(m) for m in response.context["messages"]))
    assert not world.a1.funds.filter(name__in=["Quỹ A1 cũ", "Quỹ khác"]).exists()
    assert "Đánh dấu xác nhận" in messages[0]
    assert "10/03/2021" in messages[1]
    assert "Quỹ A1 cũ" in messages[2]
    assert messages[3]  # a date after its records, and in the future
    job.refresh_from_db()
    assert (job.status, job.refused) == (ImportJob.Status.PREVIEWED, 1)


def test_only_the_uploader_opens_a_past_fund(client_for, world, funds):
    job = preview(world, xlsx([record(world.member_a1, fund="Quỹ A1 cũ", paid="10/03/2021")]))
    url = reverse("support_imports:open_fund", args=[job.pk, 0])
    # another officer of the province sees the job but is offered no form, and cannot post one
    other = client_for("commune")
    assert other.get(reverse("support_imports:detail", args=[job.pk])).status_code in (200, 404)
    response = other.post(url, open_fund_form(job))
    assert response.status_code in (403, 404)
    # outside the union's scope: not found
    assert client_for("q_officer").post(url, open_fund_form(job)).status_code == 404
    assert not world.a1.funds.filter(name="Quỹ A1 cũ").exists()


def test_a_fund_opened_on_a_day_refuses_the_records_before_it(world, funds):
    funds.own.opened_on = datetime.date(2023, 4, 1)
    funds.own.save()
    LedgerEntry.objects.filter(fund=funds.own).update(occurred_on=datetime.date(2023, 4, 1))
    job = preview(
        world,
        xlsx(
            [
                record(world.member_a1, fund="Quỹ CĐCS Công ty A1"),
                record(world.member_a1, fund="Quỹ CĐCS Công ty A1", paid="01/04/2023"),
            ]
        ),
    )
    assert (job.to_create, job.refused) == (1, 1)
    [(column, reason)] = reasons(job)[2]
    assert column == "Quỹ" and "01/04/2023" in reason
    assert job.missing_funds == []


# --- organisations, visits without money, children -----------------------------------------

FULL_HEADER = HEADER + BENEFICIARY_HEADER


def full_record(member=None, *, child="", organisation="", kind="", address="", **overrides):
    """A row with the beneficiary columns: a person's (``member``), or with no person (an
    organisation's) when ``member`` is None."""
    values = _no_person(**overrides) if member is None else record(member, **overrides)
    return [*values, child, organisation, kind, address]


def _no_person(**overrides) -> list:
    values = {
        "id": "",
        "name": "",
        "birth": "",
        "unit": "",
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


def test_a_row_may_name_an_organisation_added_once(world, funds):
    rows = [
        full_record(
            unit="P-A-1",
            organisation="Bệnh viện Đa khoa tỉnh P",
            kind="Bệnh viện",
            address="Phường Đông Kinh",
            amount="10.000.000",
        ),
        full_record(
            unit="P-A-1",
            organisation="BENH VIEN DA KHOA TINH P",
            paid="20/03/2023",
            amount="5.000.000",
        ),
    ]
    job = confirm(world, preview(world, xlsx(rows, FULL_HEADER)))
    assert job.status == ImportJob.Status.DONE, (job.error, job.refused_sample)
    [hospital] = BeneficiaryOrganisation.objects.all()
    assert (hospital.name, hospital.kind, hospital.unit) == (
        "Bệnh viện Đa khoa tỉnh P",
        "health",
        world.a1,
    )
    assert hospital.address == "Phường Đông Kinh"
    cases = Case.objects.filter(organisation=hospital, status=CaseStatus.PAID)
    assert sorted(cases.values_list("approved_amount", flat=True)) == [5_000_000, 10_000_000]
    assert not cases.filter(member__isnull=False).exists()
    # the same file again adds nothing
    again = preview(world, xlsx(rows, FULL_HEADER))
    assert (again.to_create, again.unchanged) == (0, 2)
    assert BeneficiaryOrganisation.objects.count() == 1


def test_a_row_with_both_a_person_and_an_organisation_or_neither_is_refused(world, funds):
    rows = [
        full_record(world.member_a1, organisation="Trường Tiểu học A"),
        full_record(unit="P-A-1"),
    ]
    job = preview(world, xlsx(rows, FULL_HEADER))
    assert (job.to_create, job.refused) == (0, 2)
    found = reasons(job)
    assert found[2] == [
        (
            "Tổ chức nhận hỗ trợ",
            "Mỗi dòng dành cho một người (CCCD) hoặc một tổ chức, không cho cả hai: "
            "hãy xóa một trong hai.",
        )
    ]
    assert found[3][0][0] == "Số định danh cá nhân (CCCD)"
    assert "Tổ chức nhận hỗ trợ" in found[3][0][1]


def test_zero_is_a_visit_without_money_and_nothing_else(world, funds):
    rows = [
        full_record(world.member_a1, type="Thăm hỏi", amount=0),
        full_record(world.member_a1, type="Trợ cấp", amount="0", paid="16/03/2023"),
    ]
    job = preview(world, xlsx(rows, FULL_HEADER))
    assert (job.to_create, job.refused) == (1, 1)
    assert reasons(job)[3] == [
        ("Số tiền (đồng)", "Chỉ lượt thăm hỏi mới được ghi không kèm tiền (0 đồng).")
    ]
    confirm(world, job)
    visit = Case.objects.get()
    assert (visit.support_type, visit.approved_amount, visit.status) == ("visit", 0, "paid")


def test_the_child_is_found_among_the_members_dependants(world, funds):
    DependantFactory(member=world.member_a1, full_name="Nguyễn Thu Hà")
    rows = [
        full_record(world.member_a1, type="Sổ tiết kiệm", child="NGUYEN MINH KHOI"),
        full_record(world.member_a1, type="Sổ tiết kiệm", child="Nguyễn Văn Tí", paid="17/03/2023"),
        full_record(world.member_a1, type="Trợ cấp", child="Nguyễn Thu Hà", paid="18/03/2023"),
    ]
    job = preview(world, xlsx(rows, FULL_HEADER))
    assert (job.to_create, job.refused) == (1, 2)
    found = reasons(job)
    assert found[3] == [
        (
            "Họ tên con (sổ tiết kiệm, học bổng)",
            "“Nguyễn Văn Tí” không có trong danh sách con của đoàn viên này: "
            "Nguyễn Minh Khôi, Nguyễn Thu Hà.",
        )
    ]
    assert found[4][0][1] == "Chỉ ghi tên con đối với sổ tiết kiệm hoặc học bổng."
    confirm(world, job)
    assert Case.objects.get().dependant.full_name == "Nguyễn Minh Khôi"


def test_a_past_year_from_the_sheets_gives_a_report_that_agrees_with_them(world, funds):
    """Members, then past support with organisations, visits without money and a child's
    savings book, all through the imports: the report of that year tells what the sheets
    hold, and the rows the sheets got wrong are refused, not counted."""
    from members.models import Member

    from ..members import test_imports as member_sheets

    members = member_sheets.preview(
        world,
        member_sheets.xlsx(
            [
                member_sheets.person(1, name="Hoàng Văn Minh"),
                member_sheets.person(
                    2,
                    name="Trần Thị Lan",
                    sex="Nữ",
                    id=member_sheets.cccd(2, sex="female"),
                ),
            ]
        ),
    )
    member_sheets.confirm(world, members)
    minh = Member.objects.get(full_name="Hoàng Văn Minh")
    lan = Member.objects.get(full_name="Trần Thị Lan")
    DependantFactory(member=minh, full_name="Hoàng Minh Đức")
    sheet = [
        full_record(minh, amount="2.000.000"),
        full_record(minh, type="Thăm hỏi", amount=0, paid="20/03/2023"),
        full_record(lan, type="Thăm hỏi động viên", amount="0", paid="21/03/2023"),
        full_record(
            minh,
            type="Sổ tiết kiệm",
            category="Qua đời",
            amount="5.000.000",
            child="hoàng minh đức",
            paid="01/05/2023",
        ),
        full_record(
            unit="P-A-1",
            organisation="Bệnh viện Đa khoa tỉnh P",
            kind="Bệnh viện",
            category="Dịch bệnh",
            amount="10.000.000",
            paid="02/06/2023",
        ),
        full_record(
            unit="P-A-1",
            organisation="Bệnh viện đa khoa tỉnh P",
            category="Dịch bệnh",
            amount="5.000.000",
            paid="03/07/2023",
        ),
        full_record(
            unit=world.province.code,
            organisation="Chốt kiểm dịch cửa khẩu",
            kind="Chốt kiểm dịch",
            category="Dịch bệnh",
            amount="3.000.000",
            paid="04/08/2023",
        ),
        # refused: a grant of nothing, a child who is not Minh's
        full_record(minh, amount="0", paid="05/08/2023"),
        full_record(minh, type="Học bổng", child="Hoàng Văn Tèo", paid="06/08/2023"),
    ]
    job = confirm(world, preview(world, xlsx(sheet, FULL_HEADER)))
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.to_create, job.refused) == (7, 2)

    figures = annual_figures(world.province, 2023)
    assert figures.totals.people == 2  # Minh and Lan: the hospital and the checkpoint are not
    assert figures.totals.turns == 7
    assert figures.totals.amount == 25_000_000
    org = figures.organisations
    assert (org.cases, org.people, org.amount) == (3, 2, 18_000_000)
    by_type = {row.key: row for row in figures.by_type}
    assert (by_type["visit"].cases, by_type["visit"].people, by_type["visit"].amount) == (2, 2, 0)
    savings = {row.key: row for row in figures.highlighted}["savings_book"]
    assert (savings.cases, savings.people, savings.children, savings.amount) == (
        1,
        1,
        1,
        5_000_000,
    )
    assert sum(row.amount for row in figures.by_child) == 25_000_000
    text = narrative(figures)
    assert "đã hỗ trợ 2 đoàn viên, người lao động" in text
    assert "7 lượt hỗ trợ, tổng số tiền 25 triệu đồng" in text
    assert "thăm hỏi 2 đoàn viên, người lao động với 2 lượt" in text
    assert "trao 1 sổ tiết kiệm cho 1 cháu, trị giá 5 triệu đồng" in text
    assert "hỗ trợ 2 tổ chức, tập thể với 18 triệu đồng (3 lượt)" in text


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
