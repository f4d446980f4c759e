"""Passwords: changing one's own, the reset by e-mail, an administrator's temporary password
and the change it forces at the next login."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from tests.factories import PASSWORD
from unions.accounts import must_change_password, set_temporary_password

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Hoa-ban-nở-2026"


def _log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_offers_the_reset_in_vietnamese(client, world):
    page = client.get(reverse("login")).content.decode()
    assert "Quên mật khẩu?" in page
    assert reverse("password_reset") in page


def test_user_menu_links_to_the_change_page(client_for, world):
    page = client_for("grassroots").get(reverse("home")).content.decode()
    assert "Đổi mật khẩu" in page
    assert reverse("password_change") in page


def test_change_my_password(client, world):
    user = world.users["grassroots"]
    assert _log_in(client, "grassroots", PASSWORD).status_code == 302
    page = client.get(reverse("password_change")).content.decode()
    assert "Mật khẩu cũ" in page and "Đổi mật khẩu" in page
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == reverse("password_change_done")
    # Still signed in after the change, and the new password is the one that works.
    assert client.get(reverse("home")).status_code == 200
    client.logout()
    assert not client.login(request=HttpRequest(), username="grassroots", password=PASSWORD)
    assert client.login(request=HttpRequest(), username="grassroots", password=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_wrong_old_password_is_refused_in_vietnamese(client_for, world):
    response = client_for("grassroots").post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "Mật khẩu cũ không đúng" in response.content.decode()


def test_reset_by_email_in_vietnamese_sets_a_new_password(client, world):
    user = world.users["grassroots"]
    response = client.post(reverse("password_reset"), {"email": user.email})
    assert response["Location"] == reverse("password_reset_done")
    assert "Hãy kiểm tra email" in client.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Tương Thân: đặt mật khẩu mới"
    assert "Kính gửi Nguyễn Văn," in message.body
    assert "Để đặt mật khẩu mới, hãy mở đường liên kết sau:" in message.body
    assert "Tên đăng nhập của bạn là grassroots." in message.body

    link = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)
    # Django swaps the token for a session-held one and redirects to the form.
    form_url = client.get(link)["Location"]
    form_page = client.get(form_url)
    assert form_page.context["validlink"]
    assert "Đặt mật khẩu mới" in form_page.content.decode()
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("password_reset_complete")
    assert "Mật khẩu mới của bạn đã được lưu" in client.get(done["Location"]).content.decode()

    assert not client.login(request=HttpRequest(), username="grassroots", password=PASSWORD)
    assert client.login(request=HttpRequest(), username="grassroots", password=NEW_PASSWORD)
    client.logout()
    # The link works once.
    assert not client.get(link, follow=True).context["validlink"]


def test_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, world):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.vn"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_new_account_must_change_its_password_at_first_login(client, client_for, world):
    client_for("admin").post(
        reverse("accounts:user_create"),
        {
            "username": "cdcs_a2",
            "last_name": "Hà Thị",
            "first_name": "Thu",
            "email": "a2@example.vn",
            "is_active": "on",
            "password1": "Hoa-sen-2026!",
            "password2": "Hoa-sen-2026!",
            "unit": world.a2.pk,
            "role": "officer",
        },
    )
    user = get_user_model().objects.get(username="cdcs_a2")
    assert must_change_password(user)
    client.logout()
    assert _log_in(client, "cdcs_a2", "Hoa-sen-2026!")["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


def test_a_flagged_user_is_sent_to_the_change_page_until_they_change_it(client, world):
    user = world.users["grassroots"]
    set_temporary_password(user=user, password="Tam-thoi-2026", by=world.users["admin"])
    _log_in(client, "grassroots", "Tam-thoi-2026")
    for url in (
        reverse("home"),
        reverse("members:list"),
        reverse("units:detail", args=[world.a1.pk]),
        reverse("units:search") + "?q=a",
    ):
        assert client.get(url)["Location"] == reverse("password_change"), url
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert "Mật khẩu của bạn do quản trị viên đặt" in page.content.decode()
    # The language switch and logging out still work.
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})

    client.post(
        reverse("password_change"),
        {
            "old_password": "Tam-thoi-2026",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert client.get(reverse("home")).status_code == 200
    assert not must_change_password(user)
    client.logout()
    _log_in(client, "grassroots", NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200


def test_a_flagged_user_may_log_out(client, world):
    set_temporary_password(
        user=world.users["grassroots"], password="Tam-thoi-2026", by=world.users["admin"]
    )
    _log_in(client, "grassroots", "Tam-thoi-2026")
    assert client.post(reverse("logout"))["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_reset_by_email_lifts_the_forced_change(client, world):
    user = world.users["grassroots"]
    set_temporary_password(user=user, password="Tam-thoi-2026", by=world.users["admin"])
    client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not must_change_password(user)


def test_administrator_sets_a_temporary_password(client, client_for, world):
    target = world.users["grassroots"]
    admin = client_for("admin")
    detail = admin.get(reverse("accounts:user", args=[target.pk])).content.decode()
    assert reverse("accounts:user_password", args=[target.pk]) in detail
    response = admin.post(
        reverse("accounts:user_password", args=[target.pk]),
        {"new_password1": "Tam-thoi-2026", "new_password2": "Tam-thoi-2026"},
    )
    assert response["Location"] == reverse("accounts:user", args=[target.pk])
    target.refresh_from_db()
    assert target.check_password("Tam-thoi-2026")
    assert must_change_password(target)
    client.logout()
    _log_in(client, "grassroots", "Tam-thoi-2026")
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


def test_temporary_password_is_checked_like_any_password(client_for, world):
    target = world.users["grassroots"]
    response = client_for("admin").post(
        reverse("accounts:user_password", args=[target.pk]),
        {"new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "Mật khẩu này hoàn toàn là số." in response.content.decode()
    target.refresh_from_db()
    assert target.check_password(PASSWORD)
    assert not must_change_password(target)


@pytest.mark.parametrize(("role", "status"), [("admin", 404), ("commune", 403)])
def test_temporary_password_outside_scope_or_role_is_refused(client_for, world, role, status):
    target = world.users["outsider"] if role == "admin" else world.users["grassroots"]
    response = client_for(role).post(
        reverse("accounts:user_password", args=[target.pk]),
        {"new_password1": "Tam-thoi-2026", "new_password2": "Tam-thoi-2026"},
    )
    assert response.status_code == status
    target.refresh_from_db()
    assert target.check_password(PASSWORD)
    assert not must_change_password(target)


def test_the_service_refuses_an_account_outside_the_managers_scope(world):
    from django.http import Http404

    with pytest.raises(Http404):
        set_temporary_password(
            user=world.users["outsider"], password="Tam-thoi-2026", by=world.users["admin"]
        )
    assert not must_change_password(world.users["outsider"])


@pytest.mark.parametrize("page", ["temporary", "new account"])
def test_an_administrator_reads_the_rules_of_someone_elses_password(client_for, world, page):
    """Django's help speaks to the password's owner ("Mật khẩu của bạn..."): an administrator
    setting another person's reads them about that person."""
    url = (
        reverse("accounts:user_password", args=[world.users["grassroots"].pk])
        if page == "temporary"
        else reverse("accounts:user_create")
    )
    html = client_for("admin").get(url).content.decode()
    assert "Mật khẩu của bạn" not in html
    assert "Mật khẩu phải không quá giống tên đăng nhập, họ tên hoặc e-mail" in html
    assert "có ít nhất 8 ký tự; không phải mật khẩu phổ biến; không chỉ gồm chữ số." in html
    assert "Người dùng sẽ tự đặt mật khẩu của mình ở lần đăng nhập đầu tiên." in html


def test_my_own_password_change_keeps_the_rules_spoken_to_me(client_for, world):
    html = client_for("grassroots").get(reverse("password_change")).content.decode()
    assert "Mật khẩu của bạn" in html
