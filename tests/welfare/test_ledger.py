"""Funds and their ledger: every movement is an entry, the balance is their sum, nothing is
edited or deleted, and the database refuses a negative available amount."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils.translation import override

from common.money import format_dong
from welfare.funds import ledger
from welfare.funds.ledger import allocate, open_fund, record_contribution, reverse_entry
from welfare.models import EntryKind, Fund, FundKind, LedgerEntry, LedgerMonth

from ..factories import system_user
from .conftest import OPENED

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 1)


def entries_total(fund: Fund) -> int:
    return fund.entries.aggregate(total=Sum("amount"))["total"] or 0


def fresh(fund: Fund) -> Fund:
    fund.refresh_from_db()
    return fund


def assert_books_balance(fund: Fund) -> None:
    fund.refresh_from_db()
    assert fund.balance == entries_total(fund)
    assert_totals_match_the_ledger(fund)
    running = 0
    for entry in fund.entries.order_by("id"):
        running += entry.amount
        assert entry.balance_after == running


def assert_totals_match_the_ledger(fund: Fund) -> None:
    """The totals kept on the fund are those of its entries: money in, money out, how many."""
    amounts = list(fund.entries.values_list("amount", flat=True))
    assert (fund.money_in, fund.money_out, fund.entry_count) == (
        sum(a for a in amounts if a > 0),
        sum(a for a in amounts if a < 0),
        len(amounts),
    )
    assert fund.balance == fund.money_in + fund.money_out
    assert_months_match_the_ledger(fund)


def assert_months_match_the_ledger(fund: Fund) -> None:
    """The fund's LedgerMonth rows are its entries summed by month and kind."""
    kept = {
        (m.month, m.kind): (m.entry_count, m.money_in, m.money_out, m.first_id, m.last_id)
        for m in LedgerMonth.objects.filter(fund=fund)
    }
    counted = {
        (row["month"], row["kind"]): (
            row["entry_count"],
            row["money_in"],
            row["money_out"],
            row["first_id"],
            row["last_id"],
        )
        for row in ledger.month_totals(fund.entries.all())
    }
    assert kept == counted


def test_amounts_are_shown_the_vietnamese_way():
    assert format_dong(1_100_900_000) == "1.100.900.000 ₫"
    assert format_dong(500_000) == "500.000 ₫"


def test_opening_a_fund_records_the_opening_balance_as_its_first_entry(world):
    fund = open_fund(
        unit=world.province,
        name="Quỹ Xã hội",
        kind=FundKind.SOCIAL,
        opening_balance=3_500_000_000,
        opened_on=OPENED,
        by=world.users["treasurer"],
    )
    assert (fund.balance, fund.reserved, fund.available) == (3_500_000_000, 0, 3_500_000_000)
    [entry] = fund.entries.all()
    assert (entry.kind, entry.amount, entry.occurred_on) == (
        EntryKind.OPENING,
        3_500_000_000,
        OPENED,
    )
    assert_books_balance(fund)


def test_a_fund_opened_empty_has_no_entries(world):
    fund = open_fund(
        unit=world.a1,
        name="Quỹ mới",
        kind=FundKind.WELFARE,
        opening_balance=0,
        opened_on=OPENED,
        by=system_user(),
    )
    assert fund.balance == 0
    assert not fund.entries.exists()


def test_negative_opening_balance_is_refused(world):
    with pytest.raises(ValidationError):
        open_fund(
            unit=world.a1,
            name="Quỹ âm",
            kind=FundKind.WELFARE,
            opening_balance=-1,
            opened_on=OPENED,
            by=system_user(),
        )
    assert not Fund.objects.filter(name="Quỹ âm").exists()


def test_opening_balance_dated_in_the_future_is_refused(world):
    with pytest.raises(ValidationError):
        open_fund(
            unit=world.a1,
            name="Quỹ tương lai",
            kind=FundKind.WELFARE,
            opening_balance=1_000_000,
            opened_on=datetime.date.today() + datetime.timedelta(days=1),
            by=system_user(),
        )
    assert not Fund.objects.filter(name="Quỹ tương lai").exists()


