"""What an import would do: the plan of a file (:class:`ImportPlan`) and of each of its rows (:class:`RowPlan`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inventory.importers.base import RowError
from inventory.importing.lookups import StoredKey
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
    key: StoredKey | None = None  # the stored key (a tuple of its columns): None for a new key
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


# What a plan keeps of a file, whatever its size (the preview, the API answer and the stored record show no more):
# the first rows (and the first new or changed ones), the first errors, warnings and keys no longer listed. The
# counts cover every row.
KEPT_ROWS = 1000
KEPT_MESSAGES = 1000


@dataclass
class ImportPlan:
    """The plan of a file. A file is planned in chunks (``key_import_plan``): ``rows`` keeps the first rows
    (:data:`KEPT_ROWS`, and as many of the first new or changed ones), ``errors`` and ``warnings`` the first
    :data:`KEPT_MESSAGES`, ``missing`` the first keys no longer listed; ``counts`` count every row."""

    format: str
    file_name: str
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""
    # The file as a whole was refused for key material or unsafe text (RefusedFileError): its refusal.
    file_refusal: dict[str, Any] | None = None
    store: KeyStore | None = None  # the store of a single-store import (chosen, matched, or named by every row)
    full: bool = False
    missing: list[Key] = field(default_factory=list)  # a full import: the first keys the file no longer lists
    missing_ids: list[int] | None = None  # ... and the ids of all of them (None: ``missing`` is all of them)
    unknowns: dict[str, list[str]] = field(default_factory=dict)  # column -> names that match nothing here
    store_to_create: dict[str, str] | None = None  # no store matched: the kind, account and region to create
    # Running counts of a plan built chunk by chunk (:meth:`add`); None: counted from ``rows`` and ``errors``.
    tally: dict[str, int] | None = None
    kept_warnings: list[RowWarning] | None = None
    kept_refusals: list[RowError] = field(default_factory=list)
    full_store: KeyStore | None = None  # a full import without a chosen store: the store its first row names

    def add(self, rows: list[RowPlan], errors: list[RowError]) -> None:
        """Count one planned chunk (its rows and every error of its rows, sorted by row) and keep what is shown."""
        if self.tally is None:
            self.tally = dict.fromkeys(
                ("rows", "new", "changed", "unchanged", "errors", "error_messages", "conflicts", "unassigned"), 0
            )
            self.tally["refused_rows"] = 0
            self.kept_warnings = []
        tally = self.tally
        planned = {row.row for row in rows}
        error_rows = {error.row for error in errors if error.row is not None}
        tally["rows"] += len(rows) + len(error_rows - planned)
        tally["errors"] += len(error_rows)
        tally["error_messages"] += len(errors)
        tally["refused_rows"] += len({error.row for error in errors if error.kind})
        changes = sum(1 for row in self.rows if row.action in (Action.NEW, Action.CHANGED))
        for row in rows:
            action = row.action
            if action != Action.ERROR:
                tally[str(action)] += 1
                if row.conflicts:
                    tally["conflicts"] += 1
                if row.purpose_unassigned:
                    tally["unassigned"] += 1
            changed = action in (Action.NEW, Action.CHANGED)
            if len(self.rows) < KEPT_ROWS or (changed and changes < KEPT_ROWS):
                self.rows.append(row)
                changes += changed
            room = KEPT_MESSAGES - len(self.kept_warnings)
            if room > 0 and row.warnings:
                self.kept_warnings.extend(row.warnings[:room])
        room = KEPT_MESSAGES - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])
        room = KEPT_MESSAGES - len(self.kept_refusals)
        if room > 0:
            self.kept_refusals.extend([error for error in errors if error.kind][:room])

    def discard_rows(self) -> None:
        """Forget every row planned (the file as a whole was rejected after some of its rows were planned)."""
        self.rows, self.errors, self.missing, self.missing_ids = [], [], [], None
        self.tally, self.kept_warnings, self.kept_refusals = None, None, []

    @property
    def warnings(self) -> list[RowWarning]:
        if self.kept_warnings is not None:
            return self.kept_warnings
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
        if self.tally is not None:
            return [error.refusal() for error in self.kept_refusals]
        return [error.refusal() for error in self.errors if error.kind]

    @property
    def refused(self) -> bool:
        return bool(self.refusal)

    @property
    def not_seen(self) -> int:
        return len(self.missing if self.missing_ids is None else self.missing_ids)

    @property
    def counts(self) -> dict[str, int]:
        if self.tally is not None:
            tally = self.tally
            return {
                "rows": tally["rows"],
                "new": tally["new"],
                "changed": tally["changed"],
                "unchanged": tally["unchanged"],
                "errors": tally["errors"] + (1 if self.file_error else 0),
                "error_messages": tally["error_messages"] + (1 if self.file_error else 0),
                "conflicts": tally["conflicts"],
                "unassigned": tally["unassigned"],
                "unknown": sum(len(names) for names in self.unknowns.values()),
                "not_seen": self.not_seen,
            }
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
            "not_seen": self.not_seen,
        }

    def rows_with(self, *actions: Action) -> list[RowPlan]:
        return [row for row in self.rows if row.action in actions]
