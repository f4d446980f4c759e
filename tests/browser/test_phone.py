"""The grassroots officer's phone: at 390 x 844 no page of any demo role scrolls sideways.

For each demo login (README) the test walks the portal as that person can: from the home page
it follows every link to a page of the portal, once per URL name, and opens one case in each
state the person can see. Every page must fit the viewport: the document is no wider than the
window and no element sticks out of it. The walk must reach every page the access matrix
(tests/portal) lets that kind of role open, so a new page cannot be forgotten.

The demo province is built once for the module and committed, so the live server sees it;
the database is emptied again at the end, as every transactional test leaves it.

``PHONE_SCREENSHOTS=/some/folder`` keeps a full-page screenshot of every page visited.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.live_server_helper import LiveServer

from common.imports.engine import schema_for
from common.imports.workbooks import refused_workbook
from common.models import ImportJob
from members import privacy
from members.models import Dependant, Member, SubjectRequest
from seed.demo_members import DEMO_PASSWORD, GRASSROOTS_ACCOUNT_UNIT, PROVINCE_CODE
from unions.models import Unit, UnitKind
from unions.scope import Capability, holds_at
from welfare.campaigns.models import Campaign
from welfare.campaigns.services import may_record
from welfare.cases import rules as case_rules
from welfare.loans import rules as loan_rules
from welfare.models import Batch, Case, Fund, FundKind, Loan, Report
from welfare.reports.build import run_build
from welfare.shelters.services import may_keep as may_keep_shelter

from ..portal.test_access_matrix import MATRIX
from .conftest import CHROMIUM_ARGS, watch_csp

# The demo is committed by the module's fixture; each test only reads it (the marker also has
# pytest-django create the test database).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
MD5_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"

# The demo logins and the role of the access matrix each plays.
DEMO_ROLES = {
    "admin": "admin",
    "province": "province",
    "commune": "commune",
    "grassroots": "grassroots",
    "treasurer": "treasurer",
    "leader": "leader",
    "treasurer-ward": "treasurer",
    "treasurer-grassroots": "treasurer",
}

# GET answers that are not pages to look at: files, JSON for scripts, fragments a page loads
# into itself (looked at inside that page), the health check.
NOT_PAGES = {
    "healthz",
    "dashboard",  # the home page loads it
    "units:children",  # the tree loads it
    "units:search",
    "cases:fund_search",
    "members:export",
    "cases:export",
    "cases:evidence",
    "cases:document",
    "funds:export",
    "reports:status",
    "reports:download",
    "programs:signature_list_status",
    "programs:signature_list_download",
    "programs:signed_list",
    # A signature list's page exists only once someone asks for one (a POST), which the demo
    # has not: it is the report's progress box and outcome card, looked at by hand.
    "programs:signature_list",
    # The same for a step over every unit of a program (its page and its progress answer).
    "programs:run",
    "programs:run_status",
    # A reorganisation's recount answers its progress as JSON, and only while one exists.
    "reports:recount_status",
    "members:import_template",
    "members:import_status",
    "members:import_refused",
    "support_imports:template",
    "support_imports:status",
    "support_imports:refused",
    "campaigns:export",
    "campaigns:receipt",
    "contribution_imports:template",
    "contribution_imports:status",
    "contribution_imports:refused",
    "batch_imports:template",
    "batch_imports:status",
    "batch_imports:refused",
    "batch_imports:list",  # sends back to the programs
    "privacy:notice",  # a PDF
}

# Pages for people who are not logged in; the login page first.
ANONYMOUS_PAGES = ["login", "password_reset", "password_reset_done", "password_reset_complete"]

MEASURE = """() => {
  const width = window.innerWidth;
  const outside = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && (box.right > width + 0.5 || box.left < -0.5);
  };
  const clipped = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === "hidden" || overflow === "clip") return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  const sticking = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!outside(el) || getComputedStyle(el).visibility === "hidden") continue;
    if (el.parentElement && outside(el.parentElement)) continue;  // its parent is named
    if (clipped(el)) continue;
    const box = el.getBoundingClientRect();
    sticking.push(`${name(el)} [${Math.round(box.left)}..${Math.round(box.right)}]`);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    sticking: sticking.slice(0, 6),
  };
}"""


def url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def portal_link(href: str | None, origin: str) -> str | None:
    """The path (and query) of a link to a page of the portal, or None."""
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
        return None
    parts = urlsplit(href)
    if parts.netloc and f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    if parts.path.startswith(("/static/", "/media/", "/django-admin/")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo province, one built report and one import of each kind waiting, committed for
    the live server; the case pages to open for each demo login (one per state it sees)."""
    media = tmp_path_factory.mktemp("phone-media")
    # The tests' own (fast) password hasher, which is the only one they accept.
    fast = override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=[MD5_HASHER])
    with django_db_blocker.unblock(), fast:
        call_command("seed_demo", verbosity=0)
        users = {user.username: user for user in get_user_model().objects.all()}
        officer = users["grassroots"]
        grassroots = Unit.objects.get(code=GRASSROOTS_ACCOUNT_UNIT)
        report = Report.objects.create(union=grassroots, year=2025, requested_by=officer)
        run_build(report.pk)
        for kind in (ImportJob.Kind.MEMBERS, ImportJob.Kind.SUPPORT):
            _waiting_import(kind, grassroots, officer)
        province = Unit.objects.get(code=PROVINCE_CODE)
        _waiting_import(ImportJob.Kind.CONTRIBUTIONS, province, users["treasurer"])
        batch = Batch.objects.filter(unit=grassroots).order_by("pk").first()
        if batch is not None:  # a list for the union's batch, checked
            job = _waiting_import(ImportJob.Kind.BATCH, grassroots, officer)
            job.target_id = batch.pk
            job.save(update_fields=["target_id"])
        # A person's request to see what is held about them, waiting for an answer.
        privacy.receive_request(
            member=Member.objects.filter(unit=grassroots).order_by("pk").first(),
            kind=SubjectRequest.Kind.ACCESS,
            received_on=timezone.localdate(),
            details="Xin bản sao toàn bộ thông tin cá nhân đang được lưu.",
            by=users["admin"],
        )
        reset_link = reverse(
            "password_reset_confirm",
            args=[urlsafe_base64_encode(force_bytes(officer.pk)), "no-such-token"],
        )
        extra = {username: _extra_pages(users[username], reset_link) for username in DEMO_ROLES}
        # The server's threads close their connection after each request, so none is left
        # open on the test database when it is dropped.
        database = connections.databases["default"]
        kept_for = database["CONN_MAX_AGE"]
        database["CONN_MAX_AGE"] = 0
        server = LiveServer("localhost")
        try:
            yield {"url": server.url, "extra": extra, "reset_link": reset_link}
        finally:
            server.stop()
            database["CONN_MAX_AGE"] = kept_for
            call_command("flush", interactive=False, verbosity=0)
            connections.close_all()


