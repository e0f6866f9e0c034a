"""A platform export imported in a real browser: the preview shows conflicts, unknown names and keys without a
purpose; a large file is applied by a real Celery worker while the page follows its progress; GRC then maps
an unassigned key."""

from __future__ import annotations

import json

import pytest

from inventory.models import Key
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, KeyStoreFactory, ServiceFactory, UserFactory
from tests.inventory.test_platform_import import aws_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grc_previews_a_kms_export_applies_it_in_the_background_and_maps_a_key(page, celery_worker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CEK_IMPORT_INLINE_ROWS = 3
    grace = UserFactory(username="grace", roles=["grc"])
    UserFactory(username="olivia", email="olivia@example.com", roles=["key-owners"])
    KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")
    ServiceFactory(slug="inference-gateway")
    items = [
        aws_key(
            1,
            tags={"purpose": "inference-log-encryption", "owner": "olivia@example.com", "service": "inference-gateway"},
        ),
        aws_key(2, usage="SIGN_VERIFY", tags={"purpose": "data-encryption"}),
        aws_key(3, tags={"owner": "mallory"}),
        *(aws_key(n, tags={"purpose": "data-encryption"}) for n in range(4, 9)),
    ]
    export = tmp_path / "kms-eu.json"
    export.write_text(json.dumps(items))

    log_in(page, "grace", PASSWORD)
    page.goto("/inventory/import/")
    page.select_option("select[name=format]", "aws-kms")
    page.set_input_files("input[type=file]", str(export))
    with page.expect_navigation():
        page.click("button:has-text('Preview the import')")
    assert "store aws-prod-eu" in page.locator(".page-head .sub").inner_text()
    counts = page.locator(".import-counts").inner_text()
    assert "8\nnew keys" in counts and "1\nconflict\n" in counts and "1\npurpose unassigned" in counts
    unknown = page.locator("dl.fields").inner_text()
    assert "mallory" in unknown
    assert page.get_by_text("contradicts the key's platform usage").count() == 1

    with page.expect_navigation():
        page.click("button:has-text('Apply 8 changes')")
    # The worker applies it; the progress bar's script reloads the page when it is done.
    page.wait_for_selector("text=Applied on", timeout=60_000)
    assert page.locator(".badge", has_text="Applied").count() >= 1
    assert Key.objects.count() == 8 and Key.objects.filter(purpose__isnull=True).count() == 1

    unassigned = Key.objects.get(purpose__isnull=True)
    page.goto(f"/inventory/keys/{unassigned.pk}/")
    assert "no purpose" in page.locator(".msg-error").inner_text()
    with page.expect_navigation():
        page.click(".msg-error >> text=Map its purpose")
    page.select_option("select[name=purpose]", label="Data encryption — Encryption")
    page.fill("textarea[name=purpose_justification]", "Encrypts the eval datasets at rest.")
    page.select_option("select[name=purpose_approver]", str(grace.pk))
    page.fill("input[name=purpose_reviewed_on]", "2026-11-29")
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")
    unassigned.refresh_from_db()
    assert unassigned.purpose.slug == "data-encryption"
    assert page.locator(".msg-error").count() == 0
