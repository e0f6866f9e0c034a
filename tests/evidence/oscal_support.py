"""Validation of OSCAL documents against the NIST OSCAL 1.1.3 JSON schemas vendored in fixtures/oscal/ (see the
README there). The schemas' token and string patterns use Unicode property classes (``\\p{L}``) that Python's
``re`` does not know, so ``pattern`` is checked with the ``regex`` module (the syntax the schemas are written for);
formats (date-time, uri-reference, email) with jsonschema's format checker."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import regex
from jsonschema import Draft7Validator, ValidationError, validators

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "oscal"
SCHEMAS = {
    "assessment-results": FIXTURES / "oscal_assessment-results_schema.json",
    "component-definition": FIXTURES / "oscal_component_schema.json",
}


@cache
def _compiled(pattern: str):
    return regex.compile(pattern)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


OscalValidator = validators.extend(Draft7Validator, {"pattern": _pattern})


@cache
def validator(model: str) -> Draft7Validator:
    schema = json.loads(SCHEMAS[model].read_text(encoding="utf-8"))
    return OscalValidator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(model: str, document: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(model).iter_errors(document)
    ]
