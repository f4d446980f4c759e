"""The load test: 50 users at once doing the daily work for two minutes, through gunicorn.

Usage, on a database the demo seed filled (seeded here first when it has no demo accounts):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tt_load REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/load.py --label demo-50

What it does (see bench/README.md, "Load test"):
1. applies pending migrations, seeds the demo when its accounts are missing, collects static
   files when they are stale (bench/run.py's helpers: the server runs with DEBUG off);
2. starts gunicorn on 127.0.0.1 (bench/run.py's ``Server``) with the second factor off, evidence
   files written to a throw-away folder and, with Redis, Celery tasks sent to a queue of the
   run's own (removed afterwards: no worker runs, a requested report just waits queued);
3. runs ``locust --headless -f bench/locustfile.py`` (``--users``, ``--spawn-rate``,
   ``--time``) against it and reads its CSV statistics;
4. checks every fund: its balance is the sum of its ledger entries and the last entry's
   ``balance_after``; money in, money out and the entry count agree with the entries; reserved
   is what approved cases and loans still wait for;
5. writes ``bench/results/load-<label>.json`` and ``.md``: requests, requests per second, p95 and
   failures per request kind, the writes the run made, the fund checks, the machine's load.

Exits 1 when a request failed or a fund does not add up.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from bench.run import RESULTS, ROOT, Server, static_is_fresh  # sets Django up
from seed.demo_members import COMMUNE_ACCOUNT_UNIT, DEMO_PASSWORD, PROVINCE_CODE
from unions.models import Unit
from welfare.models import Case, CaseEvent, CaseStatus, Fund, FundKind, Payment
from welfare.reports.models import Report

ACCOUNTS = ["grassroots", "commune", "province", "treasurer-ward", "treasurer", "leader"]


def plan() -> dict:
    """What the locust users need to know that the pages do not tell: the password and the two
    funds the cases ask, the ward union's (approved by ``commune``) and the province's social
    fund (endorsed by ``commune``, approved by ``province``)."""
    ward = Unit.objects.get(code=COMMUNE_ACCOUNT_UNIT)
    province = Unit.objects.get(code=PROVINCE_CODE)
    funds = [
        Fund.objects.filter(unit=ward, is_active=True).order_by("pk").first(),
        Fund.objects.filter(unit=province, kind=FundKind.SOCIAL, is_active=True)
        .order_by("pk")
        .first(),
    ]
    if None in funds:
        raise SystemExit("The demo's ward fund or province social fund is missing.")
    return {"password": DEMO_PASSWORD, "funds": [fund.pk for fund in funds if fund]}


def fund_checks() -> list[dict]:
    """Every fund against its ledger and its approved, unpaid cases and loans."""
    funds = Fund.objects.annotate(
        total=Sum("entries__amount"),
        total_in=Sum("entries__amount", filter=Q(entries__amount__gt=0)),
        total_out=Sum("entries__amount", filter=Q(entries__amount__lt=0)),
        entries_n=Count("entries"),
    ).order_by("pk")
    owed = dict(
        Case.objects.filter(status=CaseStatus.APPROVED)
        .values("fund")
        .annotate(s=Sum("approved_amount"))
        .values_list("fund", "s")
    )
    lent = dict(
        Fund.objects.filter(loans__status="approved")
        .annotate(s=Sum("loans__principal"))
        .values_list("pk", "s")
    )
    checks = []
    for fund in funds:
        last = fund.entries.order_by("-id").values_list("balance_after", flat=True).first()
        expected = {
            "balance": fund.total or 0,
            "last balance_after": last or 0,
            "money_in": fund.total_in or 0,
            "money_out": fund.total_out or 0,
            "entry_count": fund.entries_n,
            "reserved": (owed.get(fund.pk) or 0) + (lent.get(fund.pk) or 0),
        }
        held = {
            "balance": fund.balance,
            "last balance_after": fund.balance,
            "money_in": fund.money_in,
            "money_out": fund.money_out,
            "entry_count": fund.entry_count,
            "reserved": fund.reserved,
        }
        wrong = [key for key in expected if expected[key] != held[key]]
        if not fund.balance >= fund.reserved >= 0:
            wrong.append("balance >= reserved >= 0")
        checks.append(
            {
                "fund": fund.pk,
                "name": fund.name,
                "balance": fund.balance,
                "reserved": fund.reserved,
                "entries": fund.entries_n,
                "ok": not wrong,
                "wrong": {key: [held.get(key), expected.get(key)] for key in wrong},
            }
        )
    return checks


def writes_since(started) -> dict:
    events = dict(
        CaseEvent.objects.filter(at__gte=started)
        .values("action")
        .annotate(n=Count("id"))
        .values_list("action", "n")
    )
    return {
        "cases opened": Case.objects.filter(created_at__gte=started).count(),
        "submitted": events.get(CaseEvent.Action.SUBMITTED, 0),
        "endorsed": events.get(CaseEvent.Action.ENDORSED, 0),
        "approved": events.get(CaseEvent.Action.APPROVED, 0),
        "paid": Payment.objects.filter(recorded_at__gte=started).count(),
        "reports requested": Report.objects.filter(created_at__gte=started).count(),
    }


def read_stats(prefix: Path) -> list[dict]:
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "kind": f"{row['Type']} {row['Name']}".strip(),
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": round(float(row["Requests/s"]), 2),
                    "median_ms": _ms(row["50%"]),
                    "p95_ms": _ms(row["95%"]),
                    "max_ms": round(float(row["Max Response Time"] or 0)),
                }
            )
    return rows


def _ms(value: str) -> int | None:
    return None if value in ("", "N/A") else int(float(value))


def work_summary(prefix: Path) -> dict:
    """The requests of the work itself, the logins left out (a password hash is meant to cost
    about a second of CPU; 50 of them at the start hold the workers), from locust's JSON."""
    path = Path(f"{prefix}.json")
    if not path.exists():
        return {}
    times: dict[int, int] = {}
    requests = failures = 0
    for entry in json.loads(path.read_text()):
        if entry["name"].startswith("login"):
            continue
        requests += entry["num_requests"]
        failures += entry["num_failures"]
        for ms, count in entry["response_times"].items():
            times[int(ms)] = times.get(int(ms), 0) + count
    seen, p95 = 0, None
    for ms in sorted(times):
        seen += times[ms]
        if seen >= math.ceil(0.95 * requests):
            p95 = ms
            break
    return {"requests": requests, "failures": failures, "p95_ms": p95}


