"""Access-matrix entries for the loan pages.

Inside: a loan of the A1 borrower from the province's loan fund, in the state the step needs;
applied for by the A1 chair, so the grassroots officer of the matrix is the one who confirms.
Outside: the same loan in province Q, which answers 404 to every role. The POSTs of each step,
and who may take them, are in tests/welfare/loans/test_views.py.
"""

from __future__ import annotations

from ..access import ROLES, Entry, member_args
from .loans.builders import build_loan, loan_fund


def only(*allowed: str, elsewhere: int = 403, **special: int) -> dict[str, int]:
    return {role: special.get(role, 200 if role in allowed else elsewhere) for role in ROLES}


def _loan(state: str, **kw):
    def args(world, role, inside):
        users = world.users
        people = {"apply": users["a1_chair"], "confirm": users["grassroots"]} if inside else None
        return [build_loan(world, state, inside=inside, by=people, **kw)]

    return args


def _written_off(world, role, inside):
    from welfare.loans import services

    loan = build_loan(world, "current", inside=inside)
    people = {"province": world.users["province"]}
    if not inside:
        people["province"] = world.users["q_staff"]
    services.write_off_loan(loan=loan, by=people["province"], reason="Người vay qua đời")
    return [loan]


def _fund(world, role, inside):
    return [loan_fund(world.province if inside else world.other_province)]


APPLIERS = ("province", "commune", "grassroots")

ENTRIES: dict[str, Entry] = {
    "loans:list": Entry(inside=dict.fromkeys(ROLES, 200)),
    "loans:detail": Entry(inside=dict.fromkeys(ROLES, 200), args=_loan("current")),
    "loans:apply": Entry(inside=only(*APPLIERS), args=member_args),
    # The province's fund is not in the commune's or the grassroots union's scope.
    "loans:product_create": Entry(
        inside=only("treasurer", commune=404, grassroots=404), args=_fund
    ),
    "loans:confirm": Entry(inside=only("grassroots"), args=_loan("applied")),
    # Province staff review on the loan's route, at the fund's level: told where it waits.
    "loans:reject": Entry(inside=only("grassroots", province=302), args=_loan("applied")),
    "loans:approve": Entry(inside=only("province"), args=_loan("confirmed")),
    "loans:disburse": Entry(inside=only("treasurer"), args=_loan("approved")),
    "loans:repay": Entry(inside=only("treasurer"), args=_loan("current")),
    "loans:reschedule": Entry(inside=only("province"), args=_loan("current")),
    "loans:write_off": Entry(inside=only("province"), args=_loan("current")),
    "loans:recover": Entry(inside=only("treasurer"), args=_written_off),
}
