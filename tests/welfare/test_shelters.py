"""Union shelters (Mái ấm Công đoàn): the work, its money from every contributor, its
progress to the hand-over with a photo, and the report's count of them."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from PIL import Image

from welfare.models import Case, CaseStatus, Program, SupportType
from welfare.programs import views as program_views
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative
from welfare.shelters import services
from welfare.shelters.models import ContributorKind, Progress, Shelter, Work

from .conftest import paid_case

pytestmark = pytest.mark.django_db

Contribution = services.Contribution


def photo(name="ban-giao.png", kind="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def shelter_case(make_case):
    """A shelter case in a given state: make_case's money path, as a shelter."""

    def build(state="approved", amount=40_000_000):
        case = make_case(state, amount=amount)
        Case.objects.filter(pk=case.pk).update(support_type=SupportType.SHELTER)
        case.refresh_from_db()
        return case

    return build


def record(case, world, role="grassroots", cost=80_000_000, others=None) -> Shelter:
    if others is None:
        others = [
            Contribution(ContributorKind.ENTERPRISE, "Công ty Xi măng Đồng Bành", 20_000_000),
            Contribution(ContributorKind.FAMILY, "", 15_000_000),
        ]
    return services.record_shelter(
        case=case, work=Work.BUILD, estimated_cost=cost, contributors=others, by=world.users[role]
    )


def test_a_shelter_keeps_its_work_cost_and_contributors(world, shelter_case):
    case = shelter_case("submitted")
    shelter = record(case, world)
    assert (shelter.work, shelter.estimated_cost) == (Work.BUILD, 80_000_000)
    assert [(c.kind, c.amount) for c in shelter.contributors.all()] == [
        (ContributorKind.ENTERPRISE, 20_000_000),
        (ContributorKind.FAMILY, 15_000_000),
    ]
    # recorded again: replaced, not added to
    record(case, world, others=[Contribution(ContributorKind.GOVERNMENT, "UBND xã", 5_000_000)])
    shelter.refresh_from_db()
    assert [c.kind for c in shelter.contributors.all()] == [ContributorKind.GOVERNMENT]
    assert Shelter.objects.count() == 1


def test_the_money_may_not_pass_the_estimated_cost(world, shelter_case):
    case = shelter_case("submitted")  # the union gives 40.000.000
    with pytest.raises(ValidationError) as refused:
        record(case, world, cost=70_000_000)  # 40 + 20 + 15 > 70
    assert "75.000.000" not in str(refused.value)  # names the parts, in Vietnamese
    assert "40.000.000 ₫" in str(refused.value) and "35.000.000 ₫" in str(refused.value)
    assert not Shelter.objects.exists()


def test_who_may_keep_a_shelter(world, shelter_case, make_case):
    case = shelter_case("submitted")
    with pytest.raises(PermissionDenied):
        record(case, world, role="treasurer")  # reads, does not open cases
    with pytest.raises(Http404):
        record(case, world, role="q_officer")  # another province: not found
    grant = make_case("submitted")
    with pytest.raises(PermissionDenied):
        record(grant, world)  # not a shelter case
    record(case, world, role="province")  # a union above may keep it too
    assert Shelter.objects.count() == 1


