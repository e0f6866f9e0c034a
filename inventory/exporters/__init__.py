"""Exporters: the inventory as files. Each format is a module; :data:`REGISTRY` maps a format name to the
functions that write each table it supports as text chunks. CSV streams in constant memory whatever the size of
the inventory; the CycloneDX CBOM (keys only) is streamed a chunk of components at a time, as CycloneDX 1.6 (the default)
or 1.7 (:data:`SPECS`: the spec versions a format offers)."""

from __future__ import annotations

import functools
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
SPECS: dict[str, tuple[str, ...]] = {"cbom": cbom.SPEC_VERSIONS}


def get_exporter(format: str, table: str = "keys", *, spec: str | None = None) -> Exporter:
    """The exporter of ``table`` as ``format``; ``spec`` chooses the version of a format that has several (the
    CBOM: CycloneDX 1.6 or 1.7; None is the format's default)."""
    try:
        exporter = REGISTRY[format][table]
    except KeyError:
        raise ValueError(f"No '{format[:40]}' export of {table[:40]}; formats: {', '.join(REGISTRY)}.") from None
    if spec is None:
        return exporter
    if format not in SPECS:
        raise ValueError(f"The {format[:40]} export has one version only; leave out the spec version.")
    if spec not in SPECS[format]:
        raise ValueError(
            f"No {format} export in spec version '{spec[:10]}'; choose one of: {', '.join(SPECS[format])}."
        )
    return functools.partial(exporter, spec=spec)
