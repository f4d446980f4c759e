"""Repeated failed logins: one username from one address is locked for a while (django-axes),
in Vietnamese, without locking anyone else, until the cool-off ends or an administrator
unlocks it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from portal.clientip import client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def _log_in(client, username, password, ip="203.0.113.5", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def _fail(client, username, times, ip="203.0.113.5"):
    for _ in range(times):
        response = _log_in(client, username, "wrong-password", ip)
        assert response.status_code in (200, 429)
    return response


def test_locked_after_the_limit_with_a_vietnamese_page(client, world):
    # Below the limit: the login form, saying the password is wrong.
    response = _fail(client, "grassroots", LIMIT - 1)
    assert response.status_code == 200
    assert "form" in response.content.decode()
    response = _log_in(client, "grassroots", "wrong-password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Tạm khóa đăng nhập" in page
    assert f"sai {LIMIT} lần liên tiếp" in page
    assert "quản trị viên" in page
    # The portal's layout, not a bare text answer.
    assert "navbar-brand" in page
    # Now even the right password is refused, and nobody is signed in.
    assert _log_in(client, "grassroots", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_other_accounts_and_other_addresses_are_not_locked(client, world):
    _fail(client, "grassroots", LIMIT)
    assert _log_in(client, "grassroots", PASSWORD).status_code == 429
    # Another account from the same address.
    assert _log_in(client, "commune", PASSWORD).status_code == 302
    client.logout()
    # The same account from another address.
    assert _log_in(client, "grassroots", PASSWORD, ip="198.51.100.20").status_code == 302


def test_a_forged_forwarded_header_does_not_escape_the_lock(client, world, settings):
    settings.TRUSTED_PROXIES = 0
    _fail(client, "grassroots", LIMIT)
    response = _log_in(client, "grassroots", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(world, settings):
    factory = RequestFactory()
    settings.TRUSTED_PROXIES = 1
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_ip(request) == "203.0.113.5"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    settings.TRUSTED_PROXIES = 2
    request = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5, 10.0.0.9"
    )
    assert client_ip(request) == "203.0.113.5"
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"


def test_clients_behind_one_proxy_lock_only_themselves(client, world, settings):
    settings.TRUSTED_PROXIES = 1
    for _ in range(LIMIT):
        _log_in(client, "grassroots", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = _log_in(
        client, "grassroots", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert locked.status_code == 429
    other = _log_in(
        client, "grassroots", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20"
    )
    assert other.status_code == 302


def test_a_successful_login_resets_the_count(client, world):
    _fail(client, "grassroots", LIMIT - 1)
    assert _log_in(client, "grassroots", PASSWORD).status_code == 302
    client.logout()
    response = _fail(client, "grassroots", LIMIT - 1)
    assert response.status_code == 200
    assert _log_in(client, "grassroots", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, world, settings):
    _fail(client, "grassroots", LIMIT)
    # As if the cool-off had passed since the last failure.
    attempt = AccessAttempt.objects.get(username="grassroots")
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=attempt.attempt_time - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    )
    assert _log_in(client, "grassroots", PASSWORD).status_code == 302


def test_an_administrator_unlocks_an_account_in_scope(client, client_for, world):
    _fail(client, "grassroots", LIMIT)
    account = world.users["grassroots"]
    admin = client_for("admin")
    page = admin.get(reverse("accounts:user", args=[account.pk])).content.decode()
    assert "Mở khóa" in page and reverse("accounts:user_unlock", args=[account.pk]) in page
    response = admin.post(reverse("accounts:user_unlock", args=[account.pk]), follow=True)
    assert "grassroots có thể đăng nhập lại." in response.content.decode()
    assert not AccessAttempt.objects.filter(username="grassroots").exists()
    page = admin.get(reverse("accounts:user", args=[account.pk])).content.decode()
    assert reverse("accounts:user_unlock", args=[account.pk]) not in page
    admin.logout()
    assert _log_in(client, "grassroots", PASSWORD).status_code == 302


def test_an_unlock_outside_scope_is_not_found_and_unlocks_nothing(client, client_for, world):
    _fail(client, "grassroots", LIMIT)
    account = world.users["grassroots"]
    outsider = client_for("outsider")
    response = outsider.post(reverse("accounts:user_unlock", args=[account.pk]))
    assert response.status_code == 404
    assert AccessAttempt.objects.filter(username="grassroots").exists()
    # Another role in scope may not unlock either.
    response = client_for("commune").post(reverse("accounts:user_unlock", args=[account.pk]))
    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username="grassroots").exists()


def test_a_superuser_sees_and_clears_lockouts_in_django_admin(client, world):
    _fail(client, "grassroots", LIMIT)
    root = get_user_model().objects.create_superuser("root", "root@example.vn", "x-pass-123")
    client.force_login(root)
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    assert "grassroots" in changelist.content.decode()
    attempt = AccessAttempt.objects.get(username="grassroots")
    response = client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()


def test_the_django_admin_login_is_locked_too(client, world):
    for _ in range(LIMIT):
        client.post(
            reverse("admin:login"),
            {"username": "grassroots", "password": "wrong"},
            REMOTE_ADDR="203.0.113.5",
        )
    assert _log_in(client, "grassroots", PASSWORD).status_code == 429
