"""Production settings: `check --deploy` is clean with DEBUG off, the security headers are
sent, and errors answer with the portal's Vietnamese pages, never a stack trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "HSTS_", "SESSION_", "PORTAL_"))
        and key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "BEHIND_PROXY"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "congdoan.example.vn",
}


def test_deploy_check_is_clean_with_debug_off():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_deploy_check_notices_what_production_turned_off():
    """The check is a real guard: with HSTS and the HTTPS redirect switched off it fails."""
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        HSTS_SECONDS="0",
        SECURE_SSL_REDIRECT="false",
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


def test_debug_off_requires_a_secret_key():
    result = _manage("check", DEBUG="0", ALLOWED_HOSTS="congdoan.example.vn")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_values_of_the_settings():
    """What settings.py gives with DEBUG off, read in a fresh process."""
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.CSRF_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY, s.SECURE_CROSS_ORIGIN_OPENER_POLICY,"
        " s.SECURE_PROXY_SSL_HEADER)"
    )
    result = _manage("shell", "-c", code, **PRODUCTION, BEHIND_PROXY="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == (
        "True True True True True 31536000 DENY same-origin same-origin "
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_no_script_reads_the_csrf_cookie():
    """CSRF_COOKIE_HTTPONLY holds only while no script needs the cookie."""
    for script in (ROOT / "static" / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8").lower()
        assert "cookie" not in text and "csrftoken" not in text, script.name


@pytest.mark.django_db
def test_security_headers_are_sent(client, world):
    response = client.get(reverse("login"))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_https_redirect_spares_the_health_check(settings, world):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get(reverse("login")).status_code == 301
    assert client.get(reverse("healthz")).status_code == 200
    # Behind the proxy, a request that came in over HTTPS is served.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https").status_code == 200


@pytest.fixture
def faulty(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.portal.urls_faults"
    client = Client(raise_request_exception=False)
    return client


@pytest.mark.django_db
def test_500_is_the_portals_page_without_a_trace(faulty, world):
    faulty.force_login(world.users["grassroots"])
    response = faulty.get("/test-faults/500/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Đã có lỗi xảy ra" in page
    assert "navbar-brand" in page and "bootstrap.min.css" in page
    assert "secret detail" not in page and "Traceback" not in page
    assert "RuntimeError" not in page


@pytest.mark.django_db
def test_500_renders_without_a_request():
    from django.template import loader

    page = loader.get_template("500.html").render()
    assert "Đã có lỗi xảy ra" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/test-faults/400/", 400, "không hiểu được yêu cầu này"),
        ("/test-faults/403/", 403, "Vai trò của bạn không được phép"),
        ("/no-such-page/", 404, "Trang này không tồn tại"),
    ],
)
def test_error_pages_in_vietnamese_in_the_layout(faulty, world, path, status, text):
    faulty.force_login(world.users["grassroots"])
    response = faulty.get(path)
    assert response.status_code == status
    page = response.content.decode()
    assert text in page, page
    assert "navbar-brand" in page
    assert "secret detail" not in page


@pytest.mark.django_db
def test_a_bad_host_gets_the_400_page(settings, world):
    settings.DEBUG = False
    response = Client().get(reverse("login"), HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert "không hiểu được yêu cầu này" in response.content.decode()


@pytest.mark.django_db
def test_an_expired_form_gets_the_vietnamese_csrf_page(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "grassroots", "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Biểu mẫu này đã hết hạn" in page
    assert "navbar-brand" in page


def test_deploy_check_fails_with_the_second_factor_off():
    """Off is for a demo or the tests: in production `check --deploy` says so."""
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, PORTAL_SECOND_FACTOR="off"
    )
    assert result.returncode != 0
    assert "portal.W001" in result.stderr + result.stdout


def test_the_second_factor_is_on_unless_switched_off():
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.PORTAL_SECOND_FACTOR)"
    )
    assert result.stdout.strip().splitlines()[-1] == "True"
