"""Loans on top of the ``world`` fixture, driven through the real services by the people who
would take each step: the A1 officer applies, the A1 chair confirms, province staff approve,
the province treasurer disburses (for province Q: its own officers, staff and treasurer)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from unions.models import Role
from welfare.funds.ledger import open_fund
from welfare.loans import services
from welfare.models import Fund, FundKind, Loan, LoanProduct

from ...factories import make_user, system_user

OPENED = datetime.date(2024, 1, 1)
STATES = ["applied", "confirmed", "approved", "current"]


def loan_fund(unit, *, balance: int = 1_000_000_000) -> Fund:
    fund = Fund.objects.filter(unit=unit, kind=FundKind.LOAN).first()
    return fund or open_fund(
        unit=unit,
        name=f"Quỹ Trợ vốn {unit.code}",
        kind=FundKind.LOAN,
        opening_balance=balance,
        opened_on=OPENED,
        by=system_user(),
    )


def loan_product(unit, *, rate: str = "0", grace_days: int = 5, **kw) -> LoanProduct:
    fund = loan_fund(unit)
    product = LoanProduct.objects.filter(fund=fund, annual_rate=Decimal(rate)).first()
    return product or services.create_product(
        fund=fund,
        name=kw.pop("name", f"Vay {rate}%"),
        annual_rate=Decimal(rate),
        max_principal=kw.pop("max_principal", 50_000_000),
        term_months=kw.pop("term_months", 36),
        frequency=kw.pop("frequency", "monthly"),
        grace_days=grace_days,
        by=system_user(),
    )


def actors(world, inside: bool = True) -> dict:
    users = world.users
    if inside:
        return {
            "apply": users["grassroots"],
            "confirm": users["a1_chair"],
            "approve": users["province"],
            "disburse": users["treasurer"],
        }
    if "q_chair" not in users:
        users["q_chair"] = make_user("q_chair", Role.OFFICER, world.q1)
        users["q_staff"] = make_user("q_staff", Role.PROVINCE_STAFF, world.other_province)
    return {
        "apply": users["q_officer"],
        "confirm": users["q_chair"],
        "approve": users["q_staff"],
        "disburse": users["q_treasurer"],
    }


def build_loan(
    world,
    state: str = "current",
    *,
    inside: bool = True,
    principal: int = 12_000_000,
    term_months: int = 12,
    rate: str = "0",
    disbursed_on: datetime.date = datetime.date(2025, 1, 10),
    member=None,
    by: dict | None = None,
    **product,
) -> Loan:
    people = {**actors(world, inside), **(by or {})}
    province = world.province if inside else world.other_province
    unit = world.a1 if inside else world.q1
    loan = services.apply_for_loan(
        product=loan_product(province, rate=rate, **product),
        member=member or (world.member_a1 if inside else world.member_q1),
        unit=unit,
        purpose="Mua giống, chăn nuôi bò",
        principal=principal,
        term_months=term_months,
        guarantor="",
        by=people["apply"],
    )
    steps = [
        ("confirmed", lambda: services.confirm_loan(loan=loan, by=people["confirm"])),
        ("approved", lambda: services.approve_loan(loan=loan, by=people["approve"])),
        (
            "current",
            lambda: services.disburse_loan(
                loan=loan, by=people["disburse"], disbursed_on=disbursed_on
            ),
        ),
    ]
    for name, step in steps:
        if STATES.index(name) > STATES.index(state):
            break
        step()
    loan.refresh_from_db()
    return loan
