"""Importers: one module per file format, each turning a file into ``KeyRow`` objects (see ``base``).

Adding a format is adding a module with an ``Importer`` subclass and a line in :data:`REGISTRY`.
"""

from __future__ import annotations

from inventory.importers.base import Importer, ImportFileError
from inventory.importers.csv import CsvImporter

REGISTRY: dict[str, Importer] = {importer.format: importer for importer in (CsvImporter(),)}


def get_importer(format: str) -> Importer:
    try:
        return REGISTRY[format]
    except KeyError:
        raise ImportFileError(
            f"Unknown import format '{format[:40]}'; expected one of: {', '.join(REGISTRY)}."
        ) from None


def format_choices() -> list[tuple[str, str]]:
    return [(name, importer.label) for name, importer in REGISTRY.items()]