def test_contribution_adds_to_the_balance(world, funds):
    entry = record_contribution(
        fund=funds.social,
        amount=250_000_000,
        occurred_on=DAY,
        source="Công ty Điện lực",
        by=world.users["treasurer"],
    )
    funds.social.refresh_from_db()
    assert funds.social.balance == 350_000_000
    assert (entry.kind, entry.balance_after, entry.source) == (
        EntryKind.CONTRIBUTION,
        350_000_000,
        "Công ty Điện lực",
    )
    assert_books_balance(funds.social)


@pytest.mark.parametrize("amount", [0, -5_000])
def test_contribution_must_be_positive(world, funds, amount):
    with pytest.raises(ValidationError):
        record_contribution(
            fund=funds.social, amount=amount, occurred_on=DAY, source="x", by=system_user()
        )
    assert funds.social.entries.count() == 1


def test_contribution_dated_in_the_future_is_refused(world, funds):
    with pytest.raises(ValidationError):
        record_contribution(
            fund=funds.social,
            amount=1_000,
            occurred_on=datetime.date.today() + datetime.timedelta(days=1),
            source="x",
            by=system_user(),
        )
    assert funds.social.entries.count() == 1


def test_allocation_moves_money_with_two_entries(world, funds):
    out, into = allocate(
        from_fund=funds.social,
        to_fund=funds.commune,
        amount=30_000_000,
        occurred_on=DAY,
        by=world.users["treasurer"],
        description="Hỗ trợ Công đoàn phường A",
    )
    funds.social.refresh_from_db()
    funds.commune.refresh_from_db()
    assert (funds.social.balance, funds.commune.balance) == (70_000_000, 50_000_000)
    assert (out.kind, out.amount, out.source) == (
        EntryKind.ALLOCATION_OUT,
        -30_000_000,
        funds.commune.name,
    )
    assert (into.kind, into.amount, into.source) == (
        EntryKind.ALLOCATION_IN,
        30_000_000,
        funds.social.name,
    )
    assert_books_balance(funds.social)
    assert_books_balance(funds.commune)


def test_allocation_beyond_the_available_amount_leaves_both_funds_untouched(
    world, funds, make_case
):
    make_case("approved", amount=90_000_000)  # social: 100M balance, 90M reserved
    with pytest.raises(ValidationError) as refused:
        allocate(
            from_fund=funds.social,
            to_fund=funds.commune,
            amount=20_000_000,
            occurred_on=DAY,
            by=system_user(),
        )
    assert "10.000.000 ₫" in str(refused.value)
    funds.social.refresh_from_db()
    funds.commune.refresh_from_db()
    assert (funds.social.balance, funds.social.reserved) == (100_000_000, 90_000_000)
    assert funds.commune.balance == 20_000_000
    assert funds.social.entries.count() == funds.commune.entries.count() == 1


def test_allocation_that_fails_half_way_leaves_neither_entry(funds, monkeypatch):
    real_post = ledger.post_entry

    def fail_on_the_way_in(**kwargs):
        if kwargs["kind"] == EntryKind.ALLOCATION_IN:
            raise RuntimeError("the disk is full")
        return real_post(**kwargs)

    monkeypatch.setattr(ledger, "post_entry", fail_on_the_way_in)
    with pytest.raises(RuntimeError):
        allocate(
            from_fund=funds.social,
            to_fund=funds.commune,
            amount=5_000_000,
            occurred_on=DAY,
            by=system_user(),
        )
    assert (fresh(funds.social).balance, fresh(funds.commune).balance) == (
        100_000_000,
        20_000_000,
    )
    assert not LedgerEntry.objects.filter(
        kind__in=[EntryKind.ALLOCATION_OUT, EntryKind.ALLOCATION_IN]
    ).exists()


