import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_holds_exactly_the_filtered_list_in_scope(client_for, world):
    response = client_for("province").get(
        reverse("members:export", args=["csv"]), {"q": "nguyen van"}
    )
    rows = csv_rows(response)
    assert response["Content-Disposition"].startswith("attachment")
    assert [row[0] for row in rows[1:]] == ["Nguyễn Văn An"]
    # the ID number masked, but for its last four digits
    assert rows[1][3] == "••••••••" + world.member_a1.national_id[-4:]


def test_export_never_leaks_outside_scope(client_for, world):
    rows = csv_rows(client_for("commune").get(reverse("members:export", args=["csv"])))
    names = [row[0] for row in rows[1:]]
    assert names == ["Nguyễn Văn An"]  # not commune B's, not province Q's


def test_xlsx_export_opens_with_vietnamese_text(client_for, world):
    response = client_for("province").get(reverse("members:export", args=["xlsx"]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    names = sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == ["Nguyễn Văn An", "Đặng Thị Bình"]


def test_unknown_export_format_is_not_found(client_for, world):
    assert client_for("province").get(reverse("members:export", args=["pdf"])).status_code == 404


def test_export_runs_a_fixed_number_of_queries(client_for, world, django_assert_max_num_queries):
    from ..factories import MemberFactory

    for index in range(30):
        MemberFactory(full_name=f"Lý Thị Mai {index}", unit=world.a2)
    client = client_for("province")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("members:export", args=["csv"]))
        rows = csv_rows(response)
    assert len(rows) == 33
