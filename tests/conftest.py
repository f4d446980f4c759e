"""Shared fixtures: a small province with two commune unions, and the six demo roles.

Province P ── commune A ── grassroots A1 (member "Nguyễn Văn An"), A2
           └─ commune B ── grassroots B1 (member "Đặng Thị Bình")
Province Q ── grassroots Q1 (member "Lê Văn Cường")   <- outside every role's scope
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation

from common.logs import NATIONAL_ID
from members.models import Member
from unions.models import Role, Unit, UnitKind

from .factories import ROLES, DependantFactory, MemberFactory, make_unit, make_user

# The suite runs in the portal's time zone: a test's ``datetime.date.today()`` is the portal's
# ``timezone.localdate()`` (from 17:00 UTC the two differ by a day in Vietnam), and so is the
# date of the servers and workers the suite starts, which inherit it.
os.environ["TZ"] = django_settings.TIME_ZONE
time.tzset()

REQUIRE_FULL_SUITE = os.environ.get("REQUIRE_FULL_SUITE") == "1"


def _unavailable(item, reason: str) -> None:
    """Skip a test whose environment is missing, or fail it where CI requires it to run."""
    if REQUIRE_FULL_SUITE:
        pytest.fail(f"required test could not run: {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


class _PersonalNumbersInLogs(logging.Handler):
    """Every log record of the whole suite, as a handler would write it, that still holds a
    12-digit number (a national ID): none may (common/logs.py hides them)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        if NATIONAL_ID.search(text) and len(self.found) < 20:
            self.found.append(text[:500])


LOG_WATCH = _PersonalNumbersInLogs()


def pytest_sessionstart(session):
    logging.getLogger().addHandler(LOG_WATCH)


def pytest_sessionfinish(session, exitstatus):
    logging.getLogger().removeHandler(LOG_WATCH)
    if LOG_WATCH.found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if LOG_WATCH.found:
        terminalreporter.section("national ID numbers in the log output", red=True)
        for text in LOG_WATCH.found:
            terminalreporter.line(text)


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable(item, "needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("celery") and not os.environ.get("REDIS_URL"):
        _unavailable(item, "needs Redis for a real Celery worker: set REDIS_URL=redis://...")
    if item.get_closest_marker("browser") and not chromium_path():
        _unavailable(item, "needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # force_login proves no second factor: the tests of tests/unions/test_second_factor.py
    # and the browser login with a code switch it on and prove its enforcement.
    settings.PORTAL_SECOND_FACTOR = False
    # Uploaded evidence and built reports go to a folder of the test's own.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request read in English leaves English
    active in the thread (the locale middleware does not undo it), and amounts follow it."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@dataclass
class World:
    province: Unit
    commune_a: Unit
    commune_b: Unit
    a1: Unit
    a2: Unit
    b1: Unit
    other_province: Unit
    q1: Unit
    member_a1: Member
    member_b1: Member
    member_q1: Member
    users: dict


@pytest.fixture
def world(db) -> World:
    province = make_unit("LĐLĐ tỉnh P", UnitKind.PROVINCE, code="P")
    commune_a = make_unit("Công đoàn phường A", UnitKind.COMMUNE, province, code="P-A")
    commune_b = make_unit("Công đoàn xã B", UnitKind.COMMUNE, province, code="P-B")
    a1 = make_unit("CĐCS Công ty A1", parent=commune_a, code="P-A-1")
    a2 = make_unit("CĐCS Trường A2", parent=commune_a, code="P-A-2")
    b1 = make_unit("CĐCS Bệnh viện B1", parent=commune_b, code="P-B-1")
    other = make_unit("LĐLĐ tỉnh Q", UnitKind.PROVINCE, code="Q")
    q1 = make_unit("CĐCS Công ty Q1", parent=other, code="Q-1")
    member_a1 = MemberFactory(full_name="Nguyễn Văn An", unit=a1, union_card_number="C001")
    DependantFactory(member=member_a1)
    member_b1 = MemberFactory(
        full_name="Đặng Thị Bình", sex="female", unit=b1, union_card_number="C002"
    )
    DependantFactory(member=member_b1, full_name="Đặng Minh Châu")
    member_q1 = MemberFactory(full_name="Lê Văn Cường", unit=q1)
    DependantFactory(member=member_q1, full_name="Lê Thu Hà")
    at = {
        "admin": province,
        "province": province,
        "commune": commune_a,
        "grassroots": a1,
        "treasurer": province,
        "leader": province,
    }
    users = {name: make_user(name, ROLES[name], at[name]) for name in ROLES}
    users["outsider"] = make_user("outsider", ROLES["admin"], other)
    # Second hands for the money path: nobody decides on a case they created.
    users["a1_chair"] = make_user("a1_chair", Role.OFFICER, a1)
    users["commune_treasurer"] = make_user("commune_treasurer", Role.TREASURER, commune_a)
    users["q_officer"] = make_user("q_officer", Role.OFFICER, q1)
    users["q_treasurer"] = make_user("q_treasurer", Role.TREASURER, other)
    return World(
        *(province, commune_a, commune_b, a1, a2, b1, other, q1),
        *(member_a1, member_b1, member_q1, users),
    )


@pytest.fixture
def client_for(client, world):
    """A test client logged in as one of the demo roles."""

    def login(role: str):
        client.force_login(world.users[role])
        return client

    return login


@pytest.fixture
def eager_celery():
    """Celery tasks run in the test's own process as they are queued (with
    ``django_capture_on_commit_callbacks(execute=True)`` for the ones queued on commit)."""
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before
