"""Exporters: the inventory as files. Each format is a module; :data:`REGISTRY` maps a format name to the
functions that write each table it supports as text chunks. CSV streams in constant memory whatever the size of
the inventory; the CycloneDX CBOM (keys only) is one JSON document built in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db.models import QuerySet

from inventory.exporters import cbom, csv

Exporter = Callable[[QuerySet], Iterator[str]]

TABLES = ("keys", "services", "bindings")
REGISTRY: dict[str, dict[str, Exporter]] = {
    "csv": {"keys": csv.export_keys, "services": csv.export_services, "bindings": csv.export_bindings},
    "cbom": {"keys": cbom.export_keys},
}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "cbom": cbom.MEDIA_TYPE}


def get_exporter(format: str, table: str = "keys") -> Exporter:
    try:
        return REGISTRY[format][table]
    except KeyError:
        raise ValueError(f"No '{format[:40]}' export of {table[:40]}; formats: {', '.join(REGISTRY)}.") from None
