"""The second factor, switched on: who is asked, the code page in front of every other page,
codes accepted once, recovery codes, set-up, renewal and an administrator's reset."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp import models as totp_models
from django_otp.plugins.otp_totp.models import TOTPDevice

from unions import second_factor
from unions.accounts import set_temporary_password
from unions.models import Role, SecondFactorEvent
from unions.second_factor import needs_second_factor

from ..access import ROLES, told
from ..factories import make_user
from ..portal.test_access_matrix import MATRIX

VERIFY = reverse("second_factor:verify")
# The pages an account whose factor is not proved yet may still open.
OPEN_UNVERIFIED = {"logout", "set_language", "second_factor:verify", "second_factor:setup"}


@pytest.fixture(autouse=True)
def _factor_on(settings):
    settings.PORTAL_SECOND_FACTOR = True


def code_of(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the authenticator app shows, now or ``steps_ahead`` steps of 30 s later."""
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    clock.time = time.time() + steps_ahead * device.step
    return f"{clock.token():0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Set up an app the way the set-up page does; the current step's code is then used."""
    pending = second_factor.pending_authenticator(user)
    return second_factor.confirm_authenticator(user=user, code=code_of(pending), by=user)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- who is asked ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "asked"),
    [
        ("admin", True),  # manages accounts and the tree
        ("province", True),  # approves from provincial funds, reads every file below
        ("commune", True),  # endorses, reads the files of its grassroots unions
        ("treasurer", True),  # pays
        ("leader", True),  # reads the province's files
        ("grassroots", True),  # approves from its own union's fund
        ("a1_chair", True),  # another officer of the same grassroots union
        ("commune_treasurer", True),
    ],
)
def test_who_needs_a_second_factor(world, role, asked):
    assert needs_second_factor(world.users[role]) is asked


def test_a_treasurer_of_a_grassroots_union_needs_it_and_its_leader_does_not(world):
    assert needs_second_factor(make_user("a1_treasurer", Role.TREASURER, world.a1))
    assert not needs_second_factor(make_user("a1_leader", Role.LEADER, world.a1))
    assert needs_second_factor(make_user("a1_admin", Role.ADMINISTRATOR, world.a1))


def test_a_grassroots_leader_given_a_role_above_is_asked_from_then_on(world):
    officer = make_user("a1_leader", Role.LEADER, world.a1)
    client = signed_in(officer)
    assert client.get(reverse("home")).status_code == 200
    officer.role_assignments.create(unit=world.commune_a, role=Role.STAFF)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_superuser_and_an_account_without_roles(world):
    User = get_user_model()
    root = User.objects.create_superuser("root", "root@example.vn", "x-pass-123")
    assert needs_second_factor(root)
    assert not needs_second_factor(make_user("nobody"))


# --- the code page in front of every page ---------------------------------------------------


def _args(name, world):
    entry = MATRIX[name]
    return entry.args(world, "admin", True) if entry.args else []


@pytest.mark.parametrize("name", sorted(set(MATRIX) - OPEN_UNVERIFIED))
def test_every_page_asks_an_unverified_administrator_for_the_code(world, name):
    """Every URL pattern of the access matrix, GET or POST: the code page, and nothing done."""
    admin = world.users["admin"]
    enrol(admin)
    client = signed_in(admin)
    entry = MATRIX[name]
    args = _args(name, world)
    url = reverse(name, args=[getattr(arg, "pk", arg) for arg in args])
    if entry.method == "post":
        obj = args[0] if args else None
        before = entry.effect.state(obj, client)
        response = client.post(url, entry.data(world, obj) if entry.data else {})
        assert entry.effect.state(obj, client) == before, name
    else:
        response = client.get(url)
    assert response.status_code == 302, name
    assert response["Location"].startswith(VERIFY), (name, response["Location"])


