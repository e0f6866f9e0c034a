"""The key inventory as a CycloneDX CBOM (cryptography bill of materials), spec 1.6 (the default: what the common
scanners and readers take) or 1.7, built with cyclonedx-python-lib.

Each key is a ``cryptographic-asset`` component of asset type ``related-crypto-material`` (type, id, state,
dates, size, ``securedBy`` = its key store's protection, ``algorithmRef`` = an algorithm component) with its
name and description. Each distinct algorithm string is one ``algorithm`` component. What CycloneDX has no
field for (kind, store, purpose and its justification, approver and review, owners, tenant, custodian, SSRM
layer, exposure, bindings, periods, platform usage and facts, labels) travels as ``cek:``-namespaced
component properties, written by ``inventory.importers.cbom.properties`` and read back by the CBOM importer,
so importing an export changes nothing. The ``cek:fields`` metadata property tells the importer which fields
each key states in full (a missing property there means empty). Dates are midnight UTC of the day.

The key material's ``value`` field is never set: the inventory holds no key material, and the export must
not invent any. bom-refs are derived from data that does not change between exports (store id + external
id, algorithm string), so two exports of the same inventory can be diffed.

CycloneDX 1.7 deprecates ``algorithmRef``: a 1.7 export names the algorithm as a related cryptographic asset
(``relatedCryptographicAssets: [{"type": "algorithm", "ref": ...}]``), and its algorithm components state the
1.7 ``algorithmFamily`` (from the schema's registry of families, when the algorithm string starts with one),
``ellipticCurve`` (when the string names a curve the registry knows) and the 1.7 primitive ``key-wrap``. The
library (11.12) writes the 1.7 frame and the fields both versions share; :func:`.cyclonedx17.as_1_7` adds what
it lacks.

The keys are read from the database in chunks, as rows, each chunk with its parties and bindings in one query
each, and written a chunk of components at a time (see :func:`export_keys`). The library objects
(:func:`key_component`, :func:`build_bom`) stay for small inventories and tests; the streamed export writes the
same JSON without them (:func:`row_tree`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.crypto import (
    AlgorithmProperties,
    CryptoAssetType,
    CryptoPrimitive,
    CryptoProperties,
    RelatedCryptoMaterialProperties,
    RelatedCryptoMaterialSecuredBy,
    RelatedCryptoMaterialState,
    RelatedCryptoMaterialType,
)
from cyclonedx.output.json import Json, JsonV1Dot6, JsonV1Dot7
from cyclonedx.schema.schema import BaseSchemaVersion, SchemaVersion1Dot6, SchemaVersion1Dot7
from django.conf import settings
from django.db.models import Prefetch, QuerySet

import cek
from cek.exportguard import check_tree
from inventory import keyfields
from inventory.exporters.cyclonedx17 import as_1_7
from inventory.exporters.keyvalues import field_value
from inventory.importers.base import BindingRow
from inventory.importers.cbom import KIND_MATERIAL_TYPES
from inventory.importers.cbom.properties import FIELDS_PROPERTY, NAMESPACE, STATED_FIELDS, property_pairs
from inventory.keyfields import Kind
from inventory.models import Binding, Key, KeyState, Party, StoreKind

SPEC_VERSIONS = ("1.6", "1.7")
DEFAULT_SPEC = "1.6"
MEDIA_TYPE = "application/vnd.cyclonedx+json"
CHUNK_SIZE = 2000  # keys per database fetch
# Per spec version: the library's JSON writer of the whole document, and its view of one component.
_WRITERS: dict[str, tuple[type[Json], type[BaseSchemaVersion]]] = {
    "1.6": (JsonV1Dot6, SchemaVersion1Dot6),
    "1.7": (JsonV1Dot7, SchemaVersion1Dot7),
}
TOOL_NAME = "cek-inventory"
_PROPERTY_FIELDS = keyfields.cbom_fields()  # what CycloneDX has no field for
# The joins of one key component: every object its properties name.
KEY_JOINS = tuple(field.name for field in _PROPERTY_FIELDS if field.kind is Kind.REFERENCE)

KIND_TYPES: dict[str, RelatedCryptoMaterialType] = {
    kind: RelatedCryptoMaterialType(material_type) for kind, material_type in KIND_MATERIAL_TYPES.items()
}
STATES: dict[str, RelatedCryptoMaterialState] = {
    state.value: RelatedCryptoMaterialState(state.value) for state in KeyState
}

# The primitive an algorithm string names, first match wins. Anything unrecognised is "unknown" rather than
# a guess (RSA, for instance, may be encryption or signature: the string alone does not say).
PRIMITIVES: tuple[tuple[re.Pattern[str], CryptoPrimitive], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), primitive)
    for pattern, primitive in (
        (r"HMAC", CryptoPrimitive.MAC),
        (r"GCM|CCM|SIV|POLY1305|SYMMETRIC_DEFAULT", CryptoPrimitive.AE),
        (r"\bAES|\bCAMELLIA|\bSM4", CryptoPrimitive.BLOCK_CIPHER),
        (r"ECDSA|ED25519|ED448|EDDSA|ML[-_]?DSA|SLH[-_]?DSA", CryptoPrimitive.SIGNATURE),
        (r"ECDH|X25519|X448", CryptoPrimitive.KEY_AGREE),
        (r"ML[-_]?KEM", CryptoPrimitive.KEM),
        (r"HKDF|PBKDF2|SCRYPT|ARGON2", CryptoPrimitive.KDF),
        (r"^SHA|SHA3|SHAKE", CryptoPrimitive.HASH),
    )
)


def key_bom_ref(key: Key) -> str:
    """Stable across exports: the store's id and the key's id in that store (unique together). Percent-encoding
    keeps it injective, so two external ids never share a bom-ref."""
    return f"key:{key.store_id}:{quote(key.external_id, safe=':/@-._~')}"


def algorithm_bom_ref(algorithm: str) -> str:
    return f"algorithm:{quote(algorithm, safe='-._~')}"


def algorithm_primitive(algorithm: str) -> CryptoPrimitive:
    for pattern, primitive in PRIMITIVES:
        if pattern.search(algorithm):
            return primitive
    return CryptoPrimitive.UNKNOWN


def _datetime(day: dt.date | None) -> dt.datetime | None:
    # The inventory keeps dates; CycloneDX wants date-times: midnight UTC of that day.
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day is not None else None


def key_properties(key: Key) -> list[Property]:
    """What CycloneDX has no field for, as the importer reads it (needs ``exposed_to`` and ``bindings``
    prefetched). A key whose purpose is unassigned has no cek:purpose."""
    values = {field.name: field_value(key, field) for field in _PROPERTY_FIELDS}
    properties = [Property(name=name, value=value) for name, value in property_pairs(values)]
    if key.purpose is not None:
        # For readers of the file; derived from the purpose, so the importer skips it.
        properties.append(Property(name=f"{NAMESPACE}:function", value=key.purpose.function))
    return properties


def secured_by(key: Key) -> RelatedCryptoMaterialSecuredBy:
    """The mechanism that protects the key: its store's platform, or the store's name for an "other" store."""
    store = key.store
    mechanism = store.name if store.kind == StoreKind.OTHER else store.get_kind_display()
    return RelatedCryptoMaterialSecuredBy(mechanism=mechanism)


def key_component(key: Key, algorithm_refs: dict[str, BomRef]) -> Component:
    material = RelatedCryptoMaterialProperties(
        type=KIND_TYPES.get(key.kind, RelatedCryptoMaterialType.UNKNOWN),
        id=key.external_id,
        state=STATES[key.state],
        algorithm_ref=algorithm_refs[key.algorithm] if key.algorithm else None,
        creation_date=_datetime(key.created_on),
        activation_date=_datetime(key.activated_on),
        update_date=_datetime(key.last_rotated_on),
        expiration_date=_datetime(key.expires_on),
        size=key.size_bits,
        secured_by=secured_by(key),
        # ``value`` is deliberately never passed: the inventory holds no key material.
    )
    return Component(
        type=ComponentType.CRYPTOGRAPHIC_ASSET,
        name=key.name,
        bom_ref=key_bom_ref(key),
        description=key.description or None,
        crypto_properties=CryptoProperties(
            asset_type=CryptoAssetType.RELATED_CRYPTO_MATERIAL, related_crypto_material_properties=material
        ),
        properties=key_properties(key),
    )


def algorithm_component(algorithm: str) -> Component:
    return Component(
        type=ComponentType.CRYPTOGRAPHIC_ASSET,
        name=algorithm,
        bom_ref=algorithm_bom_ref(algorithm),
        crypto_properties=CryptoProperties(
            asset_type=CryptoAssetType.ALGORITHM,
            algorithm_properties=AlgorithmProperties(primitive=algorithm_primitive(algorithm)),
        ),
    )


def _skeleton_bom() -> tuple[Bom, Component]:
    """The document's frame: metadata (organisation, tool, the inventory as the described component)."""
    organisation = settings.CEK_ORGANISATION
    inventory = Component(
        type=ComponentType.APPLICATION,
        name=f"{organisation} key inventory",
        bom_ref="cek-inventory",
        supplier=OrganizationalEntity(name=organisation),
    )
    bom = Bom()
    bom.metadata.component = inventory
    bom.metadata.properties.add(Property(name=FIELDS_PROPERTY, value=",".join(STATED_FIELDS)))
    bom.metadata.supplier = OrganizationalEntity(name=organisation)
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name=TOOL_NAME, version=cek.__version__, bom_ref="cek-tool")
    )
    return bom, inventory


