"""Program-wide runs: every unit's batch built, checked, approved and paid as background work
(welfare/programs/runs.py), through the same rules as a batch's own page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from common.money import format_dong
from tests.factories import MemberFactory, make_user
from unions.models import Role
from welfare.cases.approvals import timeline
from welfare.cases.models import Case, CaseEvent, CaseStatus
from welfare.funds.ledger import lock_fund, post_entry
from welfare.funds.models import EntryKind, Fund, LedgerEntry
from welfare.programs import runs, services
from welfare.programs.models import (
    Batch,
    BatchEvent,
    BatchLine,
    Program,
    ProgramRun,
    RunIssue,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def hands(world):
    """A second province officer approves what the first one built; commune B's staff
    endorse B1's batch."""
    world.users["province2"] = make_user("province2", Role.PROVINCE_STAFF, world.province)
    world.users["b_staff"] = make_user("b_staff", Role.STAFF, world.commune_b)
    return world.users


def run(program, kind, by, **extra) -> ProgramRun:
    """Ask for the step and work it at once, as the worker would."""
    job = runs.start_run(program=program, kind=kind, by=by, **extra)
    runs.run_program_run(job.pk)
    return ProgramRun.objects.get(pk=job.pk)


def pay(program, by) -> ProgramRun:
    return run(program, "pay", by, paid_on=TODAY, receipt_reference="UNC-TET-01")


def submit_all(program, world, builder) -> None:
    """Each unit sends its batch up; each commune endorses it to the province."""
    staff = {world.commune_a.pk: world.users["commune"], world.commune_b.pk: world.users["b_staff"]}
    for batch in Batch.objects.filter(program=program, status=CaseStatus.DRAFT):
        batch = services.submit_batch(batch=batch, by=builder)
        services.endorse_batch(batch=batch, by=staff[batch.current_unit_id])


def lines(program) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for code, member, amount in BatchLine.objects.filter(batch__program=program).values_list(
        "batch__unit__code", "member_id", "amount"
    ):
        found.setdefault(code, []).append((member, amount))
    return {code: sorted(rows) for code, rows in found.items()}


def test_a_build_lists_everyone_of_every_unit_at_the_standard_amounts(world, tet, people, hands):
    job = run(tet, "build", world.users["province"])
    assert job.status == ProgramRun.Status.DONE
    assert lines(tet) == {
        "P-A-1": sorted(
            [(world.member_a1.pk, 500_000), (people[0].pk, 1_000_000)]
            + [(p.pk, 500_000) for p in people[1:]]
        ),
        "P-B-1": [(world.member_b1.pk, 500_000)],
    }
    assert (job.units_total, job.units_done, job.units_refused) == (2, 2, 0)
    assert (job.people, job.amount) == (6, 3_500_000)
    assert job.progress == 100
    # Each batch's timeline says who opened it and who listed its people.
    a1 = Batch.objects.get(program=tet, unit=world.a1)
    assert list(a1.events.values_list("action", "comment")) == [
        ("created", ""),
        ("edited", _("%(n)s people added") % {"n": 5}),
    ]


def test_building_twice_adds_nobody_twice(world, tet, people, hands):
    run(tet, "build", world.users["province"])
    before = lines(tet)
    again = run(tet, "build", world.users["province"])
    assert lines(tet) == before
    assert (again.units_done, again.people, again.amount) == (2, 0, 0)
    assert Batch.objects.filter(program=tet).count() == 2
    # A newcomer is added by the next build, once.
    newcomer = MemberFactory(full_name="Người mới", unit=world.b1)
    third = run(tet, "build", world.users["province"])
    assert third.people == 2  # B1's batch now lists two people
    assert (newcomer.pk, 500_000) in lines(tet)["P-B-1"]