def _extra_pages(user, reset_link: str) -> dict[str, str]:
    """Pages a walk by links may miss: a case in each state the user sees, a child's form
    (the first member page walked may have no child), a reset link gone stale."""
    pages = {}
    seen = Case.objects.visible_to(user).order_by("status", "-pk")
    for pk, status in seen.values_list("pk", "status"):
        pages.setdefault(f"case {status}", reverse("cases:detail", args=[pk]))
    editable = Member.objects.visible_to(user, Capability.EDIT_MEMBERS)
    child = Dependant.objects.filter(member__in=editable).first()
    if child:
        pages["members:dependant_edit"] = reverse("members:dependant_edit", args=[child.pk])
    pages["password_reset_confirm"] = reset_link
    # A step's page for the first object the user may take that step on (the walk opens one
    # case, loan and batch of each kind, which may offer none).
    for case in Case.objects.visible_to(user).filter(status__in=["draft", "returned"]):
        if "edit" in case_rules.allowed_actions(user, case):
            pages["cases:edit"] = reverse("cases:edit", args=[case.pk])
            break
    for loan in Loan.objects.visible_to(user).order_by("pk"):
        for action in loan_rules.allowed_actions(user, loan):
            pages.setdefault(f"loans:{action}", reverse(f"loans:{action}", args=[loan.pk]))
    for fund in Fund.objects.visible_to(user).filter(kind=FundKind.LOAN):
        if holds_at(user, Capability.PAY, fund.unit_id):
            pages["loans:product_create"] = reverse("loans:product_create", args=[fund.pk])
            break
    for campaign in Campaign.objects.visible_to(user).select_related("fund__unit"):
        if may_record(user, campaign):
            pages["campaigns:contribute"] = reverse("campaigns:contribute", args=[campaign.pk])
            break
    for case in Case.objects.visible_to(user).filter(support_type="shelter").select_related("unit"):
        if may_keep_shelter(user, case):
            pages["shelters:edit"] = reverse("shelters:edit", args=[case.pk])
            break
    # A batch's imported list waiting for confirmation: its page is reached from the upload.
    batch_jobs = schema_for(ImportJob.Kind.BATCH).visible_jobs(user)
    job = batch_jobs.filter(kind=ImportJob.Kind.BATCH).first()
    if job is not None:
        pages["batch_imports:detail"] = reverse("batch_imports:detail", args=[job.pk])
    for batch in Batch.objects.visible_to(user).filter(status__in=["draft", "returned"]):
        if "edit" in case_rules.allowed_actions(user, batch):
            pages["programs:batch_people"] = reverse("programs:batch_people", args=[batch.pk])
            break
    # The tree's own forms for a unit that may be moved (the province, walked first, may not).
    unit = (
        Unit.objects.visible_to(user, Capability.MANAGE_TREE)
        .filter(kind=UnitKind.GRASSROOTS)
        .active()
        .first()
    )
    if unit:
        for name in ("units:move", "units:merge", "units:dissolve"):
            pages[name] = reverse(name, args=[unit.pk])
    return pages


