"""The portal's own deploy checks (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def second_factor_on(app_configs, **kwargs):
    """The second factor may be off for a demo or the tests, never in production."""
    if settings.PORTAL_SECOND_FACTOR or settings.DEBUG:
        return []
    return [
        Warning(
            "PORTAL_SECOND_FACTOR is off: accounts that approve, pay, manage users or the tree, "
            "or read case files beyond one grassroots union sign in with a password alone.",
            hint="Unset PORTAL_SECOND_FACTOR (it is on by default) outside a demo.",
            id="portal.W001",
        )
    ]
