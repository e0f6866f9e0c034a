"""The azure-kv usage source: Key Vault AuditEvent records in the storage, AzureDiagnostics and AZKVAuditLogs
shapes, as normalized rows."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from evidence.usage.sources import get_source
from evidence.usage.sources.base import UsageFileError
from tests.evidence.usage_sources_support import FIXTURES, calls, relevant, rows, source_file, write_lines

HERE = FIXTURES / "azure-kv"
VAULT = "https://contoso-pay.vault.azure.net/keys/"
MANAGED_IDENTITY = "6b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e"  # its application (client) id
SERVICE_PRINCIPAL = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
SHAPES = ["storage_account.jsonl", "azure_diagnostics.jsonl", "azkv_audit_logs.jsonl"]

EXPECTED = {
    (VAULT + "orders-kek", MANAGED_IDENTITY, "role", "KeyUnwrap", "", "2026-11-30"),
    (VAULT + "orders-kek", MANAGED_IDENTITY, "role", "KeyWrap", "", "2026-11-30"),
    (VAULT + "release-signing", SERVICE_PRINCIPAL, "role", "KeySign", "", "2026-11-30"),
    (VAULT + "release-signing", SERVICE_PRINCIPAL, "role", "KeyVerify", "", "2026-11-30"),
    (VAULT + "orders-kek", "mallory@contoso.com", "user", "KeyDecrypt", "Forbidden", "2026-11-30"),
    (VAULT + "shadow-key", SERVICE_PRINCIPAL, "role", "KeyEncrypt", "", "2026-11-30"),
    (VAULT + "orders-kek", MANAGED_IDENTITY, "role", "KeyUnwrap", "", "2026-12-01"),
}


@pytest.mark.parametrize("name", SHAPES)
def test_each_exported_shape_gives_the_same_calls(name):
    assert calls("azure-kv", HERE / name) == EXPECTED


@pytest.mark.parametrize("name", SHAPES)
def test_secret_metadata_and_challenge_records_are_recognised_and_skipped(name):
    read = rows("azure-kv", HERE / name)
    assert all(row["recognised"] for row in read)
    assert len(read) == 11
    assert sorted(row["operation"] for row in read if not row["relevant"]) == ["KeyGet", "KeyUnwrap", "SecretGet"]
    # the KeyUnwrap skipped is the 401 without a token that starts challenge-based authentication
    challenge = [row for row in read if not row["relevant"] and row["operation"] == "KeyUnwrap"]
    assert challenge[0]["principal"] == ""


@pytest.mark.parametrize("name", SHAPES)
def test_every_version_of_a_key_counts_for_the_key_and_the_vault_is_the_store(name):
    unwraps = [row for row in relevant("azure-kv", HERE / name) if row["operation"] in ("KeyWrap", "KeyUnwrap")]
    assert {row["key_ref"] for row in unwraps} == {VAULT + "orders-kek"}  # two versions in the records
    assert {(row["account"], row["region"]) for row in relevant("azure-kv", HERE / name)} == {("contoso-pay", "")}


def test_a_failed_call_without_a_key_id_takes_the_key_from_the_request_uri_without_its_port():
    # the 403 record has no properties.id / id_s / Id; its request URI is https://contoso-pay.vault.azure.net:8443/...
    denied = [row for row in relevant("azure-kv", HERE / "azkv_audit_logs.jsonl") if row["error_code"]]
    assert [(row["key_ref"], row["error_code"]) for row in denied] == [(VAULT + "orders-kek", "Forbidden")]


def test_the_records_envelope_is_read():
    read = rows("azure-kv", HERE / "records_envelope.json")
    assert [row["operation"] for row in read] == ["KeyUnwrap", "KeyUnwrap", "KeyWrap", "KeySign"]
    assert read[0]["event_id"] == "5f2a1c9e-0b3d-4e6f-9a8b-7c6d5e4f3a21"  # the correlation id
    assert read[0]["first_seen"] == dt.datetime(2026, 11, 30, 8, 0, 1, 123456)  # seven digits, cut to six


def test_gzip_and_plain_storage_blobs_read_alike():
    assert calls("azure-kv", HERE / "storage_account.jsonl.gz") == EXPECTED


def test_an_identity_exported_as_json_text_is_read(tmp_path):
    # A Log Analytics query's result gives dynamic columns as JSON text, not objects.
    record = json.loads((HERE / "azkv_audit_logs.jsonl").read_text().splitlines()[5])
    record["Identity"] = json.dumps(record["Identity"])
    read = relevant("azure-kv", write_lines(tmp_path / "query.jsonl", [json.dumps(record)]))
    assert [(row["principal"], row["principal_type"]) for row in read] == [("mallory@contoso.com", "user")]


def test_a_managed_hsm_key_and_an_upper_case_host_give_the_importers_key_id(tmp_path):
    record = json.loads((HERE / "storage_account.jsonl").read_text().splitlines()[0])
    record["properties"]["id"] = "https://Contoso-HSM.managedhsm.azure.net/keys/tenant-kek/0123456789abcdef"
    read = relevant("azure-kv", write_lines(tmp_path / "hsm.jsonl", [json.dumps(record)]))
    assert [(row["key_ref"], row["account"]) for row in read] == [
        ("https://contoso-hsm.managedhsm.azure.net/keys/tenant-kek", "contoso-hsm")
    ]


def test_a_throttled_call_without_a_status_code_counts_as_failed(tmp_path):
    record = json.loads((HERE / "azure_diagnostics.jsonl").read_text().splitlines()[0])
    del record["httpStatusCode_d"]
    record["ResultSignature"] = "TooManyRequests"
    read = relevant("azure-kv", write_lines(tmp_path / "throttled.jsonl", [json.dumps(record)]))
    assert [row["error_code"] for row in read] == ["TooManyRequests"]


def test_other_vaults_are_their_own_place():
    assert [row["account"] for row in relevant("azure-kv", HERE / "other_vault.jsonl")] == ["fabrikam-hr"]


def test_a_gcp_entry_is_not_recognised(tmp_path):
    entry = (FIXTURES / "gcp-audit" / "data_access.jsonl").read_text().splitlines()[0]
    assert [row["recognised"] for row in rows("azure-kv", write_lines(tmp_path / "gcp.jsonl", [entry]))] == [False]


def test_a_file_that_is_not_json_is_refused_before_duckdb_reads_it(tmp_path):
    path = write_lines(tmp_path / "vault.csv", ["time,operation", "2026-11-30,KeySign"])
    with pytest.raises(UsageFileError, match=r"^vault\.csv: the file is not JSON"):
        get_source("azure-kv").relation(duckdb.connect(), source_file(path))


def test_a_truncated_gzip_fails_in_duckdb(tmp_path):
    whole = (HERE / "storage_account.jsonl.gz").read_bytes()
    cut = tmp_path / "PT1H.json.gz"
    cut.write_bytes(whole[:-20])
    with pytest.raises(duckdb.Error):
        rows("azure-kv", cut)


def test_the_source_maps_every_operation_it_keeps():
    source = get_source("azure-kv")
    kept = {row["operation"] for row in relevant("azure-kv", HERE / "storage_account.jsonl")}
    assert kept == set(source.functions) == set(source.operations)
    assert source.store_kinds == ("azure-kv",)


def test_a_file_mixing_the_storage_and_table_shapes_has_unrecognised_records(tmp_path):
    # One file is one export, read with one shape's columns: records of the other shape are not recognised (and
    # the engine refuses the file), whichever comes first.
    storage = (HERE / "storage_account.jsonl").read_text().splitlines()[0]
    table = (HERE / "azkv_audit_logs.jsonl").read_text().splitlines()[0]
    read = rows("azure-kv", write_lines(tmp_path / "mixed.jsonl", [storage, table]))
    assert [row["recognised"] for row in read] == [True, False]
    read = rows("azure-kv", write_lines(tmp_path / "mixed2.jsonl", [table, storage]))
    assert [row["recognised"] for row in read] == [False, True]


def test_pretty_printed_storage_records_are_read(tmp_path):
    records = [json.loads(line) for line in (HERE / "storage_account.jsonl").read_text().splitlines()[:2]]
    path = tmp_path / "pretty.json"
    path.write_text("\n".join(json.dumps(record, indent=2) for record in records) + "\n")
    assert [row["operation"] for row in relevant("azure-kv", path)] == ["KeyUnwrap", "KeyUnwrap"]
