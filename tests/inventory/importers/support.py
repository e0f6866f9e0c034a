"""What the importer tests share: parsing a fixture or a list of items with one importer, and reading rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inventory.importers.base import Importer, ImportFileError, KeyRow, ParseResult

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Parser:
    """``parse(path)``, ``parse_items(items)`` and ``refused(items)`` (the message of the ImportFileError) for one
    importer."""

    def __init__(self, importer: Importer) -> None:
        self.importer = importer

    def parse(self, path: Path) -> ParseResult:
        return self.importer.parse(path.read_bytes(), file_name=path.name)

    def parse_items(self, items: Any) -> ParseResult:
        return self.importer.parse(json.dumps(items).encode(), file_name="keys.json")

    def refused(self, items: Any) -> str:
        with pytest.raises(ImportFileError) as caught:
            self.parse_items(items)
        return str(caught.value)


def by_name(result: ParseResult) -> dict[str, KeyRow]:
    return {row.name: row for row in result.rows}


def provided(row: KeyRow) -> dict[str, Any]:
    """The row as {field: value} for exactly the fields it provides."""
    return {name: getattr(row, name) for name in sorted(row.fields)}


def errors_of(result: ParseResult) -> list[tuple[int | None, str, str]]:
    return [(error.row, error.column, str(error)) for error in result.errors]
