from pathlib import Path

from django.contrib.staticfiles import finders
from django.urls import reverse


def test_every_page_names_the_portals_own_icon(client):
    response = client.get(reverse("login"))
    assert '<link rel="icon" href="/static/img/favicon.svg"' in response.text
    icon = finders.find("img/favicon.svg")
    assert icon and "<svg" in Path(icon).read_text(encoding="utf-8")