def test_allocation_to_the_same_fund_is_refused(funds):
    with pytest.raises(ValidationError):
        allocate(
            from_fund=funds.own, to_fund=funds.own, amount=1, occurred_on=DAY, by=system_user()
        )
    assert funds.own.entries.count() == 1


def test_correction_reverses_a_contribution_once(world, funds):
    entry = record_contribution(
        fund=funds.commune, amount=7_000_000, occurred_on=DAY, source="nhầm", by=system_user()
    )
    correction = reverse_entry(
        entry=entry, occurred_on=DAY, reason="Ghi nhầm quỹ", by=world.users["commune_treasurer"]
    )
    assert (correction.kind, correction.amount, correction.reverses) == (
        EntryKind.CORRECTION,
        -7_000_000,
        entry,
    )
    funds.commune.refresh_from_db()
    assert funds.commune.balance == 20_000_000
    with pytest.raises(ValidationError):
        reverse_entry(entry=entry, occurred_on=DAY, reason="lại", by=system_user())
    assert funds.commune.entries.count() == 3
    assert_books_balance(funds.commune)


def test_correction_needs_a_reason(funds):
    entry = funds.own.entries.get()
    with pytest.raises(ValidationError):
        reverse_entry(entry=entry, occurred_on=DAY, reason="  ", by=system_user())
    assert funds.own.entries.count() == 1


def test_a_correction_cannot_itself_be_reversed(funds):
    entry = record_contribution(
        fund=funds.own, amount=1_000, occurred_on=DAY, source="", by=system_user()
    )
    correction = reverse_entry(entry=entry, occurred_on=DAY, reason="nhầm", by=system_user())
    with pytest.raises(ValidationError):
        reverse_entry(entry=correction, occurred_on=DAY, reason="nhầm", by=system_user())


def test_a_correction_cannot_spend_money_reserved_for_approved_cases(funds, make_case):
    entry = record_contribution(
        fund=funds.social, amount=50_000_000, occurred_on=DAY, source="", by=system_user()
    )
    make_case("approved", amount=120_000_000)  # 150M balance, 120M reserved
    with pytest.raises(ValidationError):
        reverse_entry(entry=entry, occurred_on=DAY, reason="nhầm", by=system_user())
    funds.social.refresh_from_db()
    assert (funds.social.balance, funds.social.reserved) == (150_000_000, 120_000_000)


def test_each_side_of_an_allocation_is_corrected_on_its_own_fund(funds):
    out, into = allocate(
        from_fund=funds.social,
        to_fund=funds.commune,
        amount=5_000_000,
        occurred_on=DAY,
        by=system_user(),
    )
    reverse_entry(entry=out, occurred_on=DAY, reason="Phân bổ nhầm", by=system_user())
    reverse_entry(entry=into, occurred_on=DAY, reason="Phân bổ nhầm", by=system_user())
    assert (fresh(funds.social).balance, fresh(funds.commune).balance) == (
        100_000_000,
        20_000_000,
    )
    assert_books_balance(funds.social)
    assert_books_balance(funds.commune)


def test_a_support_payment_is_not_reversible(world, funds, make_case):
    case = make_case("paid", amount=2_000_000)
    disbursement = LedgerEntry.objects.get(case=case)
    assert disbursement.kind == EntryKind.DISBURSEMENT
    with pytest.raises(ValidationError):
        reverse_entry(entry=disbursement, occurred_on=DAY, reason="nhầm", by=system_user())
    funds.social.refresh_from_db()
    assert funds.social.balance == 98_000_000


def test_a_ledger_entry_cannot_be_edited(funds):
    entry = funds.social.entries.get()
    entry.amount = 999
    with pytest.raises(ValueError):
        entry.save()
    assert funds.social.entries.get().amount == 100_000_000