def _keys(queryset: QuerySet[Key]) -> Iterator[Key]:
    """The keys of ``queryset`` in its order, read ``CHUNK_SIZE`` at a time with every join a component needs
    (related rows in the same query; parties and bindings prefetched once per chunk)."""
    keys = queryset.select_related(*KEY_JOINS).prefetch_related(
        Prefetch("exposed_to", queryset=Party.objects.only("pk", "name")),
        Prefetch("bindings", queryset=Binding.objects.select_related("service", "tenant", "purpose").order_by()),
    )
    return keys.iterator(chunk_size=CHUNK_SIZE)


def _components(queryset: QuerySet[Key]) -> Iterator[Component]:
    """Algorithm components (each once, before the first key that refers to it) and key components."""
    algorithm_refs: dict[str, BomRef] = {}
    for key in _keys(queryset):
        if key.algorithm and key.algorithm not in algorithm_refs:
            algorithm = algorithm_component(key.algorithm)
            algorithm_refs[key.algorithm] = algorithm.bom_ref
            yield algorithm
        yield key_component(key, algorithm_refs)


# --- The streamed export's components, written as JSON-ready dicts -------------------------------------------
# The library's per-component serialiser (``Component.as_json``) walks every attribute of the model by
# introspection: about 0.6 ms a key, most of a 100,000-key export. The export builds the same JSON directly:
# members in the order the library writes them (alphabetical by attribute), properties sorted by (name, value)
# without duplicates (the library keeps them in a sorted set), absent values left out. The test
# ``test_the_streamed_components_are_the_library_s_own_json`` compares both, text for text, on every kind of key.


