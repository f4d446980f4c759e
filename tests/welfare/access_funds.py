"""Access-matrix entries for the fund pages.

Inside: a fund of the union where the role sits (the province's for the province roles, commune
A's for commune staff, A1's for the grassroots officer), so the province treasurer reaches the
treasurer's forms.  Outside: the fund of province Q.
"""

from __future__ import annotations

import datetime

from welfare.funds.ledger import open_fund
from welfare.models import Fund, FundKind

from ..access import ALL_OK, ROLES, Entry
from ..factories import system_user

TREASURER_ONLY = {role: (200 if role == "treasurer" else 403) for role in ROLES}
FUND_OPENERS = {role: (200 if role in ("admin", "treasurer") else 403) for role in ROLES}


def matrix_fund(unit) -> Fund:
    """The unit's fund for the matrix, opened once through the ledger like any other."""
    fund = Fund.objects.filter(unit=unit, name=f"Quỹ {unit.code}").first()
    return fund or open_fund(
        unit=unit,
        name=f"Quỹ {unit.code}",
        kind=FundKind.WELFARE,
        opening_balance=10_000_000,
        opened_on=datetime.date(2024, 1, 1),
        by=system_user(),
    )


def _fund(world, role, inside) -> Fund:
    if not inside:
        return matrix_fund(world.other_province)
    unit = {"commune": world.commune_a, "grassroots": world.a1}.get(role, world.province)
    return matrix_fund(unit)


def fund_args(world, role, inside):
    return [_fund(world, role, inside)]


def entry_args(world, role, inside):
    """The fund's opening entry: one a treasurer may correct."""
    return [_fund(world, role, inside).entries.get()]


ENTRIES: dict[str, Entry] = {
    "funds:list": Entry(inside=ALL_OK),
    "funds:create": Entry(inside=FUND_OPENERS),
    "funds:detail": Entry(inside=ALL_OK, args=fund_args),
    "funds:export": Entry(inside=ALL_OK, args=lambda *a: [*fund_args(*a), "csv"]),
    "funds:contribute": Entry(inside=TREASURER_ONLY, args=fund_args),
    "funds:allocate": Entry(inside=TREASURER_ONLY, args=fund_args),
    "funds:reverse": Entry(inside=TREASURER_ONLY, args=entry_args),
}