def test_a_ledger_entry_cannot_be_deleted(funds):
    entry = funds.social.entries.get()
    with pytest.raises(ValueError):
        entry.delete()
    assert funds.social.entries.count() == 1


def test_database_refuses_a_reservation_above_the_balance(funds):
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=funds.social.pk).update(reserved=100_000_001)
    funds.social.refresh_from_db()
    assert funds.social.reserved == 0


def test_database_refuses_a_balance_that_is_not_its_totals(funds):
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=funds.social.pk).update(balance=100_000_001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=funds.social.pk).update(money_in=1)
    funds.social.refresh_from_db()
    assert (funds.social.balance, funds.social.money_in) == (100_000_000, 100_000_000)


def test_every_kind_of_movement_keeps_the_totals(world, funds, make_case):
    treasurer = world.users["treasurer"]
    contribution = record_contribution(
        fund=funds.social, amount=7_000_000, occurred_on=DAY, source="Nhà hảo tâm", by=treasurer
    )
    allocate(
        from_fund=funds.social,
        to_fund=funds.commune,
        amount=4_000_000,
        occurred_on=DAY,
        by=treasurer,
    )
    reverse_entry(entry=contribution, occurred_on=DAY, reason="Ghi nhầm quỹ", by=treasurer)
    make_case("paid", amount=2_500_000)
    for fund in (funds.social, funds.commune):
        assert_books_balance(fund)
    assert (funds.social.money_in, funds.social.money_out, funds.social.entry_count) == (
        107_000_000,
        -13_500_000,
        5,
    )


def test_database_refuses_a_negative_reservation(funds):
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=funds.social.pk).update(reserved=-1)


def test_database_refuses_a_zero_entry(funds):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            fund=funds.social,
            kind=EntryKind.CONTRIBUTION,
            amount=0,
            balance_after=100_000_000,
            occurred_on=DAY,
        )


def _spread_entries(funds, treasurer) -> None:
    """Contributions and allocations on days across four months, around month ends."""
    days = [
        datetime.date(2024, 1, 1),
        datetime.date(2024, 1, 15),
        datetime.date(2024, 1, 31),
        datetime.date(2024, 2, 1),
        datetime.date(2024, 2, 29),
        datetime.date(2024, 3, 10),
        datetime.date(2024, 4, 30),
    ]
    for n, day in enumerate(days):
        record_contribution(
            fund=funds.social,
            amount=1_000_000 * (n + 1),
            occurred_on=day,
            source="Nhà hảo tâm",
            by=treasurer,
        )
        allocate(
            from_fund=funds.social,
            to_fund=funds.commune,
            amount=100_000 * (n + 1),
            occurred_on=day,
            by=treasurer,
        )
    # entered late: an earlier day, a later id
    record_contribution(
        fund=funds.social,
        amount=5_000,
        occurred_on=datetime.date(2024, 1, 20),
        source="Nhà hảo tâm",
        by=treasurer,
    )


PERIODS = [
    (None, None),
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)),  # one whole month
    (datetime.date(2024, 1, 15), datetime.date(2024, 2, 29)),  # cut, then whole
    (datetime.date(2024, 1, 16), datetime.date(2024, 1, 31)),  # inside one month
    (datetime.date(2024, 1, 31), datetime.date(2024, 2, 1)),  # across a month end
    (datetime.date(2024, 2, 1), datetime.date(2024, 3, 9)),  # whole, then cut
    (datetime.date(2024, 1, 2), datetime.date(2024, 4, 29)),  # cut, whole, cut
    (None, datetime.date(2024, 2, 28)),
    (datetime.date(2024, 3, 1), None),
    (datetime.date(2024, 5, 1), datetime.date(2024, 5, 31)),  # nothing
]


