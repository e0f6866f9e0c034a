"""The inventory side of the gate: existing keys matched by ARN, key id, alias or name, and the stores' tag keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from inventory.models import Key, KeyStore

_PROVIDERS = {"aws": ("aws-kms",), "gcp": ("gcp-kms",), "azure": ("azure-kv",), "vault": ("vault-transit",)}


@dataclass(frozen=True)
class KnownKey:
    external_id: str
    name: str
    purpose: str  # the recorded purpose's slug, "" when unassigned
    function: str  # the recorded purpose's cryptographic function
    purpose_tag_key: str


@dataclass
class TagKeys:
    purpose: set[str] = field(default_factory=lambda: {"purpose"})
    service: set[str] = field(default_factory=lambda: {"service"})
    tenant: set[str] = field(default_factory=lambda: {"tenant"})


def tag_keys() -> TagKeys:
    """The tag keys stores use for purpose, service and tenant (the defaults included), compared case-blind."""
    keys = TagKeys()
    for purpose, service, tenant in KeyStore.objects.values_list(
        "purpose_tag_key", "service_tag_key", "tenant_tag_key"
    ):
        keys.purpose.add(purpose)
        keys.service.add(service)
        keys.tenant.add(tenant)
    for group in (keys.purpose, keys.service, keys.tenant):
        group.update({item.lower() for item in list(group)})
    return keys


def find_keys(references: Iterable[str]) -> dict[str, KnownKey]:
    """Inventory keys by each reference that names one: its external id (ARN, resource name, key URL, Vault path),
    an AWS key id, an AWS alias (``alias/...``) or a name only one key has."""
    references = {ref for ref in references if ref}
    if not references:
        return {}
    aliases = {ref for ref in references if ref.startswith("alias/")}
    key_ids = {ref for ref in references if "/" not in ref and ":" not in ref}
    query = Q(external_id__in=references) | Q(name__in=references)
    for key_id in key_ids:
        query |= Q(store__kind="aws-kms", external_id__endswith=f":key/{key_id}")
    for alias in aliases:
        query |= Q(store__kind="aws-kms", platform_details__Aliases__icontains=alias)
    found: dict[str, KnownKey] = {}
    by_name: dict[str, list[KnownKey]] = {}
    for key in Key.objects.filter(query).select_related("purpose", "store"):
        known = KnownKey(
            key.external_id,
            key.name,
            key.purpose.slug if key.purpose else "",
            key.purpose.function if key.purpose else "",
            key.store.purpose_tag_key,
        )
        if key.external_id in references:
            found[key.external_id] = known
        if key.store.kind == "aws-kms":
            key_id = key.external_id.rpartition(":key/")[2]
            if key_id in key_ids:
                found[key_id] = known
            for alias in str((key.platform_details or {}).get("Aliases", "")).split(","):
                if alias in aliases:
                    found[alias] = known
        if key.name in references:
            by_name.setdefault(key.name, []).append(known)
    for name, keys in by_name.items():
        if len(keys) == 1:
            found.setdefault(name, keys[0])
    return found
