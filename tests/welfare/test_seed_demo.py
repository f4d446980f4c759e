"""``manage.py seed_demo``, the welfare part: funds whose ledgers add up, five years of paid
support that went up the tree as it stood, and this year's cases waiting for each demo role."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from django.conf import global_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.test import override_settings
from django.utils import timezone

from seed.demo_members import (
    COMMUNE_ACCOUNT_UNIT,
    DEMO_PASSWORD,
    GRASSROOTS_ACCOUNT_UNIT,
    PROVINCE_CODE,
)
from seed.demo_welfare import live_since
from unions.accounts import must_change_password
from unions.models import Placement, Role, Unit, UnitKind
from welfare.cases.approvals import returned_to, waiting_for
from welfare.cases.overlap import earlier_support
from welfare.cases.rules import allowed_actions
from welfare.funds.ledger import LOAN_KINDS
from welfare.models import (
    Case,
    CaseEvent,
    CaseStatus,
    EntryKind,
    Evidence,
    Fund,
    FundKind,
    LedgerEntry,
    Payment,
    SupportType,
)
from welfare.programs.models import Batch, BatchLine, Program

Action = CaseEvent.Action
REORGANISED = datetime.date(2025, 7, 1)
# What each kind of support amounts to, in đồng.
AMOUNTS = {
    SupportType.VISIT: (500_000, 2_000_000),
    SupportType.TET_GIFT: (500_000, 1_000_000),
    SupportType.GRANT: (1_000_000, 10_000_000),
    SupportType.SAVINGS_BOOK: (5_000_000, 10_000_000),
    SupportType.SHELTER: (50_000_000, 80_000_000),
    SupportType.SCHOLARSHIP: (1_000_000, 2_000_000),
}


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """One build for the whole module (it takes seconds), inside a transaction rolled back at
    the end; each test runs in a savepoint of its own within it."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue(), media
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db, settings) -> str:
    output, settings.MEDIA_ROOT = seeded_once
    return output


def user(username: str):
    return get_user_model().objects.get(username=username)


def counts() -> dict[str, int]:
    return {
        "funds": Fund.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "payments": Payment.objects.count(),
        "evidence": Evidence.objects.count(),
        "users": get_user_model().objects.count(),
        "balance": Fund.objects.aggregate(total=Sum("balance"))["total"],
    }


def test_second_run_changes_nothing(seeded):
    first = counts()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == first
    assert "Adding the demo funds" in seeded
    assert "The demo funds and cases are already there." in out.getvalue()
    assert first["cases"] >= 300


def test_every_fund_adds_up(seeded):
    funds = Fund.objects.annotate(total=Sum("entries__amount"))
    assert funds.count() >= 15
    for fund in funds:
        assert fund.balance == fund.total, fund.name
        running = 0
        for amount, after in fund.entries.order_by("id").values_list("amount", "balance_after"):
            running += amount
            assert after == running, fund.name
        # The loans and then the campaigns' contributions are seeded after the rest of the
        # money (seed/demo_loans.py, seed/demo_campaigns.py), each in date order among
        # themselves.
        campaigns = Q(contribution__isnull=False) | Q(reverses__contribution__isnull=False)
        for entries in (
            fund.entries.exclude(kind__in=LOAN_KINDS).exclude(campaigns),
            fund.entries.filter(kind__in=LOAN_KINDS),
            fund.entries.filter(campaigns),
        ):
            dates = list(entries.order_by("id").values_list("occurred_on", flat=True))
            assert dates == sorted(dates), f"{fund.name}: entries posted out of date order"
        waiting = fund.cases.filter(status=CaseStatus.APPROVED).aggregate(
            total=Sum("approved_amount")
        )["total"]
        lending = fund.loans.filter(status="approved").aggregate(total=Sum("principal"))["total"]
        assert fund.reserved == (waiting or 0) + (lending or 0), fund.name
        assert fund.balance >= fund.reserved >= 0
    # Every paid case left the ledger once, on its payment date, for the approved amount; the
    # support records of a program's batch left it together, in their batch's entry; a visit
    # without money left nothing.
    paid = Case.objects.filter(status=CaseStatus.PAID, batch__isnull=True).exclude(
        approved_amount=0
    )
    assert not Payment.objects.filter(amount=0).exists()
    assert Payment.objects.count() == paid.count()
    for case in paid.select_related("payment__ledger_entry"):
        entry = case.payment.ledger_entry
        assert (entry.kind, entry.case_id, entry.amount, entry.occurred_on) == (
            EntryKind.DISBURSEMENT,
            case.pk,
            -case.approved_amount,
            case.paid_on,
        )
        assert case.payment.amount == case.approved_amount
        assert case.approved_on <= case.paid_on < timezone.localdate() + datetime.timedelta(1)
    batches = Batch.objects.filter(status=CaseStatus.PAID)
    for batch in batches.select_related("payment_entry"):
        paid_records = batch.cases.filter(status=CaseStatus.PAID)
        total = paid_records.aggregate(total=Sum("approved_amount"))["total"]
        assert (batch.payment_entry.amount, batch.payment_entry.occurred_on) == (
            -total,
            batch.paid_on,
        )
    disbursements = LedgerEntry.objects.filter(kind=EntryKind.DISBURSEMENT)
    assert set(disbursements.values_list("pk", flat=True)) == set(
        Payment.objects.values_list("ledger_entry", flat=True)
    ) | set(batches.values_list("payment_entry", flat=True))