@pytest.mark.parametrize("kind", ["", EntryKind.CONTRIBUTION, EntryKind.ALLOCATION_OUT])
def test_a_periods_summary_from_its_months_is_the_sum_of_its_entries(world, funds, kind):
    _spread_entries(funds, world.users["treasurer"])
    fund = fresh(funds.social)
    assert_months_match_the_ledger(fund)
    for start, end in PERIODS:
        entries = fund.entries.all()
        if start:
            entries = entries.filter(occurred_on__gte=start)
        if end:
            entries = entries.filter(occurred_on__lte=end)
        if kind:
            entries = entries.filter(kind=kind)
        amounts = dict(entries.values_list("pk", "amount"))
        summary = ledger.summarise(fund, start=start, end=end, kind=kind)
        assert (summary.count, summary.money_in, summary.money_out) == (
            len(amounts),
            sum(a for a in amounts.values() if a > 0),
            sum(a for a in amounts.values() if a < 0),
        ), (start, end)
        assert (summary.first_id, summary.last_id) == (
            min(amounts, default=None),
            max(amounts, default=None),
        ), (start, end)


def test_rebuilding_the_months_gives_what_posting_kept(world, funds, make_case):
    _spread_entries(funds, world.users["treasurer"])
    make_case("paid")
    kept = sorted(
        LedgerMonth.objects.values_list(
            "fund", "month", "kind", "entry_count", "money_in", "money_out", "first_id", "last_id"
        )
    )
    LedgerMonth.objects.filter(fund=funds.social).update(entry_count=0)
    assert ledger.rebuild_ledger_months() == len(kept)
    assert (
        sorted(
            LedgerMonth.objects.values_list(
                "fund",
                "month",
                "kind",
                "entry_count",
                "money_in",
                "money_out",
                "first_id",
                "last_id",
            )
        )
        == kept
    )


def test_the_recount_command_rebuilds_the_months(world, funds):
    LedgerMonth.objects.all().delete()
    out = io.StringIO()
    call_command("recount_ledgers", stdout=out)
    assert "Recounted 4 months" in out.getvalue()  # the opening balance of each of 4 funds
    for fund in (funds.social, funds.commune, funds.own, funds.other):
        assert_months_match_the_ledger(fund)


def test_the_same_submission_is_recorded_once_and_the_database_refuses_a_second(world, funds):
    treasurer = world.users["treasurer"]
    token = "0123456789abcdef0123456789abcdef"
    record_contribution(
        fund=funds.social,
        amount=1_000,
        occurred_on=DAY,
        source="Nhà hảo tâm",
        by=treasurer,
        submission=token,
    )
    with pytest.raises(ledger.AlreadyRecorded):
        record_contribution(
            fund=funds.social,
            amount=1_000,
            occurred_on=DAY,
            source="Nhà hảo tâm",
            by=treasurer,
            submission=token,
        )
    assert_books_balance(funds.social)
    # Another fund may hold the same token (an allocation writes it on both sides).
    allocate(
        from_fund=funds.commune,
        to_fund=funds.own,
        amount=500,
        occurred_on=DAY,
        by=world.users["commune_treasurer"],
        submission=token,
    )
    entry = funds.social.entries.get(submission=token)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    fund=funds.social,
                    kind=EntryKind.CONTRIBUTION,
                    amount=1,
                    balance_after=entry.balance_after + 1,
                    occurred_on=DAY,
                    submission=token,
                )
            ]
        )


def test_a_reversal_sent_twice_is_already_recorded_and_another_is_refused(world, funds):
    treasurer = world.users["treasurer"]
    contribution = record_contribution(
        fund=funds.social, amount=1_000, occurred_on=DAY, source="Nhà hảo tâm", by=treasurer
    )
    token = "fedcba9876543210fedcba9876543210"
    sent = {"occurred_on": DAY, "reason": "Ghi nhầm", "by": treasurer}
    reverse_entry(entry=contribution, submission=token, **sent)
    with pytest.raises(ledger.AlreadyRecorded):
        reverse_entry(entry=contribution, submission=token, **sent)
    with pytest.raises(ValidationError) as refused:
        reverse_entry(entry=contribution, submission="0" * 32, **sent)
    assert not isinstance(refused.value, ledger.AlreadyRecorded)
    assert funds.social.entries.filter(kind=EntryKind.CORRECTION).count() == 1
    assert_books_balance(funds.social)


