"""Importers: one module per file format, each turning a file into ``KeyRow`` objects (see ``base``).

Adding a format is adding a module with an ``Importer`` subclass and a line in :data:`REGISTRY`.
"""

from __future__ import annotations

from typing import Any

from inventory.importers.aws_kms import AwsKmsImporter
from inventory.importers.azure_kv import AzureKeyVaultImporter
from inventory.importers.base import Importer, ImportFileError
from inventory.importers.cbom import CbomImporter
from inventory.importers.csv import CsvImporter
from inventory.importers.gcp_kms import GcpKmsImporter
from inventory.importers.vault import VaultKvImporter, VaultTransitImporter

REGISTRY: dict[str, Importer] = {
    importer.format: importer
    for importer in (
        CsvImporter(),
        AwsKmsImporter(),
        GcpKmsImporter(),
        AzureKeyVaultImporter(),
        VaultTransitImporter(),
        VaultKvImporter(),
        CbomImporter(),
    )
}


def get_importer(format: str) -> Importer:
    try:
        return REGISTRY[format]
    except KeyError:
        raise ImportFileError(
            f"Unknown import format '{format[:40]}'; expected one of: {', '.join(REGISTRY)}."
        ) from None


def guess_formats(data: bytes, document: Any) -> list[Importer]:
    """The importers whose ``sniff`` accepts the file (``document``: its parsed JSON, or None)."""
    found = []
    for importer in REGISTRY.values():
        try:
            recognised = importer.sniff(data, document)
        except Exception:  # a sniffer that trips on an odd file does not recognise it
            recognised = False
        if recognised:
            found.append(importer)
    return found


def format_choices() -> list[tuple[str, str]]:
    return [(name, importer.label) for name, importer in REGISTRY.items()]
