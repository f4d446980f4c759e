"""Sending a user whose password was set by someone else to the change-password page.

Whether the account must change its password is read once, at login, and kept in the session,
so the pages pay no query for it; the change-password view forgets it when the owner has
chosen a password (``forget_password_change``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect

from . import accounts

SESSION_KEY = "must_change_password"

# The pages a flagged user may still open: the change page itself and what it needs.
ALLOWED_VIEWS = {"password_change", "password_change_done", "logout", "set_language"}


@receiver(user_logged_in)
def remember_password_change(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        if accounts.must_change_password(user):
            request.session[SESSION_KEY] = True
        else:
            request.session.pop(SESSION_KEY, None)


def forget_password_change(request) -> None:
    request.session.pop(SESSION_KEY, None)


class PasswordChangeRequiredMiddleware:
    """After AuthenticationMiddleware: a flagged, signed-in user gets the change-password page
    for every other page until the password is changed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.session.get(SESSION_KEY) or not request.user.is_authenticated:
            return None
        if request.path_info.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_VIEWS:
            return None
        return redirect("password_change")
