"""``manage.py check_iac``: the formats (parsed back), the exit codes and the unreadable inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from defusedxml import ElementTree as ET
from django.core.management import CommandError, call_command

from evidence.iac.result import RULES
from tests.evidence.iac_support import FIXTURES

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("check_iac", *map(str, args), stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_clean_plan_exits_0_with_a_text_verdict():
    code, out = run(FIXTURES / "aws_clean.json")
    assert code == 0
    assert "PASS: no violation." in out and "SHA-256" in out


def test_text_names_key_consumers_classes_rule_and_fix():
    code, out = run(FIXTURES / "aws_violating.json")
    assert code == 1
    assert "[iac-multi-purpose] module.kms.aws_kms_key.this" in out
    assert "- aws_cloudwatch_log_group.app kms_key_id -> log-encryption" in out
    assert "Fix: Give each purpose class its own key" in out
    assert "FAIL: 4 violation(s)." in out


def test_json_parses_back_with_counts_and_violations():
    code, out = run(FIXTURES / "gcp_violating.json", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["passed"] is False and len(document["sha256"]) == 64
    assert document["counts"]["violations"] == 2
    assert document["counts"]["by_rule"] == {"iac-multi-purpose": 1, "iac-key-usage": 1}
    violation = document["violations"][0]
    assert set(violation) == {"rule", "key_address", "key_ref", "consumers", "message", "fix"}
    assert set(violation["consumers"][0]) == {"address", "type", "attribute", "purpose_class"}


def test_sarif_has_the_required_shape():
    code, out = run(FIXTURES / "azure_violating.json", "--format", "sarif")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == "2.1.0" and "sarif" in document["$schema"]
    (run_,) = document["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES) and run_["tool"]["driver"]["name"]
    assert all(rule["shortDescription"]["text"] for rule in rules)
    assert len(run_["results"]) == 2
    for result in run_["results"]:
        assert result["ruleId"] in RULES and result["level"] == "error" and result["message"]["text"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        assert location["logicalLocations"][0]["fullyQualifiedName"] == "azurerm_key_vault_key.cmk"
        assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("azure_violating.json")


def test_sarif_of_a_clean_plan_has_no_results():
    code, out = run(FIXTURES / "azure_clean.json", "--format", "sarif")
    assert code == 0 and json.loads(out)["runs"][0]["results"] == []


def test_junit_one_testcase_per_key_and_a_failure_per_violation(tmp_path):
    report = tmp_path / "iac.xml"
    code, out = run(FIXTURES / "aws_violating.json", "--format", "junit", "--output", report)
    assert code == 1 and out == ""
    suites = ET.fromstring(report.read_text())
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    assert set(cases) == {"aws_kms_key.logs", "aws_kms_key.queue", "module.kms.aws_kms_key.this", "alias/app-secrets"}
    assert [f.get("type") for f in cases["aws_kms_key.logs"].findall("failure")] == []
    assert sorted(f.get("type") for f in cases["module.kms.aws_kms_key.this"].findall("failure")) == [
        "iac-multi-purpose",
        "iac-multi-service",
    ]
    assert suites.get("failures") == "4" and suites.find("testsuite").get("tests") == "4"


def test_directory_input():
    code, out = run(FIXTURES / "tfdir", "--format", "json")
    assert code == 1 and json.loads(out)["source"] == "hcl"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not JSON (line 1, column 2)"),
        (b'{"format_version": "0.1", "planned_values": {}}', "not a Terraform plan in JSON format 1.x"),
        (b"[1, 2]", "not a Terraform plan"),
        (b'{"format_version": "1.2"}', "neither planned_values nor resource_changes"),
        (
            b'{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"values": {}}]}}}',
            "does not have the shape of a Terraform plan",
        ),
        (b"\xff\xfe\x00", "is not JSON"),
    ],
)
def test_unreadable_plans_exit_2_with_one_line(tmp_path, content, message):
    plan = tmp_path / "plan.json"
    plan.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run(plan)
    assert error.value.returncode == 2
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_path_and_hcl_syntax_error_and_empty_directory_exit_2(tmp_path):
    for path, message in (
        (tmp_path / "absent.json", "does not exist"),
        (tmp_path, "holds no .tf file"),
    ):
        with pytest.raises(CommandError) as error:
            run(path)
        assert error.value.returncode == 2 and message in str(error.value)
    (tmp_path / "main.tf").write_text('resource "aws_kms_key" "k" {\n  description = "x"\n')
    with pytest.raises(CommandError) as error:
        run(tmp_path)
    assert error.value.returncode == 2 and "HCL syntax error" in str(error.value)


def test_plans_over_the_size_limit_are_refused(tmp_path, settings):
    settings.CEK_IAC_MAX_BYTES = 1024
    plan = tmp_path / "big.json"
    plan.write_bytes(b" " * 2048)
    with pytest.raises(CommandError, match=r"over the limit of 1024 \(CEK_IAC_MAX_BYTES\)") as error:
        run(plan)
    assert error.value.returncode == 2
    with pytest.raises(CommandError, match="over the limit"):
        run(FIXTURES / "tfdir")


def test_sensitive_values_in_the_plan_are_never_printed(tmp_path):
    plan = json.loads((FIXTURES / "aws_violating.json").read_text())
    secret = "SuperSecretDbPassword-9f8e7d6c5b4a"
    for resource in plan["planned_values"]["root_module"]["resources"]:
        resource["values"]["password"] = secret
        resource["sensitive_values"] = {"password": True}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    for fmt in ("text", "json", "sarif", "junit"):
        code, out = run(path, "--format", fmt)
        assert code == 1 and secret not in out


def test_literal_references_and_usage_values_that_look_like_key_material_are_withheld(tmp_path):
    secret = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"
    plan = json.loads((FIXTURES / "aws_violating.json").read_text())
    for resource in plan["planned_values"]["root_module"]["resources"]:
        if resource["address"] == "aws_secretsmanager_secret.db":
            resource["values"]["kms_key_id"] = secret
        if resource["address"] == "aws_kms_key.queue":
            resource["values"]["customer_master_key_spec"] = secret
    plan["configuration"]["root_module"]["resources"] = [
        r for r in plan["configuration"]["root_module"]["resources"] if r["address"] != "aws_secretsmanager_secret.db"
    ]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    for fmt in ("text", "json", "sarif", "junit"):
        code, out = run(path, "--format", fmt)
        assert code == 1 and "PRIVATE KEY" not in out and "MIIEvQ" not in out
        assert "withheld" in out


def test_the_command_line_prints_no_traceback(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text("nope")
    env = {"CEK_DEBUG": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check_iac", str(plan)], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0
    assert "is not JSON" in done.stderr


@pytest.mark.parametrize(
    "plan",
    [
        {
            "format_version": "1.2",
            "planned_values": {"root_module": {"resources": [{"address": "a.b", "type": "aws_kms_key", "values": []}]}},
        },
        {
            "format_version": "1.2",
            "planned_values": {"root_module": {"resources": [{"address": 1, "type": "aws_kms_key"}]}},
        },
        {"format_version": "1.2", "planned_values": {"root_module": []}},
        {
            "format_version": "1.2",
            "resource_changes": [{"address": "a.b", "type": "x", "change": {"actions": "create", "after": {}}}],
        },
        {"format_version": "1.2", "resource_changes": [7]},
        {
            "format_version": "1.2",
            "planned_values": {},
            "configuration": {"root_module": {"resources": [{"address": "a.b", "expressions": [1]}]}},
        },
        {"format_version": "1.2", "planned_values": {}, "configuration": {"root_module": {"module_calls": {"m": 3}}}},
    ],
)
def test_malformed_plans_exit_2_without_a_traceback(tmp_path, plan):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(CommandError) as error:
        run(path)
    assert error.value.returncode == 2 and "does not have the shape of a Terraform plan" in str(error.value)


def test_valid_hcl_that_is_not_terraform_exits_2(tmp_path):
    (tmp_path / "main.tf").write_text('resource "only_one_label" {\n  a = 1\n}\n')
    with pytest.raises(CommandError) as error:
        run(tmp_path)
    assert error.value.returncode == 2 and "does not have the shape of Terraform configuration" in str(error.value)
