"""The inventory side of the gate: existing keys matched by ARN, key id, alias or name, and the stores' tag keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from inventory.models import KeyStore
from inventory.selectors import keys_by_reference

_PROVIDERS = {"aws": ("aws-kms",), "gcp": ("gcp-kms",), "azure": ("azure-kv",), "vault": ("vault-transit",)}


@dataclass(frozen=True)
class KnownKey:
    external_id: str
    name: str
    purpose: str  # the recorded purpose's slug, "" when unassigned
    function: str  # the recorded purpose's cryptographic function
    purpose_tag_key: str
    purpose_name: str = ""  # the recorded purpose's name: a tag may give it instead of the slug


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
    matches = keys_by_reference(references, joins=("purpose", "store"))
    found: dict[str, KnownKey] = {}
    for ref, keys in matches.by_id.items():
        found[ref] = _known(keys[-1])
    for name, keys in matches.by_name.items():
        if len(keys) == 1:
            found.setdefault(name, _known(keys[0]))
    return found


def _known(key) -> KnownKey:
    return KnownKey(
        key.external_id,
        key.name,
        key.purpose.slug if key.purpose else "",
        key.purpose.function if key.purpose else "",
        key.store.purpose_tag_key,
        key.purpose.name if key.purpose else "",
    )
