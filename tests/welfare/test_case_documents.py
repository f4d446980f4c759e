"""A case's documents to sign, as the officers print them: the proposal, the approval decision
and the payment voucher, read back with pdftotext; their states, their scope and their log."""

from __future__ import annotations

import subprocess
import time

import pytest
from django.urls import reverse

from welfare.cases.documents import DECISION, PROPOSAL, VOUCHER
from welfare.models import CaseAccess

from .test_case_views import gettext_vi, told

pytestmark = pytest.mark.django_db

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def url(case, document) -> str:
    return reverse("cases:document", args=[case.pk, document.slug])


def text_of(response, tmp_path) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response) if response.streaming else response.content
    assert content.startswith(b"%PDF")
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    plain = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    count = int(next(ln for ln in pages.stdout.splitlines() if ln.startswith("Pages:")).split()[1])
    assert count <= 2, "a case's document is one or two pages"
    return " ".join(plain.split())


def test_the_proposal_prints_from_the_draft_on_for_the_proposing_union(
    client_for, world, make_case, tmp_path
):
    case = make_case("draft", amount=2_500_000)
    text = text_of(client_for("grassroots").get(url(case, PROPOSAL)), tmp_path)
    for words in MOTTO:
        assert words in text
    assert "TỜ TRÌNH" in text
    assert "CÔNG ĐOÀN PHƯỜNG A" in text  # the superior body
    assert "CĐCS CÔNG TY A1" in text  # the issuing union
    assert "Số: …/TTr-P-A-1" in text
    assert "Kính gửi: LĐLĐ tỉnh P" in text
    assert "Nguyễn Văn An" in text
    assert "2.500.000 ₫" in text
    assert "Hai triệu năm trăm nghìn đồng" in text
    assert "giay-xac-nhan.pdf" in text
    assert "Người lập" in text and "TM. BAN CHẤP HÀNH" in text


def test_the_decision_prints_the_approved_amount_for_the_fund_owner(
    client_for, world, make_case, tmp_path
):
    case = make_case("approved", amount=1_100_900_000 // 1000)  # 1.100.900 ₫
    started = time.perf_counter()
    response = client_for("commune").get(url(case, DECISION))
    elapsed = time.perf_counter() - started
    text = text_of(response, tmp_path)
    for words in MOTTO:
        assert words in text
    assert "QUYẾT ĐỊNH" in text
    assert "TỔNG LĐLĐ VIỆT NAM" in text and "LĐLĐ TỈNH P" in text
    assert "Số: …/QĐ-P" in text
    assert "BAN THƯỜNG VỤ LĐLĐ TỈNH P" in text
    assert "Nguyễn Văn An" in text
    assert "1.100.900 ₫" in text
    assert "Một triệu một trăm nghìn chín trăm đồng" in text
    assert "TM. BAN THƯỜNG VỤ" in text and "CHỦ TỊCH" in text
    # One or two pages are written inside the request: well under a second.
    assert elapsed < 3


def test_the_voucher_is_printed_before_paying_with_the_date_left_for_the_hand(
    client_for, world, make_case, tmp_path
):
    case = make_case("approved", amount=2_500_000)
    text = text_of(client_for("treasurer").get(url(case, VOUCHER)), tmp_path)
    for words in MOTTO:
        assert words in text
    assert "PHIẾU CHI" in text
    assert "Số: …/PC-P" in text
    assert "ngày ….. tháng ….. năm ………" in text
    assert "Nguyễn Văn An" in text
    assert "2.500.000 ₫" in text
    assert "Hai triệu năm trăm nghìn đồng" in text
    assert "Đã nhận đủ số tiền" in text and "Người nhận tiền" in text
    assert "Kế toán" in text and "Thủ quỹ" in text


def test_the_paid_voucher_carries_the_payment(client_for, world, make_case, tmp_path):
    case = make_case("paid", amount=1_000_005)
    text = text_of(client_for("leader").get(url(case, VOUCHER)), tmp_path)
    assert "Số: PC-001" in text  # the receipt reference recorded with the payment
    assert "Hình thức chi: Tiền mặt" in text
    assert "1.000.005 ₫" in text
    assert "Một triệu không trăm linh năm đồng" in text
    assert "Nguyễn Văn An" in text


@pytest.mark.parametrize(
    ("state", "document", "message"),
    [
        ("submitted", DECISION, "The approval decision can be printed once the case is approved."),
        ("endorsed", VOUCHER, "The payment voucher can be printed once the case is approved."),
    ],
)
def test_a_document_before_its_time_sends_back_to_the_case_and_says_why(
    client_for, world, make_case, state, document, message
):
    case = make_case(state)
    response = client_for("province").get(url(case, document))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert told(response) == gettext_vi(message)
    assert not CaseAccess.objects.filter(case=case).exclude(what="page").exists()


@pytest.mark.parametrize("document", [PROPOSAL, DECISION, VOUCHER])
def test_a_document_of_a_case_outside_scope_is_not_found(
    client_for, world, funds, make_case, document
):
    case = make_case("submitted", fund=funds.other, member=world.member_q1)
    assert client_for("province").get(url(case, document)).status_code == 404
    # A neighbouring commune's case, opened at B1 by province staff.
    case = make_case("submitted", member=world.member_b1, by=world.users["province"])
    assert client_for("commune").get(url(case, document)).status_code == 404
    assert client_for("grassroots").get(url(case, document)).status_code == 404


def test_an_unknown_document_is_not_found(client_for, world, make_case):
    case = make_case("approved")
    response = client_for("province").get(reverse("cases:document", args=[case.pk, "bien-ban"]))
    assert response.status_code == 404


def test_printing_a_document_is_kept_in_the_access_log(client_for, world, make_case):
    case = make_case("approved")
    client = client_for("leader")
    client.get(url(case, PROPOSAL))
    client.get(url(case, DECISION))
    kept = CaseAccess.objects.filter(case=case, user=world.users["leader"])
    assert sorted(kept.values_list("what", flat=True)) == ["decision", "proposal"]
    page = client.get(reverse("cases:access", args=[case.pk])).content.decode()
    assert gettext_vi("Printed the approval decision") in page


def test_the_case_page_offers_the_documents_of_its_state(client_for, world, make_case):
    client = client_for("province")
    draft = make_case("draft")
    page = client.get(reverse("cases:detail", args=[draft.pk])).content.decode()
    assert url(draft, PROPOSAL) in page
    assert url(draft, DECISION) not in page
    approved = make_case("approved")
    page = client.get(reverse("cases:detail", args=[approved.pk])).content.decode()
    for document in (PROPOSAL, DECISION, VOUCHER):
        assert url(approved, document) in page