def test_the_named_funds_are_there(seeded):
    province = Unit.objects.get(code="LS")
    social = Fund.objects.get(name="Quỹ Xã hội LĐLĐ tỉnh Lạng Sơn")
    assert (social.unit, social.kind) == (province, FundKind.SOCIAL)
    assert Fund.objects.get(name="Quỹ Trợ vốn CNVCLĐ nghèo").kind == FundKind.LOAN
    assert Fund.objects.get(name="Quỹ Mái ấm Công đoàn").kind == FundKind.SHELTER
    opening = social.entries.get(kind=EntryKind.OPENING)
    assert (opening.occurred_on, opening.amount) == (datetime.date(2021, 1, 1), 3_500_000_000)
    for union in Unit.objects.filter(kind__in=[UnitKind.COMMUNE, UnitKind.ZONE]):
        [fund] = union.funds.all()
        opening = fund.entries.get(kind=EntryKind.OPENING)
        assert 100_000_000 <= opening.amount <= 300_000_000
        assert opening.occurred_on == union.founded_on == REORGANISED
    grassroots = Fund.objects.filter(unit__kind=UnitKind.GRASSROOTS)
    assert grassroots.filter(unit__code=GRASSROOTS_ACCOUNT_UNIT).exists()
    for fund in grassroots:
        assert 20_000_000 <= fund.entries.get(kind=EntryKind.OPENING).amount <= 80_000_000
    contributions = LedgerEntry.objects.filter(kind=EntryKind.CONTRIBUTION, fund=social)
    assert {d.year for d in contributions.values_list("occurred_on", flat=True)} >= set(
        range(2021, 2026)
    )
    assert LedgerEntry.objects.filter(kind=EntryKind.ALLOCATION_IN).exists()


def test_past_years_have_realistic_paid_support(seeded):
    paid = Case.objects.filter(status=CaseStatus.PAID, paid_on__year__lt=timezone.localdate().year)
    by_year = dict(
        paid.values_list("paid_on__year").annotate(n=Count("pk")).values_list("paid_on__year", "n")
    )
    for year in range(2021, 2026):
        assert by_year.get(year, 0) >= 40, year
    assert 250 <= sum(by_year.values()) <= 800
    assert {kind for kind in paid.values_list("support_type", flat=True)} >= set(AMOUNTS)
    for support_type, amount in paid.values_list("support_type", "approved_amount"):
        low, high = AMOUNTS[support_type]
        assert low <= amount <= high, (support_type, amount)
    # Every case is at a grassroots union, for one of its own people, opened in the past.
    for unit_kind, member_unit, unit, created in paid.values_list(
        "unit__kind", "member__unit", "unit", "created_at"
    ):
        assert unit_kind == UnitKind.GRASSROOTS
        assert member_unit == unit
        assert created.year <= timezone.localdate().year


def route_on(unit_id: int, owner_id: int, day: datetime.date) -> list[int]:
    parents = dict(Placement.objects.on(day).values_list("unit_id", "parent_id"))
    chain = [unit_id]
    while chain[-1] != owner_id:
        chain.append(parents[chain[-1]])
    return chain