# Who may move money: the services refuse by themselves, whoever calls them ----------------


def _books(*funds_) -> list[tuple]:
    """What a refused write must leave as it was: each fund's balance and entries."""
    return [(f.pk, fresh(f).balance, fresh(f).entry_count, f.entries.count()) for f in funds_] + [
        (Fund.objects.count(), LedgerEntry.objects.count())
    ]


def _open(unit, by):
    return open_fund(
        unit=unit,
        name="Quỹ mới",
        kind=FundKind.WELFARE,
        opening_balance=1_000_000,
        opened_on=DAY,
        by=by,
    )


@pytest.mark.parametrize(
    ("unit", "role", "refusal"),
    [
        ("a1", "grassroots", PermissionDenied),  # an officer records cases, not funds
        ("commune_a", "commune", PermissionDenied),
        ("commune_a", "treasurer", PermissionDenied),  # the province's treasurer, not A's
        ("province", "leader", PermissionDenied),
        ("province", "outsider", Http404),
        ("province", "q_treasurer", Http404),
    ],
)
def test_a_fund_is_opened_only_by_its_unions_treasurer_or_an_administrator(
    world, funds, unit, role, refusal
):
    before = _books()
    with pytest.raises(refusal):
        _open(getattr(world, unit), world.users[role])
    assert _books() == before


def test_treasurer_and_administrator_open_funds_where_they_may(world, funds):
    assert _open(world.commune_a, world.users["commune_treasurer"]).balance == 1_000_000
    assert _open(world.a1, world.users["admin"]).unit_id == world.a1.pk


@pytest.mark.parametrize(
    ("fund", "role", "refusal"),
    [
        ("commune", "treasurer", PermissionDenied),  # a treasurer records at their own union
        ("social", "commune_treasurer", Http404),  # the province is above commune A
        ("social", "q_treasurer", Http404),
        ("social", "leader", PermissionDenied),
        ("social", "admin", PermissionDenied),
    ],
)
def test_a_contribution_is_recorded_only_by_the_funds_treasurer(world, funds, fund, role, refusal):
    target = getattr(funds, fund)
    before = _books(target)
    with pytest.raises(refusal):
        record_contribution(
            fund=target, amount=1_000, occurred_on=DAY, source="x", by=world.users[role]
        )
    assert _books(target) == before


def test_a_write_without_an_acting_user_is_refused(funds):
    before = _books(funds.social)
    with pytest.raises(PermissionDenied):
        record_contribution(fund=funds.social, amount=1, occurred_on=DAY, source="x", by=None)
    assert _books(funds.social) == before


def test_allocation_into_a_fund_outside_scope_is_refused(world, funds):
    before = _books(funds.social, funds.other)
    with pytest.raises(Http404):
        allocate(
            from_fund=funds.social,
            to_fund=funds.other,
            amount=1_000_000,
            occurred_on=DAY,
            by=world.users["treasurer"],
        )
    assert _books(funds.social, funds.other) == before


def test_allocation_is_made_only_by_the_treasurer_of_the_fund_it_comes_from(world, funds):
    before = _books(funds.social, funds.commune)
    for user, refusal in (
        (world.users["commune_treasurer"], Http404),  # cannot see the province's fund
        (world.users["q_treasurer"], Http404),
        (world.users["province"], PermissionDenied),
    ):
        with pytest.raises(refusal):
            allocate(
                from_fund=funds.social,
                to_fund=funds.commune,
                amount=1_000_000,
                occurred_on=DAY,
                by=user,
            )
    with pytest.raises(PermissionDenied):  # the province's treasurer, from commune A's fund
        allocate(
            from_fund=funds.commune,
            to_fund=funds.own,
            amount=1_000,
            occurred_on=DAY,
            by=world.users["treasurer"],
        )
    assert _books(funds.social, funds.commune) == before


