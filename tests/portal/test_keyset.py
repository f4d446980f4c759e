"""Keyset pagination (common.keyset): every row once, in order, forwards and backwards."""

import base64
import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from common.keyset import KeysetPaginator, capped_count
from members.models import JOINED_KEY, Member

from ..factories import MemberFactory

pytestmark = pytest.mark.django_db

ORDERINGS = [
    ("search_name", "id"),
    ("-search_name", "-id"),
    ("date_of_birth", "id"),
    ("-date_of_birth", "id"),  # mixed directions
    ("date_of_birth", "-search_name", "id"),
    ("-created_at", "-id"),
]


@pytest.fixture
def people(world):
    """Eleven people with ties on the birth date and on the name, beside the world's three."""
    births = [datetime.date(1980, 1, 1)] * 4 + [datetime.date(1990, 6, 1)] * 4
    births += [datetime.date(1970, 2, 2), datetime.date(2000, 3, 3), datetime.date(1990, 6, 1)]
    for index, birth in enumerate(births):
        MemberFactory(
            full_name=f"Trần Văn {'Bình' if index % 3 else 'An'}",
            unit=world.a1,
            date_of_birth=birth,
        )


def _ids(page):
    return [member.pk for member in page.object_list]


def _walk(paginator, start: str, link: str) -> tuple[list[int], int]:
    rows, pages, query = [], 0, start
    while query is not None:
        page = paginator.get_page(QueryDict(query))
        rows.append(_ids(page))
        pages += 1
        query = getattr(page, link)
        assert pages < 20
    return rows, pages


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_pages_forwards_and_backwards_give_every_row_once_in_order(people, ordering):
    queryset = Member.objects.all()
    expected = list(queryset.order_by(*ordering).values_list("pk", flat=True))
    paginator = KeysetPaginator(queryset, ordering, per_page=3)
    forwards, pages = _walk(paginator, "", "next_query")
    assert [pk for page in forwards for pk in page] == expected
    assert pages == 5  # 14 rows, 3 a page
    backwards, _ = _walk(paginator, "last=1", "previous_query")
    assert [pk for page in reversed(backwards) for pk in page] == expected
    # backwards the pages are aligned on the end: the last one is full, the first one short
    assert backwards[0] == expected[-3:]
    assert backwards[-1] == expected[:2]


def test_first_and_last_pages_and_their_links(people):
    queryset = Member.objects.all()
    expected = list(queryset.order_by("search_name", "id").values_list("pk", flat=True))
    paginator = KeysetPaginator(queryset, ["search_name", "id"], per_page=4)
    first = paginator.get_page(QueryDict("sex=male"))
    assert _ids(first) == expected[:4]
    assert not first.has_previous and first.has_next
    assert first.previous_query is None and first.first_query is None
    assert QueryDict(first.next_query)["sex"] == "male"
    last = paginator.get_page(QueryDict(first.last_query))
    assert _ids(last) == expected[-4:]
    assert last.has_previous and not last.has_next
    assert last.next_query is None and last.last_query is None
    assert last.first_query == "sex=male"
    # Without the cursor: what the export links and the filters carry, on every page.
    assert first.filter_query == last.filter_query == "sex=male"
    last.set_count(len(expected))
    assert (last.start_index, last.end_index) == (len(expected) - 3, len(expected))
    first.set_count(len(expected))
    assert (first.start_index, first.end_index) == (1, 4)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "%%%",
        _b64("not json"),
        _b64('{"a": 1}'),
        _b64('["only one"]'),
        _b64('["x", "not a number"]'),
        _b64("[null, 3]"),
        _b64('["1990-13-45", 3]'),
    ],
)
def test_an_unreadable_cursor_gives_the_first_page(people, cursor):
    queryset = Member.objects.all()
    paginator = KeysetPaginator(queryset, ["date_of_birth", "id"], per_page=3)
    first = _ids(paginator.get_page(QueryDict("")))
    for param in ("after", "before"):
        assert _ids(paginator.get_page(QueryDict(f"{param}={cursor}"))) == first


