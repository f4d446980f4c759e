"""The database drops the portal's connections (a restart, a failover, ``pg_terminate_backend``):
gunicorn's workers keep theirs open between requests (``DB_CONN_MAX_AGE``), so the next
request finds a dead one.  With ``CONN_HEALTH_CHECKS`` Django sees it is dead before using it
and opens another: no request fails and the portal is not restarted."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
REQUESTS = 24  # a round: every worker serves several


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, url: str, cookie: str) -> int:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        client.request("GET", url, headers={"Cookie": cookie})
        response = client.getresponse()
        response.read()
        return response.status
    finally:
        client.close()


def a_round(port: int, cookie: str) -> list[int]:
    """Requests from four clients at once, half of them a page of the portal, half the health
    check (which answers 503 when it cannot reach the database)."""
    urls = ["/members/", "/healthz"] * (REQUESTS // 2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda url: get(port, url, cookie), urls))


def portal_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def terminate_portal_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sum(1 for (ended,) in cursor.fetchall() if ended)


def session_for(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    assert store.session_key
    return store.session_key


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        DB_CONN_MAX_AGE="600",  # kept for the whole test: the dropped ones are the kept ones
        SECRET_KEY=settings.SECRET_KEY,  # the session's hash depends on it
        DEBUG="1",
        ALLOWED_HOSTS="127.0.0.1",
        PORTAL_SECOND_FACTOR="0",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _attempt in range(120):
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if get(port, "/healthz", "") == 200:
                    break
            except OSError:
                time.sleep(0.5)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_after_the_database_dropped_the_portals_connections_succeed(world, server):
    port, process = server
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_for(world.users['province'])}"

    assert set(a_round(port, cookie)) == {200}
    for _drop in range(3):
        kept = portal_backends()
        assert kept, "the workers keep no connection open"
        assert terminate_portal_backends() == len(kept)
        statuses = a_round(port, cookie)
        assert statuses == [200] * REQUESTS, statuses
        # Served on new connections, by the same server.
        assert portal_backends().isdisjoint(kept)
    assert process.poll() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connections_dropped_while_requests_run_fail_at_most_those_requests(world, server):
    """Dropped in the middle of a round: a request whose query was running may fail (it is not
    replayed: it may have been a write), but the portal answers again at once, unrestarted."""
    port, process = server
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_for(world.users['province'])}"
    assert set(a_round(port, cookie)) == {200}
    answered = threading.Semaphore(0)

    def counted(url: str) -> int:
        try:
            return get(port, url, cookie)
        finally:
            answered.release()

    urls = ["/members/", "/healthz"] * (REQUESTS // 2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        during = pool.map(counted, urls)
        for _ in range(4):  # a few answered, others still running or waiting
            answered.acquire()
        terminate_portal_backends()
        statuses = list(during)
    assert set(statuses) <= {200, 500, 503}
    assert statuses.count(200) >= REQUESTS - WORKERS  # at most one running query per worker
    assert a_round(port, cookie) == [200] * REQUESTS
    assert process.poll() is None
