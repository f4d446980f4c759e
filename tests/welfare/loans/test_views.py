"""The loan pages as their users meet them."""

import datetime

import pytest
from django.urls import reverse

from welfare.models import EntryKind, LedgerEntry, LoanStatus

from .builders import loan_product

pytestmark = pytest.mark.django_db


def test_portfolio_lists_the_loans_in_scope_in_a_fixed_number_of_queries(
    world, make_loan, client_for, django_assert_max_num_queries
):
    for _ in range(3):
        make_loan()
    make_loan("applied")
    outside = make_loan(inside=False)
    client = client_for("commune")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("loans:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('href="/loans/') >= 4
    assert f'href="/loans/{outside.pk}/"' not in body
    assert "Lê Văn Cường" not in body
    for _ in range(5):
        make_loan()
    with django_assert_max_num_queries(12):
        client.get(reverse("loans:list"))


def test_portfolio_filters_by_overdue_band_and_status(world, make_loan, client_for):
    late = make_loan(disbursed_on=datetime.date(2024, 1, 10))
    fresh = make_loan(disbursed_on=datetime.date.today())
    client = client_for("province")
    body = client.get(reverse("loans:list"), {"overdue": "over_180"}).content.decode()
    assert f'href="/loans/{late.pk}/"' in body and f'href="/loans/{fresh.pk}/"' not in body
    body = client.get(reverse("loans:list"), {"status": "closed"}).content.decode()
    assert f'href="/loans/{late.pk}/"' not in body


def test_loan_page_shows_schedule_and_timeline_in_few_queries(
    world, make_loan, client_for, django_assert_max_num_queries
):
    loan = make_loan()
    client = client_for("treasurer")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("loans:detail", args=[loan.pk]))
    body = response.content.decode()
    assert 'id="loan-schedule"' in body and body.count("<tr") >= 13
    assert reverse("loans:repay", args=[loan.pk]) in body
    assert reverse("loans:approve", args=[loan.pk]) not in body


def test_repayment_form_sent_twice_records_once(world, make_loan, client_for):
    loan = make_loan()
    client = client_for("treasurer")
    form = client.get(reverse("loans:repay", args=[loan.pk])).context["form"]
    data = {
        "amount": "1.000.000",
        "paid_on": "2025-02-10",
        "receipt_reference": "BN-01",
        "submission": form.initial["submission"],
    }
    for _ in range(2):
        response = client.post(reverse("loans:repay", args=[loan.pk]), data)
        assert response.status_code == 302
    assert LedgerEntry.objects.filter(kind=EntryKind.LOAN_REPAYMENT).count() == 1
    loan.refresh_from_db()
    assert loan.outstanding == 11_000_000


def test_the_chain_through_the_pages(world, client_for):
    loan_product(world.province)
    client = client_for("a1_chair")
    response = client.post(
        reverse("loans:apply", args=[world.member_a1.pk]),
        {
            "product": loan_product(world.province).pk,
            "principal": "6.000.000",
            "term_months": "5",
            "purpose": "Sửa chuồng trại",
        },
    )
    assert response.status_code == 302
    loan = world.member_a1.loans.get()
    client_for("grassroots").post(reverse("loans:confirm", args=[loan.pk]), {})
    client_for("province").post(reverse("loans:approve", args=[loan.pk]), {})
    client_for("treasurer").post(
        reverse("loans:disburse", args=[loan.pk]),
        {"disbursed_on": datetime.date.today().isoformat(), "submission": "d" * 32},
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CURRENT and loan.instalments.count() == 5


def test_a_step_refused_now_says_why(world, make_loan, client_for):
    loan = make_loan("applied")
    response = client_for("grassroots").get(reverse("loans:confirm", args=[loan.pk]))
    assert response.status_code == 302
    response = client_for("grassroots").post(reverse("loans:confirm", args=[loan.pk]), {})
    loan.refresh_from_db()
    assert loan.status == LoanStatus.APPLIED


def test_outsiders_get_404(world, make_loan, client_for):
    loan = make_loan()
    client = client_for("outsider")
    for name in ("loans:detail", "loans:repay", "loans:write_off"):
        assert client.get(reverse(name, args=[loan.pk])).status_code == 404


def test_member_page_shows_loans_and_the_case_warning_the_outstanding_one(
    world, make_loan, client_for
):
    make_loan()
    client = client_for("grassroots")
    body = client.get(reverse("members:detail", args=[world.member_a1.pk])).content.decode()
    assert 'id="member-loans"' in body and "12.000.000" in body
    body = client.get(reverse("cases:create"), {"member": world.member_a1.pk}).content.decode()
    assert 'id="outstanding-loan"' in body


def test_case_page_warns_of_an_outstanding_loan(world, make_loan, client_for):
    from welfare.cases import approvals
    from welfare.funds.ledger import open_fund
    from welfare.models import Category, FundKind, SupportType

    from ...factories import system_user

    fund = open_fund(
        unit=world.province,
        name="Quỹ Xã hội P",
        kind=FundKind.SOCIAL,
        opening_balance=10_000_000,
        opened_on=datetime.date(2024, 1, 1),
        by=system_user(),
    )
    case = approvals.open_case(
        member=world.member_a1,
        unit=world.a1,
        category=Category.POOR,
        circumstances="Hộ nghèo",
        support_type=SupportType.GRANT,
        requested_amount=1_000_000,
        fund=fund,
        by=world.users["grassroots"],
    )
    client = client_for("grassroots")
    assert (
        'id="outstanding-loan"'
        not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    )
    make_loan()
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="outstanding-loan"' in body and "12.000.000" in body


def test_a_loan_of_one_worker_without_an_id_number_is_not_another_ones(
    world, make_loan, client_for
):
    from ...factories import MemberFactory

    def unidentified(name):
        return MemberFactory(
            full_name=name, national_id=None, unidentified=True, kind="worker", unit=world.a1
        )

    borrower, other = unidentified("Lò Văn Thắng"), unidentified("Vàng A Páo")
    make_loan(member=borrower)
    client = client_for("grassroots")
    for member, warned in ((borrower, True), (other, False)):
        body = client.get(reverse("cases:create"), {"member": member.pk}).content.decode()
        assert ('id="outstanding-loan"' in body) is warned
