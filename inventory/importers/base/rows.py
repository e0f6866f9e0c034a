"""What an importer reads a file into: :class:`KeyRow` objects (with their :class:`BindingRow` bindings), plain
values that name other objects by their natural keys, gathered with the row errors in a :class:`ParseResult`;
a platform export also says where its keys live (:class:`StoreScope`)."""

from __future__ import annotations

import dataclasses
import datetime as dt  # noqa: F401  (named in KeyRow's generated annotations)
from dataclasses import dataclass, field
from typing import Any

from inventory import keyfields
from inventory.importers.base.errors import RowError
from inventory.keyfields import Kind


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


def row_attribute(field: str) -> str:
    """The KeyRow attribute of an imported field: its name, except ``services`` (the row's ``bindings``)."""
    return "bindings" if keyfields.BY_NAME[field].kind is Kind.BINDINGS else field


# The KeyRow attribute of each kind of field: (type, default or default factory). An empty value is the kind's
# empty value; ``bindings`` is None when the source says nothing about bindings.
_ROW_TYPES: dict[Kind, tuple[str, Any]] = {
    Kind.TEXT: ("str", ""),
    Kind.CHOICE: ("str", ""),
    Kind.REFERENCE: ("str", ""),
    Kind.INTEGER: ("int | None", None),
    Kind.DATE: ("dt.date | None", None),
    Kind.FLAG: ("bool", False),
    Kind.MAPPING: ("dict[str, Any]", dict),
    Kind.PARTIES: ("list[str]", list),
    Kind.BINDINGS: ("list[BindingRow] | None", None),
}


def _row_field(kind: Kind) -> Any:
    default = _ROW_TYPES[kind][1]
    return field(default_factory=default) if callable(default) else field(default=default)


def empty_value(name: str) -> Any:
    """What an imported field holds when the source states it and gives nothing ([] for the key's bindings)."""
    kind = keyfields.BY_NAME[name].kind
    if kind is Kind.BINDINGS:
        return []
    default = _ROW_TYPES[kind][1]
    return default() if callable(default) else default


KeyRow = dataclasses.make_dataclass(
    "KeyRow",
    [
        ("row", "int"),
        ("fields", "frozenset[str]"),
        *((row_attribute(f.name), _ROW_TYPES[f.kind][0], _row_field(f.kind)) for f in keyfields.IMPORTED),
        # Fields that set a new key only: an existing key keeps its value (a guess the platform cannot confirm,
        # such as the kind of a Vault KV secret, must not undo a correction made here).
        ("create_only", "frozenset[str]", field(default=frozenset())),
    ],
    slots=True,
)
KeyRow.__module__ = __name__
KeyRow.__doc__ = """One key as read from a file: plain values, references by natural key, ``row`` for error messages.

Its fields are the imported fields of ``inventory.keyfields`` (each typed by its kind: text, a date, a number,
a mapping...), ``services`` as ``bindings``. ``fields`` names the fields the source provides (for CSV: its
columns). ``bindings`` is None when the source says nothing about bindings, and a list (possibly empty) when it
lists all of them."""


@dataclass(frozen=True, slots=True)
class StoreScope:
    """Where the keys of a platform export live, as read from the file (ARNs, resource names, key URLs).

    Used to find the key store the file belongs to (kind, then account and region when the store records
    them) and to refuse files that mix stores. Empty strings mean the file does not say."""

    kind: str  # a StoreKind value
    account: str = ""  # AWS account, GCP project, Azure vault name, Vault address or mount
    region: str = ""  # AWS region, GCP location (and key ring), Azure region if known

    def describe(self) -> str:
        parts = [self.kind]
        if self.account:
            parts.append(f"account '{self.account}'")
        if self.region:
            parts.append(f"region '{self.region}'")
        return " ".join(parts)


@dataclass
class ParseResult:
    """``rows`` may include rows that also have ``errors`` (their unreadable fields left out of ``fields``):
    they are checked like the others so the preview lists every problem of a row, and are never applied.

    ``scope`` is set by platform importers (all rows then have an empty ``store``: the store is the one the
    user chose, or the one whose kind, account and region match the scope)."""

    rows: list[KeyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    scope: StoreScope | None = None
    # Every string of the file was checked for key material before it was read (JSON formats): the planner
    # then checks the rows' shapes and lengths only, not their text a second time.
    material_checked: bool = False
    # What the preview shows of a row without stopping it (an optional reference that resolves to nothing):
    # the planner adds each to its row's warnings.
    warnings: list[RowError] = field(default_factory=list)
