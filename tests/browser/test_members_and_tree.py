import datetime

import pytest

from unions.models import Placement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_logs_in_searches_without_diacritics_and_opens_the_member(login, world):
    page = login("commune")
    page.click("nav >> text=Đoàn viên")
    page.fill("input[name=q]", "nguyen van")
    page.keyboard.press("Enter")
    page.wait_for_selector("#member-table >> text=Nguyễn Văn An")
    # the neighbouring commune's member is not there, even by her own name
    assert "Đặng Thị Bình" not in page.inner_text("#member-table")
    page.click("#member-table >> text=Nguyễn Văn An")
    page.wait_for_selector("h1:has-text('Nguyễn Văn An')")
    full = world.member_a1.national_id
    # the ID number masked, but for its last four digits, until the officer asks for it
    assert full not in page.inner_text("main") and full[-4:] in page.inner_text("main")
    assert "Nguyễn Minh Khôi" in page.inner_text("main")  # the child
    page.click("text=Xem đầy đủ")
    page.wait_for_selector(f"text={full}")
    assert world.member_a1.accesses.filter(what="reveal").count() == 1


def test_administrator_moves_a_unit_and_the_past_tree_keeps_it(login, world):
    page = login("admin")
    page.goto(f"{page.base_url}/units/{world.a1.pk}/")
    page.click(f"a[href='/units/{world.a1.pk}/move/']")
    page.select_option("select[name=new_parent]", str(world.commune_b.pk))
    page.fill("input[name=effective_on]", "2025-07-01")
    page.fill("textarea[name=note]", "Quyết định sắp xếp tổ chức")
    page.click("input[type=submit]")
    page.wait_for_selector(".alert-success")
    world.a1.refresh_from_db()
    assert world.a1.parent_id == world.commune_b.pk
    then = Placement.objects.on(datetime.date(2021, 12, 31)).get(unit=world.a1)
    assert then.parent_id == world.commune_a.pk
    page.goto(f"{page.base_url}/units/?on=2021-12-31")
    # The page shows the units above grassroots; a commune's units load when it is opened.
    assert world.a1.name not in page.inner_text("#tree")
    commune_a = page.locator(
        "#tree summary", has=page.locator(f"a[href='/units/{world.commune_a.pk}/']")
    )
    commune_a.locator(".rounded-pill").click()
    page.wait_for_selector(f"#tree a[href='/units/{world.a1.pk}/']")
    tree = page.inner_text("#tree")
    assert (
        tree.index(world.commune_a.name)
        < tree.index(world.a1.name)
        < tree.index(world.commune_b.name)
    )


def test_switching_to_english_and_back(login, world):
    """Signed in, the language is chosen in the account menu."""
    page = login("leader")
    page.click(".portal-nav .dropdown-toggle")
    page.click("button[value=en]")
    page.wait_for_selector("nav >> text=Members")
    page.click(".portal-nav .dropdown-toggle")
    page.click("button[value=vi]")
    page.wait_for_selector("nav >> text=Đoàn viên")
