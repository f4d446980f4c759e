"""Access-matrix entries for the second-factor pages.  The matrix signs in with
``force_login`` and the factor off (tests/conftest.py), with no authenticator set up:
tests/unions/test_second_factor.py switches it on and walks the flow itself."""

from __future__ import annotations

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..access import ALL_OK, REFUSED_FIRST, ROLES, Effect, Entry, told


def _tokens_of_signed_in(obj, client) -> dict:
    user_id = client.session.get("_auth_user_id")
    return {"recovery_codes": StaticToken.objects.filter(device__user_id=user_id).count()}


def enrolled_user_args(world, role, inside):
    """The grassroots officer of A1 (outside: an administrator of province Q), with an
    authenticator app and recovery codes."""
    user = world.users["grassroots" if inside else "outsider"]
    TOTPDevice.objects.get_or_create(user=user, defaults={"name": "app", "confirmed": True})
    device, _created = StaticDevice.objects.get_or_create(user=user, name="codes")
    StaticToken.objects.get_or_create(device=device, token="abcd2345")
    return [user]


def _devices(user, client) -> dict:
    return {
        "apps": TOTPDevice.objects.filter(user=user).count(),
        "recovery": StaticDevice.objects.filter(user=user).count(),
    }


ENTRIES: dict[str, Entry] = {
    # Without an app: on to the set-up page; an account that needs no factor goes on.
    "second_factor:verify": Entry(inside=dict.fromkeys(ROLES, 302)),
    # Only an account that needs the factor sets one up: every role here approves, pays,
    # manages or reads beyond one grassroots union (tests/unions/test_second_factor.py has
    # the grassroots leader who is refused).
    "second_factor:setup": Entry(inside=ALL_OK),
    # Shown once, right after they are made: otherwise on to the account's own page.
    "second_factor:recovery_codes": Entry(inside=dict.fromkeys(ROLES, 302)),
    "second_factor:account": Entry(inside=ALL_OK),
    # Nobody here has an app yet: refused, with the reason.
    "second_factor:renew_codes": Entry(
        inside=dict.fromkeys(ROLES, 302),
        method="post",
        data=lambda world, obj: {"code": "123456"},
        effect=Effect(
            _tokens_of_signed_in,
            refusal=dict.fromkeys(ROLES, told("Set up the authenticator app first.")),
        ),
    ),
    # An administrator of the account removes its app and recovery codes (a lost phone).
    "accounts:user_second_factor_reset": Entry(
        inside={role: (302 if role == "admin" else 403) for role in ROLES},
        args=enrolled_user_args,
        method="post",
        outside=REFUSED_FIRST,
        effect=Effect(_devices, done={"admin": {"apps": 0, "recovery": 0}}),
    ),
}
