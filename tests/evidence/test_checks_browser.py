"""Checks in a real browser: GRC runs the checks from the UI, opens a failing guideline and sees its failing
subjects with a link to the live findings."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in, nav_click
from tests.factories import PASSWORD, KeyFactory, KeyStoreFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


def test_grc_runs_checks_and_opens_a_failing_guideline(page):
    UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"])
    owner = UserFactory(username="olivia", roles=["key-owners"])
    store = KeyStoreFactory(name="prod-kms", last_full_import_at=timezone.now())
    KeyFactory(name="orders-dek", owner=owner, store=store, labels={"purpose": "data-encryption"})
    KeyFactory(
        name="billing-signer",
        owner=owner,
        store=store,
        platform_usage="SIGN_VERIFY",
        labels={"purpose": "data-encryption"},
    )

    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Checks")
    assert "No check has run yet" in page.content()
    with page.expect_navigation():
        page.click("button:has-text('Run checks')")
    assert "finished" in page.content()
    row = page.locator("table.check-table tr[data-guideline=AG-1]")
    assert row.locator(".check-fail").count() == 1
    assert "1 of 2 keys in use" in row.inner_text()
    with page.expect_navigation():
        row.locator("a", has_text="AG-1").click()
    subjects = page.locator(".failing-subjects")
    assert "billing-signer" in subjects.inner_text()
    assert "SIGN_VERIFY" in subjects.inner_text()
    assert "orders-dek" not in subjects.inner_text()
    with page.expect_navigation():
        page.click("text=Live findings of this check")
    assert "billing-signer" in page.content()
