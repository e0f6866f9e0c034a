"""The gcp-audit, azure-kv and vault-audit sources through the ingestion service into aggregates: keys resolve
to the inventory keys their platform's importer creates, unknown keys are kept, bad files write nothing."""

from __future__ import annotations

import io
import json
import shutil

import duckdb
import pytest
from django.core.management import call_command

from evidence.usage.engine import source_file
from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
from evidence.usage.services import IngestionRefused, usage_ingest_path
from evidence.usage.sources import get_source
from evidence.usage.sources.base import COLUMNS
from inventory.models import StoreKind
from tests.evidence.usage_sources_support import FIXTURES, write_lines
from tests.factories import KeyFactory, KeyStoreFactory

pytestmark = pytest.mark.django_db

GCP_RING = "projects/shop-prod/locations/europe-west1/keyRings/payments/cryptoKeys/"
AZURE_VAULT = "https://contoso-pay.vault.azure.net/keys/"


@pytest.fixture
def gcp_keys():
    store = KeyStoreFactory(
        name="shop-prod europe-west1", kind=StoreKind.GCP_KMS, account="shop-prod", region="europe-west1"
    )
    names = ("orders-dek", "release-signing", "webhook-mac", "legacy-raw")
    return store, {name: KeyFactory(name=name, store=store, external_id=GCP_RING + name) for name in names}


@pytest.fixture
def azure_keys():
    store = KeyStoreFactory(name="contoso-pay", kind=StoreKind.AZURE_KV, account="contoso-pay", region="")
    names = ("orders-kek", "release-signing")
    return store, {name: KeyFactory(name=name, store=store, external_id=AZURE_VAULT + name) for name in names}


@pytest.fixture
def vault_keys():
    store = KeyStoreFactory(name="vault prod", kind=StoreKind.VAULT_TRANSIT, account="", region="")
    refs = (
        "transit/keys/orders",
        "transit/keys/release-signing",
        "transit/keys/webhook-mac",
        "transit-eu/keys/customer-pii",
    )
    return store, {ref: KeyFactory(name=ref.rsplit("/", 1)[1], store=store, external_id=ref) for ref in refs}


def ingest(fmt, path, user, **kwargs):
    return usage_ingest_path(source=fmt, path=str(path), user=user, **kwargs)


def by_key(ingestion_source: str):
    totals: dict[str, int] = {}
    for row in UsageAggregate.objects.filter(source=ingestion_source):
        name = row.key.name if row.key else f"unknown {row.key_ref}"
        totals[name] = totals.get(name, 0) + row.count
    return totals


def test_gcp_audit_entries_become_aggregates_on_the_imported_keys(grc_user, gcp_keys):
    store, keys = gcp_keys
    ingestion = ingest("gcp-audit", FIXTURES / "gcp-audit" / "data_access.jsonl.gz", grc_user)
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert ingestion.counts["events"] == 13 and ingestion.counts["skipped"] == 2
    assert ingestion.counts["keys"] == 4 and ingestion.counts["unknown_keys"] == 1
    assert by_key("gcp-audit") == {
        "orders-dek": 6,
        "release-signing": 2,
        "webhook-mac": 2,
        "legacy-raw": 2,
        f"unknown {GCP_RING}shadow-key": 1,
    }
    signing = UsageAggregate.objects.get(key=keys["release-signing"])
    assert (signing.operation, signing.count, signing.principal_type) == ("AsymmetricSign", 2, "role")
    assert signing.sample_event_ids == ["1a2b3c4d5e06", "1a2b3c4d5e07"]
    assert signing.context == {"delegatedBy": ["alice@example.com"]}
    denied = UsageAggregate.objects.get(key=keys["orders-dek"], error_code="PERMISSION_DENIED")
    assert (denied.principal, denied.count) == ("mallory@example.com", 1)
    unknown = UsageAggregate.objects.get(key=None, source="gcp-audit")
    assert unknown.store == store  # matched by the entry's project and location


