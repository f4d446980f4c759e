"""Sessions that end after SESSION_COOKIE_AGE seconds without a request.

Django moves a session's expiry forward only when the session is saved. Saving it on every
request (SESSION_SAVE_EVERY_REQUEST) costs a database write per page; here the session is marked
changed only when its last refresh is older than SESSION_REFRESH_SECONDS, so an active user
costs one write a minute and the idle limit holds to within that minute. The login, which saves
the session anyway, counts as a refresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

REFRESHED_KEY = "_refreshed"


@receiver(user_logged_in)
def refreshed_at_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[REFRESHED_KEY] = int(time.time())


class SlidingSessionMiddleware:
    """After SessionMiddleware: moves a signed-in session's expiry forward, once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        # Only a signed-in session: an expired or anonymous one is not brought back to life.
        if session is not None and session.session_key and AUTH_SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(REFRESHED_KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[REFRESHED_KEY] = now
        return self.get_response(request)
