"""The second factor: a TOTP code from an authenticator app, or a recovery code, after the
password, for the accounts whose rights reach beyond their own grassroots union or move money.

Built on django-otp: its TOTP device refuses a code of a time step it has already accepted
(``last_t``), so a code read over a shoulder or replayed is refused; its static device keeps
the recovery codes and deletes each one as it is used.  Both make every wrong code wait longer
before the next try (``OTP_*_THROTTLE_FACTOR``), and a right code lifts the wait.
``SecondFactorRequiredMiddleware`` (unions/middleware.py) keeps an account that needs the
factor on these pages until its session is verified.
"""

from __future__ import annotations

import base64

import django_otp
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .accounts import check_manages
from .models import SecondFactorEvent, UnitKind
from .scope import ROLE_CAPABILITIES, ActingUser, Capability, grants, require_actor

RECOVERY_CODE_COUNT = 10
# Rights that need the factor wherever they are held: paying, managing accounts or the tree,
# and deciding on cases (a grassroots union's officers approve from its own fund).
_GUARDED = {
    Capability.PAY,
    Capability.MANAGE_USERS,
    Capability.MANAGE_TREE,
    Capability.REVIEW_CASES,
}

Action = SecondFactorEvent.Action


def needs_second_factor(user: ActingUser) -> bool:
    """Whether the account must prove a second factor after its password.

    Yes for a superuser or staff account (the Django admin reaches everything); for a role
    that approves, pays, manages accounts or the tree, wherever it is held (a grassroots
    union's officers approve from its own fund); and for any role held above a grassroots
    union, since it reads the case files of the grassroots unions below.  A leader at a
    grassroots union is not asked: they read their own union's files and decide nothing.
    """
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return any(
        grant.unit_kind != UnitKind.GRASSROOTS
        or ROLE_CAPABILITIES.get(grant.role, frozenset()) & _GUARDED
        for grant in grants(user)
    )


def is_verified(user: ActingUser) -> bool:
    """Whether this request's session has proved the second factor (django-otp's
    OTPMiddleware gives ``request.user`` its ``is_verified``)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def authenticator(user: ActingUser) -> TOTPDevice | None:
    """The account's confirmed authenticator app, if it has one."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: ActingUser) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def pending_authenticator(user: ActingUser) -> TOTPDevice:
    """The authenticator being set up: the same secret until it is confirmed, so that reloading
    the page does not invalidate what the phone has already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it when it cannot scan: base32, in groups."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def clean_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _check_owner(user: ActingUser, by: ActingUser | None) -> None:
    """Only the owner sets up or renews their own factor (an administrator may only reset)."""
    if require_actor(by).pk != user.pk:
        raise PermissionDenied


def _wrong_code() -> ValidationError:
    return ValidationError(_("The code is wrong or has already been used."), code="wrong")


def _check_not_waiting(device: Device) -> None:
    """Refuse a try made before the wait that the last wrong code set is over."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise ValidationError(
            _("Too many wrong codes. Wait a moment, then enter a new code."), code="throttled"
        )


def _verify(user: User, device: Device, code: str) -> Device:
    _check_not_waiting(device)
    verified = django_otp.verify_token(user, device.persistent_id, code)
    if verified is None:
        raise _wrong_code()
    return verified


def _new_recovery_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": _("Recovery codes"), "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def confirm_authenticator(
    *, user: User, code: str, by: ActingUser | None
) -> tuple[TOTPDevice, list[str]]:
    """The owner proves the app works with a code from it: the app becomes the account's
    second factor (replacing any earlier one) and ten new recovery codes are made, to be
    shown once."""
    _check_owner(user, by)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise ValidationError(_("Open the set-up page again: it shows a new secret."))
        _check_not_waiting(device)
        if device.verify_token(clean_code(code)):
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(user)
            SecondFactorEvent.objects.create(user=user, action=Action.ENROLLED, by=user)
            return device, codes
    # Raised after the block: the wrong try's count (the wait before the next) is kept.
    raise _wrong_code()


def check_code(*, user: User, code: str) -> Device:
    """The device that accepts ``code`` (a code from the app, or a recovery code, which is
    then gone); ValidationError when none does.  Each device is locked while it checks, so a
    code sent twice at once is accepted once; a wrong code's count is kept (no outer
    transaction rolls it back)."""
    code = clean_code(code)
    app = authenticator(user)
    if app is None:
        raise ValidationError(_("This account has no authenticator app yet."))
    if code.isdigit():
        return _verify(user, app, code)
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is None:
        raise _wrong_code()
    verified = _verify(user, recovery, code)
    SecondFactorEvent.objects.create(user=user, action=Action.RECOVERY_CODE_USED, by=user)
    return verified


def verify_session(request: HttpRequest, *, code: str) -> Device:
    """Check the signed-in user's code and mark the session as verified by its device."""
    device = check_code(user=require_actor(request.user), code=code)
    django_otp.login(request, device)
    return device


def renew_recovery_codes(*, user: User, code: str, by: ActingUser | None) -> list[str]:
    """New recovery codes, the old ones void; the owner proves it with a code from the app
    (not a recovery code: whoever found the paper must not be able to renew them)."""
    _check_owner(user, by)
    app = authenticator(user)
    if app is None:
        raise ValidationError(_("This account has no authenticator app yet."))
    code = clean_code(code)
    if not code.isdigit():
        raise _wrong_code()
    _verify(user, app, code)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        SecondFactorEvent.objects.create(user=user, action=Action.RECOVERY_CODES, by=user)
    return codes


@transaction.atomic
def reset_second_factor(*, user: User, by: User) -> None:
    """An administrator of the account (404 outside their scope) removes its app and recovery
    codes, for a lost phone: its sessions stop counting as verified, and at the next page the
    owner sets up a new app."""
    check_manages(by, user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    SecondFactorEvent.objects.create(user=user, action=Action.RESET, by=by)


def recent_events(user: User, limit: int = 10) -> QuerySet[SecondFactorEvent]:
    return SecondFactorEvent.objects.filter(user=user).select_related("by")[:limit]
