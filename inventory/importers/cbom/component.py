"""Mapping: one key component of a CBOM (its relatedCryptoMaterialProperties, the algorithm it refers to, its
cek: properties) to a :class:`KeyRow`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from inventory.importers.base import KeyRow, RowError, describe_value, empty_value, parse_timestamp, row_attribute
from inventory.importers.cbom.document import crypto_of
from inventory.importers.cbom.properties import NAMESPACE, property_name, read_properties
from inventory.importers.cbom.publickeys import PublicKey, UnreadableValue
from inventory.importers.cbom.vocabulary import (
    DATES,
    KEY_LENGTH_PRIMITIVES,
    KIND_MATERIAL_TYPES,
    MATERIAL,
    MATERIAL_KINDS,
    MATERIAL_TYPES,
    SYMMETRIC_PRIMITIVES,
)
from inventory.models import KeyKind, KeyState

_INTEGER = re.compile(r"\d{1,10}")


def algorithm_text(component: dict[str, Any]) -> str:
    """An algorithm component as the text of Key.algorithm: its name ("AES-256-GCM"), completed from its
    properties when the name is only a family ("AES" with parameter set 256 and mode gcm: "AES-256-GCM";
    "ECDSA" on the curve nist/P-256: "ECDSA P-256")."""
    properties = crypto_of(component).get("algorithmProperties")
    properties = properties if isinstance(properties, dict) else {}
    name = component.get("name")
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        family = properties.get("algorithmFamily")
        text = family if isinstance(family, str) else ""
    if any(char.isdigit() for char in text):
        return text
    curve = properties.get("ellipticCurve") or properties.get("curve")
    parameter = properties.get("parameterSetIdentifier")
    mode = properties.get("mode")
    if isinstance(curve, str) and curve:
        text += f" {curve.rsplit('/', 1)[-1]}"
    elif isinstance(parameter, str) and parameter:
        text += f"-{parameter}"
    if isinstance(mode, str) and mode not in ("", "other", "unknown") and mode.lower() not in text.lower():
        text += f"-{mode.upper()}"
    return text


def _has_cek_properties(component: dict[str, Any]) -> bool:
    properties = component.get("properties")
    return isinstance(properties, list) and any(
        isinstance(prop, dict) and str(prop.get("name", "")).startswith(f"{NAMESPACE}:") for prop in properties
    )


def _kind_fits(kind: str, material_type: str) -> bool:
    return (
        material_type in ("key", "unknown")
        or MATERIAL_KINDS.get(material_type) == kind
        or KIND_MATERIAL_TYPES.get(kind) == material_type
    )


def _key_length(algorithm: dict[str, Any] | None) -> int | None:
    """The key length an algorithm's parameter set identifier gives ("128" of AES-128), when it is one."""
    properties = crypto_of(algorithm).get("algorithmProperties") if algorithm else None
    if not isinstance(properties, dict) or properties.get("primitive") not in KEY_LENGTH_PRIMITIVES:
        return None
    parameter = properties.get("parameterSetIdentifier")
    return int(parameter) if isinstance(parameter, str) and _INTEGER.fullmatch(parameter) else None