def test_past_cases_went_up_the_tree_as_it_stood(seeded):
    province = Unit.objects.get(code="LS")
    past = (
        Case.objects.filter(status=CaseStatus.PAID, fund__unit=province)
        .exclude(submitted_at__date__gte=timezone.localdate() - datetime.timedelta(days=30))
        .select_related("unit", "payment")
        .prefetch_related("events")
    )
    through_districts = 0
    for case in past:
        submitted = timezone.localdate(case.submitted_at)
        chain = route_on(case.unit_id, province.pk, submitted)
        events = sorted(case.events.all(), key=lambda e: (e.at, e.id))
        assert [e.action for e in events] == [
            Action.CREATED,
            Action.SUBMITTED,
            *[Action.ENDORSED] * (len(chain) - 2),
            Action.APPROVED,
            Action.PAID,
        ], case.pk
        assert [e.unit_id for e in events if e.action == Action.ENDORSED] == chain[1:-1]
        assert events[-1].comment == case.payment.receipt_reference
        assert timezone.localdate(events[-2].at) == case.approved_on
        assert timezone.localdate(events[-1].at) == case.paid_on
        assert len({e.actor_id for e in events if e.action != Action.SUBMITTED}) == len(events) - 1
        if submitted < REORGANISED and len(chain) == 3:
            assert Unit.objects.get(pk=chain[1]).kind in (UnitKind.DISTRICT, UnitKind.SECTOR)
            through_districts += Unit.objects.get(pk=chain[1]).kind == UnitKind.DISTRICT
    assert through_districts >= 100
    # Since the reorganisation, the demo commune account endorses for its wards' unions.
    commune = Unit.objects.get(code=COMMUNE_ACCOUNT_UNIT)
    assert CaseEvent.objects.filter(
        action=Action.ENDORSED, unit=commune, actor=user("commune"), case__status="paid"
    ).exists()
    assert not CaseEvent.objects.filter(
        unit__kind=UnitKind.DISTRICT, at__date__gte=REORGANISED
    ).exists()


def test_every_demo_role_has_something_waiting(seeded):
    commune_unit = Unit.objects.get(code=COMMUNE_ACCOUNT_UNIT)
    grassroots, commune = user("grassroots"), user("commune")
    province, treasurer = user("province"), user("treasurer")

    at_commune = list(waiting_for(commune))
    assert len(at_commune) >= 2
    for case in at_commune:
        assert (case.status, case.current_unit, case.created_by) == (
            CaseStatus.SUBMITTED,
            commune_unit,
            grassroots,
        )
        assert allowed_actions(commune, case) & {"endorse", "approve"}

    at_province = list(waiting_for(province))
    assert len(at_province) >= 2
    assert sum(c.fund.name == "Quỹ Xã hội LĐLĐ tỉnh Lạng Sơn" for c in at_province) >= 2
    for case in at_province:
        assert case.events.filter(action=Action.ENDORSED, actor=commune).exists()
        assert "approve" in allowed_actions(province, case)

    to_pay = list(waiting_for(treasurer))
    assert len(to_pay) >= 2
    assert all(allowed_actions(treasurer, case) == {"pay"} for case in to_pay)

    [returned] = returned_to(grassroots)
    assert returned.events.get(action=Action.RETURNED).comment
    assert allowed_actions(grassroots, returned) >= {"edit", "submit"}

    recent = Case.objects.filter(
        created_by=grassroots, created_at__gte=timezone.now() - datetime.timedelta(days=40)
    )
    statuses = set(recent.values_list("status", flat=True))
    assert statuses == set(CaseStatus.values)
    # Oldest first, and no two at the same moment.
    submitted = [c.submitted_at for c in at_commune]
    assert submitted == sorted(submitted) and len(set(submitted)) == len(submitted)


def test_recent_cases_carry_a_pdf_and_a_timeline_in_the_past(seeded):
    recent = Case.objects.filter(created_at__gte=live_since(), batch__isnull=True)
    assert recent.count() >= 15
    for case in recent:
        files = list(case.evidence.all())
        assert files, case.pk
        for evidence in files:
            content = Path(evidence.file.path).read_bytes()
            assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
            assert evidence.content_type == "application/pdf"
        times = [e.at for e in case.events.order_by("id")]
        assert times == sorted(times)
        assert times[-1] <= timezone.now()
    resubmitted = recent.filter(events__action=Action.EDITED).distinct().get()
    assert resubmitted.status == CaseStatus.SUBMITTED
    assert resubmitted in waiting_for(user("commune"))
    assert resubmitted.evidence.count() == 2
    # One person waiting at the commune was supported in the last 24 months: the warning shows.
    assert any(earlier_support(c.member, exclude_case=c) for c in waiting_for(user("commune")))