def _waiting_import(kind: str, unit: Unit, by) -> ImportJob:
    """A checked import waiting for its uploader's confirmation, with one refused row."""
    job = ImportJob(
        kind=kind,
        unit=unit,
        created_by=by,
        token=secrets.token_hex(16),
        original_name="danh-sach-doan-vien-cong-ty-cap-thoat-nuoc-lang-son-2026.xlsx",
        status=ImportJob.Status.PREVIEWED,
        rows=2,
        to_create=1,
        refused=1,
        previewed_at=timezone.now(),
        refused_sample=[{"line": 3, "summary": "Hoàng Văn Nam", "errors": [["Ngày sinh", "?"]]}],
    )
    job.plan.save(f"{job.token}-plan.json", ContentFile(json.dumps({"create": [], "update": []})))
    job.refused_file.save(f"{job.token}-loi.xlsx", ContentFile(refused_workbook(["A"], [])))
    return job


@pytest.fixture(scope="module")
def phone_browser():
    from ..conftest import chromium_path

    path = chromium_path()
    if not path:
        pytest.skip("needs Debian's chromium")  # the marker check fails this under CI
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(demo, phone_browser):
    context = phone_browser.new_context(viewport=PHONE, locale="vi-VN", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = watch_csp(page)
    yield page
    context.close()
    # every page of every role walked, and none broke the Content-Security-Policy
    assert not violations, violations


class Walk:
    """The pages one person visits and what did not fit on them."""

    def __init__(self, page, base_url: str, label: str):
        self.page, self.base_url, self.label = page, base_url, label
        self.visited: dict[str, str] = {}  # URL name or case state -> the path opened
        self.problems: list[str] = []
        self.shots = os.environ.get("PHONE_SCREENSHOTS")

    def open(self, key: str, path: str) -> None:
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        self.visited[key] = path
        if response is None or response.status != 200:
            self.problems.append(f"{path}: answered {response and response.status}")
            return
        measured = self.page.evaluate(MEASURE)
        if measured["scrollWidth"] > measured["innerWidth"] or measured["sticking"]:
            self.problems.append(
                f"{path} ({key}): document {measured['scrollWidth']} px wide in a "
                f"{measured['innerWidth']} px window; sticking out: {measured['sticking']}"
            )
        if self.shots:
            name = re.sub(r"[^a-z0-9]+", "-", f"{self.label} {key}".lower()).strip("-")
            Path(self.shots).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=f"{self.shots}/{name}.png", full_page=True)

    def links(self) -> list[str]:
        hrefs = self.page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(link => link.getAttribute('href'))"
        )
        return [path for href in hrefs if (path := portal_link(href, self.base_url))]

    def crawl(self, start: str) -> None:
        """Every page reachable by links from ``start``, one per URL name."""
        queue = [start]
        queued = {url_name(urlsplit(start).path)}
        while queue:
            path = queue.pop(0)
            self.open(url_name(urlsplit(path).path) or path, path)
            for link in self.links():
                name = url_name(urlsplit(link).path)
                if name and name not in queued and name not in NOT_PAGES:
                    queued.add(name)
                    queue.append(link)


def _log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit].w-100")
    page.wait_for_url(f"{base_url}/")


def _pages_the_matrix_opens(role: str) -> set[str]:
    return {
        name
        for name, entry in MATRIX.items()
        if entry.method == "get" and entry.inside.get(role) == 200 and name not in NOT_PAGES
    }