def test_a_correction_is_recorded_only_by_the_funds_treasurer(world, funds):
    entry = record_contribution(
        fund=funds.commune,
        amount=7_000_000,
        occurred_on=DAY,
        source="nhầm",
        by=world.users["commune_treasurer"],
    )
    before = _books(funds.commune)
    for user, refusal in (
        (world.users["q_treasurer"], Http404),
        (world.users["treasurer"], PermissionDenied),
        (world.users["commune"], PermissionDenied),
    ):
        with pytest.raises(refusal):
            reverse_entry(entry=entry, occurred_on=DAY, reason="nhầm", by=user)
    assert _books(funds.commune) == before
    assert not LedgerEntry.objects.filter(reverses=entry).exists()


def test_the_ledger_says_why_an_entry_cannot_be_reversed(world, funds, make_case):
    case = make_case("paid", fund=funds.social)
    payment = funds.social.entries.get(case=case)
    entry = record_contribution(
        fund=funds.social,
        amount=1_000,
        occurred_on=DAY,
        source="",
        by=world.users["treasurer"],
    )
    assert ledger.reversal_refusal(entry) is None
    correction = reverse_entry(
        entry=entry, occurred_on=DAY, reason="nhầm", by=world.users["treasurer"]
    )
    entry = LedgerEntry.objects.get(pk=entry.pk)
    with override("en"):
        assert "belongs to its case" in ledger.reversal_refusal(payment)
        assert "correction cannot itself" in ledger.reversal_refusal(correction)
        assert "already been reversed" in ledger.reversal_refusal(entry)


def test_an_entry_set_checks_each_entry_as_one_posting_does_and_writes_them_together(
    world, funds, django_assert_num_queries
):
    """Each entry is checked against what the entries before it left (its token, its amount,
    the money available); those refused leave the fund as it was; the rest are written in a
    fixed number of queries, with the fund's and the months' totals."""
    treasurer = world.users["treasurer"]
    with transaction.atomic():
        ledger.post_entry(
            fund=ledger.lock_fund(funds.social),
            kind=EntryKind.DISBURSEMENT,
            amount=-1_000,
            occurred_on=DAY,
            by=treasurer,
            submission="earlier",
        )
    with transaction.atomic():
        fund = ledger.lock_fund(funds.social)  # balance 99,999,000
        entries = ledger.EntrySet([fund], ["earlier", "a", "b", "c", "a"])
        posted = []
        for amount, token in [(-60_000_000, "a"), (-50_000_000, "b"), (-30_000_000, "c")]:
            try:
                posted.append(
                    entries.add(
                        fund=fund,
                        kind=EntryKind.DISBURSEMENT,
                        amount=amount,
                        occurred_on=DAY + datetime.timedelta(days=len(posted)),
                        by=treasurer,
                        submission=token,
                    )
                )
            except ValidationError as error:
                assert token == "b"  # 39,999,000 was left for 50,000,000
                assert format_dong(39_999_000) in " ".join(error.messages)
        for token in ("a", "earlier"):  # a second click, in this set or before it
            with pytest.raises(ledger.AlreadyRecorded):
                entries.add(
                    fund=fund,
                    kind=EntryKind.DISBURSEMENT,
                    amount=-1,
                    occurred_on=DAY,
                    by=treasurer,
                    submission=token,
                )
        # The entries, the fund, the month's totals (kept since the earlier entry).
        with django_assert_num_queries(3):
            entries.write()
    assert [entry.amount for entry in posted] == [-60_000_000, -30_000_000]
    assert [entry.balance_after for entry in posted] == [39_999_000, 9_999_000]
    assert_books_balance(funds.social)
    assert fresh(funds.social).balance == 9_999_000
