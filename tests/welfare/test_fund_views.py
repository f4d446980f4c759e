"""The fund pages: who sees which fund, the ledger as the treasurer and the reader see it, and
the treasurer's forms, which go through the ledger services and save nothing when refused."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from unions.models import Role
from unions.tree import move_unit
from welfare.funds.forms import DongField
from welfare.funds.ledger import record_contribution
from welfare.models import EntryKind, Fund, FundKind, LedgerEntry

from ..factories import make_user, system_user

pytestmark = pytest.mark.django_db

LIST = reverse("funds:list")
TODAY = datetime.date.today()


@pytest.fixture
def as_role(client_for):
    """A client logged in as a role, reading the interface in English."""

    def login(role: str):
        client = client_for(role)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return login


def listed(response) -> set[str]:
    return {fund.name for fund in response.context["page"].object_list}


def assert_ledger_adds_up(fund: Fund) -> None:
    """The balance is the sum of the entries, and each entry's balance_after runs on from the
    one recorded before it."""
    fund.refresh_from_db()
    entries = list(fund.entries.order_by("pk"))
    assert fund.balance == sum(entry.amount for entry in entries)
    # and the totals kept on the fund are the ledger's
    assert fund.money_in == sum(entry.amount for entry in entries if entry.amount > 0)
    assert fund.money_out == sum(entry.amount for entry in entries if entry.amount < 0)
    assert fund.entry_count == len(entries)
    running = 0
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running
    assert fund.available >= 0


def notices(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- who sees which fund ----------------------------------------------------------------------


def test_commune_staff_see_their_commune_and_its_grassroots_funds_only(as_role, funds):
    response = as_role("commune").get(LIST)
    assert listed(response) == {funds.commune.name, funds.own.name}


def test_grassroots_officer_sees_only_own_fund(as_role, funds):
    assert listed(as_role("grassroots").get(LIST)) == {funds.own.name}


@pytest.mark.parametrize("role", ["admin", "province", "treasurer", "leader"])
def test_province_roles_see_the_province_funds_but_not_another_province(as_role, funds, role):
    response = as_role(role).get(LIST)
    assert listed(response) == {funds.social.name, funds.commune.name, funds.own.name}
    assert funds.other.name not in response.text


@pytest.mark.parametrize(
    ("role", "fund"),
    [("commune", "social"), ("grassroots", "commune"), ("grassroots", "social")]
    + [(role, "other") for role in ["admin", "province", "commune", "grassroots", "treasurer"]],
)
def test_fund_outside_scope_is_not_found(as_role, funds, role, fund):
    pk = getattr(funds, fund).pk
    assert as_role(role).get(reverse("funds:detail", args=[pk])).status_code == 404


def test_neighbouring_commune_does_not_see_commune_a_fund(client, world, funds):
    client.force_login(make_user("b_staff", Role.STAFF, world.commune_b))
    assert client.get(reverse("funds:detail", args=[funds.commune.pk])).status_code == 404
    response = client.get(LIST)
    assert listed(response) == set()
    assert response.context["totals"]["balance"] == 0


def test_list_shows_totals_in_dong_and_filters_by_unit_subtree_and_kind(as_role, world, funds):
    client = as_role("province")
    response = client.get(LIST)
    assert response.context["totals"] == {
        "balance": 125_000_000,
        "reserved": 0,
        "available": 125_000_000,
    }
    assert "125,000,000 ₫" in response.text
    response = client.get(LIST, {"unit": world.commune_a.pk})
    assert listed(response) == {funds.commune.name, funds.own.name}
    assert response.context["totals"]["balance"] == 25_000_000
    assert listed(client.get(LIST, {"kind": FundKind.SOCIAL})) == {funds.social.name}
    # a unit outside scope is no valid choice, so it lets nothing in
    assert funds.other.name not in listed(client.get(LIST, {"unit": world.other_province.pk}))


def test_list_shows_reserved_and_available(as_role, funds, make_case):
    make_case("approved", amount=4_000_000)
    response = as_role("leader").get(LIST, {"kind": FundKind.SOCIAL})
    assert response.context["totals"]["reserved"] == 4_000_000
    assert "96,000,000 ₫" in response.text


def test_empty_list_says_so(client, world):
    client.force_login(make_user("b_staff", Role.STAFF, world.commune_b))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "There is no fund in your scope yet." in client.get(LIST).text


def test_open_a_fund_button_only_for_treasurers_and_administrators(as_role, funds):
    create = reverse("funds:create")
    assert create in as_role("treasurer").get(LIST).text
    assert create in as_role("admin").get(LIST).text
    assert create not in as_role("province").get(LIST).text
    assert create not in as_role("grassroots").get(LIST).text


def test_fund_list_runs_a_fixed_number_of_queries(
    as_role, world, funds, django_assert_max_num_queries
):
    client = as_role("province")
    with django_assert_max_num_queries(8):
        client.get(LIST)
    for n in range(30):
        Fund.objects.create(
            unit=[world.a1, world.a2, world.b1][n % 3], name=f"Quỹ {n}", kind="other"
        )
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 33


# --- the ledger -------------------------------------------------------------------------------


def detail(fund):
    return reverse("funds:detail", args=[fund.pk])


def test_fund_page_shows_balance_reserved_available(as_role, funds, make_case):
    make_case("approved", amount=4_000_000)
    response = as_role("leader").get(detail(funds.social))
    assert response.status_code == 200
    text = response.text
    assert "100,000,000 ₫" in text and "4,000,000 ₫" in text and "96,000,000 ₫" in text
    # a reader sees no treasurer's buttons
    assert reverse("funds:contribute", args=[funds.social.pk]) not in text


def test_contribution_allocation_and_reversal_keep_the_running_balance(as_role, funds):
    client = as_role("treasurer")
    social, commune = funds.social, funds.commune

    response = client.post(
        reverse("funds:contribute", args=[social.pk]),
        {
            "amount": "1.500.000",
            "occurred_on": TODAY.isoformat(),
            "source": "Công ty CP Xi măng Đồng Bành",
            "description": "Ủng hộ Tháng Công nhân",
        },
    )
    assert response.status_code == 302
    assert notices(client.get(detail(social))) == [
        "A contribution of 1,500,000 ₫ from Công ty CP Xi măng Đồng Bành was recorded."
    ]
    contribution = social.entries.get(kind=EntryKind.CONTRIBUTION)
    assert (contribution.amount, contribution.balance_after) == (1_500_000, 101_500_000)
    assert contribution.by.username == "treasurer"
    assert_ledger_adds_up(social)

    response = client.post(
        reverse("funds:allocate", args=[social.pk]),
        {"to_fund": commune.pk, "amount": "10000000", "occurred_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    out = social.entries.get(kind=EntryKind.ALLOCATION_OUT)
    into = commune.entries.get(kind=EntryKind.ALLOCATION_IN)
    assert (out.amount, out.balance_after) == (-10_000_000, 91_500_000)
    assert (into.amount, into.balance_after) == (10_000_000, 30_000_000)
    assert_ledger_adds_up(social)
    assert_ledger_adds_up(commune)

    response = client.post(
        reverse("funds:reverse", args=[contribution.pk]),
        {"occurred_on": TODAY.isoformat(), "reason": "Ghi nhầm: khoản này thuộc quỹ khác"},
    )
    assert response.status_code == 302
    correction = social.entries.get(kind=EntryKind.CORRECTION)
    assert (correction.amount, correction.balance_after) == (-1_500_000, 90_000_000)
    assert correction.reverses == contribution
    assert_ledger_adds_up(social)

    page = client.get(detail(social))
    rows = page.context["page"].object_list
    assert [entry.kind for entry in rows] == [
        EntryKind.CORRECTION,
        EntryKind.ALLOCATION_OUT,
        EntryKind.CONTRIBUTION,
        EntryKind.OPENING,
    ]
    assert [entry.balance_after for entry in rows] == [
        90_000_000,
        91_500_000,
        101_500_000,
        100_000_000,
    ]
    assert f"reverses #{contribution.pk}" in page.text
    assert f"reversed by #{correction.pk}" in page.text
    assert "\u22121,500,000 ₫" in page.text and "+1,500,000 ₫" in page.text
    # the corrected entry and the correction offer no further correction
    assert reverse("funds:reverse", args=[contribution.pk]) not in page.text
    assert reverse("funds:reverse", args=[correction.pk]) not in page.text
    assert reverse("funds:reverse", args=[out.pk]) in page.text


def test_reversing_twice_is_refused_and_records_nothing(as_role, funds):
    client = as_role("treasurer")
    opening = funds.social.entries.get()
    url = reverse("funds:reverse", args=[opening.pk])
    data = {"occurred_on": TODAY.isoformat(), "reason": "Số dư đầu kỳ nhập sai"}
    assert client.post(url, data).status_code == 302
    assert notices(client.get(detail(funds.social))) == [
        "A correcting entry of \u2212100,000,000 ₫ was recorded."
    ]
    assert funds.social.entries.count() == 2

    response = client.post(url, data)  # a replayed form
    assert response.status_code == 302
    assert notices(response) == ["This entry has already been reversed."]
    assert funds.social.entries.count() == 2
    assert client.get(url).status_code == 302
    assert_ledger_adds_up(funds.social)


def test_support_payment_cannot_be_corrected_here(as_role, funds, make_case):
    make_case("paid", amount=2_000_000)
    payment = funds.social.entries.get(kind=EntryKind.DISBURSEMENT)
    client = as_role("treasurer")
    response = client.get(reverse("funds:reverse", args=[payment.pk]))
    assert response.status_code == 302
    assert notices(response) == [
        "A support payment belongs to its case and cannot be corrected here."
    ]
    response = client.post(
        reverse("funds:reverse", args=[payment.pk]),
        {"occurred_on": TODAY.isoformat(), "reason": "thử"},
    )
    assert response.status_code == 302
    assert funds.social.entries.count() == 2
    assert reverse("funds:reverse", args=[payment.pk]) not in client.get(detail(funds.social)).text


def test_allocation_beyond_available_is_refused_with_the_figures(as_role, funds, make_case):
    make_case("approved", amount=30_000_000)  # 70.000.000 left available
    client = as_role("treasurer")
    response = client.post(
        reverse("funds:allocate", args=[funds.social.pk]),
        {"to_fund": funds.commune.pk, "amount": "80.000.000", "occurred_on": TODAY.isoformat()},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["amount"]
    assert "70,000,000 ₫ is available" in errors[0]
    assert "30,000,000 ₫ is reserved" in errors[0]
    assert funds.social.entries.count() == 1
    assert funds.commune.entries.count() == 1
    funds.social.refresh_from_db()
    assert (funds.social.balance, funds.social.reserved) == (100_000_000, 30_000_000)


def test_allocation_offers_only_visible_funds(as_role, funds):
    response = as_role("treasurer").get(reverse("funds:allocate", args=[funds.social.pk]))
    choices = set(response.context["form"].fields["to_fund"].queryset)
    assert choices == {funds.commune, funds.own}
    response = as_role("treasurer").post(
        reverse("funds:allocate", args=[funds.social.pk]),
        {"to_fund": funds.other.pk, "amount": "1000", "occurred_on": TODAY.isoformat()},
    )
    assert response.context["form"].has_error("to_fund", code="invalid_choice")
    assert funds.other.entries.count() == 1


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("1.500.000 ₫", 1_500_000),
        ("1.500.000đ", 1_500_000),
        (" 2.000 ", 2_000),
    ],
)
def test_amounts_are_read_as_people_type_them(typed, amount):
    assert DongField().clean(typed) == amount


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("1,5", "invalid"),
        ("1.5", "invalid"),
        ("1.500.00", "invalid"),
        ("một triệu", "invalid"),
        ("1500000.50", "invalid"),
        ("0", "positive"),
        ("-500000", "positive"),
        ("9" * 20, "too_large"),
    ],
)
def test_amounts_that_are_not_whole_positive_dong_are_refused(typed, code):
    with pytest.raises(forms.ValidationError) as refused:
        DongField().clean(typed)
    assert refused.value.code == code


def test_bad_amount_on_the_form_saves_nothing_and_says_why(as_role, funds):
    response = as_role("treasurer").post(
        reverse("funds:contribute", args=[funds.social.pk]),
        {"amount": "1,5 triệu", "occurred_on": TODAY.isoformat(), "source": "Đoàn viên"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        "Enter the amount in whole đồng, for example 1.500.000."
    ]
    assert funds.social.entries.count() == 1


def test_future_date_is_refused(as_role, funds):
    tomorrow = TODAY + datetime.timedelta(days=1)
    response = as_role("treasurer").post(
        reverse("funds:contribute", args=[funds.social.pk]),
        {"amount": "100000", "occurred_on": tomorrow.isoformat(), "source": "Đoàn viên"},
    )
    assert response.context["form"].errors["occurred_on"] == ["The date cannot be in the future."]
    assert funds.social.entries.count() == 1


@pytest.mark.parametrize("role", ["admin", "province", "commune", "leader"])
def test_only_a_treasurer_of_the_owner_union_gets_the_forms(as_role, funds, role):
    fund = funds.commune if role == "commune" else funds.social
    client = as_role(role)
    opening = fund.entries.get()
    for url in (
        reverse("funds:contribute", args=[fund.pk]),
        reverse("funds:allocate", args=[fund.pk]),
        reverse("funds:reverse", args=[opening.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"amount": "1000"}).status_code == 403, url
    assert fund.entries.count() == 1


def test_province_treasurer_is_not_treasurer_of_the_funds_below(as_role, funds):
    """PAY is held at the exact union: the province treasurer reads commune A's fund only."""
    client = as_role("treasurer")
    assert client.get(detail(funds.commune)).status_code == 200
    assert client.get(reverse("funds:contribute", args=[funds.commune.pk])).status_code == 403
    assert client.get(reverse("funds:contribute", args=[funds.social.pk])).status_code == 200
    commune_treasurer = as_role("commune_treasurer")
    assert (
        commune_treasurer.get(reverse("funds:contribute", args=[funds.commune.pk])).status_code
        == 200
    )


