"""Planning: each row of a file checked (key material, references, choices, field validation) and compared
with the inventory, giving the plan of the file (new / changed / unchanged / error per row)."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from cek.keymaterial import find_key_material, message_for, validate_labels
from inventory.importers import get_importer
from inventory.importers.base import (
    DATE_FIELDS,
    INTEGER_FIELDS,
    KEY_FIELDS,
    REQUIRED_FIELDS,
    ImportFileError,
    KeyRow,
    RowError,
    choices_text,
    describe_value,
)
from inventory.importers.csv import format_binding, format_labels, format_names
from inventory.importing.lookups import _FOREIGN_KEYS, _USER_COLUMNS, _Lookups
from inventory.importing.plan import Action, FieldChange, ImportPlan, RowPlan
from inventory.models import Key, KeyKind, KeyState, Party, Purpose, Service, SsrmLayer, Tenant

_CHOICES: dict[str, tuple[type[models.TextChoices], str]] = {
    "kind": (KeyKind, KeyKind.SYMMETRIC_KEY),
    "state": (KeyState, KeyState.ACTIVE),
    "ssrm_layer": (SsrmLayer, SsrmLayer.APPLICATION),
}
# Columns holding text (free text and references): each is checked for key material.
_TEXT_COLUMNS = tuple(
    column for column in KEY_FIELDS if column not in {*DATE_FIELDS, *INTEGER_FIELDS, "labels", "exposed_to", "services"}
)
_SCANNED = frozenset({*_TEXT_COLUMNS, "labels"})
_MAX_LENGTHS = {f.name: f.max_length for f in Key._meta.fields if getattr(f, "max_length", None)}
# Columns a row sets on the model as they are (not references, not many-to-many).
_SCALAR_FIELDS = tuple(f.name for f in Key._meta.concrete_fields if not f.is_relation and f.name in KEY_FIELDS)


def _natural(obj: Any, column: str) -> str:
    return getattr(obj, _FOREIGN_KEYS[column]) if obj is not None else ""


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return format_labels(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class _RowPlanner:
    def __init__(self, lookups: _Lookups) -> None:
        self.lk = lookups
        self.seen: dict[tuple[int, str], int] = {}

    def plan(self, row: KeyRow) -> RowPlan:
        plan = RowPlan(row=row.row, store=row.store, external_id=row.external_id, name=row.name, action=Action.ERROR)
        present = row.fields
        flagged: set[str] = set()

        def error(column: str, message: str) -> None:
            flagged.add(column)
            plan.errors.append(RowError(row.row, column, message))

        # Key material first, so no later message quotes a value that holds some.
        for column in _TEXT_COLUMNS:
            if column in present:
                reason = find_key_material(getattr(row, column))
                if reason:
                    error(column, message_for(f"column '{column}'", reason))
        if "labels" in present:
            try:
                validate_labels(row.labels)
            except ValidationError as exc:
                error("labels", f"column 'labels': {' '.join(exc.messages)}")
        if "exposed_to" in present:
            for name in row.exposed_to:
                reason = find_key_material(name)
                if reason:
                    error("exposed_to", message_for("column 'exposed_to'", reason))
                    break

        for column in REQUIRED_FIELDS:
            if column not in flagged and not getattr(row, column):
                error(column, f"column '{column}' is empty; every key needs a {column.replace('_', ' ')}.")

        values: dict[str, Any] = {}
        self._resolve_references(row, values, error, flagged)
        for column, (choices, default) in _CHOICES.items():
            if column in present and column not in flagged:
                text = getattr(row, column).lower()
                if not text:
                    values[column] = str(default)
                elif text in choices.values:
                    values[column] = text
                else:
                    error(
                        column,
                        f"{describe_value(column, getattr(row, column))}; expected one of: {', '.join(choices.values)}.",
                    )
        for column in _SCALAR_FIELDS:
            if column in present and column not in values and column not in flagged:
                values[column] = getattr(row, column)

        store = values.get("store")
        if store is not None and row.external_id and "external_id" not in flagged:
            identity = (store.pk, row.external_id)
            if identity in self.seen:
                error(
                    "external_id",
                    f"column 'external_id' repeats row {self.seen[identity]} (same store and external_id); "
                    "each key may appear once in a file.",
                )
            else:
                self.seen[identity] = row.row
        if plan.errors:
            return plan

        existing = self.lk.keys.get((store.pk, row.external_id))
        plan.key, plan.values = existing, {k: v for k, v in values.items() if k not in ("exposed_to", "services")}
        exposed = values.get("exposed_to")
        self._check_purpose(row, plan, existing, values, error)
        self._check_fields(row, plan, existing, error, flagged)
        plan.bindings = self._bindings(row, values["purpose"]) if row.bindings is not None else None
        if plan.errors:
            return plan
        if existing is None:
            plan.action = Action.NEW
            plan.exposed_to = exposed
            plan.changes = self._describe_new(row, plan)
        else:
            plan.changes = self._diff(row, plan, existing, exposed)
            plan.exposed_to = exposed if "exposed_to" in plan.changed_columns else None
            plan.action = Action.CHANGED if plan.changes else Action.UNCHANGED
        return plan

    def _resolve_references(self, row: KeyRow, values: dict[str, Any], error, flagged: set[str]) -> None:
        lk, present = self.lk, row.fields
        if row.store and "store" not in flagged:
            values["store"] = lk.stores.get(row.store)
            if values["store"] is None:
                error(
                    "store",
                    f"{describe_value('store', row.store)}; no key store of that name. Create it first under Key stores.",
                )
        if row.purpose and "purpose" not in flagged:
            values["purpose"] = lk.purposes.get(row.purpose)
            if values["purpose"] is None:
                close = difflib.get_close_matches(row.purpose, lk.active_purposes, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                error(
                    "purpose",
                    f"{describe_value('purpose', row.purpose)}{hint}; expected one of: "
                    f"{choices_text(lk.active_purposes)}. See Purposes for the catalog.",
                )
        for column in _USER_COLUMNS:
            if column in present and column not in flagged:
                username = getattr(row, column)
                values[column] = lk.users.get(username) if username else None
                if username and values[column] is None:
                    error(
                        column,
                        f"{describe_value(column, username)}; no user with that username. Imports do not "
                        "create users: ask an administrator to add the account first.",
                    )
        if "tenant" in present and "tenant" not in flagged:
            values["tenant"] = lk.tenants.get(row.tenant) if row.tenant else None
            if row.tenant and values["tenant"] is None:
                error(
                    "tenant",
                    f"{describe_value('tenant', row.tenant)}; no tenant with that slug. Create it first under Tenants.",
                )
        if "custodian" in present and "custodian" not in flagged:
            values["custodian"] = lk.parties.get(row.custodian) if row.custodian else None
            if row.custodian and values["custodian"] is None:
                error(
                    "custodian",
                    f"{describe_value('custodian', row.custodian)}; no party of that name. "
                    "Create it first under Parties & SSRM.",
                )
        if "exposed_to" in present and "exposed_to" not in flagged:
            missing = [name for name in row.exposed_to if name not in lk.parties]
            if missing:
                error(
                    "exposed_to",
                    f"{describe_value('exposed_to', missing[0])}; no party of that name"
                    f"{f' (and {len(missing) - 1} more unknown)' if len(missing) > 1 else ''}. "
                    "Create it first under Parties & SSRM.",
                )
            else:
                values["exposed_to"] = [lk.parties[name] for name in row.exposed_to]
        for binding in row.bindings or ():
            if binding.service not in lk.services:
                error(
                    "services",
                    f"{describe_value('services', binding.service)}; no service with that slug. "
                    "Create it first under Services.",
                )
            if binding.tenant and binding.tenant not in lk.tenants:
                error(
                    "services",
                    f"{describe_value('services', binding.tenant)}; no tenant with that slug "
                    f"(for the binding to '{binding.service}'). Create it first under Tenants.",
                )
            if binding.purpose and binding.purpose not in lk.purposes:
                error(
                    "services",
                    f"{describe_value('services', binding.purpose)}; no purpose with that slug "
                    f"(for the binding to '{binding.service}'); expected one of: {choices_text(lk.active_purposes)}.",
                )

    def _check_purpose(self, row: KeyRow, plan: RowPlan, existing: Key | None, values: dict[str, Any], error) -> None:
        # The rules of services.key_validate_purpose, decided here without a query per row; key_save applies
        # them again when the row is written.
        purpose: Purpose = values["purpose"]
        kind = values.get("kind", existing.kind if existing else str(KeyKind.SYMMETRIC_KEY))
        if (existing is None or existing.purpose_id != purpose.pk) and not purpose.is_active:
            error(
                "purpose",
                f"{describe_value('purpose', row.purpose)}; the purpose '{purpose.name}' is retired. "
                f"Choose an active purpose: {choices_text(self.lk.active_purposes)}.",
            )
        if purpose.allowed_kinds and kind not in purpose.allowed_kinds:
            column = "kind" if "kind" in row.fields else "purpose"
            error(
                column,
                f"column 'kind' is '{kind}'; the purpose '{purpose.slug}' is for keys of kind "
                f"{', '.join(purpose.allowed_kinds)}. Choose a purpose that fits the key, or correct its kind.",
            )

    def _check_fields(self, row: KeyRow, plan: RowPlan, existing: Key | None, error, flagged: set[str]) -> None:
        """Field validation (lengths, choices, validators) of the fields the row sets, on an unsaved copy,
        without the queries of foreign-key and uniqueness checks (references were resolved above). key_save
        validates the whole key again when the row is written."""
        scalars = {name: plan.values[name] for name in _SCALAR_FIELDS if name in plan.values}
        candidate = copy.copy(existing) if existing is not None else Key()
        candidate.__dict__.update(scalars)  # plain attributes only: the shared field cache is not touched
        # Text and labels were checked for key material above; here only their length, not a second scan.
        for name in _TEXT_COLUMNS:
            limit = _MAX_LENGTHS.get(name)
            if name in scalars and name not in flagged and limit and len(scalars[name]) > limit:
                error(name, f"column '{name}' has {len(scalars[name])} characters; at most {limit} fit.")
        unchecked = [f.name for f in Key._meta.fields if f.name not in scalars or f.name in _SCANNED]
        try:
            candidate.full_clean(exclude=unchecked, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                if name not in flagged:
                    error(name, f"column '{name}': {' '.join(messages)}")

    def _bindings(
        self, row: KeyRow, key_purpose: Purpose
    ) -> list[tuple[Service, Tenant | None, Purpose, str, list[str]]]:
        lk = self.lk
        return [
            (
                lk.services[b.service],
                lk.tenants[b.tenant] if b.tenant else None,
                lk.purposes[b.purpose] if b.purpose else key_purpose,
                b.principal or "",
                list(b.operations or []),
            )
            for b in row.bindings or ()
        ]

    @staticmethod
    def _binding_text(service: Service, tenant: Tenant | None, purpose: Purpose, key_purpose_id: int) -> str:
        return format_binding(
            service.slug, tenant.slug if tenant else "", purpose.slug if purpose.pk != key_purpose_id else ""
        )

    def _describe_new(self, row: KeyRow, plan: RowPlan) -> list[FieldChange]:
        changes = []
        for column in KEY_FIELDS:
            if column not in row.fields or column in ("store", "external_id"):
                continue
            if column == "exposed_to":
                new = format_names([p.name for p in plan.exposed_to or ()])
            elif column == "services":
                key_purpose_id = plan.values["purpose"].pk
                new = ";".join(self._binding_text(s, t, p, key_purpose_id) for s, t, p, _, _ in plan.bindings or ())
            elif column in _FOREIGN_KEYS:
                new = _natural(plan.values.get(column), column)
            else:
                new = _display(plan.values.get(column))
            if new:
                changes.append(FieldChange(column, "", new))
        return changes

    def _diff(self, row: KeyRow, plan: RowPlan, key: Key, exposed: list[Party] | None) -> list[FieldChange]:
        changes: list[FieldChange] = []
        for column in KEY_FIELDS:
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
                    purpose_id = plan.values["purpose"].pk
                    changes.append(
                        FieldChange(
                            column,
                            ";".join(
                                sorted(
                                    {
                                        self._binding_text(b.service, b.tenant, b.purpose, key.purpose_id)
                                        for b in old_bindings
                                    }
                                )
                            ),
                            ";".join(
                                sorted(
                                    {self._binding_text(s, t, p, purpose_id) for s, t, p, _, _ in plan.bindings or ()}
                                )
                            ),
                        )
                    )
            elif column in _FOREIGN_KEYS:
                new_obj = plan.values.get(column)
                if getattr(key, f"{column}_id") != (new_obj.pk if new_obj else None):
                    changes.append(
                        FieldChange(column, _natural(getattr(key, column), column), _natural(new_obj, column))
                    )
            else:
                old_value, new_value = getattr(key, column), plan.values.get(column)
                if old_value != new_value:
                    changes.append(FieldChange(column, _display(old_value), _display(new_value)))
        return changes


def key_import_plan(*, data: bytes, file_name: str, format: str) -> ImportPlan:
    """Read ``data`` with the importer for ``format`` and plan every row against the current inventory.

    Reads only: a fixed number of queries whatever the number of rows. A problem with the file as a whole
    is reported in ``plan.file_error``; problems with rows in ``plan.errors`` (sorted by row)."""
    plan = ImportPlan(format=format, file_name=file_name)
    limit = settings.CEK_IMPORT_MAX_BYTES
    if len(data) > limit:
        plan.file_error = (
            f"The file is {len(data) / 1048576:.1f} MB; the limit is {limit / 1048576:.1f} MB "
            "(CEK_IMPORT_MAX_BYTES). Split it into several files."
        )
        return plan
    try:
        parsed = get_importer(format).parse(data, file_name=file_name)
    except ImportFileError as exc:
        plan.file_error = str(exc)
        return plan
    if not parsed.rows and not parsed.errors:
        plan.file_error = "The file has a header but no rows."
        return plan
    planner = _RowPlanner(_Lookups(parsed.rows))
    plan.rows = [planner.plan(row) for row in parsed.rows]
    unreadable = {error.row for error in parsed.errors}
    for row in plan.rows:
        if row.row in unreadable:
            row.action, row.changes = Action.ERROR, []
    plan.errors = sorted(
        [*parsed.errors, *(error for row in plan.rows for error in row.errors)], key=lambda e: (e.row or 0)
    )
    return plan
