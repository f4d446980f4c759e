"""Sending a user whose password was set by someone else to the change-password page, and one
whose second factor is not proved yet to the code page.

Whether the account must change its password is read once, at login, and kept in the session,
so the pages pay no query for it; the change-password view forgets it when the owner has
chosen a password (``forget_password_change``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import accounts
from .second_factor import is_verified, needs_second_factor

SESSION_KEY = "must_change_password"

# The pages a flagged user may still open: the change page itself and what it needs.
ALLOWED_VIEWS = {"password_change", "password_change_done", "logout", "set_language"}
# The pages of an account whose second factor is not proved yet: proving it, setting it up.
SECOND_FACTOR_VIEWS = {
    "second_factor:verify",
    "second_factor:setup",
    "logout",
    "set_language",
}


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
        if _is_static(request):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_VIEWS | SECOND_FACTOR_VIEWS:
            return None
        return redirect("password_change")


def _is_static(request) -> bool:
    return request.path_info.startswith(f"/{settings.STATIC_URL.lstrip('/')}")


class SecondFactorRequiredMiddleware:
    """After django-otp's OTPMiddleware: with PORTAL_SECOND_FACTOR on, a signed-in account
    that needs a second factor (``needs_second_factor``) and whose session has not proved it
    gets the code page (or the set-up page) for every other page, Django's admin included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.PORTAL_SECOND_FACTOR or _is_static(request):
            return None
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_VIEWS:
            return None
        if not needs_second_factor(user):
            return None
        # Where the account was going, to go on there once the code is accepted.
        target = request.get_full_path() if request.method == "GET" else "/"
        return redirect(f"{reverse('second_factor:verify')}?{urlencode({'next': target})}")
