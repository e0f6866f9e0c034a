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

The keys are read from the database in chunks, each with its parties and bindings prefetched, and written
component by component (see :func:`export_keys`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
    return _datetime(day).isoformat() if day is not None else None


def key_tree(key: Key, algorithm_refs: dict[str, str]) -> dict[str, Any]:
    """:func:`key_component` as the library's JSON (a dict, members in the library's order)."""
    material: dict[str, Any] = {}
    for name, value in (
        ("activationDate", _date_text(key.activated_on)),
        ("algorithmRef", algorithm_refs[key.algorithm] if key.algorithm else None),
        ("creationDate", _date_text(key.created_on)),
        ("expirationDate", _date_text(key.expires_on)),
        ("id", key.external_id),
        ("securedBy", {"mechanism": secured_by(key).mechanism}),
        ("size", key.size_bits),
        ("state", STATES[key.state].value),
        ("type", KIND_TYPES.get(key.kind, RelatedCryptoMaterialType.UNKNOWN).value),
        ("updateDate", _date_text(key.last_rotated_on)),
        # ``value`` is deliberately never written: the inventory holds no key material.
    ):
        if value is not None:
            material[name] = value
    tree: dict[str, Any] = {
        "bom-ref": key_bom_ref(key),
        "cryptoProperties": {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": material},
    }
    if key.description:
        tree["description"] = key.description
    tree["name"] = key.name
    properties = sorted({(p.name, p.value) for p in key_properties(key)})
    if properties:
        tree["properties"] = [{"name": name, "value": value} for name, value in properties]
    tree["type"] = ComponentType.CRYPTOGRAPHIC_ASSET.value
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


def _component_trees(queryset: QuerySet[Key]) -> Iterator[dict[str, Any]]:
    """What :func:`_components` yields, as JSON-ready dicts (same order)."""
    algorithm_refs: dict[str, str] = {}
    for key in _keys(queryset):
        if key.algorithm and key.algorithm not in algorithm_refs:
            algorithm = algorithm_tree(key.algorithm)
            algorithm_refs[key.algorithm] = algorithm["bom-ref"]
            yield algorithm
        yield key_tree(key, algorithm_refs)


def build_bom(queryset: QuerySet[Key]) -> Bom:
    """The CBOM of ``queryset`` as a library object (small inventories, tests). ``export_keys`` streams."""
    bom, inventory = _skeleton_bom()
    for component in _components(queryset):
        bom.components.add(component)
    # The inventory "contains" every asset: a complete dependency graph for the root component.
    bom.register_dependency(inventory, bom.components)
    return bom


def export_keys(queryset: QuerySet[Key], *, spec: str = DEFAULT_SPEC) -> Iterator[str]:
    """The CBOM as JSON text (CycloneDX ``spec``: 1.6 or 1.7), streamed a chunk of components at a time.

    The library's whole-document serialiser checks the dependency graph once per component, which grows with
    the square of the inventory (20,000 keys: over 8 minutes), and its per-component serialiser is most of the
    time of a large export. Here the library writes the frame (metadata, tool, spec version); each component is
    built as the library would write it (:func:`key_tree`, :func:`algorithm_tree`), checked by the export guard
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
    refs: list[str] = []
    parts: list[str] = []
    for number, tree in enumerate(_component_trees(queryset)):
        refs.append(tree["bom-ref"])
        if spec == "1.7":
            as_1_7(tree)
        # The export guard reads each component as it is written (the dict json.dumps writes as it is).
        check_tree(tree, export="The CBOM export", where=f"component {number + 1}")
        parts.append(("," if number else "") + "\n" + json.dumps(tree))
        if len(parts) >= CHUNK_SIZE:
            yield "".join(parts)
            parts = []
    if parts:
        yield "".join(parts)
    yield "\n], " + json.dumps({"dependencies": [{"ref": inventory.bom_ref.value, "dependsOn": refs}]})[1:] + "\n"
