"""An upload rejected before its preview: the page offers to create the missing store (filled in from the file),
keeps the file when nothing in it looks like key material, and the rejection is no "failed import"."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory.heldupload import HOLD_MINUTES
from inventory.models import KeyImport, KeyStore
from tests.inventory.test_platform_import import ACCOUNT, REGION, aws_key, dump


@pytest.fixture(autouse=True)
def _no_store_for_the_file(refs):
    """The reference stores include an AWS KMS store without account: it would match every AWS export."""
    KeyStore.objects.filter(kind="aws-kms").update(account="999988887777")


def upload(client, data: bytes, *, name: str = "kms.json", format: str = "aws-kms", url: str | None = None):
    fields = {"format": format}
    if data is not None:
        fields["file"] = SimpleUploadedFile(name, data, "application/json")
    return client.post(url or reverse("inventory:import"), fields)


def held_files(media) -> list:
    folder = media / "held-uploads"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_no_matching_store_links_to_its_creation_filled_in_and_the_file_is_used_again(alice_client, tmp_media):
    response = upload(alice_client, dump([aws_key(1, tags={"purpose": "Data encryption"})]))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"There is no AWS KMS key store for account &#x27;{ACCOUNT}&#x27; and region &#x27;{REGION}&#x27;" in page
    assert "Kept from your last upload: <strong>kms.json</strong>" in page
    assert len(held_files(tmp_media)) == 1

    link = response.context["create_store_url"]
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == reverse("inventory:keystore-create")
    assert (query["kind"], query["account"], query["region"]) == (["aws-kms"], [ACCOUNT], [REGION])
    assert query["next"] == [reverse("inventory:import") + "?format=aws-kms"]
    form = alice_client.get(link).context["form"]
    assert (form["kind"].value(), form["account"].value(), form["region"].value()) == ("aws-kms", ACCOUNT, REGION)
    assert form["name"].value() == f"AWS KMS {ACCOUNT} {REGION}"

    created = alice_client.post(
        link,
        {
            "name": "aws-prod-eu",
            "kind": "aws-kms",
            "account": ACCOUNT,
            "region": REGION,
            "purpose_tag_key": "purpose",
            "owner_tag_key": "owner",
            "service_tag_key": "service",
            "tenant_tag_key": "tenant",
        },
    )
    assert created.status_code == 302 and created["Location"] == query["next"][0]
    back = alice_client.get(created["Location"])
    assert back.context["form"]["format"].value() == "aws-kms" and back.context["form"].held[0] == "kms.json"

    previewed = upload(alice_client, None)  # no file chosen: the kept one is used
    record = KeyImport.objects.get(status=KeyImport.Status.PREVIEWED)
    assert previewed.status_code == 302 and previewed["Location"] == reverse(
        "inventory:import-preview", args=[record.pk]
    )
    assert record.store == KeyStore.objects.get(name="aws-prod-eu") and record.file_name == "kms.json"
    assert held_files(tmp_media) == []  # used: no longer held


def test_a_link_back_must_stay_on_this_site(alice_client):
    data = {"name": "s", "kind": "aws-kms", "purpose_tag_key": "p", "owner_tag_key": "o"}
    data |= {"service_tag_key": "s", "tenant_tag_key": "t"}
    response = alice_client.post(reverse("inventory:keystore-create") + "?next=//evil.example/", data)
    assert response["Location"] == KeyStore.objects.get(name="s").get_absolute_url()


def test_a_file_holding_key_material_is_never_kept(alice_client, tmp_media):
    # A CSV sent as an AWS export: rejected as unreadable JSON (not for its content), but a cell is an AES key.
    data = b"store,external_id,name,description\nprod-kms-eu,k-1,One,00112233445566778899aabbccddeeff\n"
    response = upload(alice_client, data, name="keys.csv")
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert "it was not kept" in response.content.decode()
    assert held_files(tmp_media) == [] and response.context["form"].held is None


def test_a_file_refused_for_key_material_is_never_kept(alice_client, tmp_media):
    pem = b"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"
    response = upload(alice_client, pem, name="key.pem", format="csv")
    assert response.status_code == 200 and held_files(tmp_media) == []
    assert KeyImport.objects.get().status == KeyImport.Status.REFUSED


def test_without_a_file_or_a_kept_one_the_form_asks_for_a_file(alice_client):
    response = upload(alice_client, None)
    assert response.context["form"].errors["file"] == ["Choose the file to import."]


def test_a_kept_file_is_removed_after_its_time(alice_client, tmp_media):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        upload(alice_client, dump([aws_key(1)]))
        assert len(held_files(tmp_media)) == 1
    with time_machine.travel(start + dt.timedelta(minutes=HOLD_MINUTES + 1), tick=False):
        page = alice_client.get(reverse("inventory:import"))
        assert page.context["form"].held is None and held_files(tmp_media) == []
        assert upload(alice_client, None).context["form"].errors["file"] == ["Choose the file to import."]


def test_rejected_uploads_are_listed_apart_from_imports_and_failed_imports_stay(alice_client, refs):
    upload(alice_client, dump([aws_key(1)]), name="no-store.json")
    rejected = KeyImport.objects.get()
    failed = KeyImport.objects.create(
        format="csv",
        file_name="applied-later.csv",
        sha256="0" * 64,
        size=10,
        created_by=refs["users"]["alice"],
        status=KeyImport.Status.FAILED,
        last_error="The worker applying this import stopped reporting for over 30 minutes.",
        started_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    )
    failed.file.save("applied-later.csv", SimpleUploadedFile("x", b"store\n"), save=True)
    assert rejected.rejected_at_upload and not failed.rejected_at_upload

    page = alice_client.get(reverse("inventory:import-list"))
    assert list(page.context["imports"]) == [failed]
    text = page.content.decode()
    assert "no-store.json" not in text and "1 upload rejected before a preview" in text
    assert "stopped reporting for over 30 minutes" in text and "Retry from its page" in text

    page = alice_client.get(reverse("inventory:import-list") + "?show=rejected")
    assert list(page.context["imports"]) == [rejected]
    text = page.content.decode()
    assert "Rejected at upload" in text and "There is no AWS KMS key store" in text and ">Failed<" not in text
    detail = alice_client.get(reverse("inventory:import-preview", args=[rejected.pk])).content.decode()
    assert "rejected before a preview (nothing was imported)" in detail and "The import failed" not in detail
    recent = alice_client.get(reverse("inventory:import")).context["recent"]
    assert list(recent) == [failed]


@pytest.mark.parametrize("show", ["", "?show=rejected"])
def test_the_import_list_runs_a_fixed_number_of_queries(alice_client, refs, django_assert_max_num_queries, show):
    for n in range(3):
        upload(alice_client, dump([aws_key(n)]), name=f"f{n}.json")
    with django_assert_max_num_queries(12):
        assert alice_client.get(reverse("inventory:import-list") + show).status_code == 200


@pytest.mark.parametrize(
    ("data", "clean"),
    [
        (dump([aws_key(1, tags={"purpose": "Data encryption"})]), True),
        (b"store,external_id,name\nprod-kms-eu,k-1,One\n", True),
        (b'[{"KeyMetadata": {"Description": "00112233445566778899aabbccddeeff"}}]', False),
        (b'{"k": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----"}', False),
        (b"store,external_id,description\nprod-kms-eu,k-1,00112233445566778899aabbccddeeff\n", False),
        (b"name\nbidi \xe2\x80\xae text\n", False),
        (b"\xff\xfe\x00binary", False),
    ],
)
def test_only_a_file_in_which_nothing_looks_like_key_material_is_judged_clean(data, clean):
    from inventory.heldupload import _judged_clean

    assert _judged_clean(data) is clean
