"""The IaC gate's rules on plans in the `terraform show -json` shape and on a directory of .tf files."""

from __future__ import annotations

import copy
import json

import pytest

from evidence.iac.gate import scan
from evidence.iac.hcl import read_directory
from evidence.iac.plan import parse_plan
from evidence.iac.selectors import KnownKey, TagKeys, find_keys, tag_keys
from evidence.iac.services import check_path
from evidence.iac.table import CONSUMERS, Consumer
from tests.evidence.iac_support import FIXTURES, offline, read, rules_of
from tests.factories import KeyFactory, KeyStoreFactory, purpose


@pytest.mark.parametrize("name", ["aws_clean.json", "gcp_clean.json", "azure_clean.json", "vault_clean.json"])
def test_clean_plans_pass(name):
    result = offline(name)
    assert result.passed, result.violations
    assert result.keys >= 1


def test_aws_key_created_in_a_child_module_is_found_through_configuration_references():
    result = offline("aws_violating.json")
    assert rules_of(result) == [
        ("iac-key-usage", "aws_kms_key.queue"),
        ("iac-multi-purpose", "module.kms.aws_kms_key.this"),
        ("iac-multi-service", "module.kms.aws_kms_key.this"),
        ("iac-no-purpose-tag", "aws_kms_key.queue"),
    ]
    shared = next(v for v in result.violations if v.rule == "iac-multi-purpose")
    assert shared.key_ref == ""  # its ARN is unknown until apply
    assert {(use.address, use.purpose_class) for use in shared.consumers} == {
        ("aws_cloudwatch_log_group.app", "log-encryption"),
        ("aws_ebs_volume.train", "data-encryption"),
        ("aws_s3_bucket_server_side_encryption_configuration.data", "data-encryption"),
    }
    bucket = next(use for use in shared.consumers if use.type.startswith("aws_s3"))
    assert bucket.attribute == "rule.apply_server_side_encryption_by_default.kms_master_key_id"
    service = next(v for v in result.violations if v.rule == "iac-multi-service")
    assert "inference, training" in service.message
    usage = next(v for v in result.violations if v.rule == "iac-key-usage")
    assert "SIGN_VERIFY" in usage.message and "message-encryption" in usage.message
    assert all(v.fix for v in result.violations)


def test_aws_clean_plan_reaches_the_logs_key_and_counts_its_consumers():
    result = offline("aws_clean.json")
    assert result.consumers == 4 and "module.kms.aws_kms_key.this" in result.key_addresses


def test_gcp_signing_key_given_to_encryption_and_two_purposes():
    result = offline("gcp_violating.json")
    assert rules_of(result) == [
        ("iac-key-usage", "google_kms_crypto_key.models"),
        ("iac-multi-purpose", "google_kms_crypto_key.models"),
    ]
    usage = next(v for v in result.violations if v.rule == "iac-key-usage")
    assert "ASYMMETRIC_SIGN" in usage.message
    assert usage.key_ref == "projects/ml-prod/locations/europe-west4/keyRings/ml/cryptoKeys/models"


def test_azure_key_for_two_purposes_and_two_tenants():
    result = offline("azure_violating.json")
    assert rules_of(result) == [
        ("iac-multi-purpose", "azurerm_key_vault_key.cmk"),
        ("iac-multi-tenant", "azurerm_key_vault_key.cmk"),
    ]
    assert "acme, globex" in result.violations[1].message


def test_azure_key_that_cannot_wrap_is_refused():
    plan = json.loads((FIXTURES / "azure_clean.json").read_text())
    plan["planned_values"]["root_module"]["resources"][0]["values"]["key_type"] = "EC-HSM"
    plan["planned_values"]["root_module"]["resources"][0]["values"]["key_opts"] = ["sign", "verify"]
    result = offline(parse_plan(json.dumps(plan).encode()))
    assert rules_of(result) == [("iac-key-usage", "azurerm_key_vault_key.cmk")]


def test_directory_of_tf_files_with_a_local_module():
    result = offline("tfdir")
    assert result.source == "hcl"
    assert rules_of(result) == [
        ("iac-multi-purpose", "module.kms.aws_kms_key.this"),
        ("iac-no-purpose-tag", "aws_kms_key.untagged"),
    ]
    shared = next(v for v in result.violations if v.rule == "iac-multi-purpose")
    classes = {use.purpose_class for use in shared.consumers}
    assert classes == {"data-encryption", "model-encryption"}


