"""Real-browser tests: Debian's Chromium driven by Playwright against the live test server."""

import os

import pytest

from ..conftest import chromium_path
from ..factories import PASSWORD

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the
# test itself (fixtures, assertions) are plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        pytest.skip("needs Debian's chromium")  # the marker check fails this under CI
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watch_csp(page) -> list[str]:
    """The Content-Security-Policy violations the browser reports on this page, as they come
    (Chromium logs each to the console: "Refused to ... because it violates ...")."""
    violations: list[str] = []

    def seen(message) -> None:
        if "Content Security Policy" in message.text or "violates the following" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", seen)
    return violations


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    violations = watch_csp(page)
    yield page
    context.close()
    assert not violations, violations


@pytest.fixture
def login(page):
    def as_user(username: str):
        page.goto(f"{page.base_url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit].w-100")
        page.wait_for_url(f"{page.base_url}/")
        return page

    return as_user
