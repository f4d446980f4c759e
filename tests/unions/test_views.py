import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_unit, make_user
from unions.models import Placement, RoleAssignment, Unit, UnitEvent, UnitKind
from unions.tree import dissolve_unit

pytestmark = pytest.mark.django_db


def tree_names(response):
    """The units the tree page shows: its roots and the units right under them."""
    names = []
    for root in response.context["nodes"]:
        names.append(root.name)
        names.extend(child.name for child in root.children)
    return names


def children(client, unit, **query):
    response = client.get(reverse("units:children", args=[unit.pk]), query)
    assert response.status_code == 200
    return {node.name: node for node in response.context["nodes"]}


def test_tree_today_and_as_of_a_date_before_a_move(client_for, world):
    admin = client_for("admin")
    response = admin.post(
        reverse("units:move", args=[world.a1.pk]),
        {"new_parent": world.commune_b.pk, "effective_on": "2025-07-01", "note": "QĐ 12"},
    )
    assert response.status_code == 302
    assert world.a1.name in children(admin, world.commune_b)
    assert world.a1.name not in children(admin, world.commune_a)
    before = children(admin, world.commune_a, on="2021-12-31")
    assert before[world.a1.name].parent_id == world.commune_a.pk
    assert world.a1.name not in children(admin, world.commune_b, on="2021-12-31")
    today = {root.name: root for root in admin.get(reverse("units:tree")).context["nodes"]}
    counts = {node.name: node.child_count for node in today[world.province.name].children}
    assert counts == {world.commune_a.name: 1, world.commune_b.name: 2}
    then = admin.get(reverse("units:tree"), {"on": "2021-12-31"}).context["nodes"]
    counts = {node.name: node.child_count for node in then[0].children}
    assert counts == {world.commune_a.name: 2, world.commune_b.name: 1}
    event = UnitEvent.objects.get(unit=world.a1, kind="moved")
    assert (event.by, event.note) == (world.users["admin"], "QĐ 12")


def test_tree_shows_down_to_the_level_above_grassroots_and_loads_the_rest(client_for, world):
    response = client_for("province").get(reverse("units:tree"))
    assert tree_names(response) == [
        world.province.name,
        world.commune_a.name,
        world.commune_b.name,
    ]
    html = response.content.decode()
    assert f'href="/units/{world.commune_a.pk}/"' in html
    assert f'data-children="/units/{world.commune_a.pk}/children/"' in html
    assert world.a1.name not in html
    rows = client_for("province").get(reverse("units:children", args=[world.commune_a.pk]))
    assert [node.name for node in rows.context["nodes"]] == [world.a1.name, world.a2.name]
    assert f'href="/units/{world.a1.pk}/"' in rows.content.decode()


def test_a_long_list_of_units_shows_a_batch_and_loads_the_next_on_request(
    client_for, world, monkeypatch
):
    monkeypatch.setattr("unions.tree.TREE_BATCH", 1)
    province = client_for("province")
    response = province.get(reverse("units:tree"), {"on": "2021-12-31"})
    assert tree_names(response) == [world.province.name, world.commune_a.name]
    html = response.content.decode()
    pk = world.province.pk
    more = f'data-more="/units/{pk}/children/?from=1&amp;on=2021-12-31"'
    assert more in html and "Xem thêm đơn vị" in html  # "Show more units"
    assert f'href="/units/{pk}/" {more}' in html  # without JavaScript: the unit's page
    second = province.get(reverse("units:children", args=[pk]), {"from": "1", "on": "2021-12-31"})
    assert [node.name for node in second.context["nodes"]] == [world.commune_b.name]
    assert "data-more" not in second.content.decode()  # that was the last batch
    rows = province.get(reverse("units:children", args=[world.commune_a.pk]))
    assert f'data-more="/units/{world.commune_a.pk}/children/?from=1"' in rows.content.decode()
    past_the_end = province.get(reverse("units:children", args=[pk]), {"from": "9"})
    assert past_the_end.context["nodes"] == [] and b"No units" not in past_the_end.content
    assert province.get(reverse("units:children", args=[pk]), {"from": "x"}).status_code == 200


def test_tree_shows_only_the_readers_subtree(client_for, world):
    names = tree_names(client_for("commune").get(reverse("units:tree")))
    assert names == [world.commune_a.name, world.a1.name, world.a2.name]
    assert tree_names(client_for("grassroots").get(reverse("units:tree"))) == [world.a1.name]


def test_units_outside_the_readers_scope_do_not_load(client_for, world):
    commune = client_for("commune")
    assert commune.get(reverse("units:children", args=[world.commune_b.pk])).status_code == 404
    assert commune.get(reverse("units:children", args=[world.province.pk])).status_code == 404
    province = client_for("province")
    assert (
        province.get(reverse("units:children", args=[world.other_province.pk])).status_code == 404
    )


def test_tree_on_a_date_roots_a_unit_whose_parent_then_is_outside_scope(client_for, world):
    admin = client_for("admin")
    response = admin.post(
        reverse("units:move", args=[world.b1.pk]),
        {"new_parent": world.commune_a.pk, "effective_on": "2025-07-01"},
    )
    assert response.status_code == 302
    commune = client_for("commune")
    assert tree_names(commune.get(reverse("units:tree"))) == [
        world.commune_a.name,
        world.b1.name,
        world.a1.name,
        world.a2.name,
    ]
    then = commune.get(reverse("units:tree"), {"on": "2021-12-31"})
    assert [(root.name, [c.name for c in root.children]) for root in then.context["nodes"]] == [
        (world.commune_a.name, [world.a1.name, world.a2.name]),
        (world.b1.name, []),
    ]


