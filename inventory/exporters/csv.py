"""CSV exports of keys, services and bindings, streamed in chunks.

The key export writes exactly the columns the CSV importer reads, with the same cell formats
(``inventory.importers.csv``), so importing an export changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.db.models import Prefetch, QuerySet

from cek.exportguard import checked_rows
from cek.spreadsheet import spreadsheet_safe
from inventory import keyfields
from inventory.exporters.keyvalues import field_value
from inventory.importers.csv import COLUMN_NAMES, FORMATTERS
from inventory.keyfields import Kind
from inventory.models import Binding, Key, Party, Service

CHUNK_SIZE = 1000  # rows per database fetch (and per prefetch of their bindings and parties)
_FIELDS = keyfields.csv_fields()
_JOINS = tuple(field.name for field in _FIELDS if field.kind is Kind.REFERENCE)
SERVICE_COLUMNS = (
    "slug",
    "name",
    "environment",
    "architectural_layer",
    "ssrm_layer",
    "lifecycle_phase",
    "operating_party",
    "owner",
    "is_active",
    "description",
)
BINDING_COLUMNS = (
    "store",
    "external_id",
    "key_name",
    "service",
    "tenant",
    "purpose",
    "principal",
    "operations",
    "notes",
)


def csv_chunks(
    header: Iterable[str], rows: Iterable[Iterable[str]], *, rows_per_chunk: int = 200, name: str = "The CSV file"
) -> Iterator[str]:
    """CSV text in chunks of a few hundred rows. A UTF-8 BOM first, so spreadsheets read the encoding right.

    Each row passes the export guard before it is written: a value that looks like key material stops the file
    with ``cek.exportguard.ExportRefused`` naming ``name``, the row and the column."""
    header = list(header)
    rows = checked_rows(rows, export=name, columns=header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def _name(obj, attribute: str) -> str:
    return getattr(obj, attribute) if obj is not None else ""


def key_cells(key: Key) -> list[str]:
    """One key as the cells of :data:`COLUMN_NAMES` (needs ``exposed_to`` and ``bindings`` prefetched)."""
    return [FORMATTERS[field.kind](field_value(key, field)) for field in _FIELDS]


def export_keys(queryset: QuerySet[Key]) -> Iterator[str]:
    """Stream ``queryset`` (already narrowed to what the user may see, filtered and ordered) as CSV."""
    keys = queryset.select_related(*_JOINS).prefetch_related(
        Prefetch("exposed_to", queryset=Party.objects.only("pk", "name")),
        Prefetch("bindings", queryset=Binding.objects.select_related("service", "tenant", "purpose")),
    )
    return csv_chunks(
        COLUMN_NAMES, (key_cells(key) for key in keys.iterator(chunk_size=CHUNK_SIZE)), name="The keys CSV export"
    )


def export_services(queryset: QuerySet[Service]) -> Iterator[str]:
    services = queryset.select_related("operating_party", "owner")
    rows = (
        [
            s.slug,
            s.name,
            s.environment,
            s.architectural_layer,
            s.ssrm_layer,
            s.lifecycle_phase,
            _name(s.operating_party, "name"),
            _name(s.owner, "username"),
            "yes" if s.is_active else "no",
            s.description,
        ]
        for s in services.iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_chunks(SERVICE_COLUMNS, rows, name="The services CSV export")


def export_bindings(queryset: QuerySet[Binding]) -> Iterator[str]:
    bindings = queryset.select_related("key__store", "service", "tenant", "purpose")
    rows = (
        [
            b.key.store.name,
            b.key.external_id,
            b.key.name,
            b.service.slug,
            _name(b.tenant, "slug"),
            b.purpose.slug,
            b.principal,
            ";".join(b.operations or []),
            b.notes,
        ]
        for b in bindings.iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_chunks(BINDING_COLUMNS, rows, name="The bindings CSV export")