def test_treasurer_forms_outside_scope_are_not_found(as_role, funds):
    client = as_role("treasurer")
    other_entry = funds.other.entries.get()
    assert client.get(reverse("funds:contribute", args=[funds.other.pk])).status_code == 404
    assert client.get(reverse("funds:allocate", args=[funds.other.pk])).status_code == 404
    assert client.get(reverse("funds:reverse", args=[other_entry.pk])).status_code == 404
    response = client.post(
        reverse("funds:contribute", args=[funds.other.pk]),
        {"amount": "1000", "occurred_on": TODAY.isoformat(), "source": "x"},
    )
    assert response.status_code == 404
    assert funds.other.entries.count() == 1


def _contribute(fund, amount, on, *, by=None, source="Đoàn viên"):
    by = by or system_user()
    return record_contribution(fund=fund, amount=amount, occurred_on=on, source=source, by=by)


def test_ledger_filters_by_date_and_kind(as_role, funds):
    for day, amount in [(1, 1_000), (10, 2_000), (20, 3_000)]:
        _contribute(funds.social, amount, datetime.date(2024, 3, day))
    client = as_role("leader")

    def amounts(params):
        return [
            entry.amount
            for entry in client.get(detail(funds.social), params).context["page"].object_list
        ]

    assert amounts({"date_from": "2024-03-05", "date_to": "2024-03-20"}) == [3_000, 2_000]
    assert amounts({"date_from": "2024-03-15"}) == [3_000]
    assert amounts({"date_to": "2024-02-01"}) == [100_000_000]
    assert amounts({"kind": EntryKind.OPENING}) == [100_000_000]
    response = client.get(detail(funds.social), {"date_from": "2024-03-05", "kind": "contribution"})
    assert response.context["summary"] == {"count": 2, "money_in": 5_000, "money_out": 0}