class ComponentReader:
    """One key component to a KeyRow."""

    def __init__(
        self,
        number: int,
        component: dict[str, Any],
        by_ref: dict[str, dict[str, Any]],
        linked: dict[str, list[str]],
    ) -> None:
        self.number, self.component, self.by_ref, self.linked = number, component, by_ref, linked
        self.values: dict[str, Any] = {}
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.unreadable: set[str] = set()  # fields a warning leaves as they are

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def warn(self, column: str, message: str) -> None:
        self.warnings.append(RowError(self.number, column, message))

    def read(self, material: dict[str, Any], stated: frozenset[str]) -> KeyRow:
        component, values = self.component, self.values
        self._identity(material)
        algorithm = self._algorithm(material)
        self._material(material)
        public = self._public_key(material, algorithm)
        if "name" not in values and public is not None:
            # Scanners list the public key of each certificate they find, some without a name (cbomkit-theia
            # 2024): the key is named after its type and fingerprint, which identify it.
            self.errors = [error for error in self.errors if error.column != "name"]
            values["name"] = f"{public.type} public key {public.sha256.removeprefix('sha256:')[:16]}"
            self.warn("name", f"the component has no name; the key was named '{values['name']}' after its public key.")
        description = component.get("description")
        if isinstance(description, str) and description:
            values["description"] = description
        native_details = self._native_details(material)
        cek, problems = read_properties(component.get("properties"))
        for column, message in problems:
            self.error(column, message)
        values.update(cek)
        self._kind(material.get("type"), algorithm, cek.get("kind"))
        # securedBy and format are platform facts in another tool's file. This app's export (a document with
        # cek:fields, a component with cek: properties) derives securedBy from the key store instead, and states
        # the key's own facts as properties.
        if native_details and not stated and not _has_cek_properties(component):
            values["platform_details"] = native_details
        if public is not None:
            values["platform_details"] = {
                **values.get("platform_details", {}),
                "public_key_sha256": public.sha256,
                "public_key_type": public.type,
            }
        for field in stated:
            if field not in self.unreadable:
                values.setdefault(field, empty_value(field))

        failed = {error.column for error in self.errors} | self.unreadable
        row = KeyRow(row=self.number, fields=frozenset(values) - failed)
        for field, value in values.items():
            if field not in failed:
                setattr(row, row_attribute(field), value)
        return row

    def _kind(self, material_type: Any, algorithm: dict[str, Any] | None, stated_kind: str | None) -> None:
        """The kind the material type says, unless cek:kind (more precise: a certificate's private key) does."""
        if material_type not in MATERIAL_KINDS:
            return  # no type, or one in error
        if stated_kind is not None:
            if not _kind_fits(stated_kind, material_type):
                self.error(
                    "kind",
                    f"property '{property_name('kind')}' is '{stated_kind}' but {MATERIAL}.type is "
                    f"'{material_type}'; correct one of them so they agree.",
                )
            return
        properties = crypto_of(algorithm).get("algorithmProperties") if algorithm else None
        primitive = properties.get("primitive") if isinstance(properties, dict) else None
        symmetric = material_type == "key" and primitive in SYMMETRIC_PRIMITIVES
        self.values["kind"] = KeyKind.SYMMETRIC_KEY if symmetric else MATERIAL_KINDS[material_type]

    def _identity(self, material: dict[str, Any]) -> None:
        component, values = self.component, self.values
        name = component.get("name")
        if isinstance(name, str) and name.strip():
            values["name"] = name
        else:
            self.error("name", "the component has no name; every key needs one. Add its name and upload again.")
        key_id, ref = material.get("id"), component.get("bom-ref")
        if key_id is not None and not isinstance(key_id, str):
            self.error("external_id", f"{MATERIAL}.id must be text (the key's id in its store).")
        elif key_id and key_id.strip():
            values["external_id"] = key_id
        elif isinstance(ref, str) and ref.strip():
            values["external_id"] = ref
        else:
            self.error(
                "external_id",
                f"the component has neither {MATERIAL}.id nor a bom-ref; add the key's id in its store as "
                f"{MATERIAL}.id.",
            )

    def _resolve(self, ref: Any, field: str, column: str) -> dict[str, Any] | None:
        """The algorithm component ``ref`` names (None, with a warning on the row, when there is none: the
        reference is optional, and the key imports without what it would have said)."""
        if not isinstance(ref, str) or not ref:
            self.warn(column, f"{field} is not the bom-ref of an algorithm component; ignored.")
            return None
        target = self.by_ref.get(ref)
        if target is None:
            self.warn(
                column,
                f"{describe_value(field, ref)}; no component of the file has that bom-ref, so the reference was "
                "ignored. Add the algorithm component or correct the reference to import it.",
            )
            return None
        asset = crypto_of(target).get("assetType")
        if asset != "algorithm":
            what = f"its assetType is '{asset}'" if isinstance(asset, str) else "it is no cryptographic asset"
            self.warn(
                column,
                f"{describe_value(field, ref)}; that component is not an algorithm ({what}), so the reference was "
                "ignored. Point the reference at the algorithm component to import it.",
            )
            return None
        return target

    def _linked_algorithm(self) -> dict[str, Any] | None:
        """The first algorithm component the key depends on or provides in the file's ``dependencies``."""
        ref = self.component.get("bom-ref")
        for target in self.linked.get(ref, ()) if isinstance(ref, str) else ():
            candidate = self.by_ref.get(target)
            if candidate is not None and crypto_of(candidate).get("assetType") == "algorithm":
                return candidate
        return None

    def _algorithm(self, material: dict[str, Any]) -> dict[str, Any] | None:
        """algorithmRef, or in CycloneDX 1.7 (which deprecates it) the first related asset of type algorithm."""
        ref, field = material.get("algorithmRef"), f"{MATERIAL}.algorithmRef"
        if ref is None:
            related = material.get("relatedCryptographicAssets")
            for index, asset in enumerate(related if isinstance(related, list) else ()):
                if isinstance(asset, dict) and str(asset.get("type", "")).lower() == "algorithm":
                    ref, field = asset.get("ref"), f"{MATERIAL}.relatedCryptographicAssets[{index}].ref"
                    break
        algorithm = self._resolve(ref, field, "algorithm") if ref is not None else None
        if algorithm is None:
            algorithm = self._linked_algorithm()
        if algorithm is not None:
            self.values["algorithm"] = algorithm_text(algorithm)
        elif ref is not None:
            self.unreadable.add("algorithm")  # a stated algorithm the file could not give: left as it is
        return algorithm

    def _public_key(self, material: dict[str, Any], algorithm: dict[str, Any] | None) -> PublicKey | None:
        """The public key value, as its facts (see :func:`read_key_values`); completes size and algorithm."""
        value = material.get("value")
        if isinstance(value, UnreadableValue):
            self.warn(
                "platform_details",
                f"{MATERIAL}.value is no readable public key (PEM, base64 DER or OpenSSH); it was not kept and "
                "no fingerprint was taken.",
            )
        public = value if isinstance(value, PublicKey) else None
        if "size_bits" not in self.values and "size_bits" not in {error.column for error in self.errors}:
            size = public.size if public is not None else None
            size = size if size is not None else _key_length(algorithm)
            if size is not None:
                self.values["size_bits"] = size
        if public is not None and "algorithm" not in self.values and "algorithm" not in self.unreadable:
            self.values["algorithm"] = public.type
        return public

    def _material(self, material: dict[str, Any]) -> None:
        values = self.values
        material_type = material.get("type")
        if material_type is not None and material_type not in MATERIAL_KINDS:
            self.error(
                "kind",
                f"{describe_value(f'{MATERIAL}.type', material_type)}; expected one of: {', '.join(MATERIAL_TYPES)}.",
            )
        state = material.get("state")
        if state is not None:
            if state in KeyState.values:
                values["state"] = state
            else:
                self.error(
                    "state",
                    f"{describe_value(f'{MATERIAL}.state', state)}; expected one of: {', '.join(KeyState.values)}.",
                )
        size = material.get("size")
        if isinstance(size, str) and _INTEGER.fullmatch(size):
            size = int(size)  # some tools write the number as text
        if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
            values["size_bits"] = size
        elif size is not None:
            self.error(
                "size_bits",
                f"{describe_value(f'{MATERIAL}.size', size)}; expected the key size in bits, a whole number.",
            )
        for name, field in DATES.items():
            try:
                day: dt.date | None = parse_timestamp(material.get(name))
            except ValueError as exc:
                self.error(field, f"{describe_value(f'{MATERIAL}.{name}', material.get(name))}; {exc}.")
                continue
            if day is not None:
                values[field] = day

    def _native_details(self, material: dict[str, Any]) -> dict[str, str]:
        details: dict[str, str] = {}
        secured = material.get("securedBy")
        if isinstance(secured, dict):
            mechanism = secured.get("mechanism")
            if isinstance(mechanism, str) and mechanism:
                details["securedBy.mechanism"] = mechanism
            if secured.get("algorithmRef") is not None:
                algorithm = self._resolve(
                    secured["algorithmRef"], f"{MATERIAL}.securedBy.algorithmRef", "platform_details"
                )
                if algorithm is not None:
                    details["securedBy.algorithm"] = algorithm_text(algorithm)
        key_format = material.get("format")
        if isinstance(key_format, str) and key_format:
            details["format"] = key_format
        return details
