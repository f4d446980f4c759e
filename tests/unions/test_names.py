"""Accounts carry a Vietnamese name, asked family name first; pages show it, not the login."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from unions.forms import NewUserForm, UserForm
from unions.tree import dissolve_unit, update_unit
from welfare.models import Report

pytestmark = pytest.mark.django_db


def _name(user, last, first):
    user.last_name, user.first_name = last, first
    user.save()
    return user


def test_account_form_asks_the_family_name_before_the_given_name(world):
    for form in (
        UserForm(instance=world.users["grassroots"]),
        NewUserForm(manager=world.users["admin"]),
    ):
        names = list(form.fields)
        assert names[:3] == ["username", "last_name", "first_name"]
    form = UserForm()
    assert str(form.fields["last_name"].label) == "Họ và tên đệm"
    assert str(form.fields["first_name"].label) == "Tên"
    assert str(form.fields["username"].help_text) == (
        "Tên đăng nhập gồm chữ thường không dấu, chữ số và các dấu . _ -"
    )


def test_new_login_names_are_plain_lowercase(world):
    form = NewUserForm(
        {
            "username": "Hà.Thu",
            "last_name": "Hà Thị",
            "first_name": "Thu",
            "email": "thu@example.vn",
            "password1": "Hoa-sen-2026!",
            "password2": "Hoa-sen-2026!",
            "unit": world.a2.pk,
            "role": "officer",
        },
        manager=world.users["admin"],
    )
    assert not form.is_valid()
    assert form.errors["username"] == ["Chỉ dùng chữ thường không dấu, chữ số và các dấu . _ -"]


def test_unit_page_names_who_reorganised_and_who_edited(client_for, world):
    admin = _name(world.users["admin"], "Lương Văn", "Thắng")
    dissolve_unit(unit=world.a2, by=admin, effective_on=datetime.date(2025, 7, 1))
    unit = world.commune_a
    unit.phone = "0205 3812 345"
    update_unit(unit=unit, by=admin)

    page = client_for("admin").get(reverse("units:detail", args=[world.a2.pk])).content.decode()
    assert "· Lương Văn Thắng" in page
    assert "· admin" not in page
    history = client_for("admin").get(reverse("units:detail", args=[unit.pk])).content.decode()
    assert "bởi Lương Văn Thắng" in history
    assert "bởi admin" not in history


def test_report_list_names_who_asked_for_it(client_for, world):
    leader = _name(world.users["leader"], "Hoàng Thị", "Mai")
    Report.objects.create(union=world.province, year=2026, requested_by=leader)
    page = client_for("leader").get(reverse("reports:list")).content.decode()
    assert ">Hoàng Thị Mai</td>" in page
    assert ">leader</td>" not in page
