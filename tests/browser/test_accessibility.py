"""WCAG 2.2 AA, measured with axe-core (4.12, bundled by axe-playwright-python) in Chromium on the demo data: every
page each role's navigation reaches, the detail pages, the forms and the logged-out pages have no serious or
critical violation (the moderate and minor ones are printed); and the keyboard reaches the content first (skip
link), walks the navigation menus and gets focus back when a menu closes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import log_in
from tests.browser.test_narrow_screens import detail_pages, nav_targets

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def audit(page, paths) -> tuple[dict, dict]:
    serious, other = {}, {}
    for path in dict.fromkeys(paths):
        assert page.goto(path).status == 200, path
        for violation in violations(page):
            where = serious if violation["impact"] in ("serious", "critical") else other
            nodes = [node["target"] for node in violation["nodes"][:3]]
            where.setdefault(path, []).append(f"{violation['id']} ({violation['impact']}): {nodes}")
    return serious, other


@pytest.mark.parametrize("username", ["grace", "olivia", "audrey"])
def test_pages_have_no_serious_accessibility_violation(demo, page, username):
    log_in(page, username, f"demo-{username}-2026")
    paths = ["/", *nav_targets(page), reverse("api-tokens"), reverse("password_change")]
    if username == "grace":
        paths += ["/inventory/keys/new/", "/evidence/packs/new/", "/evidence/campaigns/new/", "/inventory/import/"]
    if username != "olivia":
        paths += detail_pages()
    serious, other = audit(page, paths)
    print(f"{username}: moderate or minor violations on {len(other)} of {len(paths)} pages: {other}")
    assert serious == {}


def test_logged_out_pages_have_no_serious_accessibility_violation(demo, page):
    serious, _other = audit(page, [reverse("login"), reverse("password_reset")])
    assert serious == {}


def test_the_keyboard_reaches_the_content_first_and_walks_the_menus(demo, page):
    log_in(page, "grace", "demo-grace-2026")
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    summary = page.locator(".navgroup > summary", has_text="Evidence")
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator(".mainnav a", has_text="Findings").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator(".mainnav a", has_text="Findings").is_visible()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Evidence"  # focus stays on the menu
