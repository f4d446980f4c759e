"""The benchmark of issue 6: the main pages through a real server, the Django admin beside them,
the annual report aggregates and the member import, each number next to its budget.

Usage, on a database filled by ``manage.py seed_scale`` (or the demo, ``manage.py seed_demo``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tt_scale \\
        .venv/bin/python bench/run.py --label province-100k

What it does (see bench/README.md):
1. applies pending migrations and collects static files (the server runs with DEBUG off);
2. starts gunicorn on 127.0.0.1 (a free port, ``--workers`` sync workers) with
   ``BENCH_COUNT_QUERIES=1``, which adds ``bench.querycount`` to the middleware: every response
   carries its number of SQL queries and its server time;
3. logs in each demo role and a superuser by writing Django sessions for them (no password),
   verified by an authenticator app where the account needs the second factor;
4. requests each page ``--warmup`` times, then ``--runs`` times, and keeps the median and the
   95th percentile (nearest rank) of the server time, the median of the time seen by the client
   and the number of queries;
5. times ``welfare.reports.figures.annual_figures`` for the province in this process;
6. stops the server, then (if ``bench/import_members.py`` exists and ``--import-rows`` is not
   0) times the import of a member file into a throw-away copy of the database;
7. writes ``bench/results/<label>.json`` and ``bench/results/<label>.md``.

Pages that do not exist yet (404) are reported as missing; the run goes on.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# The server and this process share the secret key: the session hashes depend on it.
os.environ["SECRET_KEY"] = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(40)
os.environ["DEBUG"] = "0"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
# Production settings but for TLS: the server is reached over plain HTTP on 127.0.0.1, with no
# proxy in front, so no HTTPS redirect and cookies that HTTP carries.
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["SECURE_COOKIES"] = "0"
os.environ["HSTS_SECONDS"] = "0"
os.environ.pop("BENCH_COUNT_QUERIES", None)  # only the server counts

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from common.keyset import KeysetPaginator  # noqa: E402
from members.forms import SORTS  # noqa: E402
from members.models import Dependant, Member  # noqa: E402
from members.search import normalise  # noqa: E402
from unions.models import Role, RoleAssignment, Unit, UnitKind  # noqa: E402
from welfare.models import (  # noqa: E402
    Campaign,
    Case,
    CaseStatus,
    Contribution,
    Fund,
    FundKind,
    LedgerEntry,
    Loan,
)

ROLES = ["admin", "province", "commune", "grassroots", "treasurer", "leader"]
MAIN_USER = "province"  # the widest scope the budgets are about
SUPERUSER = "bench-superuser"
# A leader of the commune measured, made by the benchmark: the figures of a commune union.
COMMUNE_LEADER = "bench-commune-leader"
MAX_QUERIES = 12
MAX_P95_MS = 100.0
MAX_PAGE_RATIO = 1.2  # page 500 and the last page against page 1
MIN_ADMIN_RATIO = 1.5  # the admin's page 1 against the portal's
MAX_AGGREGATES_S = 0.5
MAX_IMPORT_S = 60.0
MAX_SCALE_RATIO = 1.5  # city-scale times against province-scale times
RESULTS = ROOT / "bench" / "results"


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


@dataclass
class Check:
    budget: str
    value: str
    ok: bool


@dataclass
class PageResult:
    name: str
    group: str
    url: str
    user: str
    status: str = "ok"  # ok, missing (404), error NNN
    runs: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    client_median_ms: float | None = None
    queries: int | None = None
    queries_varied: bool = False
    bytes: int = 0
    checks: list[Check] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.status != "ok":
            return self.status
        misses = [c.budget for c in self.checks if not c.ok]
        return "PASS" if not misses else "MISS"


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: of 20 values, the 95th percentile is the 19th smallest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Server:
    """gunicorn on a free loopback port, stopped by its own process id."""

    def __init__(
        self,
        workers: int,
        log: Path,
        *,
        port: int = 0,
        env: dict[str, str] | None = None,
        count_queries: bool = True,
    ):
        self.workers = workers
        self.log = log
        self.port = port
        if not port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        # bench/load.py: its own environment for the server, without the query-count headers.
        self.env = dict(os.environ, **(env or {}))
        if count_queries:
            self.env["BENCH_COUNT_QUERIES"] = "1"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = self.env
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [
            str(gunicorn), "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--timeout", "300", "--log-level", "warning",
        ]  # fmt: skip
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        for _attempt in range(120):  # up to 60 s
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped; see {self.log}")
            try:
                status, _body, _headers, _ms = self.get("/healthz", None)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer on port {self.port}; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()

    def get(self, url: str, session: str | None) -> tuple[int, bytes, dict, float]:
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"} if session else {}
        started = time.perf_counter()
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            client.request("GET", url, headers=headers)
            response = client.getresponse()
            body = response.read()
        finally:
            client.close()
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, body, dict(response.getheaders()), elapsed


def measure(server: Server, page: PageResult, session: str, warmup: int, runs: int) -> None:
    for _ in range(warmup):
        status, body, _headers, _ms = server.get(page.url, session)
        if status == 404:
            page.status = "missing"
            return
        if status != 200:
            page.status = f"error {status}"
            return
    server_ms, client_ms, queries = [], [], []
    for _ in range(runs):
        status, body, headers, elapsed = server.get(page.url, session)
        if status != 200:
            page.status = f"error {status}"
            return
        server_ms.append(float(headers["X-Server-Time"]))
        queries.append(int(headers["X-Query-Count"]))
        client_ms.append(elapsed)
    page.runs = runs
    page.median_ms = round(statistics.median(server_ms), 1)
    page.p95_ms = round(percentile(server_ms, 0.95), 1)
    page.client_median_ms = round(statistics.median(client_ms), 1)
    page.queries = max(queries)
    page.queries_varied = min(queries) != max(queries)
    page.bytes = len(body)


# --------------------------------------------------------------------------------------------
# Setting up: users, sessions, the pages to measure
# --------------------------------------------------------------------------------------------


def static_is_fresh() -> bool:
    """Whether the collected static files' manifest is newer than every source file."""
    from django.contrib.staticfiles.finders import get_finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return False
    collected = manifest.stat().st_mtime
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            if Path(storage.path(path)).stat().st_mtime > collected:
                return False
    return True


