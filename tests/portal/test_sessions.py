"""Sessions: they end after SESSION_COOKIE_AGE without a request (the expiry slides forward at
most once a minute), at logout on the server, and with a password change everywhere but
where the owner changed it themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from common.sessions import REFRESHED_KEY
from tests.factories import PASSWORD
from unions.accounts import set_temporary_password

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Hoa-ban-nở-2026"


def _signed_in(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def _is_signed_in(client: Client) -> bool:
    response = client.get(reverse("home"))
    return response.status_code == 200


def test_idle_limit_is_thirty_minutes_by_default(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert not settings.SESSION_SAVE_EVERY_REQUEST


def test_a_session_idle_past_the_limit_has_ended(world):
    client = _signed_in("grassroots")
    row = _row(client)
    assert row.expire_date - timezone.now() <= timedelta(minutes=30)
    assert row.expire_date - timezone.now() > timedelta(minutes=29)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_activity_moves_the_expiry_forward_at_most_once_a_minute(world):
    client = _signed_in("grassroots")
    first = _row(client).expire_date
    # The pages that follow within the minute write nothing: the login counted as a refresh.
    assert _is_signed_in(client)
    assert _is_signed_in(client)
    assert _row(client).expire_date == first
    # As if the last refresh were two minutes ago and the expiry near.
    store = client.session
    store[REFRESHED_KEY] -= 120
    store.save()
    near = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(session_key=store.session_key).update(expire_date=near)
    assert _is_signed_in(client)
    assert _row(client).expire_date > near + timedelta(minutes=20)


def test_an_anonymous_visit_stores_no_session(world):
    client = Client()
    client.get(reverse("login"))
    assert not Session.objects.exists()


def test_logout_ends_the_session_on_the_server(world):
    client = _signed_in("grassroots")
    key = client.session.session_key
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie, replayed, opens nothing.
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert not _is_signed_in(replay)


def test_changing_ones_own_password_ends_the_other_sessions_only(world):
    here = _signed_in("grassroots")
    elsewhere = _signed_in("grassroots")
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    assert _is_signed_in(here)
    old_key = elsewhere.session.session_key
    assert not _is_signed_in(elsewhere)
    assert not Session.objects.filter(session_key=old_key).exists()


def test_a_reset_by_email_ends_every_session(world):
    user = world.users["grassroots"]
    sessions = [_signed_in("grassroots"), _signed_in("grassroots")]
    user.refresh_from_db()  # the token covers the last login
    anonymous = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = anonymous.get(reverse("password_reset_confirm", args=[uid, token]))
    response = anonymous.post(
        link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")
    for client in sessions:
        assert not _is_signed_in(client)


def test_a_temporary_password_ends_every_session_of_the_account(world, client_for):
    sessions = [_signed_in("grassroots"), _signed_in("grassroots")]
    admin = client_for("admin")
    response = admin.post(
        reverse("accounts:user_password", args=[world.users["grassroots"].pk]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    for client in sessions:
        assert not _is_signed_in(client)
    # The administrator's own session goes on.
    assert _is_signed_in(admin)


def test_the_temporary_password_service_alone_ends_the_sessions(world):
    client = _signed_in("commune")
    set_temporary_password(
        user=world.users["commune"], password=NEW_PASSWORD, by=world.users["admin"]
    )
    assert not _is_signed_in(client)
