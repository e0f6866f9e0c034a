"""Import services: turn a file into a plan (new / changed / unchanged / error per row), record it, apply it
atomically, or discard it. Every format goes through here; the importers only read files.

Rules (ARCHITECTURE "Flows" 1): imports preview a diff, then apply atomically; errors are per row; no partial
writes. A plan with any error cannot be applied: the user fixes the file and uploads it again. Apply plans
again against the inventory as it is then, inside the transaction that writes, so what changed since the
preview is caught. References (stores, purposes, users, tenants, services, parties) must exist: an import
never creates them.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from cek.keymaterial import find_key_material, message_for, validate_labels
from inventory import services
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
from inventory.models import (
    Binding,
    Key,
    KeyImport,
    KeyKind,
    KeyState,
    KeyStore,
    Party,
    Purpose,
    Service,
    SsrmLayer,
    Tenant,
)

MAX_STORED_ERRORS = 1000
_IN_CHUNK = 500  # values per IN (...) lookup: well below every backend's parameter limit

# Reference columns: column -> (natural-key attribute of the referenced object)
_FOREIGN_KEYS: dict[str, str] = {
    "store": "name",
    "purpose": "slug",
    "purpose_approver": "username",
    "owner": "username",
    "backup_owner": "username",
    "tenant": "slug",
    "custodian": "name",
}
_USER_COLUMNS = ("owner", "backup_owner", "purpose_approver")
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


class ImportApplyError(Exception):
    """Apply refused or failed; nothing was written. ``errors`` are the row errors, when there are any."""

    def __init__(self, message: str, errors: Iterable[RowError] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class _RowWriteError(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"Row {row}: {message}")


# --- Planning ------------------------------------------------------------------------------------------


def _fetch_in(queryset: models.QuerySet, field_name: str, values: Iterable[str]) -> list:
    wanted = sorted({value for value in values if value})
    found: list = []
    for start in range(0, len(wanted), _IN_CHUNK):
        found.extend(queryset.filter(**{f"{field_name}__in": wanted[start : start + _IN_CHUNK]}))
    return found


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


class _Lookups:
    """Every object the rows refer to, fetched once: a fixed number of queries whatever the row count."""

    def __init__(self, rows: list[KeyRow]) -> None:
        user_model = get_user_model()
        self.stores = {s.name: s for s in _fetch_in(KeyStore.objects.all(), "name", (r.store for r in rows))}
        self.purposes = {p.slug: p for p in Purpose.objects.all()}
        self.active_purposes = sorted(slug for slug, p in self.purposes.items() if p.is_active)
        self.users = {
            u.username: u
            for u in _fetch_in(
                user_model.objects.all(), "username", (getattr(r, c) for r in rows for c in _USER_COLUMNS)
            )
        }
        tenant_slugs = {r.tenant for r in rows} | {b.tenant for r in rows for b in r.bindings or ()}
        self.tenants = {t.slug: t for t in _fetch_in(Tenant.objects.all(), "slug", tenant_slugs)}
        self.services = {
            s.slug: s
            for s in _fetch_in(Service.objects.all(), "slug", (b.service for r in rows for b in r.bindings or ()))
        }
        party_names = {r.custodian for r in rows} | {name for r in rows for name in r.exposed_to}
        self.parties = {p.name: p for p in _fetch_in(Party.objects.all(), "name", party_names)}

        # Existing keys of the stores involved, keyed by (store id, external id). A small file only loads its
        # own keys; a large one loads the stores' keys in one query rather than thousands of small ones.
        store_ids = sorted(s.pk for s in self.stores.values())
        external_ids = {r.external_id for r in rows if r.external_id}
        keys = Key.objects.filter(store_id__in=store_ids).select_related(
            "store", "purpose", "owner", "backup_owner", "purpose_approver", "tenant", "custodian"
        )
        scope = models.Q(key__store_id__in=store_ids)
        if len(external_ids) <= _IN_CHUNK:
            keys = keys.filter(external_id__in=external_ids)
            scope &= models.Q(key__external_id__in=external_ids)
        self.keys = {(k.store_id, k.external_id): k for k in keys} if store_ids else {}

        self.exposed: dict[int, dict[int, str]] = defaultdict(dict)
        if store_ids and any("exposed_to" in r.fields for r in rows):
            through = Key.exposed_to.through.objects.filter(scope)
            for key_id, party_id, party_name in through.values_list("key_id", "party_id", "party__name"):
                self.exposed[key_id][party_id] = party_name
        self.bindings: dict[int, list[Binding]] = defaultdict(list)
        if store_ids and any(r.bindings is not None for r in rows):
            for binding in Binding.objects.filter(scope).select_related("service", "tenant", "purpose").order_by("pk"):
                self.bindings[binding.key_id].append(binding)


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


# --- Recording, applying, discarding ------------------------------------------------------------------


def _stored_errors(plan: ImportPlan) -> list[dict[str, Any]]:
    if plan.file_error:
        return [RowError(None, "", plan.file_error).as_dict()]
    return [error.as_dict() for error in plan.errors[:MAX_STORED_ERRORS]]


def key_import_preview(*, data: bytes, file_name: str, format: str, actor) -> tuple[KeyImport, ImportPlan]:
    """Plan an import and record it as a ``KeyImport`` (who, when, file name, SHA-256, counts, errors).

    The file is kept for apply, unless the file as a whole is rejected (then the record is ``failed`` with
    the reason in ``last_error`` and the file is not kept: it may hold key material)."""
    file_name = os.path.basename(file_name.replace("\\", "/"))[:255] or "upload"
    plan = key_import_plan(data=data, file_name=file_name, format=format)
    record = KeyImport(
        format=format[:30],
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created_by=actor,
        counts=plan.counts,
        errors=_stored_errors(plan),
    )
    if plan.file_error:
        record.status, record.last_error = KeyImport.Status.FAILED, plan.file_error
        record.save()
        return record, plan
    with transaction.atomic():
        record.save()  # first, so the storage path can carry its id
        record.file.save(file_name, ContentFile(data), save=False)
        record.save(update_fields=["file"])
    return record, plan


def key_import_read(key_import: KeyImport) -> bytes:
    """The kept file of a previewed import, checked against the digest recorded at upload."""
    if not key_import.file:
        raise ImportFileError("The uploaded file was not kept (the import was discarded or rejected); upload it again.")
    try:
        with key_import.file.open("rb") as handle:
            data = handle.read()
    except OSError:
        raise ImportFileError("The uploaded file is no longer available; upload it again.") from None
    if hashlib.sha256(data).hexdigest() != key_import.sha256:
        raise ImportFileError("The kept file no longer matches the upload (SHA-256 differs); upload it again.")
    return data


def key_import_plan_for(key_import: KeyImport) -> ImportPlan:
    """Plan a recorded import again from its kept file, against the inventory as it is now."""
    try:
        data = key_import_read(key_import)
    except ImportFileError as exc:
        return ImportPlan(format=key_import.format, file_name=key_import.file_name, file_error=str(exc))
    return key_import_plan(data=data, file_name=key_import.file_name, format=key_import.format)


def _change_reason(key_import: KeyImport) -> str:
    try:
        label = get_importer(key_import.format).label
    except ImportFileError:
        label = key_import.format
    return f"{label} import {key_import.file_name}"


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"column '{name}': {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def _sync_bindings(key: Key, plan: RowPlan, *, actor, reason: str) -> None:
    wanted = {
        (s.pk, t.pk if t else None, p.pk): (s, t, p, principal, ops) for s, t, p, principal, ops in plan.bindings or ()
    }
    have = set()
    for binding in plan.current_bindings:
        identity = (binding.service_id, binding.tenant_id, binding.purpose_id)
        if identity in wanted:
            have.add(identity)
        else:
            services.object_delete(instance=binding, actor=actor)
    for identity, (service, tenant, purpose, principal, operations) in wanted.items():
        if identity not in have:
            binding = Binding(
                key=key, service=service, tenant=tenant, purpose=purpose, principal=principal, operations=operations
            )
            services.object_save(instance=binding, actor=actor, reason=reason)


def _write(plan: ImportPlan, *, actor, reason: str) -> None:
    for row in plan.rows_with(Action.NEW, Action.CHANGED):
        try:
            key = row.key if row.key is not None else Key()
            key_columns = row.changed_columns - {"services"}
            if row.key is None or key_columns:
                for name, value in row.values.items():
                    setattr(key, name, value)
                services.key_save(key=key, actor=actor, exposed_to=row.exposed_to, reason=reason)
            if row.bindings is not None and (row.key is None or "services" in row.changed_columns):
                _sync_bindings(key, row, actor=actor, reason=reason)
        except ValidationError as exc:
            raise _RowWriteError(row.row, _validation_text(exc)) from exc
        except DatabaseError as exc:
            raise _RowWriteError(row.row, f"the database refused the change ({exc.__class__.__name__}).") from exc


class _Rejected(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan


def key_import_apply(*, key_import: KeyImport, actor) -> KeyImport:
    """Apply a previewed import in one transaction: every row or none.

    The kept file is planned again against the inventory as it is now. If any row has an error, nothing is
    written, the new errors are recorded on the import and :class:`ImportApplyError` is raised; if a write
    fails, nothing is written, the import is marked failed and :class:`ImportApplyError` is raised. History
    entries are attributed to ``actor`` with the reason "<format> import <file name>"."""
    try:
        with transaction.atomic():
            locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
            if locked.status != KeyImport.Status.PREVIEWED:
                raise ImportApplyError(
                    f"This import is {locked.get_status_display().lower()}; only a previewed import can be applied."
                )
            if locked.errors:
                raise ImportApplyError(
                    "This import has errors, so nothing can be applied (imports are all or nothing). "
                    "Fix the file and upload it again."
                )
            try:
                data = key_import_read(locked)
            except ImportFileError as exc:
                raise ImportApplyError(str(exc)) from None
            plan = key_import_plan(data=data, file_name=locked.file_name, format=locked.format)
            if plan.has_errors:
                raise _Rejected(plan)
            _write(plan, actor=actor, reason=_change_reason(locked))
            locked.status = KeyImport.Status.APPLIED
            locked.counts = plan.counts
            locked.applied_at = timezone.now()
            locked.last_error = ""
            locked.save(update_fields=["status", "counts", "applied_at", "last_error"])
    except _Rejected as exc:
        KeyImport.objects.filter(pk=key_import.pk).update(counts=exc.plan.counts, errors=_stored_errors(exc.plan))
        key_import.refresh_from_db()
        count = exc.plan.counts["errors"]
        raise ImportApplyError(
            f"Nothing was imported: the inventory changed since the preview and {count} row"
            f"{'s' if count != 1 else ''} now {'have' if count != 1 else 'has'} errors. "
            "Fix the file and upload it again.",
            exc.plan.errors or [RowError(None, "", exc.plan.file_error)],
        ) from None
    except _RowWriteError as exc:
        KeyImport.objects.filter(pk=key_import.pk).update(status=KeyImport.Status.FAILED, last_error=str(exc))
        key_import.refresh_from_db()
        raise ImportApplyError(f"Nothing was imported: {exc}") from exc
    key_import.refresh_from_db()
    return key_import


def key_import_discard(*, key_import: KeyImport, actor) -> KeyImport:
    """Drop a previewed import: its kept file is deleted and it can no longer be applied."""
    with transaction.atomic():
        locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
        if locked.status != KeyImport.Status.PREVIEWED:
            raise ValidationError(
                f"This import is {locked.get_status_display().lower()}; only a previewed import can be discarded."
            )
        if locked.file:
            locked.file.delete(save=False)
        locked.status = KeyImport.Status.DISCARDED
        locked.save(update_fields=["status", "file"])
    key_import.refresh_from_db()
    return key_import


def import_summary(counts: dict[str, int]) -> str:
    """ "Imported 120 keys: 100 new, 20 changed" (and the unchanged ones, if any)."""
    new, changed, unchanged = counts.get("new", 0), counts.get("changed", 0), counts.get("unchanged", 0)
    total = new + changed
    text = f"Imported {total} key{'s' if total != 1 else ''}: {new} new, {changed} changed"
    return text + (f"; {unchanged} unchanged" if unchanged else "") + "."