def test_people_of_past_steps_cannot_sign_in(seeded):
    actors = get_user_model().objects.filter(role_assignments=None, is_superuser=False)
    assert actors.exists()
    assert not actors.filter(is_active=True).exists()
    assert not any(actor.has_usable_password() for actor in actors)


# The unions whose treasurers are the README's named demo logins.
NAMED = [PROVINCE_CODE, COMMUNE_ACCOUNT_UNIT, GRASSROOTS_ACCOUNT_UNIT]


def test_every_fund_with_cases_has_a_treasurer_who_can_log_in(seeded, settings):
    """A case approved from any fund of the demo can be paid by someone who can sign in: the
    named demo treasurers, and a "<code>-ketoan" login at every other union with a fund."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # as the seed hashed them
    funds = Fund.objects.filter(cases__isnull=False).distinct().with_treasurer()
    assert funds.filter(unit__code=GRASSROOTS_ACCOUNT_UNIT).exists()
    assert [fund.name for fund in funds if not fund.has_treasurer] == []
    for fund in funds:
        treasurers = get_user_model().objects.filter(
            role_assignments__unit=fund.unit, role_assignments__role=Role.TREASURER
        )
        assert any(t.is_active and t.check_password(DEMO_PASSWORD) for t in treasurers), fund
    ketoan = user(f"{funds.exclude(unit__code__in=NAMED).first().unit.code.lower()}-ketoan")
    assert ketoan.is_active and not must_change_password(ketoan)
    ward = user("treasurer-ward")
    assert ward.is_active  # its password: tests/members/test_seed_demo.py
    assert "treasurer-ward" in seeded
    ward_fund = funds.get(unit__code=COMMUNE_ACCOUNT_UNIT)
    assert ward_fund.unit.role_assignments.filter(user=ward).exists()


def test_the_readme_lists_every_treasurer_login_of_the_demo(seeded):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    logins = get_user_model().objects.filter(is_active=True, role_assignments__role=Role.TREASURER)
    assert logins.count() == 17
    assert [u.username for u in logins if f"`{u.username}`" not in readme] == []


def test_the_tet_program_has_a_batch_waiting_for_each_demo_account(seeded):
    program = Program.objects.get(name=f"Tết Sum vầy {timezone.localdate().year}")
    batches = {batch.unit.code: batch for batch in program.batches.select_related("unit")}
    assert {b.status for b in batches.values()} == {
        "draft",
        "submitted",
        "returned",
        "rejected",
        "approved",
        "paid",
    }
    waiting = {
        "grassroots": {"edit", "submit"},
        "commune": {"endorse", "return", "reject"},
        "province": {"approve", "return", "reject"},
        "treasurer": {"pay"},
    }
    for account, actions in waiting.items():
        mine = [b for b in batches.values() if allowed_actions(user(account), b) >= actions]
        assert mine, account
    paid = next(b for b in batches.values() if b.status == "paid")
    # one person taken out at approval, one not found at payment: both left out of the money
    assert paid.lines.filter(status="taken_out").count() == 1
    assert paid.lines.filter(status="not_paid").count() == 1
    assert (
        paid.cases.filter(status=CaseStatus.PAID).count()
        == paid.lines.filter(status="paid").count()
    )


def test_demo_loan_fund_has_loans_in_every_state(seeded):
    """Current, overdue in each age band, rescheduled, written off and partly recovered,
    closed, and one waiting at each step of the chain, as the treasurer's portfolio shows."""
    from welfare.loans import portfolio
    from welfare.models import Loan, LoanStatus

    loans = Loan.objects.filter(fund__name="Quỹ Trợ vốn CNVCLĐ nghèo")
    assert set(loans.values_list("status", flat=True)) == set(LoanStatus.values) - {"rejected"}
    figures = portfolio.totals(loans)
    assert all(count for _name, _amount, count in figures.bands), figures.bands
    assert loans.filter(schedule_version=2).exists()
    off = loans.get(status=LoanStatus.WRITTEN_OFF)
    assert 0 < off.recovered < off.written_off
    assert loans.filter(status=LoanStatus.CURRENT, principal_paid__gt=0).exists()
    treasurer = user("treasurer")
    assert Loan.objects.visible_to(treasurer).count() == loans.count()


