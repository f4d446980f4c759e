"""The request a view behind the login gate receives."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """An ``HttpRequest`` whose ``user`` is signed in, as every view that is not marked
    ``login_not_required`` receives it (``LoginRequiredMiddleware``).  A type only: what a
    write service's ``by`` is given."""

    user: User
