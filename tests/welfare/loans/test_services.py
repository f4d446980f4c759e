"""The loan services, driven as the people of the ``world`` fixture would drive them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from common.models import Notice
from unions.models import Role, RoleAssignment
from welfare.funds.ledger import AlreadyRecorded
from welfare.loans import portfolio, services
from welfare.models import EntryKind, Fund, LedgerEntry, Loan, LoanEvent, LoanStatus

from ...factories import make_user
from .builders import loan_fund

pytestmark = pytest.mark.django_db
DISBURSED = datetime.date(2025, 1, 10)
Action = LoanEvent.Action


def _fund(loan) -> Fund:
    return Fund.objects.get(pk=loan.fund_id)


def test_the_chain_reserves_then_disburses_once(world, make_loan):
    fund = loan_fund(world.province)
    loan = make_loan("approved")
    fund.refresh_from_db()
    assert (fund.balance, fund.reserved) == (1_000_000_000, 12_000_000)
    services.disburse_loan(loan=loan, by=world.users["treasurer"], disbursed_on=DISBURSED)
    fund.refresh_from_db()
    assert (fund.balance, fund.reserved) == (988_000_000, 0)
    entry = fund.entries.get(kind=EntryKind.LOAN_OUT)
    assert entry.amount == -12_000_000
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CURRENT and loan.outstanding == 12_000_000
    instalments = list(loan.instalments.all())
    assert len(instalments) == 12 and sum(i.principal for i in instalments) == 12_000_000
    assert instalments[0].due_on == datetime.date(2025, 2, 10)
    assert instalments[0].overdue_after == datetime.date(2025, 2, 15)
    with pytest.raises(ValidationError):
        services.disburse_loan(loan=loan, by=world.users["treasurer"], disbursed_on=DISBURSED)
    assert fund.entries.filter(kind=EntryKind.LOAN_OUT).count() == 1


def test_nobody_decides_on_a_loan_they_applied_for(world, make_loan):
    loan = make_loan("applied")
    with pytest.raises(ValidationError):
        services.confirm_loan(loan=loan, by=world.users["grassroots"])
    # Commune staff review elsewhere: they never confirm for A1.
    with pytest.raises(PermissionDenied):
        services.confirm_loan(loan=loan, by=world.users["commune"])


def test_whoever_approves_a_loan_does_not_disburse_it(world, make_loan):
    both = make_user("approver_treasurer", Role.PROVINCE_STAFF, world.province)
    RoleAssignment.objects.create(user=both, unit=world.province, role=Role.TREASURER)
    loan = make_loan("confirmed")
    services.approve_loan(loan=loan, by=both)
    with pytest.raises(ValidationError, match="kế toán khác"):
        services.disburse_loan(loan=loan, by=both, disbursed_on=DISBURSED)
    # A reviewer without the treasurer's role never disburses.
    with pytest.raises(PermissionDenied):
        services.disburse_loan(loan=loan, by=world.users["province"], disbursed_on=DISBURSED)
    services.disburse_loan(loan=loan, by=world.users["treasurer"], disbursed_on=DISBURSED)


def test_approval_is_refused_when_the_fund_cannot_cover_it(world, make_loan):
    loan = make_loan("confirmed", principal=50_000_000)
    fund = _fund(loan)
    fund.reserved = fund.balance - 1_000_000
    fund.save(update_fields=["reserved"])
    with pytest.raises(ValidationError, match="không đủ để cho vay"):
        services.approve_loan(loan=loan, by=world.users["province"])


def test_the_product_limits_principal_and_term(world, make_loan):
    with pytest.raises(ValidationError):
        make_loan("applied", principal=60_000_000)
    with pytest.raises(ValidationError):
        make_loan("applied", term_months=48)


def _repay(world, loan, amount, on=datetime.date(2025, 2, 10), submission=""):
    return services.record_repayment(
        loan=loan, amount=amount, paid_on=on, by=world.users["treasurer"], submission=submission
    )


def test_partial_repayment_leaves_the_rest_of_the_instalment(world, make_loan):
    loan = make_loan()
    _repay(world, loan, 600_000)
    first = loan.instalments.get(number=1)
    assert (first.principal_paid, first.settled_on) == (600_000, None)
    _repay(world, loan, 400_000, on=datetime.date(2025, 2, 12))
    first.refresh_from_db()
    assert first.settled_on == datetime.date(2025, 2, 12)
    loan.refresh_from_db()
    assert (loan.outstanding, loan.principal_paid) == (11_000_000, 1_000_000)
    assert _fund(loan).balance == 1_000_000_000 - 12_000_000 + 1_000_000


def test_early_repayment_settles_several_instalments_then_closes_the_loan(world, make_loan):
    loan = make_loan()
    _repay(world, loan, 3_500_000)
    settled = loan.instalments.filter(settled_on__isnull=False).count()
    assert settled == 3
    assert loan.instalments.get(number=4).principal_paid == 500_000
    with pytest.raises(ValidationError, match="chỉ còn phải trả"):
        _repay(world, loan, 9_000_000)
    _repay(world, loan, 8_500_000)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.outstanding == 0
    assert loan.events.filter(action=Action.CLOSED).count() == 1
    assert _fund(loan).balance == 1_000_000_000


def test_interest_is_paid_before_principal(world, make_loan):
    loan = make_loan(rate="12", principal=10_000_000, term_months=10)
    first = loan.instalments.get(number=1)
    assert first.interest == 100_000
    _repay(world, loan, 150_000)
    first.refresh_from_db()
    assert (first.interest_paid, first.principal_paid) == (100_000, 50_000)
    loan.refresh_from_db()
    assert (loan.interest_paid, loan.outstanding) == (100_000, 9_950_000)


# 10,000,000 over 10 months at 12 % a year, disbursed on 10/01/2025: 1,000,000 of principal a
# month, and 1 % a month of what is still owed (100,000; 90,000; ... 10,000).
AHEAD = datetime.date(2025, 2, 5)  # the first period has begun, the second has not


def test_paying_off_early_at_a_rate_owes_only_the_periods_begun(world, make_loan):
    loan = make_loan(rate="12", principal=10_000_000, term_months=10)
    assert services.still_owed(loan, AHEAD) == 1_100_000 + 9_000_000
    with pytest.raises(ValidationError):
        _repay(world, loan, 10_100_001, on=AHEAD)
    repayment = _repay(world, loan, 10_100_000, on=AHEAD)
    assert (repayment.principal, repayment.interest) == (10_000_000, 100_000)
    loan.refresh_from_db()
    assert (loan.status, loan.outstanding, loan.interest_paid) == (
        LoanStatus.CLOSED,
        0,
        100_000,
    )
    assert not loan.instalments.filter(settled_on__isnull=True).exists()
    assert sum(i.interest for i in loan.instalments.all()) == 100_000
    assert _fund(loan).balance == 1_000_000_000 - 10_000_000 + 10_100_000


def test_principal_paid_ahead_at_a_rate_lowers_the_interest_to_come(world, make_loan):
    loan = make_loan(rate="12", principal=10_000_000, term_months=10)
    repayment = _repay(world, loan, 1_100_000 + 2_000_000, on=AHEAD)
    assert (repayment.principal, repayment.interest) == (3_000_000, 100_000)
    rows = list(loan.instalments.order_by("number"))
    assert rows[0].settled_on == AHEAD
    # Instalments 2 and 3 have their principal; periods 2 to 4 run on 7,000,000 still owed.
    assert [(r.principal_paid, r.interest) for r in rows[1:4]] == [
        (1_000_000, 70_000), (1_000_000, 70_000), (0, 70_000)
    ]  # fmt: skip
    assert sum(r.interest for r in rows[1:]) == 420_000  # 450,000 on the schedule as built
    assert services.still_owed(loan, AHEAD) == 7_000_000
    # When its due date comes, the second instalment owes its period's interest alone.
    second = datetime.date(2025, 3, 10)
    assert services.still_owed(loan, second) == 7_000_000 + 70_000 + 70_000
    _repay(world, loan, 70_000, on=second)
    rows[1].refresh_from_db()
    assert rows[1].settled_on == second


def test_a_payment_on_time_at_a_rate_leaves_the_schedule_as_built(world, make_loan):
    loan = make_loan(rate="12", principal=10_000_000, term_months=10)
    before = [(i.principal, i.interest) for i in loan.instalments.order_by("number")]
    _repay(world, loan, 1_100_000, on=datetime.date(2025, 2, 10))
    after = [(i.principal, i.interest) for i in loan.instalments.order_by("number")]
    assert after == before


def test_the_same_form_sent_twice_records_once(world, make_loan):
    loan = make_loan()
    token = "a" * 32
    _repay(world, loan, 1_000_000, submission=token)
    with pytest.raises(AlreadyRecorded):
        _repay(world, loan, 1_000_000, submission=token)
    assert LedgerEntry.objects.filter(kind=EntryKind.LOAN_REPAYMENT).count() == 1
    # The whole loan in one form, sent twice: the second finds it closed and records nothing.
    rest = "b" * 32
    _repay(world, loan, 11_000_000, submission=rest)
    with pytest.raises(AlreadyRecorded):
        _repay(world, loan, 11_000_000, submission=rest)
    assert LedgerEntry.objects.filter(kind=EntryKind.LOAN_REPAYMENT).count() == 2


def test_disbursement_sent_twice_records_once(world, make_loan):
    loan = make_loan("approved")
    token = "c" * 32
    for attempt in range(2):
        try:
            services.disburse_loan(
                loan=loan, by=world.users["treasurer"], disbursed_on=DISBURSED, submission=token
            )
        except AlreadyRecorded:
            assert attempt == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.LOAN_OUT).count() == 1
    assert loan.instalments.count() == 12


@pytest.mark.parametrize(
    ("today", "band"),
    [
        (datetime.date(2025, 2, 15), None),  # the last day of grace
        (datetime.date(2025, 2, 16), "1_30"),  # 1 day
        (datetime.date(2025, 3, 17), "1_30"),  # 30 days
        (datetime.date(2025, 3, 18), "31_90"),  # 31 days
        (datetime.date(2025, 5, 16), "31_90"),  # 90 days
        (datetime.date(2025, 5, 17), "91_180"),  # 91 days
        (datetime.date(2025, 8, 14), "91_180"),  # 180 days
        (datetime.date(2025, 8, 15), "over_180"),  # 181 days
    ],
)
def test_overdue_ageing_at_each_boundary(world, make_loan, today, band):
    loan = make_loan()
    figures = portfolio.totals(Loan.objects.filter(pk=loan.pk), today)
    bands = {name: amount for name, amount, _count in figures.bands}
    expected = {name: (12_000_000 if name == band else 0) for name in bands}
    assert bands == expected
    assert figures.at_risk_30 == (12_000_000 if band in ("31_90", "91_180", "over_180") else 0)
    assert figures.par_30 == (100.0 if figures.at_risk_30 else 0.0)


def test_figures_per_fund_and_unit_in_one_query(world, make_loan, django_assert_num_queries):
    make_loan()
    make_loan("approved")
    closed = make_loan()
    _repay(world, closed, 12_000_000)
    with django_assert_num_queries(1):
        rows = portfolio.by(Loan.objects.all(), "unit_id", "unit__name", datetime.date(2025, 6, 1))
    assert len(rows) == 1
    row = rows[0]
    assert (row.loans, row.current, row.outstanding, row.paid) == (2, 1, 12_000_000, 12_000_000)
    # 2025-06-01 is 106 days after the first instalment's grace ended.
    assert row.band_91_180 == 12_000_000 and row.band_31_90 == 0


def test_the_daily_check_run_twice_changes_nothing_more(
    world, make_loan, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    world.users["a1_chair"].email = "chair@example.vn"
    world.users["a1_chair"].save()
    loan = make_loan()
    Notice.objects.all().delete()  # what the application's steps told people
    mailoutbox.clear()
    today = datetime.date(2025, 3, 20)  # instalments 1 and 2 are past their grace
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_overdue(today) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_overdue(today) == 0
    assert loan.events.filter(action=Action.OVERDUE).count() == 1
    assert loan.instalments.filter(marked_overdue_on=today).count() == 2
    # the officers of A1 (the loan's union and the borrower's), each told once, in the inbox
    # and by e-mail, with the loan's page
    notices = Notice.objects.order_by("recipient__username")
    told = [n.recipient.username for n in notices]
    assert "a1_chair" in told and "grassroots" in told and len(told) == len(set(told))
    assert all(n.url == f"/loans/{loan.pk}/" for n in notices)
    assert "1, 2" in notices[0].body and "Nguyễn Văn An" in notices[0].body
    emailed = sorted(address for mail in mailoutbox for address in mail.to)
    assert "chair@example.vn" in emailed
    assert emailed == sorted(n.recipient.email for n in notices if n.recipient.email)
    assert all("Nguyễn Văn An" in mail.body for mail in mailoutbox)


def test_each_step_tells_who_acts_next_and_the_applicant_hears_the_decision(world, make_loan):
    loan = make_loan("applied")
    # applied at A1: its reviewers, not the officer who applied
    told = {n.recipient.username for n in Notice.objects.all()}
    assert "a1_chair" in told and "grassroots" not in told
    Notice.objects.all().delete()
    services.confirm_loan(loan=loan, by=world.users["a1_chair"])
    services.approve_loan(loan=loan, by=world.users["province"], comment="Đủ điều kiện")
    told = sorted(n.recipient.username for n in Notice.objects.all())
    # confirmed: the province's reviewers; approved: the applicant and the treasurer
    assert "province" in told and "grassroots" in told and "treasurer" in told
    decision = Notice.objects.get(recipient=world.users["grassroots"])
    assert "Nguyễn Văn An" in decision.subject and "Đủ điều kiện" in decision.body
    assert decision.url == f"/loans/{loan.pk}/"


def test_the_daily_task_runs_the_check(world, make_loan):
    from welfare.tasks import mark_overdue_loans

    make_loan()
    assert mark_overdue_loans() > 0
    assert mark_overdue_loans() == 0


def test_rescheduling_keeps_the_old_schedule_and_clears_the_arrears(world, make_loan):
    loan = make_loan()
    _repay(world, loan, 1_000_000)
    old = list(loan.instalments.values_list("pk", "principal", "principal_paid", "settled_on"))
    today = datetime.date(2025, 6, 1)
    assert portfolio.totals(Loan.objects.filter(pk=loan.pk), today).overdue == 11_000_000
    services.reschedule_loan(
        loan=loan,
        by=world.users["province"],
        reason="Gia đình có người ốm nặng",
        term_months=7,
        starts_on=datetime.date(2025, 5, 25),
    )
    loan.refresh_from_db()
    assert loan.schedule_version == 2
    assert (
        list(
            loan.instalments.filter(version=1).values_list(
                "pk", "principal", "principal_paid", "settled_on"
            )
        )
        == old
    )
    new = list(loan.instalments.filter(version=2))
    assert len(new) == 7 and sum(i.principal for i in new) == 11_000_000
    assert portfolio.totals(Loan.objects.filter(pk=loan.pk), today).overdue == 0
    assert loan.events.filter(action=Action.RESCHEDULED, actor=world.users["province"]).exists()
    with pytest.raises(PermissionDenied):
        services.reschedule_loan(
            loan=loan,
            by=world.users["treasurer"],
            reason="x",
            term_months=3,
            starts_on=datetime.date(2025, 5, 25),
        )


def test_write_off_then_recovery_up_to_what_was_written_off(world, make_loan):
    loan = make_loan()
    _repay(world, loan, 2_000_000)
    with pytest.raises(ValidationError):
        services.write_off_loan(loan=loan, by=world.users["province"], reason=" ")
    services.write_off_loan(loan=loan, by=world.users["province"], reason="Người vay qua đời")
    loan.refresh_from_db()
    assert (loan.status, loan.outstanding, loan.written_off) == (
        LoanStatus.WRITTEN_OFF,
        0,
        10_000_000,
    )
    balance = _fund(loan).balance
    with pytest.raises(ValidationError):
        _repay(world, loan, 100_000)
    services.record_recovery(
        loan=loan, amount=4_000_000, paid_on=datetime.date(2025, 6, 1), by=world.users["treasurer"]
    )
    with pytest.raises(ValidationError, match="cần thu hồi"):
        services.record_recovery(
            loan=loan,
            amount=6_000_001,
            paid_on=datetime.date(2025, 6, 2),
            by=world.users["treasurer"],
        )
    loan.refresh_from_db()
    assert loan.recovered == 4_000_000
    assert _fund(loan).balance == balance + 4_000_000
    assert _fund(loan).entries.filter(kind=EntryKind.LOAN_RECOVERY).count() == 1
    actions = list(loan.events.values_list("action", flat=True))
    assert actions[-2:] == [Action.WRITTEN_OFF, Action.RECOVERED]


def test_outsiders_find_no_loan(world, make_loan):
    loan = make_loan()
    with pytest.raises(Http404):
        services.record_repayment(
            loan=loan,
            amount=100_000,
            paid_on=datetime.date(2025, 2, 10),
            by=world.users["q_treasurer"],
        )
    with pytest.raises(Http404):
        services.get_loan_for_user(world.users["q_officer"], loan.pk)
    with pytest.raises(Http404):
        services.get_loan_for_user(world.users["commune"], make_loan(member=None, inside=False).pk)


def test_a_repayment_costs_the_same_queries_for_one_instalment_or_all(world, make_loan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(amount: int) -> int:
        loan = make_loan()
        with CaptureQueriesContext(connection) as captured:
            _repay(world, loan, amount)
        return len(captured.captured_queries)

    one, all_twelve = cost(1_000_000), cost(12_000_000)
    # at most the "repaid in full" event more: nothing per instalment
    assert one <= all_twelve <= one + 1
