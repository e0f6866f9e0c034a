"""The gcp-audit usage source: Cloud Audit Logs Data Access entries of Cloud KMS, as normalized rows."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from evidence.usage.sources import get_source
from tests.evidence.usage_sources_support import FIXTURES, calls, relevant, rows, source_file, write_lines

HERE = FIXTURES / "gcp-audit"
RING = "projects/shop-prod/locations/europe-west1/keyRings/payments/cryptoKeys/"
APP = "orders-api@shop-prod.iam.gserviceaccount.com"


def by_id(path=HERE / "data_access.jsonl"):
    return {row["event_id"]: row for row in rows("gcp-audit", path)}


def test_it_keeps_the_cryptographic_calls_and_skips_the_rest_of_the_sink():
    read = rows("gcp-audit", HERE / "data_access.jsonl")
    assert all(row["recognised"] for row in read)
    skipped = [row["event_id"] for row in read if not row["relevant"]]
    # GetCryptoKey (a metadata read on Cloud KMS) and a Cloud Storage object read in the same sink
    assert skipped == ["1a2b3c4d5e14", "1a2b3c4d5e15"]
    assert len(read) - len(skipped) == 13


def test_a_key_version_counts_for_its_key():
    row = by_id()["1a2b3c4d5e06"]  # AsymmetricSign on .../cryptoKeys/release-signing/cryptoKeyVersions/3
    assert row["key_ref"] == RING + "release-signing"
    assert by_id()["1a2b3c4d5e08"]["key_ref"] == RING + "webhook-mac"
    assert by_id()["1a2b3c4d5e11"]["key_ref"] == RING + "legacy-raw"


def test_the_store_is_the_project_and_location_of_the_key():
    assert {(row["account"], row["region"]) for row in relevant("gcp-audit", HERE / "data_access.jsonl")} == {
        ("shop-prod", "europe-west1")
    }
    other = relevant("gcp-audit", HERE / "other_project.jsonl")
    assert [(row["account"], row["region"]) for row in other] == [("other-corp", "us-east1")]


def test_short_and_qualified_method_names_are_the_same_operation():
    found = by_id()
    assert found["1a2b3c4d5e03"]["operation"] == "Encrypt"  # google.cloud.kms.v1.KeyManagementService.Encrypt
    assert found["1a2b3c4d5e06"]["operation"] == found["1a2b3c4d5e07"]["operation"] == "AsymmetricSign"
    assert {row["operation"] for row in relevant("gcp-audit", HERE / "data_access.jsonl")} == {
        "Decrypt",
        "Encrypt",
        "AsymmetricSign",
        "MacSign",
        "MacVerify",
        "RawEncrypt",
        "RawDecrypt",
    }


def test_principals_are_typed_service_agent_workload_person_or_federated():
    found = by_id()
    assert (found["1a2b3c4d5e01"]["principal"], found["1a2b3c4d5e01"]["principal_type"]) == (APP, "role")
    agent = found["1a2b3c4d5e04"]  # Cloud Storage's service agent decrypting for a CMEK bucket
    assert (agent["principal"], agent["principal_type"]) == (
        "service-123456789012@gs-project-accounts.iam.gserviceaccount.com",
        "service",
    )
    assert (found["1a2b3c4d5e05"]["principal"], found["1a2b3c4d5e05"]["principal_type"]) == (
        "mallory@example.com",
        "user",
    )
    federated = found["1a2b3c4d5e08"]  # workload identity federation: principalSubject, no e-mail
    assert federated["principal"].startswith("principal://iam.googleapis.com/projects/123456789012/")
    assert federated["principal_type"] == "other"


def test_an_impersonated_service_account_keeps_who_was_behind_it_in_the_context():
    found = by_id()
    assert found["1a2b3c4d5e06"]["principal"] == "release-signer@shop-prod.iam.gserviceaccount.com"
    assert json.loads(found["1a2b3c4d5e06"]["context"]) == {"delegatedBy": "alice@example.com"}
    assert found["1a2b3c4d5e07"]["context"] is None


def test_failed_calls_carry_the_status_code_name():
    found = by_id()
    assert found["1a2b3c4d5e05"]["error_code"] == "PERMISSION_DENIED"
    assert found["1a2b3c4d5e11"]["error_code"] == "FAILED_PRECONDITION"  # a destroyed version
    assert found["1a2b3c4d5e01"]["error_code"] == ""


def test_times_are_utc_and_days_split_at_midnight():
    found = by_id()
    assert found["1a2b3c4d5e01"]["first_seen"] == dt.datetime(2026, 11, 30, 8, 14, 3, 118204)
    assert found["1a2b3c4d5e13"]["day"] == dt.date(2026, 12, 1)
    assert found["1a2b3c4d5e13"]["calls"] == 1


def test_an_offset_and_nanoseconds_are_read_as_utc(tmp_path):
    entry = json.loads((HERE / "data_access.jsonl").read_text().splitlines()[0])
    entry["timestamp"] = "2026-11-30T23:30:00.123456789-02:00"
    row = relevant("gcp-audit", write_lines(tmp_path / "offset.jsonl", [json.dumps(entry)]))[0]
    assert row["first_seen"] == dt.datetime(2026, 12, 1, 1, 30, 0, 123456)
    assert row["day"] == dt.date(2026, 12, 1)


def test_gzip_and_plain_files_read_alike():
    assert calls("gcp-audit", HERE / "data_access.jsonl.gz") == calls("gcp-audit", HERE / "data_access.jsonl")


def test_the_json_array_gcloud_logging_read_prints_is_read_too():
    array = rows("gcp-audit", HERE / "gcloud_logging_read.json")
    assert [row["event_id"] for row in array] == ["1a2b3c4d5e01", "1a2b3c4d5e02", "1a2b3c4d5e03"]
    assert all(row["relevant"] for row in array)


def test_a_cloudtrail_event_is_not_recognised(tmp_path):
    cloudtrail = {
        "eventVersion": "1.08",
        "eventTime": "2026-11-30T08:00:00Z",
        "eventSource": "kms.amazonaws.com",
        "eventName": "Decrypt",
        "eventID": "5d1f2b8e-0000-4000-8000-000000000001",
    }
    read = rows("gcp-audit", write_lines(tmp_path / "trail.jsonl", [json.dumps(cloudtrail)]))
    assert [row["recognised"] for row in read] == [False]


def test_entries_without_a_key_name_are_skipped(tmp_path):
    entry = json.loads((HERE / "data_access.jsonl").read_text().splitlines()[0])
    entry["protoPayload"]["resourceName"] = "projects/shop-prod/locations/europe-west1"  # GenerateRandomBytes-like
    entry["protoPayload"]["methodName"] = "Decrypt"
    read = rows("gcp-audit", write_lines(tmp_path / "nokey.jsonl", [json.dumps(entry)]))
    assert [(row["recognised"], row["relevant"]) for row in read] == [(True, False)]


def test_a_truncated_gzip_fails_in_duckdb(tmp_path):
    whole = (HERE / "data_access.jsonl.gz").read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(duckdb.Error) as failure:
        rows("gcp-audit", cut)
    message = get_source("gcp-audit").read_error(source_file(cut), failure.value)
    assert message.startswith("cut.jsonl.gz: the file is a gzip file that is cut short or damaged")


def test_a_file_that_is_not_json_fails_in_duckdb(tmp_path):
    with pytest.raises(duckdb.Error):
        rows("gcp-audit", write_lines(tmp_path / "notes.txt", ["key,principal", "a,b"]))


def test_the_source_maps_every_operation_it_keeps():
    source = get_source("gcp-audit")
    kept = {row["operation"] for row in relevant("gcp-audit", HERE / "data_access.jsonl")}
    assert kept <= set(source.functions) and kept <= set(source.operations)
    assert source.store_kinds == ("gcp-kms",)
