"""Planning: each row of a file checked (key material, references, choices, field validation) and compared
with the inventory, giving the plan of the file (new / changed / unchanged / error per row)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from cek.keymaterial import ADVICE, find_key_material, message_for, validate_labels
from cek.textsafety import find_unsafe_text, scrub
from cek.textsafety import message_for as unsafe_message
from inventory import keyfields
from inventory.importers import get_importer
from inventory.importers.base import (
    ALL_FIELDS,
    KEY_MATERIAL,
    MULTILINE_FIELDS,
    REQUIRED_FIELDS,
    UNSAFE_TEXT,
    Importer,
    ImportFileError,
    KeyRow,
    ParseResult,
    RefusedFileError,
    RowError,
    choices_text,
    describe_value,
)
from inventory.importers.csv import format_binding, format_labels, format_names
from inventory.importing.lookups import _FOREIGN_KEYS, _USER_COLUMNS, _Lookups, tag_slug
from inventory.importing.plan import Action, FieldChange, ImportPlan, RowPlan, RowWarning, WarningKind
from inventory.keyfields import Kind
from inventory.models import Key, KeyKind, KeyStore, Party, Purpose, Service, StoreKind, Tenant
from inventory.usage import usage_conflict

# Columns holding one of the model field's choices: (the choices, the default for an empty cell).
_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    field.name: (
        tuple(value for value, _ in Key._meta.get_field(field.name).choices),
        str(Key._meta.get_field(field.name).default),
    )
    for field in keyfields.IMPORTED
    if field.kind is Kind.CHOICE
}
_CHOICE_VALUES = {column: frozenset(choices) for column, (choices, _) in _CHOICES.items()}
# Columns holding text (free text and references): each is checked for key material.
_TEXT_COLUMNS = tuple(field.name for field in keyfields.IMPORTED if field.kind.textual)
# Flat tag-like mappings, checked like labels.
_MAPPINGS = tuple(field.name for field in keyfields.IMPORTED if field.kind is Kind.MAPPING)
_SCANNED = frozenset(keyfields.SCANNED)
_KEY_FIELDS = {f.name: f for f in Key._meta.concrete_fields}
_MAX_LENGTHS = {f.name: f.max_length for f in Key._meta.fields if getattr(f, "max_length", None)}
# Columns a row sets on the model as they are (not references, not many-to-many).
_SCALAR_FIELDS = tuple(f.name for f in Key._meta.concrete_fields if not f.is_relation and f.name in ALL_FIELDS)
# New rows whose fields are listed as changes (the preview shows the first 200 changed rows, the API 500).
DESCRIBED_NEW_ROWS = 1000
# Columns derived from tags (platform exports): purpose, owner, tenant; services are added bindings.
_TAGGED = ("purpose", "owner", "tenant", "services")


def _natural(obj: Any, column: str) -> str:
    return getattr(obj, _FOREIGN_KEYS[column]) if obj is not None else ""


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return format_labels(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# validate_labels says "<label> looks like it contains <reason>. <advice>" for key material (other messages are
# about shapes): the reason phrase is what a refusal records.
_MATERIAL_REASON = re.compile(r"looks like it contains (.+?)\. " + re.escape(ADVICE))


def _material_reason(messages: list[str]) -> str:
    for message in messages:
        match = _MATERIAL_REASON.search(message)
        if match:
            return match.group(1)
    return ""


def _unsafe_columns(row: KeyRow, present: frozenset[str]) -> list[tuple[str, str]]:
    """``(column, reason)`` for each provided text column holding unsafe text: one-line columns may hold no
    tab or line break either. Labels and platform facts are the platform's own text (a Vault metadata value
    may span lines): tab and line breaks pass there, as in the API's labels."""
    found = []
    for column in _TEXT_COLUMNS:
        if column in present:
            reason = find_unsafe_text(getattr(row, column), multiline=column in MULTILINE_FIELDS)
            if reason:
                found.append((column, reason))
    for column in _MAPPINGS:
        if column in present and isinstance(getattr(row, column), dict):
            for name, value in getattr(row, column).items():
                reason = find_unsafe_text(name, multiline=True) or find_unsafe_text(value, multiline=True)
                if reason:
                    found.append((column, reason))
                    break
    if "exposed_to" in present:
        for name in row.exposed_to:
            reason = find_unsafe_text(name)
            if reason:
                found.append(("exposed_to", reason))
                break
    return found