def test_ledger_with_a_backwards_period_says_so_and_shows_everything(as_role, funds):
    _contribute(funds.social, 1_000, datetime.date(2024, 3, 1))
    response = as_role("leader").get(
        detail(funds.social), {"date_from": "2024-03-20", "date_to": "2024-03-01"}
    )
    assert response.status_code == 200
    assert "The start date 20/03/2024 is after the end date 01/03/2024." in response.text
    assert "The filter was not applied" in response.text
    assert len(response.context["page"].object_list) == 2


def test_ledger_with_an_impossible_date_says_so(as_role, funds):
    response = as_role("leader").get(detail(funds.social), {"date_from": "2024-02-31"})
    assert response.status_code == 200
    assert response.context["filter_form"].has_error("date_from", code="invalid")


def test_ledger_pages_walk_the_whole_ledger_newest_first(as_role, funds, settings):
    settings.PAGE_SIZE = 10
    for n in range(24):
        _contribute(funds.social, 1_000 + n, datetime.date(2024, 4, 1))
    expected = list(funds.social.entries.order_by("-pk").values_list("pk", flat=True))
    client = as_role("leader")
    seen, query, pages = [], "", []
    while True:
        page = client.get(f"{detail(funds.social)}?{query}").context["page"]
        pages.append(page)
        seen += [entry.pk for entry in page]
        if page.next_query is None:
            break
        query = page.next_query
    assert seen == expected and len(pages) == 3
    # and back from the last page to the one before it
    back = client.get(f"{detail(funds.social)}?{pages[-1].previous_query}").context["page"]
    assert [entry.pk for entry in back] == [entry.pk for entry in pages[1]]