def _date_text(day: dt.date | None) -> str | None:
    if day is None:
        return None
    if type(day) is dt.date:
        return f"{day.isoformat()}T00:00:00+00:00"  # _datetime(day).isoformat(), without building the datetime
    return _datetime(day).isoformat()


# The streamed export reads plain rows (``values()``), not model instances: a key and its seven joined objects
# were most of the database side's time. The columns: the key's own fields, the natural key of every reference
# (as ``field_value`` reads it), and what the component itself needs of its store and purpose.
_REFERENCES = {field.name: f"{field.name}__{field.ref}" for field in _PROPERTY_FIELDS if field.kind is Kind.REFERENCE}
_PLAIN_FIELDS = tuple(
    field.name for field in _PROPERTY_FIELDS if field.kind not in (Kind.REFERENCE, Kind.PARTIES, Kind.BINDINGS)
)
_ROW_COLUMNS = tuple(
    dict.fromkeys(
        (
            "pk",
            "name",
            "description",
            "external_id",
            "store_id",
            "purpose_id",
            "algorithm",
            "kind",
            "state",
            "size_bits",
            "created_on",
            "activated_on",
            "last_rotated_on",
            "expires_on",
            "store__kind",
            "purpose__function",
            *_PLAIN_FIELDS,
            *_REFERENCES.values(),
        )
    )
)
_STORE_KINDS = dict(StoreKind.choices)


