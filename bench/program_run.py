"""Program-wide runs at city scale (issue #13): build a Tết batch for every grassroots union,
check it for earlier support, approve it and record it paid, each step as the background job
(``welfare.programs.runs.run_program_run``) would run it in a worker; then the program page
and a batch page.

On a database filled by ``seed_scale`` (the Tết program of this year over every grassroots
union is there), each run opens a fresh copy of that program (same levels and units), so it
can be run again.  Each step runs in a child process of its own, as a worker would, so its
peak memory is its own: reported are its wall time, its CPU time, its peak RSS
(``resource.getrusage``), its queries and queries per unit.  Between the check and the
approval every batch is submitted and endorsed up to the province through the batch services
(setup, timed but not budgeted).  The pages are requested in-process through Django's test
client, logged in as province staff: median and p95 (nearest rank) of ``--runs`` requests
after two warm-ups, and their query count.

    DATABASE_URL=postgres://... .venv/bin/python bench/program_run.py --label city-500k

Budgets: each step under 60 s and 1 GB, a fixed number of queries per unit; both pages under
100 ms p95 and at most 12 queries.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

STEP_SECONDS = 60
STEP_MEMORY_MB = 1024
PAGE_P95_MS = 100
PAGE_QUERIES = 12

BUILDER = "province"  # builds every unit's batch and submits it
APPROVER = "tinh.bandiem1"  # another province officer: nobody approves what they built
TREASURER = "treasurer"


class Counter:
    """Counts the queries sent (``connection.execute_wrapper``), keeping none of them."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def setup_django() -> None:
    import django

    django.setup()


def fresh_program(units: int):
    """A copy of the seeded Tết program (its levels, its first ``units`` units or all), with
    the fund topped up and a budget that covers everyone: the refusals are tested elsewhere,
    here the work is measured."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from welfare.funds.ledger import lock_fund, post_entry
    from welfare.funds.models import EntryKind
    from welfare.programs.models import Participant, Program
    from welfare.programs.services import create_program

    year = timezone.localdate().year
    seeded = Program.objects.filter(name=f"Tết Sum vầy {year}").order_by("pk").first()
    if seeded is None:
        raise SystemExit("No Tết program: seed with seed_scale first (it opens the programs).")
    by = get_user_model().objects.get(username=BUILDER)
    unit_ids = list(seeded.participants.order_by("pk").values_list("unit_id", flat=True))
    if units:
        unit_ids = unit_ids[:units]
    highest = max(level.amount for level in seeded.levels.all())
    with transaction.atomic():
        program = create_program(
            unit=seeded.unit,
            name=f"Tết bench {timezone.now():%Y-%m-%d %H:%M:%S}",
            support_type=seeded.support_type,
            category=seeded.category,
            fund=seeded.fund,
            year=year,
            budget=len(unit_ids) * 1_000 * highest,
            levels=[(lv.label, lv.applies_to, lv.amount) for lv in seeded.levels.all()],
            by=by,
        )
        Participant.objects.bulk_create(
            (Participant(program=program, unit_id=pk) for pk in unit_ids), batch_size=2000
        )
        fund = lock_fund(seeded.fund_id)
        post_entry(
            fund=fund,
            kind=EntryKind.ALLOCATION_IN,
            amount=program.budget,
            occurred_on=timezone.localdate(),
            description="bench: allocation for the Tết program",
            by=get_user_model().objects.get(username=TREASURER),
        )
    return program


def run_step(program_id: int, kind: str, username: str) -> dict:
    """One step, in this process, as the worker's task runs it."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from welfare.programs import runs
    from welfare.programs.models import Program, ProgramRun

    program = Program.objects.select_related("fund").get(pk=program_id)
    user = get_user_model().objects.get(username=username)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    extra = (
        {"paid_on": timezone.localdate(), "receipt_reference": "UNC-TET-BENCH"}
        if kind == "pay"
        else {}
    )
    run = runs.start_run(program=program, kind=kind, by=user, **extra)
    queries = Counter()
    with connection.execute_wrapper(queries):
        runs.run_program_run(run.pk)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    run = ProgramRun.objects.get(pk=run.pk)
    analysed = stand_in_for_autovacuum(kind)
    return {
        "analyse_s": analysed,
        "step": kind,
        "status": run.status,
        "error": run.error,
        "units": run.units_done,
        "refused": run.units_refused,
        "people": run.people,
        "amount": run.amount,
        "wall_s": round(wall, 2),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "queries": queries.count,
        "queries_per_unit": round(queries.count / max(run.units_done, 1), 2),
    }


def stand_in_for_autovacuum(kind: str) -> float | None:
    """Approving and paying leave the records' and lines' statistics to autovacuum (a tenth
    of a table changed); on a server with autovacuum off, as this machine's, the benchmark
    analyses them itself after the step, outside its time, so that the pages measured next
    are planned as in production.  The seconds it took, or None."""
    from django.db import connection

    if kind not in ("approve", "pay"):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        if cursor.fetchone()[0] == "on":
            return None
        start = time.perf_counter()
        cursor.execute("ANALYZE welfare_case, welfare_batchline, welfare_batch")
    return round(time.perf_counter() - start, 2)


def submit_and_endorse(program_id: int) -> dict:
    """Setup between the check and the approval: every batch submitted by its builder and
    endorsed at each level below the province by that level's staff."""
    from django.contrib.auth import get_user_model

    from unions.models import Role, RoleAssignment
    from welfare.programs import services
    from welfare.programs.models import Batch

    start = time.perf_counter()
    users = get_user_model().objects
    builder = users.get(username=BUILDER)
    staff: dict[int, object] = {}
    for assignment in RoleAssignment.objects.filter(role=Role.STAFF).select_related("user"):
        staff.setdefault(assignment.unit_id, assignment.user)
    batches = Batch.objects.filter(program_id=program_id, status="draft").order_by("pk")
    count = 0
    for batch in batches.iterator():
        batch = services.submit_batch(batch=batch, by=builder)
        while batch.current_unit_id != batch.fund.unit_id:
            batch = services.endorse_batch(batch=batch, by=staff[batch.current_unit_id])
        count += 1
    return {"step": "submit and endorse (setup)", "batches": count,
            "wall_s": round(time.perf_counter() - start, 2)}  # fmt: skip


