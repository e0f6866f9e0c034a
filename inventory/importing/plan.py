"""What an import would do: the plan of a file (:class:`ImportPlan`) and of each of its rows (:class:`RowPlan`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inventory.importers.base import RowError
from inventory.models import Binding, Key, Party, Purpose, Service, Tenant


class Action(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


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

    @property
    def changed_columns(self) -> set[str]:
        return {change.column for change in self.changes}


@dataclass
class ImportPlan:
    format: str
    file_name: str
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str = ""

    @property
    def has_errors(self) -> bool:
        return bool(self.file_error or self.errors)

    @property
    def counts(self) -> dict[str, int]:
        by_action = {action: 0 for action in Action}
        for row in self.rows:
            by_action[row.action] += 1
        planned = {row.row for row in self.rows}
        unparsed = {error.row for error in self.errors if error.row is not None} - planned
        error_rows = {error.row for error in self.errors if error.row is not None}
        return {
            "rows": len(self.rows) + len(unparsed),
            "new": by_action[Action.NEW],
            "changed": by_action[Action.CHANGED],
            "unchanged": by_action[Action.UNCHANGED],
            "errors": len(error_rows) + (1 if self.file_error else 0),
            "error_messages": len(self.errors) + (1 if self.file_error else 0),
        }

    def rows_with(self, *actions: Action) -> list[RowPlan]:
        return [row for row in self.rows if row.action in actions]
