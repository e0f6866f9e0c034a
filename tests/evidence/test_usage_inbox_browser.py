"""The attestation inbox's recent principals in a real browser at 390 px wide: long principal names wrap inside
their cell, the page itself does not scroll sideways (the table scrolls inside its box, as before)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.campaigns import services as campaigns
from tests.browser.conftest import log_in
from tests.evidence.usage_figures_support import aggregate
from tests.factories import PASSWORD, KeyFactory, KeyStoreFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]

LONG_ROLE = "arn:aws:iam::111122223333:role/service-role/orders-api-production-eu-west-1-execution-role"


def test_the_inbox_shows_recent_principals_at_390_px(page):
    grace = UserFactory(username="grace", roles=["grc"])
    olivia = UserFactory(username="olivia", roles=["key-owners"])
    store = KeyStoreFactory(name="prod-kms")
    key = KeyFactory(name="orders-dek", owner=olivia, store=store)
    KeyFactory(name="idle-dek", owner=olivia, store=store)
    for n, principal in enumerate([LONG_ROLE, "svc-b", "svc-c", "svc-d"]):
        aggregate(key=key, principal=principal, count=50 - n)
    campaign = campaigns.campaign_create(actor=grace, name="Q4", due_on=timezone.localdate())
    campaigns.campaign_launch(campaign=campaign, actor=grace)

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "olivia", PASSWORD)
    page.goto(reverse("evidence:attestation-inbox"))
    usage = page.locator("tr[data-key=orders-dek] .inbox-usage")
    assert LONG_ROLE in usage.inner_text() and "and 1 more" in usage.inner_text()
    assert "No recorded use in 90 days" in page.locator("tr[data-key=idle-dek] .inbox-usage").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = usage.bounding_box()
    assert box is not None and box["width"] <= 26 * 16 + 1  # wraps within its cell's maximum width
    wrap = page.locator(".table-wrap")
    assert page.evaluate("(el) => getComputedStyle(el).overflowX", wrap.element_handle()) == "auto"
