"""The demo logins' second factor: one authenticator secret, written in the README, for every
demo login that needs one, so the demo signs in as production does (password, then code)."""

from __future__ import annotations

import base64
import time

from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from unions.second_factor import needs_second_factor

from .demo_members import DEMO_EMAIL_DOMAIN

# Public on purpose (README): a demo secret, never a real account's.
DEMO_TOTP_SECRET = "TUONGTHANDEMOTOTPTUONGTHANDEMO23"
DEMO_TOTP_KEY = base64.b32decode(DEMO_TOTP_SECRET).hex()


def demo_logins():
    return (
        get_user_model()
        .objects.filter(is_active=True, email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
        .order_by("username")
    )


def ensure_demo_second_factor(stdout=None) -> list[str]:
    """Every demo login that needs a second factor has the demo authenticator (one that was
    reset in the demo gets it back); returns their usernames."""
    given = []
    for user in demo_logins():
        if not needs_second_factor(user):
            continue
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="Demo", key=DEMO_TOTP_KEY, confirmed=True)
        given.append(user.username)
    if stdout is not None:
        stdout.write(
            f"Second factor of the {len(given)} demo logins that approve, pay, manage or read "
            f"beyond one grassroots union: the TOTP secret {DEMO_TOTP_SECRET} (add it to an "
            "authenticator app, or run `python manage.py demo_totp` for the current code).\n"
        )
    return given


def current_demo_code(at: float | None = None) -> str:
    """The code an authenticator app with the demo secret shows now (six digits, 30 s)."""
    clock = TOTP(bytes.fromhex(DEMO_TOTP_KEY), step=30, t0=0, digits=6)
    clock.time = time.time() if at is None else at
    return f"{clock.token():06d}"
