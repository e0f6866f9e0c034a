"""GRC in a real browser: uploads a CloudTrail file on the usage-logs page, a real Celery worker ingests it, the page
follows the job and shows the result by itself; both pages fit a 390 px wide screen."""

from __future__ import annotations

import gzip

import pytest

from evidence.usage.models import UsageAggregate
from tests.browser.conftest import log_in, nav_click
from tests.evidence.usage_support import CLOUDTRAIL, inventory
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


@pytest.fixture
def short_lived_connections(monkeypatch):
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def fits(page, width: int) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def test_grc_uploads_a_log_and_the_page_shows_the_ingestion_when_done(
    short_lived_connections, celery_worker, page, tmp_path
):
    UserFactory(username="grace", roles=["grc"])
    inventory()
    upload = tmp_path / "111122223333_CloudTrail_us-west-2_20261102T2300Z_abcd.json.gz"
    upload.write_bytes(gzip.compress(CLOUDTRAIL.read_bytes()))

    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Usage logs")
    page.select_option("#id_format", "cloudtrail")
    page.select_option("#id_store", "kms-prod")
    page.set_input_files("#id_file", str(upload))
    with page.expect_navigation():
        page.click("form.usage-upload-form button[type=submit]")
    assert "is queued for ingestion" in page.content()

    # The page follows the job (progress.js) and reloads by itself when it ends.
    page.locator("text=Events kept").wait_for(timeout=60_000)
    assert "3 in the inventory, 1 unknown" in page.content()
    assert UsageAggregate.objects.count() == 7

    page.set_viewport_size({"width": 390, "height": 844})
    assert fits(page, 390)
    page.goto("/evidence/usage/ingestions/")
    assert fits(page, 390)  # tables scroll inside their .table-wrap
