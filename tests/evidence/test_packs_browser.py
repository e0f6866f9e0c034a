"""An auditor in a real browser: requests a pack, watches the progress bar move without reloading the page
while a real Celery worker builds it, downloads the pack, finds the download logged, and verifies the pack on
the verify page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from evidence.models import PackDownload, PackStatus
from evidence.packs import builder
from evidence.packs.verify import verify_pack_file
from tests.browser.conftest import log_in, nav_click
from tests.evidence import packs_support
from tests.factories import PASSWORD, KeyFactory, KeyStoreFactory, PartyFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]

signing_key = packs_support.signing_key


@pytest.fixture
def short_lived_connections(monkeypatch):
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def slow_fake_pdf(monkeypatch):
    """The PDF side stood in, with a collect that takes a few seconds and reports its progress, so the
    browser can watch the bar move."""
    collect, render = packs_support.make_fakes({})

    def slow_collect(pack, progress):
        for step in range(1, 9):
            time.sleep(0.5)
            progress(step * 12, f"collecting the evidence (step {step} of 8)")
        return collect(pack, progress)

    monkeypatch.setattr(builder, "_collect", slow_collect)
    monkeypatch.setattr(builder, "_render", render)


def test_an_auditor_requests_watches_downloads_and_verifies_a_pack(
    short_lived_connections, celery_worker, signing_key, slow_fake_pdf, page, tmp_path
):
    UserFactory(username="audrey", first_name="Audrey", last_name="Auditor", roles=["auditors"])
    PartyFactory(name="Example AI Ltd", is_us=True, roles=["AP"])
    store = KeyStoreFactory(name="prod-kms")
    for n in range(4):
        KeyFactory(name=f"orders-dek-{n}", store=store)

    log_in(page, "audrey", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Evidence packs")
    with page.expect_navigation():
        page.click("text=Request a pack")
    page.fill("#id_window_from", "2026-01-01")
    page.fill("#id_window_to", "2026-06-30")
    page.fill("#id_sample_seed", "browser-audit")
    with page.expect_navigation():
        page.click("form.pack-form button[type=submit]")
    assert "Evidence pack requested" in page.content()

    # The bar moves while the page stays the same (no reload): a marker set now survives the updates.
    page.evaluate("window.__samePage = true")
    bar = page.locator(".progress-card progress")
    page.wait_for_function(
        "() => { const b = document.querySelector('.progress-card progress'); return b && b.value >= 24; }",
        timeout=60_000,
    )
    assert page.evaluate("window.__samePage") is True
    assert "collecting the evidence" in page.locator("[data-progress-text]").inner_text()
    # The script sets the bar's value property (the attribute keeps the server-rendered value): read that.
    assert 24 <= bar.evaluate("b => b.value") <= 100

    # When the pack is ready, the page reloads by itself and offers the download.
    download_link = page.locator("a:has-text('Download')")
    download_link.wait_for(timeout=60_000)
    assert "Ready" in page.locator(".pack-status").inner_text()
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / "pack.zip"
    info.value.save_as(saved)
    with saved.open("rb") as handle:
        assert verify_pack_file(handle).ok

    download = PackDownload.objects.get()
    assert download.user.username == "audrey" and download.ip == "127.0.0.1" and "Chrome" in download.user_agent
    assert download.pack.status == PackStatus.READY
    page.reload()
    assert "127.0.0.1" in page.locator(".download-table").inner_text()

    with page.expect_navigation():
        page.click("text=Verify a pack")
    page.set_input_files("#id_file", str(saved))
    with page.expect_navigation():
        page.click("form.verify-form button[type=submit]")
    assert "Verified." in page.locator(".verify-result").inner_text()
    assert Path(saved).stat().st_size == download.pack.size
