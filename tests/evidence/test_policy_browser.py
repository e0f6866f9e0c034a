"""The policy lifecycle in a real browser: GRC creates a policy, uploads a Markdown version, approves it and
sends it to the key owners; a key owner acknowledges it in one click; GRC sees the coverage."""

from __future__ import annotations

import pytest

from evidence.models import Acknowledgement, Policy, VersionStatus
from tests.browser.conftest import log_in, nav_click
from tests.evidence.policies import MARKDOWN
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


def log_out(page) -> None:
    with page.expect_navigation():
        page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")


def test_grc_publishes_a_policy_and_a_key_owner_acknowledges_it(page):
    UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"])
    UserFactory(username="olivia", first_name="Olivia", last_name="Owner", roles=["key-owners"])
    UserFactory(username="omar", first_name="Omar", last_name="Owner", roles=["key-owners"])

    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Policies")
    with page.expect_navigation():
        page.click("text=New policy")
    page.fill("#id_title", "Cryptographic key management policy")
    page.select_option("#id_kind", "policy")
    page.check("input[name=areas][value=key-purpose]")
    page.fill("#id_scope", "Every production key store and AI service.")
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")
    assert "Add its first version" in page.content()

    with page.expect_navigation():
        page.click("text=New version")
    page.fill("#id_label", "1.0")
    page.fill("#id_summary", "First issue: one purpose per key.")
    page.set_input_files(
        "#id_document", {"name": "key-policy.md", "mimeType": "text/markdown", "buffer": MARKDOWN.encode()}
    )
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")
    assert "created as a draft" in page.content() and "key-policy.md" in page.content()

    with page.expect_navigation():
        page.click("button:has-text('Submit for approval')")
    with page.expect_navigation():
        page.click("text=Record approval")
    page.fill("#id_governance_body", "Security committee")
    with page.expect_navigation():
        page.click("button:has-text('Record approval')")
    assert "Version 1.0 approved and in force" in page.content()

    with page.expect_navigation():
        page.click("text=Send to audiences")
    page.check("label:has-text('key-owners') >> xpath=preceding-sibling::input")
    with page.expect_navigation():
        page.click("button:has-text('Send')")
    assert "2 recipients will be e-mailed" in page.content()
    policy = Policy.objects.get(title="Cryptographic key management policy")
    assert policy.current_version.status == VersionStatus.APPROVED
    log_out(page)

    log_in(page, "olivia", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Policies")
    pending = page.locator(".pending-acks")
    assert "Cryptographic key management policy" in pending.inner_text()
    with page.expect_navigation():
        pending.locator("button:has-text('Acknowledge')").click()
    assert "You acknowledged Cryptographic key management policy v1.0" in page.content()
    assert page.locator(".pending-acks").count() == 0
    assert Acknowledgement.objects.filter(recipient__username="olivia", version=policy.current_version).exists()
    log_out(page)

    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Policies")
    row = page.locator("table.policy-table tr", has_text="Cryptographic key management policy")
    assert "1 of 2" in row.inner_text() and "50 %" in row.inner_text()
    with page.expect_navigation():
        row.locator("a", has_text="Cryptographic key management policy").click()
    versions = page.locator("#versions").inner_text()
    assert "1 of 2" in versions and "Omar Owner" in versions and policy.current_version.document_sha256 in versions
