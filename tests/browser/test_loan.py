"""A loan in a real browser: the grassroots officer applies for a member, the union's chair
confirms, the province approves, the treasurer disburses (months ago) and records two
instalments repaid; the daily check marks the third overdue, and the loan's page says so."""

import datetime

import pytest
from django.utils import timezone

from welfare.loans.schedule import add_months
from welfare.loans.services import mark_overdue
from welfare.models import EntryKind, LedgerEntry, Loan, LoanStatus

from ..welfare.loans.builders import loan_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRINCIPAL = 12_000_000  # over 12 months: 1.000.000 ₫ an instalment


def log_out(page):
    page.click(".portal-nav .dropdown-toggle")
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url("**/accounts/login/**")


def step(page, loan: Loan, name: str, fields: dict[str, str] | None = None) -> None:
    """Open the loan, take the step from its action bar, fill its form and send it."""
    page.goto(f"{page.base_url}/loans/{loan.pk}/")
    page.click(f"#loan-actions a[href='/loans/{loan.pk}/{name}/']")
    for selector, value in (fields or {}).items():
        page.fill(selector, value)
    page.click("form input[type=submit], form button[type=submit].btn-primary >> nth=-1")
    page.wait_for_url(f"**/loans/{loan.pk}/")
    page.wait_for_selector(".alert-success")


def test_a_loan_from_application_to_an_overdue_instalment(login, world, tmp_path):
    product = loan_product(world.province, grace_days=5)
    fund = product.fund
    balance = fund.balance
    member = world.member_a1
    today = timezone.localdate()
    disbursed_on = add_months(today, -3) - datetime.timedelta(days=10)

    # The grassroots officer applies from the member's page.
    page = login("grassroots")
    page.goto(f"{page.base_url}/members/{member.pk}/")
    page.click(f"a[href='/loans/apply/{member.pk}/']")
    page.select_option("select[name=product]", str(product.pk))
    page.fill("input[name=principal]", "12.000.000")
    page.fill("input[name=term_months]", "12")
    page.fill("textarea[name=purpose]", "Mua máy may để làm thêm tại nhà.")
    page.click("form input[type=submit] >> nth=-1")
    page.wait_for_selector("#loan-status")
    loan = Loan.objects.get()
    assert (loan.status, loan.principal) == (LoanStatus.APPLIED, PRINCIPAL)
    log_out(page)

    # The union's chair confirms it; the province approves it; the treasurer disburses it.
    login("a1_chair")
    step(page, loan, "confirm")
    log_out(page)
    login("province")
    step(page, loan, "approve")
    log_out(page)
    login("treasurer")
    step(page, loan, "disburse", {"input[name=disbursed_on]": disbursed_on.isoformat()})
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CURRENT
    fund.refresh_from_db()
    assert fund.balance == balance - PRINCIPAL

    # Two instalments repaid, on the day each fell due.
    for number in (1, 2):
        paid_on = add_months(disbursed_on, number)
        step(
            page,
            loan,
            "repay",
            {
                "input[name=amount]": "1.000.000",
                "input[name=paid_on]": paid_on.isoformat(),
                "input[name=receipt_reference]": f"PT-{number:03d}",
            },
        )
    repaid = LedgerEntry.objects.filter(fund=fund, kind=EntryKind.LOAN_REPAYMENT)
    assert sorted(repaid.values_list("amount", flat=True)) == [1_000_000, 1_000_000]

    # The daily check marks the third instalment, due about ten days ago, overdue (past its
    # five days' grace), once; the loan's page shows it.
    assert mark_overdue(today) == 1
    assert mark_overdue(today) == 0
    page.goto(f"{page.base_url}/loans/{loan.pk}/")
    assert "Quá hạn" in page.inner_text("#loan-status")
    rows = page.locator("#loan-schedule tbody tr")
    assert "đã trả" in rows.nth(0).inner_text() and "đã trả" in rows.nth(1).inner_text()
    third = rows.nth(2)
    assert "table-danger" in (third.get_attribute("class") or "")
    # overdue for the days since its grace ended (about five: months differ in length)
    age = (today - add_months(disbursed_on, 3) - datetime.timedelta(days=5)).days
    assert age > 0 and f"quá hạn {age} ngày" in third.inner_text()
    assert "quá hạn" not in rows.nth(3).inner_text()
    page.screenshot(path=str(tmp_path / "loan-overdue.png"), full_page=True)
