"""The Content-Security-Policy in a real browser: pages (with charts, a progress-free key list, the token page
with its new token, the Swagger page) load without one violation, and Swagger still renders its operations."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.evidence.test_dashboard_pages import check_run
from tests.factories import PASSWORD, FindingFactory, KeyFactory, PartyFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]

# Recorded from the first script the page runs (Playwright's init scripts are not subject to the page's CSP).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " + event.sourceFile);
});
"""


@pytest.fixture
def watched(page):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(WATCH_VIOLATIONS)
    return page, errors


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def test_pages_load_without_a_policy_violation_and_swagger_renders(watched):
    page, errors = watched
    grace = UserFactory(username="grace", roles=["grc"])
    PartyFactory(name="Acme AI", is_us=True)
    key = KeyFactory(name="orders-dek", owner=grace)
    FindingFactory(rule="ag-3-single-purpose", subject_id=key.pk, subject_label=key.name, severity="high")
    check_run(passing=9, failing_key=key)

    log_in(page, "grace", PASSWORD)
    for path in ("/", "/inventory/keys/", f"/inventory/keys/{key.pk}/"):
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert violations(page) == [], path
    # The dashboard's charts and legends drew (the legend swatches were inline styles before).
    page.goto("/")
    assert page.locator(".chart-legend svg.swatch").count() >= 1

    page.goto("/accounts/tokens/")
    page.fill("#id_name", "CI pipeline")
    with page.expect_navigation():
        page.click("button:has-text('Create token')")
    page.click("#new-token")
    selected = page.evaluate(
        "(() => { const f = document.getElementById('new-token'); return f.selectionEnd - f.selectionStart; })()"
    )
    assert selected == len(page.input_value("#new-token")) > 30, "the token field selects itself (static script)"
    assert violations(page) == []

    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 20
    assert page.locator(".opblock-summary-path", has_text="/api/v1/keys/").count() >= 1
    assert violations(page) == []

    assert [error for error in errors if "Content Security Policy" in error or "Refused" in error] == []
    assert errors == []
