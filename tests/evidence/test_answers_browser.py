"""The CEK-11.1 answer in a real browser: GRC generates a draft from the latest check run, publishes it and
downloads the AI-CAIQ workbook."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from evidence.models import AnswerStatus, CaiqAnswer
from tests.browser.conftest import log_in, nav_click
from tests.evidence.caiq import key_policy, make_run, us
from tests.factories import PASSWORD, KeyFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


def test_grc_generates_publishes_and_downloads_the_answer(page, tmp_path):
    grace = UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"])
    us(["AP"], name="Acme AI")
    key_policy(grace)
    KeyFactory.create_batch(2, owner=grace)
    make_run({"AG-7": "partial"})

    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "CAIQ answer")
    assert "SSRM Control Ownership: Shared OSP-AP" in page.content()
    with page.expect_navigation():
        page.click("button:has-text('Generate a draft')")
    assert "Draft generated: the evidence gives YES." in page.content()
    assert "All fill rules met" in page.locator(".fill-rules").inner_text()
    assert "AG-7" in page.locator("table.disclosures").inner_text()

    with page.expect_navigation():
        page.click("a.publish-button")
    assert (
        "Publish the CEK-11.1 answer of " in page.content()
        and "is frozen: it can no longer be edited" in page.content()
    )
    assert CaiqAnswer.objects.get().status == AnswerStatus.DRAFT  # asked first: nothing published yet
    with page.expect_navigation():
        page.click("button:has-text('Publish and freeze')")
    answer = CaiqAnswer.objects.get()
    assert answer.status == AnswerStatus.PUBLISHED
    assert answer.sha256 in page.locator(".answer-digest").inner_text()
    assert page.locator(".publish-button").count() == 0

    with page.expect_download() as info:
        page.click("a.download-xlsx")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name.endswith(".xlsx") and "published" in target.name
    sheet = load_workbook(target)["AI-CAIQv1.1.0"]
    assert sheet["A1"].value == '{"specification_version": "1.1.0"}'
    assert [sheet["A3"].value, sheet["C3"].value, sheet["D3"].value] == ["CEK-11.1", "YES", "Shared OSP-AP"]
    assert "AG-7" in sheet["E3"].value

    with page.expect_navigation():
        nav_click(page, "CAIQ answer")
    assert answer.sha256[:16] in page.locator("table.answer-history").inner_text()
