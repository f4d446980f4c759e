import datetime

import pytest
from django.urls import reverse

from unions.models import Role

from ..factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def this_year_paid(world, funds):
    from .conftest import paid_case

    today = datetime.date.today()
    by = world.users["grassroots"]
    paid_case(world.member_a1, funds.social, 4_000_000, today, by=by)
    paid_case(world.member_b1, funds.social, 1_500_000, today, by=by)


def test_leader_home_loads_this_year_with_charts_and_child_units(client_for, world, this_year_paid):
    client = client_for("leader")
    home = client.get(reverse("home"))
    assert reverse("dashboard") in home.text  # the page fetches it once shown
    response = client.get(reverse("dashboard"))
    dashboard = response.context["dashboard"]
    assert dashboard["figures"].totals.amount == 5_500_000
    assert response.text.count("<svg") >= 3
    assert "5.500.000 ₫" in response.text
    rows = {row.label: row.amount for row in dashboard["figures"].by_child}
    assert rows == {world.commune_a.name: 4_000_000, world.commune_b.name: 1_500_000}


def test_the_child_units_beyond_the_charts_share_one_line(
    client_for, world, this_year_paid, monkeypatch
):
    from welfare.reports import charts

    monkeypatch.setattr(charts, "TOP_CHILDREN", 1)
    response = client_for("leader").get(reverse("dashboard"))
    dashboard = response.context["dashboard"]
    assert [row.label for row in dashboard["child_rows"]] == [world.commune_a.name]
    assert dashboard["other_children"].amount == 1_500_000
    assert dashboard["other_children_count"] == 1
    assert world.commune_b.name not in response.text.split('id="child-units"')[1]
    assert "1.500.000 ₫" in response.text


def test_dashboard_figures_link_to_the_records_behind_them(client_for, world, this_year_paid):
    client = client_for("leader")
    year = datetime.date.today().year
    listed = client.get(
        reverse("cases:list"), {"status": "paid", "paid_year": year, "unit": world.commune_a.pk}
    )
    assert [case.member for case in listed.context["page"].object_list] == [world.member_a1]


def test_commune_leader_dashboard_covers_only_the_commune(client, world, this_year_paid):
    leader = make_user("leader_a", Role.LEADER, world.commune_a)
    client.force_login(leader)
    figures = client.get(reverse("dashboard")).context["dashboard"]["figures"]
    assert figures.union == world.commune_a
    assert figures.totals.amount == 4_000_000


def test_staff_without_a_leading_role_get_no_dashboard(client_for, world, this_year_paid):
    client = client_for("commune")
    assert reverse("dashboard") not in client.get(reverse("home")).text
    assert client.get(reverse("dashboard")).status_code == 403


def test_leader_home_query_count_does_not_grow_with_records(
    client_for, world, funds, django_assert_max_num_queries
):
    from .conftest import paid_case

    for index in range(40):
        paid_case(
            world.member_a1,
            funds.social,
            100_000 + index,
            datetime.date.today(),
            by=world.users["grassroots"],
        )
    client = client_for("leader")
    with django_assert_max_num_queries(8):
        client.get(reverse("home"))
    with django_assert_max_num_queries(30):
        client.get(reverse("dashboard"))
