"""On a phone: the officer picks a photo, mistypes the amount, fixes it, and the photo is on
the case without being picked again."""

import pytest

from welfare.models import Case, PendingUpload

from ..welfare.conftest import PNG, funds, media_root  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_file_chosen_before_an_error_is_attached_after_the_fix(
    login,
    world,
    funds,  # noqa: F811
    tmp_path,
):
    photo = tmp_path / "anh-nha-sap.png"
    photo.write_bytes(PNG)
    page = login("grassroots")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base_url}/cases/new/?member={world.member_a1.pk}")
    page.select_option("select[name=category]", "disaster")
    page.fill("textarea[name=circumstances]", "Nhà bị sập do lũ quét, cả nhà phải ở nhờ.")
    page.select_option("select[name=support_type]", "grant")
    page.select_option("select[name=fund]", str(funds.social.pk))
    page.fill("input[name=requested_amount]", "ba triệu")
    page.set_input_files("input[name=evidence]", str(photo))
    page.click("input[name=save]")

    kept = page.wait_for_selector(".kept-uploads")
    assert "Đã giữ lại 1 tệp: anh-nha-sap.png" in kept.inner_text()
    assert not Case.objects.exists()
    # What was typed is still there; only the amount needs fixing.
    assert "Nhà bị sập" in page.input_value("textarea[name=circumstances]")
    page.fill("input[name=requested_amount]", "3.000.000")
    page.click("input[name=save]")

    page.wait_for_selector("#evidence >> text=anh-nha-sap.png")
    case = Case.objects.get()
    assert case.requested_amount == 3_000_000
    evidence = case.evidence.get()
    assert (evidence.original_name, evidence.content_type) == ("anh-nha-sap.png", "image/png")
    assert evidence.file.read() == PNG
    assert not PendingUpload.objects.exists()