def prove_second_factor(user, store) -> None:
    """For an account that needs the second factor, mark the session as proved by its
    authenticator app (made if it has none), so the pages cost what they cost in production."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from unions.second_factor import needs_second_factor

    if needs_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id


def session_for(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    prove_second_factor(user, store)
    store.create()
    return store.session_key


def largest_commune(province: Unit) -> Unit | None:
    """The commune union with the most units under it: the commune every measurement uses."""
    return (
        Unit.objects.filter(kind=UnitKind.COMMUNE, status="active", path__startswith=province.path)
        .annotate(n=Count("children"))
        .order_by("-n", "pk")
        .first()
    )


def commune_leader(commune: Unit):
    """A leader at the commune measured (the demo roles have none there)."""
    User = get_user_model()
    user, _created = User.objects.get_or_create(username=COMMUNE_LEADER)
    user.set_unusable_password()
    user.save()
    RoleAssignment.objects.filter(user=user).exclude(unit=commune).delete()
    RoleAssignment.objects.get_or_create(user=user, unit=commune, role=Role.LEADER)
    return user


def superuser():
    User = get_user_model()
    user, _created = User.objects.get_or_create(
        username=SUPERUSER, defaults={"email": "bench@example.vn"}
    )
    user.is_superuser = user.is_staff = user.is_active = True
    user.set_unusable_password()
    user.save()
    return user


# The member list's default order.
NAME_ORDER = SORTS["name"]


def pages_to_measure(users: dict) -> tuple[list[PageResult], dict]:
    province_user = users[MAIN_USER]
    visible = Member.objects.visible_to(province_user)
    count = visible.count()
    last = max(1, math.ceil(count / settings.PAGE_SIZE))
    # The list pages by keyset: page 500 is the page after the list's 24,950th row.
    by_name = KeysetPaginator(visible, NAME_ORDER, settings.PAGE_SIZE)
    deep = ""
    if count:
        row = visible.order_by(*NAME_ORDER)[min(499 * settings.PAGE_SIZE, count) - 1]
        deep = by_name.cursor(0, row)
    # A member in the middle of the table, active, with children (the fuller page).
    parents = visible.filter(
        status="active", pk__in=Dependant.objects.values("member_id")
    ).order_by("id")
    middle = parents.count() // 2
    member = parents[middle] if middle else visible.order_by("id").first()
    province = Unit.objects.filter(kind=UnitKind.PROVINCE).order_by("depth", "pk").first()
    commune = largest_commune(province)
    # The campaign with the most contributions, and the loans' portfolio.
    campaign = (
        Campaign.objects.filter(unit__path__startswith=province.path)
        .annotate(n=Count("contributions"))
        .order_by("-n", "pk")
        .first()
    )
    case = (
        Case.objects.visible_to(province_user)
        .filter(status=CaseStatus.PAID)
        .annotate(n=Count("events"))
        .order_by("-n", "-pk")
        .first()
    )
    fund = (
        Fund.objects.filter(unit=province, kind=FundKind.SOCIAL).order_by("pk").first()
        or Fund.objects.visible_to(province_user).order_by("pk").first()
    )
    context = {
        "members_visible": count,
        "member_pages": last,
        "member_id": member.pk if member else None,
        "case_id": case.pk if case else None,
        "fund_id": fund.pk if fund else None,
        "fund_entries": LedgerEntry.objects.filter(fund=fund).count() if fund else 0,
        "commune_id": commune.pk if commune else None,
        "province_id": province.pk,
        "campaign_id": campaign.pk if campaign else None,
        "campaign_contributions": campaign.contributions.count() if campaign else 0,
    }
    pages = [PageResult(f"home ({role})", "home", "/", role) for role in ROLES if role in users]
    # The leaders' and province staff's figures of the year, fetched by their home page.
    pages += [
        PageResult(f"dashboard figures ({role})", "home", "/dashboard/", role)
        for role in ("province", "leader")
        if role in users
    ]
    if COMMUNE_LEADER in users:
        pages.append(
            PageResult("dashboard figures (commune leader)", "home", "/dashboard/", COMMUNE_LEADER)
        )
    m = MAIN_USER
    pages += [
        PageResult("member list, page 1", "members", "/members/", m),
        PageResult(
            "member list, filtered (active women)",
            "members",
            "/members/?status=active&sex=female",
            m,
        ),
        PageResult("member list, search 'nguyen van'", "members", "/members/?q=nguyen+van", m),
        PageResult("member list, page 500", "members", f"/members/?after={deep}", m),
        PageResult(f"member list, last page ({last})", "members", "/members/?last=1", m),
    ]
    if commune:
        pages.append(
            PageResult(
                "member list, one commune's units",
                "members",
                f"/members/?unit={commune.pk}",
                m,
            )
        )
    if member:
        pages.append(PageResult("member page", "members", f"/members/{member.pk}/", m))
        pages.append(PageResult("member form", "members", f"/members/{member.pk}/edit/", m))
    pages += [
        PageResult("case list", "cases", "/cases/", m),
        PageResult("case list, waiting for me", "cases", "/cases/?waiting=1", m),
    ]
    if "treasurer" in users:
        pages.append(
            PageResult(
                "case list, waiting for me (treasurer)", "cases", "/cases/?waiting=1", "treasurer"
            )
        )
    if case:
        pages.append(PageResult("case page", "cases", f"/cases/{case.pk}/", m))
    if fund:
        url = f"/funds/{fund.pk}/"
        last_year = timezone.localdate().year - 1
        pages += [
            PageResult("fund page with its ledger", "funds", url, m),
            PageResult("fund page, support paid only", "funds", f"{url}?kind=disbursement", m),
            PageResult(
                f"fund page, 15/03/{last_year - 1} to 10/02/{last_year}",
                "funds",
                f"{url}?date_from={last_year - 1}-03-15&date_to={last_year}-02-10",
                m,
            ),
        ]
    pages.append(PageResult("loan portfolio", "loans", "/loans/", m))
    if campaign:
        pages.append(PageResult("campaign page", "campaigns", f"/campaigns/{campaign.pk}/", m))
    pages.append(PageResult("union tree", "units", "/units/", m))
    pages.append(PageResult("union tree on 31/12/2024", "units", "/units/?on=2024-12-31", m))
    if commune:
        pages.append(PageResult("unit page (a commune)", "units", f"/units/{commune.pk}/", m))
    changelist = "/django-admin/members/member/"
    admin_pages = [
        PageResult(f"admin: member changelist, {name}", "admin", changelist + query, SUPERUSER)
        for name, query in [
            ("page 1", ""),
            # Django 5 numbers the admin's pages from 1: ?p=500 is page 500 (100 rows a page).
            ("page 500", "?p=500"),
            ("search 'nguyen van'", "?q=nguyen+van"),
            ("search 'Nguyễn Văn'", "?q=Nguy%E1%BB%85n+V%C4%83n"),
        ]
    ]
    return pages + admin_pages, context


def search_counts() -> dict:
    """How many members each search finds: the portal's stored normalised name, and the admin's
    ``icontains`` on every word (which misses names typed without diacritics)."""
    admin_plain = Q(full_name__icontains="nguyen") & Q(full_name__icontains="van")
    admin_marked = Q(full_name__icontains="Nguyễn") & Q(full_name__icontains="Văn")
    return {
        "portal 'nguyen van'": Member.objects.filter(
            search_name__contains=normalise("nguyen van")
        ).count(),
        "admin 'nguyen van'": Member.objects.filter(admin_plain).count(),
        "admin 'Nguyễn Văn'": Member.objects.filter(admin_marked).count(),
    }


# --------------------------------------------------------------------------------------------
# In-process measurements
# --------------------------------------------------------------------------------------------


def measure_aggregates(union: Unit, year: int, user, runs: int, *, summary=False) -> dict:
    """``annual_figures`` in this process: the whole report's (or the dashboard's summary)."""
    from welfare.reports.figures import annual_figures

    annual_figures(union, year, user=user, summary=summary)  # warm-up
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            figures = annual_figures(union, year, user=user, summary=summary)
            times.append(time.perf_counter() - started)
    median = statistics.median(times)
    what = "dashboard summary" if summary else "annual report aggregates"
    budget = MAX_P95_MS / 1000 if summary else MAX_AGGREGATES_S
    return {
        "name": f"{what}, {union.kind}, {year}",
        "runs": runs,
        "median_s": round(median, 3),
        "max_s": round(max(times), 3),
        "queries": len(queries),
        "cases": figures.totals.cases,
        "people": figures.totals.people,
        "amount": figures.totals.amount,
        "checks": [asdict(Check(f"< {budget} s", f"{median:.3f} s", median < budget))],
    }


def all_aggregates(province: Unit, commune: Unit | None, users: dict, runs: int) -> list[dict]:
    """The report's aggregates and the dashboard's summary, for the province (its staff) and a
    commune (its leader), this year and 2024 (before the reorganisation of 2025)."""
    this_year = timezone.localdate().year
    found = []
    for union, user in ((province, users[MAIN_USER]), (commune, users.get(COMMUNE_LEADER))):
        if union is None or user is None:
            continue
        for year in (this_year, 2024):
            found.append(measure_aggregates(union, year, user, runs))
            found.append(measure_aggregates(union, year, user, runs, summary=True))
    return found


def measure_import(rows: int) -> dict | None:
    """``bench/import_members.py`` on a copy of the database, which is then dropped."""
    script = ROOT / "bench" / "import_members.py"
    if not rows or not script.exists():
        return None
    connections.close_all()
    source = settings.DATABASES["default"]
    url = os.environ.get("DATABASE_URL", "")
    scratch_dir = None
    if connection.vendor == "postgresql":
        copy_name = f"{source['NAME']}_bench_import"
        admin = dict(source, NAME="postgres")
        import psycopg

        params = {k: v for k, v in {
            "host": admin.get("HOST") or None, "port": admin.get("PORT") or None,
            "user": admin.get("USER") or None, "password": admin.get("PASSWORD") or None,
        }.items() if v}  # fmt: skip
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
            pg.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{source["NAME"]}"')
        copy_url = url.rsplit("/", 1)[0] + f"/{copy_name}"
    else:
        scratch_dir = tempfile.mkdtemp(prefix="bench-import-")
        copy_path = Path(scratch_dir) / "db.sqlite3"
        shutil.copyfile(source["NAME"], copy_path)
        copy_url = f"sqlite:///{copy_path}"
    try:
        env = dict(os.environ, DATABASE_URL=copy_url)
        done = subprocess.run(
            [sys.executable, str(script), "--rows", str(rows)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
        )  # fmt: skip
    finally:
        if connection.vendor == "postgresql":
            with psycopg.connect(dbname="postgres", autocommit=True, **params) as pg:
                pg.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
        elif scratch_dir:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    if done.returncode != 0:
        return {"name": f"import of {rows:,} members", "status": "error",
                "output": (done.stdout + done.stderr)[-2000:]}  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    total = result.get("total_s")
    result["name"] = f"import of {rows:,} members (read, check, write)"
    result["status"] = "ok"
    ok = total is not None and total < MAX_IMPORT_S
    result["checks"] = [asdict(Check(f"< {MAX_IMPORT_S:.0f} s", f"{total} s", ok))]
    return result


def explain(url: str, username: str) -> None:
    """Print each query of one page (requested in-process as ``username``) with its plan."""
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    session = client.session
    prove_second_factor(user, session)
    session.save()
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    print(f"GET {url} as {username}: {response.status_code}, {elapsed:.0f} ms in-process, "
          f"{len(captured)} queries")  # fmt: skip
    for number, query in enumerate(captured.captured_queries, 1):
        sql = query["sql"]
        print(f"\n-- query {number} ({float(query['time']) * 1000:.1f} ms)\n{sql}")
        if connection.vendor == "postgresql" and sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                print("\n".join(row[0] for row in cursor.fetchall()))


# --------------------------------------------------------------------------------------------
# Budgets and reports
# --------------------------------------------------------------------------------------------


def judge(pages: list[PageResult]) -> list[dict]:
    by_name = {p.name: p for p in pages}
    for page in pages:
        if page.status != "ok" or page.group == "admin":
            continue
        page.checks.append(
            Check(f"≤ {MAX_QUERIES} queries", str(page.queries), page.queries <= MAX_QUERIES)
        )
        page.checks.append(
            Check(f"p95 < {MAX_P95_MS:.0f} ms", f"{page.p95_ms} ms", page.p95_ms < MAX_P95_MS)
        )
    first = by_name.get("member list, page 1")
    for page in pages:
        deep = page.name == "member list, page 500" or page.name.startswith("member list, last")
        if deep and first and first.status == page.status == "ok":
            ratio = page.median_ms / first.median_ms
            page.checks.append(
                Check(f"≤ {MAX_PAGE_RATIO}x page 1", f"{ratio:.2f}x", ratio <= MAX_PAGE_RATIO)
            )
    comparisons = []
    pairs = [
        ("member list, page 1", "admin: member changelist, page 1", True),
        ("member list, page 500", "admin: member changelist, page 500", False),
        (
            "member list, search 'nguyen van'",
            "admin: member changelist, search 'nguyen van'",
            False,
        ),
        (
            "member list, search 'nguyen van'",
            "admin: member changelist, search 'Nguyễn Văn'",
            False,
        ),
    ]
    for portal_name, admin_name, budgeted in pairs:
        portal, admin = by_name.get(portal_name), by_name.get(admin_name)
        if not (portal and admin and portal.status == admin.status == "ok"):
            continue
        speedup = admin.median_ms / portal.median_ms
        row = {
            "portal": portal_name,
            "admin": admin_name,
            "portal_ms": portal.median_ms,
            "admin_ms": admin.median_ms,
            "portal_over_admin": round(portal.median_ms / admin.median_ms, 2),
            "admin_over_portal": round(speedup, 2),
        }
        if budgeted:
            check = Check(
                f"admin ≥ {MIN_ADMIN_RATIO}x portal", f"{speedup:.2f}x", speedup >= MIN_ADMIN_RATIO
            )
            portal.checks.append(check)
            row["check"] = asdict(check)
        comparisons.append(row)
    return comparisons


def aggregates_of(report: dict) -> list[dict]:
    """The in-process measurements of a result file (one, in files written before 2026-12)."""
    found = report["aggregates"]
    return found if isinstance(found, list) else [found]


def markdown(report: dict, pages: list[PageResult]) -> str:
    env = report["environment"]
    lines = [
        f"# Benchmark {report['label']}",
        "",
        f"{env['date']}, {env['database']}, {env['machine']}; gunicorn {env['workers']} sync "
        f"workers on 127.0.0.1, DEBUG off; {report['runs']} requests per page after "
        f"{report['warmup']} warm-up; server time from `X-Server-Time` (the whole Django "
        f"request, middleware included), client = wall time seen over loopback. "
        f"Load average {env['load_before']} before, {env['load_after']} after.",
        "",
        "Data: " + ", ".join(f"{k} {v:,}" for k, v in report["data"].items()) + ".",
        "",
        "| page | user | median ms | p95 ms | client ms | queries | budget | result |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for page in pages:
        if page.status != "ok":
            lines.append(f"| {page.name} | {page.user} | | | | | | {page.status} |")
            continue
        budget = "; ".join(f"{c.budget}: {c.value}" for c in page.checks) or "-"
        verdict = page.verdict if page.checks else "reference"
        if verdict == "MISS":
            verdict = "**MISS** (" + ", ".join(c.budget for c in page.checks if not c.ok) + ")"
        queries = f"{page.queries}{'*' if page.queries_varied else ''}"
        lines.append(
            f"| {page.name} | {page.user} | {page.median_ms} | {page.p95_ms} | "
            f"{page.client_median_ms} | {queries} | {budget} | {verdict} |"
        )
    lines += ["", "\\* the number of queries varied between requests; the largest is shown.", ""]
    lines += ["## Portal and Django admin (same data, same run)", ""]
    lines += ["| portal | admin | portal ms | admin ms | portal/admin | admin/portal |",
              "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for row in report["comparisons"]:
        lines.append(
            f"| {row['portal']} | {row['admin']} | {row['portal_ms']} | {row['admin_ms']} | "
            f"{row['portal_over_admin']} | {row['admin_over_portal']} |"
        )
    lines += ["", "Members found: " + ", ".join(
        f"{k}: {v:,}" for k, v in report["search_counts"].items()) + ".", ""]  # fmt: skip
    lines += [
        "## In-process",
        "",
        "| measurement | median | max | queries | budget | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for agg in aggregates_of(report):
        lines.append(
            f"| {agg['name']} | {agg['median_s']} s | {agg['max_s']} s | {agg['queries']} | "
            f"{agg['checks'][0]['budget']} | {'PASS' if agg['checks'][0]['ok'] else '**MISS**'} |"
        )
    imp = report.get("import")
    if imp and imp.get("status") == "ok":
        lines.append(
            f"| {imp['name']} (preview {imp['preview_s']} s + write {imp['write_s']} s) | "
            f"{imp['total_s']} s | | | {imp['checks'][0]['budget']} | "
            f"{'PASS' if imp['checks'][0]['ok'] else '**MISS**'} |"
        )
    elif imp:
        lines.append(f"| {imp['name']} | | | | | {imp['status']} |")
    else:
        lines.append("| import of a member file | | | | | not run |")
    return "\n".join(lines) + "\n"


def compare(label: str, baseline: str, out: Path) -> None:
    """Each page of one result file against the same page of another (city against province:
    within 1.5x), written as ``<label>-vs-<baseline>.md``."""
    import re

    def load(name: str) -> dict:
        report = json.loads((out / f"{name}.json").read_text())
        # "member list, last page (2000)" and "(10000)" are the same page.
        pages = {re.sub(r" \(\d+\)$", "", p["name"]): p for p in report["pages"]}
        return report, pages

    (report, pages), (base, base_pages) = load(label), load(baseline)
    lines = [
        f"# {label} against {baseline}",
        "",
        f"{label}: " + ", ".join(f"{k} {v:,}" for k, v in report["data"].items()) + ".",
        f"{baseline}: " + ", ".join(f"{k} {v:,}" for k, v in base["data"].items()) + ".",
        "",
        f"Budget: every page within {MAX_SCALE_RATIO}x of its time at {baseline} (medians).",
        "",
        f"| page | {baseline} ms | {label} ms | ratio | result |",
        "|---|---:|---:|---:|---|",
    ]
    for name, page in pages.items():
        before = base_pages.get(name)
        if not before or page["status"] != "ok" or before["status"] != "ok":
            continue
        ratio = page["median_ms"] / before["median_ms"]
        verdict = "reference" if page["group"] == "admin" else (
            "PASS" if ratio <= MAX_SCALE_RATIO else "**MISS**"
        )  # fmt: skip
        lines.append(
            f"| {name} | {before['median_ms']} | {page['median_ms']} | {ratio:.2f}x | {verdict} |"
        )
    base_aggregates = {agg["name"]: agg for agg in aggregates_of(base)}
    for agg in aggregates_of(report):
        base_agg = base_aggregates.get(agg["name"])
        if not base_agg or not base_agg["median_s"]:
            continue
        ratio = agg["median_s"] / base_agg["median_s"]
        lines.append(
            f"| {agg['name']} (s) | {base_agg['median_s']} | {agg['median_s']} | {ratio:.2f}x | "
            f"{'PASS' if ratio <= MAX_SCALE_RATIO else '**MISS**'} |"
        )
    text = "\n".join(lines) + "\n"
    (out / f"{label}-vs-{baseline}.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="results file name (default: from the data size)")
    parser.add_argument("--runs", type=int, default=20, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=4, help="requests before measuring")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--aggregate-runs", type=int, default=5)
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="0 skips the import (default 100,000)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--explain",
        metavar="URL",
        help="only print the queries of this page with EXPLAIN ANALYZE (PostgreSQL), then stop",
    )
    parser.add_argument("--user", default=MAIN_USER, help="the user for --explain")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("LABEL", "BASELINE"),
        help="only compare two result files (e.g. city-500k province-100k), then stop",
    )
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare, args.out)
        return
    if args.explain:
        explain(args.explain, args.user)
        return
    if args.runs < 1 or args.warmup < 0 or not 1 <= args.workers <= 8:
        parser.error("--runs ≥ 1, --warmup ≥ 0, 1 ≤ --workers ≤ 8")

    call_command("migrate", interactive=False, verbosity=0)
    if not static_is_fresh():  # 35 s here: whitenoise compresses every file
        print("Collecting static files (the server runs with DEBUG off)...")
        call_command("collectstatic", interactive=False, verbosity=0)
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=ROLES)}
    if MAIN_USER not in users:
        raise SystemExit("No 'province' user: seed the database first (seed_scale or seed_demo).")
    users[SUPERUSER] = superuser()
    top = Unit.objects.filter(kind=UnitKind.PROVINCE).order_by("depth", "pk").first()
    commune = largest_commune(top) if top else None
    if commune:
        users[COMMUNE_LEADER] = commune_leader(commune)
    sessions = {name: session_for(user) for name, user in users.items()}
    pages, context = pages_to_measure(users)
    province = Unit.objects.get(pk=context["province_id"])
    data = {
        "members": Member.objects.count(),
        "units": Unit.objects.count(),
        "grassroots unions": Unit.objects.filter(kind=UnitKind.GRASSROOTS).count(),
        "cases": Case.objects.count(),
        "ledger entries": LedgerEntry.objects.count(),
        "ledger entries of the fund measured": context["fund_entries"],
        "loans": Loan.objects.count(),
        "contributions": Contribution.objects.count(),
        "contributions of the campaign measured": context["campaign_contributions"],
    }
    label = args.label or f"{connection.vendor}-{data['members'] // 1000}k"
    print(f"Benchmark {label}: " + ", ".join(f"{k} {v:,}" for k, v in data.items()))
    load_before = os.getloadavg()
    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{os.getpid()}.log"
    with Server(args.workers, log) as server:
        print(f"gunicorn on 127.0.0.1:{server.port}, {args.workers} workers (log {log})")
        for page in pages:  # every page once per worker before any measurement
            for _ in range(args.workers):
                server.get(page.url, sessions[page.user])
        for page in pages:
            measure(server, page, sessions[page.user], args.warmup, args.runs)
            shown = (
                f"{page.median_ms:8.1f} {page.p95_ms:8.1f} ms {page.queries:3d} q"
                if page.status == "ok"
                else page.status
            )
            print(f"  {page.name:<45} {shown}")
    aggregates = all_aggregates(province, commune, users, args.aggregate_runs)
    for agg in aggregates:
        print(f"  {agg['name']:<45} {agg['median_s']:8.3f} s {agg['queries']} q")
    comparisons = judge(pages)
    counts = search_counts()
    for key in sessions.values():
        SessionStore(session_key=key).delete()
    imported = measure_import(args.import_rows)
    if imported:
        print(f"  {imported['name']:<45} {imported.get('total_s', imported['status'])} s")

    database = connection.vendor
    if database == "postgresql":
        database += f" {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    report = {
        "label": label,
        "runs": args.runs,
        "warmup": args.warmup,
        "environment": {
            "date": timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
            "database": database,
            "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
            "workers": args.workers,
            "page_size": settings.PAGE_SIZE,
            "load_before": " ".join(f"{x:.1f}" for x in load_before),
            "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        },
        "data": data,
        "context": context,
        "pages": [asdict(p) | {"verdict": p.verdict} for p in pages],
        "comparisons": comparisons,
        "search_counts": counts,
        "aggregates": aggregates,
        "import": imported,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{label}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    text = markdown(report, pages)
    (args.out / f"{label}.md").write_text(text)
    print()
    print(text)
    print(f"Written {args.out / (label + '.json')} and {args.out / (label + '.md')}")


if __name__ == "__main__":
    main()