def test_a_grassroots_officers_run_reaches_their_own_unit_only(world, tet, people, hands):
    job = run(tet, "build", world.users["grassroots"])
    assert job.units_total == job.units_done == 1
    assert set(lines(tet)) == {"P-A-1"}
    assert not Batch.objects.filter(program=tet, unit=world.b1).exists()
    # The province sees the run; the officer sees it as its author.
    assert ProgramRun.objects.visible_to(world.users["province"]).filter(pk=job.pk).exists()
    assert ProgramRun.objects.visible_to(world.users["grassroots"]).filter(pk=job.pk).exists()
    assert not ProgramRun.objects.visible_to(world.users["commune"]).filter(pk=job.pk).exists()


def test_outsiders_and_roles_without_the_step_are_refused(world, tet, hands):
    with pytest.raises(Http404):
        runs.start_run(program=tet, kind="build", by=world.users["outsider"])
    for role, kind in [("leader", "build"), ("grassroots", "approve"), ("province", "pay")]:
        with pytest.raises(PermissionDenied):
            runs.start_run(program=tet, kind=kind, by=world.users[role])
    assert not ProgramRun.objects.exists()


def test_approval_refuses_the_unit_over_budget_by_how_much_and_goes_on(
    world, tet, people, hands, funds
):
    run(tet, "build", world.users["province"])
    submit_all(tet, world, world.users["province"])
    # A1's 3.000.000 ₫ first (units in the order they joined), then B1's 500.000 ₫: the
    # budget is 3.000.000 ₫.
    job = run(tet, "approve", world.users["province2"])
    assert (job.units_done, job.units_refused) == (2, 1)
    a1 = Batch.objects.get(program=tet, unit=world.a1)
    b1 = Batch.objects.get(program=tet, unit=world.b1)
    assert a1.status == CaseStatus.APPROVED and a1.approved_amount == 3_000_000
    assert b1.status == CaseStatus.SUBMITTED  # untouched: still waiting at the province
    issue = RunIssue.objects.get(run=job)
    assert issue.unit_id == world.b1.pk and issue.refused and issue.batch_id == b1.pk
    assert issue.reason == _(
        "The batch (%(total)s) exceeds the program's remaining budget (%(remaining)s) by %(over)s."
    ) % {"total": format_dong(500_000), "remaining": format_dong(0), "over": format_dong(500_000)}
    assert (job.people, job.amount) == (5, 3_000_000)
    tet.refresh_from_db()
    assert tet.committed == services.committed(tet) == 3_000_000
    # Nothing was written for the refused unit.
    assert not Case.objects.filter(batch=b1).exists()
    assert not b1.events.filter(action="approved").exists()


def test_the_fund_short_of_money_refuses_with_the_shortfall(world, tet, hands, funds):
    Program.objects.filter(pk=tet.pk).update(budget=500_000_000)
    Fund.objects.filter(pk=funds.social.pk).update(reserved=99_800_000)
    run(tet, "build", world.users["province"])
    submit_all(tet, world, world.users["province"])
    job = run(tet, "approve", world.users["province2"])
    # 200.000 ₫ left: neither 500.000 ₫ batch fits, each is 300.000 ₫ short.
    assert job.units_refused == 2
    reasons = list(RunIssue.objects.filter(run=job).values_list("reason", flat=True))
    assert (
        reasons
        == [
            _("%(fund)s cannot cover the batch (%(total)s): it is %(over)s short.")
            % {
                "fund": funds.social.name,
                "total": format_dong(500_000),
                "over": format_dong(300_000),
            }
        ]
        * 2
    )


def test_nobody_approves_what_they_built(world, tet, hands):
    run(tet, "build", world.users["province"])
    submit_all(tet, world, world.users["province"])
    job = run(tet, "approve", world.users["province"])
    assert job.units_refused == 2
    assert set(RunIssue.objects.filter(run=job).values_list("reason", flat=True)) == {
        _("You created this batch, so someone else must decide on it.")
    }
    assert not Case.objects.filter(program=tet).exists()