@dataclass(slots=True)
class _Derived:
    services: list[Service]


class _RowPlanner:
    def __init__(
        self,
        lookups: _Lookups,
        *,
        reads_tags: bool = False,
        store: KeyStore | None = None,
        material_checked: bool = False,
    ) -> None:
        self.lk = lookups
        self.reads_tags = reads_tags
        self.material_checked = material_checked
        self.store = store  # the store chosen for the import: every row must belong to it
        self.seen: dict[tuple[int, str], int] = {}
        self.unknowns: dict[str, set[str]] = {}
        self.described = 0
        self.valid: set[tuple[str, Any]] = set()  # (field, value) pairs found valid

    def plan(self, row: KeyRow) -> RowPlan:
        plan = RowPlan(row=row.row, store=row.store, external_id=row.external_id, name=row.name, action=Action.ERROR)
        flagged: set[str] = set()

        def error(column: str, message: str, *, kind: str = "", reason: str = "") -> None:
            flagged.add(column)
            plan.errors.append(RowError(row.row, column, message, kind=kind, reason=reason))

        def warn(column: str, kind: WarningKind, message: str) -> None:
            plan.warnings.append(RowWarning(row.row, column, kind, message))

        if self.store is not None and row.store and row.store != self.store.name:
            error(
                "store",
                f"{describe_value('store', row.store)}, but this import is for the store '{self.store.name}'. "
                "A file imported into one store may only list that store's keys: split the file by store.",
            )
        if row.create_only and self._exists(row):
            row.fields = row.fields - row.create_only
        derived = self._derive_from_tags(row, warn) if self.reads_tags else None
        present = row.fields

        # Unsafe text, then key material, first, so no later message quotes a value that holds either (key
        # material: unless the importer checked every string of the file already). Both refuse the upload.
        for column, reason in _unsafe_columns(row, present):
            error(column, unsafe_message(f"column '{column}'", reason), kind=UNSAFE_TEXT, reason=reason)
        scan = not self.material_checked
        for column in _TEXT_COLUMNS:
            if scan and column in present and column not in flagged:
                reason = find_key_material(getattr(row, column))
                if reason:
                    error(column, message_for(f"column '{column}'", reason), kind=KEY_MATERIAL, reason=reason)
        for column in _MAPPINGS:
            if column in present and column not in flagged:
                try:
                    validate_labels(getattr(row, column), scan=scan)
                except ValidationError as exc:
                    reason = _material_reason(exc.messages) if scan else ""
                    error(
                        column,
                        f"column '{column}': {' '.join(exc.messages)}",
                        kind=KEY_MATERIAL if reason else "",
                        reason=reason,
                    )
        if scan and "exposed_to" in present and "exposed_to" not in flagged:
            for name in row.exposed_to:
                reason = find_key_material(name)
                if reason:
                    error("exposed_to", message_for("column 'exposed_to'", reason), kind=KEY_MATERIAL, reason=reason)
                    break

        for column in REQUIRED_FIELDS:
            if column == "purpose" and column not in present:
                continue  # a format that does not carry purposes: new keys are "purpose unassigned"
            if column == "purpose" and not row.purpose and self._is_unassigned(row):
                # An export of an unassigned key has an empty purpose cell: importing it back changes nothing.
                present = row.fields = row.fields - {"purpose"}
                continue
            if column == "store" and not row.store:
                if column not in flagged:
                    error(
                        "store",
                        "column 'store' is empty; name the key store in the file, or choose the store the file "
                        "belongs to when you upload it.",
                    )
                continue
            if column not in flagged and not getattr(row, column):
                error(column, f"column '{column}' is empty; every key needs a {column.replace('_', ' ')}.")

        values: dict[str, Any] = {}
        self._resolve_references(row, values, error, flagged)
        for column, (choices, default) in _CHOICES.items():
            if column in present and column not in flagged:
                text = getattr(row, column).lower()
                if not text:
                    values[column] = str(default)
                elif text in _CHOICE_VALUES[column]:
                    values[column] = text
                else:
                    error(
                        column,
                        f"{describe_value(column, getattr(row, column))}; expected one of: {', '.join(choices)}.",
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
        if existing is None and "purpose" not in plan.values:
            plan.values["purpose"] = None
        exposed = values.get("exposed_to")
        purpose = plan.values["purpose"] if "purpose" in plan.values else existing.purpose
        self._check_purpose(row, plan, existing, purpose, error, warn)
        self._check_fields(row, plan, existing, error, flagged)
        if row.bindings is not None:
            plan.bindings = self._bindings(row, purpose, error)
        if derived is not None and derived.services:
            self._add_tagged_bindings(plan, derived.services, purpose, existing, warn)
        if plan.errors:
            return plan
        if existing is None:
            plan.action = Action.NEW
            plan.exposed_to = exposed
            if self.described < DESCRIBED_NEW_ROWS:  # only shown: the first rows of the preview and the API answer
                self.described += 1
                plan.changes = self._describe_new(row, plan)
            if purpose is None:
                warn(
                    "purpose",
                    WarningKind.UNASSIGNED,
                    "no purpose could be derived"
                    + (f" (no '{store.purpose_tag_key}' tag)" if self.reads_tags else "")
                    + ': the key is imported as "purpose unassigned" for GRC to map, and counts against CEK-11 '
                    "until it is.",
                )
        else:
            plan.changes = self._diff(row, plan, existing, exposed)
            plan.exposed_to = exposed if "exposed_to" in plan.changed_columns else None
            if existing.not_seen_since is not None:
                plan.values["not_seen_since"] = None
                plan.changes.append(FieldChange("not_seen_since", existing.not_seen_since.isoformat(), ""))
            plan.action = Action.CHANGED if plan.changes or plan.added_bindings else Action.UNCHANGED
        return plan

    # --- Platform exports: purpose, owner, tenant and services from the key's tags ------------------------

    def _derive_from_tags(self, row: KeyRow, warn) -> _Derived | None:
        """Read the row's tags with its store's tag keys and set the fields they name on the row, as if the
        file had those columns. A tag naming something unknown is a warning, and the field is left alone.

        The declared purpose is set on a new key and on a key still unassigned; a key that already has a
        purpose keeps it (GRC's mapping, with its justification and approver, is not overwritten by a tag):
        a tag that says otherwise is a conflict."""
        tags = self.lk.tags.get(row.row)
        if tags is None:
            return None  # unknown store: the row has an error already
        lk, store = self.lk, self.lk.stores[row.store]
        existing = self._existing(row)
        fields = set(row.fields)
        if tags.purpose:
            purpose = lk.purposes.get(tags.purpose) or lk.purposes.get(tag_slug(tags.purpose))
            purpose = purpose or lk.purposes_by_name.get(tags.purpose.lower())
            tag = f"the '{store.purpose_tag_key}' tag"
            if purpose is None:
                self._unknown("purpose", tags.purpose)
                warn(
                    "purpose",
                    WarningKind.UNKNOWN,
                    f"{tag} is '{tags.purpose[:60]}', which is not a purpose in the catalog; "
                    f"expected one of: {choices_text(lk.active_purposes)}.",
                )
            elif existing is not None and existing.purpose_id not in (None, purpose.pk):
                warn(
                    "purpose",
                    WarningKind.CONFLICT,
                    f"{tag} says '{purpose.slug}' but the key's recorded purpose is '{existing.purpose.slug}'; the "
                    "recorded purpose is kept. Correct the tag on the platform, or map the key again (AG-7).",
                )
            elif not purpose.is_active and (existing is None or existing.purpose_id != purpose.pk):
                warn(
                    "purpose",
                    WarningKind.CONFLICT,
                    f"{tag} names the retired purpose '{purpose.slug}'; the key is left without it for GRC to map.",
                )
            else:
                row.purpose = purpose.slug
                fields.add("purpose")
        if tags.owner:
            user = lk.users.get(tags.owner) or lk.users_by_email.get(tags.owner.lower())
            if user is None:
                self._unknown("owner", tags.owner)
                warn(
                    "owner",
                    WarningKind.UNKNOWN,
                    f"the '{store.owner_tag_key}' tag names '{tags.owner[:60]}', who is not a user here (by "
                    "username or e-mail address); the owner is left as it is. Ask an administrator to add the account.",
                )
            else:
                lk.users[user.username] = user  # found by e-mail address: resolved by username below
                row.owner = user.username
                fields.add("owner")
        if tags.tenant:
            tenant = lk.tenants.get(tag_slug(tags.tenant))
            if tenant is None:
                self._unknown("tenant", tags.tenant)
                warn(
                    "tenant",
                    WarningKind.UNKNOWN,
                    f"the '{store.tenant_tag_key}' tag names '{tags.tenant[:60]}', which is not a tenant here; "
                    "the tenant is left as it is. Create it under Tenants and import again.",
                )
            else:
                row.tenant = tenant.slug
                fields.add("tenant")
        services = []
        for name in tags.services:
            service = lk.services.get(tag_slug(name))
            if service is None:
                self._unknown("service", name)
                warn(
                    "services",
                    WarningKind.UNKNOWN,
                    f"the '{store.service_tag_key}' tag names '{name[:60]}', which is not a service here; no "
                    "binding is added for it. Create it under Services and import again.",
                )
            else:
                services.append(service)
        row.fields = frozenset(fields)
        return _Derived(services=services)

    def _existing(self, row: KeyRow) -> Key | None:
        store = self.lk.stores.get(row.store)
        return self.lk.keys.get((store.pk, row.external_id)) if store is not None else None

    def _exists(self, row: KeyRow) -> bool:
        return self._existing(row) is not None

    def _is_unassigned(self, row: KeyRow) -> bool:
        key = self._existing(row)
        return key is not None and key.purpose_id is None

    def _unknown(self, column: str, name: str) -> None:
        self.unknowns.setdefault(column, set()).add(name[:100])

    def _add_tagged_bindings(
        self, plan: RowPlan, services: list[Service], purpose: Purpose | None, existing: Key | None, warn
    ) -> None:
        """A service named by a tag uses the key for its purpose: a binding is added when the key has none to
        that service. Existing bindings are never removed by a tag (they may have been recorded by hand)."""
        bound = self.lk.bound_services.get(existing.pk, set()) if existing is not None else set()
        for service in services:
            if service.pk in bound:
                continue
            if purpose is None:
                warn(
                    "services",
                    WarningKind.UNASSIGNED,
                    f"the key is tagged for the service '{service.slug}', but has no purpose yet: the binding is "
                    "added by the first import after GRC maps the key.",
                )
                continue
            plan.added_bindings.append((service, None, purpose, "", []))
            plan.changes.append(FieldChange("services", "", f"+ {service.slug}"))

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

    def _check_purpose(
        self, row: KeyRow, plan: RowPlan, existing: Key | None, purpose: Purpose | None, error, warn
    ) -> None:
        # The rules of services.key_validate_purpose, decided here without a query per row; key_save applies
        # them again when a key is edited. For platform exports a declared purpose that does not fit the key
        # is a conflict (imported, shown, recorded), not an error: the platform's facts are what they are.
        if purpose is None:
            if plan.values.get("purpose_justification") or plan.values.get("purpose_approver"):
                error(
                    "purpose",
                    "the row has a purpose justification or approver but no purpose; give the purpose too.",
                )
            return
        kind = plan.values.get("kind", existing.kind if existing else str(KeyKind.SYMMETRIC_KEY))
        newly_mapped = existing is None or existing.purpose_id != purpose.pk
        if "purpose" in row.fields and newly_mapped and not purpose.is_active:
            error(
                "purpose",
                f"{describe_value('purpose', row.purpose)}; the purpose '{purpose.name}' is retired. "
                f"Choose an active purpose: {choices_text(self.lk.active_purposes)}.",
            )
        if purpose.allowed_kinds and kind not in purpose.allowed_kinds:
            message = (
                f"column 'kind' is '{kind}'; the purpose '{purpose.slug}' is for keys of kind "
                f"{', '.join(purpose.allowed_kinds)}."
            )
            if self.reads_tags:
                warn("kind", WarningKind.CONFLICT, f"{message} Correct the tag or the purpose's allowed kinds.")
            else:
                column = "kind" if "kind" in row.fields else "purpose"
                error(column, f"{message} Choose a purpose that fits the key, or correct its kind.")
        usage = plan.values.get("platform_usage", existing.platform_usage if existing else "")
        conflict = usage_conflict(usage, purpose.function) if usage else None
        if conflict:
            warn(
                "purpose",
                WarningKind.CONFLICT,
                f"the purpose '{purpose.slug}' contradicts the key's platform usage: {conflict}. The key is "
                "imported with the conflict recorded (AG-1).",
            )

    def _check_fields(self, row: KeyRow, plan: RowPlan, existing: Key | None, error, flagged: set[str]) -> None:
        """Field validation (lengths, choices, validators) of the fields the row sets, field by field, without
        the queries of foreign-key and uniqueness checks (references were resolved above). ``key_save``
        validates the whole key again when a key is edited. A value already found valid for a field is not
        checked again (states, kinds, dates and sizes repeat across thousands of rows)."""
        # Text and labels were checked for key material above; here only their length, not a second scan.
        for name in _TEXT_COLUMNS:
            limit = _MAX_LENGTHS.get(name)
            value = plan.values.get(name)
            if isinstance(value, str) and name not in flagged and limit and len(value) > limit:
                error(name, f"column '{name}' has {len(value)} characters; at most {limit} fit.")
        for name in _SCALAR_FIELDS:
            if name not in plan.values or name in _SCANNED or name in flagged:
                continue
            value = plan.values[name]
            try:
                cache_key = (name, value)
                if cache_key in self.valid:
                    continue
            except TypeError:  # an unhashable value: checked every time
                cache_key = None
            try:
                _KEY_FIELDS[name].clean(value, None)
            except ValidationError as exc:
                error(name, f"column '{name}': {' '.join(exc.messages)}")
            else:
                if cache_key is not None:
                    self.valid.add(cache_key)

    def _bindings(
        self, row: KeyRow, key_purpose: Purpose | None, error
    ) -> list[tuple[Service, Tenant | None, Purpose, str, list[str]]]:
        lk = self.lk
        if key_purpose is None and any(not b.purpose for b in row.bindings or ()):
            error(
                "services",
                "the key has no purpose, so its bindings must each name one (service:purpose-slug); "
                "or give the key its purpose.",
            )
            return []
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
    def _binding_text(service: Service, tenant: Tenant | None, purpose: Purpose, key_purpose_id: int | None) -> str:
        return format_binding(
            service.slug, tenant.slug if tenant else "", purpose.slug if purpose.pk != key_purpose_id else ""
        )

    def _describe_new(self, row: KeyRow, plan: RowPlan) -> list[FieldChange]:
        changes = []
        for column in ALL_FIELDS:
            if column not in row.fields or column in ("store", "external_id"):
                continue
            if column == "exposed_to":
                new = format_names([p.name for p in plan.exposed_to or ()])
            elif column == "services":
                key_purpose_id = plan.values["purpose"].pk if plan.values["purpose"] else None
                new = ";".join(self._binding_text(s, t, p, key_purpose_id) for s, t, p, _, _ in plan.bindings or ())
            elif column in _FOREIGN_KEYS:
                new = _natural(plan.values.get(column), column)
            else:
                new = _display(plan.values.get(column))
            if new and not (column == "platform_managed" and new == "no"):
                changes.append(FieldChange(column, "", new))
        return changes

    def _diff(self, row: KeyRow, plan: RowPlan, key: Key, exposed: list[Party] | None) -> list[FieldChange]:
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


def _matches(scope_value: str, store_value: str) -> bool:
    """A store's account or region matches what the file says when it equals it or names it ("prod (1111...)")."""
    scope_value, store_value = scope_value.strip().lower(), store_value.strip().lower()
    return not scope_value or not store_value or scope_value == store_value or scope_value in store_value


def _resolve_store(importer: Importer, parsed: ParseResult, chosen: KeyStore | None) -> KeyStore | None:
    """The store a platform export belongs to: the one chosen (checked against what the file says), or the
    only store of the importer's kind whose account and region match the file. CSV and CBOM files name their
    stores per row; a chosen store is then the store of every row."""
    kind, scope = importer.store_kind, parsed.scope
    if kind is None:
        return chosen
    kind_label = StoreKind(kind).label
    if chosen is not None:
        if chosen.kind != kind:
            raise ImportFileError(
                f"The key store '{chosen.name}' is a {chosen.get_kind_display()} store, but this is a "
                f"{importer.label} export. Choose a {kind_label} store, or the format that matches the file."
            )
        if scope is not None and not (
            _matches(scope.account, chosen.account) and _matches(scope.region, chosen.region)
        ):
            raise ImportFileError(
                f"The file's keys are in {scope.describe()}, but the key store '{chosen.name}' is account "
                f"'{chosen.account or '-'}' region '{chosen.region or '-'}'. Choose the store the file was exported "
                "from, or correct the store's account and region."
            )
        return chosen
    candidates = [
        store
        for store in KeyStore.objects.filter(kind=kind).order_by("name")
        if scope is None or (_matches(scope.account, store.account) and _matches(scope.region, store.region))
    ]
    where = f" for {scope.describe()}" if scope is not None and (scope.account or scope.region) else ""
    if not candidates:
        raise ImportFileError(
            f"There is no {kind_label} key store{where}. Create it under Key stores (with the account and region "
            "the file shows), or choose the store when you upload."
        )
    if len(candidates) > 1:
        names = ", ".join(f"'{store.name}'" for store in candidates[:5])
        raise ImportFileError(
            f"Several {kind_label} key stores could hold this file{where}: {names}. Choose the store when you upload."
        )
    return candidates[0]


def _plan_missing(plan: ImportPlan, store: KeyStore, lookups: _Lookups) -> None:
    """A full import: the keys of the store that the file does not list (and that were seen until now)."""
    listed = {row.external_id for row in plan.rows}
    if lookups.whole_stores:
        keys = [k for (store_id, _), k in lookups.keys.items() if store_id == store.pk and k.not_seen_since is None]
    else:
        keys = Key.objects.filter(store=store, not_seen_since__isnull=True).only("pk", "name", "external_id")
    plan.missing = [key for key in keys if key.external_id not in listed]


def key_import_plan(
    *, data: bytes, file_name: str, format: str, store: KeyStore | None = None, full: bool = False
) -> ImportPlan:
    """Read ``data`` with the importer for ``format`` and plan every row against the current inventory.

    ``store``: the key store the file belongs to (required to be consistent with the file; platform exports
    find it from the file when it is not given). ``full``: the file lists every key of its store, so the
    store's other keys are to be marked "not seen since" (needs a single store).

    Reads only: a fixed number of queries whatever the number of rows. A problem with the file as a whole
    is reported in ``plan.file_error``; problems with rows in ``plan.errors`` (sorted by row)."""
    plan = ImportPlan(format=format, file_name=file_name, full=full)
    limit = settings.CEK_IMPORT_MAX_BYTES
    if len(data) > limit:
        plan.file_error = (
            f"The file is {len(data) / 1048576:.1f} MB; the limit is {limit / 1048576:.1f} MB "
            "(CEK_IMPORT_MAX_BYTES). Split it into several files."
        )
        return plan
    try:
        importer = get_importer(format)
        parsed = importer.parse(data, file_name=file_name)
        if not parsed.rows and not parsed.errors:
            raise ImportFileError(
                "The file lists no keys."
                if importer.store_kind or format != "csv"
                else "The file has a header but no rows."
            )
        plan.store = _resolve_store(importer, parsed, store)
    except RefusedFileError as exc:
        plan.file_error, plan.file_refusal = scrub(str(exc)), exc.refusal()
        return plan
    except ImportFileError as exc:
        plan.file_error = scrub(str(exc))  # a message may name a header cell: it is shown and stored
        return plan
    if plan.store is not None:
        for row in parsed.rows:
            if not row.store:
                row.store = plan.store.name
                row.fields = row.fields | {"store"}
    elif full:
        names = {row.store for row in parsed.rows if row.store}
        if len(names) != 1:
            plan.file_error = (
                f"A full import marks the keys of one store that the file does not list, but this file names "
                f'{len(names)} stores. Choose the store, or import without "full import".'
            )
            return plan
    planner = _RowPlanner(
        _Lookups(parsed.rows, reads_tags=importer.reads_tags),
        reads_tags=importer.reads_tags,
        store=store,
        material_checked=parsed.material_checked,
    )
    plan.rows = [planner.plan(row) for row in parsed.rows]
    by_row = {row.row: row for row in plan.rows}
    for warning in parsed.warnings:  # the importer's own: a reference that names nothing in the file
        if warning.row in by_row:
            by_row[warning.row].warnings.append(
                RowWarning(warning.row, warning.column, WarningKind.UNKNOWN, warning.message)
            )
    if plan.store is None and full:
        plan.store = planner.lk.stores.get(parsed.rows[0].store)
    unreadable = {error.row for error in parsed.errors}
    for row in plan.rows:
        if row.row in unreadable:
            row.action, row.changes = Action.ERROR, []
    plan.errors = sorted(
        [*parsed.errors, *(error for row in plan.rows for error in row.errors)], key=lambda e: (e.row or 0)
    )
    plan.unknowns = {column: sorted(names) for column, names in sorted(planner.unknowns.items())}
    if full and plan.store is not None and not plan.errors:
        _plan_missing(plan, plan.store, planner.lk)
    return plan
