"""A data-subject request: everything the portal holds about one person, as a ZIP."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest
from django.urls import reverse

from members import privacy
from members.models import LegalBasis, MemberAccess, SubjectRequest

from .conftest import PDF
from .loans.builders import build_loan

pytestmark = pytest.mark.django_db


def url(member) -> str:
    return reverse("privacy:subject_archive", args=[member.pk])


def test_the_archive_holds_the_record_cases_evidence_loans_and_who_read_them(
    client_for, world, make_case
):
    member = world.member_a1
    case = make_case("paid")
    build_loan(world, principal=6_000_000)
    client_for("leader").get(reverse("members:detail", args=[member.pk]))
    response = client_for("admin").post(url(member))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    names = bundle.namelist()
    for part in ("README.txt", "member.json", "cases.json", "loans.json", "access_log.json"):
        assert part in names
    record = json.loads(bundle.read("member.json"))
    assert record["member"]["national_id"] == member.national_id
    assert record["dependants"][0]["full_name"] == "Nguyễn Minh Khôi"
    [paid] = json.loads(bundle.read("cases.json"))
    assert paid["id"] == case.pk and paid["payment"]["amount"] == 3_000_000
    assert [event["action"] for event in paid["events"]][-1] == "paid"
    [evidence] = [name for name in names if name.startswith(f"evidence/{case.pk}/")]
    assert bundle.read(evidence) == PDF
    [loan] = json.loads(bundle.read("loans.json"))
    assert loan["principal"] == 6_000_000 and len(loan["instalments"]) == 12
    log = json.loads(bundle.read("access_log.json"))
    assert any(entry["user__username"] == "leader" for entry in log["member"])
    assert "Nguyễn Văn An" in bundle.read("README.txt").decode()
    # recorded, with who asked
    produced = MemberAccess.objects.get(what=MemberAccess.What.SUBJECT)
    assert (produced.member, produced.user) == (member, world.users["admin"])


def test_only_an_administrator_of_the_persons_union_produces_it(client_for, world):
    for role in ("province", "commune", "grassroots", "treasurer", "leader"):
        assert client_for(role).post(url(world.member_a1)).status_code == 403
    assert client_for("outsider").post(url(world.member_a1)).status_code == 404
    assert client_for("admin").get(url(world.member_a1)).status_code == 405
    assert not MemberAccess.objects.filter(what=MemberAccess.What.SUBJECT).exists()


def test_the_member_page_offers_it_to_administrators_only(client_for, world):
    page = reverse("members:detail", args=[world.member_a1.pk])
    assert url(world.member_a1) in client_for("admin").get(page).content.decode()
    assert url(world.member_a1) not in client_for("grassroots").get(page).content.decode()


def test_the_archive_of_a_worker_without_an_id_number_says_so(client_for, world):
    from ..factories import MemberFactory

    worker = MemberFactory(
        full_name="Lò Văn Thắng", national_id=None, unidentified=True, kind="worker", unit=world.a1
    )
    response = client_for("admin").post(url(worker))
    assert response.status_code == 200
    record = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("member.json"))
    assert (record["member"]["national_id"], record["member"]["unidentified"]) == (None, True)
    assert record["member"]["full_name"] == "Lò Văn Thắng"


def test_the_archive_holds_the_legal_basis_and_the_requests(client_for, world):
    member, today = world.member_a1, datetime.date.today()
    privacy.record_consent(
        member=member, basis=LegalBasis.CONSENT, given_on=today, by=world.users["grassroots"]
    )
    privacy.receive_request(
        member=member,
        kind=SubjectRequest.Kind.ACCESS,
        received_on=today,
        details="Xin bản sao",
        by=world.users["admin"],
    )
    bundle = zipfile.ZipFile(io.BytesIO(client_for("admin").post(url(member)).content))
    record = json.loads(bundle.read("member.json"))
    [basis] = record["legal_basis"]
    assert (basis["basis"], basis["recorded_by__username"]) == ("consent", "grassroots")
    [request] = record["requests"]
    assert (request["kind"], request["details"]) == ("access", "Xin bản sao")
