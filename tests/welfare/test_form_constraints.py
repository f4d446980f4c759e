"""Every database constraint a welfare form can reach is refused by the form first, in the
user's language, with nothing saved (never the database's "Constraint … is violated.")."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from welfare.cases.forms import ApproveForm, CaseForm
from welfare.funds.forms import AllocationForm, ContributionForm
from welfare.models import Case, LedgerEntry

from .test_case_views import case_data

pytestmark = pytest.mark.django_db

POSITIVE_VI = "Số tiền phải lớn hơn 0."
# A grant (any support but a visit) asked for or approved at 0 đồng.
ZERO_NOT_A_VISIT_VI = (
    "Chỉ lượt thăm hỏi mới được ghi không kèm tiền (0 đồng); hãy nhập số tiền của khoản hỗ trợ này."
)


@pytest.mark.parametrize("typed", ["0", "0 ₫", "000"])
def test_a_case_asking_for_nothing_is_refused_on_the_amount(client_for, world, funds, typed):
    client = client_for("grassroots")
    response = client.post(
        reverse("cases:create") + f"?member={world.member_a1.pk}",
        case_data(funds.social, requested_amount=typed),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"requested_amount": [ZERO_NOT_A_VISIT_VI]}
    assert "case_requested_positive" not in response.content.decode()
    assert not Case.objects.exists()


def test_an_edited_case_cannot_ask_for_nothing(client_for, world, make_case):
    case = make_case("draft")
    response = client_for("grassroots").post(
        reverse("cases:edit", args=[case.pk]), case_data(case.fund, requested_amount="0")
    )
    assert response.context["form"].errors == {"requested_amount": [ZERO_NOT_A_VISIT_VI]}
    assert Case.objects.get(pk=case.pk).requested_amount == 3_000_000


def test_the_case_form_says_it_in_vietnamese(world, funds):
    with translation.override("vi"):
        form = CaseForm(case_data(funds.social, requested_amount="0"), unit=world.a1)
        assert not form.is_valid()
        assert form.errors["requested_amount"] == [ZERO_NOT_A_VISIT_VI]


def test_an_approval_of_nothing_is_refused_on_the_amount(client_for, world, make_case):
    case = make_case("endorsed")
    response = client_for("province").post(
        reverse("cases:approve", args=[case.pk]), {"amount": "0"}
    )
    assert response.context["forms"]["approve"].errors == {"amount": [ZERO_NOT_A_VISIT_VI]}
    case.refresh_from_db()
    assert case.approved_amount is None
    assert case.fund.reserved == 0
    with translation.override("vi"):
        assert ApproveForm({"amount": "0"}, case=case).errors["amount"] == [ZERO_NOT_A_VISIT_VI]


def test_money_forms_refuse_a_zero_amount(world, funds):
    before = LedgerEntry.objects.count()
    with translation.override("vi"):
        contribution = ContributionForm(
            {"amount": "0", "occurred_on": "2025-01-02", "source": "Công ty A"}
        )
        allocation = AllocationForm(
            {"to_fund": funds.commune.pk, "amount": "0", "occurred_on": "2025-01-02"},
            user=world.users["admin"],
            fund=funds.social,
        )
        assert contribution.errors["amount"] == [POSITIVE_VI]
        assert allocation.errors["amount"] == [POSITIVE_VI]
    assert LedgerEntry.objects.count() == before