def test_paying_posts_one_entry_per_unit_and_a_second_click_posts_nothing(
    world, tet, people, hands, funds
):
    Program.objects.filter(pk=tet.pk).update(budget=10_000_000)
    tet.refresh_from_db()
    run(tet, "build", world.users["province"])
    submit_all(tet, world, world.users["province"])
    run(tet, "approve", world.users["province2"])
    entries = LedgerEntry.objects.filter(fund=funds.social).count()
    job = pay(tet, world.users["treasurer"])
    assert (job.units_done, job.people, job.amount) == (2, 6, 3_500_000)
    assert LedgerEntry.objects.filter(fund=funds.social).count() == entries + 2
    fund = Fund.objects.get(pk=funds.social.pk)
    assert (fund.balance, fund.reserved) == (100_000_000 - 3_500_000, 0)
    assert set(Case.objects.filter(program=tet).values_list("status", flat=True)) == {"paid"}
    assert not CaseEvent.objects.filter(case__program=tet).exists()  # the batches' steps stand
    record = Case.objects.select_related("batch").filter(program=tet).first()
    assert [step.action for step in timeline(record)][-2:] == ["approved", "paid"]
    with pytest.raises(ValidationError):  # nothing approved is left to pay
        pay(tet, world.users["treasurer"])
    runs.run_program_run(job.pk)  # the same task delivered again
    assert LedgerEntry.objects.filter(fund=funds.social).count() == entries + 2


def test_a_killed_worker_resumes_after_the_last_unit_done(world, tet, people, hands, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK", 1)
    job = runs.start_run(program=tet, kind="build", by=world.users["province"])
    first, second = sorted(tet.participants.values_list("pk", flat=True))
    # The worker claims the run, finishes the first unit and dies.
    ProgramRun.objects.filter(pk=job.pk).update(status=ProgramRun.Status.RUNNING)
    runs._chunk(job.pk, [first])
    job.refresh_from_db()
    assert (job.units_done, job.after_id, job.progress) == (1, first, 50)
    # The task comes back (acks_late): it goes on with the second unit only.
    runs.run_program_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.units_done, job.people) == ("done", 2, 6)
    assert BatchEvent.objects.filter(batch__program=tet, action="edited").count() == 2
    # A unit's chunk sent twice is passed over.
    runs._chunk(job.pk, [first, second])
    assert BatchLine.objects.filter(batch__program=tet).count() == 6


def test_one_step_runs_at_a_time_over_a_program(world, tet, hands):
    job = runs.start_run(program=tet, kind="build", by=world.users["province"])
    again = runs.start_run(program=tet, kind="check", by=world.users["province"])
    assert again.pk == job.pk


def test_the_check_notes_people_already_supported_this_year(world, tet, people, hands):
    other = services.create_program(
        unit=world.province,
        name="Tết sớm",
        support_type=tet.support_type,
        fund=tet.fund,
        year=tet.year,
        budget=5_000_000,
        levels=[("Đoàn viên", "member", 200_000)],
        by=world.users["province"],
    )
    services.add_participant(program=other, unit=world.b1, by=world.users["province"])
    run(other, "build", world.users["province"])
    submit_all(other, world, world.users["province"])
    run(other, "approve", world.users["province2"])  # B1's member has a Tết gift this year
    run(tet, "build", world.users["province"])
    job = run(tet, "check", world.users["province"])
    assert (job.units_done, job.units_refused, job.people) == (2, 0, 1)
    issue = RunIssue.objects.get(run=job)
    assert (issue.unit_id, issue.refused, issue.people) == (world.b1.pk, False, 1)
    b1 = Batch.objects.get(program=tet, unit=world.b1)
    assert set(services.earlier_support(b1)) == {world.member_b1.pk}