def test_fund_page_runs_a_fixed_number_of_queries(
    as_role, funds, make_case, django_assert_max_num_queries
):
    """Seven today: session, user, grants, the fund, the period's totals, the page of entries
    (with who recorded them and their reversals), the cases on the page that the reader may
    open."""
    client = as_role("treasurer")
    with django_assert_max_num_queries(8):
        client.get(detail(funds.social))
    for n in range(60):
        _contribute(funds.social, 10_000 + n, datetime.date(2024, 5, 1) + datetime.timedelta(n))
    for amount in (1_000_000, 2_000_000):
        make_case("paid", amount=amount)
    opening = funds.social.entries.filter(kind=EntryKind.OPENING).get()
    record = LedgerEntry.objects.filter(kind=EntryKind.CONTRIBUTION).first()
    client.post(
        reverse("funds:reverse", args=[record.pk]),
        {"occurred_on": TODAY.isoformat(), "reason": "nhập trùng"},
    )
    assert funds.social.entries.count() == 64
    with django_assert_max_num_queries(8):
        response = client.get(detail(funds.social))
    assert len(response.context["page"]) == 50
    assert response.context["visible_cases"]  # the paid cases are on the first page
    with django_assert_max_num_queries(8):
        response = client.get(f"{detail(funds.social)}?{response.context['page'].next_query}")
    assert opening in response.context["page"]
    assert_ledger_adds_up(funds.social)


