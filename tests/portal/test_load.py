"""``bench/load.py`` for 20 seconds with 10 users on the demo data: the mixed workload through
gunicorn makes every kind of write, fails no request and leaves every fund adding up."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import global_settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q, Sum

from welfare.models import Case, CaseEvent, CaseStatus, Fund, Payment
from welfare.reports.models import Report

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def counts() -> dict[str, int]:
    events = CaseEvent.objects.aggregate(
        submitted=Count("pk", filter=Q(action=CaseEvent.Action.SUBMITTED)),
        approved=Count("pk", filter=Q(action=CaseEvent.Action.APPROVED)),
    )
    return {
        "cases": Case.objects.count(),
        **events,
        "payments": Payment.objects.count(),
        "reports": Report.objects.count(),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_mixed_load_fails_nothing_and_every_fund_adds_up(tmp_path, settings):
    """The server must see committed data: the demo is seeded for real into the test database
    (and flushed afterwards, as every transactional test's), its passwords hashed as the
    server checks them."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    before = counts()
    env = dict(os.environ, DATABASE_URL=database_url())
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--users", "10", "--spawn-rate", "10",
         "--time", "20s", "--workers", "3", "--label", "smoke", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "load-smoke.json").read_text())
    assert report["total"]["requests"] > 0
    assert report["total"]["failures"] == 0 and not report["failures"], report["failures"]
    kinds = {row["kind"] for row in report["requests"]}
    # What every role does first, whatever the weighted mix picks afterwards.
    assert {
        "POST login",
        "GET member list",
        "POST open case",
        "POST submit",
        "GET case list, waiting for me",
        "POST approve",
        "POST pay",
        "POST request report",
    } <= kinds, kinds

    # Every kind of write happened, as the database says, not the load tool.
    after = counts()
    for kind in ("cases", "submitted", "approved", "payments", "reports"):
        assert after[kind] > before[kind], (kind, before, after)
    # Every fund's ledger adds up to its balance, and what it reserves is what it owes.
    funds = Fund.objects.annotate(total=Sum("entries__amount"), n=Count("entries"))
    for fund in funds:
        assert (fund.balance, fund.entry_count) == ((fund.total or 0), fund.n), fund.name
        owed = fund.cases.filter(status=CaseStatus.APPROVED).aggregate(s=Sum("approved_amount"))
        lent = fund.loans.filter(status="approved").aggregate(s=Sum("principal"))
        assert fund.reserved == (owed["s"] or 0) + (lent["s"] or 0), fund.name
        assert fund.balance >= fund.reserved >= 0
    assert all(check["ok"] for check in report["funds"])
    assert (tmp_path / "load-smoke.md").read_text().startswith("# Load test smoke")