@pytest.mark.parametrize("username", DEMO_ROLES)
def test_every_page_of_the_role_fits_a_phone(phone, demo, username):
    base_url = demo["url"]
    # Without the stylesheets every page would be measured unstyled.
    assert phone.request.get(f"{base_url}/static/vendor/bootstrap/css/bootstrap.min.css").ok, (
        "Bootstrap is not installed: npm ci"
    )
    _log_in(phone, base_url, username)
    walk = Walk(phone, base_url, username)
    walk.crawl("/")
    for key, path in demo["extra"][username].items():
        walk.open(key, path)
    # Pages no link leads to (the one after a changed password), opened by their address.
    for name in sorted(_pages_the_matrix_opens(DEMO_ROLES[username]) - walk.visited.keys()):
        try:
            walk.open(name, reverse(name))
        except NoReverseMatch:  # a page of an object no link led to: reported below
            continue
    # The loan steps and products of a union the demo gives no loan fund, or no loan at that
    # step: the access matrix opens them on its own data.
    # Likewise the contribution pages of a treasurer whose fund the demo gives no campaign.
    user = get_user_model().objects.get(username=username)
    records = any(may_record(user, c) for c in Campaign.objects.visible_to(user))
    missed = {
        name
        for name in _pages_the_matrix_opens(DEMO_ROLES[username]) - walk.visited.keys()
        if not name.startswith("loans:") or name in ("loans:list", "loans:detail")
        if records or name not in ("campaigns:contribute", "contribution_imports:detail")
    }
    if missed:
        walk.problems.append(f"{username} reached no page for {sorted(missed)}")
    assert sum(key.startswith("case ") for key in walk.visited) >= 2, sorted(walk.visited)
    assert not walk.problems, "\n".join(walk.problems)


def test_the_pages_before_logging_in_fit_a_phone(phone, demo):
    walk = Walk(phone, demo["url"], "anonymous")
    for name in ANONYMOUS_PAGES:
        walk.open(name, reverse(name))
    walk.open("password_reset_confirm", demo["reset_link"])
    assert not walk.problems, "\n".join(walk.problems)


def test_what_is_not_a_page_names_get_url_patterns():
    """NOT_PAGES stays a list of real GET answers, so nothing is left out by a stale name."""
    get_names = {name for name, entry in MATRIX.items() if entry.method == "get"}
    assert not NOT_PAGES - get_names, sorted(NOT_PAGES - get_names)


@pytest.mark.parametrize(
    ("path", "results", "status"),
    [
        ("/members/?status=active&sex=female&sort=name", "#member-table tbody tr", "active"),
        ("/cases/?status=paid&year=2025", "#case-table tbody tr", "paid"),
    ],
)
def test_filters_fold_behind_one_button_and_results_start_on_the_first_screen(
    phone, demo, path, results, status
):
    field = "#id_status"
    _log_in(phone, demo["url"], "commune")
    phone.goto(demo["url"] + path)
    toggle = phone.locator(".filter-toggle")
    assert "Bộ lọc" in toggle.inner_text()
    assert toggle.locator(".filter-count").inner_text() == "2"  # the order is no filter
    assert not phone.locator(field).is_visible()
    first = phone.locator(results).first.bounding_box()
    assert first and first["y"] + 40 < PHONE["height"], first
    toggle.click()
    phone.locator(field).wait_for(state="visible")
    assert phone.locator(field).input_value() == status
    # At a desktop's width the filters are always there and the button is not.
    phone.set_viewport_size({"width": 1280, "height": 900})
    phone.reload()
    assert phone.locator(field).is_visible()
    assert not toggle.is_visible()


@pytest.mark.parametrize("width", [1200, 1280])
def test_the_menu_of_every_subject_fits_a_desktop_on_one_line(demo, phone_browser, width):
    """The administrator's menu is the longest (every subject and the accounts): from 1200 px,
    where it stops folding, it stays on one line and pushes nothing sideways."""
    context = phone_browser.new_context(viewport={"width": width, "height": 800}, locale="vi-VN")
    page = context.new_page()
    try:
        _log_in(page, demo["url"], "admin")
        measured = page.evaluate(MEASURE)
        assert measured["scrollWidth"] <= width and not measured["sticking"], measured
        heights = page.eval_on_selector_all(
            ".portal-nav .navbar-nav .nav-link", "links => links.map(l => l.offsetTop)"
        )
        assert len(heights) >= 9 and len(set(heights)) == 1, heights
    finally:
        context.close()
