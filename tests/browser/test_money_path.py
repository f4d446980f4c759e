"""The money path in a real browser: the grassroots officer logs a case with an evidence file,
the commune union endorses it, the province approves, the treasurer pays, and the fund's
balance moves by exactly the amount paid."""

import subprocess

import pytest

from welfare.models import Case, CaseStatus, EntryKind, LedgerEntry, Payment

from ..welfare.conftest import PDF, funds, media_root  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page):
    page.click(".portal-nav .dropdown-toggle")  # logging out is in the account menu
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url("**/accounts/login/**")


def open_case(page, case):
    page.goto(f"{page.base_url}/cases/{case.pk}/")
    page.wait_for_selector("#case-status")


def test_a_case_goes_from_the_grassroots_to_payment(login, world, funds, tmp_path):  # noqa: F811
    evidence = tmp_path / "giay-ra-vien.pdf"
    evidence.write_bytes(PDF)
    fund = funds.social
    balance_before = fund.balance

    # The grassroots officer opens the case from the member's page and submits it.
    page = login("grassroots")
    page.goto(f"{page.base_url}/members/{world.member_a1.pk}/")
    page.click(f"a[href='/cases/new/?member={world.member_a1.pk}'] >> nth=0")
    page.select_option("select[name=category]", "illness")
    page.fill("textarea[name=circumstances]", "Điều trị ung thư tại Bệnh viện K, vợ mất việc.")
    page.select_option("select[name=support_type]", "grant")
    page.fill("input[name=requested_amount]", "3.000.000")
    page.select_option("select[name=fund]", str(fund.pk))
    page.set_input_files("input[name=evidence]", str(evidence))
    page.click("input[name=save]")
    page.wait_for_selector("#evidence >> text=giay-ra-vien.pdf")
    case = Case.objects.get()
    assert case.status == CaseStatus.DRAFT
    page.click("form[action$='/submit/'] input[type=submit]")
    page.wait_for_selector("#waiting-at")
    assert Case.objects.get().status == CaseStatus.SUBMITTED
    log_out(page)

    # Commune A finds it waiting and endorses it.
    login("commune")
    page.goto(f"{page.base_url}/cases/?waiting=1")
    page.click(f"#case-table a[href='/cases/{case.pk}/'] >> nth=0")
    page.click("form[action$='/endorse/'] input[type=submit]")
    page.wait_for_selector(".alert-success")
    assert Case.objects.get().current_unit_id == world.province.pk
    log_out(page)

    # The province sees it on the home page, and approves less than was asked.
    login("province")
    page.click("#waiting-count")
    page.click(f"#case-table a[href='/cases/{case.pk}/'] >> nth=0")
    assert page.input_value("input[name=amount]") == "3.000.000"
    page.fill("input[name=amount]", "2.500.000")
    page.click("form[action$='/approve/'] input[type=submit]")
    page.wait_for_selector("#approved-amount")
    fund.refresh_from_db()
    assert (fund.balance, fund.reserved) == (balance_before, 2_500_000)
    log_out(page)

    # The treasurer pays; the same form sent again (a replay) records nothing more.
    login("treasurer")
    open_case(page, case)
    page.fill("input[name=receipt_reference]", "PC-0117")
    form = page.eval_on_selector(
        "form[action$='/pay/']", "f => Object.fromEntries(new FormData(f).entries())"
    )
    page.click("form[action$='/pay/'] input[type=submit]")
    page.wait_for_selector("#payment")
    assert "2.500.000 ₫" in page.inner_text("#payment")
    replay = page.request.post(f"{page.base_url}/cases/{case.pk}/pay/", form=form)
    assert replay.ok
    assert Payment.objects.filter(case=case).count() == 1

    fund.refresh_from_db()
    assert fund.balance == balance_before - 2_500_000
    assert fund.reserved == 0
    paid = LedgerEntry.objects.filter(fund=fund, kind=EntryKind.DISBURSEMENT)
    assert list(paid.values_list("amount", flat=True)) == [-2_500_000]
    assert Case.objects.get().status == CaseStatus.PAID

    # The paid case's page offers its documents to sign; each is a PDF of the union's format
    # with the approved amount in figures and in words.
    open_case(page, case)
    links = page.eval_on_selector_all(
        "#case-documents a",
        "links => links.map(link => [link.getAttribute('href'), link.innerText])",
    )
    slugs = {href.rsplit("/", 1)[-1] for href, _title in links}
    assert {"quyet-dinh.pdf", "phieu-chi.pdf"} <= slugs, links
    for href, title in links:
        response = page.request.get(page.base_url + href)
        assert response.ok and response.headers["content-type"] == "application/pdf", title
        pdf = tmp_path / href.rsplit("/", 1)[-1]
        pdf.write_bytes(response.body())
        text = " ".join(
            subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout.split()
        )
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text, title
        if not href.endswith("to-trinh.pdf"):
            assert "2.500.000" in text and "Hai triệu năm trăm nghìn đồng" in text, (title, text)
