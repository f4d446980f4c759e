"""The address a request came from, for the login lockout (django-axes).

Without a reverse proxy it is REMOTE_ADDR. Behind ``TRUSTED_PROXIES`` proxies, each of which
appends the address it received the request from to X-Forwarded-For, it is the entry the
outermost trusted proxy wrote: the n-th from the right. Entries further left were written by
the client and are not believed, so a client cannot choose its own address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [item.strip() for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [item for item in forwarded if item]
    if not forwarded:
        return remote
    # Fewer entries than proxies: the request skipped one of them; the leftmost entry is
    # still the farthest address any trusted proxy saw.
    return forwarded[-min(proxies, len(forwarded))]