def test_the_django_admin_asks_a_superuser_for_the_code(db):
    root = get_user_model().objects.create_superuser("root", "root@example.vn", "x-pass-123")
    response = signed_in(root).get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_a_grassroots_leader_is_not_asked(world):
    client = signed_in(make_user("a1_leader", Role.LEADER, world.a1))
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("members:list")).status_code == 200
    assert client.get(VERIFY).status_code == 302  # nothing to prove: on to the page asked


def test_without_an_app_the_code_page_leads_to_set_up(world):
    response = signed_in(world.users["province"]).get(f"{VERIFY}?next=/members/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('second_factor:setup')}?next=%2Fmembers%2F"


def test_a_right_code_lets_the_session_in_and_goes_on_where_it_was_going(world):
    admin = world.users["admin"]
    device, _codes = enrol(admin)
    client = signed_in(admin)
    asked = client.get(reverse("accounts:users"))
    assert asked["Location"] == f"{VERIFY}?next=%2Fusers%2F"
    page = client.get(asked["Location"])
    assert page.status_code == 200
    assert told("Code from the app, or a recovery code") in page.content.decode()
    # Nothing of the portal behind it yet: not even the count of unread notices.
    assert reverse("notices:list") not in page.content.decode()
    response = client.post(VERIFY, {"code": code_of(device, 1), "next": "/users/"})
    assert response.status_code == 302 and response["Location"] == "/users/"
    assert client.get(reverse("accounts:users")).status_code == 200
    assert client.get(reverse("units:create")).status_code == 200
    assert reverse("notices:list") in client.get(reverse("home")).content.decode()
    # Another session of the same account has proved nothing.
    assert signed_in(admin).get(reverse("home")).status_code == 302


def test_the_code_page_never_sends_elsewhere(world):
    admin = world.users["admin"]
    device, _codes = enrol(admin)
    client = signed_in(admin)
    response = client.post(VERIFY, {"code": code_of(device, 1), "next": "https://evil.example"})
    assert response["Location"] == "/"


def test_a_used_code_is_refused_the_second_time(world):
    admin = world.users["admin"]
    device, _codes = enrol(admin)
    code = code_of(device, 1)
    first = signed_in(admin)
    assert first.post(VERIFY, {"code": code})["Location"] == "/"
    second = signed_in(admin)
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert told("The code is wrong or has already been used.") in response.content.decode()
    assert second.get(reverse("home")).status_code == 302


def test_the_code_of_set_up_cannot_sign_in_again(world):
    """The code that confirmed the app was used: the same step is refused."""
    admin = world.users["admin"]
    pending = second_factor.pending_authenticator(admin)
    code = code_of(pending)
    second_factor.confirm_authenticator(user=admin, code=code, by=admin)
    client = signed_in(admin)
    assert client.post(VERIFY, {"code": code}).status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_a_wrong_code_makes_the_next_try_wait(world):
    admin = world.users["admin"]
    device, _codes = enrol(admin)
    client = signed_in(admin)
    assert client.post(VERIFY, {"code": "000000"}).status_code == 200
    response = client.post(VERIFY, {"code": code_of(device, 1)})
    assert told("Too many wrong codes. Wait a moment, then enter a new code.") in (
        response.content.decode()
    )
    assert client.get(reverse("home")).status_code == 302
    # Once the wait is over the right code is taken.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=5)
    )
    assert client.post(VERIFY, {"code": code_of(device, 1)})["Location"] == "/"


def test_a_recovery_code_works_once(world):
    treasurer = world.users["treasurer"]
    _device, codes = enrol(treasurer)
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT == 10
    printed = f"{codes[0][:4]} {codes[0][4:]}".upper()  # as shown, typed in capitals
    client = signed_in(treasurer)
    response = client.post(VERIFY, {"code": printed})
    assert response["Location"] == "/"
    assert told(
        "You signed in with a recovery code; %(count)d are left. Make new ones on the "
        "second-factor page if you are running out.",
        count=9,
    ) in said(response)
    assert client.get(reverse("home")).status_code == 200
    again = signed_in(treasurer)
    assert again.post(VERIFY, {"code": printed}).status_code == 200
    assert again.get(reverse("home")).status_code == 302
    assert (
        SecondFactorEvent.objects.filter(
            user=treasurer, action=SecondFactorEvent.Action.RECOVERY_CODE_USED
        ).count()
        == 1
    )


