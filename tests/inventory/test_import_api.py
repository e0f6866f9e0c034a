"""``/api/v1/imports/``: upload -> preview JSON, apply (200 at once, 202 in the background), errors as JSON 4xx."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from kombu.exceptions import OperationalError

from inventory.models import Key, KeyImport
from tests.factories import KeyStoreFactory, UserFactory
from tests.inventory.test_platform_import import aws_key


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def grc_client(client, db):
    client.force_login(UserFactory(username="grace", first_name="Grace", last_name="Hopper", roles=["grc"]))
    return client


@pytest.fixture
def store(db):
    return KeyStoreFactory(name="aws-prod-eu", kind="aws-kms")


def upload(client, items, *, format="aws-kms", **extra):
    data = items if isinstance(items, bytes) else json.dumps(items).encode()
    body = {"file": SimpleUploadedFile("kms.json", data, content_type="application/json"), "format": format, **extra}
    return client.post(reverse("api-import-list"), body)


def test_upload_previews_and_apply_imports(grc_client, store):
    response = upload(grc_client, [aws_key(1, tags={"purpose": "data-encryption"}), aws_key(2)])
    assert response.status_code == 201
    body = response.json()
    record = body["import"]
    assert body["can_apply"] is True and record["status"] == "previewed" and record["store"] == "aws-prod-eu"
    assert record["counts"]["new"] == 2 and record["counts"]["unassigned"] == 1
    assert record["warnings"][0]["kind"] == "unassigned" and len(record["sha256"]) == 64
    assert {row["action"] for row in body["changes"]} == {"new"} and Key.objects.count() == 0

    applied = grc_client.post(reverse("api-import-apply", args=[record["id"]]))
    assert applied.status_code == 200 and applied.json()["status"] == "applied" and applied.json()["progress"] == 100
    assert Key.objects.count() == 2
    again = grc_client.post(reverse("api-import-apply", args=[record["id"]]))
    assert again.status_code == 409 and "only a previewed import can be applied" in again.json()["detail"]
    assert " by Grace Hopper;" in again.json()["detail"]  # who applied it, by name


@pytest.mark.parametrize(
    ("data", "format", "expected"),
    [
        (b"{not json", "aws-kms", "The file is not valid JSON"),
        (b'{"KeyMetadata": {}}', "aws-kms", ""),
        (json.dumps([{"name": "projects/p/locations/l/keyRings/r/cryptoKeys/k", "purpose": "MAC"}]), "aws-kms",
         "it looks like Google Cloud KMS (gcp-kms)"),
        (b"[]", "aws-kms", "lists no keys"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_400_with_the_reason_and_nothing_written(grc_client, store, data, format, expected):
    raw = data.encode() if isinstance(data, str) else data
    response = upload(grc_client, raw, format=format)
    assert response.status_code == 400
    body = response.json()
    assert expected in body["detail"] and body["import"]["status"] == "rejected"  # as the imports page says
    assert Key.objects.count() == 0


def test_row_errors_are_a_400_listing_each_row(grc_client, store):
    bad = aws_key(2)
    bad["KeyMetadata"]["KeyState"] = "Exploded"
    response = upload(grc_client, [aws_key(1), bad])
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["row"] == 2 and "KeyState" in body["errors"][0]["message"]
    assert body["import"]["counts"]["errors"] == 1
    assert grc_client.post(reverse("api-import-apply", args=[body["import"]["id"]])).status_code == 409


def test_an_upload_with_invalid_fields_is_a_400(grc_client, store):
    response = grc_client.post(reverse("api-import-list"), {"format": "excel"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"file", "format"}
    response = upload(grc_client, [aws_key(1)], store="no-such-store")
    assert response.status_code == 400 and "store" in response.json()["errors"]


def test_a_large_import_is_accepted_for_the_worker_and_a_down_broker_is_a_503(grc_client, store, settings, monkeypatch):
    settings.CEK_IMPORT_INLINE_ROWS = 1
    record = upload(grc_client, [aws_key(1), aws_key(2)]).json()["import"]

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("cek.jobs.queue.send", broker_down)
    response = grc_client.post(reverse("api-import-apply", args=[record["id"]]))
    assert response.status_code == 503 and "cannot be reached" in response.json()["detail"]
    assert KeyImport.objects.get().status == "previewed"

    monkeypatch.setattr("cek.jobs.queue.send", lambda *a, **k: type("R", (), {"id": "task-1"})())
    response = grc_client.post(reverse("api-import-apply", args=[record["id"]]))
    assert response.status_code == 202 and response.json()["status"] == "applying"
    assert KeyImport.objects.get().task_id == "task-1"


def test_the_list_and_detail_show_every_import(grc_client, store, django_assert_max_num_queries):
    for n in range(3):
        upload(grc_client, [aws_key(n)])
    with django_assert_max_num_queries(6):
        response = grc_client.get(reverse("api-import-list"))
    assert response.status_code == 200 and response.json()["count"] == 3
    one = response.json()["results"][0]
    assert grc_client.get(one["url"]).json()["id"] == one["id"]


def a_failed_apply() -> KeyImport:
    """An import whose apply failed: its file is kept and it may be retried (not rejected at upload)."""
    record = KeyImport.objects.create(
        format="csv",
        file_name="applied-later.csv",
        sha256="0" * 64,
        size=10,
        created_by=UserFactory(),
        status=KeyImport.Status.FAILED,
        last_error="The worker applying this import stopped reporting for over 30 minutes.",
        started_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    )
    record.file.save("applied-later.csv", SimpleUploadedFile("x", b"store\n"), save=True)
    return record


def test_uploads_rejected_before_a_preview_are_told_apart_from_failed_imports_as_on_the_page(grc_client, store):
    previewed = upload(grc_client, [aws_key(1)]).json()["import"]
    rejected = upload(grc_client, b"{not json").json()["import"]
    failed = a_failed_apply()

    def listed(**params) -> dict[int, str]:
        response = grc_client.get(reverse("api-import-list"), params)
        assert response.status_code == 200, response.content
        return {row["id"]: row["status"] for row in response.json()["results"]}

    assert listed() == {previewed["id"]: "previewed", rejected["id"]: "rejected", failed.pk: "failed"}
    assert grc_client.get(rejected["url"]).json()["status"] == "rejected"
    # The page's two lists: the imports, and the uploads rejected before a preview.
    page = grc_client.get(reverse("inventory:import-list")).context["imports"]
    assert set(listed(rejected="false")) == {record.pk for record in page} == {previewed["id"], failed.pk}
    page = grc_client.get(reverse("inventory:import-list"), {"show": "rejected"}).context["imports"]
    assert set(listed(rejected="true")) == {record.pk for record in page} == {rejected["id"]}
    assert listed(status="rejected") == {rejected["id"]: "rejected"}
    assert listed(status="failed") == {failed.pk: "failed"}
    assert listed(status="failed", rejected="true") == {}
    for junk in ({"status": "kaput"}, {"rejected": "maybe"}):
        response = grc_client.get(reverse("api-import-list"), junk)
        assert response.status_code == 400 and set(response.json()["errors"]) == set(junk)


def test_the_schema_documents_the_rejected_status_and_the_filters(grc_client):
    schema = grc_client.get(reverse("api-schema"), {"format": "json"}).json()
    status = schema["components"]["schemas"]["KeyImport"]["properties"]["status"]
    enum = schema["components"]["schemas"][status["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert "rejected" in enum and "failed" in enum and "rejected before its preview" in status["description"]
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/imports/"]["get"]["parameters"]}
    assert "rejected" in parameters["status"]["enum"] and parameters["rejected"]["type"] == "boolean"


def test_discard_and_retry(grc_client, store):
    record = upload(grc_client, [aws_key(1)]).json()["import"]
    assert grc_client.post(reverse("api-import-retry", args=[record["id"]])).status_code == 409
    discarded = grc_client.post(reverse("api-import-discard", args=[record["id"]]))
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"


@pytest.mark.parametrize("role", ["key-owners", "auditors"])
def test_only_grc_may_use_the_import_endpoints(client, store, role):
    client.force_login(UserFactory(roles=[role]))
    assert client.get(reverse("api-import-list")).status_code == 403
    assert upload(client, [aws_key(1)]).status_code == 403
    assert KeyImport.objects.count() == 0


def test_anonymous_requests_are_refused(client, db):
    assert client.get(reverse("api-import-list")).status_code in (401, 403)
