"""The Content-Security-Policy every answer carries, and templates that keep to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_page_carries_a_policy_without_unsafe_inline(client_for):
    for client, url in ((client_for("province"), reverse("home")), (Client(), "/accounts/login/")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


INLINE = re.compile(r"<style\b|<script(?![^>]*\bsrc=)[^>]*>|\sstyle=\"|\son[a-z]+=\"", re.I)


def test_no_template_holds_an_inline_script_style_or_handler():
    """E-mails are read in a mail client, not under the portal's policy."""
    root = Path(settings.BASE_DIR) / "templates"
    found = [
        f"{path.relative_to(root)}: {match.group(0).strip()}"
        for path in root.rglob("*.html")
        if "notices/email" not in str(path)
        for match in INLINE.finditer(path.read_text())
    ]
    assert not found, found