def test_a_forced_password_change_comes_after_the_code(world):
    commune = world.users["commune"]
    device, _codes = enrol(commune)
    set_temporary_password(user=commune, password="tam-thoi-2026", by=world.users["admin"])
    client = signed_in(commune)
    assert client.get(reverse("home"))["Location"].startswith(VERIFY)
    assert client.get(reverse("password_change"))["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": code_of(device, 1)})
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


# --- setting up -----------------------------------------------------------------------------


def test_set_up_shows_the_qr_code_and_secret_then_the_recovery_codes_once(world):
    leader = world.users["leader"]
    client = signed_in(leader)
    page = client.get(reverse("second_factor:setup"))
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body
    pending = TOTPDevice.objects.get(user=leader, confirmed=False)
    assert second_factor.secret_text(pending) in body
    # Reloading keeps the secret the phone has scanned.
    assert (
        client.get(reverse("second_factor:setup"))
        .content.decode()
        .count(second_factor.secret_text(pending))
    )
    wrong = client.post(reverse("second_factor:setup"), {"code": "999999"})
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.filter(user=leader, confirmed=True).exists()
    TOTPDevice.objects.filter(pk=pending.pk).update(throttling_failure_timestamp=None)
    response = client.post(
        reverse("second_factor:setup"), {"code": code_of(pending), "next": "/members/"}
    )
    assert response["Location"] == reverse("second_factor:recovery_codes")
    shown = client.get(reverse("second_factor:recovery_codes"))
    tokens = set(StaticToken.objects.filter(device__user=leader).values_list("token", flat=True))
    assert len(tokens) == 10
    assert all(f"{t[:4]} {t[4:]}" in shown.content.decode() for t in tokens)
    assert 'href="/members/"' in shown.content.decode()
    # Shown once; the session is verified by the set-up.
    assert client.get(reverse("second_factor:recovery_codes")).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert SecondFactorEvent.objects.filter(
        user=leader, action=SecondFactorEvent.Action.ENROLLED
    ).exists()