def test_rows_that_load_later_keep_the_date_or_the_closed_units(client_for, world):
    province = client_for("province")
    pk = world.commune_a.pk
    html = province.get(reverse("units:tree"), {"on": "2021-12-31"}).content.decode()
    assert f'data-children="/units/{pk}/children/?on=2021-12-31"' in html
    html = province.get(reverse("units:tree"), {"closed": "1"}).content.decode()
    assert f'data-children="/units/{pk}/children/?closed=1"' in html


def test_a_user_without_roles_sees_no_units(client, world):
    client.force_login(make_user("nobody"))
    for query in ({}, {"on": "2021-12-31"}):
        response = client.get(reverse("units:tree"), query)
        assert response.context["nodes"] == []
        assert world.province.name not in response.content.decode()


def test_tree_with_a_bad_date_says_so(client_for, world):
    response = client_for("province").get(reverse("units:tree"), {"on": "31/12/2021x"})
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]


def _grow_the_tree(world, communes: int, grassroots_each: int) -> None:
    for c in range(communes):
        commune = make_unit(f"Công đoàn xã {c}", UnitKind.COMMUNE, world.province)
        for g in range(grassroots_each):
            make_unit(f"CĐCS {c}-{g}", parent=commune)


def _queries(client, url, query) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query).status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", [{}, {"closed": "1"}, {"on": "2024-12-31"}])
def test_tree_queries_do_not_grow_with_the_tree(client_for, world, query):
    province = client_for("province")
    tree_url = reverse("units:tree")
    children_url = reverse("units:children", args=[world.province.pk])
    small = (_queries(province, tree_url, query), _queries(province, children_url, query))
    _grow_the_tree(world, communes=12, grassroots_each=4)
    big = (_queries(province, tree_url, query), _queries(province, children_url, query))
    assert big == small
    assert max(big) <= 12
    assert len(tree_names(province.get(tree_url, query))) == 3 + 12


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
    assert world.a2.name not in children(admin, world.commune_a)
    assert children(admin, world.commune_a, closed="1")[world.a2.name].closed
    page = admin.get(reverse("units:tree"))
    counts = {node.name: node.child_count for node in page.context["nodes"][0].children}
    assert counts[world.commune_a.name] == 1
    page = admin.get(reverse("units:tree"), {"closed": "1"})
    counts = {node.name: node.child_count for node in page.context["nodes"][0].children}
    assert counts[world.commune_a.name] == 2
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
    assert client.login(request=HttpRequest(), username="cdcs_a2", password="Hoa-sen-2026!")


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


def test_unit_search_finds_units_in_scope_without_diacritics(client_for, world):
    url = reverse("units:search")
    units = client_for("province").get(url, {"q": "cong doan phuong"}).json()["results"]
    assert [unit["id"] for unit in units] == [world.commune_a.pk]
    assert units[0]["label"] == f"{world.commune_a.name} — {world.province.name}"
    # the commune officer of A does not see commune B, nor anything in province Q
    assert client_for("commune").get(url, {"q": "xa b"}).json() == {"results": []}
    assert client_for("province").get(url, {"q": "tinh q"}).json() == {"results": []}
    assert client_for("province").get(url, {"q": ""}).json() == {"results": []}


def test_unit_search_answers_at_most_twenty_units_the_upper_levels_first(client_for, world):
    for index in range(25):
        make_unit(f"Công đoàn trường {index:02d}", parent=world.commune_a)
    make_unit("Công đoàn các trường", kind=UnitKind.COMMUNE, parent=world.province)
    results = client_for("province").get(reverse("units:search"), {"q": "TRƯỜNG"}).json()
    labels = [unit["label"] for unit in results["results"]]
    assert len(labels) == 20
    assert labels[0] == f"Công đoàn các trường — {world.province.name}"
    assert all(label.endswith(f" — {world.commune_a.name}") for label in labels[1:])


def test_a_renamed_unit_is_found_by_its_new_name(client_for, world):
    world.a1.name = "Công đoàn Bệnh viện Đa khoa"
    world.a1.save(update_fields=["name"])
    url = reverse("units:search")
    found = client_for("province").get(url, {"q": "benh vien da khoa"}).json()["results"]
    assert [unit["id"] for unit in found] == [world.a1.pk]
    assert Unit.objects.get(pk=world.a1.pk).search_name == "cong doan benh vien da khoa"


def test_unit_search_narrows_to_a_capability_a_kind_and_open_units(client_for, world):
    url = reverse("units:search")

    def found(role, **params):
        answer = client_for(role).get(url, {"q": "cong", **params}).json()["results"]
        return {unit["id"] for unit in answer}

    communes = {world.commune_a.pk, world.commune_b.pk}
    assert communes <= found("province")
    assert found("province", kind="commune") == communes
    assert found("province", kind="nonsense") == found("province")  # an unknown kind: ignored
    # the leader sees the province but may not add members anywhere
    assert found("leader") and found("leader", **{"for": "edit_members"}) == set()
    assert found("leader", **{"for": "nonsense"}) == found("leader")
    closed = make_unit("Công đoàn đã giải thể", kind=UnitKind.COMMUNE, parent=world.province)
    dissolve_unit(unit=closed, effective_on=closed.founded_on, by=world.users["admin"])
    assert closed.pk in found("province") and closed.pk not in found("province", active="1")
