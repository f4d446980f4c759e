"""Bad input, generated: amounts far past a trillion, dates at the edges, long and odd Unicode,
forms naming funds, members or cases out of scope.  Whatever is sent, the answer is a page
with a message or a redirect after a complete save: never a server error, never half saved."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from welfare.funds.forms import MAX_AMOUNT, DongField
from welfare.models import Case, CaseEvent, Fund, LedgerEntry

pytestmark = pytest.mark.django_db

PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as people paste it: any letters, marks, spaces, control and format characters, emoji.
ODD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=3000,
)


def grouped(amount: int, separator: str) -> str:
    return f"{amount:,}".replace(",", separator)


@PROPERTIES
@given(
    amount=st.one_of(
        st.integers(min_value=1, max_value=MAX_AMOUNT),
        st.integers(min_value=MAX_AMOUNT + 1, max_value=10**30),
    ),
    separator=st.sampled_from([".", " ", ",", ""]),
    suffix=st.sampled_from(["", " ₫", "đ", " đồng", " VND"]),
)
def test_an_amount_reads_back_exactly_or_is_refused_as_too_large(amount, separator, suffix):
    field = DongField()
    text = grouped(amount, separator) + suffix
    if amount > MAX_AMOUNT:
        with pytest.raises(ValidationError) as refused:
            field.clean(text)
        assert refused.value.code == "too_large"
    else:
        assert field.clean(text) == amount


@PROPERTIES
@given(text=ODD_TEXT)
def test_any_text_as_an_amount_is_a_number_or_a_clear_refusal(text):
    try:
        value = DongField().clean(text)
    except ValidationError as error:
        assert error.messages and all(message.strip() for message in error.messages)
    else:
        assert isinstance(value, int) and 0 < value <= MAX_AMOUNT


@PROPERTIES
@given(
    amount=st.one_of(
        st.integers(min_value=-(10**16), max_value=10**18).map(str),
        ODD_TEXT.map(lambda text: text[:40]),
    ),
    circumstances=ODD_TEXT,
    category=st.sampled_from(["illness", "accident", "nothing", "", "'; drop table"]),
    support_type=st.sampled_from(["grant", "visit", "tet_gift", "x" * 40, ""]),
    fund_choice=st.sampled_from(["own", "other_province", "missing", "text"]),
)
@example(  # the whole case, saved
    amount="1.500.000",
    circumstances="Ốm đau dài ngày.\u200b\U0001f64f",
    category="illness",
    support_type="grant",
    fund_choice="own",
)
@example(  # all valid but the forged fund of another province
    amount="1.500.000",
    circumstances="Ốm đau dài ngày.",
    category="illness",
    support_type="grant",
    fund_choice="other_province",
)
@example(
    amount="1" + "0" * 16,
    circumstances="x",
    category="illness",
    support_type="grant",
    fund_choice="own",
)
def test_the_case_form_answers_every_input_with_a_message_or_a_whole_case(
    client_for, world, funds, amount, circumstances, category, support_type, fund_choice
):
    fund = {
        "own": str(funds.social.pk),
        "other_province": str(funds.other.pk),  # forged: a fund of province Q
        "missing": str(Fund.objects.order_by("-pk").first().pk + 999),
        "text": "1 OR 1=1",
    }[fund_choice]
    client = client_for("grassroots")
    before = (Case.objects.count(), CaseEvent.objects.count(), LedgerEntry.objects.count())
    response = client.post(
        reverse("cases:create") + f"?member={world.member_a1.pk}",
        {
            "category": category,
            "circumstances": circumstances,
            "support_type": support_type,
            "requested_amount": amount,
            "fund": fund,
            "save": "1",
        },
    )
    assert response.status_code in (200, 302), response.status_code
    after = (Case.objects.count(), CaseEvent.objects.count(), LedgerEntry.objects.count())
    if response.status_code == 302:
        case = Case.objects.latest("pk")
        assert after == (before[0] + 1, before[1] + 1, before[2])  # the case and its event
        assert case.fund_id == funds.social.pk and case.unit_id == world.member_a1.unit_id
        assert case.requested_amount == DongField(allow_zero=True).clean(amount)
        assert case.circumstances.strip()
    else:
        assert after == before  # nothing half saved
        assert "alert" in response.content.decode() or response.context["form"].errors


@PROPERTIES
@given(member=st.sampled_from(["q1", "missing", "-1", "abc", "99999999999999999999"]))
def test_a_case_for_someone_out_of_scope_is_not_found(client_for, world, funds, member):
    target = {
        "q1": str(world.member_q1.pk),
        "missing": "987654",
        "-1": "-1",
        "abc": "abc",
        "99999999999999999999": "99999999999999999999",
    }[member]
    client = client_for("grassroots")
    response = client.post(
        reverse("cases:create") + f"?member={target}",
        {
            "category": "illness",
            "circumstances": "x",
            "support_type": "grant",
            "requested_amount": "1.000.000",
            "fund": str(funds.social.pk),
        },
    )
    assert response.status_code == 404
    assert not Case.objects.exists()


@PROPERTIES
@given(
    day=st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)),
    amount=st.integers(min_value=-(10**16), max_value=10**17),
)
@example(day=datetime.date(2025, 2, 28), amount=2_000_000)  # lands
@example(day=datetime.date(9999, 12, 31), amount=2_000_000)  # in the future
@example(day=datetime.date(2025, 2, 28), amount=10**15 + 1)  # too large
def test_a_contribution_at_any_date_and_amount_lands_whole_or_not_at_all(
    client_for, world, funds, day, amount
):
    fund = funds.social
    fund.refresh_from_db()
    balance, entries = fund.balance, fund.entries.count()
    response = client_for("treasurer").post(
        reverse("funds:contribute", args=[fund.pk]),
        {
            "amount": str(amount),
            "occurred_on": day.isoformat(),
            "source": "Công ty A",
            "description": "Ủng hộ",
            "submission": f"s-{day.isoformat()}-{amount}",
        },
    )
    assert response.status_code in (200, 302)
    fund.refresh_from_db()
    if response.status_code == 302:
        assert 0 < amount <= MAX_AMOUNT and day <= datetime.date.today()
        assert (fund.balance, fund.entries.count()) == (balance + amount, entries + 1)
    else:
        assert (fund.balance, fund.entries.count()) == (balance, entries)
