"""The usage APIs: uploading a log file (GRC, 202 with a status URL, queued for a worker, the file bounded and
not kept), the same file again (409), and the read-only aggregates with filters, role visibility and a fixed
number of queries."""

from __future__ import annotations

import gzip
import io

import pytest
from django.core.files.storage import default_storage

from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
from evidence.usage.services import usage_ingest_path
from tests.conftest import login
from tests.evidence.usage_support import ALICE, CLOUDTRAIL, KEY_ARN, ROLE, inventory
from tests.factories import KeyFactory

pytestmark = pytest.mark.django_db

UPLOADS = "/api/v1/usage-ingestions/"
USAGE = "/api/v1/usage/"


@pytest.fixture
def sent(monkeypatch):
    """Tasks sent to the broker, recorded instead (the worker test sends them for real)."""
    calls = []

    class Result:
        id = "task-1"

    def send(name, args):
        calls.append((name, args))
        return Result()

    monkeypatch.setattr("cek.jobs.queue.send", send)
    return calls


def upload(client, data: bytes = b"", *, name="trail.json.gz", **fields):
    body = {
        "file": io.BytesIO(data or gzip.compress(CLOUDTRAIL.read_bytes(), mtime=0)),
        "format": "cloudtrail",
        **fields,
    }
    body["file"].name = name
    return client.post(UPLOADS, body)


@pytest.fixture
def keys(owner):
    return inventory(owner=owner)


@pytest.fixture
def ingested(grc_user, keys):
    return usage_ingest_path(source="cloudtrail", path=str(CLOUDTRAIL), user=grc_user)


def test_grc_uploads_a_file_and_gets_202_with_a_status_url_and_the_task_queued(
    grc_client, keys, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(grc_client, store="kms-prod")

    assert response.status_code == 202, response.content
    body = response.json()
    ingestion = UsageIngestion.objects.get()
    assert response["Location"] == f"{UPLOADS}{ingestion.pk}/"
    assert body["status"] == "queued"
    assert body["store"] == "kms-prod"
    assert body["status_url"] == f"/jobs/usage-ingestion/{ingestion.pk}/status/"
    assert sent == [("evidence.tasks.usage_ingest", [ingestion.pk])]
    assert grc_client.get(body["status_url"]).json()["state"] == "queued"


def test_the_worker_ingests_the_upload_and_deletes_the_file(grc_client, keys, sent, django_capture_on_commit_callbacks):
    from evidence.usage.tasks import usage_ingest

    with django_capture_on_commit_callbacks(execute=True):
        upload(grc_client)
    ingestion = UsageIngestion.objects.get()
    stored = ingestion.file.name
    assert default_storage.exists(stored)

    usage_ingest.run(ingestion.pk)

    ingestion.refresh_from_db()
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert not ingestion.file
    assert not default_storage.exists(stored)
    assert UsageAggregate.objects.get(key_ref=KEY_ARN, principal=ALICE, operation="Decrypt").count == 2
    detail = grc_client.get(f"{UPLOADS}{ingestion.pk}/").json()
    assert detail["progress"] == 100
    assert detail["counts"]["events"] == 8


def test_a_failed_ingestion_deletes_the_file_too(grc_client, keys, sent, django_capture_on_commit_callbacks):
    from evidence.usage.tasks import usage_ingest

    with django_capture_on_commit_callbacks(execute=True):
        upload(grc_client, gzip.compress(CLOUDTRAIL.read_bytes())[:300])
    ingestion = UsageIngestion.objects.get()
    stored = ingestion.file.name

    usage_ingest.run(ingestion.pk)

    ingestion.refresh_from_db()
    assert ingestion.status == IngestionStatus.FAILED
    assert "the gzip file is cut short" in ingestion.last_error
    assert not default_storage.exists(stored)
    assert not UsageAggregate.objects.exists()


def test_the_same_file_again_is_answered_409_and_changes_nothing(grc_client, keys, sent):
    assert upload(grc_client).status_code == 202

    response = upload(grc_client, name="copy.json.gz")

    assert response.status_code == 409
    assert "being ingested already" in response.json()["detail"]
    assert UsageIngestion.objects.count() == 1


@pytest.mark.parametrize("size", [5000, 200_000])  # past the bound while streaming; announced past it
def test_a_file_over_the_size_bound_is_refused_with_413_and_not_kept(grc_client, keys, sent, settings, size):
    settings.CEK_USAGE_MAX_UPLOAD_BYTES = 1024

    response = upload(grc_client, b"x" * size)

    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert not UsageIngestion.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"format": "syslog"}, "format"), ({"store": "nowhere"}, "store")],
)
def test_a_bad_format_or_store_is_answered_400(grc_client, keys, sent, fields, field):
    response = upload(grc_client, **fields)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not UsageIngestion.objects.exists()


