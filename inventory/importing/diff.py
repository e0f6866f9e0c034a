"""Diffing: what a planned row changes, as the preview shows it: every field of a new key, or the fields of an
existing key whose values differ (references by their natural names, bindings and parties as in the CSV)."""

from __future__ import annotations

from typing import Any

from inventory.importers.base import ALL_FIELDS, KeyRow
from inventory.importers.csv import format_binding, format_labels, format_names
from inventory.importing.lookups import _FOREIGN_KEYS, STORED_COLUMNS, StoredKey, _Lookups
from inventory.importing.plan import FieldChange, RowPlan
from inventory.models import Key, Party, Purpose, Service, Tenant


def natural(obj: Any, column: str) -> str:
    return getattr(obj, _FOREIGN_KEYS[column]) if obj is not None else ""


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return format_labels(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# The columns the quick comparison of a row with its stored key reads: column -> (its index in a StoredKey, whether
# it is a reference, compared by id). Exposures and bindings are compared by :meth:`RowDiffer.changes` only.
_COMPARED: dict[str, tuple[int, bool]] = {
    column: (STORED_COLUMNS.index(f"{column}_id" if column in _FOREIGN_KEYS else column), column in _FOREIGN_KEYS)
    for column in ALL_FIELDS
    if column not in ("store", "external_id", "exposed_to", "services")
}
_NOT_COMPARED = frozenset(("store", "external_id"))


class RowDiffer:
    def __init__(self, lookups: _Lookups) -> None:
        self.lk = lookups

    @staticmethod
    def binding_text(service: Service, tenant: Tenant | None, purpose: Purpose, key_purpose_id: int | None) -> str:
        return format_binding(
            service.slug, tenant.slug if tenant else "", purpose.slug if purpose.pk != key_purpose_id else ""
        )

    def describe_new(self, row: KeyRow, plan: RowPlan) -> list[FieldChange]:
        """A new key's fields, each as a change from nothing."""
        changes = []
        for column in ALL_FIELDS:
            if column not in row.fields or column in ("store", "external_id"):
                continue
            if column == "exposed_to":
                new = format_names([p.name for p in plan.exposed_to or ()])
            elif column == "services":
                key_purpose_id = plan.values["purpose"].pk if plan.values["purpose"] else None
                new = ";".join(self.binding_text(s, t, p, key_purpose_id) for s, t, p, _, _ in plan.bindings or ())
            elif column in _FOREIGN_KEYS:
                new = natural(plan.values.get(column), column)
            else:
                new = display(plan.values.get(column))
            if new and not (column == "platform_managed" and new == "no"):
                changes.append(FieldChange(column, "", new))
        return changes

    @staticmethod
    def same(row: KeyRow, plan: RowPlan, key: StoredKey) -> bool:
        """Whether no column the row provides differs from the stored ``key`` (then :meth:`changes` is empty),
        compared value by value with what was fetched of the key for this chunk: a change made outside imports
        (a key edited, an owner's account removed) shows. False for a row listing exposures or bindings, which
        :meth:`changes` compares."""
        values = plan.values
        for column in row.fields:
            compared = _COMPARED.get(column)
            if compared is None:
                if column in _NOT_COMPARED:
                    continue
                return False
            index, reference = compared
            new = values.get(column)
            if reference:
                if key[index] != (new.pk if new else None):
                    return False
            elif key[index] != new:
                return False
        return True

    def changes(self, row: KeyRow, plan: RowPlan, key: Key, exposed: list[Party] | None) -> list[FieldChange]:
        """What the row changes on ``key``: each column it provides whose value differs."""
        changes: list[FieldChange] = []
        for column in ALL_FIELDS:
            if column not in row.fields or column in ("store", "external_id"):
                continue
            if column == "exposed_to":
                old = self.lk.exposed.get(key.pk, {})
                if set(old) != {p.pk for p in exposed or ()}:
                    changes.append(
                        FieldChange(
                            column, format_names(list(old.values())), format_names([p.name for p in exposed or ()])
                        )
                    )
            elif column == "services":
                old_bindings = plan.current_bindings = self.lk.bindings.get(key.pk, [])
                old = {(b.service_id, b.tenant_id, b.purpose_id) for b in old_bindings}
                new = {(s.pk, t.pk if t else None, p.pk) for s, t, p, _, _ in plan.bindings or ()}
                if old != new:
                    purpose = plan.values["purpose"] if "purpose" in plan.values else key.purpose
                    purpose_id = purpose.pk if purpose else None
                    changes.append(
                        FieldChange(
                            column,
                            ";".join(
                                sorted(
                                    {
                                        self.binding_text(b.service, b.tenant, b.purpose, key.purpose_id)
                                        for b in old_bindings
                                    }
                                )
                            ),
                            ";".join(
                                sorted(
                                    {self.binding_text(s, t, p, purpose_id) for s, t, p, _, _ in plan.bindings or ()}
                                )
                            ),
                        )
                    )
            elif column in _FOREIGN_KEYS:
                new_obj = plan.values.get(column)
                if getattr(key, f"{column}_id") != (new_obj.pk if new_obj else None):
                    changes.append(FieldChange(column, natural(getattr(key, column), column), natural(new_obj, column)))
            else:
                old_value, new_value = getattr(key, column), plan.values.get(column)
                if old_value != new_value:
                    changes.append(FieldChange(column, display(old_value), display(new_value)))
        return changes
