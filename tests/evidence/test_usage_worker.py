"""End to end with a real Celery worker and broker: a usage-log file uploaded through the API is queued on commit,
the worker ingests it (DuckDB, the merge), the job status reaches 100 %, and the uploaded file is gone."""

from __future__ import annotations

import gzip
import io

import pytest
from django.core.files.storage import default_storage

from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
from tests.conftest import login, wait_for
from tests.evidence.usage_support import ALICE, CLOUDTRAIL, KEY_ARN, inventory
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lived_connections(monkeypatch):
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


def test_a_worker_ingests_an_uploaded_cloudtrail_file(short_lived_connections, celery_worker):
    grc = UserFactory(username="grace", roles=["grc"])
    keys = inventory()
    client = login(grc)
    body = io.BytesIO(gzip.compress(CLOUDTRAIL.read_bytes()))
    body.name = "111122223333_CloudTrail_us-west-2_20261102T2300Z_abcd.json.gz"

    response = client.post("/api/v1/usage-ingestions/", {"file": body, "format": "cloudtrail", "store": "kms-prod"})

    assert response.status_code == 202, response.content
    pk = response.json()["id"]
    status_url = response.json()["status_url"]
    done = wait_for(lambda: client.get(status_url).json()["finished"] and client.get(status_url).json())
    assert done["state"] == "succeeded", done
    assert done["progress"] == 100
    ingestion = UsageIngestion.objects.get(pk=pk)
    assert ingestion.status == IngestionStatus.SUCCEEDED
    assert ingestion.counts["events"] == 8
    assert not ingestion.file
    assert not default_storage.listdir("usage-uploads")[1]
    row = UsageAggregate.objects.get(key_ref=KEY_ARN, principal=ALICE, operation="Decrypt")
    assert (row.key, row.count) == (keys["key"], 2)
