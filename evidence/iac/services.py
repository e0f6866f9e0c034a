"""Runs the gate on a path: a plan JSON file or a directory of ``.tf`` files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from evidence.iac import selectors
from evidence.iac.gate import scan
from evidence.iac.hcl import read_directory
from evidence.iac.model import Infrastructure, UnreadableInput
from evidence.iac.plan import read_plan
from evidence.iac.result import ScanResult


def read_input(path: Path) -> Infrastructure:
    limit = settings.CEK_IAC_MAX_BYTES
    if path.is_dir():
        return read_directory(path, max_bytes=limit)
    if not path.exists():
        raise UnreadableInput(f"{path} does not exist.")
    return read_plan(path, max_bytes=limit)


def check_path(path: Path) -> ScanResult:
    """The gate's verdict on ``path``; raises ``UnreadableInput`` (one line) when it cannot be read."""
    return scan(read_input(path), lookup=selectors.find_keys, tag_keys=selectors.tag_keys())