def _program_over(world, units, people_each, support_type):
    program = services.create_program(
        unit=world.province,
        name=f"Tết {len(units)}",
        support_type=support_type,
        fund=Fund.objects.get(unit=world.province),
        year=datetime.date.today().year,
        budget=1_000_000_000,
        levels=[("Đoàn viên", "member", 100_000)],
        by=world.users["province"],
    )
    for unit in units:
        services.add_participant(program=program, unit=unit, by=world.users["province"])
        MemberFactory.create_batch(people_each, unit=unit)
    return program


def _cost(program, world) -> dict[str, int]:
    counts = {}
    for kind, by in [
        ("build", world.users["province"]),
        ("check", world.users["province"]),
        ("approve", world.users["province2"]),
        ("pay", world.users["treasurer"]),
    ]:
        if kind == "approve":
            submit_all(program, world, world.users["province"])
        extra = {"paid_on": TODAY, "receipt_reference": "UNC"} if kind == "pay" else {}
        job = runs.start_run(program=program, kind=kind, by=by, **extra)
        with CaptureQueriesContext(connection) as queries:
            runs.run_program_run(job.pk)
        job.refresh_from_db()
        assert job.status == "done" and not job.units_refused, (kind, job.error)
        counts[kind] = len(queries)
    return counts


def test_queries_per_unit_are_fixed_whatever_the_people(world, funds, hands):
    # The fund's tally of this month exists already, as it does but once a month.
    with transaction.atomic():
        post_entry(
            fund=lock_fund(funds.social.pk),
            kind=EntryKind.DISBURSEMENT,
            amount=-1_000,
            occurred_on=TODAY,
            by=world.users["treasurer"],
        )
    # Of different types, so that the first program's people are nobody's earlier support.
    one = _cost(_program_over(world, [world.a1], 1, "grant"), world)
    three = _cost(_program_over(world, [world.a1, world.a2, world.b1], 4, "tet_gift"), world)
    # Building lists each unit's people by one INSERT ... SELECT; the rest, paying's ledger
    # entries too (one a unit, written as a set), is per chunk of units.
    per_unit = {"build": 1, "check": 0, "approve": 0, "pay": 0}
    for kind, extra in per_unit.items():
        assert three[kind] - one[kind] == 2 * extra, (kind, one, three)


# --- the pages --------------------------------------------------------------------------------


def test_the_program_page_offers_each_step_with_a_confirmation(client_for, world, tet, hands):
    client = client_for("province")
    page = client.get(reverse("programs:detail", args=[tet.pk]))
    body = page.content.decode()
    assert 'id="run-build"' in body and 'id="run-check"' in body and 'id="run-approve"' in body
    assert 'id="run-pay"' not in body  # province staff do not pay
    url = reverse("programs:run_start", args=[tet.pk])
    refused = client.post(url, {"kind": "build"})
    assert refused.status_code == 302 and not ProgramRun.objects.exists()
    started = client.post(url, {"kind": "build", "build-kind": "build", "build-confirm": "on"})
    job = ProgramRun.objects.get()
    assert started["Location"] == reverse("programs:run", args=[job.pk])
    # While it runs, the program page shows its progress instead of the buttons.
    body = client.get(reverse("programs:detail", args=[tet.pk])).content.decode()
    assert 'id="job-progress"' in body and 'id="run-build"' not in body
    status = client.get(reverse("programs:run_status", args=[job.pk])).json()
    label = _("%(done)s of %(total)s units") % {"done": 0, "total": 2}
    assert status == {"status": "queued", "active": True, "progress": 0, "label": label}


