"""Signing in with the second factor in a real browser: password, then the code of the app;
and setting the app up from its QR page's secret, then the recovery codes."""

import base64
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from unions import second_factor

from ..factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _factor_on(settings):
    settings.PORTAL_SECOND_FACTOR = True


def _code(key: bytes, steps_ahead: int = 0) -> str:
    clock = TOTP(key)
    clock.time = time.time() + 30 * steps_ahead
    return f"{clock.token():06d}"


def _password(page, username: str, target: str = "/") -> None:
    page.goto(f"{page.base_url}/accounts/login/?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].w-100")


def test_treasurer_logs_in_with_password_and_code(page, world):
    treasurer = world.users["treasurer"]
    device = TOTPDevice.objects.create(user=treasurer, name="app", confirmed=True)
    _password(page, "treasurer", "/funds/")
    page.wait_for_url("**/accounts/second-factor/?next=%2Ffunds%2F")
    # Every other page leads back here until the code is given.
    page.goto(f"{page.base_url}/members/")
    page.wait_for_url("**/accounts/second-factor/**")
    page.fill("input[name=code]", "000000")
    page.click("form button[type=submit].w-100")
    page.wait_for_selector("text=Mã không đúng hoặc đã được sử dụng.")
    time.sleep(1.2)  # the wait after a wrong code
    page.fill("input[name=code]", _code(device.bin_key))
    page.click("form button[type=submit].w-100")
    page.wait_for_url(f"{page.base_url}/members/")
    page.goto(f"{page.base_url}/funds/")
    assert page.url == f"{page.base_url}/funds/"


def test_province_staff_sets_up_the_app_and_keeps_the_recovery_codes(page, world):
    _password(page, "province")
    page.wait_for_url("**/accounts/second-factor/setup/**")
    assert page.locator(".second-factor-qr svg").count() == 1
    secret = page.inner_text("[data-testid=secret]").replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=code]", _code(key))
    page.click("form button[type=submit].w-100")
    page.wait_for_url("**/accounts/second-factor/recovery-codes/")
    shown = page.locator("[data-testid=recovery-codes] li").all_inner_texts()
    assert len(shown) == 10
    page.click("text=Tôi đã cất giữ, tiếp tục")
    page.wait_for_url(f"{page.base_url}/")
    assert second_factor.recovery_codes_left(world.users["province"]) == 10
