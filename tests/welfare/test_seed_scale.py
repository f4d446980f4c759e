"""``manage.py seed_scale`` at a small size: the invariants the services would have kept."""

from __future__ import annotations

import datetime
import io
import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import global_settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from members.models import Dependant, Member, Membership, MemberStatus
from members.national_id import validate_national_id
from members.search import normalise
from seed.demo_members import DEMO_PASSWORD
from unions.models import Placement, RoleAssignment, Unit, UnitEvent, UnitKind, UnitStatus
from welfare.funds import ledger
from welfare.models import (
    Case,
    CaseEvent,
    CaseStatus,
    EntryKind,
    Fund,
    LedgerEntry,
    LedgerMonth,
    Payment,
    SupportType,
)

MEMBERS, UNITS, YEARS = 2000, 60, 2
ROOT = Path(__file__).resolve().parents[2]

# The marker makes pytest-django set up the test database before the module fixture below.
pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_benchmark_runs_on_a_small_seed(tmp_path):
    """``bench/run.py`` end to end (server, sessions, admin, aggregates) at a tiny size, so that
    it cannot rot.  It commits its data, which the server process reads; pytest-django runs it
    after the other tests, once ``TestSeedScale``'s shared seed has been rolled back."""
    call_command("seed_scale", members=600, units=30, years=2, seed=3, stdout=io.StringIO())
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = dict(os.environ, DATABASE_URL=url)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--runs", "2", "--warmup", "1",
         "--import-rows", "0", "--label", "smoke", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "smoke.json").read_text())
    pages = {page["name"]: page for page in report["pages"]}
    for name in (
        "home (province)",
        "member list, page 1",
        "member page",
        "union tree",
        "dashboard figures (commune leader)",
        "loan portfolio",
        "campaign page",
    ):
        assert pages[name]["status"] == "ok", pages[name]
        assert pages[name]["queries"] > 0
    assert pages["admin: member changelist, page 1"]["status"] == "ok"
    measured = {agg["name"]: agg for agg in report["aggregates"]}
    year = timezone.localdate().year
    for union in ("province", "commune"):
        for what in ("annual report aggregates", "dashboard summary"):
            for when in (year, 2024):
                assert measured[f"{what}, {union}, {when}"]["queries"] > 0
    assert (tmp_path / "smoke.md").read_text().startswith("# Benchmark smoke")


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Seeded once for ``TestSeedScale`` (a few seconds on SQLite), rolled back afterwards.

    Class-scoped: pytest-django runs transactional tests (the benchmark test above) after the
    others, and a module-scoped transaction would still be open when they run."""
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        out = io.StringIO()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # One year only (all after the reorganisation), rolled back: no union may be placed
            # under a district after the districts closed (the placement constraint says so).
            with transaction.atomic():
                call_command("seed_scale", members=1000, units=200, years=1, stdout=io.StringIO())
                assert (
                    not Unit.objects.filter(
                        kind=UnitKind.GRASSROOTS, founded_on__gte=datetime.date(2025, 7, 1)
                    )
                    .filter(placements__parent__kind=UnitKind.DISTRICT)
                    .exists()
                )
                transaction.set_rollback(True)
            call_command(
                "seed_scale",
                members=MEMBERS,
                units=UNITS,
                years=YEARS,
                seed=7,
                stdout=out,
            )
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def db_seeded(seeded, django_db_blocker):
    with django_db_blocker.unblock():
        yield seeded


class TestSeedScale:
    def test_prints_phases_and_timings(self, db_seeded):
        for phase in ("tree", "accounts", "members", "support", "funds and ledgers", "Done in"):
            assert phase in db_seeded

    def test_refuses_a_database_with_units(self, db_seeded):
        with pytest.raises(CommandError, match="already has union units"):
            call_command("seed_scale", members=100, units=10, years=1, stdout=io.StringIO())

    def test_every_unit_has_one_open_placement_mirrored_on_the_unit(self, db_seeded):
        units = Unit.objects.annotate(open=Count("placements", filter=Q(placements__valid_to=None)))
        assert not units.exclude(open=1).exists()
        for placement in Placement.objects.open().select_related("unit"):
            unit = placement.unit
            assert (unit.path, unit.parent_id, unit.depth) == (
                placement.path,
                placement.parent_id,
                placement.depth,
            )
            parent_path = unit.parent.path if unit.parent_id else ""
            assert unit.path == f"{parent_path}{unit.pk}/"
            assert unit.search_name == normalise(unit.name)  # what the unit filters search

    def test_the_tree_before_and_after_the_reorganisation(self, db_seeded):
        def kinds_on(day):
            return set(Placement.objects.on(day).values_list("unit__kind", flat=True).distinct())

        before, today = kinds_on(datetime.date(2024, 12, 31)), kinds_on(timezone.localdate())
        assert UnitKind.DISTRICT in before and UnitKind.COMMUNE not in before
        assert {UnitKind.COMMUNE, UnitKind.ZONE} <= today
        # Districts are dissolved, not deleted: closed, still under the province, with events.
        districts = Unit.objects.filter(kind=UnitKind.DISTRICT)
        assert districts.exists()
        assert not districts.exclude(status=UnitStatus.DISSOLVED).exists()
        assert not districts.filter(children__status=UnitStatus.ACTIVE).exists()
        reorganised = datetime.date(2025, 7, 1)
        moved = UnitEvent.objects.filter(kind=UnitEvent.Kind.MOVED, effective_on=reorganised)
        assert moved.count() == Placement.objects.filter(valid_to=reorganised).count() > 0
        assert UnitEvent.objects.filter(kind=UnitEvent.Kind.DISSOLVED).count() == districts.count()
        # Placements of one unit never overlap.
        moved_units = (
            Placement.objects.values("unit").annotate(n=Count("pk")).filter(n__gt=1).values("unit")
        )
        for unit_id in moved_units.values_list("unit", flat=True):
            rows = list(Placement.objects.filter(unit_id=unit_id).order_by("valid_from"))
            assert all(a.valid_to == b.valid_from for a, b in itertools.pairwise(rows))

    def test_members(self, db_seeded):
        assert Member.objects.count() == MEMBERS
        assert Member.objects.filter(unit__kind=UnitKind.GRASSROOTS).count() == MEMBERS
        # One membership each, open for those still active, closed on the day the others left.
        assert Membership.objects.values("member").distinct().count() == MEMBERS
        active = Member.objects.filter(status=MemberStatus.ACTIVE)
        assert Membership.objects.filter(valid_to=None).count() == active.count() < MEMBERS
        assert not Membership.objects.filter(valid_to=None).exclude(member__in=active).exists()
        assert Member.objects.values("national_id").distinct().count() == MEMBERS
        workers = Member.objects.filter(kind="worker").count()
        assert 0.04 * MEMBERS < workers < 0.12 * MEMBERS
        parents = Dependant.objects.values("member").distinct().count()
        assert 0.08 * MEMBERS < parents < 0.2 * MEMBERS
        sample = random.Random(1).sample(list(Member.objects.all()), 200)
        for member in sample:
            validate_national_id(
                member.national_id, date_of_birth=member.date_of_birth, sex=member.sex
            )
            assert member.search_name == normalise(member.full_name)
        assert Member.objects.filter(search_name__contains="nguyen van").exists()
        assert Member.history.count() >= MEMBERS

    def test_every_fund_balances(self, db_seeded):
        funds = Fund.objects.annotate(
            total=Sum("entries__amount"),
            total_in=Sum("entries__amount", filter=Q(entries__amount__gt=0)),
            total_out=Sum("entries__amount", filter=Q(entries__amount__lt=0)),
            entries_n=Count("entries"),
        )
        assert funds.count() > 3
        for fund in funds:
            assert fund.search_name == normalise(fund.name)  # what the fund filter searches
            assert fund.balance == (fund.total or 0), fund
            # the totals the fund page shows, kept on the fund
            assert (fund.money_in, fund.money_out, fund.entry_count) == (
                fund.total_in or 0,
                fund.total_out or 0,
                fund.entries_n,
            ), fund
            owed = Case.objects.filter(fund=fund, status=CaseStatus.APPROVED).aggregate(
                s=Sum("approved_amount")
            )["s"]
            assert fund.reserved == (owed or 0), fund
            assert fund.balance >= fund.reserved >= 0
            # balance_after is the running sum in id order, never negative.
            running = 0
            for amount, after in fund.entries.order_by("id").values_list("amount", "balance_after"):
                running += amount
                assert after == running >= 0
        assert Fund.objects.filter(reserved__gt=0).exists()
        # the months and kinds the fund pages sum a period from, as post_entry keeps them
        fields = ("fund_id", "month", "kind", "entry_count", "money_in", "money_out")
        kept = set(LedgerMonth.objects.values_list(*fields, "first_id", "last_id"))
        counted = {
            tuple(row[name] for name in (*fields, "first_id", "last_id"))
            for row in ledger.month_totals(LedgerEntry.objects.all())
        }
        assert kept == counted and len(kept) > 10
        assert LedgerEntry.objects.filter(kind=EntryKind.ALLOCATION_IN).count() == (
            LedgerEntry.objects.filter(kind=EntryKind.ALLOCATION_OUT).count()
        )

    def test_cases_per_year_and_states(self, db_seeded):
        this_year = timezone.localdate().year
        per_year = dict(
            Case.objects.values_list("created_at__year").annotate(n=Count("pk")).order_by()
        )
        assert set(per_year) == set(range(this_year - YEARS + 1, this_year + 1))
        for count in per_year.values():
            assert MEMBERS / 2 * 0.7 <= count <= MEMBERS / 2 * 1.3
        states = set(
            Case.objects.filter(created_at__year=this_year).values_list("status", flat=True)
        )
        assert states == set(CaseStatus.values)
        types = set(Case.objects.values_list("support_type", flat=True))
        assert types == set(SupportType.values)
        past = Case.objects.filter(created_at__year__lt=this_year)
        assert past.filter(status=CaseStatus.PAID).count() > 0.85 * past.count()

    def test_paid_cases_have_one_payment_and_one_disbursement(self, db_seeded):
        paid = Case.objects.filter(status=CaseStatus.PAID)
        assert paid.count() == Payment.objects.count()
        assert not paid.exclude(
            payment__amount=F("approved_amount"),
            payment__paid_on=F("paid_on"),
            payment__fund=F("fund"),
        ).exists()
        disbursements = LedgerEntry.objects.filter(kind=EntryKind.DISBURSEMENT)
        assert disbursements.count() == paid.count()
        assert disbursements.values("case").distinct().count() == paid.count()
        assert not Payment.objects.exclude(ledger_entry__case=F("case")).exists()
        assert not Payment.objects.exclude(ledger_entry__amount=-F("amount")).exists()
        assert (
            not Case.objects.exclude(status=CaseStatus.PAID).filter(payment__isnull=False).exists()
        )

    def test_loans_have_schedules_repayments_and_their_entries(self, db_seeded):
        from welfare.loans.models import Instalment, Loan, LoanStatus, Repayment

        loans = Loan.objects.all()
        assert loans.count() == MEMBERS // 25
        assert (
            not loans.annotate(scheduled=Sum("instalments__principal"))
            .exclude(scheduled=F("principal"))
            .exists()
        )
        repaid = dict(
            Repayment.objects.values("loan")
            .annotate(total=Sum("amount"))
            .values_list("loan", "total")
        )
        for loan in loans:
            assert loan.principal_paid == repaid.get(loan.pk, 0)
            assert loan.outstanding == loan.principal - loan.principal_paid
            assert (loan.status == LoanStatus.CLOSED) == (loan.outstanding == 0)
        assert not Repayment.objects.exclude(ledger_entry__amount=F("amount")).exists()
        assert not Repayment.objects.exclude(ledger_entry__kind=EntryKind.LOAN_REPAYMENT).exists()
        out = LedgerEntry.objects.filter(kind=EntryKind.LOAN_OUT).aggregate(total=Sum("amount"))
        assert -out["total"] == loans.aggregate(total=Sum("principal"))["total"]
        today = timezone.localdate()
        unsettled = Instalment.objects.filter(settled_on__isnull=True)
        assert not unsettled.filter(overdue_after__lt=today, marked_overdue_on=None).exists()
        assert Instalment.objects.filter(marked_overdue_on__isnull=False).exists()

    def test_contributions_are_entries_of_their_campaigns_funds(self, db_seeded):
        from welfare.campaigns.models import Campaign, Contribution

        contributions = Contribution.objects.all()
        assert contributions.count() >= MEMBERS * 0.4 * 0.9
        assert not contributions.exclude(entry__amount=F("amount")).exists()
        assert not contributions.exclude(entry__fund=F("campaign__fund")).exists()
        assert not contributions.exclude(entry__kind=EntryKind.CONTRIBUTION).exists()
        assert not contributions.filter(received_on__lt=F("campaign__starts_on")).exists()
        assert not contributions.filter(received_on__gt=F("campaign__ends_on")).exists()
        assert Campaign.objects.exclude(unit=Unit.objects.get(parent=None)).exists()

    def test_the_tallies_are_the_records(self, db_seeded):
        from welfare.reports import tallies

        assert tallies.years()
        for year in tallies.years():
            assert tallies.differences(year) == {}

    def test_the_lending_and_membership_tallies_are_the_records(self, db_seeded):
        from members.counters import membership_year_differences
        from welfare.loans import tallies

        assert tallies.stored()
        assert tallies.differences() == {}
        assert tallies.late_differences() == {}
        assert membership_year_differences() == {}

    def test_timelines(self, db_seeded):
        Action = CaseEvent.Action
        actions = dict(CaseEvent.objects.values_list("action").annotate(n=Count("pk")).order_by())
        assert actions[Action.CREATED] == Case.objects.count()
        assert actions[Action.PAID] == Case.objects.filter(status=CaseStatus.PAID).count()
        assert (
            actions[Action.APPROVED]
            == Case.objects.filter(status__in=[CaseStatus.APPROVED, CaseStatus.PAID]).count()
        )
        assert actions[Action.ENDORSED] > 0
        # Nobody decides on a case they created; in review means a current unit.
        assert not CaseEvent.objects.filter(
            action__in=[Action.APPROVED, Action.REJECTED, Action.RETURNED, Action.ENDORSED],
            actor=F("case__created_by"),
        ).exists()
        assert not Case.objects.filter(status=CaseStatus.SUBMITTED, current_unit=None).exists()
        assert (
            not Case.objects.exclude(status=CaseStatus.SUBMITTED)
            .exclude(current_unit=None)
            .exists()
        )
        # The fund belongs to the case's union or one above it (today's tree).
        for case in Case.objects.select_related("unit", "fund").order_by("?")[:200]:
            assert case.fund.unit_id in case.unit.ancestor_ids()
        now = timezone.now()
        assert not CaseEvent.objects.filter(at__gt=now).exists()

    def test_demo_accounts_work(self, db_seeded, settings):
        settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # as the seed hashed them
        assert authenticate(HttpRequest(), username="province", password=DEMO_PASSWORD) is not None
        demo = get_user_model().objects.filter(
            username__in=["admin", "province", "commune", "grassroots", "treasurer", "leader"]
        )
        assert demo.values("password").distinct().count() == 1  # hashed once, the same password
        assert RoleAssignment.objects.filter(user__in=demo).count() == 6
        assert RoleAssignment.objects.filter(user__username="grassroots").get().unit.kind == (
            UnitKind.GRASSROOTS
        )
        assert Case.objects.filter(created_by__username="grassroots").exists()