def prove_second_factor(user, session) -> None:
    """The session as if the province officer had given their second factor (as
    ``bench/run.py`` does), so the pages cost what they cost in production."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from unions.second_factor import needs_second_factor

    if needs_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id


def measure_pages(program_id: int, runs_count: int) -> list[dict]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from welfare.programs.models import Batch

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    user = get_user_model().objects.get(username=BUILDER)
    client.force_login(user)
    session = client.session
    prove_second_factor(user, session)
    session.save()
    batch = Batch.objects.filter(program_id=program_id).order_by("-pk").first()
    pages = [("program page", reverse("programs:detail", args=[program_id]))]
    if batch is not None:
        people = batch.lines.count()
        pages.append((f"batch page ({people} people)", reverse("programs:batch", args=[batch.pk])))
    results = []
    for name, url in pages:
        times = []
        count = 0
        for n in range(runs_count + 2):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if n >= 2:
                times.append(elapsed)
                count = max(count, len(queries))
        times.sort()
        p95 = times[max(0, -(-95 * len(times) // 100) - 1)]
        results.append(
            {
                "page": name,
                "url": url,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(p95, 1),
                "queries": count,
            }
        )
    return results


def child(args) -> None:
    setup_django()
    if args.child == "submit":
        result = submit_and_endorse(args.program)
    else:
        user = {"build": BUILDER, "check": BUILDER, "approve": APPROVER, "pay": TREASURER}
        result = run_step(args.program, args.child, user[args.child])
    print(json.dumps(result))


def spawn(step: str, program_id: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", step, "--program", str(program_id)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(label: str, results: list[dict], pages: list[dict], out: Path) -> str:
    from django.db import connection

    lines = [
        f"# Program-wide runs: {label} ({datetime.date.today():%Y-%m-%d}, {connection.vendor})",
        "",
        f"Each step in a process of its own, as a worker runs it; budgets {STEP_SECONDS} s and "
        f"{STEP_MEMORY_MB} MB a step, a fixed number of queries per unit. Load average at "
        f"the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| step | units | refused | people | wall s | CPU s | peak RSS MB | queries | "
        "per unit | within budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if "units" not in r:
            lines.append(f"| {r['step']} | {r['batches']} | | | {r['wall_s']} | | | | | (setup) |")
            continue
        ok = r["wall_s"] < STEP_SECONDS and r["peak_rss_mb"] < STEP_MEMORY_MB
        lines.append(
            f"| {r['step']} | {r['units']:,} | {r['refused']:,} | {r['people']:,} | "
            f"{r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} | {r['queries']:,} | "
            f"{r['queries_per_unit']} | {'yes' if ok else 'NO'} |"
        )
    analysed = [f"{r['step']} {r['analyse_s']} s" for r in results if r.get("analyse_s")]
    if analysed:
        lines += [
            "",
            "Autovacuum is off on this server: the records and lines were analysed after "
            f"the steps, outside their time, as autovacuum would ({', '.join(analysed)}).",
        ]
    lines += [
        "",
        f"Pages (province staff, in-process; budgets {PAGE_P95_MS} ms p95 and "
        f"{PAGE_QUERIES} queries):",
        "",
        "| page | median ms | p95 ms | queries | within budget |",
        "|---|---:|---:|---:|---|",
    ]
    for p in pages:
        ok = p["p95_ms"] < PAGE_P95_MS and p["queries"] <= PAGE_QUERIES
        lines.append(
            f"| {p['page']} | {p['median_ms']} | {p['p95_ms']} | {p['queries']} | "
            f"{'yes' if ok else 'NO'} |"
        )
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"program-run-{label}.md").write_text(text)
    (out / f"program-run-{label}.json").write_text(
        json.dumps({"steps": results, "pages": pages}, indent=2)
    )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="city-500k")
    parser.add_argument("--units", type=int, default=0, help="the first N units only (0: all)")
    parser.add_argument("--runs", type=int, default=20, help="measured requests per page")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--steps",
        default="build,check,submit,approve,pay",
        help="the steps to take, in order (default all)",
    )
    parser.add_argument(
        "--pages", type=int, metavar="PROGRAM", help="only measure the pages of this program"
    )
    parser.add_argument(
        "--on", type=int, metavar="PROGRAM", help="go on with a program of an earlier run"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--program", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    setup_django()
    if args.pages:
        pages = measure_pages(args.pages, args.runs)
        print(report(args.label, [], pages, args.out))
        return
    if args.on:
        from welfare.programs.models import Program

        program = Program.objects.get(pk=args.on)
    else:
        program = fresh_program(args.units)
    print(f"program {program.pk}: {program.participants.count():,} units", flush=True)
    results = []
    pages = []
    for step in args.steps.split(","):
        result = spawn(step, program.pk)
        print(json.dumps(result), flush=True)
        results.append(result)
        if step in ("check", "pay"):  # the batches built and checked, then paid
            state = "built" if step == "check" else "paid"
            for page in measure_pages(program.pk, args.runs):
                page["page"] = f"{page['page']}, {state}"
                print(json.dumps(page), flush=True)
                pages.append(page)
    print(report(args.label, results, pages, args.out))


if __name__ == "__main__":
    main()