def test_vault_key_type_contradicts_the_inventory_recorded_purpose():
    known = KnownKey("transit/keys/releases", "releases", "data-encryption", "encryption", "purpose")
    assert offline("vault_clean.json", known={"transit/keys/releases": known}).passed
    result = offline("vault_violating.json", known={"transit/keys/releases": known})
    assert rules_of(result) == [("iac-purpose-contradicts-inventory", "vault_transit_secret_backend_key.releases")]
    assert result.violations[0].key_ref == "transit/keys/releases"
    assert "type=ed25519" in result.violations[0].message
    assert result.matched == 1


def _plan_with(resources: list[dict], config: list[dict]) -> bytes:
    return json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {"root_module": {"resources": resources}},
            "resource_changes": [
                {
                    "address": r["address"],
                    "type": r["type"],
                    "name": r["name"],
                    "mode": "managed",
                    "change": {"actions": ["create"], "after": r["values"]},
                }
                for r in resources
            ],
            "configuration": {"root_module": {"resources": config}},
        }
    ).encode()


def _resource(address: str, values: dict) -> dict:
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values}


def test_purpose_tag_that_contradicts_the_inventory():
    arn = "arn:aws:kms:eu-west-1:111122223333:key/0d6a8c2e-1111-4222-8333-944445555666"
    key = _resource("aws_kms_key.kept", {"arn": arn, "key_id": arn.rpartition("/")[2], "tags": {"purpose": "x-y"}})
    known = KnownKey(arn, "kept", "training-data-encryption", "encryption", "purpose")
    result = offline(parse_plan(_plan_with([key], [])), known={arn: known})
    assert rules_of(result) == [("iac-purpose-contradicts-inventory", "aws_kms_key.kept")]
    assert "x-y" in result.violations[0].message and "training-data-encryption" in result.violations[0].message


@pytest.mark.parametrize("tag", ["Training data encryption", "training_data_encryption", "TRAINING-DATA-ENCRYPTION"])
def test_a_purpose_tag_naming_the_recorded_purpose_by_its_name_agrees_with_the_inventory(tag):
    arn = "arn:aws:kms:eu-west-1:111122223333:key/0d6a8c2e-1111-4222-8333-944445555666"
    key = _resource("aws_kms_key.kept", {"arn": arn, "key_id": arn.rpartition("/")[2], "tags": {"purpose": tag}})
    known = KnownKey(arn, "kept", "training-data-encryption", "encryption", "purpose", "Training data encryption")
    result = offline(parse_plan(_plan_with([key], [])), known={arn: known})
    assert rules_of(result) == []


def test_existing_signing_key_given_by_literal_arn_to_encryption():
    arn = "arn:aws:kms:eu-west-1:111122223333:key/0d6a8c2e-1111-4222-8333-944445555666"
    consumer = _resource("aws_sns_topic.alerts", {"name": "alerts", "kms_master_key_id": arn})
    known = KnownKey(arn, "signer", "model-artifact-signing", "signing", "purpose")
    result = offline(parse_plan(_plan_with([consumer], [])), known={arn: known})
    assert rules_of(result) == [("iac-key-usage", arn)]
    assert result.violations[0].key_ref == arn


def test_existing_key_reached_through_two_literal_forms_is_one_key():
    arn = "arn:aws:kms:eu-west-1:111122223333:key/0d6a8c2e-1111-4222-8333-944445555666"
    known = KnownKey(arn, "shared", "data-encryption", "encryption", "purpose")
    topic = _resource("aws_sns_topic.alerts", {"kms_master_key_id": arn})
    logs = _resource("aws_cloudwatch_log_group.app", {"kms_key_id": "alias/shared"})
    result = offline(parse_plan(_plan_with([topic, logs], [])), known={arn: known, "alias/shared": known})
    assert rules_of(result) == [("iac-multi-purpose", arn)]