def _chained(per_page: int) -> tuple[KeysetPaginator, list[int]]:
    """The people born in 1990 by name, then the others youngest first: two parts."""
    born_1990 = Member.objects.filter(date_of_birth__year=1990)
    others = Member.objects.exclude(date_of_birth__year=1990)
    expected = [
        *born_1990.order_by("search_name", "id").values_list("pk", flat=True),
        *others.order_by("-date_of_birth", "-id").values_list("pk", flat=True),
    ]
    paginator = KeysetPaginator(
        born_1990, ["search_name", "id"], per_page, then=[(others, ["-date_of_birth", "-id"])]
    )
    return paginator, expected


@pytest.mark.parametrize("per_page", [2, 3, 5, 20])
def test_chained_parts_page_as_one_list_forwards_and_backwards(people, per_page):
    paginator, expected = _chained(per_page)
    forwards, _ = _walk(paginator, "", "next_query")
    assert [pk for page in forwards for pk in page] == expected
    backwards, _ = _walk(paginator, "last=1", "previous_query")
    assert [pk for page in reversed(backwards) for pk in page] == expected
    assert backwards[0] == expected[-per_page:]


@pytest.mark.parametrize("cursor", [_b64("[2, 1, 1]"), _b64("[-1, 1, 1]"), _b64('["0", 1, 1]')])
def test_a_chained_cursor_naming_no_part_gives_the_first_page(people, cursor):
    paginator, expected = _chained(3)
    assert _ids(paginator.get_page(QueryDict(f"after={cursor}"))) == expected[:3]


def test_every_page_is_one_query(people, django_assert_num_queries):
    paginator = KeysetPaginator(Member.objects.all(), ["search_name", "id"], per_page=3)
    first = paginator.get_page(QueryDict(""))
    for query in ("", first.next_query, first.last_query, "before=" + first.next_query[6:]):
        with django_assert_num_queries(1):
            paginator.get_page(QueryDict(query))


def test_pages_through_an_annotation(people):
    Member.objects.filter(pk__in=Member.objects.order_by("id").values("pk")[:3]).update(
        joined_on=None
    )
    queryset = Member.objects.annotate(joined_key=JOINED_KEY)
    ordering = ("-joined_key", "-id")
    expected = list(queryset.order_by(*ordering).values_list("pk", flat=True))
    paginator = KeysetPaginator(queryset, ordering, per_page=4)
    forwards, _ = _walk(paginator, "", "next_query")
    assert [pk for page in forwards for pk in page] == expected


def test_an_ordering_must_end_with_the_primary_key():
    with pytest.raises(ValueError):
        KeysetPaginator(Member.objects.all(), ["search_name"], per_page=3)
    with pytest.raises(ValueError):
        KeysetPaginator(Member.objects.all(), ["no_such_field", "id"], per_page=3)
    KeysetPaginator(Member.objects.all(), ["search_name", "pk"], per_page=3)


def test_capped_count(people):
    assert capped_count(Member.objects.all(), 100) == (14, False)
    assert capped_count(Member.objects.all(), 14) == (14, False)
    assert capped_count(Member.objects.all(), 10) == (10, True)
    assert capped_count(Member.objects.filter(full_name="Nobody"), 10) == (0, False)


@pytest.mark.postgres
def test_the_condition_is_an_index_condition_on_postgresql(people):
    """The leading bound reaches the index (an Index Cond), so a deep page does not scan from
    the start of the index."""
    paginator = KeysetPaginator(Member.objects.all(), ["search_name", "id"], per_page=3)
    first = paginator.get_page(QueryDict(""))
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            paginator.get_page(QueryDict(first.next_query))
        cursor.execute("EXPLAIN " + queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "Index Cond: ((search_name)::text >= " in plan
