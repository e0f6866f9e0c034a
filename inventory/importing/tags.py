"""Platform exports (KMS, Vault): the purpose, owner, tenant and services a key's tags name, read with its
store's tag keys and set on the row as if the file had those columns; services become added bindings."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.importers.base import KeyRow, choices_text
from inventory.importing.lookups import _Lookups, tag_slug
from inventory.importing.plan import FieldChange, RowPlan, WarningKind
from inventory.importing.references import existing_key
from inventory.models import Key, Purpose, Service
from inventory.purposetags import PurposeTags


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

    def derive(self, row: KeyRow, warn) -> DerivedFromTags | None:
        """Read the row's tags with its store's tag keys and set the fields they name on the row, as if the
        file had those columns. A tag naming something unknown is a warning, and the field is left alone.

        The declared purpose is set on a new key and on a key still unassigned; a key that already has a
        purpose keeps it (GRC's mapping, with its justification and approver, is not overwritten by a tag):
        a tag that says otherwise is a conflict."""
        tags = self.lk.tags.get(row.row)
        if tags is None:
            return None  # unknown store: the row has an error already
        lk, store = self.lk, self.lk.stores[row.store]
        existing = existing_key(lk, row)
        fields = set(row.fields)
        if tags.purpose:
            purpose = self.purpose_tags.resolve(tags.purpose)
            tag = f"the '{store.purpose_tag_key}' tag"
            if purpose is None:
                self._unknown("purpose", tags.purpose)
                warn(
                    "purpose",
                    WarningKind.UNKNOWN,
                    f"{tag} is '{tags.purpose[:60]}', which is not a purpose in the catalog; "
                    f"expected a purpose's short name or name, one of: {choices_text(lk.active_purposes)}.",
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
        return DerivedFromTags(services=services)

    def _unknown(self, column: str, name: str) -> None:
        self.unknowns.setdefault(column, set()).add(name[:100])

    def add_bindings(
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
