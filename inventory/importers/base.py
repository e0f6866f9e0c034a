"""The one interface every importer implements.

An importer turns a file (bytes and a name) into :class:`KeyRow` objects, plain values that name other
objects by their natural keys (store name, purpose slug, username, tenant and service slug, party name),
plus per-row errors for what it could not read. It touches no database: resolving the names, checking
them, diffing against the inventory and writing are the job of ``inventory.importing``, the same for every
format. Adding a format is adding a module with an :class:`Importer` subclass and a line in
``inventory.importers.REGISTRY``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cek.keymaterial import find_key_material

# KeyRow fields an importer may provide, in the order of the CSV columns. ``fields`` on a row says which of
# them the source actually carries: fields it does not carry are left as they are on an existing key.
KEY_FIELDS: tuple[str, ...] = (
    "store",
    "external_id",
    "name",
    "kind",
    "algorithm",
    "size_bits",
    "purpose",
    "purpose_justification",
    "purpose_approver",
    "purpose_reviewed_on",
    "owner",
    "backup_owner",
    "tenant",
    "custodian",
    "ssrm_layer",
    "state",
    "platform_usage",
    "created_on",
    "activated_on",
    "last_rotated_on",
    "expires_on",
    "rotation_period_days",
    "cryptoperiod_days",
    "labels",
    "description",
    "exposure_scope",
    "exposure_contract",
    "exposed_to",
    "services",
)
REQUIRED_FIELDS: tuple[str, ...] = ("store", "external_id", "name", "purpose")
DATE_FIELDS: frozenset[str] = frozenset(
    {"purpose_reviewed_on", "created_on", "activated_on", "last_rotated_on", "expires_on"}
)
INTEGER_FIELDS: frozenset[str] = frozenset({"size_bits", "rotation_period_days", "cryptoperiod_days"})


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, wrong encoding, wrong columns, holds a PEM block...).

    The message says what is wrong and what to do, and never quotes the file's content."""


@dataclass(slots=True)
class RowError:
    """One problem in one row; ``message`` starts with the column it is about and never echoes key material."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}" if self.row is not None else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(slots=True)
class BindingRow:
    """A service (optionally for one tenant) that uses the key. An empty ``purpose`` means the key's purpose.

    A binding is identified by (service, tenant, purpose); ``principal`` and ``operations`` are set on the
    bindings an import creates and left alone on bindings that already exist."""

    service: str
    tenant: str = ""
    purpose: str = ""
    principal: str | None = None
    operations: list[str] | None = None


@dataclass(slots=True)
class KeyRow:
    """One key as read from a file: plain values, references by natural key, ``row`` for error messages.

    ``fields`` names the fields the source provides (for CSV: its columns). ``bindings`` is None when the
    source says nothing about bindings, and a list (possibly empty) when it lists all of them."""

    row: int
    fields: frozenset[str]
    store: str = ""
    external_id: str = ""
    name: str = ""
    kind: str = ""
    algorithm: str = ""
    size_bits: int | None = None
    purpose: str = ""
    purpose_justification: str = ""
    purpose_approver: str = ""
    purpose_reviewed_on: dt.date | None = None
    owner: str = ""
    backup_owner: str = ""
    tenant: str = ""
    custodian: str = ""
    ssrm_layer: str = ""
    state: str = ""
    platform_usage: str = ""
    created_on: dt.date | None = None
    activated_on: dt.date | None = None
    last_rotated_on: dt.date | None = None
    expires_on: dt.date | None = None
    rotation_period_days: int | None = None
    cryptoperiod_days: int | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    exposure_scope: str = ""
    exposure_contract: str = ""
    exposed_to: list[str] = field(default_factory=list)
    bindings: list[BindingRow] | None = None


@dataclass
class ParseResult:
    """``rows`` may include rows that also have ``errors`` (their unreadable fields left out of ``fields``):
    they are checked like the others so the preview lists every problem of a row, and are never applied."""

    rows: list[KeyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class Importer:
    """Turns one file into key rows. Subclasses set the class attributes and implement :meth:`parse`."""

    format: ClassVar[str]  # registry name, stored on KeyImport.format: "csv", "aws-kms"...
    label: ClassVar[str]  # shown in the format select and in history: "CSV"
    extensions: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "application/octet-stream"

    def parse(self, data: bytes, *, file_name: str) -> ParseResult:
        """Read ``data``; raise :class:`ImportFileError` when the file as a whole is unusable."""
        raise NotImplementedError


def describe_value(column: str, value: Any) -> str:
    """ "column 'x' is 'value'" for messages, without ever echoing something that looks like key material."""
    text = "" if value is None else str(value)
    reason = find_key_material(text)
    if reason:
        return f"column '{column}' holds what looks like {reason} (not shown)"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"column '{column}' is '{text}'"


def choices_text(values: list[str], *, limit: int = 12) -> str:
    """ "a, b, c" or "a, b, ... and 20 more" for "expected one of" messages."""
    if len(values) <= limit:
        return ", ".join(values)
    return f"{', '.join(values[:limit])}, ... and {len(values) - limit} more"
