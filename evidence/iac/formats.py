"""The gate's verdict as text, JSON, SARIF 2.1.0 (code scanning) and JUnit XML (CI test reports)."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from evidence.iac.result import RULES, ScanResult

FORMATS = ("text", "json", "sarif", "junit")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(result: ScanResult, fmt: str, *, artifact: str) -> str:
    return {"text": text, "json": as_json, "sarif": sarif, "junit": junit}[fmt](result, artifact)


def text(result: ScanResult, artifact: str) -> str:
    lines = [
        f"IaC gate: {artifact} ({result.source}, SHA-256 {result.sha256})",
        f"{result.resources} resources, {result.keys} keys, {result.consumers} consumer attributes, "
        f"{result.matched} keys matched to the inventory.",
    ]
    for violation in result.violations:
        lines.append("")
        lines.append(
            f"[{violation.rule}] {violation.key_address}"
            + (f" ({violation.key_ref})" if violation.key_ref and violation.key_ref != violation.key_address else "")
        )
        lines.append(f"  {violation.message}")
        for use in violation.consumers:
            lines.append(f"  - {use.address} {use.attribute} -> {use.purpose_class}")
        lines.append(f"  Fix: {violation.fix}")
    lines.append("")
    lines.append("PASS: no violation." if result.passed else f"FAIL: {len(result.violations)} violation(s).")
    return "\n".join(lines) + "\n"


def as_json(result: ScanResult, artifact: str) -> str:
    return json.dumps({"artifact": artifact, **result.as_dict()}, indent=2) + "\n"


def sarif(result: ScanResult, artifact: str) -> str:
    rule_ids = list(RULES)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cek-iac-gate",
                        "informationUri": "https://cloudsecurityalliance.org/artifacts/ai-controls-matrix",
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": RULES[rule][0]},
                                "help": {"text": RULES[rule][1]},
                                "defaultConfiguration": {"level": "error"},
                            }
                            for rule in rule_ids
                        ],
                    }
                },
                "artifacts": [{"location": {"uri": artifact}, "hashes": {"sha-256": result.sha256}}],
                "results": [
                    {
                        "ruleId": violation.rule,
                        "ruleIndex": rule_ids.index(violation.rule),
                        "level": "error",
                        "message": {"text": f"{violation.key_address}: {violation.message} Fix: {violation.fix}"},
                        "locations": [
                            {
                                "physicalLocation": {"artifactLocation": {"uri": artifact, "index": 0}},
                                "logicalLocations": [{"fullyQualifiedName": violation.key_address, "kind": "resource"}],
                            }
                        ],
                        "relatedLocations": [
                            {
                                "id": n,
                                "logicalLocations": [{"fullyQualifiedName": use.address, "kind": "resource"}],
                                "message": {"text": f"{use.attribute} ({use.purpose_class})"},
                            }
                            for n, use in enumerate(violation.consumers)
                        ],
                        "partialFingerprints": {"keyAddress/v1": f"{violation.rule}:{violation.key_address}"},
                    }
                    for violation in result.violations
                ],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def junit(result: ScanResult, artifact: str) -> str:
    by_key: dict[str, list] = {address: [] for address in result.key_addresses}
    for violation in result.violations:
        by_key.setdefault(violation.key_address, []).append(violation)
    suites = ET.Element("testsuites", name="cek-iac-gate", tests=str(len(by_key)), failures=str(len(result.violations)))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"IaC gate: {artifact}",
        tests=str(len(by_key)),
        failures=str(len(result.violations)),
        errors="0",
        skipped="0",
    )
    for address, violations in by_key.items():
        case = ET.SubElement(suite, "testcase", classname="iac.keys", name=address)
        for violation in violations:
            failure = ET.SubElement(case, "failure", type=violation.rule, message=violation.message)
            failure.text = "\n".join(
                [
                    *(f"{use.address} {use.attribute} -> {use.purpose_class}" for use in violation.consumers),
                    f"Fix: {violation.fix}",
                ]
            )
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