def test_adding_a_consumer_row_covers_a_new_resource_type():
    key = _resource("aws_kms_key.k", {"tags": {"purpose": "data-encryption"}})
    novel = _resource("aws_kinesis_stream.events", {"name": "events"})
    logs = _resource("aws_cloudwatch_log_group.app", {})
    config = [
        {
            "address": "aws_kinesis_stream.events",
            "type": "aws_kinesis_stream",
            "name": "events",
            "expressions": {"kms_key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}},
        },
        {
            "address": "aws_cloudwatch_log_group.app",
            "type": "aws_cloudwatch_log_group",
            "name": "app",
            "expressions": {"kms_key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]}},
        },
    ]
    infra = parse_plan(_plan_with([key, novel, logs], config))
    assert offline(infra).passed  # the stream is not in the table: only the log group uses the key
    row = Consumer("aws_kinesis_stream", "kms_key_id", "message-encryption", "Amazon Kinesis")
    result = offline(infra, consumers=(*CONSUMERS, row))
    assert rules_of(result) == [("iac-multi-purpose", "aws_kms_key.k")]


def test_replaced_key_without_purpose_tag_is_new_but_an_unchanged_one_is_not():
    plan = json.loads(_plan_with([_resource("aws_kms_key.k", {})], []))
    assert rules_of(offline(parse_plan(json.dumps(plan).encode()))) == [("iac-no-purpose-tag", "aws_kms_key.k")]
    kept = copy.deepcopy(plan)
    kept["resource_changes"][0]["change"]["actions"] = ["no-op"]
    assert offline(parse_plan(json.dumps(kept).encode())).passed
    replaced = copy.deepcopy(plan)
    replaced["resource_changes"][0]["change"]["actions"] = ["delete", "create"]
    assert not offline(parse_plan(json.dumps(replaced).encode())).passed


def test_tag_values_that_look_like_key_material_are_withheld():
    secret = "AKIA" + "Z" * 4 + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    service_a = _resource("aws_sqs_queue.a", {"tags": {"service": secret}, "kms_master_key_id": "alias/q"})
    service_b = _resource("aws_sqs_queue.b", {"tags": {"service": "billing"}, "kms_master_key_id": "alias/q"})
    result = offline(parse_plan(_plan_with([service_a, service_b], [])))
    assert rules_of(result) == [("iac-multi-service", "alias/q")]
    assert secret not in result.violations[0].message and "withheld" in result.violations[0].message


# --- the inventory side (database) -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_inventory_keys_are_found_by_arn_key_id_alias_and_name():
    store = KeyStoreFactory(purpose_tag_key="cek-purpose", service_tag_key="app")
    key = KeyFactory(
        store=store,
        name="inference-logs",
        external_id="arn:aws:kms:eu-west-1:111122223333:key/0d6a8c2e-1111-4222-8333-944445555666",
        platform_details={"Aliases": "alias/app-secrets,alias/other"},
        purpose=purpose("inference-log-encryption"),
    )
    found = find_keys(
        [key.external_id, "0d6a8c2e-1111-4222-8333-944445555666", "alias/app-secrets", "inference-logs", "nope"]
    )
    assert set(found) == {
        key.external_id,
        "0d6a8c2e-1111-4222-8333-944445555666",
        "alias/app-secrets",
        "inference-logs",
    }
    assert found["alias/app-secrets"].purpose == "inference-log-encryption"
    assert found["alias/app-secrets"].purpose_tag_key == "cek-purpose"
    assert found["alias/app-secrets"].purpose_name == "Inference-log encryption"  # a tag may give it
    keys = tag_keys()
    assert {"cek-purpose", "purpose"} <= keys.purpose and {"app", "service"} <= keys.service


@pytest.mark.django_db
def test_check_path_matches_the_vault_key_in_the_inventory():
    KeyFactory(
        store=KeyStoreFactory(kind="vault-transit"),
        name="releases",
        external_id="transit/keys/releases",
        purpose=purpose("data-encryption"),
    )
    result = check_path(FIXTURES / "vault_violating.json")
    assert rules_of(result) == [("iac-purpose-contradicts-inventory", "vault_transit_secret_backend_key.releases")]
    assert check_path(FIXTURES / "vault_clean.json").passed


@pytest.mark.django_db
def test_store_purpose_tag_key_counts_as_a_purpose_tag():
    KeyStoreFactory(purpose_tag_key="cek-purpose")
    plan = _plan_with([_resource("aws_kms_key.k", {"tags": {"CEK-Purpose": "data-encryption"}})], [])
    result = offline(parse_plan(plan))
    assert not result.passed  # the default "purpose" only
    assert scan(parse_plan(plan), lookup=find_keys, tag_keys=tag_keys()).passed


def test_tags_known_only_after_apply_are_not_called_missing(tmp_path):
    plan = json.loads(_plan_with([_resource("aws_kms_key.k", {})], []))
    plan["resource_changes"][0]["change"]["after_unknown"] = {"arn": True, "tags": True}
    assert offline(parse_plan(json.dumps(plan).encode())).passed
    (tmp_path / "main.tf").write_text(
        'variable "common" {}\nresource "aws_kms_key" "k" {\n  tags = merge(var.common, {owner = "ml"})\n}\n'
        'resource "aws_kms_key" "bare" {\n  description = "x"\n}\n'
    )
    result = offline(read_directory(tmp_path, max_bytes=10_000))
    assert rules_of(result) == [("iac-no-purpose-tag", "aws_kms_key.bare")]


def _config(address: str, expressions: dict) -> dict:
    rtype, name = address.split(".")[-2:]
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "expressions": expressions}


def _refs(*refs: str) -> dict:
    return {"references": list(refs)}


def test_module_variable_alias_and_replica_lead_to_the_key():
    key = _resource(
        "aws_kms_key.main",
        {
            "key_usage": "SIGN_VERIFY",
            "customer_master_key_spec": "ECC_NIST_P256",
            "tags": {"purpose": "release-signing"},
        },
    )
    alias = _resource("aws_kms_alias.main", {"name": "alias/main"})
    replica = _resource("aws_kms_replica_key.copy", {"tags": {"purpose": "release-signing"}})
    topic = _resource("aws_sns_topic.t", {})
    queue = _resource("aws_sqs_queue.q", {"kms_master_key_id": "alias/main"})  # the alias, by its literal name
    plan = json.loads(_plan_with([key, alias, replica, topic, queue], []))
    logs = {
        "address": "module.app.aws_cloudwatch_log_group.app",
        "mode": "managed",
        "type": "aws_cloudwatch_log_group",
        "name": "app",
        "values": {},
    }
    plan["planned_values"]["root_module"]["child_modules"] = [{"address": "module.app", "resources": [logs]}]
    plan["configuration"]["root_module"] = {
        "resources": [
            _config("aws_kms_alias.main", {"target_key_id": _refs("aws_kms_key.main.key_id", "aws_kms_key.main")}),
            _config("aws_kms_replica_key.copy", {"primary_key_arn": _refs("aws_kms_key.main.arn", "aws_kms_key.main")}),
            _config("aws_sns_topic.t", {"kms_master_key_id": _refs("aws_kms_replica_key.copy.arn")}),
        ],
        "module_calls": {
            "app": {
                "expressions": {"log_key": _refs("aws_kms_alias.main.arn", "aws_kms_alias.main")},
                "module": {
                    "resources": [_config("aws_cloudwatch_log_group.app", {"kms_key_id": _refs("var.log_key")})]
                },
            }
        },
    }
    result = offline(parse_plan(json.dumps(plan).encode()))
    main = {v.rule: v for v in result.violations if v.key_address == "aws_kms_key.main"}
    assert {use.address for use in main["iac-key-usage"].consumers} == {
        "module.app.aws_cloudwatch_log_group.app",
        "aws_sqs_queue.q",
    }
    replica_rules = {v.rule for v in result.violations if v.key_address == "aws_kms_replica_key.copy"}
    assert replica_rules == {"iac-key-usage"}  # the replica has its primary's SIGN_VERIFY usage


def test_data_source_reference_is_matched_to_the_inventory():
    arn = "arn:aws:kms:eu-west-1:111122223333:key/0d6a8c2e-1111-4222-8333-944445555666"
    plan = json.loads(_plan_with([_resource("aws_ebs_volume.v", {})], []))
    plan["planned_values"]["root_module"]["resources"].append(
        {
            "address": "data.aws_kms_alias.shared",
            "mode": "data",
            "type": "aws_kms_alias",
            "name": "shared",
            "values": {"name": "alias/shared", "target_key_arn": arn, "arn": arn.replace("key/0d6a", "alias/x")},
        }
    )
    plan["configuration"]["root_module"]["resources"] = [
        _config(
            "aws_ebs_volume.v",
            {"kms_key_id": _refs("data.aws_kms_alias.shared.target_key_arn", "data.aws_kms_alias.shared")},
        )
    ]
    known = KnownKey(arn, "signer", "model-artifact-signing", "signing", "purpose")
    result = offline(parse_plan(json.dumps(plan).encode()), known={arn: known})
    assert rules_of(result) == [("iac-key-usage", arn)]


def test_a_plan_written_by_terraform_itself(monkeypatch):
    """``real_terraform_1.11_modules.json`` is ``terraform show -json`` of Terraform 1.11.4 over the configuration
    beside it (built-in ``terraform_data`` resources: no provider to download). The "key" made in module k reaches
    a consumer in module c through an output and a variable, and a root consumer through the output."""
    from evidence.iac import table
    from evidence.iac.gate import Gate

    monkeypatch.setitem(
        table.KEY_TYPES, "terraform_data", table.KeyType("terraform_data", "aws", None, lambda values: (None, ""))
    )
    infra = read("real_terraform_1.11_modules.json")
    assert {r.address for r in infra.resources} == {
        "terraform_data.direct",
        "module.c.terraform_data.consumer",
        "module.k.terraform_data.key",
    }
    gate = Gate(infra, lambda refs: {}, TagKeys(), (Consumer("terraform_data", "input", "data-encryption", "t"),))
    gate.run()
    made = gate.keys["module.k.terraform_data.key"]
    assert {use.address for use, _, _ in made.uses} == {"terraform_data.direct", "module.c.terraform_data.consumer"}