def test_azure_kv_records_in_each_shape_become_the_same_aggregates(grc_user, azure_keys):
    store, _ = azure_keys
    expected = None
    for name in ("storage_account.jsonl", "azure_diagnostics.jsonl", "azkv_audit_logs.jsonl"):
        UsageAggregate.objects.all().delete()
        ingestion = ingest("azure-kv", FIXTURES / "azure-kv" / name, grc_user)
        assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
        assert (ingestion.counts["events"], ingestion.counts["skipped"], ingestion.counts["unknown_keys"]) == (8, 3, 1)
        got = sorted(
            (
                row.key.name if row.key else row.key_ref,
                row.principal,
                row.operation,
                row.error_code,
                str(row.day),
                row.count,
            )
            for row in UsageAggregate.objects.all()
        )
        assert expected is None or got == expected
        expected = got
    assert ("orders-kek", "6b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "KeyUnwrap", "", "2026-11-30", 2) in expected
    assert ("orders-kek", "mallory@contoso.com", "KeyDecrypt", "Forbidden", "2026-11-30", 1) in expected
    assert UsageAggregate.objects.get(key=None).store == store


def test_vault_audit_calls_count_once_and_resolve_to_transit_keys(grc_user, vault_keys):
    _, keys = vault_keys
    ingestion = ingest("vault-audit", FIXTURES / "vault-audit" / "audit.log", grc_user)
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert ingestion.counts["events"] == 15
    assert by_key("vault-audit") == {
        "orders": 9,
        "release-signing": 2,
        "webhook-mac": 2,
        "customer-pii": 1,
        "unknown transit/keys/shadow-key": 1,
    }
    refused = UsageAggregate.objects.get(error_code="permission denied")
    assert (refused.key, refused.principal, refused.principal_type) == (
        keys["transit/keys/orders"],
        "userpass-intern",
        "user",
    )
    assert not UsageAggregate.objects.filter(sample_event_ids__icontains="hmac").exists()


def test_vault_audit_into_a_chosen_store(grc_user, vault_keys):
    store, _ = vault_keys
    ingestion = ingest("vault-audit", FIXTURES / "vault-audit" / "audit.log.gz", grc_user, store=store)
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert set(UsageAggregate.objects.values_list("store", flat=True)) == {store.pk}


def test_the_same_file_again_changes_nothing(grc_user, gcp_keys):
    ingest("gcp-audit", FIXTURES / "gcp-audit" / "data_access.jsonl", grc_user)
    before = sorted(UsageAggregate.objects.values_list("dimensions", "count"))
    with pytest.raises(IngestionRefused, match="already ingested"):
        ingest("gcp-audit", FIXTURES / "gcp-audit" / "data_access.jsonl", grc_user)
    assert sorted(UsageAggregate.objects.values_list("dimensions", "count")) == before


@pytest.mark.parametrize(
    ("fmt", "other"),
    [
        ("gcp-audit", "azure-kv/storage_account.jsonl"),
        ("azure-kv", "vault-audit/audit.log"),
        ("vault-audit", "gcp-audit/data_access.jsonl"),
        ("gcp-audit", "cloudtrail-kms.json"),
        ("vault-audit", "cloudtrail-kms.json"),
    ],
)
def test_a_file_of_another_format_is_refused_and_writes_nothing(grc_user, fmt, other, tmp_path):
    path = tmp_path / other.replace("/", "-")
    shutil.copy(FIXTURES / other, path)
    ingestion = ingest(fmt, path, grc_user)
    assert ingestion.status == IngestionStatus.FAILED
    label = get_source(fmt).label
    assert ingestion.last_error.startswith(f"{path.name}: ")
    assert f"records are not {label} events. Choose the format the file is in" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("gcp-audit", "gcp-audit/data_access.jsonl.gz"),
        ("azure-kv", "azure-kv/storage_account.jsonl.gz"),
        ("vault-audit", "vault-audit/audit.log.gz"),
    ],
)
def test_a_truncated_gzip_is_refused_and_writes_nothing(grc_user, fmt, name, tmp_path):
    whole = (FIXTURES / name).read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    ingestion = ingest(fmt, cut, grc_user)
    assert ingestion.status == IngestionStatus.FAILED
    assert ingestion.last_error.startswith("cut.gz: ")
    assert "cut short" in ingestion.last_error and "Nothing was written" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_gcp_entries_of_another_project_than_the_chosen_store_are_refused(grc_user, gcp_keys):
    store, _ = gcp_keys
    ingestion = ingest("gcp-audit", FIXTURES / "gcp-audit" / "other_project.jsonl", grc_user, store=store)
    assert ingestion.status == IngestionStatus.FAILED
    assert "events of account other-corp, region us-east1" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_azure_records_of_another_vault_than_the_chosen_store_are_refused(grc_user, azure_keys):
    store, _ = azure_keys
    ingestion = ingest("azure-kv", FIXTURES / "azure-kv" / "other_vault.jsonl", grc_user, store=store)
    assert ingestion.status == IngestionStatus.FAILED
    assert "events of account fabrikam-hr" in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_a_store_of_another_platform_is_refused(grc_user, gcp_keys):
    store, _ = gcp_keys
    with pytest.raises(IngestionRefused, match="Google Cloud KMS store"):
        ingest("vault-audit", FIXTURES / "vault-audit" / "audit.log", grc_user, store=store)
    assert not UsageIngestion.objects.exists()


