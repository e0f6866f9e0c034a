"""A key's fields as an import reads them back (``inventory.importers.base.KeyRow`` values): what the CSV and
CBOM exports write, each in its own format, so that importing an export changes nothing."""

from __future__ import annotations

from typing import Any

from inventory.importers.base import BindingRow
from inventory.keyfields import KeyField, Kind
from inventory.models import Key


def _natural(obj: object, attribute: str) -> str:
    return getattr(obj, attribute) if obj is not None else ""


def key_bindings(key: Key) -> list[BindingRow]:
    """The key's bindings as the importer reads them: one per (service, tenant, purpose), the purpose only when
    it is not the key's own, with the principal and operations of the oldest (needs ``bindings`` prefetched)."""
    bindings: dict[tuple[str, str, str], BindingRow] = {}
    for binding in sorted(key.bindings.all(), key=lambda b: b.pk):
        identity = (
            binding.service.slug,
            _natural(binding.tenant, "slug"),
            binding.purpose.slug if binding.purpose_id != key.purpose_id else "",
        )
        bindings.setdefault(
            identity,
            BindingRow(*identity, principal=binding.principal or None, operations=list(binding.operations) or None),
        )
    return [bindings[identity] for identity in sorted(bindings)]


def field_value(key: Key, field: KeyField) -> Any:
    """The value of ``field`` on ``key`` as an import row holds it: references by their natural key ("" for
    none), parties by name, mappings ({} for none), bindings as :class:`BindingRow` (needs the many-to-many
    fields and ``bindings`` prefetched)."""
    if field.kind is Kind.BINDINGS:
        return key_bindings(key)
    value = getattr(key, field.name)
    if field.kind is Kind.REFERENCE:
        return _natural(value, field.ref)
    if field.kind is Kind.PARTIES:
        return [getattr(item, field.ref) for item in value.all()]
    if field.kind is Kind.MAPPING:
        return value or {}
    return value
