"""The key page's usage panel in a real browser at 390 px wide: the panel shows, the page does not scroll sideways
(the table scrolls inside its card)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in
from tests.evidence.test_usage_misuse import usage
from tests.factories import PASSWORD, KeyFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


def test_the_usage_panel_fits_a_phone(page, settings):
    settings.CEK_ALERT_WEBHOOKS = []
    UserFactory(username="grace", roles=["grc"])
    key = KeyFactory(name="orders-data")
    for i in range(3):
        usage(
            key,
            principal=f"arn:aws:iam::111122223333:role/a-rather-long-application-role-name-{i}",
            operation="GenerateDataKeyWithoutPlaintext",
            day=timezone.localdate(),
        )
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "grace", PASSWORD)
    page.goto(f"/inventory/keys/{key.pk}/")
    panel = page.locator("#usage")
    assert panel.is_visible()
    assert "a-rather-long-application-role-name-2" in panel.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at 390 px"
