"""Shared by the IaC gate tests: the fixtures folder and a scan without the database."""

from __future__ import annotations

from pathlib import Path

from evidence.iac.gate import scan
from evidence.iac.hcl import read_directory
from evidence.iac.plan import read_plan
from evidence.iac.selectors import TagKeys
from evidence.iac.table import CONSUMERS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "iac"
LIMIT = 10 * 1024 * 1024


def read(name: str):
    path = FIXTURES / name
    return read_directory(path, max_bytes=LIMIT) if path.is_dir() else read_plan(path, max_bytes=LIMIT)


def offline(name_or_infra, *, known=None, consumers=CONSUMERS):
    """The gate's result without the database: ``known`` maps references to ``KnownKey``s."""
    infra = read(name_or_infra) if isinstance(name_or_infra, str) else name_or_infra
    known = known or {}
    return scan(
        infra,
        lookup=lambda refs: {ref: known[ref] for ref in refs if ref in known},
        tag_keys=TagKeys(),
        consumers=consumers,
    )


def rules_of(result) -> list[tuple[str, str]]:
    return sorted((violation.rule, violation.key_address) for violation in result.violations)
