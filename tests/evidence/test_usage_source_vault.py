"""The vault-audit usage source: transit calls from a file audit device's request and response entries, as
normalized rows."""

from __future__ import annotations

import json

import duckdb
import pytest

from evidence.usage.sources import get_source
from evidence.usage.sources.base import UsageFileError
from tests.evidence.usage_sources_support import FIXTURES, calls, relevant, rows, source_file, write_lines

HERE = FIXTURES / "vault-audit"
APP = "approle-orders-api"
CI = "jwt-github-actions"
WEBHOOKS = "kubernetes-payments-webhooks"
ORDERS = "transit/keys/orders"


def entry(number: int) -> dict:
    """The fixture's entry on line ``number`` (1-based)."""
    return json.loads((HERE / "audit.log").read_text().splitlines()[number - 1])


def test_each_call_counts_once_by_its_response_or_its_refused_request():
    kept = relevant("vault-audit", HERE / "audit.log")
    ids = [row["event_id"] for row in kept]
    assert len(ids) == len(set(ids)) == 15
    refused = [row for row in kept if row["error_code"] == "permission denied"]
    assert [row["principal"] for row in refused] == ["userpass-intern"]


def test_the_calls_of_the_log():
    assert calls("vault-audit", HERE / "audit.log") == {
        (ORDERS, APP, "role", "transit/encrypt", "", "2026-11-30"),
        (ORDERS, APP, "role", "transit/decrypt", "", "2026-11-30"),
        (ORDERS, APP, "role", "transit/datakey", "", "2026-11-30"),
        (ORDERS, APP, "role", "transit/rewrap", "", "2026-11-30"),
        (ORDERS, APP, "role", "transit/decrypt", "message authentication failed", "2026-11-30"),
        (ORDERS, "userpass-intern", "user", "transit/decrypt", "permission denied", "2026-11-30"),
        ("transit/keys/release-signing", CI, "role", "transit/sign", "", "2026-11-30"),
        ("transit/keys/release-signing", CI, "role", "transit/verify", "", "2026-11-30"),
        ("transit/keys/webhook-mac", WEBHOOKS, "role", "transit/hmac", "", "2026-11-30"),
        ("transit/keys/webhook-mac", WEBHOOKS, "role", "transit/verify-mac", "", "2026-11-30"),
        ("transit-eu/keys/customer-pii", APP, "role", "transit/encrypt", "", "2026-11-30"),
        ("transit/keys/shadow-key", APP, "role", "transit/encrypt", "", "2026-11-30"),
        (ORDERS, APP, "role", "transit/decrypt", "", "2026-12-01"),
    }


def test_logins_kv_reads_key_reads_and_random_bytes_are_recognised_and_skipped():
    read = rows("vault-audit", HERE / "audit.log")
    assert all(row["recognised"] for row in read)
    skipped_ids = {row["event_id"] for row in read if not row["relevant"]}
    for number in ("16", "17", "18", "19"):  # KV read, transit/keys/orders, transit/random/32, approle login
        assert f"0b7c1f6e-2d4a-5e3b-8c9d-1a2b3c4d5e{number}" in skipped_ids
    assert not any(row["relevant"] for row in read if row["event_id"].endswith(("e16", "e17", "e18", "e19")))


def test_a_namespace_comes_before_the_mount():
    assert [row["key_ref"] for row in relevant("vault-audit", HERE / "namespace.log")] == ["team-a/transit/keys/ledger"]


def test_the_store_is_not_named_by_the_log():
    assert {(row["account"], row["region"]) for row in relevant("vault-audit", HERE / "audit.log")} == {("", "")}


def test_gzip_and_plain_logs_read_alike():
    assert calls("vault-audit", HERE / "audit.log.gz") == calls("vault-audit", HERE / "audit.log")


def test_an_entry_without_the_mount_is_read_from_its_path(tmp_path):
    # Older Vault versions log no mount_point or mount_type: the mount is what comes before the operation.
    old = entry(3)  # the response of transit/encrypt/orders
    for name in ("mount_point", "mount_type", "mount_accessor", "mount_running_version", "mount_class"):
        del old["request"][name]
    old["request"]["path"] = "kms/transit/encrypt/orders"
    read = relevant("vault-audit", write_lines(tmp_path / "old.log", [json.dumps(old)]))
    assert [(row["key_ref"], row["operation"]) for row in read] == [("kms/transit/keys/orders", "transit/encrypt")]


def test_an_encrypt_path_on_another_engine_is_not_transit(tmp_path):
    kv = entry(3)
    kv["request"].update(mount_point="secret/", mount_type="kv", path="secret/encrypt/orders")
    read = rows("vault-audit", write_lines(tmp_path / "kv.log", [json.dumps(kv)]))
    assert [(row["recognised"], row["relevant"]) for row in read] == [(True, False)]


def test_an_error_text_is_never_kept(tmp_path):
    # Vault's error text can quote the request ("error converting input {...}"): only known phrases are kept.
    failed = entry(3)
    failed["error"] = 'error converting input {"plaintext":"c2VjcmV0"} for field "batch_input"'
    read = relevant("vault-audit", write_lines(tmp_path / "err.log", [json.dumps(failed)]))
    assert [row["error_code"] for row in read] == ["error"]


def test_hmac_values_are_not_kept_anywhere():
    for row in rows("vault-audit", HERE / "audit.log"):
        assert not any("hmac-sha256" in str(value) for value in row.values())


def test_people_root_and_machines_are_typed(tmp_path):
    root = entry(3)
    root["auth"].update(display_name="root", metadata=None)
    person = entry(3)
    person["auth"].update(display_name="ldap-alice", metadata={"username": "alice"})
    person["request"]["id"] = "0b7c1f6e-2d4a-5e3b-8c9d-1a2b3c4d5eff"
    read = relevant("vault-audit", write_lines(tmp_path / "who.log", [json.dumps(root), json.dumps(person)]))
    assert [(row["principal"], row["principal_type"]) for row in read] == [
        ("root", "account"),
        ("ldap-alice", "user"),
    ]


def test_a_gcp_entry_is_not_recognised(tmp_path):
    line = (FIXTURES / "gcp-audit" / "data_access.jsonl").read_text().splitlines()[0]
    assert [row["recognised"] for row in rows("vault-audit", write_lines(tmp_path / "g.log", [line]))] == [False]


def test_a_syslog_line_is_refused_with_advice(tmp_path):
    path = write_lines(tmp_path / "syslog.log", ['Nov 30 08:00:00 vault-1 vault[812]: {"type":"request"}'])
    with pytest.raises(UsageFileError, match="keep only the JSON"):
        get_source("vault-audit").relation(duckdb.connect(), source_file(path))


def test_a_truncated_gzip_fails_in_duckdb(tmp_path):
    whole = (HERE / "audit.log.gz").read_bytes()
    cut = tmp_path / "audit.log.gz"
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(duckdb.Error):
        rows("vault-audit", cut)


def test_the_source_maps_every_operation_it_keeps():
    source = get_source("vault-audit")
    kept = {row["operation"] for row in relevant("vault-audit", HERE / "audit.log")}
    assert kept <= set(source.functions) and kept <= set(source.operations)
    assert source.store_kinds == ("vault-transit",)
