"""Platform exports (KMS, Vault): the purpose, owner, tenant and services a key's tags name, read with its
store's tag keys and set on the row as if the file had those columns; services become added bindings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inventory.importers.base import KeyRow, choices_text
from inventory.importing.lookups import StoredKey, _Lookups, tag_slug
from inventory.importing.plan import FieldChange, RowPlan, WarningKind
from inventory.importing.references import existing_key
from inventory.models import KeyStore, Purpose, Service
from inventory.purposetags import PurposeTags

_NEW = object()  # the purpose recorded of a key that does not exist yet
_REMEMBERED = 10_000  # tag readings remembered per import


@dataclass(slots=True)
class DerivedFromTags:
    services: list[Service]


class TagReader:
    """Reads each row's tags for the row planner; ``unknowns`` collects the names a tag gave that match nothing
    (by column), for the plan."""

    def __init__(self, lookups: _Lookups) -> None:
        self.lk = lookups
        self.unknowns: dict[str, set[str]] = {}
        # The one reading of a purpose tag (short name or name), the one the AG-3/AG-7 checks use afterwards.
        self.purpose_tags = PurposeTags(lookups.purposes.values())
        # What each tag value reads as, worked out once per import: (what it sets or None, its warning or None).
        # An export repeats a few dozen owners, services and purposes over its keys, and what a name matches
        # does not change during an import (a name is looked up once: see _Lookups).
        self._read: dict[tuple, tuple[Any, tuple[str, WarningKind, str] | None]] = {}

    def _reading(self, situation: tuple, read: Callable[[], tuple[Any, tuple[str, WarningKind, str] | None]], warn):
        found = self._read.get(situation)
        if found is None:
            if len(self._read) >= _REMEMBERED:
                self._read.clear()
            found = self._read[situation] = read()
        if found[1] is not None:
            warn(*found[1])
        return found[0]

    def derive(self, row: KeyRow, warn) -> DerivedFromTags | None:
        """Read the row's tags with its store's tag keys and set the fields they name on the row, as if the
        file had those columns. A tag naming something unknown is a warning, and the field is left alone.

        The declared purpose is set on a new key and on a key still unassigned; a key that already has a
        purpose keeps it (GRC's mapping, with its justification and approver, is not overwritten by a tag):
        a tag that says otherwise is a conflict."""
        tags = self.lk.tags.get(row.row)
        if tags is None:
            return None  # unknown store: the row has an error already
        store = self.lk.stores[row.store]
        existing = existing_key(self.lk, row)
        fields = set(row.fields)
        if tags.purpose:
            recorded = _NEW if existing is None else existing.purpose_id
            slug = self._reading(
                ("purpose", store.pk, tags.purpose, recorded),
                lambda: self._read_purpose(store, tags.purpose, existing),
                warn,
            )
            if slug is not None:
                row.purpose = slug
                fields.add("purpose")
        if tags.owner:
            username = self._reading(("owner", store.pk, tags.owner), lambda: self._read_owner(store, tags.owner), warn)
            if username is not None:
                row.owner = username
                fields.add("owner")
        if tags.tenant:
            slug = self._reading(("tenant", store.pk, tags.tenant), lambda: self._read_tenant(store, tags.tenant), warn)
            if slug is not None:
                row.tenant = slug
                fields.add("tenant")
        services = []
        for name in tags.services:
            service = self._reading(
                ("service", store.pk, name), lambda name=name: self._read_service(store, name), warn
            )
            if service is not None:
                services.append(service)
        row.fields = frozenset(fields)
        return DerivedFromTags(services=services)

    def _read_purpose(self, store: KeyStore, value: str, existing: StoredKey | None):
        purpose = self.purpose_tags.resolve(value)
        tag = f"the '{store.purpose_tag_key}' tag"
        if purpose is None:
            self._unknown("purpose", value)
            return None, (
                "purpose",
                WarningKind.UNKNOWN,
                f"{tag} is '{value[:60]}', which is not a purpose in the catalog; "
                f"expected a purpose's short name or name, one of: {choices_text(self.lk.active_purposes)}.",
            )
        if existing is not None and existing.purpose_id not in (None, purpose.pk):
            return None, (
                "purpose",
                WarningKind.CONFLICT,
                f"{tag} says '{purpose.slug}' but the key's recorded purpose is '{existing.purpose.slug}'; the "
                "recorded purpose is kept. Correct the tag on the platform, or map the key again (AG-7).",
            )
        if not purpose.is_active and (existing is None or existing.purpose_id != purpose.pk):
            return None, (
                "purpose",
                WarningKind.CONFLICT,
                f"{tag} names the retired purpose '{purpose.slug}'; the key is left without it for GRC to map.",
            )
        return purpose.slug, None

    def _read_owner(self, store: KeyStore, value: str):
        lk = self.lk
        user = lk.users.get(value) or lk.users_by_email.get(value.lower())
        if user is None:
            self._unknown("owner", value)
            return None, (
                "owner",
                WarningKind.UNKNOWN,
                f"the '{store.owner_tag_key}' tag names '{value[:60]}', who is not a user here (by "
                "username or e-mail address); the owner is left as it is. Ask an administrator to add the account.",
            )
        lk.users[user.username] = user  # found by e-mail address: resolved by username below
        return user.username, None

    def _read_tenant(self, store: KeyStore, value: str):
        tenant = self.lk.tenants.get(tag_slug(value))
        if tenant is None:
            self._unknown("tenant", value)
            return None, (
                "tenant",
                WarningKind.UNKNOWN,
                f"the '{store.tenant_tag_key}' tag names '{value[:60]}', which is not a tenant here; "
                "the tenant is left as it is. Create it under Tenants and import again.",
            )
        return tenant.slug, None

    def _read_service(self, store: KeyStore, name: str):
        service = self.lk.services.get(tag_slug(name))
        if service is None:
            self._unknown("service", name)
            return None, (
                "services",
                WarningKind.UNKNOWN,
                f"the '{store.service_tag_key}' tag names '{name[:60]}', which is not a service here; no "
                "binding is added for it. Create it under Services and import again.",
            )
        return service, None

    def _unknown(self, column: str, name: str) -> None:
        self.unknowns.setdefault(column, set()).add(name[:100])

    def add_bindings(
        self, plan: RowPlan, services: list[Service], purpose: Purpose | None, existing: StoredKey | None, warn
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
