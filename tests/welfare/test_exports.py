"""The case list's and the fund ledger's exports: exactly the rows the page's filters select
(every page of them, not one), never a row outside the reader's scope, streamed row by row,
with Vietnamese headers and amounts as numbers."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db.models.query import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from unions.tree import move_unit
from welfare.cases import approvals
from welfare.cases.forms import CaseFilter
from welfare.funds.ledger import record_contribution
from welfare.models import Case, EntryKind, LedgerEntry

from ..factories import system_user

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def case_export(fmt: str = "csv") -> str:
    return reverse("cases:export", args=[fmt])


def ledger_export(fund, fmt: str = "csv") -> str:
    return reverse("funds:export", args=[fund.pk, fmt])


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def xlsx_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.active.iter_rows(values_only=True))


def vietnamese(msgid: str) -> str:
    with translation.override("vi"):
        return gettext(msgid)


def case_ids(rows) -> list[int]:
    return [int(row[0]) for row in rows[1:]]


@pytest.fixture
def many_cases(world, funds, make_case, settings):
    """25 cases at A1 in every state, one at B1 and one in province Q; pages of 10."""
    settings.PAGE_SIZE = 10
    states = ["draft", "submitted", "endorsed", "approved", "paid"]
    cases = [make_case(states[n % 5], amount=100_000 + n) for n in range(25)]
    at_b1 = make_case("submitted", member=world.member_b1, by=world.users["province"])
    in_q = make_case("submitted", member=world.member_q1, fund=funds.other)
    return cases, at_b1, in_q


# --- cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "paid"},
        {"unit": "commune_a"},
        {"waiting": "1"},
        {"status": "submitted", "mine": "1"},
    ],
)
def test_case_export_holds_every_case_the_filters_select_in_the_lists_order(
    client_for, world, many_cases, params
):
    if "unit" in params:
        params = {**params, "unit": getattr(world, params["unit"]).pk}
    client = client_for("province")
    listed = client.get(reverse("cases:list"), params).context["page"]
    selected = list(
        CaseFilter(params or None, user=world.users["province"]).qs.values_list("pk", flat=True)
    )
    exported = case_ids(csv_rows(client.get(case_export(), params)))
    assert exported == selected
    # every page of the list, not the one shown
    assert len(exported) == listed.count
    assert [case.pk for case in listed.object_list] == exported[:10]


def test_case_export_of_waiting_for_me_is_what_waits_for_me(client_for, world, many_cases):
    waiting = list(approvals.waiting_for(world.users["treasurer"]).values_list("pk", flat=True))
    assert len(waiting) == 5  # the approved ones, for the province treasurer to pay
    rows = csv_rows(client_for("treasurer").get(case_export(), {"waiting": "1"}))
    assert case_ids(rows) == waiting


def test_case_export_never_holds_a_case_outside_scope(client_for, world, many_cases):
    cases, at_b1, in_q = many_cases
    officer = case_ids(csv_rows(client_for("grassroots").get(case_export())))
    assert sorted(officer) == sorted(case.pk for case in cases)
    # asking for another union's cases gives nothing more
    assert at_b1.pk not in case_ids(
        csv_rows(client_for("grassroots").get(case_export(), {"unit": world.b1.pk}))
    )
    province = case_ids(csv_rows(client_for("province").get(case_export())))
    assert at_b1.pk in province and in_q.pk not in province
    assert in_q.pk not in case_ids(csv_rows(client_for("commune").get(case_export())))


def test_case_export_in_xlsx_has_vietnamese_headers_and_amounts_as_numbers(
    client_for, world, funds, make_case
):
    paid = make_case("paid", amount=2_500_000)
    [header, row] = xlsx_rows(client_for("province").get(case_export("xlsx")))
    assert header[:4] == ("Hồ sơ", "Ngày lập", "Gửi đề xuất", "Cá nhân")
    assert "Số tiền đề xuất" in header and "Số tiền phê duyệt" in header
    record = dict(zip(header, row, strict=True))
    assert record["Hồ sơ"] == paid.pk
    assert record["Cá nhân"] == "Nguyễn Văn An"
    assert record["Số tiền đề xuất"] == 2_500_000
    assert record["Số tiền phê duyệt"] == 2_500_000
    assert record["Quỹ"] == "Quỹ Xã hội tỉnh P"
    assert record["Trạng thái"] == "Đã chi"
    assert record[vietnamese("Paid on")] == TODAY.strftime("%d/%m/%Y")
    assert not record[vietnamese("Waiting at")]


def test_unknown_case_export_format_is_not_found(client_for, world):
    assert client_for("province").get(case_export("pdf")).status_code == 404


def test_exports_stream_rows_from_an_iterator(client_for, world, funds, many_cases, monkeypatch):
    """Rows come from ``QuerySet.iterator`` in chunks, never from a list of the whole result."""
    iterated, listed = [], []
    iterator, fetch_all = QuerySet.iterator, QuerySet._fetch_all

    def spy_iterator(self, *args, **kwargs):
        iterated.append(self.model)
        return iterator(self, *args, **kwargs)

    def spy_fetch_all(self):
        if self.model in (Case, LedgerEntry) and self._result_cache is None:
            listed.append(self.model)
        return fetch_all(self)

    monkeypatch.setattr(QuerySet, "iterator", spy_iterator)
    monkeypatch.setattr(QuerySet, "_fetch_all", spy_fetch_all)
    client = client_for("province")
    assert len(csv_rows(client.get(case_export()))) == 27
    assert len(xlsx_rows(client.get(case_export("xlsx")))) == 27
    assert len(csv_rows(client.get(ledger_export(funds.social)))) > 5
    assert iterated == [Case, Case, LedgerEntry]
    assert listed == []


def test_case_export_runs_a_fixed_number_of_queries(
    client_for, world, funds, make_case, django_assert_max_num_queries
):
    client = client_for("province")
    make_case("paid")
    with django_assert_max_num_queries(6):
        few = csv_rows(client.get(case_export()))
    for n in range(20):
        make_case("approved", amount=10_000 + n)
    with django_assert_max_num_queries(6):
        many = csv_rows(client.get(case_export()))
    assert (len(few), len(many)) == (2, 22)


# --- fund ledgers ----------------------------------------------------------------------------


def _contribute(fund, amount, on):
    return record_contribution(
        fund=fund, amount=amount, occurred_on=on, source="Công ty Điện lực", by=system_user()
    )


@pytest.fixture
def ledger(world, funds, settings):
    """The province's social fund: its opening and 60 contributions in March-April 2024;
    pages of 10."""
    settings.PAGE_SIZE = 10
    for n in range(60):
        _contribute(funds.social, 1_000 + n, datetime.date(2024, 3, 1) + datetime.timedelta(n))
    return funds.social


def entry_ids(rows) -> list[int]:
    return [int(row[0]) for row in rows[1:]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"date_from": "2024-03-10", "date_to": "2024-04-05"},
        {"kind": EntryKind.OPENING},
        {"date_from": "2024-04-20", "kind": EntryKind.CONTRIBUTION},
        {"date_from": "2024-03-20", "date_to": "2024-03-01"},  # backwards: the whole ledger
    ],
)
def test_ledger_export_holds_every_entry_the_filters_select(client_for, ledger, params):
    client = client_for("leader")
    page = client.get(reverse("funds:detail", args=[ledger.pk]), params).context
    entries = ledger.entries.all()
    if params.get("date_from") == "2024-03-10":
        entries = entries.filter(occurred_on__range=("2024-03-10", "2024-04-05"))
    elif params.get("kind") == EntryKind.OPENING:
        entries = entries.filter(kind=EntryKind.OPENING)
    elif params.get("kind"):
        entries = entries.filter(kind=EntryKind.CONTRIBUTION, occurred_on__gte="2024-04-20")
    expected = list(entries.order_by("pk").values_list("pk", flat=True))
    exported = entry_ids(csv_rows(client.get(ledger_export(ledger), params)))
    assert exported == expected  # oldest first, so that the balance runs down the sheet
    assert len(exported) == page["summary"]["count"]
    assert {e.pk for e in page["page"].object_list} <= set(exported)


def test_ledger_export_has_the_running_balance_and_amounts_as_numbers(client_for, ledger):
    rows = xlsx_rows(client_for("treasurer").get(ledger_export(ledger, "xlsx")))
    header = rows[0]
    assert header[:3] == (vietnamese("Entry number"), "Ngày", "Loại")
    amount, balance = header.index("Số tiền"), header.index("Số dư sau giao dịch")
    running = 0
    for row in rows[1:]:
        assert isinstance(row[amount], int) and isinstance(row[balance], int)
        running += row[amount]
        assert row[balance] == running
    assert running == ledger.entries.order_by("-pk").first().balance_after
    assert rows[2][header.index("Nội dung")] == "từ Công ty Điện lực"


def test_ledger_export_outside_scope_is_not_found(client_for, world, funds):
    commune = client_for("commune")
    assert commune.get(ledger_export(funds.commune)).status_code == 200
    assert commune.get(ledger_export(funds.own)).status_code == 200  # a union under it
    assert commune.get(ledger_export(funds.social)).status_code == 404  # the province's
    assert commune.get(ledger_export(funds.other)).status_code == 404
    assert client_for("grassroots").get(ledger_export(funds.commune)).status_code == 404


def test_ledger_export_hides_the_person_of_a_case_now_outside_scope(
    client_for, world, funds, make_case
):
    case = make_case("paid", fund=funds.commune, amount=1_000_000)
    move_unit(
        unit=world.a1, new_parent=world.commune_b, effective_on=TODAY, by=world.users["admin"]
    )
    header, *rows = csv_rows(client_for("commune").get(ledger_export(funds.commune)))
    paid = dict(zip(header, rows[-1], strict=True))
    assert paid["Nội dung"] == "Chi hỗ trợ cho hồ sơ ngoài phạm vi của bạn"
    assert paid["Hồ sơ"] == ""
    assert world.member_a1.full_name not in "".join(",".join(row) for row in rows)
    # the province still sees whose support it was
    header, *rows = csv_rows(client_for("province").get(ledger_export(funds.commune)))
    paid = dict(zip(header, rows[-1], strict=True))
    assert world.member_a1.full_name in paid["Nội dung"]
    assert paid["Hồ sơ"] == str(case.pk)


def test_ledger_export_runs_a_fixed_number_of_queries(
    client_for, ledger, django_assert_max_num_queries
):
    client = client_for("province")
    with django_assert_max_num_queries(5):
        rows = csv_rows(client.get(ledger_export(ledger)))
    assert len(rows) == 62