def test_a_principal_that_carries_key_material_refuses_the_file(grc_user, vault_keys, tmp_path):
    line = json.loads((FIXTURES / "vault-audit" / "audit.log").read_text().splitlines()[2])
    line["auth"]["display_name"] = (
        "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"
    )
    ingestion = ingest("vault-audit", write_lines(tmp_path / "pem.log", [json.dumps(line)]), grc_user)
    assert ingestion.status == IngestionStatus.FAILED
    assert "principal" in ingestion.last_error.lower()
    assert "BEGIN" not in ingestion.last_error
    assert not UsageAggregate.objects.exists()


def test_azure_records_envelope_is_read_within_the_engines_memory(grc_user, azure_keys):
    # The {"records": [...]} form is one JSON value read whole: its buffer must fit DuckDB's memory limit.
    ingestion = ingest("azure-kv", FIXTURES / "azure-kv" / "records_envelope.json", grc_user)
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert ingestion.counts["events"] == 4
    assert by_key("azure-kv") == {"orders-kek": 3, "release-signing": 1}


def test_gcloud_logging_read_output_is_ingested(grc_user, gcp_keys):
    ingestion = ingest("gcp-audit", FIXTURES / "gcp-audit" / "gcloud_logging_read.json", grc_user)
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert by_key("gcp-audit") == {"orders-dek": 3}


@pytest.mark.parametrize(
    ("fmt", "name", "store_fixture", "summary"),
    [
        ("gcp-audit", "gcp-audit/data_access.jsonl.gz", "gcp_keys", "13 events into 11 aggregates"),
        ("azure-kv", "azure-kv/azkv_audit_logs.jsonl", "azure_keys", "8 events into 7 aggregates"),
        ("vault-audit", "vault-audit/audit.log.gz", "vault_keys", "15 events into 13 aggregates"),
    ],
)
def test_the_command_ingests_each_format_into_the_store_named(
    grc_user, request, capsys, fmt, name, store_fixture, summary
):
    store, _ = request.getfixturevalue(store_fixture)
    call_command("ingest_usage", "--format", fmt, str(FIXTURES / name), "--user", "alice", "--store", store.name)
    assert summary in capsys.readouterr().out
    assert set(UsageAggregate.objects.values_list("store", flat=True)) == {store.pk}


@pytest.mark.parametrize(
    ("fmt", "name", "store_fixture", "events"),
    [
        ("gcp-audit", "gcp-audit/data_access.jsonl.gz", "gcp_keys", 13),
        ("azure-kv", "azure-kv/azure_diagnostics.jsonl", "azure_keys", 8),
        ("vault-audit", "vault-audit/audit.log", "vault_keys", 15),
    ],
)
def test_an_upload_through_the_api_is_ingested_by_the_task(
    grc_client, request, monkeypatch, django_capture_on_commit_callbacks, fmt, name, store_fixture, events
):
    from evidence.usage.tasks import usage_ingest

    request.getfixturevalue(store_fixture)
    sent = []

    class Result:
        id = "task-1"

    monkeypatch.setattr("cek.jobs.queue.send", lambda task, args: sent.append(args) or Result())
    body = io.BytesIO((FIXTURES / name).read_bytes())
    body.name = name.rsplit("/", 1)[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = grc_client.post("/api/v1/usage-ingestions/", {"file": body, "format": fmt})
    assert response.status_code == 202, response.content
    ingestion = UsageIngestion.objects.get()
    assert sent

    usage_ingest.run(ingestion.pk)

    ingestion.refresh_from_db()
    assert ingestion.status == IngestionStatus.SUCCEEDED, ingestion.last_error
    assert ingestion.counts["events"] == events
    assert grc_client.get(f"/api/v1/usage-ingestions/{ingestion.pk}/").json()["counts"]["events"] == events


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("gcp-audit", "gcp-audit/data_access.jsonl"),
        ("azure-kv", "azure-kv/storage_account.jsonl"),
        ("azure-kv", "azure-kv/azure_diagnostics.jsonl"),
        ("azure-kv", "azure-kv/records_envelope.json"),
        ("vault-audit", "vault-audit/audit.log"),
    ],
)
def test_each_source_returns_exactly_the_normalized_columns(fmt, name):
    con = duckdb.connect()
    relation = con.sql(get_source(fmt).relation(con, source_file(str(FIXTURES / name), name=name)))
    assert sorted(relation.columns) == sorted(COLUMNS)
