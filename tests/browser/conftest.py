"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
import re
import shutil

import pytest

CHROMIUM = os.environ.get("CEK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# The machine has no internet: switch off Chromium's background traffic, which would only be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (scripts/test installs Debian's chromium when run as root).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url, f"{username} could not log in"


def nav_click(page, label: str) -> None:
    """Click the main navigation's link named exactly ``label``, opening its menu first when it sits in one
    (Inventory, Evidence). Wrap it in ``page.expect_navigation()`` like any click that loads a page."""
    link = page.locator(".mainnav a").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).first
    if not link.is_visible():
        link.locator("xpath=ancestor::details[1]/summary").click()
    link.click()


@pytest.fixture
def demo(settings, tmp_path):
    """The demo data (``seed_demo``: inventory, policies, campaigns, IaC scans, a check run, a published answer), for
    tests that look at every page; needs ``transactional_catalog`` like every browser test."""
    from io import StringIO

    from django.core.management import call_command

    settings.CEK_EVIDENCE_SIGNING_KEY = tmp_path / "signing.pem"
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("evidence_signing_key", "--create-if-missing", stdout=StringIO(), stderr=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO(), stderr=StringIO())