def test_a_payment_names_its_case_once_and_links_to_it(as_role, funds, make_case):
    with translation.override("en"):  # the entry's description is written in English
        case = make_case("paid", amount=1_000_000)
    response = as_role("treasurer").get(detail(funds.social))
    text = " ".join(response.text.split())
    assert text.count(f"case #{case.pk}") == 1
    assert reverse("cases:detail", args=[case.pk]) in response.text
    assert "Open the case" in text


def test_payment_for_a_case_now_outside_the_readers_scope_hides_the_person(
    as_role, world, funds, make_case
):
    case = make_case("paid", fund=funds.commune, amount=1_000_000)
    move_unit(
        unit=world.a1, new_parent=world.commune_b, effective_on=TODAY, by=world.users["admin"]
    )
    response = as_role("commune").get(detail(funds.commune))
    assert response.context["visible_cases"] == set()
    assert world.member_a1.full_name not in response.text
    assert "Support paid for a case outside your scope" in response.text
    # the province still sees whose support it was
    response = as_role("province").get(detail(funds.commune))
    assert response.context["visible_cases"] == {case.pk}
    assert world.member_a1.full_name in response.text


# --- opening a fund ---------------------------------------------------------------------------


def test_treasurer_opens_a_fund_for_their_union(as_role, world):
    client = as_role("treasurer")
    form = client.get(reverse("funds:create")).context["form"]
    assert list(form.fields["unit"].queryset) == [world.province]
    response = client.post(
        reverse("funds:create"),
        {
            "unit": world.province.pk,
            "name": "Quỹ Mái ấm Công đoàn",
            "kind": FundKind.SHELTER,
            "opening_balance": "2.000.000.000",
            "opened_on": "2025-01-01",
        },
    )
    fund = Fund.objects.get(name="Quỹ Mái ấm Công đoàn")
    assert response["Location"] == detail(fund)
    assert (fund.unit, fund.balance) == (world.province, 2_000_000_000)
    assert fund.entries.get().kind == EntryKind.OPENING
    assert fund.entries.get().by.username == "treasurer"


