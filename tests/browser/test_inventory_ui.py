"""The inventory in a real browser: each role logs in and sees what it may; GRC creates a key and imports a
CSV; anyone filters the key list."""

from __future__ import annotations

import pytest

from inventory.models import Key
from tests.browser.conftest import log_in, nav_click
from tests.factories import PASSWORD, KeyFactory, KeyStoreFactory, UserFactory, purpose

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_catalog"),
]


@pytest.fixture
def people():
    return {
        "grc": UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"]),
        "owner": UserFactory(username="olivia", first_name="Olivia", last_name="Owner", roles=["key-owners"]),
        "auditor": UserFactory(username="audrey", first_name="Audrey", last_name="Auditor", roles=["auditors"]),
    }


@pytest.fixture
def inventory(people):
    store = KeyStoreFactory(name="prod-kms")
    KeyFactory(
        name="inference-log-key", store=store, owner=people["owner"], purpose=purpose("inference-log-encryption")
    )
    KeyFactory(name="billing-db-key", store=store, purpose=purpose("data-encryption"))
    return store


def log_out(page) -> None:
    with page.expect_navigation():
        page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")


def nav_links(page) -> list[str]:
    return [link.inner_text() for link in page.locator(".mainnav a").all()]


def test_each_role_sees_its_own_navigation(page, people, inventory):
    log_in(page, "grace", PASSWORD)
    assert "Keys" in nav_links(page) and "Import" in nav_links(page)
    log_out(page)

    log_in(page, "olivia", PASSWORD)
    assert "My keys" in nav_links(page) and "Import" not in nav_links(page)
    with page.expect_navigation():
        nav_click(page, "My keys")
    assert page.locator("table.data").inner_text().count("inference-log-key") == 1
    assert "billing-db-key" not in page.content()
    log_out(page)

    log_in(page, "audrey", PASSWORD)
    assert "Keys" in nav_links(page) and "Import" not in nav_links(page)
    with page.expect_navigation():
        nav_click(page, "Keys")
    assert "billing-db-key" in page.content() and "New key" not in page.content()


def test_grc_creates_a_key_in_the_browser(page, people, inventory):
    log_in(page, "grace", PASSWORD)
    page.goto("/inventory/keys/new/")
    page.fill("#id_name", "model-signing-key")
    page.select_option("#id_kind", "private-key")
    page.fill("#id_algorithm", "ECDSA P-256")
    page.select_option("#id_store", label="prod-kms")
    page.fill("#id_external_id", "arn:aws:kms:eu-west-1:111122223333:key/model-signing")
    page.select_option("#id_purpose", label="Model artifact signing — Digital signature (AI)")
    page.fill("#id_purpose_justification", "Signs model weights released to the registry.")
    page.fill("#id_labels", "purpose=model-artifact-signing")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url("**/inventory/keys/*/")
    assert "Key “model-signing-key” created." in page.content()
    assert Key.objects.get(name="model-signing-key").purpose.slug == "model-artifact-signing"


def test_the_key_form_shows_why_a_secret_was_refused(page, people, inventory):
    log_in(page, "grace", PASSWORD)
    page.goto("/inventory/keys/new/")
    page.fill("#id_name", "leaky")
    page.select_option("#id_store", label="prod-kms")
    page.fill("#id_external_id", "leaky-1")
    page.select_option("#id_purpose", label="Data encryption — Encryption")
    page.fill("#id_purpose_justification", "x")
    page.fill("#id_description", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")
    assert "Nothing was saved" in page.content()
    assert "looks like it contains" in page.locator(".field.has-error").inner_text()
    # The refused value is gone from the field and from the whole page; what else was typed is kept.
    assert page.input_value("#id_description") == ""
    assert page.input_value("#id_name") == "leaky"
    assert "wJalrXUtnFEMI" not in page.content()
    assert not Key.objects.filter(name="leaky").exists()


def test_anyone_filters_the_key_list_through_the_url(page, people, inventory):
    log_in(page, "audrey", PASSWORD)
    page.goto("/inventory/keys/")
    page.select_option("select[name=purpose]", "inference-log-encryption")
    with page.expect_navigation():
        page.click("button:has-text('Filter')")
    assert "purpose=inference-log-encryption" in page.url
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1 and "inference-log-key" in rows.inner_text()
    with page.expect_navigation():
        page.click("text=Clear filters")
    assert page.locator("table.data tbody tr").count() == 2


def test_grc_imports_a_csv_sees_the_bad_row_then_applies_the_fixed_file(page, people, inventory, tmp_path):
    header = "store,external_id,name,purpose,owner\n"
    bad = tmp_path / "keys.csv"
    bad.write_text(
        header
        + "prod-kms,arn:aws:kms:eu-west-1:111122223333:key/new-1,training-data,training-data-encryption,olivia\n"
        + "prod-kms,arn:aws:kms:eu-west-1:111122223333:key/new-2,eval-data,sign,olivia\n"
    )
    log_in(page, "grace", PASSWORD)
    with page.expect_navigation():
        nav_click(page, "Import")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Preview the import')")
    page.wait_for_url("**/inventory/import/*/")
    error_row = page.locator("table.data tbody tr").filter(has_text="'sign'").first
    assert error_row.locator("td").first.inner_text() == "3"
    assert "expected one of" in error_row.inner_text()
    assert page.locator("button:has-text('Apply')").count() == 0
    assert not Key.objects.filter(name__in=["training-data", "eval-data"]).exists()

    good = tmp_path / "keys-fixed.csv"
    good.write_text(bad.read_text().replace(",sign,", ",evaluation-data-encryption,"))
    page.goto("/inventory/import/")
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Preview the import')")
    page.wait_for_url("**/inventory/import/*/")
    page.click("button:has-text('Apply')")
    page.wait_for_url("**/inventory/imports/")
    assert "2 new" in page.locator(".messages").inner_text()
    assert Key.objects.filter(name__in=["training-data", "eval-data"], owner__username="olivia").count() == 2
