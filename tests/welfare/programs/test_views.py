"""The program pages: what they show, what their forms do, what they cost."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse

from welfare.cases.models import Case, CaseStatus, SupportType
from welfare.funds.models import EntryKind, LedgerEntry
from welfare.programs.models import Batch, BatchLine, LineStatus, Participant, Program

from ...access import told
from ...factories import MemberFactory
from .conftest import YEAR

pytestmark = pytest.mark.django_db


def _many(world, n):
    return [MemberFactory(full_name=f"Công nhân {i:03}", unit=world.a1) for i in range(n)]


def test_program_page_shows_the_figures_per_unit(client_for, world, make_batch, people):
    make_batch(members=people, state="paid")
    response = client_for("province").get(
        reverse("programs:detail", args=[Program.objects.get().pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "2.500.000 ₫" in body  # approved and paid
    assert "500.000 ₫" in body  # remaining of the 3.000.000 budget
    assert world.a1.name in body and world.b1.name in body
    assert "<svg" in body


@pytest.mark.parametrize("page", ["detail", "batch"])
def test_program_and_batch_pages_cost_the_same_queries_for_any_number_of_people(
    client_for, world, make_batch, django_assert_max_num_queries, page
):
    def cost(members):
        batch = make_batch(members=members, state="submitted")
        url = (
            reverse("programs:detail", args=[batch.program_id])
            if page == "detail"
            else reverse("programs:batch", args=[batch.pk])
        )
        client = client_for("province")
        client.get(url)  # the session and the grants, read once
        with django_assert_max_num_queries(12) as counted:
            assert client.get(url).status_code == 200
        Batch.objects.filter(pk=batch.pk).update(status=CaseStatus.DRAFT)
        return len(counted.captured_queries)

    few = cost(_many(world, 3))
    Case.objects.all().delete()
    BatchLine.objects.all().delete()
    Batch.objects.all().delete()
    assert cost(_many(world, 60)) == few


def test_the_people_picker_filters_and_adds_everyone_found(client_for, world, make_batch, people):
    batch = make_batch()  # the A1 member is listed
    client = client_for("grassroots")
    url = reverse("programs:batch_people", args=[batch.pk])
    found = client.get(url, {"poor_household": "on"})
    assert [m.full_name for m in found.context["found"]] == ["Người 0"]
    response = client.post(url, {"kind": "member", "all": "1", "amount": ""})
    assert response.status_code == 302
    amounts = dict(BatchLine.objects.filter(batch=batch).values_list("member__full_name", "amount"))
    assert amounts == {
        world.member_a1.full_name: 500_000,
        "Người 0": 1_000_000,
        "Người 1": 500_000,
        "Người 2": 500_000,
        "Người 3": 500_000,
    }


def test_the_batch_page_warns_of_support_of_the_same_type_this_year(
    client_for, world, funds, make_batch, make_case
):
    case = make_case("approved")
    Case.objects.filter(pk=case.pk).update(support_type=SupportType.TET_GIFT)
    batch = make_batch()
    response = client_for("grassroots").get(reverse("programs:batch", args=[batch.pk]))
    [row] = response.context["earlier_rows"]
    assert (row.name, row.case_id, row.amount) == (world.member_a1.full_name, case.pk, 3_000_000)
    body = response.content.decode()
    assert 'id="earlier-support"' in body and "hồ sơ riêng lẻ" in body


def test_approving_with_someone_taken_out_through_the_page(client_for, world, make_batch, people):
    batch = make_batch(members=people, state="submitted")
    out = BatchLine.objects.get(batch=batch, member=people[1])
    response = client_for("province").post(
        reverse("programs:batch_approve", args=[batch.pk]),
        {"out": [out.pk], f"reason-{out.pk}": "Đã chuyển công tác", "comment": ""},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == CaseStatus.APPROVED and batch.approved_amount == 2_000_000
    assert BatchLine.objects.get(pk=out.pk).status == LineStatus.TAKEN_OUT


def test_a_batch_over_budget_is_refused_on_the_page_by_how_much(
    client_for, world, make_batch, people
):
    batch = make_batch(members=people, state="submitted")
    Program.objects.filter(pk=batch.program_id).update(budget=2_000_000)
    response = client_for("province").post(
        reverse("programs:batch_approve", args=[batch.pk]), {"comment": ""}, follow=True
    )
    said = [str(m) for m in response.context["messages"]]
    assert any("500.000 ₫" in text and "ngân sách" in text for text in said), said
    assert Batch.objects.get(pk=batch.pk).status == CaseStatus.SUBMITTED


def test_a_second_click_on_record_paid_records_nothing(client_for, world, funds, make_batch):
    batch = make_batch(state="approved")
    data = {
        "paid_on": datetime.date.today().isoformat(),
        "receipt_reference": "PC-9",
        "submission": uuid.uuid4().hex,
    }
    client = client_for("treasurer")
    url = reverse("programs:batch_pay", args=[batch.pk])
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)
    said = [str(m) for m in again.context["messages"]]
    assert any("đã được ghi" in text for text in said), said
    entries = LedgerEntry.objects.filter(fund=funds.social, kind=EntryKind.DISBURSEMENT)
    assert entries.count() == 1


def test_outsiders_find_no_program_page(client_for, world, make_batch):
    batch = make_batch(state="submitted")
    participant = Participant.objects.get(program=batch.program, unit=world.b1)
    client = client_for("outsider")
    gets = [
        reverse("programs:detail", args=[batch.program_id]),
        reverse("programs:batch", args=[batch.pk]),
        reverse("programs:batch_people", args=[batch.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        reverse("programs:participant_add", args=[batch.program_id]),
        reverse("programs:copy", args=[batch.program_id]),
        reverse("programs:batch_start", args=[participant.pk]),
        *(
            reverse(f"programs:batch_{step}", args=[batch.pk])
            for step in ("lines", "submit", "endorse", "return", "reject", "approve", "pay")
        ),
    ]
    for url in posts:
        assert client.post(url, {"comment": "x", "year": YEAR + 1}).status_code == 404, url
    assert client.get(reverse("programs:list")).context["page"].paginator.count == 0


def test_a_grassroots_officer_sees_only_their_own_unit_of_the_program(
    client_for, world, make_batch
):
    make_batch(unit=world.b1)
    batch = make_batch()
    response = client_for("grassroots").get(reverse("programs:detail", args=[batch.program_id]))
    units = [row["participant"].unit for row in response.context["rows"]]
    assert units == [world.a1]


def test_a_batch_record_opens_as_the_persons_case_without_a_pay_button(
    client_for, world, make_batch
):
    batch = make_batch(state="approved")
    record = Case.objects.get(batch=batch)
    response = client_for("treasurer").get(reverse("cases:detail", args=[record.pk]))
    assert response.status_code == 200
    assert "pay" not in response.context["actions"]
    make_batch(unit=world.b1, state="paid")
    paid = Case.objects.get(batch__unit=world.b1)
    page = client_for("province").get(reverse("cases:detail", args=[paid.pk]))
    assert page.status_code == 200 and paid.member.full_name in page.content.decode()
    # Its timeline is its list's: approved and paid with the whole list, at the person's amount.
    steps = [(e.action, e.amount) for e in page.context["events"]]
    assert steps[-2:] == [("approved", paid.approved_amount), ("paid", paid.approved_amount)]
    assert page.content.decode().count(told("with the whole list")) >= 2
    voucher = client_for("province").get(reverse("cases:document", args=[paid.pk, "phieu-chi"]))
    assert voucher.status_code == 200 and voucher["Content-Type"] == "application/pdf"


def test_the_people_picker_finds_children_of_school_age_and_who_this_program_supported(
    client_for, world, make_batch, people
):
    from members.models import Dependant

    Dependant.objects.filter(member__in=[world.member_a1, *people]).delete()
    born = {0: YEAR - 18, 1: YEAR - 6, 2: YEAR - 5, 3: YEAR - 19}  # 18, 6, 5 and 19 that year
    for n, year in born.items():
        Dependant.objects.create(
            member=people[n],
            full_name=f"Con {n}",
            sex="male",
            date_of_birth=datetime.date(year, 6, 1),
        )
    batch = make_batch()
    client = client_for("grassroots")
    url = reverse("programs:batch_people", args=[batch.pk])
    found = client.get(url, {"school_age": "on"})
    assert sorted(m.full_name for m in found.context["found"]) == ["Người 0", "Người 1"]
    # someone already supported in this program by B1's batch, who has since moved to A1
    make_batch(unit=world.b1, members=[world.member_b1], state="approved")
    type(world.member_b1).objects.filter(pk=world.member_b1.pk).update(unit=world.a1)
    found = client.get(url, {"supported": "in_this"})
    assert [m.full_name for m in found.context["found"]] == [world.member_b1.full_name]


def test_program_page_shows_its_units_a_page_at_a_time_at_a_fixed_cost(
    client_for, world, tet, django_assert_max_num_queries
):
    from tests.factories import make_unit
    from welfare.programs import services
    from welfare.programs.views import UNITS_PER_PAGE

    for n in range(UNITS_PER_PAGE + 10):
        unit = make_unit(f"CĐCS Xưởng {n:02}", parent=world.commune_a, code=f"P-A-X{n:02}")
        services.add_participant(program=tet, unit=unit, by=world.users["province"])
    client = client_for("province")
    url = reverse("programs:detail", args=[tet.pk])
    client.get(url)  # the session and the grants, read once
    with django_assert_max_num_queries(12):
        first = client.get(url)
    assert len(first.context["rows"]) == UNITS_PER_PAGE
    with django_assert_max_num_queries(12):
        last = client.get(url, {"page": 2})
    assert len(last.context["rows"]) == 12  # A1, B1 and 60 more: 62 in all