def _row_bindings(row: dict[str, Any], bindings: list[tuple]) -> list[BindingRow]:
    """:func:`inventory.exporters.keyvalues.key_bindings` of a row: (pk, service, tenant, purpose id, purpose,
    principal, operations) tuples."""
    found: dict[tuple[str, str, str], BindingRow] = {}
    for _pk, service, tenant, purpose_id, purpose, principal, operations in sorted(bindings):
        identity = (service, tenant or "", purpose if purpose_id != row["purpose_id"] else "")
        found.setdefault(
            identity, BindingRow(*identity, principal=principal or None, operations=list(operations) or None)
        )
    return [found[identity] for identity in sorted(found)]


def _row_property_pairs(row: dict[str, Any], exposed_to: list[str], bindings: list[tuple]) -> list[tuple[str, str]]:
    """:func:`key_properties` of a row, as (name, value) pairs sorted and without duplicates, as the library
    writes a component's properties."""
    values: dict[str, Any] = {name: row[name] for name in _PLAIN_FIELDS}
    for name, column in _REFERENCES.items():
        values[name] = row[column] or ""
    for name in ("labels", "platform_details"):
        if name in values:
            values[name] = values[name] or {}
    values["exposed_to"] = exposed_to
    values["services"] = _row_bindings(row, bindings)
    pairs = set(property_pairs(values))
    if row["purpose_id"] is not None:
        pairs.add((f"{NAMESPACE}:function", row["purpose__function"]))
    return sorted(pairs)