def test_the_broker_down_says_so_and_keeps_no_file(grc_user, keys, monkeypatch, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from kombu.exceptions import OperationalError

    from evidence.usage.services import IngestionRefused, usage_ingestion_upload

    def down(name, args):
        raise OperationalError("connection refused")

    monkeypatch.setattr("cek.jobs.queue.send", down)
    upload_file = SimpleUploadedFile("trail.json", CLOUDTRAIL.read_bytes())
    with pytest.raises(IngestionRefused, match="task queue cannot be reached"):
        with django_capture_on_commit_callbacks(execute=True):
            usage_ingestion_upload(source="cloudtrail", upload=upload_file, user=grc_user)

    ingestion = UsageIngestion.objects.get()
    assert ingestion.status == IngestionStatus.FAILED
    assert not ingestion.file
    assert not default_storage.listdir("usage-uploads")[1]


@pytest.mark.parametrize(
    ("role_name", "read", "write"),
    [
        ("anonymous", 401, 401),
        ("expired_auditor", 401, 401),
        ("outsider", 403, 403),
        ("owner", 403, 403),
        ("auditor", 403, 403),
        ("grc", 200, 202),
    ],
)
def test_only_grc_may_upload_and_read_ingestions(request, keys, sent, role_name, read, write):
    from django.test import Client

    user = (
        None if role_name == "anonymous" else request.getfixturevalue("grc_user" if role_name == "grc" else role_name)
    )
    client = Client() if user is None else login(user)

    assert client.get(UPLOADS).status_code == read
    assert upload(client).status_code == write


@pytest.mark.parametrize(
    ("role_name", "status", "rows"),
    [
        ("anonymous", 401, None),
        ("expired_auditor", 401, None),
        ("outsider", 403, None),
        ("other_owner", 200, 0),
        ("owner", 200, 4),  # the aggregates of the key they own
        ("auditor", 200, 7),  # everything, unknown keys included
        ("grc", 200, 7),
    ],
)
def test_who_reads_which_aggregates(request, ingested, role_name, status, rows):
    from django.test import Client

    user = (
        None if role_name == "anonymous" else request.getfixturevalue("grc_user" if role_name == "grc" else role_name)
    )
    client = Client() if user is None else login(user)

    response = client.get(USAGE)

    assert response.status_code == status
    if rows is not None:
        assert response.json()["count"] == rows


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_aggregates_are_read_only_even_for_grc(grc_client, ingested, method):
    row = UsageAggregate.objects.first()
    url = USAGE if method == "post" else f"{USAGE}{row.pk}/"

    assert getattr(grc_client, method)(url, {}, content_type="application/json").status_code == 405


def test_an_owner_cannot_read_another_keys_aggregate(other_owner, ingested):
    row = UsageAggregate.objects.filter(key__isnull=False).first()

    assert login(other_owner).get(f"{USAGE}{row.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"principal": ROLE}, 2),
        ({"operation": "Decrypt"}, 2),
        ({"failed": "true"}, 2),
        ({"unknown": "true"}, 1),
        ({"day_from": "2026-11-03"}, 3),
        ({"day_from": "2026-11-02", "day_to": "2026-11-02"}, 4),
        ({"key_ref": KEY_ARN, "failed": "false"}, 3),
        ({"store": "kms-prod"}, 7),
    ],
)
def test_filters(auditor_client, ingested, query, expected):
    response = auditor_client.get(USAGE, query)

    assert response.status_code == 200
    assert response.json()["count"] == expected


def test_filter_by_key_id(auditor_client, ingested, keys):
    body = auditor_client.get(USAGE, {"key": keys["key"].pk}).json()

    assert body["count"] == 4
    assert {row["key_name"] for row in body["results"]} == {"orders-data"}


def test_the_list_runs_a_fixed_number_of_queries(
    auditor_client, ingested, keys, grc_user, tmp_path, django_assert_max_num_queries
):
    # Session, user, roles, count, page (and one to spare for a session refresh), whatever the rows.
    with django_assert_max_num_queries(6):
        small = auditor_client.get(USAGE)
    from tests.evidence.usage_support import records, write_records

    events = []
    for n in range(60):
        key = KeyFactory(external_id=f"arn:aws:kms:us-west-2:111122223333:key/extra-{n}", store=keys["store"])
        event = records()[0] | {"eventID": f"extra-{n}"}
        event["resources"] = [{"type": "AWS::KMS::Key", "ARN": key.external_id, "accountId": "111122223333"}]
        events.append(event)
    usage_ingest_path(source="cloudtrail", path=str(write_records(tmp_path / "more.json", events)), user=grc_user)

    with django_assert_max_num_queries(6):
        large = auditor_client.get(USAGE, {"page_size": 100})
    assert small.json()["count"] == 7
    assert len(large.json()["results"]) == 67