def test_the_run_page_tells_what_was_refused_and_why(client_for, world, tet, hands):
    run(tet, "build", world.users["province"])
    submit_all(tet, world, world.users["province"])
    job = run(tet, "approve", world.users["province"])  # the builder: refused everywhere
    page = client_for("province").get(reverse("programs:run", args=[job.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert world.a1.name in body and world.b1.name in body
    assert _("You created this batch, so someone else must decide on it.") in body


def test_without_the_right_the_step_is_403_and_outside_404(client_for, world, tet, hands):
    url = reverse("programs:run_start", args=[tet.pk])
    data = {"kind": "approve", "approve-kind": "approve", "approve-confirm": "on"}
    assert client_for("leader").post(url, data).status_code == 403
    assert client_for("grassroots").post(url, data).status_code == 403
    assert client_for("outsider").post(url, data).status_code == 404
    assert not ProgramRun.objects.exists()


def test_the_programs_kept_figures_match_its_records(client_for, world, tet, people, hands, funds):
    """What the program and each batch keep (for the budget check and the program page) is
    what their records add up to, also after people taken out and people not paid."""
    Program.objects.filter(pk=tet.pk).update(budget=10_000_000)
    tet.refresh_from_db()
    run(tet, "build", world.users["province"])
    submit_all(tet, world, world.users["province"])
    a1 = Batch.objects.get(program=tet, unit=world.a1)
    taken = BatchLine.objects.get(batch=a1, member=people[1])
    services.approve_batch(batch=a1, by=world.users["province2"], take_out={taken.pk: "Đã nghỉ"})
    run(tet, "approve", world.users["province2"])  # B1's
    unpaid = BatchLine.objects.get(batch=a1, member=people[2])
    services.record_batch_payment(
        batch=a1,
        by=world.users["treasurer"],
        paid_on=TODAY,
        receipt_reference="PC-1",
        unpaid={unpaid.pk: "moved_away"},
    )
    tet.refresh_from_db()
    committed = Case.objects.filter(program=tet, status__in=services.COMMITTED)
    # A1: 3.000.000 less 500.000 taken out and 500.000 not paid; B1: 500.000.
    assert tet.committed == services.committed(tet) == 2_500_000
    assert (tet.committed, tet.paid, tet.records) == services.kept_figures(tet)
    for batch in Batch.objects.filter(program=tet):
        assert batch.records == committed.filter(batch=batch).count()
    page = client_for("province").get(reverse("programs:detail", args=[tet.pk]))
    totals = page.context["totals"]
    assert (totals["approved"], totals["paid"], totals["turns"]) == (
        tet.committed,
        2_000_000,
        committed.count(),
    )
    rows = {row["participant"].unit_id: row for row in page.context["rows"]}
    assert (rows[world.a1.pk]["approved"], rows[world.a1.pk]["people"]) == (2_000_000, 3)


def test_the_run_is_queued_once_committed_and_worked_by_the_task(
    world, tet, people, hands, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = runs.start_run(program=tet, kind="build", by=world.users["province"])
    job.refresh_from_db()
    assert (job.status, job.units_done, job.people) == ("done", 2, 6)
    assert job.dispatched_at is not None


def test_a_level_for_everyone_lists_everyone_by_hand_and_by_run(world, hands, funds):
    program = services.create_program(
        unit=world.province,
        name="Quà cho mọi người",
        support_type="tet_gift",
        fund=funds.social,
        year=TODAY.year,
        budget=10_000_000,
        levels=[("Mọi người", "everyone", 300_000), ("Hộ nghèo", "poor", 800_000)],
        by=world.users["province"],
    )
    worker = MemberFactory(full_name="Người lao động", unit=world.a1, kind="worker")
    poor = MemberFactory(full_name="Hộ nghèo", unit=world.b1, poor_household=True)
    for unit in (world.a1, world.b1):
        services.add_participant(program=program, unit=unit, by=world.users["province"])
    a1 = services.start_batch(
        participant=program.participants.get(unit=world.a1), by=world.users["grassroots"]
    )
    added = services.add_people(
        batch=a1, members=services.candidates(a1), by=world.users["grassroots"]
    )
    assert added == 2
    run(program, "build", world.users["province"])  # B1's batch, and nobody again at A1
    assert lines(program) == {
        "P-A-1": sorted([(world.member_a1.pk, 300_000), (worker.pk, 300_000)]),
        "P-B-1": sorted([(world.member_b1.pk, 300_000), (poor.pk, 800_000)]),
    }
