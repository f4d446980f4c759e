import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from unions.models import Placement, RoleAssignment, Unit, UnitEvent

pytestmark = pytest.mark.django_db


def tree_names(response):
    return [row.unit.name for row in response.context["rows"]]


def test_tree_today_and_as_of_a_date_before_a_move(client_for, world):
    admin = client_for("admin")
    response = admin.post(
        reverse("units:move", args=[world.a1.pk]),
        {"new_parent": world.commune_b.pk, "effective_on": "2025-07-01", "note": "QĐ 12"},
    )
    assert response.status_code == 302
    today = admin.get(reverse("units:tree"))
    rows = {row.unit.name: row.parent_id for row in today.context["rows"]}
    assert rows[world.a1.name] == world.commune_b.pk
    before = admin.get(reverse("units:tree"), {"on": "2021-12-31"})
    rows = {row.unit.name: row.parent_id for row in before.context["rows"]}
    assert rows[world.a1.name] == world.commune_a.pk
    event = UnitEvent.objects.get(unit=world.a1, kind="moved")
    assert (event.by, event.note) == (world.users["admin"], "QĐ 12")


def test_tree_shows_only_the_readers_subtree(client_for, world):
    names = tree_names(client_for("commune").get(reverse("units:tree")))
    assert names == [world.commune_a.name, world.a1.name, world.a2.name]


def test_tree_with_a_bad_date_says_so(client_for, world):
    response = client_for("province").get(reverse("units:tree"), {"on": "31/12/2021x"})
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]


def test_move_under_own_descendant_is_refused_on_the_form(client_for, world):
    before = list(Placement.objects.values_list("unit", "parent", "path", "valid_to"))
    response = client_for("admin").post(
        reverse("units:move", args=[world.commune_a.pk]),
        {"new_parent": world.a1.pk, "effective_on": "2025-07-01"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert list(Placement.objects.values_list("unit", "parent", "path", "valid_to")) == before


def test_move_refusal_from_the_service_lands_on_the_form(client_for, world):
    future = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    response = client_for("admin").post(
        reverse("units:move", args=[world.a1.pk]),
        {"new_parent": world.commune_b.pk, "effective_on": future},
    )
    assert response.status_code == 200
    assert "effective_on" in response.context["form"].errors
    world.a1.refresh_from_db()
    assert world.a1.parent == world.commune_a


def test_admin_creates_a_unit_under_a_parent(client_for, world):
    response = client_for("admin").post(
        reverse("units:create"),
        {
            "parent": world.commune_a.pk,
            "code": "P-A-3",
            "name": "CĐCS Công ty May A3",
            "kind": "grassroots",
            "founded_on": "2024-02-01",
        },
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="P-A-3")
    assert unit.parent == world.commune_a
    assert unit.path.startswith(world.commune_a.path)
    assert client_for("commune").get(reverse("units:detail", args=[unit.pk])).status_code == 200


def test_merge_hands_members_to_the_successor(client_for, world):
    response = client_for("admin").post(
        reverse("units:merge", args=[world.a1.pk]),
        {"into": world.a2.pk, "effective_on": "2025-07-01"},
    )
    assert response.status_code == 302
    world.member_a1.refresh_from_db()
    assert world.member_a1.unit == world.a2
    world.a1.refresh_from_db()
    assert (world.a1.status, world.a1.successor) == ("merged", world.a2)


def test_dissolve_with_members_is_refused_with_a_message(client_for, world):
    response = client_for("admin").post(
        reverse("units:dissolve", args=[world.a1.pk]), {"effective_on": "2025-07-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    world.a1.refresh_from_db()
    assert world.a1.is_active


def test_dissolved_unit_stays_visible_in_history(client_for, world):
    admin = client_for("admin")
    response = admin.post(
        reverse("units:dissolve", args=[world.a2.pk]), {"effective_on": "2025-07-01"}
    )
    assert response.status_code == 302
    assert world.a2.name not in tree_names(admin.get(reverse("units:tree")))
    assert world.a2.name in tree_names(admin.get(reverse("units:tree"), {"closed": "1"}))
    assert admin.get(reverse("units:detail", args=[world.a2.pk])).status_code == 200


def test_admin_creates_account_with_a_role_and_it_logs_in(client, client_for, world):
    response = client_for("admin").post(
        reverse("accounts:user_create"),
        {
            "username": "cdcs_a2",
            "first_name": "Thu",
            "last_name": "Hà Thị",
            "email": "a2@example.vn",
            "is_active": "on",
            "password1": "Hoa-sen-2026!",
            "password2": "Hoa-sen-2026!",
            "unit": world.a2.pk,
            "role": "officer",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="cdcs_a2")
    assert RoleAssignment.objects.filter(user=user, unit=world.a2, role="officer").exists()
    client.logout()
    assert client.login(username="cdcs_a2", password="Hoa-sen-2026!")


def test_account_with_mismatched_passwords_is_not_created(client_for, world):
    response = client_for("admin").post(
        reverse("accounts:user_create"),
        {
            "username": "x",
            "email": "x@example.vn",
            "password1": "Hoa-sen-2026!",
            "password2": "other",
            "unit": world.a2.pk,
            "role": "officer",
        },
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="x").exists()


def test_admin_grants_and_revokes_a_role(client_for, world):
    admin = client_for("admin")
    target = world.users["grassroots"]
    admin.post(
        reverse("accounts:role_grant", args=[target.pk]),
        {"role-unit": world.a2.pk, "role-role": "leader"},
    )
    assignment = RoleAssignment.objects.get(user=target, unit=world.a2, role="leader")
    admin.post(reverse("accounts:role_revoke", args=[assignment.pk]))
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_admin_cannot_remove_own_administrator_role(client_for, world):
    admin = client_for("admin")
    own = RoleAssignment.objects.get(user=world.users["admin"], role="administrator")
    admin.post(reverse("accounts:role_revoke", args=[own.pk]))
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_account_list_shows_only_accounts_in_scope(client_for, world):
    response = client_for("admin").get(reverse("accounts:users"))
    usernames = [user.username for user in response.context["users"]]
    assert "grassroots" in usernames
    assert "outsider" not in usernames


def test_home_counts_only_the_readers_scope(client_for, world, django_assert_max_num_queries):
    client = client_for("commune")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("home"))
    assert response.context["member_counts"]["members"] == 1
    assert response.context["unit_total"] == 3
    province = client_for("province").get(reverse("home"))
    assert province.context["member_counts"]["members"] == 2