def read_failures(prefix: Path) -> list[dict]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            {
                "kind": f"{row['Method']} {row['Name']}",
                "error": row["Error"][:300],
                "count": int(row["Occurrences"]),
            }
            for row in csv.DictReader(handle)
        ]


def read_exceptions(prefix: Path) -> list[dict]:
    """Errors raised inside the locustfile's tasks (a page that could not be read)."""
    path = Path(f"{prefix}_exceptions.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            {
                "kind": "task error",
                "error": (row["Message"] + " " + row["Traceback"][-300:])[:600],
                "count": int(row["Count"]),
            }
            for row in csv.DictReader(handle)
        ]


def markdown(report: dict) -> str:
    env, total, work = report["environment"], report["total"], report["work"]
    lines = [
        f"# Load test {report['label']}",
        "",
        f"{env['date']}, {env['database']}, {env['machine']}; gunicorn {env['workers']} sync "
        f"workers; locust {report['users']} users (spawn {report['spawn_rate']}/s) for "
        f"{report['time']}, 0.5-2 s between a user's tasks. Load average before "
        f"{env['load_before']}, after {env['load_after']} (the cores are shared).",
        "",
        f"**{total['requests']:,} requests, {total['rps']} requests/s, p95 {total['p95_ms']} ms, "
        f"{total['failures']} failures.** Without the logins: p95 {work.get('p95_ms')} ms over "
        f"{work.get('requests')} requests. Funds adding up: "
        f"{sum(c['ok'] for c in report['funds'])} of {len(report['funds'])}.",
        "",
        "Writes made during the run: "
        + ", ".join(f"{k} {v}" for k, v in report["writes"].items())
        + ".",
        "",
        "| request kind | requests | req/s | median ms | p95 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["requests"]:
        lines.append(
            f"| {row['kind']} | {row['requests']} | {row['rps']} | {row['median_ms']} | "
            f"{row['p95_ms']} | {row['max_ms']} | {row['failures']} |"
        )
    if report["failures"]:
        lines += ["", "Failures:", ""]
        lines += [f"- {f['kind']} x{f['count']}: {f['error']}" for f in report["failures"]]
    wrong = [c for c in report["funds"] if not c["ok"]]
    if wrong:
        lines += ["", "Funds that do not add up (held, expected):", ""]
        lines += [f"- {c['name']}: {c['wrong']}" for c in wrong]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="demo")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--time", default="120s", help="locust's run time (120s, 2m)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: free)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    call_command("migrate", interactive=False, verbosity=0)
    if get_user_model().objects.filter(username__in=ACCOUNTS).count() != len(ACCOUNTS):
        print("Seeding the demo (its accounts are missing)...")
        call_command("seed_demo", verbosity=0)
    if not static_is_fresh():
        print("Collecting static files (the server runs with DEBUG off)...")
        call_command("collectstatic", interactive=False, verbosity=0)
    load_plan = plan()

    work = Path(tempfile.mkdtemp(prefix="tt-load-"))
    queue = f"load-{uuid.uuid4().hex[:8]}"
    server_env = {
        "PORTAL_SECOND_FACTOR": "0",
        "MEDIA_ROOT": str(work / "media"),
        "CELERY_QUEUE": queue,
    }
    prefix = work / "locust"
    started = timezone.now()
    load_before = os.getloadavg()
    try:
        with Server(
            args.workers, work / "gunicorn.log", port=args.port, env=server_env,
            count_queries=False,
        ) as server:  # fmt: skip
            print(f"gunicorn on 127.0.0.1:{server.port}, {args.workers} workers; locust "
                  f"{args.users} users for {args.time}")  # fmt: skip
            locust = Path(sys.executable).parent / "locust"
            done = subprocess.run(
                [str(locust), "--headless", "-f", str(ROOT / "bench" / "locustfile.py"),
                 "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.time,
                 "--host", f"http://127.0.0.1:{server.port}", "--csv", str(prefix),
                 "--json-file", str(prefix), "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, env=dict(os.environ, LOAD_PLAN=json.dumps(load_plan),
                                   LOAD_USERS=str(args.users)),
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        load_after = os.getloadavg()
        if not Path(f"{prefix}_stats.csv").exists():
            print(done.stdout[-5000:], done.stderr[-5000:])
            raise SystemExit("locust wrote no statistics")
        rows = read_stats(prefix)
        work_stats = work_summary(prefix)
        failures = read_failures(prefix) + read_exceptions(prefix)
        gunicorn_log = (work / "gunicorn.log").read_text()[-3000:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
        _drop_queue(queue)

    total = next((r for r in rows if r["kind"] == "Aggregated"), None) or {
        "requests": 0, "failures": 0, "rps": 0, "p95_ms": None,
    }  # fmt: skip
    database = connection.vendor
    if database == "postgresql":
        database += f" {connection.pg_version // 10000}"
    report = {
        "label": args.label,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "time": args.time,
        "environment": {
            "date": timezone.localtime(started).strftime("%Y-%m-%d %H:%M %Z"),
            "database": database,
            "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
            "workers": args.workers,
            "load_before": " ".join(f"{x:.1f}" for x in load_before),
            "load_after": " ".join(f"{x:.1f}" for x in load_after),
        },
        "total": total,
        "work": work_stats,
        "requests": [r for r in rows if r["kind"] != "Aggregated"],
        "failures": failures,
        "writes": writes_since(started),
        "funds": fund_checks(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"load-{args.label}"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    text = markdown(report)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    ok = (
        not failures
        and total["failures"] == 0
        and total["requests"] > 0
        and all(c["ok"] for c in report["funds"])
    )
    if not ok:
        print("locust:", done.stdout[-4000:], done.stderr[-3000:], sep="\n")
        print("gunicorn:", gunicorn_log, sep="\n")
        raise SystemExit(1)


def _drop_queue(queue: str) -> None:
    """The run's reports were sent to a queue no worker reads: remove it from Redis."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            # By its keys: kombu's queue_delete only forgets the queues this connection declared.
            client = conn.default_channel.client
            client.delete(queue, f"_kombu.binding_permanent.{queue}")
            suffix = b"\x06\x16" + queue.encode()
            for key in client.scan_iter("_kombu.binding.*"):
                stale = [m for m in client.smembers(key) if m.endswith(suffix)]
                if stale:
                    client.srem(key, *stale)
    except Exception as error:  # a broker that went away meanwhile leaves a key behind
        print(f"could not remove the queue {queue}: {error}")


if __name__ == "__main__":
    main()
