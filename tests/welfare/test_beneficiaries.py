"""Support to organisations and groups, visits without money, and children named on savings
books and scholarships: the rules of the records, the chain, the forms and the report."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from welfare.cases import approvals
from welfare.cases.documents import DOCUMENTS, decision_context, proposal_context
from welfare.models import (
    BeneficiaryOrganisation,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    LedgerEntry,
    OrganisationKind,
    Payment,
    SupportType,
)
from welfare.reports import figures as report_figures
from welfare.reports import tallies
from welfare.reports.figures import annual_figures
from welfare.reports.narrative import narrative
from welfare.reports.pdf import context as pdf_context
from welfare.reports.xlsx import build_workbook

from ..factories import DependantFactory, MemberFactory
from .conftest import paid_case, pdf_upload
from .test_case_views import case_data

pytestmark = pytest.mark.django_db

YEAR = 2026


def organisation(unit, name="Bệnh viện Đa khoa tỉnh P", kind=OrganisationKind.HEALTH):
    return BeneficiaryOrganisation.objects.create(unit=unit, name=name, kind=kind)


def paid_to_organisation(org, fund, amount, paid_on, by, support_type=SupportType.GRANT):
    case = Case.objects.create(
        unit=org.unit,
        organisation=org,
        category=Category.EPIDEMIC,
        circumstances="—",
        support_type=support_type,
        requested_amount=amount,
        approved_amount=amount,
        fund=fund,
        status=CaseStatus.PAID,
        approved_on=paid_on,
        paid_on=paid_on,
        created_by=by,
    )
    tallies.count_paid([case.pk])
    return case


@pytest.fixture
def mixed_year(world, funds):
    """2026 in P: a 5,000,000 grant and a visit without money for Nguyễn Văn An, a visit
    without money for Đặng Thị Bình, two savings books (3,000,000 each) for An's two
    children, and 20,000,000 to two organisations in three records (one at A1, two at the
    province).  2025: one organisation record of 4,000,000."""
    by = world.users["grassroots"]
    a1, b1 = world.member_a1, world.member_b1
    first = a1.dependants.get()
    second = DependantFactory(member=a1, full_name="Nguyễn Minh Anh")
    paid_case(a1, funds.social, 5_000_000, datetime.date(YEAR, 3, 1), by=by)
    paid_case(a1, funds.social, 0, datetime.date(YEAR, 3, 2), SupportType.VISIT, by=by)
    paid_case(b1, funds.social, 0, datetime.date(YEAR, 4, 2), SupportType.VISIT, by=by)
    for child in (first, second):
        paid_case(
            a1,
            funds.social,
            3_000_000,
            datetime.date(YEAR, 5, 1),
            SupportType.SAVINGS_BOOK,
            by=by,
            dependant=child,
        )
    hospital = organisation(world.a1)
    checkpoint = organisation(
        world.province, "Chốt kiểm dịch cửa khẩu", kind=OrganisationKind.CHECKPOINT
    )
    paid_to_organisation(hospital, funds.social, 10_000_000, datetime.date(YEAR, 6, 1), by)
    paid_to_organisation(checkpoint, funds.social, 6_000_000, datetime.date(YEAR, 6, 2), by)
    paid_to_organisation(checkpoint, funds.social, 4_000_000, datetime.date(YEAR, 7, 2), by)
    paid_to_organisation(checkpoint, funds.social, 4_000_000, datetime.date(YEAR - 1, 7, 2), by)


# --- the records' rules, held by the database ----------------------------------------------


def _insert(world, funds, **fields):
    values = {
        "unit": world.a1,
        "member": world.member_a1,
        "category": Category.ILLNESS,
        "circumstances": "—",
        "support_type": SupportType.GRANT,
        "requested_amount": 1_000_000,
        "fund": funds.social,
        "created_by": world.users["grassroots"],
        **fields,
    }
    with transaction.atomic():
        Case.objects.create(**values)


def test_the_database_refuses_a_record_for_both_or_neither(world, funds):
    hospital = organisation(world.a1)
    with pytest.raises(IntegrityError, match="case_one_beneficiary"):
        _insert(world, funds, organisation=hospital)
    with pytest.raises(IntegrityError, match="case_one_beneficiary"):
        _insert(world, funds, member=None)
    _insert(world, funds, member=None, organisation=hospital)
    assert Case.objects.filter(organisation=hospital).count() == 1


def test_the_database_refuses_a_child_without_a_member(world, funds):
    hospital = organisation(world.a1)
    child = world.member_a1.dependants.get()
    with pytest.raises(IntegrityError, match="case_dependant_has_member"):
        _insert(world, funds, member=None, organisation=hospital, dependant=child)


def test_the_database_allows_zero_only_on_a_visit(world, funds):
    with pytest.raises(IntegrityError, match="case_requested_positive"):
        _insert(world, funds, requested_amount=0)
    with pytest.raises(IntegrityError, match="case_approved_positive"):
        _insert(world, funds, approved_amount=0)
    with pytest.raises(IntegrityError, match="case_requested_positive"):
        _insert(world, funds, support_type=SupportType.VISIT, requested_amount=-1)
    _insert(world, funds, support_type=SupportType.VISIT, requested_amount=0, approved_amount=0)
    assert Case.objects.filter(approved_amount=0).count() == 1


def test_an_organisation_is_one_per_name_at_a_union(world):
    first = approvals.organisation_for(
        unit=world.a1, name="Trường Tiểu học  Bản Péo", kind="school", by=world.users["grassroots"]
    )
    again = approvals.organisation_for(
        unit=world.a1, name="truong tieu hoc ban peo", kind="other", by=world.users["grassroots"]
    )
    assert again.pk == first.pk and first.name == "Trường Tiểu học Bản Péo"
    elsewhere = approvals.organisation_for(
        unit=world.province,
        name="Trường Tiểu học Bản Péo",
        kind="school",
        by=world.users["province"],
    )
    assert elsewhere.pk != first.pk


def test_an_officer_cannot_record_an_organisation_outside_their_union(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        approvals.organisation_for(
            unit=world.b1, name="Trạm y tế xã", kind="health", by=world.users["grassroots"]
        )
    assert not BeneficiaryOrganisation.objects.exists()


# --- the chain -----------------------------------------------------------------------------


def _visit(world, funds, amount=0):
    by = world.users["grassroots"]
    case = approvals.open_case(
        member=world.member_a1,
        unit=world.a1,
        category=Category.ILLNESS,
        circumstances="Thăm hỏi, động viên khi nằm viện.",
        support_type=SupportType.VISIT,
        requested_amount=amount,
        fund=funds.social,
        evidence=[pdf_upload()],
        by=by,
    )
    case = approvals.submit_case(case=case, by=by)
    return approvals.endorse_case(case=case, by=world.users["commune"])


def test_a_zero_visit_approved_is_done_without_a_treasurer_or_money(world, funds):
    entries = LedgerEntry.objects.count()
    case = approvals.approve_case(case=_visit(world, funds), by=world.users["province"], amount=0)
    case.refresh_from_db()
    funds.social.refresh_from_db()
    assert case.status == CaseStatus.PAID
    assert case.paid_on == case.approved_on == datetime.date.today()
    assert case.approved_amount == 0
    assert not Payment.objects.filter(case=case).exists()
    assert LedgerEntry.objects.count() == entries
    assert funds.social.reserved == 0
    paid = case.events.get(action=CaseEvent.Action.PAID)
    assert paid.amount == 0 and "không" in paid.comment.lower()
    # nothing waits for the treasurer, and no voucher is offered for it
    assert case not in approvals.waiting_for(world.users["treasurer"])
    assert not DOCUMENTS["phieu-chi"].available_for(case)


def test_a_grant_cannot_be_approved_at_zero(world, funds, make_case):
    from django.core.exceptions import ValidationError

    case = make_case("endorsed")
    with pytest.raises(ValidationError):
        approvals.approve_case(case=case, by=world.users["province"], amount=0)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_the_zero_visit_documents_say_it_brings_no_money(world, funds):
    case = approvals.approve_case(case=_visit(world, funds), by=world.users["province"], amount=0)
    for context in (proposal_context(case), decision_context(case)):
        assert context["amount"]["none"] and context["amount"]["words"] == ""
    html = DOCUMENTS["quyet-dinh"].template
    from django.template.loader import render_to_string

    text = render_to_string(html, decision_context(case))
    assert "không kèm tiền" in text and "Không đồng" not in text


def test_support_to_an_organisation_goes_through_the_chain_and_is_paid(world, funds, client_for):
    client = client_for("grassroots")
    url = reverse("cases:create") + f"?organisation=1&unit={world.a1.pk}"
    data = case_data(
        funds.social,
        organisation_name="Điểm trường Bản Péo",
        organisation_kind="school",
        organisation_address="Xã Bản Péo",
        category="disaster",
        requested_amount="12.000.000",
    )
    data["evidence"] = pdf_upload()
    response = client.post(url, data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.member is None and case.organisation.name == "Điểm trường Bản Péo"
    assert case.organisation.unit == world.a1
    case = approvals.submit_case(case=case, by=world.users["grassroots"])
    case = approvals.endorse_case(case=case, by=world.users["commune"])
    case = approvals.approve_case(case=case, by=world.users["province"], amount=10_000_000)
    approvals.record_payment(
        case=case,
        by=world.users["treasurer"],
        paid_on=datetime.date.today(),
        method="transfer",
        receipt_reference="UNC-7",
        received_by="Hiệu trưởng Lò Văn Sáng",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.PAID
    entry = LedgerEntry.objects.get(case=case)
    assert "Điểm trường Bản Péo" in entry.description
    page = client_for("commune").get(reverse("cases:detail", args=[case.pk]))
    content = page.content.decode()
    assert "Điểm trường Bản Péo" in content and 'id="earlier-support"' not in content
    listing = client_for("province").get(reverse("cases:list")).content.decode()
    assert "Điểm trường Bản Péo" in listing
    # outside the case's subtree it does not exist
    assert client_for("outsider").get(reverse("cases:detail", args=[case.pk])).status_code == 404
    proposal = proposal_context(case)
    assert proposal["person"]["organisation"] and proposal["person"]["address"] == "Xã Bản Péo"


def test_the_organisation_form_refuses_a_union_outside_the_officer(world, funds, client_for):
    url = reverse("cases:create") + f"?organisation=1&unit={world.b1.pk}"
    assert client_for("grassroots").get(url).status_code == 404


def test_a_savings_book_names_one_of_the_members_children(world, funds, client_for):
    client = client_for("grassroots")
    url = reverse("cases:create") + f"?member={world.member_a1.pk}"
    data = case_data(funds.social, support_type="savings_book", category="death")
    response = client.post(url, data)
    assert response.context["form"].errors == {
        "dependant": ["Hãy chọn người con được nhận sổ tiết kiệm hoặc học bổng."]
    }
    other_child = DependantFactory(member=world.member_b1, full_name="Đặng Minh Châu")
    response = client.post(url, {**data, "dependant": other_child.pk})
    assert "dependant" in response.context["form"].errors
    child = world.member_a1.dependants.get()
    response = client.post(url, {**data, "dependant": child.pk})
    assert response.status_code == 302
    assert Case.objects.get().dependant == child


def test_a_savings_book_for_a_member_without_children_says_so(world, funds, client_for):
    member = MemberFactory(full_name="Vũ Thị Hoa", unit=world.a1)
    url = reverse("cases:create") + f"?member={member.pk}"
    response = client_for("grassroots").post(
        url, case_data(funds.social, support_type="scholarship")
    )
    [message] = response.context["form"].errors["dependant"]
    assert "chưa có con" in message
    assert not Case.objects.exists()


def test_a_grant_form_at_zero_is_refused_and_a_visit_is_accepted(world, funds, client_for):
    client = client_for("grassroots")
    url = reverse("cases:create") + f"?member={world.member_a1.pk}"
    assert (
        "requested_amount"
        in client.post(url, case_data(funds.social, requested_amount="0")).context["form"].errors
    )
    response = client.post(url, case_data(funds.social, support_type="visit", requested_amount="0"))
    assert response.status_code == 302
    assert Case.objects.get().requested_amount == 0


# --- the report ----------------------------------------------------------------------------


def test_the_report_counts_organisations_visits_and_children(world, mixed_year):
    figures = annual_figures(world.province, YEAR)
    totals = figures.totals
    # people: An and Bình only; the organisations are not people
    assert totals.people == 2
    # turns: grant, two visits, two savings books, three organisation records
    assert totals.turns == 8
    assert totals.amount == 5_000_000 + 6_000_000 + 20_000_000
    assert figures.prev_totals.amount == 4_000_000
    assert figures.prev_totals.people == 0
    org = figures.organisations
    assert (org.cases, org.people, org.amount) == (3, 2, 20_000_000)
    assert (org.prev_cases, org.prev_amount) == (1, 4_000_000)
    by_type = {row.key: row for row in figures.by_type}
    assert (by_type["visit"].cases, by_type["visit"].people, by_type["visit"].amount) == (2, 2, 0)
    savings = {row.key: row for row in figures.highlighted}["savings_book"]
    assert (savings.cases, savings.people, savings.children) == (2, 1, 2)
    assert sum(figures.by_month) == totals.amount
    assert sum(row.amount for row in figures.by_child) == totals.amount


def test_the_summary_leaves_organisations_out_of_the_people(world, mixed_year):
    summary = annual_figures(world.province, YEAR, summary=True)
    assert summary.totals.people == 2 and summary.totals.turns == 8
    assert summary.prev_totals.people == 0 and summary.prev_totals.turns == 1


def test_the_narrative_tells_visits_children_and_organisations(world, mixed_year):
    text = narrative(annual_figures(world.province, YEAR))
    assert "thăm hỏi 2 đoàn viên, người lao động với 2 lượt" in text
    assert "2 sổ tiết kiệm cho 2 cháu" in text
    assert "hỗ trợ 2 tổ chức, tập thể với 20 triệu đồng" in text
    assert "hỗ trợ 2 đoàn viên" in text


def test_the_narrative_says_how_many_children_were_named(world, funds, mixed_year):
    # a past record that does not say which child the book went to
    paid_case(
        world.member_b1,
        funds.social,
        3_000_000,
        datetime.date(YEAR, 5, 3),
        SupportType.SAVINGS_BOOK,
        by=world.users["grassroots"],
    )
    text = narrative(annual_figures(world.province, YEAR))
    assert "trao 3 sổ tiết kiệm, trị giá 9 triệu đồng (ghi tên 2 cháu)" in text


def test_the_pdf_and_the_workbook_show_the_organisations_and_children(world, mixed_year):
    figures = annual_figures(world.province, YEAR)
    context = pdf_context(figures, narrative="", report=None)
    labels = [line[0] for line in context["totals"]]
    assert "trong đó: số lượt hỗ trợ tổ chức, tập thể" in labels
    money = dict((line[0], line[1]) for line in context["totals"])
    assert money["trong đó: số tiền hỗ trợ tổ chức, tập thể"].startswith("20.000.000")
    savings = next(row for row in context["highlighted"]["rows"] if row["label"].startswith("Sổ"))
    assert savings["children"] == "2"
    workbook = build_workbook(figures)
    summary = {row[0]: row[1] for row in workbook["Tổng hợp"].iter_rows(values_only=True) if row}
    assert summary["trong đó: số tiền hỗ trợ tổ chức, tập thể (đồng)"] == 20_000_000
    by_type = list(workbook["Theo hình thức hỗ trợ"].iter_rows(values_only=True))
    savings_row = next(row for row in by_type if row[1] and str(row[1]).startswith("Sổ"))
    assert savings_row[-1] == 2


def test_the_figures_read_a_fixed_number_of_queries(
    world, mixed_year, django_assert_max_num_queries
):
    with django_assert_max_num_queries(40):
        annual_figures(world.province, YEAR)


@pytest.mark.postgres
def test_one_pass_counts_them_as_the_queries_do(world, mixed_year):
    for union in (world.province, world.commune_a):
        for year in (YEAR, YEAR - 1):
            base = report_figures.basis(union, year)
            previous = report_figures.basis(union, year - 1)
            for counted, people in ((base, True), (previous, False)):
                one_pass = report_figures._tally_grouping_sets(
                    year, counted.child_of, base.child_of, people
                )
                by_queries = report_figures._tally_by_queries(year, counted, base, people)
                assert one_pass == by_queries, (union, year, people)
    figures = annual_figures(world.province, YEAR)
    assert figures.totals.people == 2 and figures.prev_totals.people == 0


def test_an_organisation_draft_is_edited_on_its_own_form(world, funds, client_for):
    client = client_for("grassroots")
    by = world.users["grassroots"]
    hospital = organisation(world.a1)
    case = approvals.open_case(
        organisation=hospital,
        unit=world.a1,
        category=Category.EPIDEMIC,
        circumstances="Hỗ trợ khu điều trị COVID-19.",
        support_type=SupportType.GRANT,
        requested_amount=5_000_000,
        fund=funds.social,
        by=by,
    )
    url = reverse("cases:edit", args=[case.pk])
    form = client.get(url).context["form"]
    assert form.fields["organisation_name"].initial == hospital.name
    assert "dependant" not in form.fields
    response = client.post(
        url,
        case_data(
            funds.social,
            organisation_name="Trung tâm Y tế huyện A",
            organisation_kind="health",
            requested_amount="6.000.000",
        ),
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.organisation.name == "Trung tâm Y tế huyện A"
    assert case.requested_amount == 6_000_000 and case.member_id is None


def test_a_visit_is_approved_at_zero_on_the_case_page(world, funds, client_for):
    case = _visit(world, funds, amount=500_000)
    response = client_for("province").post(
        reverse("cases:approve", args=[case.pk]), {"amount": "0"}
    )
    assert response.status_code == 302
    page = client_for("province").get(response["Location"]).content.decode()
    assert "Lượt thăm hỏi không kèm tiền đã được phê duyệt và hoàn thành: không chi tiền." in page
    case.refresh_from_db()
    assert (case.status, case.approved_amount) == (CaseStatus.PAID, 0)
    assert not Payment.objects.filter(case=case).exists()
