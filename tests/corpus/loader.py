"""The key-material corpus (``secrets.json``, ``lookalikes.json``, written by ``generate.py``) for the tests
and ``benchmarks/secret_rules.py``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TypedDict

HERE = Path(__file__).parent


class Entry(TypedDict):
    kind: str
    source: str
    value: str


def load(name: str) -> list[Entry]:
    """``name`` is "secrets" or "lookalikes"."""
    return json.loads((HERE / f"{name}.json").read_text())


def entry_id(number: int, entry: Entry) -> str:
    """A readable, unique test id: ``042-pkcs8-first-100-base64-characters-of-pkcs-8-ec-p256``."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{entry['kind']} {entry['source']}".lower()).strip("-")
    return f"{number:03d}-{slug[:80]}"


def one_per_source(entries: list[Entry]) -> list[Entry]:
    """The first entry of each shape (``source``): a sample that covers every family for the slower tests."""
    seen: set[str] = set()
    sample = []
    for entry in entries:
        if entry["source"] not in seen:
            seen.add(entry["source"])
            sample.append(entry)
    return sample
