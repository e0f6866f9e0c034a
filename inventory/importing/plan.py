"""What an import would do: the plan of a file (:class:`ImportPlan`) and of each of its rows (:class:`RowPlan`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inventory.importers.base import RowError
from inventory.models import Binding, Key, KeyStore, Party, Purpose, Service, Tenant


class Action(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


class WarningKind(StrEnum):
    CONFLICT = "conflict"  # the file contradicts itself or the inventory (usage vs purpose, tag vs mapping)
    UNASSIGNED = "unassigned"  # a new key with no purpose that could be derived
    UNKNOWN = "unknown"  # a tag names an owner, service, tenant or purpose that does not exist here


@dataclass(slots=True)
class RowWarning:
    """Something the preview shows and the import records, which does not stop the row from being applied."""

    row: int
    column: str
    kind: WarningKind
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "kind": str(self.kind), "message": self.message}


@dataclass(slots=True)
class FieldChange:
    column: str
    old: str
    new: str


@dataclass
class RowPlan:
    """What applying one row would do. ``values`` are model attributes (related objects as instances);
    ``exposed_to`` and ``bindings`` are None when the row leaves them alone."""

    row: int
    store: str
    external_id: str
    name: str
    action: Action
    changes: list[FieldChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    key: Key | None = None
    values: dict[str, Any] = field(default_factory=dict)
    exposed_to: list[Party] | None = None
    bindings: list[tuple[Service, Tenant | None, Purpose, str, list[str]]] | None = None
    current_bindings: list[Binding] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    # Bindings named by a service tag that the key does not have yet: added, never replacing the others.
    added_bindings: list[tuple[Service, Tenant | None, Purpose, str, list[str]]] = field(default_factory=list)

    @property
    def changed_columns(self) -> set[str]:
        return {change.column for change in self.changes}

    @property
    def conflicts(self) -> list[RowWarning]:
        return [w for w in self.warnings if w.kind == WarningKind.CONFLICT]

    @property
    def purpose_unassigned(self) -> bool:
        if "purpose" in self.values:
            return self.values["purpose"] is None
        return self.key is not None and self.key.purpose_id is None


@dataclass
class ImportPlan:
    format: str
    file_name: str
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    # The file as a whole was refused for key material or unsafe text (RefusedFileError): its refusal.
    file_refusal: dict[str, Any] | None = None
    store: KeyStore | None = None  # the store of a single-store import (chosen, matched, or named by every row)
    full: bool = False
    missing: list[Key] = field(default_factory=list)  # a full import: keys of the store the file no longer lists
    unknowns: dict[str, list[str]] = field(default_factory=dict)  # column -> names that match nothing here
    store_to_create: dict[str, str] | None = None  # no store matched: the kind, account and region to create

    @property
    def warnings(self) -> list[RowWarning]:
        return [warning for row in self.rows for warning in row.warnings]

    @property
    def has_errors(self) -> bool:
        return bool(self.file_error or self.errors)

    @property
    def refusal(self) -> list[dict[str, Any]]:
        """What refuses the upload outright (key material, unsafe text): ``{row, field, kind, reason}`` each,
        never a value. A refused upload keeps none of its bytes."""
        if self.file_refusal is not None:
            return [self.file_refusal]
        return [error.refusal() for error in self.errors if error.kind]

    @property
    def refused(self) -> bool:
        return bool(self.refusal)

    @property
    def counts(self) -> dict[str, int]:
        by_action = {action: 0 for action in Action}
        for row in self.rows:
            by_action[row.action] += 1
        planned = {row.row for row in self.rows}
        unparsed = {error.row for error in self.errors if error.row is not None} - planned
        error_rows = {error.row for error in self.errors if error.row is not None}
        applied = [row for row in self.rows if row.action != Action.ERROR]
        return {
            "rows": len(self.rows) + len(unparsed),
            "new": by_action[Action.NEW],
            "changed": by_action[Action.CHANGED],
            "unchanged": by_action[Action.UNCHANGED],
            "errors": len(error_rows) + (1 if self.file_error else 0),
            "error_messages": len(self.errors) + (1 if self.file_error else 0),
            "conflicts": sum(1 for row in applied if row.conflicts),
            "unassigned": sum(1 for row in applied if row.purpose_unassigned),
            "unknown": sum(len(names) for names in self.unknowns.values()),
            "not_seen": len(self.missing),
        }

    def rows_with(self, *actions: Action) -> list[RowPlan]:
        return [row for row in self.rows if row.action in actions]
