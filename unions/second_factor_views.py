"""The second-factor pages: the code after the password, setting up the app, the recovery codes
shown once, the owner's own page, and an administrator's reset of someone else's."""

from __future__ import annotations

import django_otp
import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest

from . import accounts, second_factor
from .forms import SecondFactorCodeForm
from .scope import Capability, can_anywhere

# The recovery codes just made, kept in the session only until the page that shows them.
NEW_CODES_KEY = "second_factor_new_codes"


def _next(request: AuthenticatedHttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """After the password: a code from the app, or a recovery code."""
    user = request.user
    if second_factor.is_verified(user) or not second_factor.needs_second_factor(user):
        return redirect(_next(request))
    if second_factor.authenticator(user) is None:
        return redirect(f"{reverse('second_factor:setup')}?{request.GET.urlencode()}")
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor.verify_session(request, code=form.cleaned_data["code"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if isinstance(device, StaticDevice):
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; %(count)d are left. Make new "
                        "ones on the second-factor page if you are running out."
                    )
                    % {"count": second_factor.recovery_codes_left(user)},
                )
            return redirect(_next(request))
    return render(
        request, "unions/second_factor_verify.html", {"form": form, "next": _next(request)}
    )


def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The QR code and the secret of a new authenticator, confirmed by a code from it."""
    user = request.user
    if not second_factor.needs_second_factor(user):
        raise PermissionDenied
    # A verified account changes its app from its own page (a reset, then this page), never
    # here behind a session that has not proved the factor.
    if second_factor.authenticator(user) is not None:
        return redirect(
            "second_factor:account" if second_factor.is_verified(user) else "second_factor:verify"
        )
    device = second_factor.pending_authenticator(user)
    form = SecondFactorCodeForm(request.POST or None, recovery=False)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = second_factor.confirm_authenticator(
                user=user, code=form.cleaned_data["code"], by=user
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            django_otp.login(request, device)
            request.session[NEW_CODES_KEY] = codes
            request.session["second_factor_next"] = _next(request)
            return redirect("second_factor:recovery_codes")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "unions/second_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr.svg_inline(scale=5, border=2),
            "secret": second_factor.secret_text(device),
            "next": _next(request),
        },
    )


def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The recovery codes just made, shown this once (they are stored only as used-once
    tokens and never shown again)."""
    codes = request.session.pop(NEW_CODES_KEY, None)
    if not codes:
        messages.info(
            request, _("Recovery codes are shown only once. Make new ones here if you need them.")
        )
        return redirect("second_factor:account")
    return render(
        request,
        "unions/second_factor_codes.html",
        {
            "codes": [f"{code[:4]} {code[4:]}" for code in codes],
            "next": request.session.pop("second_factor_next", "/"),
        },
    )


def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The owner's second factor: the app, the recovery codes left, what happened to them."""
    user = request.user
    app = second_factor.authenticator(user)
    return render(
        request,
        "unions/second_factor_account.html",
        {
            "needed": second_factor.needs_second_factor(user),
            "app": app,
            "codes_left": second_factor.recovery_codes_left(user) if app else 0,
            "events": second_factor.recent_events(user),
            "form": SecondFactorCodeForm(recovery=False, autofocus=False),
        },
    )


@require_POST
def renew_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New recovery codes, with a code from the app."""
    user = request.user
    if second_factor.authenticator(user) is None:
        messages.error(request, _("Set up the authenticator app first."))
        return redirect("second_factor:account")
    form = SecondFactorCodeForm(request.POST, recovery=False)
    if form.is_valid():
        try:
            codes = second_factor.renew_recovery_codes(
                user=user, code=form.cleaned_data["code"], by=user
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            request.session[NEW_CODES_KEY] = codes
            request.session["second_factor_next"] = reverse("second_factor:account")
            return redirect("second_factor:recovery_codes")
    for refusal in [*form.errors.get("code", []), *form.non_field_errors()]:
        messages.error(request, str(refusal))
    return redirect("second_factor:account")


@require_POST
def reset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An administrator removes the app and recovery codes of an account in their scope."""
    if not can_anywhere(request.user, Capability.MANAGE_USERS):
        raise PermissionDenied
    target = accounts.get_user_for_manager(request.user, pk)
    second_factor.reset_second_factor(user=target, by=request.user)
    messages.success(
        request,
        _("The second factor of %(user)s was reset: they set up a new app at their next page.")
        % {"user": target.get_username()},
    )
    return redirect("accounts:user", pk=target.pk)