def test_progress_goes_forward_to_a_hand_over_with_a_photo(world, shelter_case):
    case = shelter_case("approved")
    shelter = record(case, world)
    today = datetime.date.today()
    by = world.users["grassroots"]
    services.advance_shelter(shelter=shelter, progress=Progress.BUILDING, on=today, by=by)
    with pytest.raises(ValidationError, match="ảnh"):
        services.advance_shelter(shelter=shelter, progress=Progress.HANDED_OVER, on=today, by=by)
    pdf = SimpleUploadedFile("anh.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    with pytest.raises(ValidationError):
        services.advance_shelter(
            shelter=shelter, progress=Progress.HANDED_OVER, on=today, photo=pdf, by=by
        )
    services.advance_shelter(
        shelter=shelter, progress=Progress.HANDED_OVER, on=today, photo=photo(), by=by
    )
    shelter.refresh_from_db()
    assert (shelter.progress, shelter.started_on, shelter.handed_over_on) == (
        Progress.HANDED_OVER,
        today,
        today,
    )
    assert shelter.handover_photo.case_id == case.pk  # kept as the case's evidence
    assert shelter.handover_photo.content_type == "image/png"
    with pytest.raises(ValidationError):
        services.advance_shelter(shelter=shelter, progress=Progress.BUILDING, on=today, by=by)


def test_progress_waits_for_the_approval_and_never_dates_before_it(world, shelter_case):
    by = world.users["grassroots"]
    waiting = record(shelter_case("submitted"), world)
    with pytest.raises(ValidationError, match="phê duyệt"):
        services.advance_shelter(
            shelter=waiting, progress=Progress.BUILDING, on=datetime.date.today(), by=by
        )
    approved = record(shelter_case("approved"), world)
    with pytest.raises(ValidationError):
        services.advance_shelter(
            shelter=approved,
            progress=Progress.BUILDING,
            on=approved.case.approved_on - datetime.timedelta(days=1),
            by=by,
        )
    with pytest.raises(ValidationError):
        services.advance_shelter(
            shelter=approved,
            progress=Progress.BUILDING,
            on=datetime.date.today() + datetime.timedelta(days=1),
            by=by,
        )
    approved.refresh_from_db()
    assert approved.progress == Progress.APPROVED


def test_the_case_page_shows_the_shelter_and_takes_its_progress(client_for, world, shelter_case):
    case = shelter_case("approved")
    client = client_for("grassroots")
    edit = reverse("shelters:edit", args=[case.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {
            "work": "repair",
            "estimated_cost": "60.000.000",
            "others-TOTAL_FORMS": "2",
            "others-INITIAL_FORMS": "0",
            "others-0-kind": "government",
            "others-0-name": "UBND xã Hữu Lũng",
            "others-0-amount": "10.000.000",
            "others-1-kind": "",
            "others-1-name": "",
            "others-1-amount": "",
        },
    )
    assert response.status_code == 302
    shelter = Shelter.objects.get(case=case)
    assert (shelter.work, shelter.contributors.get().amount) == (Work.REPAIR, 10_000_000)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="shelter"' in page and "60.000.000 ₫" in page and "UBND xã Hữu Lũng" in page
    client.post(
        reverse("shelters:progress", args=[case.pk]),
        {"progress": "handed_over", "on": datetime.date.today().isoformat(), "photo": photo()},
    )
    shelter.refresh_from_db()
    assert shelter.progress == Progress.HANDED_OVER
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:evidence", args=[shelter.handover_photo_id]) in page
    # a grant's page has no shelter card, and its shelter pages are refused
    assert client.get(reverse("shelters:edit", args=[case.pk + 999])).status_code == 404


def test_the_report_counts_shelters_built_and_repaired_with_their_money(world, funds):
    by = world.users["grassroots"]
    people = [world.member_a1, world.member_b1]
    cases = [
        paid_case(
            member, funds.social, amount, datetime.date(2025, 5, 10), SupportType.SHELTER, by=by
        )
        for member, amount in zip(people, (50_000_000, 30_000_000), strict=True)
    ]
    earlier = paid_case(
        world.member_a1,
        funds.social,
        20_000_000,
        datetime.date(2024, 3, 1),
        SupportType.SHELTER,
        by=by,
    )
    for case, work, cost, others in (
        (cases[0], Work.BUILD, 90_000_000, [20_000_000, 10_000_000]),
        (cases[1], Work.REPAIR, 45_000_000, [5_000_000]),
        (earlier, Work.BUILD, 60_000_000, []),
    ):
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.PAID)
        services.record_shelter(
            case=case,
            work=work,
            estimated_cost=cost,
            contributors=[Contribution(ContributorKind.ENTERPRISE, "", a) for a in others],
            by=world.users["province"],
        )
    figures = annual_figures(world.province, 2025)
    now, before = figures.shelters.now, figures.shelters.before
    assert (now.built, now.repaired, now.cost, now.union, now.others) == (
        1,
        1,
        135_000_000,
        80_000_000,
        35_000_000,
    )
    assert (before.built, before.repaired, before.union) == (1, 0, 20_000_000)
    text = narrative(figures)
    assert "1 căn xây mới" in text or "xây mới 1" in text
    assert "135 triệu đồng" in text and "80 triệu đồng" in text and "35 triệu đồng" in text
    # a commune union counts its own: commune B has the repaired one only
    commune_b = annual_figures(world.commune_b, 2025).shelters.now
    assert (commune_b.built, commune_b.repaired, commune_b.others) == (0, 1, 5_000_000)


def test_a_shelter_programs_page_lists_its_shelters_by_progress(
    client_for, world, make_batch, people, django_assert_max_num_queries, monkeypatch
):
    batch = make_batch(members=people[:3], state="approved")
    Program.objects.filter(pk=batch.program_id).update(support_type=SupportType.SHELTER)
    Case.objects.filter(batch=batch).update(support_type=SupportType.SHELTER)
    cases = list(Case.objects.filter(batch=batch).order_by("pk"))
    by = world.users["grassroots"]
    for case in cases:
        services.record_shelter(
            case=case, work=Work.BUILD, estimated_cost=50_000_000, contributors=[], by=by
        )
    services.advance_shelter(
        shelter=cases[0].shelter, progress=Progress.BUILDING, on=datetime.date.today(), by=by
    )
    url = reverse("programs:detail", args=[batch.program_id])
    client = client_for("province")
    client.get(url)
    with django_assert_max_num_queries(12):
        page = client.get(url)
    # A city's shelter program takes hundreds of units, more than a page shows: the units
    # are counted with the program's figures, in the same twelve queries.
    monkeypatch.setattr(program_views, "UNITS_PER_PAGE", 1)
    with django_assert_max_num_queries(12):
        paged = client.get(url)
    assert paged.context["unit_page"].paginator.count == page.context["totals"]["units"] > 1
    assert [(label, count) for _value, label, count in page.context["shelter_progress"]] == [
        ("Đã phê duyệt, chưa khởi công", 2),
        ("Đang thi công", 1),
        ("Đã bàn giao", 0),
    ]
    body = page.content.decode()
    assert 'id="program-shelters"' in body and people[0].full_name in body
    # an officer of B1, which takes part, sees the counts but not A1's people
    page = client_for("b1_officer").get(url)
    assert page.status_code == 200 and page.context["shelter_count"] == 3
    assert list(page.context["shelters"]) == []
    assert people[0].full_name not in page.content.decode()
    # another province does not find the program
    assert client_for("q_officer").get(url).status_code == 404
