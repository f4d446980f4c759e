"""A select's empty choice says "— Chọn —", not Django's "---------"."""

from django.urls import reverse


def test_a_form_select_starts_with_choose_in_vietnamese(client_for, world):
    html = client_for("grassroots").get(reverse("members:create")).content.decode()
    assert '<option value="" selected>— Chọn —</option>' in html
    assert "---------" not in html


def test_an_english_select_starts_with_choose(client_for, world, settings):
    client = client_for("grassroots")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("members:create")).content.decode()
    assert '<option value="" selected>— Choose —</option>' in html
    assert "---------" not in html