def row_tree(row: dict[str, Any], algorithm_refs: dict[str, str], exposed_to: list[str], bindings: list[tuple]):
    """:func:`key_component` of a row as the library's JSON (a dict, members in the library's order)."""
    material: dict[str, Any] = {}
    algorithm = row["algorithm"]
    store_kind = row["store__kind"]
    mechanism = row["store__name"] if store_kind == StoreKind.OTHER else _STORE_KINDS.get(store_kind, store_kind)
    for name, value in (
        ("activationDate", _date_text(row["activated_on"])),
        ("algorithmRef", algorithm_refs[algorithm] if algorithm else None),
        ("creationDate", _date_text(row["created_on"])),
        ("expirationDate", _date_text(row["expires_on"])),
        ("id", row["external_id"]),
        ("securedBy", {"mechanism": mechanism}),
        ("size", row["size_bits"]),
        ("state", STATES[row["state"]].value),
        ("type", KIND_TYPES.get(row["kind"], RelatedCryptoMaterialType.UNKNOWN).value),
        ("updateDate", _date_text(row["last_rotated_on"])),
        # ``value`` is deliberately never written: the inventory holds no key material.
    ):
        if value is not None:
            material[name] = value
    external_id = quote(row["external_id"], safe=":/@-._~")
    tree: dict[str, Any] = {
        "bom-ref": f"key:{row['store_id']}:{external_id}",
        "cryptoProperties": {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": material},
    }
    if row["description"]:
        tree["description"] = row["description"]
    tree["name"] = row["name"]
    properties = _row_property_pairs(row, exposed_to, bindings)
    if properties:
        tree["properties"] = [{"name": name, "value": value} for name, value in properties]
    tree["type"] = "cryptographic-asset"
    return tree


def algorithm_tree(algorithm: str) -> dict[str, Any]:
    """:func:`algorithm_component` as the library's JSON."""
    return {
        "bom-ref": algorithm_bom_ref(algorithm),
        "cryptoProperties": {
            "algorithmProperties": {"primitive": algorithm_primitive(algorithm).value},
            "assetType": "algorithm",
        },
        "name": algorithm,
        "type": ComponentType.CRYPTOGRAPHIC_ASSET.value,
    }


def _row_chunks(queryset: QuerySet[Key]) -> Iterator[list[dict[str, Any]]]:
    rows = queryset.values(*_ROW_COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
        yield chunk


def _component_trees(queryset: QuerySet[Key]) -> Iterator[dict[str, Any]]:
    """What :func:`_components` yields, as JSON-ready dicts (same order): keys read ``CHUNK_SIZE`` at a time as
    rows, with the parties and bindings of the chunk in one query each."""
    algorithm_refs: dict[str, str] = {}
    for chunk in _row_chunks(queryset):
        ids = [row["pk"] for row in chunk]
        exposed: dict[int, list[str]] = defaultdict(list)
        through = Key.exposed_to.through.objects.filter(key_id__in=ids)
        for key_id, party in through.values_list("key_id", "party__name").order_by():
            exposed[key_id].append(party)
        bindings: dict[int, list[tuple]] = defaultdict(list)
        binding_rows = Binding.objects.filter(key_id__in=ids).order_by()
        for key_id, *binding in binding_rows.values_list(
            "key_id", "pk", "service__slug", "tenant__slug", "purpose_id", "purpose__slug", "principal", "operations"
        ):
            bindings[key_id].append(tuple(binding))
        for row in chunk:
            algorithm = row["algorithm"]
            if algorithm and algorithm not in algorithm_refs:
                tree = algorithm_tree(algorithm)
                algorithm_refs[algorithm] = tree["bom-ref"]
                yield tree
            yield row_tree(row, algorithm_refs, exposed.get(row["pk"], []), bindings.get(row["pk"], []))


# json.dumps's own settings, without its check for circular references: a component is a fresh tree of dicts,
# lists and strings (the same text, a little faster on 100,000 components).
_COMPONENT_ENCODER = json.JSONEncoder(check_circular=False)


def export_keys(queryset: QuerySet[Key], *, spec: str = DEFAULT_SPEC) -> Iterator[str]:
    """The CBOM as JSON text (CycloneDX ``spec``: 1.6 or 1.7), streamed a chunk of components at a time.

    The library's whole-document serialiser checks the dependency graph once per component, which grows with
    the square of the inventory (20,000 keys: over 8 minutes), and its per-component serialiser is most of the
    time of a large export. Here the library writes the frame (metadata, tool, spec version); each component is
    built as the library would write it (:func:`row_tree`, :func:`algorithm_tree`), checked by the export guard
    as the dict that is then written, and this function joins them: bom-refs are unique by construction, and the
    only dependency is the inventory containing every asset. Memory holds one chunk of keys and the bom-refs."""
    if spec not in _WRITERS:
        raise ValueError(f"No CycloneDX {spec[:10]} export; spec versions: {', '.join(SPEC_VERSIONS)}.")
    writer, _view = _WRITERS[spec]
    bom, inventory = _skeleton_bom()
    frame = json.loads(writer(bom).output_as_string())
    frame.pop("components", None)
    frame.pop("dependencies", None)
    head = json.dumps(frame, indent=None)
    yield head[:-1] + ', "components": ['
    encode = _COMPONENT_ENCODER.encode
    refs: list[str] = []
    parts: list[str] = []
    for number, tree in enumerate(_component_trees(queryset)):
        refs.append(tree["bom-ref"])
        if spec == "1.7":
            as_1_7(tree)
        # The export guard reads each component as it is written (the dict json.dumps writes as it is).
        check_tree(tree, export="The CBOM export", where=f"component {number + 1}")
        parts.append(("," if number else "") + "\n" + encode(tree))
        if len(parts) >= CHUNK_SIZE:
            yield "".join(parts)
            parts = []
    if parts:
        yield "".join(parts)
    yield "\n], " + json.dumps({"dependencies": [{"ref": inventory.bom_ref.value, "dependsOn": refs}]})[1:] + "\n"
