"""The import pages: GRC uploads, previews, applies or discards; everyone else gets 403."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.models import Key, KeyImport
from tests.inventory.fixtures import GOOD_CSV, csv_text


@pytest.fixture(autouse=True)
def _media(tmp_media):
    """Every test of this module uploads into its own folder."""


def upload(client, data: bytes, name: str = "keys.csv"):
    return client.post(
        reverse("inventory:import"), {"format": "csv", "file": SimpleUploadedFile(name, data, "text/csv")}
    )


def test_grc_uploads_previews_and_applies_a_file(alice_client, refs):
    page = alice_client.get(reverse("inventory:import"))
    assert page.status_code == 200
    assert b"purpose_justification" in page.content and reverse("inventory:import-template").encode() in page.content

    response = upload(alice_client, GOOD_CSV.read_bytes(), "keys_good.csv")
    record = KeyImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("inventory:import-preview", args=[record.pk])

    preview = alice_client.get(response["Location"])
    assert preview.status_code == 200
    assert preview.context["counts"]["new"] == 3 and preview.context["can_apply"]
    text = preview.content.decode()
    assert '<div class="stat-label">new keys</div>' in text and '<div class="stat-label">conflicts</div>' in text
    assert '<div class="stat-label">rows</div>' in text  # 3 rows, 0 conflicts: plural
    assert b"Apply 3 changes" in preview.content and b"Inference logs EU" in preview.content
    assert Key.objects.count() == 0

    applied = alice_client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
    assert applied.redirect_chain[-1][0] == reverse("inventory:import-list")
    assert "Imported 3 keys: 3 new, 0 changed." in [str(m) for m in applied.context["messages"]]
    assert Key.objects.count() == 3
    assert b"keys_good.csv" in applied.content and record.sha256[:12].encode() in applied.content
    assert Key.objects.get(external_id__endswith="0001").history.get().history_user == refs["users"]["alice"]


def test_a_preview_with_errors_lists_them_and_offers_no_apply(alice_client):
    data = csv_text(
        ["store", "external_id", "name", "purpose"],
        [["prod-kms-eu", "k-1", "One", "sign"], ["nowhere", "k-2", "Two", "data-encryption"]],
    )
    response = upload(alice_client, data)
    preview = alice_client.get(response["Location"])
    assert preview.context["counts"]["errors"] == 2 and not preview.context["can_apply"]
    content = preview.content.decode()
    assert "column &#x27;purpose&#x27; is &#x27;sign&#x27;; expected one of:" in content
    assert "no key store of that name" in content and "Apply" not in content

    record = KeyImport.objects.get()
    refused = alice_client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
    assert any("has errors" in str(m) for m in refused.context["messages"])
    assert Key.objects.count() == 0


def test_a_file_rejected_as_a_whole_is_shown_on_the_upload_form(alice_client):
    response = upload(alice_client, b"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n", "key.pem")
    assert response.status_code == 200
    assert "The file contains a PEM block" in " ".join(response.context["form"].errors["file"])
    record = KeyImport.objects.get()
    assert record.status == KeyImport.Status.REFUSED and not record.file


def test_an_oversized_upload_is_refused_before_it_is_read(alice_client, settings):
    settings.CEK_IMPORT_MAX_BYTES = 1024
    response = upload(alice_client, b"x" * 2048)
    assert response.status_code == 200 and "the limit is" in " ".join(response.context["form"].errors["file"])
    assert not KeyImport.objects.exists()


def test_discard_drops_the_import(alice_client):
    upload(alice_client, GOOD_CSV.read_bytes())
    record = KeyImport.objects.get()
    response = alice_client.post(reverse("inventory:import-discard", args=[record.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("inventory:import-list")
    record.refresh_from_db()
    assert record.status == KeyImport.Status.DISCARDED and not record.file and Key.objects.count() == 0
    page = alice_client.get(reverse("inventory:import-preview", args=[record.pk]))
    assert page.status_code == 200 and b"Discard</button>" not in page.content


def test_the_template_downloads_as_csv_with_every_column(alice_client):
    response = alice_client.get(reverse("inventory:import-template"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    header = response.content.decode("utf-8").lstrip("\ufeff").splitlines()[0]
    assert header.startswith("store,external_id,name,kind,") and header.endswith("exposed_to,services")


def test_the_import_list_paginates(alice_client, refs, settings):
    settings.CEK_PAGE_SIZE = 5
    for n in range(7):
        KeyImport.objects.create(
            format="csv", file_name=f"f{n}.csv", sha256="0" * 64, size=1, created_by=refs["users"]["alice"]
        )
    response = alice_client.get(reverse("inventory:import-list"), {"page": 2})
    assert response.status_code == 200 and len(response.context["imports"]) == 2


def test_the_import_list_names_each_format_as_the_upload_page_does(alice_client, refs):
    KeyImport.objects.create(
        format="aws-kms", file_name="keys.json", sha256="0" * 64, size=1, created_by=refs["users"]["alice"]
    )
    html = alice_client.get(reverse("inventory:import-list")).content.decode()
    assert "AWS KMS ·" in html and "AWS-KMS" not in html


@pytest.mark.parametrize(
    "url_name", ["import", "import-list", "import-template", "import-preview", "import-apply", "import-discard"]
)
def test_only_grc_reaches_the_import_pages(role, url_name, grc_user, settings, tmp_path):
    name, _user, client = role
    record = KeyImport.objects.create(format="csv", file_name="f.csv", sha256="0" * 64, size=1, created_by=grc_user)
    args = [record.pk] if url_name in ("import-preview", "import-apply", "import-discard") else []
    url = reverse(f"inventory:{url_name}", args=args)
    response = client.post(url) if url_name in ("import-apply", "import-discard") else client.get(url)
    if name == "grc":
        assert response.status_code in (200, 302)
    elif name in ("anonymous", "expired_auditor"):
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == 403
    if name != "grc":
        record.refresh_from_db()
        assert record.status == KeyImport.Status.PREVIEWED


def test_an_import_stopped_at_apply_time_explains_why_it_cannot_be_applied(alice_client, refs):
    upload(alice_client, GOOD_CSV.read_bytes())
    record = KeyImport.objects.get()
    service = refs["services"][1]
    service.delete()
    response = alice_client.post(reverse("inventory:import-apply", args=[record.pk]), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("inventory changed since the preview" in m for m in messages)
    assert b"no service with that slug" in response.content and b"Apply 3" not in response.content

    service.save()  # the service is back: the file is fine again, but this import stays unappliable
    page = alice_client.get(reverse("inventory:import-preview", args=[record.pk]))
    assert b"Upload the file again" in page.content and b"Apply 3" not in page.content


def test_the_upload_page_shows_each_platform_export_command_instead_of_pointing_at_the_readme(alice_client):
    text = alice_client.get(reverse("inventory:import")).content.decode()
    assert "README" not in text
    assert (
        text.count("<summary>Commands to export the file</summary>") == 6
    )  # AWS, Google, Azure, Vault transit and KV, CBOM
    assert "aws kms list-keys" in text and "az keyvault key show --vault-name VAULT" in text


def test_a_preview_with_one_row_and_one_new_key_says_so_in_the_singular(alice_client, refs):
    one_row = "\n".join(GOOD_CSV.read_text(encoding="utf-8").splitlines()[:2]) + "\n"
    response = upload(alice_client, one_row.encode(), "one.csv")
    text = alice_client.get(response["Location"]).content.decode()
    assert '<div class="stat-label">row</div>' in text and '<div class="stat-label">new key</div>' in text
    assert '<div class="stat-label">conflicts</div>' in text  # none: still plural
