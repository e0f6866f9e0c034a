"""The dashboard and a finding in a real browser: GRC, an auditor and a key owner each land on their view; GRC
opens a finding from the dashboard and accepts its risk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from evidence.models import Finding, FindingStatus
from tests.browser.conftest import log_in
from tests.evidence.test_dashboard_pages import check_run
from tests.evidence.test_policy_browser import log_out
from tests.factories import PASSWORD, FindingFactory, KeyFactory, PartyFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


@pytest.fixture
def demo():
    grace = UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"])
    UserFactory(username="audrey", roles=["auditors"])
    olivia = UserFactory(username="olivia", first_name="Olivia", last_name="Owner", roles=["key-owners"])
    omar = UserFactory(username="omar", roles=["key-owners"])
    PartyFactory(name="Acme AI", is_us=True)
    mine = KeyFactory(name="olivia-orders-dek", owner=olivia)
    theirs = KeyFactory(name="omar-model-signer", owner=omar)
    FindingFactory(rule="ag-3-single-purpose", subject_id=mine.pk, subject_label=mine.name, severity="high")
    FindingFactory(rule="ag-7-purpose-tag", subject_id=theirs.pk, subject_label=theirs.name, severity="critical")
    check_run(passing=9, failing_key=theirs)
    return {"grace": grace, "mine": mine, "theirs": theirs}


def test_each_role_lands_on_its_dashboard(page, demo):
    log_in(page, "grace", PASSWORD)
    assert page.locator("h1").inner_text() == "CEK-11 Key Purpose posture"
    assert page.locator("tr[data-guideline]").count() == 13
    assert page.locator("tr[data-guideline=AG-3] .badge").inner_text() == "Fail"
    assert page.locator("svg.chart[role=group]").count() >= 5
    assert page.get_by_role("group", name="Open findings by severity").count() == 1
    log_out(page)

    log_in(page, "audrey", PASSWORD)
    assert page.locator("h1").inner_text() == "CEK-11 Key Purpose posture"
    assert "omar-model-signer" in page.content() and "GRC generates it" in page.content()
    log_out(page)

    log_in(page, "olivia", PASSWORD)
    assert page.locator("h1").inner_text() == "Your keys and CEK-11"
    content = page.content()
    assert "olivia-orders-dek" in content and "omar-model-signer" not in content
    assert page.locator("tr[data-guideline]").count() == 0
    with page.expect_navigation():
        page.click("text=Inventory overview")
    assert page.url.endswith("/inventory/")


def test_grc_accepts_a_risk_from_the_finding_page(page, demo):
    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        page.click("tr[data-guideline=AG-3] >> text=omar-model-signer")  # the failing subject, from the dashboard
    assert "/inventory/keys/" in page.url
    with page.expect_navigation():
        page.goto("/")
    with page.expect_navigation():
        page.click(".kpi >> text=Open findings")
    with page.expect_navigation():
        page.click("tr[data-finding]:has-text('ag-7-purpose-tag') td:first-child a")
    assert "The key's label does not carry its purpose: omar-model-signer" in page.locator("h1").inner_text()

    # A reason is required: the page comes back with the error and nothing changes.
    until = timezone.localdate() + dt.timedelta(days=45)
    page.fill("#id_until", until.isoformat())
    with page.expect_navigation():
        page.click("form.accept-form button[type=submit]")
    assert "This field is required." in page.content()
    assert Finding.objects.get(rule="ag-7-purpose-tag").status == FindingStatus.OPEN

    page.fill("#id_reason", "The signer moves to a dedicated key in the Q3 release.")
    with page.expect_navigation():
        page.click("form.accept-form button[type=submit]")
    assert f"Risk accepted until {until.day} {until:%b %Y}, approved by you." in page.content()
    assert "Risk accepted" in page.locator(".finding-status").inner_text()
    assert "Risk accepted until" in page.locator("#history").inner_text()
    finding = Finding.objects.get(rule="ag-7-purpose-tag")
    assert finding.status == FindingStatus.RISK_ACCEPTED and finding.accepted_by == demo["grace"]
