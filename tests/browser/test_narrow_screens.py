"""Phones and narrow windows (390 px): the navigation collapses behind a "Menu" button (Escape closes it and gives
focus back), and no page of any role scrolls sideways: wide tables scroll inside their own box. Measured on the
demo data (``seed_demo``), the pages each role reaches from its navigation and one of each detail page."""

from __future__ import annotations

import pytest

from evidence.models import CaiqAnswer, Campaign, CheckRun, Finding, Policy
from inventory.models import Key
from tests.browser.conftest import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]

WIDTH = 390


@pytest.fixture
def narrow(page):
    page.set_viewport_size({"width": WIDTH, "height": 800})
    return page


def detail_pages() -> list[str]:
    return [
        f"/inventory/keys/{Key.objects.filter(bindings__isnull=False).order_by('pk').first().pk}/",
        f"/evidence/policies/{Policy.objects.order_by('pk').first().pk}/",
        f"/evidence/campaigns/{Campaign.objects.order_by('-pk').first().pk}/",
        f"/evidence/findings/{Finding.objects.order_by('pk').first().pk}/",
        f"/evidence/checks/runs/{CheckRun.objects.order_by('-pk').first().pk}/",
        f"/evidence/answers/{CaiqAnswer.objects.order_by('-pk').first().pk}/",
    ]


def nav_targets(page) -> list[str]:
    return page.eval_on_selector_all(".mainnav a", "links => links.map(a => a.getAttribute('href'))")


def sideways(page) -> list[str]:
    return page.evaluate(
        """() => { const w = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= w) { return []; }
        const wide = [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > w + 1)
          .slice(0, 3).map(el => el.tagName.toLowerCase() + '.' + String(el.className).replace(/ /g, '.'));
        return [document.documentElement.scrollWidth + ' ' + wide.join(' ')]; }"""
    )


@pytest.mark.parametrize("username", ["grace", "olivia", "audrey"])
def test_no_page_scrolls_sideways_at_390_px(demo, narrow, username):
    log_in(narrow, username, f"demo-{username}-2026")
    paths = ["/", *nav_targets(narrow), "/accounts/tokens/"]
    if username != "olivia":
        paths += detail_pages()
    wide = {}
    for path in dict.fromkeys(paths):
        response = narrow.goto(path)
        assert response.status == 200, path
        if sideways(narrow):
            wide[path] = sideways(narrow)[0]
    assert wide == {}, f"pages wider than {WIDTH} px: {wide}"


def test_the_navigation_collapses_behind_a_menu_button(demo, narrow):
    log_in(narrow, "grace", "demo-grace-2026")
    toggle = narrow.locator(".nav-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not narrow.locator(".mainnav").is_visible()

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and narrow.locator(".mainnav").is_visible()
    narrow.locator(".navgroup > summary", has_text="Evidence").click()
    assert narrow.locator(".mainnav a", has_text="Findings").is_visible()

    narrow.keyboard.press("Escape")  # closes the open menu first, its summary keeps the focus
    assert narrow.locator(".mainnav").is_visible()
    assert not narrow.locator(".mainnav a", has_text="Findings").is_visible()
    narrow.keyboard.press("Escape")  # then the collapsed navigation
    assert not narrow.locator(".mainnav").is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert narrow.evaluate("document.activeElement.classList.contains('nav-toggle')")

    narrow.set_viewport_size({"width": 1280, "height": 800})  # wide: no button, the menu is always there
    assert not toggle.is_visible() and narrow.locator(".mainnav").is_visible()
