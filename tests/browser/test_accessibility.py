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


DANGLING = """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby], [aria-controls]')]
  .flatMap(el => ['aria-describedby', 'aria-labelledby', 'aria-controls']
    .flatMap(name => (el.getAttribute(name) || '').split(/\\s+/).filter(Boolean)
      .filter(id => !document.getElementById(id)).map(id => name + '=' + id)))"""


def audit(page, paths) -> tuple[dict, dict]:
    serious, other = {}, {}
    for path in dict.fromkeys(paths):
        assert page.goto(path).status == 200, path
        missing = page.evaluate(DANGLING)
        if missing:  # help text and labels tied to ids that exist (axe does not report these)
            serious.setdefault(path, []).append(f"references to missing ids: {missing[:5]}")
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


def test_after_an_inbox_action_the_outcome_has_the_focus(demo, page):
    log_in(page, "olivia", "demo-olivia-2026")
    page.goto(reverse("evidence:attestation-inbox"))
    page.locator("table.inbox-table input[name=attestation]").first.focus()
    page.keyboard.press("Space")
    page.locator("input[name=reviewed]").focus()
    page.keyboard.press("Space")
    page.locator("button", has_text="Confirm selected").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Confirmed 1 key.", focused
    names = page.eval_on_selector_all(
        "form.discrepancy-form button", "buttons => buttons.map(b => b.getAttribute('aria-label'))"
    )
    assert len(names) == len(set(names)) and all(name.startswith("Report a discrepancy on ") for name in names)


def test_a_form_with_errors_says_so_and_marks_its_fields(demo, page):
    log_in(page, "grace", "demo-grace-2026")
    page.goto(reverse("inventory:key-create"))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.press("Enter")
    name = page.locator("#id_name")
    assert name.get_attribute("aria-invalid") == "true"
    described = (name.get_attribute("aria-describedby") or "").split()
    assert described and all(page.locator(f"#{ref}").count() == 1 for ref in described)
    assert page.evaluate(DANGLING) == []
