"""Fixtures of the evidence tests: a private media folder, policy e-mails and alerts sent in-process (no broker), and
the browser of the one end-to-end policy test."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.conftest import page as page  # the browser tests' page fixture, re-exported


@pytest.fixture(autouse=True)
def _evidence_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CEK_BASE_URL = "https://cek.example.com"
    settings.CEK_CHANGE_REVIEW_DAYS = 30


@pytest.fixture(autouse=True)
def _emails_in_process(request, monkeypatch):
    """The e-mail task runs in this process when queued, except in the test that uses a real worker."""
    if "celery_worker" in request.fixturenames:
        return
    from cek.jobs import queue
    from evidence.policies import tasks

    send = queue.send

    def in_process(name, args):
        if name == "evidence.tasks.policy_communication_emails":
            return tasks.policy_communication_emails(*args)
        if name == "evidence.alerts.deliver":  # one attempt, in this process (a retry is the worker's business)
            from evidence.alerts.services import alert_delivery_send

            return alert_delivery_send(delivery_id=args[0])
        return send(name, args)

    monkeypatch.setattr(queue, "send", in_process)


def _running_browser(request):
    """The Chromium that tests/browser launched in this session, if it is running: Playwright's sync API
    allows one instance per thread, so a second launch while it lives would fail."""
    for fixturedef in request._fixturemanager._arg2fixturedefs.get("browser", ()):
        cached = getattr(fixturedef, "cached_result", None)
        if (fixturedef.baseid or "").replace("\\", "/").startswith("tests/browser") and cached and cached[2] is None:
            return cached[0]
    return None


@pytest.fixture(scope="module")
def browser(request):
    """The session's browser when tests/browser started one; else Chromium for this module only (closed at
    its end, so browser tests collected after it can start their own)."""
    running = _running_browser(request)
    if running is not None:
        yield running
        return
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (scripts/test installs Debian's chromium when run as root).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
