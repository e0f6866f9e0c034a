"""Reference resolution: the store, purpose, users, tenant, custodian, parties and bindings a row names, looked
up in the import's lookups (no query per row). A name that matches nothing is an error: an import never creates
references."""

from __future__ import annotations

import difflib
from typing import Any

from inventory.importers.base import KeyRow, choices_text, describe_value
from inventory.importing.lookups import _USER_COLUMNS, StoredKey, _Lookups
from inventory.models import Purpose, Service, Tenant


def existing_key(lookups: _Lookups, row: KeyRow) -> StoredKey | None:
    """The key the row's store and external id name, if it exists (and its store does)."""
    store = lookups.stores.get(row.store)
    return lookups.keys.get((store.pk, row.external_id)) if store is not None else None


class ReferenceResolver:
    def __init__(self, lookups: _Lookups) -> None:
        self.lk = lookups

    def resolve(self, row: KeyRow, values: dict[str, Any], error, flagged: set[str]) -> None:
        """Set in ``values`` the object each reference of the row names (``error`` for one that names
        nothing); a column in ``flagged`` has an error already and is left alone."""
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

    def bindings(
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
