"""What an importer reads a file into: :class:`KeyRow` objects (with their :class:`BindingRow` bindings), plain
values that name other objects by their natural keys, gathered with the row errors in a :class:`ParseResult`;
a platform export also says where its keys live (:class:`StoreScope`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from inventory.importers.base.errors import RowError


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
    platform_managed: bool = False
    platform_details: dict[str, Any] = field(default_factory=dict)
    # Fields that set a new key only: an existing key keeps its value (a guess the platform cannot confirm,
    # such as the kind of a Vault KV secret, must not undo a correction made here).
    create_only: frozenset[str] = frozenset()


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