def test_an_unverified_session_cannot_replace_the_app(world):
    admin = world.users["admin"]
    enrol(admin)
    response = signed_in(admin).get(reverse("second_factor:setup"))
    assert response["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=admin).count() == 1


def test_a_grassroots_leader_has_nothing_to_set_up(world):
    leader = signed_in(make_user("a1_leader", Role.LEADER, world.a1))
    assert leader.get(reverse("second_factor:setup")).status_code == 403


def test_nobody_sets_up_someone_elses_app(world):
    admin, province = world.users["admin"], world.users["province"]
    pending = second_factor.pending_authenticator(province)
    with pytest.raises(PermissionDenied):
        second_factor.confirm_authenticator(user=province, code=code_of(pending), by=admin)


# --- the owner's page, renewing, resetting ---------------------------------------------------


def _verified(user, device) -> Client:
    client = signed_in(user)
    assert client.post(VERIFY, {"code": code_of(device, 1)})["Location"] == "/"
    return client


def test_new_recovery_codes_need_a_code_from_the_app(world, monkeypatch):
    province = world.users["province"]
    device, old = enrol(province)
    client = _verified(province, device)
    page = client.get(reverse("second_factor:account"))
    assert told("Make new recovery codes") in page.content.decode()
    refused = client.post(reverse("second_factor:renew_codes"), {"code": old[1]})
    assert told("The code is wrong or has already been used.") in said(refused)
    assert StaticToken.objects.filter(device__user=province, token=old[1]).exists()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    # A minute later, the app shows a code not used yet.
    monkeypatch.setattr(totp_models, "time", SimpleNamespace(time=lambda: time.time() + 60))
    response = client.post(reverse("second_factor:renew_codes"), {"code": code_of(device, 2)})
    assert response["Location"] == reverse("second_factor:recovery_codes")
    new = set(StaticToken.objects.filter(device__user=province).values_list("token", flat=True))
    assert len(new) == 10 and not new & set(old)


def test_an_administrator_resets_a_lost_phone_and_it_is_recorded(world):
    admin, commune = world.users["admin"], world.users["commune"]
    admin_app, _codes = enrol(admin)
    device, _codes = enrol(commune)
    commune_session = _verified(commune, device)
    admin_session = _verified(admin, admin_app)
    detail = admin_session.get(reverse("accounts:user", args=[commune.pk]))
    assert told("Reset the second factor") in detail.content.decode()
    response = admin_session.post(reverse("accounts:user_second_factor_reset", args=[commune.pk]))
    assert response["Location"] == reverse("accounts:user", args=[commune.pk])
    assert not TOTPDevice.objects.filter(user=commune).exists()
    assert not StaticToken.objects.filter(device__user=commune).exists()
    event = SecondFactorEvent.objects.get(user=commune, action=SecondFactorEvent.Action.RESET)
    assert event.by == admin
    # The owner's session no longer counts as verified: on to set up a new app.
    home = commune_session.get(reverse("home"))
    assert home["Location"].startswith(VERIFY)
    assert commune_session.get(home["Location"])["Location"].startswith(
        reverse("second_factor:setup")
    )


def test_an_administrator_of_another_province_cannot_reset(world):
    commune = world.users["commune"]
    enrol(commune)
    from django.http import Http404

    with pytest.raises(Http404):
        second_factor.reset_second_factor(user=commune, by=world.users["outsider"])
    assert TOTPDevice.objects.filter(user=commune).exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_leads_every_role_to_its_second_factor_page(client_for, role, settings):
    settings.PORTAL_SECOND_FACTOR = False
    page = client_for(role).get(reverse("home"))
    assert page.content.decode().count(f'href="{reverse("second_factor:account")}"') == 1


# --- the demo -------------------------------------------------------------------------------


def test_demo_logins_sign_in_with_the_documented_secret(world, capsys):
    from django.core.management import call_command

    from seed.demo_second_factor import DEMO_TOTP_SECRET, ensure_demo_second_factor

    get_user_model().objects.exclude(pk=world.users["province"].pk).update(email="")
    leader = make_user("a1_leader", Role.LEADER, world.a1)
    leader.email = world.users["province"].email.replace("province", "a1_leader")
    leader.save()
    assert ensure_demo_second_factor() == ["province"]  # the demo logins that need it
    assert ensure_demo_second_factor() == ["province"]  # again: nothing added
    assert TOTPDevice.objects.filter(user=world.users["province"]).count() == 1
    assert not TOTPDevice.objects.filter(user=leader).exists()
    call_command("demo_totp")
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    client = signed_in(world.users["province"])
    assert client.post(VERIFY, {"code": code})["Location"] == "/"
    assert DEMO_TOTP_SECRET in (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_owners_page_lists_what_happened_in_few_queries(world, django_assert_max_num_queries):
    province = world.users["province"]
    device, _codes = enrol(province)
    client = _verified(province, device)
    for _n in range(15):
        SecondFactorEvent.objects.create(
            user=province, action=SecondFactorEvent.Action.RESET, by=world.users["admin"]
        )
    with django_assert_max_num_queries(8):
        page = client.get(reverse("second_factor:account"))
    body = page.content.decode()
    # The last ten, newest first, each with who did it.
    assert body.count('data-label="' + told("What") + '"') == 10
    assert world.users["admin"].last_name in body


def test_a_verified_superuser_reads_the_record_in_the_django_admin_and_cannot_edit_it(world):
    root = get_user_model().objects.create_superuser("root", "root@example.vn", "x-pass-123")
    device, _codes = enrol(root)
    client = _verified(root, device)
    listing = client.get(reverse("admin:unions_secondfactorevent_changelist"))
    assert listing.status_code == 200 and "root" in listing.content.decode()
    assert client.get(reverse("admin:unions_secondfactorevent_add")).status_code == 403
