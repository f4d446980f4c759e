"""A batch's people from a spreadsheet: checked against the people the batch may list, their
own amounts or the program's, nothing twice, and only while the batch may be changed."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from common.imports import engine
from common.models import ImportJob
from welfare.programs.models import BatchLine

pytestmark = pytest.mark.django_db

HEADER = ["Số định danh cá nhân (CCCD)", "Họ và tên", "Số tiền (đồng)"]


def sheet(rows) -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, batch, rows):
    return client.post(
        reverse("programs:batch_import", args=[batch.pk]),
        {"file": SimpleUploadedFile("danh-sach-tet.xlsx", sheet(rows))},
    )


def reasons(job) -> dict[int, str]:
    return {
        row["line"]: " ".join(reason for _c, reason in row["errors"]) for row in job.refused_sample
    }


def test_a_list_adds_its_people_at_their_amounts_once(client_for, world, make_batch, people):
    batch = make_batch()  # lists the A1 member already
    client = client_for("grassroots")
    rows = [
        [people[0].national_id, people[0].full_name, ""],  # poor household: 1.000.000
        [people[1].national_id, people[1].full_name.upper(), "750.000"],
        [world.member_a1.national_id, "", ""],  # already on the batch
        [world.member_b1.national_id, "", ""],  # of B1, not of A1
        ["001234567890", "", ""],  # nobody
        [people[2].national_id, "Tên Khác", ""],  # not this person's name
        [people[3].national_id, "", "0"],
        [people[1].national_id, "", "500.000"],  # twice in the file
    ]
    response = upload(client, batch, rows)
    job = ImportJob.objects.get(kind=ImportJob.Kind.BATCH)
    assert response["Location"] == reverse("batch_imports:detail", args=[job.pk])
    assert (job.to_create, job.unchanged, job.refused) == (2, 1, 5), job.refused_sample
    why = reasons(job)
    assert world.a1.name in why[5]  # B1's member is not of A1
    assert people[2].full_name in why[7]
    assert "“0”" in why[8]  # amount_from refuses a zero amount
    assert "dòng 3" in why[9]
    page = client.get(reverse("batch_imports:detail", args=[job.pk])).content.decode()
    assert reverse("programs:batch", args=[batch.pk]) in page  # back to the batch

    client.post(reverse("batch_imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    amounts = dict(BatchLine.objects.filter(batch=batch).values_list("member_id", "amount"))
    assert amounts[people[0].pk] == 1_000_000 and amounts[people[1].pk] == 750_000
    assert len(amounts) == 3

    upload(client, batch, rows[:2])
    again = ImportJob.objects.filter(kind=ImportJob.Kind.BATCH).latest("pk")
    assert (again.to_create, again.unchanged) == (0, 2)


def test_a_list_waits_for_a_batch_that_may_be_changed(client_for, world, make_batch, people):
    batch = make_batch()
    client = client_for("grassroots")
    upload(client, batch, [[people[0].national_id, "", ""]])
    job = ImportJob.objects.get(kind=ImportJob.Kind.BATCH)
    # the batch is submitted before the list is confirmed: nothing is written, and it says why
    from welfare.programs import services

    services.submit_batch(batch=batch, by=world.users["grassroots"])
    engine.confirm_import(job=job, by=world.users["grassroots"])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.error
    assert not BatchLine.objects.filter(batch=batch, member=people[0]).exists()
    # and a submitted batch takes no new list
    response = upload(client, batch, [[people[0].national_id, "", ""]])
    assert response.status_code == 302
    assert ImportJob.objects.filter(kind=ImportJob.Kind.BATCH).count() == 1


def test_the_empty_list_and_the_upload_are_on_the_add_people_page(client_for, make_batch):
    batch = make_batch()
    client = client_for("grassroots")
    page = client.get(reverse("programs:batch_people", args=[batch.pk])).content.decode()
    assert 'id="batch-import"' in page
    template = client.get(reverse("batch_imports:template"))
    assert template.status_code == 200 and template["Content-Disposition"].endswith('.xlsx"')