def test_demo_campaigns_are_reachable_by_the_demo_accounts(seeded):
    from welfare.campaigns.models import Campaign, Contribution
    from welfare.campaigns.services import may_record, raised

    campaigns = Campaign.objects.filter(unit__code=PROVINCE_CODE)
    assert campaigns.count() == 2
    for name in ("province", "commune", "grassroots", "treasurer", "leader"):
        assert set(Campaign.objects.visible_to(user(name))) >= {
            c for c in campaigns if not c.has_units
        }, name
    flood = campaigns.get(has_units=False)
    assert may_record(user("treasurer"), flood)
    mine = Contribution.objects.visible_to(user("grassroots")).filter(campaign=flood)
    assert mine.exists() and mine.count() < flood.contributions.count()
    total = raised(Contribution.objects.filter(campaign=flood))
    assert 0 < total.amount < flood.target
    assert total.count == flood.contributions.count() - 1  # one reversed


def test_the_demo_year_holds_an_organisation_a_visit_without_money_and_a_child(seeded):
    from welfare.reports.figures import annual_figures

    province = Unit.objects.get(code="LS")
    today = timezone.localdate()
    figures = annual_figures(province, today.year)
    assert figures.organisations is not None
    assert figures.organisations.cases >= 1 and figures.organisations.amount >= 15_000_000
    visit = Case.objects.get(status=CaseStatus.PAID, support_type="visit", approved_amount=0)
    assert visit.paid_on == visit.approved_on and not Payment.objects.filter(case=visit).exists()
    savings = {row.key: row for row in figures.highlighted}["savings_book"]
    assert savings.children >= 1
    # the past years' savings books name a child wherever the member has one recorded
    assert (
        Case.objects.filter(
            support_type="savings_book", dependant__isnull=True, member__dependants__isnull=False
        )
        .filter(status=CaseStatus.PAID, batch__isnull=True)
        .count()
        == 0
    )


def test_the_shelter_and_scholarship_programs_are_there_with_every_stage(seeded):
    from welfare.models import SupportType
    from welfare.programs.services import get_program_for_user
    from welfare.shelters.models import Progress, Shelter

    year = timezone.localdate().year
    shelters = Program.objects.get(name=f"Mái ấm Công đoàn {year}")
    assert shelters.support_type == SupportType.SHELTER
    stages = Shelter.objects.filter(case__program=shelters).values_list("progress", flat=True)
    assert set(stages) == set(Progress.values)
    handed = Shelter.objects.filter(case__program=shelters, progress=Progress.HANDED_OVER)
    assert all(shelter.handover_photo_id for shelter in handed)
    scholarships = Program.objects.get(name=f"Học bổng Nguyễn Đức Cảnh {year}")
    assert {b.status for b in scholarships.batches.all()} == {"draft", "submitted", "paid"}
    # each line is for a child of school age in the program's year, and its record names it
    for line in BatchLine.objects.filter(batch__participant__program=scholarships):
        assert line.dependant.member_id == line.member_id
        assert year - 18 <= line.dependant.date_of_birth.year <= year - 6
    paid = Case.objects.filter(program=scholarships, status=CaseStatus.PAID)
    assert paid.exists() and not paid.filter(dependant__isnull=True).exists()
    for account in ("province", "leader", "treasurer"):
        for program in (shelters, scholarships):
            assert get_program_for_user(user(account), program.pk) == program


def test_the_demo_has_legal_bases_and_a_request_of_each_state(seeded):
    from members.models import Consent, SubjectRequest

    requests = SubjectRequest.objects.all()
    assert set(requests.values_list("status", flat=True)) == {
        "acknowledged",
        "received",
        "completed",
    }
    assert requests.get(kind=SubjectRequest.Kind.RESTRICT).member.processing_restricted
    assert SubjectRequest.objects.visible_to(user("admin")).count() == 3
    assert Consent.objects.count() > 10


def test_the_tallies_are_the_records(seeded):
    from welfare.reports import tallies

    assert tallies.years()
    for year in tallies.years():
        assert tallies.differences(year) == {}, year
    assert tallies.raised_differences() == {}