def test_a_fund_may_open_with_nothing_in_it(as_role, world):
    client = as_role("commune_treasurer")
    response = client.post(
        reverse("funds:create"),
        {
            "unit": world.commune_a.pk,
            "name": "Quỹ Tết Sum vầy",
            "kind": FundKind.OTHER,
            "opening_balance": "0",
            "opened_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    fund = Fund.objects.get(name="Quỹ Tết Sum vầy")
    assert (fund.balance, fund.entries.count()) == (0, 0)


def test_commune_treasurer_cannot_open_a_fund_for_the_province(as_role, world):
    response = as_role("commune_treasurer").post(
        reverse("funds:create"),
        {
            "unit": world.province.pk,
            "name": "Quỹ lạ",
            "kind": FundKind.OTHER,
            "opening_balance": "1000",
            "opened_on": TODAY.isoformat(),
        },
    )
    assert response.context["form"].has_error("unit", code="invalid_choice")
    assert not Fund.objects.filter(name="Quỹ lạ").exists()


def test_administrator_opens_funds_for_any_active_unit_in_scope(as_role, world):
    form = as_role("admin").get(reverse("funds:create")).context["form"]
    units = set(form.fields["unit"].queryset)
    assert world.a1 in units and world.province in units
    assert world.q1 not in units


def test_a_money_form_sent_twice_records_the_money_once(as_role, funds):
    """A double click or a reload sends the same form again: nothing more is recorded, and
    the treasurer is told so; a new form (a new token) records a new contribution."""
    client = as_role("treasurer")
    social, commune = funds.social, funds.commune
    url = reverse("funds:contribute", args=[social.pk])
    page = client.get(url)
    token = page.context["form"].initial["submission"]
    assert f'name="submission" value="{token}"' in page.text  # rendered whatever the layout
    data = {
        "amount": "2000000",
        "occurred_on": TODAY.isoformat(),
        "source": "Nhà hảo tâm",
        "submission": token,
    }
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)
    assert "This was already recorded. Nothing more was recorded." in notices(again)
    assert social.entries.filter(kind=EntryKind.CONTRIBUTION).count() == 1
    assert_ledger_adds_up(social)
    fresh = client.get(url).context["form"].initial["submission"]
    assert fresh != token
    assert client.post(url, {**data, "submission": fresh}).status_code == 302
    assert social.entries.filter(kind=EntryKind.CONTRIBUTION).count() == 2

    allocate = reverse("funds:allocate", args=[social.pk])
    token = client.get(allocate).context["form"].initial["submission"]
    sent = {
        "to_fund": commune.pk,
        "amount": "1000000",
        "occurred_on": TODAY.isoformat(),
        "submission": token,
    }
    for _ in range(2):
        assert client.post(allocate, sent).status_code == 302
    assert social.entries.filter(kind=EntryKind.ALLOCATION_OUT).count() == 1
    assert commune.entries.filter(kind=EntryKind.ALLOCATION_IN).count() == 1
    assert_ledger_adds_up(social)
    assert_ledger_adds_up(commune)

    contribution = social.entries.filter(kind=EntryKind.CONTRIBUTION).first()
    reverse_url = reverse("funds:reverse", args=[contribution.pk])
    token = client.get(reverse_url).context["form"].initial["submission"]
    correction = {"occurred_on": TODAY.isoformat(), "reason": "Ghi nhầm", "submission": token}
    assert client.post(reverse_url, correction).status_code == 302
    # The page itself refuses an entry already reversed, whichever form is sent again.
    again = client.post(reverse_url, correction, follow=True)
    assert "This entry has already been reversed." in notices(again)
    assert social.entries.filter(kind=EntryKind.CORRECTION).count() == 1


def test_a_token_that_is_not_ours_is_ignored_not_trusted(as_role, funds):
    client = as_role("treasurer")
    url = reverse("funds:contribute", args=[funds.social.pk])
    data = {"amount": "1000", "occurred_on": TODAY.isoformat(), "source": "X"}
    for token in ("", "not-a-token", "<script>"):
        assert client.post(url, {**data, "submission": token}).status_code == 302
    assert funds.social.entries.filter(kind=EntryKind.CONTRIBUTION).count() == 3
    assert set(funds.social.entries.values_list("submission", flat=True)) == {""}


# --- funds nobody can pay from ----------------------------------------------------------------


@pytest.fixture
def unpaid_fund(world, funds):
    """A fund at commune B, where nobody holds the treasurer role."""
    return Fund.objects.create(unit=world.commune_b, name="Quỹ phường B", kind="welfare")


def test_administrator_sees_which_funds_have_no_treasurer(as_role, funds, unpaid_fund):
    client = as_role("admin")
    response = client.get(LIST)
    badges = {fund.name for fund in response.context["page"].object_list if not fund.has_treasurer}
    assert badges == {unpaid_fund.name}
    assert response.text.count('class="badge text-bg-warning no-treasurer"') == 1
    assert listed(client.get(LIST, {"no_treasurer": "on"})) == {unpaid_fund.name}
    page = client.get(detail(unpaid_fund)).text
    assert 'id="no-treasurer"' in page and "has no treasurer" in page
    assert 'id="no-treasurer"' not in client.get(detail(funds.social)).text


def test_the_administrators_warning_counts_only_active_treasurers(as_role, world, funds):
    world.users["commune_treasurer"].is_active = False
    world.users["commune_treasurer"].save()
    response = as_role("admin").get(LIST, {"no_treasurer": "on"})
    assert listed(response) == {funds.commune.name}


@pytest.mark.parametrize("role", ["leader", "treasurer", "province"])
def test_other_roles_get_neither_the_badge_nor_the_filter(as_role, funds, unpaid_fund, role):
    client = as_role(role)
    response = client.get(LIST)
    assert "no-treasurer" not in response.text
    assert "no_treasurer" not in response.context["filter"].form.fields
    assert 'id="no-treasurer"' not in client.get(detail(unpaid_fund)).text


def test_fund_list_for_an_administrator_runs_a_fixed_number_of_queries(
    as_role, world, funds, django_assert_max_num_queries
):
    client = as_role("admin")
    for n in range(30):
        Fund.objects.create(unit=[world.a1, world.a2, world.b1][n % 3], name=f"Q {n}", kind="other")
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 33  # 3 of the world, 30 more
