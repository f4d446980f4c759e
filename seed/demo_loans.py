"""The demo's loans: the province's "Quỹ Trợ vốn CNVCLĐ nghèo" gets an interest-free product
and loans in every state — waiting at each step of the chain, being repaid on time, overdue in
each age band, rescheduled, written off and partly recovered, repaid in full — all made
through the loan services by the demo accounts, dated so that the ages hold on the day the
demo is loaded. Run once: a fund that has a product already is left as it is."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from members.models import Member, MemberStatus
from unions.models import Role, RoleAssignment, Unit
from welfare.loans import schedule, services
from welfare.loans.models import LoanProduct
from welfare.loans.schedule import add_months
from welfare.models import Fund, FundKind

from .demo_members import GRASSROOTS_ACCOUNT_UNIT, PROVINCE_CODE
from .demo_welfare import _no_mail, _say

LOAN_FUND = "Quỹ Trợ vốn CNVCLĐ nghèo"
GRACE_DAYS = 10
PURPOSES = [
    "Mua 2 con bò giống để chăn nuôi",
    "Mở quầy tạp hóa nhỏ tại nhà",
    "Mua máy khâu để nhận may gia công",
    "Trồng 1 ha hồi và quế",
    "Sửa chuồng trại, nuôi lợn",
    "Mua xe máy để đi làm xa",
]


def _confirmer(unit: Unit):
    """The union's chair confirms its members' loans: a person without a login, with the
    officer's role at the union (the demo grassroots account applies, so it cannot)."""
    user, _created = get_user_model().objects.get_or_create(
        username=f"{unit.code.lower()}-chutich",
        defaults={
            "first_name": "Thị Mai",
            "last_name": "Hoàng",
            "is_active": False,
            "password": make_password(None),
        },
    )
    RoleAssignment.objects.get_or_create(user=user, unit=unit, role=Role.OFFICER)
    return user


def build_loans_demo(stdout=None) -> int:
    """Returns how many loans were made (0 when the demo has them already)."""
    fund = Fund.objects.filter(unit__code=PROVINCE_CODE, kind=FundKind.LOAN, name=LOAN_FUND).first()
    if fund is None or LoanProduct.objects.filter(fund=fund).exists():
        return 0
    _say(stdout, "Adding the demo loans...")
    with _no_mail(), transaction.atomic():
        made = _build(fund, timezone.localdate())
    _say(stdout, f"{made} loans from {LOAN_FUND}.")
    return made


def _build(fund: Fund, today: datetime.date) -> int:
    User = get_user_model()
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["grassroots", "province", "treasurer"])
    }
    unit = Unit.objects.get(code=GRASSROOTS_ACCOUNT_UNIT)
    chair = _confirmer(unit)
    product = services.create_product(
        fund=fund,
        name="Vay vốn không lãi hỗ trợ CNVCLĐ nghèo",
        annual_rate=Decimal("0"),
        max_principal=50_000_000,
        term_months=36,
        frequency="monthly",
        grace_days=GRACE_DAYS,
        by=users["treasurer"],
    )
    members = iter(Member.objects.filter(unit=unit, status=MemberStatus.ACTIVE).order_by("pk")[:20])
    made = 0
    # The money moves in date order (the ledger reads down by date): each disbursement and
    # repayment is kept here and posted once every loan is planned.
    money: list[tuple[datetime.date, int, object]] = []

    def later(day: datetime.date, step) -> None:
        money.append((day, len(money), step))

    def loan(state: str, principal: int, term: int, disbursed_on=None):
        nonlocal made
        made += 1
        applied = services.apply_for_loan(
            product=product,
            member=next(members),
            unit=unit,
            purpose=PURPOSES[made % len(PURPOSES)],
            principal=principal,
            term_months=term,
            guarantor="" if made % 2 else "Chủ tịch CĐCS bảo lãnh bằng văn bản",
            by=users["grassroots"],
        )
        if state == "applied":
            return applied
        services.confirm_loan(loan=applied, by=chair)
        if state == "confirmed":
            return applied
        services.approve_loan(loan=applied, by=users["province"])
        if state == "approved":
            return applied
        number = made
        later(
            disbursed_on,
            lambda: services.disburse_loan(
                loan=applied,
                by=users["treasurer"],
                disbursed_on=disbursed_on,
                receipt_reference=f"PC-{number:03d}",
            ),
        )
        applied.disbursed_on = disbursed_on
        return applied

    def repay(loan_, count: int) -> None:
        """The first ``count`` instalments, each on its due date (the schedule is built from
        the disbursement date, as the disbursement will build it)."""
        rows = schedule.build(
            principal=loan_.principal,
            term_months=loan_.term_months,
            frequency=product.frequency,
            annual_rate=product.annual_rate,
            start=loan_.disbursed_on,
        )
        for row in rows[:count]:
            later(
                row.due_on,
                lambda row=row: services.record_repayment(
                    loan=loan_,
                    amount=row.amount,
                    paid_on=row.due_on,
                    by=users["treasurer"],
                    receipt_reference=f"BN-{loan_.pk}-{row.number}",
                ),
            )

    def late_by(age: int, paid: int, principal: int, term: int):
        """A loan whose first unpaid instalment (after ``paid`` on time) is ``age`` days past
        its grace."""
        due = today - datetime.timedelta(days=GRACE_DAYS + age)
        found = loan("current", principal, term, add_months(due, -(paid + 1)))
        repay(found, paid)
        return found

    loan("applied", 20_000_000, 24)
    loan("confirmed", 30_000_000, 24)
    loan("approved", 15_000_000, 12)
    on_time = loan("current", 24_000_000, 24, add_months(today, -3) + datetime.timedelta(days=3))
    repay(on_time, 2)
    loan("current", 10_000_000, 12, today - datetime.timedelta(days=12))
    for age, paid in ((15, 2), (60, 3), (120, 1), (250, 0)):
        late_by(age, paid, 12_000_000 + age * 10_000, 18)
    rescheduled = late_by(75, 2, 18_000_000, 18)
    written_off = late_by(300, 1, 20_000_000, 12)
    closed = loan("current", 6_000_000, 6, add_months(today, -8))
    repay(closed, 6)
    for _day, _seq, step in sorted(money, key=lambda item: item[:2]):
        step()
    services.reschedule_loan(
        loan=rescheduled,
        by=users["province"],
        reason="Người vay bị tai nạn lao động, nghỉ việc 3 tháng",
        term_months=24,
        starts_on=today - datetime.timedelta(days=20),
    )
    services.write_off_loan(
        loan=written_off,
        by=users["province"],
        reason="Người vay qua đời, gia đình thuộc hộ nghèo không còn khả năng trả nợ",
    )
    services.record_recovery(
        loan=written_off,
        amount=3_000_000,
        paid_on=today,
        by=users["treasurer"],
        receipt_reference="BN-TH-01",
    )
    services.mark_overdue(today)
    return made
