"""An attestation campaign in a real browser: GRC creates and launches it; a key owner confirms two keys and
reports a discrepancy on a third; GRC sees the progress and the finding."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence.models import Attestation, AttestationStatus, Finding
from tests.browser.conftest import log_in, nav_click
from tests.evidence.test_policy_browser import log_out
from tests.factories import PASSWORD, KeyFactory, KeyStoreFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


def test_grc_launches_a_campaign_and_an_owner_answers_it(page):
    UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"])
    olivia = UserFactory(username="olivia", first_name="Olivia", last_name="Owner", roles=["key-owners"])
    store = KeyStoreFactory(name="prod-kms")
    for name in ("orders-dek", "invoices-dek", "model-signing"):
        KeyFactory(name=name, owner=olivia, store=store)
    KeyFactory(name="elsewhere", owner=olivia)  # another store: out of scope

    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Campaigns")
    with page.expect_navigation():
        page.click("text=New campaign")
    page.fill("#id_name", "Q1 key purpose attestation")
    page.fill("#id_due_on", (timezone.localdate() + dt.timedelta(days=14)).isoformat())
    page.select_option("#id_store", label="prod-kms")
    with page.expect_navigation():
        page.click("form.campaign-form button[type=submit]")
    assert "drafted" in page.content()
    with page.expect_navigation():
        page.click("a:has-text('Launch…')")
    assert "3 attestations will be created" in page.content()  # asked first
    with page.expect_navigation():
        page.click("button:has-text('Launch and e-mail the owners of 3 keys')")
    assert "Launched: 3 attestations" in page.content()
    log_out(page)

    log_in(page, "olivia", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Attestations")
    page.check("tr[data-key=orders-dek] input[type=checkbox]")
    page.check("tr[data-key=invoices-dek] input[type=checkbox]")
    page.check("input[name=reviewed]")
    with page.expect_navigation():
        page.click("button:has-text('Confirm selected')")
    assert "Confirmed 2 keys" in page.content()
    row = page.locator("tr[data-key=model-signing]")
    row.locator("input[name=comment]").fill("Also used to sign the billing exports.")
    with page.expect_navigation():
        row.locator("button:has-text('Report discrepancy')").click()
    assert "Discrepancy on model-signing reported" in page.content()
    assert page.locator(".empty-inbox").count() == 1
    log_out(page)

    assert Attestation.objects.filter(status=AttestationStatus.CONFIRMED).count() == 2
    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Campaigns")
    with page.expect_navigation():
        page.click("text=Q1 key purpose attestation")
    progress = page.locator(".progress-card").inner_text()
    assert "3 / 3" in progress and "100 %" in progress
    assert "Olivia Owner" in page.locator(".owner-progress").inner_text()
    with page.expect_navigation():
        page.click("text=Findings from discrepancies")
    with page.expect_navigation():
        page.click("table.finding-table tr:has-text('attestation-discrepancy') td:first-child a")
    assert "model-signing" in page.content() and "Also used to sign the billing exports." in page.content()
    assert Finding.objects.get().rule == "attestation-discrepancy"
