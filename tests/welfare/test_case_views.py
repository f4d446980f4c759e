"""The case pages as the people on the money path use them: every step and every refusal
through the views, the evidence files, the earlier-support warning, and the query counts.

World: province P ── commune A ── grassroots A1 (officers ``grassroots`` and ``a1_chair``);
commune B ── B1; province Q ── Q1 (outside every demo role).  Funds: P's social fund (100M),
commune A's fund (20M), A1's own fund (5M), Q's social fund (50M).
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from unions.models import Role, RoleAssignment
from welfare.cases import approvals
from welfare.cases.forms import parse_dong
from welfare.models import Case, CaseAccess, CaseEvent, CaseStatus, LedgerEntry, Payment

from ..factories import MemberFactory, make_user
from .conftest import PDF, PNG, pdf_upload

pytestmark = pytest.mark.django_db

Action = CaseEvent.Action
TODAY = datetime.date.today


def url(name: str, *args) -> str:
    return reverse(f"cases:{name}", args=args)


def gettext_vi(msgid: str, **params) -> str:
    """A message as the portal says it by default: in Vietnamese."""
    with translation.override("vi"):
        text = gettext(msgid)
    return text % params if params else text


def told(response) -> str:
    """The last message the response left for the user."""
    return [str(message) for message in get_messages(response.wsgi_request)][-1]


def case_data(fund, **overrides) -> dict:
    data = {
        "category": "accident",
        "circumstances": "Tai nạn lao động khi sửa đường ống, nằm viện 3 tuần.",
        "support_type": "grant",
        "requested_amount": "1.500.000",
        "fund": fund.pk,
    }
    data.update(overrides)
    return data


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def pay_data(**overrides) -> dict:
    data = {
        "paid_on": TODAY().isoformat(),
        "method": "cash",
        "receipt_reference": "PC-117/2025",
        "received_by": "Nguyễn Văn An",
    }
    data.update(overrides)
    return data


# --- amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1.500.000 ₫", 1_500_000),
        ("2.000.000đ", 2_000_000),
        ("950", 950),
    ],
)
def test_amounts_are_typed_the_way_people_write_them(typed, amount):
    assert parse_dong(typed) == amount


@pytest.mark.parametrize("typed", ["1,5", "1.500.000,50", "1.5000", "1,5 triệu", "abc", "-5"])
def test_amounts_that_are_not_whole_dong_are_refused(typed):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        parse_dong(typed)


# --- a new case ----------------------------------------------------------------------------


def test_officer_opens_a_draft_with_evidence_and_an_amount_with_dots(client_for, world, funds):
    client = client_for("grassroots")
    response = client.post(
        url("create") + f"?member={world.member_a1.pk}",
        {**case_data(funds.social), "evidence": [pdf_upload(), pdf_upload("ho-so-benh-an.pdf")]},
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", case.pk)
    assert case.status == CaseStatus.DRAFT
    assert case.unit == world.a1
    assert case.member == world.member_a1
    assert case.created_by == world.users["grassroots"]
    assert case.requested_amount == 1_500_000
    assert sorted(case.evidence.values_list("original_name", flat=True)) == [
        "giay-xac-nhan.pdf",
        "ho-so-benh-an.pdf",
    ]
    assert events(case) == [Action.CREATED]


def test_a_draft_may_be_saved_without_evidence_but_not_submitted(client_for, world, funds):
    client = client_for("grassroots")
    client.post(url("create") + f"?member={world.member_a1.pk}", case_data(funds.social))
    case = Case.objects.get()
    response = client.post(url("submit", case.pk))
    assert response.status_code == 302
    assert told(response) == gettext_vi("Attach at least one evidence file before submitting.")
    assert reload(case).status == CaseStatus.DRAFT


def test_the_new_case_form_offers_the_funds_of_the_union_and_those_above(client_for, world, funds):
    response = client_for("grassroots").get(url("create"), {"member": world.member_a1.pk})
    offered = set(response.context["form"].fields["fund"].queryset)
    assert offered == {funds.own, funds.commune, funds.social}


def test_a_fund_of_another_province_is_not_a_valid_choice(client_for, world, funds):
    client = client_for("province")
    response = client.post(
        url("create") + f"?member={world.member_a1.pk}",
        {**case_data(funds.other), "evidence": pdf_upload()},
    )
    assert response.status_code == 200
    assert "fund" in response.context["form"].errors
    assert not Case.objects.exists()


@pytest.mark.parametrize("role", ["admin", "treasurer", "leader"])
def test_roles_that_do_not_open_cases_are_refused(client_for, world, funds, role):
    client = client_for(role)
    assert client.get(url("create")).status_code == 403
    assert client.get(url("create"), {"member": world.member_a1.pk}).status_code == 403


def test_a_person_outside_scope_is_not_found(client_for, world, funds):
    assert (
        client_for("grassroots").get(url("create"), {"member": world.member_b1.pk}).status_code
        == 404
    )
    assert (
        client_for("province").get(url("create"), {"member": world.member_q1.pk}).status_code == 404
    )
    assert client_for("province").get(url("create"), {"member": "x1"}).status_code == 404


def test_the_person_is_found_by_name_among_the_officers_members(client_for, world, funds):
    response = client_for("grassroots").get(url("create"), {"q": "nguyen"})
    assert response.status_code == 200
    assert [m.pk for m in response.context["found"]] == [world.member_a1.pk]
    response = client_for("grassroots").get(url("create"), {"q": "dang thi"})
    assert response.context["found"] == []


# --- the money path through the views --------------------------------------------------------


def test_the_whole_path_moves_exactly_the_paid_amount(client_for, world, funds, media_root):
    client = client_for("grassroots")
    client.post(
        url("create") + f"?member={world.member_a1.pk}",
        {**case_data(funds.social, requested_amount="3.000.000"), "evidence": pdf_upload()},
    )
    case = Case.objects.get()
    assert client.post(url("submit", case.pk), {"comment": "Gấp"}).status_code == 302
    assert reload(case).current_unit == world.commune_a

    assert client_for("commune").post(url("endorse", case.pk)).status_code == 302
    assert reload(case).current_unit == world.province

    response = client_for("province").post(
        url("approve", case.pk), {"amount": "2.500.000", "comment": "Hỗ trợ theo mức 2"}
    )
    assert response.status_code == 302
    funds.social.refresh_from_db()
    assert (funds.social.balance, funds.social.reserved) == (100_000_000, 2_500_000)

    response = client_for("treasurer").post(url("pay", case.pk), pay_data())
    assert response.status_code == 302
    case = reload(case)
    funds.social.refresh_from_db()
    assert case.status == CaseStatus.PAID
    assert (funds.social.balance, funds.social.reserved) == (97_500_000, 0)
    assert case.payment.amount == 2_500_000
    assert case.payment.receipt_reference == "PC-117/2025"
    assert events(case) == [
        Action.CREATED,
        Action.SUBMITTED,
        Action.ENDORSED,
        Action.APPROVED,
        Action.PAID,
    ]
    page = client_for("leader").get(url("detail", case.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hỗ trợ theo mức 2" in text  # the approver's comment on the timeline
    assert "2.500.000 ₫" in text and "PC-117/2025" in text


def test_a_case_on_the_unions_own_fund_goes_straight_to_its_own_approver(
    client_for, world, funds, make_case
):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    assert case.current_unit == world.a1
    response = client_for("a1_chair").post(url("approve", case.pk), {"amount": "1000000"})
    assert response.status_code == 302
    assert reload(case).status == CaseStatus.APPROVED


def test_submitting_tells_the_next_level_by_email(
    client_for, world, make_case, eager_celery, django_capture_on_commit_callbacks
):
    case = make_case("draft")
    with django_capture_on_commit_callbacks(execute=True):
        client_for("grassroots").post(url("submit", case.pk))
    assert [message.to for message in mail.outbox] == [[world.users["commune"].email]]


def test_the_approved_amount_may_differ_and_is_reserved(client_for, world, funds, make_case):
    case = make_case("endorsed", amount=3_000_000)
    page = client_for("province").get(url("detail", case.pk))
    assert page.context["forms"]["approve"]["amount"].value() == 3_000_000
    assert 'value="3.000.000"' in page.content.decode()
    client_for("province").post(url("approve", case.pk), {"amount": "2 000 000"})
    funds.social.refresh_from_db()
    assert reload(case).approved_amount == 2_000_000
    assert funds.social.reserved == 2_000_000


@pytest.mark.parametrize("action", ["return", "reject"])
def test_return_and_reject_need_a_reason(client_for, world, make_case, action):
    case = make_case("submitted")
    response = client_for("commune").post(url(action, case.pk), {"comment": "  "})
    assert response.status_code == 200
    assert response.context["forms"]["reason"].errors["comment"]
    assert reload(case).status == CaseStatus.SUBMITTED


def test_rejecting_with_a_reason_ends_the_case(client_for, world, make_case):
    case = make_case("submitted")
    response = client_for("commune").post(
        url("reject", case.pk), {"comment": "Không thuộc đối tượng hỗ trợ."}
    )
    assert response.status_code == 302
    case = reload(case)
    assert case.status == CaseStatus.REJECTED
    assert case.current_unit is None
    assert (
        "Không thuộc đối tượng hỗ trợ."
        in client_for("grassroots").get(url("detail", case.pk)).content.decode()
    )


def test_returned_case_is_edited_and_resubmitted_and_its_history_stays(
    client_for, world, funds, make_case
):
    case = make_case("submitted")
    client_for("commune").post(url("return", case.pk), {"comment": "Bổ sung giấy ra viện."})
    assert reload(case).status == CaseStatus.RETURNED

    officer = client_for("grassroots")
    home = officer.get(reverse("home"))
    assert home.context["returned_count"] == 1
    response = officer.post(
        url("edit", case.pk),
        {
            **case_data(funds.social, requested_amount="4.000.000"),
            "evidence": pdf_upload("ra-vien.pdf"),
        },
    )
    assert response.status_code == 302
    assert officer.post(url("submit", case.pk)).status_code == 302
    case = reload(case)
    assert case.status == CaseStatus.SUBMITTED
    assert case.requested_amount == 4_000_000
    assert case.evidence.count() == 2
    assert events(case) == [
        Action.CREATED,
        Action.SUBMITTED,
        Action.RETURNED,
        Action.EDITED,
        Action.SUBMITTED,
    ]
    page = client_for("commune").get(url("detail", case.pk)).content.decode()
    assert "Bổ sung giấy ra viện." in page  # the reason stays on the timeline
    # A new round: the commune decides again.
    assert client_for("commune").post(url("endorse", case.pk)).status_code == 302
    assert reload(case).current_unit == world.province


def test_a_case_in_review_cannot_be_edited(client_for, world, make_case):
    case = make_case("submitted")
    response = client_for("grassroots").get(url("edit", case.pk))
    assert response.status_code == 302
    assert told(response) == gettext_vi("Only a draft or a returned case can be changed.")


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "action", "state"),
    [
        ("leader", "endorse", "submitted"),
        ("treasurer", "return", "submitted"),
        ("admin", "reject", "submitted"),
        ("grassroots", "endorse", "submitted"),  # not a level on the case's route
        ("commune", "pay", "approved"),
        ("province", "pay", "approved"),
        ("treasurer", "approve", "endorsed"),
        ("leader", "submit", "draft"),
        ("treasurer", "evidence_add", "draft"),
        ("admin", "edit", "draft"),
    ],
)
def test_a_role_that_can_never_take_the_step_gets_403(
    client_for, world, make_case, role, action, state
):
    case = make_case(state)
    before = events(case)
    assert client_for(role).post(url(action, case.pk)).status_code == 403
    assert events(case) == before


@pytest.mark.parametrize("name", ["detail", "edit", "endorse", "approve", "pay", "submit"])
def test_a_case_outside_scope_is_not_found(client_for, world, funds, make_case, name):
    in_q = make_case("submitted", fund=funds.other, member=world.member_q1)
    in_b1 = make_case("submitted", member=world.member_b1, by=world.users["province"])
    for role in ("province", "commune", "grassroots", "treasurer"):
        client = client_for(role)
        request = client.get if name in ("detail", "edit") else client.post
        assert request(url(name, in_q.pk)).status_code == 404, role
        if role in ("commune", "grassroots"):  # the neighbouring commune's case
            assert request(url(name, in_b1.pk)).status_code == 404, role


def test_nobody_decides_on_a_case_they_created(client_for, world, funds, make_case):
    case = make_case("submitted", fund=funds.commune, by=world.users["commune"])
    assert case.current_unit == world.commune_a
    client = client_for("commune")
    page = client.get(url("detail", case.pk))
    assert "approve" not in page.context["actions"]
    response = client.post(url("approve", case.pk), {"amount": "3000000"})
    assert response.status_code == 302
    assert told(response) == gettext_vi("You created this case, so someone else must decide on it.")
    assert reload(case).status == CaseStatus.SUBMITTED
    assert case not in approvals.waiting_for(world.users["commune"])


def test_a_reviewer_who_edited_a_returned_case_cannot_decide_on_it(
    client_for, world, funds, make_case
):
    """Otherwise a reviewer could return a case, raise its amount, resubmit and pass it."""
    case = make_case("submitted", fund=funds.commune)
    commune = client_for("commune")
    commune.post(url("return", case.pk), {"comment": "Sai số tiền."})
    commune.post(url("edit", case.pk), case_data(funds.commune, requested_amount="9.000.000"))
    commune.post(url("submit", case.pk))
    assert reload(case).status == CaseStatus.SUBMITTED
    response = commune.post(url("approve", case.pk), {"amount": "9.000.000"})
    assert told(response) == gettext_vi("You edited this case, so someone else must decide on it.")
    assert reload(case).status == CaseStatus.SUBMITTED
    assert case not in approvals.waiting_for(world.users["commune"])


def test_a_double_click_on_endorse_records_one_endorsement(client_for, world, make_case):
    case = make_case("submitted")
    client = client_for("commune")
    assert client.post(url("endorse", case.pk)).status_code == 302
    second = client.post(url("endorse", case.pk))
    assert second.status_code == 302
    assert told(second) == gettext_vi(
        "This case is waiting for a decision at %(unit)s.", unit=world.province.name
    )
    assert events(case).count(Action.ENDORSED) == 1


def test_nobody_acts_twice_on_one_case_even_holding_two_levels(
    client_for, client, world, make_case
):
    both = make_user("both_levels", Role.STAFF, world.commune_a)
    RoleAssignment.objects.create(user=both, unit=world.province, role=Role.PROVINCE_STAFF)
    case = make_case("submitted")
    client.force_login(both)
    assert client.post(url("endorse", case.pk)).status_code == 302
    assert reload(case).current_unit == world.province
    response = client.post(url("approve", case.pk), {"amount": "3.000.000"})
    assert response.status_code == 302
    assert told(response) == gettext_vi("You have already acted on this case.")
    assert reload(case).status == CaseStatus.SUBMITTED


def test_approval_beyond_the_funds_available_is_refused_and_nothing_is_reserved(
    client_for, world, funds, make_case
):
    case = make_case("submitted", fund=funds.own, amount=3_000_000)
    response = client_for("a1_chair").post(url("approve", case.pk), {"amount": "6.000.000"})
    assert response.status_code == 200
    errors = response.context["forms"]["approve"].errors["amount"]
    assert errors == [
        gettext_vi(
            "%(fund)s cannot cover %(amount)s: only %(available)s is available.",
            fund=funds.own.name,
            amount="6.000.000 ₫",
            available="5.000.000 ₫",
        )
    ]
    assert escape(errors[0]) in response.content.decode()
    funds.own.refresh_from_db()
    assert (funds.own.balance, funds.own.reserved) == (5_000_000, 0)
    assert reload(case).status == CaseStatus.SUBMITTED


def test_paying_twice_records_one_payment(client_for, world, funds, make_case):
    case = make_case("approved", amount=3_000_000)
    client = client_for("treasurer")
    first = client.post(url("pay", case.pk), pay_data())
    second = client.post(url("pay", case.pk), pay_data())
    assert (first.status_code, second.status_code) == (302, 302)
    assert told(second) == gettext_vi(
        "The payment of this case was already recorded. Nothing more was recorded."
    )
    assert Payment.objects.filter(case=case).count() == 1
    assert LedgerEntry.objects.filter(case=case).count() == 1
    funds.social.refresh_from_db()
    assert (funds.social.balance, funds.social.reserved) == (97_000_000, 0)


def test_a_payment_dated_in_the_future_is_refused_on_the_form(client_for, world, make_case):
    case = make_case("approved")
    tomorrow = (TODAY() + datetime.timedelta(days=1)).isoformat()
    response = client_for("treasurer").post(url("pay", case.pk), pay_data(paid_on=tomorrow))
    assert response.status_code == 200
    assert response.context["forms"]["pay"].errors["paid_on"]
    assert not Payment.objects.exists()


# --- evidence ------------------------------------------------------------------------------


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    "bad",
    [
        upload("giay-xac-nhan.pdf", b"this is not a pdf at all, only text"),
        upload("giay-xac-nhan.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64),  # .exe
    ],
    ids=["garbage", "exe-renamed-pdf"],
)
def test_a_file_that_is_not_a_pdf_jpeg_or_png_is_refused(client_for, world, make_case, bad):
    case = make_case("draft")
    response = client_for("grassroots").post(url("evidence_add", case.pk), {"files": bad})
    assert response.status_code == 200
    assert response.context["forms"]["evidence"].errors["files"] == [
        gettext_vi("%(name)s is not a PDF, JPEG or PNG file.", name="giay-xac-nhan.pdf")
    ]
    assert case.evidence.count() == 1  # only the one make_case attached


def test_a_file_over_10_mb_is_refused(client_for, world, make_case):
    case = make_case("draft")
    big = upload("chup-cat-lop.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = client_for("grassroots").post(url("evidence_add", case.pk), {"files": big})
    assert response.context["forms"]["evidence"].errors["files"] == [
        gettext_vi("%(name)s is larger than 10 MB.", name="chup-cat-lop.pdf")
    ]
    assert case.evidence.count() == 1


def test_a_bad_file_on_the_new_case_form_saves_nothing(client_for, world, funds):
    response = client_for("grassroots").post(
        url("create") + f"?member={world.member_a1.pk}",
        {**case_data(funds.social), "evidence": upload("scan.pdf", b"GIF89a....")},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"]
    assert not Case.objects.exists()


def test_evidence_is_added_to_a_draft_and_downloaded_inside_scope(client_for, world, make_case):
    case = make_case("draft")
    png = upload("ảnh chụp giấy.png", PNG, "image/png")
    response = client_for("grassroots").post(url("evidence_add", case.pk), {"files": png})
    assert response.status_code == 302
    evidence = case.evidence.get(original_name="ảnh chụp giấy.png")
    assert evidence.content_type == "image/png"

    download = client_for("leader").get(url("evidence", evidence.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E1%BA%A3nh" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    # Never a page of the portal's origin, even if a browser rendered it.
    assert download["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert "no-store" in download["Cache-Control"]


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ({"HTTP_SEC_FETCH_SITE": "same-origin"}, True),  # the "view" link of the case page
        ({"HTTP_SEC_FETCH_SITE": "cross-site"}, False),  # a link on another site
        ({"HTTP_SEC_FETCH_SITE": "none"}, False),  # an address typed or bookmarked
        ({}, False),  # a client that says nothing
    ],
)
def test_an_image_is_previewed_only_from_the_portals_own_pages(
    client_for, world, make_case, headers, shown
):
    case = make_case("draft")
    client = client_for("grassroots")
    client.post(url("evidence_add", case.pk), {"files": upload("giay.png", PNG, "image/png")})
    evidence = case.evidence.get(original_name="giay.png")
    page = client.get(url("detail", case.pk)).content.decode()
    assert f'href="{url("evidence", evidence.pk)}?xem=1"' in page
    response = client.get(url("evidence", evidence.pk), {"xem": "1"}, **headers)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;" if shown else "attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    # A preview is an access to the file like a download.
    assert case.accesses.filter(what="evidence", evidence_name="giay.png").count() == 1


def test_a_pdf_preview_keeps_the_viewer_and_frames_nothing(client_for, world, make_case):
    case = make_case("draft")
    client = client_for("grassroots")
    pdf = upload("phieu-ra-vien.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    client.post(url("evidence_add", case.pk), {"files": pdf})
    evidence = case.evidence.get(original_name="phieu-ra-vien.pdf")
    response = client.get(
        url("evidence", evidence.pk), {"xem": "1"}, HTTP_SEC_FETCH_SITE="same-origin"
    )
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; frame-ancestors 'none'"
    )
    assert response["X-Frame-Options"] == "DENY"


def test_a_pdf_carrying_javascript_is_refused_with_a_vietnamese_reason(
    client_for, world, make_case
):
    case = make_case("draft")
    scripted = upload(
        "giay-moi.pdf",
        b"%PDF-1.4\n1 0 obj<< /OpenAction << /S /JavaScript /J#53 (app.alert(1)) >> >>endobj\n"
        b"%%EOF\n",
    )
    response = client_for("grassroots").post(url("evidence_add", case.pk), {"files": scripted})
    assert response.status_code == 200
    [error] = response.context["forms"]["evidence"].errors["files"]
    assert error.startswith("Tệp giay-moi.pdf là tệp PDF có chứa mã lệnh")
    assert case.evidence.count() == 1


def test_a_file_name_is_shown_escaped_on_the_case_page(client_for, world, make_case):
    case = make_case("draft")
    named = upload("<img src=x onerror=alert(1)>.png", PNG, "image/png")
    client_for("grassroots").post(url("evidence_add", case.pk), {"files": named})
    page = client_for("grassroots").get(url("detail", case.pk)).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page
    assert "<img src=x" not in page


def test_evidence_outside_scope_is_not_found(client_for, world, funds, make_case):
    in_q = make_case("draft", fund=funds.other, member=world.member_q1)
    in_b1 = make_case("draft", member=world.member_b1, by=world.users["province"])
    for role in ("admin", "province", "commune", "grassroots", "treasurer", "leader"):
        assert client_for(role).get(url("evidence", in_q.evidence.get().pk)).status_code == 404
    for role in ("commune", "grassroots"):
        assert client_for(role).get(url("evidence", in_b1.evidence.get().pk)).status_code == 404
    assert client_for("province").get(url("evidence", in_b1.evidence.get().pk)).status_code == 200


def test_evidence_cannot_be_added_once_submitted(client_for, world, make_case):
    case = make_case("submitted")
    response = client_for("grassroots").post(url("evidence_add", case.pk), {"files": pdf_upload()})
    assert response.status_code == 302
    assert case.evidence.count() == 1


# --- earlier support -----------------------------------------------------------------------


@pytest.fixture
def supported_elsewhere(world, make_case):
    """Đặng Thị Bình, proposed for 2.000.000 at B1 (commune B), also on A1's list under an old
    ID card: the same person by name and date of birth."""
    at_b1 = make_case(
        "submitted", member=world.member_b1, amount=2_000_000, by=world.users["province"]
    )
    twin = MemberFactory(
        full_name="Đặng Thị Bình",
        sex="female",
        date_of_birth=world.member_b1.date_of_birth,
        national_id="020123456",
        unit=world.a1,
    )
    return at_b1, twin


def test_officer_sees_earlier_support_elsewhere_but_not_the_other_unions_case(
    client_for, world, supported_elsewhere
):
    at_b1, twin = supported_elsewhere
    response = client_for("grassroots").get(url("create"), {"member": twin.pk})
    text = response.content.decode()
    assert 'id="earlier-support"' in text
    assert "2.000.000 ₫" in text
    assert [row["case_id"] for row in response.context["earlier"]] == [None]
    assert url("detail", at_b1.pk) not in text


def test_approver_sees_the_warning_and_links_only_cases_in_scope(
    client_for, world, funds, make_case, supported_elsewhere
):
    at_b1, twin = supported_elsewhere
    case = make_case("submitted", member=twin)
    commune_page = client_for("commune").get(url("detail", case.pk))
    assert 'id="earlier-support"' in commune_page.content.decode()
    assert url("detail", at_b1.pk) not in commune_page.content.decode()
    province_page = client_for("province").get(url("detail", case.pk))
    assert [row["case_id"] for row in province_page.context["earlier"]] == [at_b1.pk]
    assert url("detail", at_b1.pk) in province_page.content.decode()


# --- lists, counts and the pages around them ------------------------------------------------


def _many_cases(world, funds, make_case, count=30):
    """``count`` cases at A1 in every state, through the services."""
    states = ["draft", "submitted", "endorsed", "approved", "paid"]
    return [
        make_case(states[index % len(states)], amount=100_000 + index) for index in range(count)
    ]


def test_case_list_runs_a_fixed_number_of_queries(
    client_for, world, funds, make_case, settings, django_assert_max_num_queries
):
    _many_cases(world, funds, make_case)
    settings.PAGE_SIZE = 10
    client = client_for("province")
    with django_assert_max_num_queries(9):
        first = client.get(url("list"))
    with django_assert_max_num_queries(9):
        last = client.get(url("list"), {"last": "1", "status": "paid", "unit": world.commune_a.pk})
    with django_assert_max_num_queries(9):
        waiting = client.get(url("list"), {"waiting": "1"})
    with django_assert_max_num_queries(9):
        second = client.get("?".join([url("list"), first.context["page"].next_query]))
    settings.PAGE_SIZE = 50
    with django_assert_max_num_queries(9):
        everything = client.get(url("list"))
    assert len(first.context["page"].object_list) == 10
    assert len(second.context["page"].object_list) == 10
    assert last.context["page"].count == 6
    assert waiting.context["page"].count == 6  # the endorsed ones, at the province
    assert len(everything.context["page"].object_list) == 30


def _walk(client, params) -> list[int]:
    """Every case of the list, following its "next" links from the first page."""
    query, seen = None, []
    while True:
        response = client.get(
            url("list") + (f"?{query}" if query else ""), params if not query else None
        )
        page = response.context["page"]
        seen += [case.pk for case in page.object_list]
        if not page.has_next:
            return seen
        query = page.next_query


def test_case_list_pages_by_keyset_through_every_case(
    client_for, world, funds, make_case, settings
):
    cases = _many_cases(world, funds, make_case, count=23)
    settings.PAGE_SIZE = 5
    client = client_for("province")
    newest_first = sorted(cases, key=lambda case: (case.created_at, case.pk), reverse=True)
    assert _walk(client, {}) == [case.pk for case in newest_first]
    last = client.get(url("list"), {"last": "1"}).context["page"]
    assert [case.pk for case in last.object_list] == [case.pk for case in newest_first[-5:]]
    assert (last.count, last.count_is_capped, last.start_index) == (23, False, 19)
    # what waits for the province staff, oldest first, page by page
    waiting = approvals.waiting_for(world.users["province"])
    expected = list(waiting.order_by("submitted_at", "id").values_list("pk", flat=True))
    assert len(expected) == 5  # the endorsed ones
    settings.PAGE_SIZE = 2
    assert _walk(client, {"waiting": "1"}) == expected


def test_case_list_count_stops_at_its_cap(client_for, world, funds, make_case, monkeypatch):
    from welfare.cases import views

    _many_cases(world, funds, make_case, count=7)
    monkeypatch.setattr(views, "CASE_COUNT_CAP", 5)
    response = client_for("province").get(url("list"))
    page = response.context["page"]
    assert (page.count, page.count_is_capped) == (5, True)
    text = gettext_vi("More than %(total)s cases found", total="5")
    assert text in response.content.decode()


def test_waiting_for_me_is_oldest_first_and_only_mine(client_for, world, funds, make_case):
    first = make_case("submitted")
    second = make_case("submitted")
    make_case("endorsed")  # at the province now
    make_case("draft")
    response = client_for("commune").get(url("list"), {"waiting": "1"})
    assert list(response.context["page"].object_list) == [first, second]
    everything = client_for("commune").get(url("list"))
    assert len(everything.context["page"].object_list) == 4
    assert everything.context["page"].object_list[0].pk > first.pk  # newest first


def test_case_list_filters(client_for, world, funds, make_case):
    draft = make_case("draft")
    paid = make_case("paid", fund=funds.commune)
    at_b1 = make_case("submitted", member=world.member_b1, by=world.users["province"])
    client = client_for("province")

    def listed(**params):
        return set(client.get(url("list"), params).context["page"].object_list)

    assert listed() == {draft, paid, at_b1}
    assert listed(status="paid") == {paid}
    assert listed(fund=funds.commune.pk) == {paid}
    assert listed(unit=world.commune_a.pk) == {draft, paid}
    assert listed(unit=world.commune_b.pk) == {at_b1}
    assert listed(year=TODAY().year) == {draft, paid, at_b1}
    assert listed(year=TODAY().year - 1) == set()
    assert listed(category="illness", support_type="grant") == {draft, paid, at_b1}
    assert listed(member=world.member_b1.pk) == {at_b1}
    assert listed(mine="1") == {at_b1}  # the province staff opened that one
    # the grassroots officer sees only A1's cases, whatever the filter asks
    officer = client_for("grassroots")
    assert set(officer.get(url("list")).context["page"].object_list) == {draft, paid}
    assert at_b1 not in officer.get(url("list"), {"unit": world.b1.pk}).context["page"].object_list


def test_case_list_filters_are_chosen_by_typing_and_show_the_choice(
    client_for, world, funds, make_case
):
    client = client_for("province")
    page = client.get(url("list")).content.decode()
    assert 'type="hidden" name="unit"' in page and 'type="hidden" name="fund"' in page
    assert funds.own.name not in page  # no list of funds (nor of units) in the page
    chosen = client.get(url("list"), {"unit": world.commune_a.pk, "fund": funds.commune.pk})
    html = chosen.content.decode()
    assert f'value="{world.commune_a.name}"' in html
    assert f'value="{funds.commune.name} — {world.commune_a.name}"' in html


def test_fund_search_finds_funds_by_their_union_without_diacritics_in_scope(
    client_for, world, funds
):
    search = reverse("cases:fund_search")

    def found(role, text):
        answer = client_for(role).get(search, {"q": text}).json()["results"]
        return [fund["id"] for fund in answer]

    assert found("province", "cong ty a1") == [funds.own.pk]
    assert found("province", "quy phuc loi") == [funds.commune.pk]
    assert found("province", "") == []
    # the grassroots officer of A1 sees its own fund and those above it, not province Q's
    assert set(found("grassroots", "QUỸ")) == {funds.own.pk, funds.commune.pk, funds.social.pk}
    assert set(found("grassroots", "quy")) == {funds.own.pk, funds.commune.pk, funds.social.pk}
    assert found("commune", "tinh q") == []


def test_an_empty_list_says_so(client_for, world, funds):
    response = client_for("leader").get(url("list"))
    assert response.status_code == 200
    assert response.context["page"].count == 0
    assert 'colspan="8"' in response.content.decode()


def test_case_page_runs_a_bounded_number_of_queries(
    client_for, world, funds, make_case, supported_elsewhere, django_assert_max_num_queries
):
    """Measured: 12 queries (13 with earlier support to show), whatever the state; one of
    them records the reader in the case's access log, one sums the person's loans being
    repaid (welfare/templatetags/loans.py)."""
    _at_b1, twin = supported_elsewhere
    pages = [
        ("province", make_case("paid")),
        ("commune", make_case("submitted")),
        ("province", make_case("endorsed", member=twin)),
        ("treasurer", make_case("approved")),
        ("grassroots", make_case("draft")),
    ]
    for role, case in pages:
        client = client_for(role)
        # 12 for the case, one for the notice bell's count, one for the loan warning
        with django_assert_max_num_queries(14):
            assert client.get(url("detail", case.pk)).status_code == 200


def test_who_opened_a_case_file_and_its_evidence_is_kept_and_shown(
    client_for, world, funds, make_case
):
    case = make_case("submitted")
    evidence = case.evidence.first()
    client_for("commune").get(url("detail", case.pk))
    province = client_for("province")
    province.get(url("detail", case.pk))
    download = province.get(reverse("cases:evidence", args=[evidence.pk]))
    assert download.status_code == 200
    b"".join(download.streaming_content)
    kept = list(CaseAccess.objects.filter(case=case).order_by("id"))
    assert [(a.user.username, a.what, a.evidence_name) for a in kept] == [
        ("commune", "page", ""),
        ("province", "page", ""),
        ("province", "evidence", evidence.original_name),
    ]
    page = client_for("grassroots").get(url("access", case.pk))
    rows = [(a.user.username, a.what) for a in page.context["page"]]
    assert rows == [("province", "evidence"), ("province", "page"), ("commune", "page")]
    assert evidence.original_name in page.text
    assert gettext_vi("Downloaded an evidence file") in page.text
    # reading the log is not itself an opening of the file
    assert CaseAccess.objects.filter(case=case).count() == 3
    nobody = client_for("grassroots").get(url("access", make_case("draft").pk))
    assert gettext_vi("Nobody has opened this file yet.") in nobody.text


def test_home_counts_what_waits_for_me_and_what_was_returned_to_me(
    client_for, world, funds, make_case, django_assert_max_num_queries
):
    make_case("submitted")
    make_case("submitted")
    returned = make_case("submitted")
    approvals.return_case(case=returned, by=world.users["commune"], comment="Thiếu hồ sơ.")
    make_case("approved")

    commune = client_for("commune").get(reverse("home"))
    assert commune.context["waiting_count"] == 2
    assert url("list") + "?waiting=1" in commune.content.decode()
    assert client_for("treasurer").get(reverse("home")).context["waiting_count"] == 1
    client = client_for("grassroots")
    with django_assert_max_num_queries(8):  # 7, and the notice bell's unread count
        officer = client.get(reverse("home"))
    assert officer.context["returned_count"] == 1
    leader = client_for("leader").get(reverse("home"))
    assert leader.context["waiting_count"] is None
    assert leader.context["returned_count"] is None


def test_home_says_more_than_the_limit_when_more_cases_wait(
    client_for, world, funds, make_case, monkeypatch
):
    for _ in range(3):
        make_case("submitted")
    monkeypatch.setattr(approvals, "WAITING_COUNTED", 2)
    page = client_for("commune").get(reverse("home")).content.decode()
    assert 'id="waiting-count"' in page
    assert ">2+</a>" in page
    monkeypatch.setattr(approvals, "WAITING_COUNTED", 3)
    page = client_for("commune").get(reverse("home")).content.decode()
    assert ">3</a>" in page


def test_member_page_offers_a_case_to_those_who_open_cases(client_for, world, make_case):
    case = make_case("submitted")
    create_link = url("create") + f"?member={world.member_a1.pk}"
    officer = client_for("grassroots").get(reverse("members:detail", args=[world.member_a1.pk]))
    assert create_link in officer.content.decode()
    assert url("detail", case.pk) in officer.content.decode()
    leader = client_for("leader").get(reverse("members:detail", args=[world.member_a1.pk]))
    assert create_link not in leader.content.decode()
    assert url("detail", case.pk) in leader.content.decode()


def test_case_list_year_filter_offers_all_years_once(client_for, world):
    response = client_for("province").get(reverse("cases:list"))
    choices = [value for value, _label in response.context["filter"].form.fields["year"].choices]
    assert choices.count("") == 1 and choices[0] == ""


def test_the_approver_is_told_before_pressing_that_nobody_could_pay(
    client_for, world, funds, make_case
):
    case = make_case("submitted", fund=funds.own, amount=1_000_000)
    RoleAssignment.objects.filter(unit=world.a1, role=Role.TREASURER).delete()
    client = client_for("a1_chair")
    page = client.get(url("detail", case.pk)).content.decode()
    assert 'id="no-treasurer"' in page
    assert "chưa có kế toán nên không ai chi được" in page
    assert url("approve", case.pk) not in page  # no approve button
    response = client.post(url("approve", case.pk), {"amount": "1.000.000"})
    assert response.status_code == 302
    assert "chưa có kế toán" in told(response)
    assert reload(case).status == CaseStatus.SUBMITTED
    funds.own.refresh_from_db()
    assert funds.own.reserved == 0
