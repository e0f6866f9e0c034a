"""CycloneDX CBOM (cryptography bill of materials), JSON, spec 1.6 or 1.7 (or 1.5 where a tool wrote crypto
assets into it ahead of the schema): this app's own CBOM export, or one written by another tool (IBM cbomkit,
cbomkit-theia, sonar-cryptography, a hand-written inventory).

Each component of type ``cryptographic-asset`` whose ``cryptoProperties.assetType`` is
``related-crypto-material`` and whose material is a key or secret becomes one row; nested ``components`` are
read too. The other crypto assets (algorithms, certificates, protocols) are read only to resolve references;
material that is no key or secret (ciphertext, signature, digest, IV, nonce, salt, tag, additional data) and
other component types are skipped. ``row`` is the component's position in the file, counting nested
components depth-first.

CycloneDX fields give the key's identity (``id``, else ``bom-ref``), name, kind (``type``), state, dates (the
UTC date of each date-time), size, algorithm (the ``algorithm`` component that ``algorithmRef``, or in 1.7
``relatedCryptographicAssets``, points to; else the one the key depends on in ``dependencies``, as cbomkit and
sonar-cryptography link them), description and, for files of other tools, platform facts (``securedBy``,
``format``). A size the key does not state is the algorithm's parameter set when that is a key length (AES-128,
RSA-2048). The rest travels as ``cek:`` properties (see :mod:`.properties`), which win over what CycloneDX fields
suggest. A file without them sets only what it has: a new key then comes in without a purpose, and its store is
the one chosen at upload. A reference that names nothing usable is a warning on its row: the algorithm it would
have set is left as it is, and platform details hold what the file does say.

A public key is no secret: a public-key component's ``value`` is read for its SHA-256 fingerprint, type and size
(platform details ``public_key_sha256``, ``public_key_type``), and the value itself is never kept. Any other
component whose ``value`` is set holds key material and refuses the whole file, naming the component, before
anything else is read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cek.keymaterial import find_key_material
from cek.textsafety import find_unsafe_structure, path_text
from inventory.importers.base import (
    KEY_MATERIAL,
    UNSAFE_TEXT,
    DocumentFinding,
    ImportFileError,
    JsonImporter,
    KeyRow,
    ParseResult,
    RowError,
    describe_value,
    empty_value,
    parse_timestamp,
    row_attribute,
)
from inventory.importers.cbom.properties import NAMESPACE, property_name, read_properties, stated_fields
from inventory.importers.cbom.publickeys import (
    PrivateValue,
    PublicKey,
    UnreadableValue,
    is_public_placeholder,
    read_public_key,
)
from inventory.importers.cbom.scan import find_cbom_material
from inventory.models import KeyKind, KeyState

SPEC_VERSIONS = ("1.5", "1.6", "1.7")
_MATERIAL = "relatedCryptoMaterialProperties"

# relatedCryptoMaterialProperties.type of each kind (export). Not one to one: certificate private keys are
# private keys, so the export also writes the kind itself (cek:kind).
KIND_MATERIAL_TYPES: dict[str, str] = {
    KeyKind.SYMMETRIC_KEY: "secret-key",
    KeyKind.PRIVATE_KEY: "private-key",
    KeyKind.CERTIFICATE_PRIVATE_KEY: "private-key",
    KeyKind.PUBLIC_KEY: "public-key",
    KeyKind.API_TOKEN: "token",
    KeyKind.PASSWORD: "password",
    KeyKind.SHARED_SECRET: "shared-secret",
    KeyKind.OTHER: "other",
}
# The kind of each type that is a key or secret (import). A bare "key" of a symmetric algorithm is a
# symmetric key (see _ComponentReader.read).
MATERIAL_KINDS: dict[str, str] = {
    "private-key": KeyKind.PRIVATE_KEY,
    "public-key": KeyKind.PUBLIC_KEY,
    "secret-key": KeyKind.SYMMETRIC_KEY,
    "key": KeyKind.OTHER,
    "shared-secret": KeyKind.SHARED_SECRET,
    "password": KeyKind.PASSWORD,
    "credential": KeyKind.PASSWORD,
    "token": KeyKind.API_TOKEN,
    "seed": KeyKind.OTHER,
    "other": KeyKind.OTHER,
    "unknown": KeyKind.OTHER,
}
# Material that is neither a key nor a secret: not inventoried.
NOT_SECRETS = frozenset(
    {"ciphertext", "signature", "digest", "initialization-vector", "nonce", "salt", "tag", "additional-data"}
)
MATERIAL_TYPES = (*MATERIAL_KINDS, *sorted(NOT_SECRETS))
SYMMETRIC_PRIMITIVES = frozenset({"block-cipher", "stream-cipher", "ae", "mac", "key-wrap"})
# Primitives whose parameter set identifier, when a number, is the key length (AES-128, RSA-2048, DSA-2048); for
# the others it is a digest length (SHA-256, HMAC-SHA256) or a security level.
KEY_LENGTH_PRIMITIVES = frozenset({"block-cipher", "stream-cipher", "ae", "key-wrap", "pke", "signature", "kem"})
# Material types whose value may be a public key (kept as a fingerprint); any value of the others is refused.
PUBLIC_VALUE_TYPES = frozenset({"public-key", "key", "other", "unknown"})
DATES: dict[str, str] = {
    "creationDate": "created_on",
    "activationDate": "activated_on",
    "updateDate": "last_rotated_on",
    "expirationDate": "expires_on",
}

_INTEGER = re.compile(r"\d{1,10}")
# --- The document -------------------------------------------------------------------------------------------


def _components(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every component with its path, nested ones after their parent (depth-first, in file order)."""
    found: list[tuple[str, dict[str, Any]]] = []

    def visit(items: Any, path: str) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            raise ImportFileError(f"{path} must be an array of components. Check that the file is a CycloneDX BOM.")
        for index, component in enumerate(items):
            here = f"{path}[{index}]"
            if not isinstance(component, dict):
                raise ImportFileError(f"{here} is not an object. Each component must be a JSON object.")
            found.append((here, component))
            visit(component.get("components"), f"{here}.components")

    visit(document.get("components"), "components")
    return found


def _crypto(component: dict[str, Any]) -> dict[str, Any]:
    crypto = component.get("cryptoProperties") if component.get("type") == "cryptographic-asset" else None
    return crypto if isinstance(crypto, dict) else {}


def _shown(text: Any) -> str:
    """A name or bom-ref for a message about a file that has not been scanned for key material yet."""
    text = str(text)
    if find_key_material(text):
        return "(not shown)"
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


def _refusal(component: dict[str, Any], path: str, what: str) -> ImportFileError:
    return ImportFileError(
        f"The component {_shown(component.get('name', ''))} (bom-ref {_shown(component.get('bom-ref', ''))}, "
        f"at {path}) {what}. Key material is never stored here, so the whole file was rejected and not kept. Export "
        "the CBOM without key values (metadata only) and upload again."
    )


def read_key_values(document: dict[str, Any]) -> None:
    """Refuse the file when a component carries key material (relatedCryptoMaterialProperties.value); replace
    each public key value by what is kept of it (:class:`PublicKey`, or :class:`UnreadableValue`), so the scan
    that follows and the reading see no value."""
    for path, component in _components(document):
        material = component.get("cryptoProperties", {})
        material = material.get(_MATERIAL) if isinstance(material, dict) else None
        if not isinstance(material, dict) or material.get("value") in (None, ""):
            continue
        value, material_type = material["value"], material.get("type")
        if not isinstance(value, str) or material_type not in PUBLIC_VALUE_TYPES:
            raise _refusal(component, path, f"has {_MATERIAL}.value set: that field holds the key material itself")
        try:
            public = read_public_key(value)
        except PrivateValue as exc:
            raise _refusal(component, path, f"has a {material_type} {_MATERIAL}.value that holds {exc}") from None
        placeholder = material_type == "public-key" and is_public_placeholder(value)
        if public is None and not placeholder and (material_type != "public-key" or find_key_material(value)):
            raise _refusal(
                component,
                path,
                f"has {_MATERIAL}.value set to something that is no readable public key (PEM, base64 DER or "
                "OpenSSH) and may be key material",
            )
        material["value"] = public or UnreadableValue()


def _check_version(document: dict[str, Any]) -> None:
    version = document.get("specVersion")
    if document.get("bomFormat") == "CBOM":
        raise ImportFileError(
            f"This is a pre-standard IBM CBOM (specVersion {_shown(version)}). This app reads CycloneDX 1.6 and 1.7, "
            "which took the CBOM in: generate the file again with a current tool (e.g. cbomkit) and upload it."
        )
    if version in SPEC_VERSIONS:
        return
    if version is None or version == "":
        raise ImportFileError("The file has no specVersion. This app reads CycloneDX 1.6 and 1.7 CBOMs.")
    if not isinstance(version, str):
        raise ImportFileError('specVersion must be text, such as "1.6" (in quotes). Correct it and upload again.')
    if re.fullmatch(r"1\.[0-4]", version):
        raise ImportFileError(
            f"The file is CycloneDX {version}, which has no cryptographic assets (cryptoProperties came with 1.6). "
            "Export the CBOM as CycloneDX 1.6 or 1.7 and upload it again."
        )
    raise ImportFileError(f"The file is CycloneDX {_shown(version)}; this app reads CycloneDX 1.6 and 1.7.")


def _index(components: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    by_ref: dict[str, dict[str, Any]] = {}
    paths: dict[str, str] = {}
    for path, component in components:
        ref = component.get("bom-ref")
        if isinstance(ref, str) and ref:
            if ref in by_ref:
                raise ImportFileError(
                    f"The bom-ref {_shown(ref)} is used by {paths[ref]} and {path}; each component needs its own. "
                    "Correct the file and upload it again."
                )
            by_ref[ref], paths[ref] = component, path
    return by_ref


def algorithm_text(component: dict[str, Any]) -> str:
    """An algorithm component as the text of Key.algorithm: its name ("AES-256-GCM"), completed from its
    properties when the name is only a family ("AES" with parameter set 256 and mode gcm: "AES-256-GCM";
    "ECDSA" on the curve nist/P-256: "ECDSA P-256")."""
    properties = _crypto(component).get("algorithmProperties")
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


def _dependencies(document: dict[str, Any]) -> dict[str, list[str]]:
    """The bom-refs each bom-ref depends on or provides (``dependencies``), in file order. Malformed entries are
    skipped: the dependency graph only completes what the components say."""
    linked: dict[str, list[str]] = {}
    entries = document.get("dependencies")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
            continue
        targets = linked.setdefault(entry["ref"], [])
        for member in ("dependsOn", "provides"):
            refs = entry.get(member)
            if isinstance(refs, list):
                targets.extend(ref for ref in refs if isinstance(ref, str))
    return linked


def _key_length(algorithm: dict[str, Any] | None) -> int | None:
    """The key length an algorithm's parameter set identifier gives ("128" of AES-128), when it is one."""
    properties = _crypto(algorithm).get("algorithmProperties") if algorithm else None
    if not isinstance(properties, dict) or properties.get("primitive") not in KEY_LENGTH_PRIMITIVES:
        return None
    parameter = properties.get("parameterSetIdentifier")
    return int(parameter) if isinstance(parameter, str) and _INTEGER.fullmatch(parameter) else None


class _ComponentReader:
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
                    f"property '{property_name('kind')}' is '{stated_kind}' but {_MATERIAL}.type is "
                    f"'{material_type}'; correct one of them so they agree.",
                )
            return
        properties = _crypto(algorithm).get("algorithmProperties") if algorithm else None
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
            self.error("external_id", f"{_MATERIAL}.id must be text (the key's id in its store).")
        elif key_id and key_id.strip():
            values["external_id"] = key_id
        elif isinstance(ref, str) and ref.strip():
            values["external_id"] = ref
        else:
            self.error(
                "external_id",
                f"the component has neither {_MATERIAL}.id nor a bom-ref; add the key's id in its store as "
                f"{_MATERIAL}.id.",
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
        asset = _crypto(target).get("assetType")
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
            if candidate is not None and _crypto(candidate).get("assetType") == "algorithm":
                return candidate
        return None

    def _algorithm(self, material: dict[str, Any]) -> dict[str, Any] | None:
        """algorithmRef, or in CycloneDX 1.7 (which deprecates it) the first related asset of type algorithm."""
        ref, field = material.get("algorithmRef"), f"{_MATERIAL}.algorithmRef"
        if ref is None:
            related = material.get("relatedCryptographicAssets")
            for index, asset in enumerate(related if isinstance(related, list) else ()):
                if isinstance(asset, dict) and str(asset.get("type", "")).lower() == "algorithm":
                    ref, field = asset.get("ref"), f"{_MATERIAL}.relatedCryptographicAssets[{index}].ref"
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
                f"{_MATERIAL}.value is no readable public key (PEM, base64 DER or OpenSSH); it was not kept and "
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
                f"{describe_value(f'{_MATERIAL}.type', material_type)}; expected one of: {', '.join(MATERIAL_TYPES)}.",
            )
        state = material.get("state")
        if state is not None:
            if state in KeyState.values:
                values["state"] = state
            else:
                self.error(
                    "state",
                    f"{describe_value(f'{_MATERIAL}.state', state)}; expected one of: {', '.join(KeyState.values)}.",
                )
        size = material.get("size")
        if isinstance(size, str) and _INTEGER.fullmatch(size):
            size = int(size)  # some tools write the number as text
        if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
            values["size_bits"] = size
        elif size is not None:
            self.error(
                "size_bits",
                f"{describe_value(f'{_MATERIAL}.size', size)}; expected the key size in bits, a whole number.",
            )
        for name, field in DATES.items():
            try:
                day: dt.date | None = parse_timestamp(material.get(name))
            except ValueError as exc:
                self.error(field, f"{describe_value(f'{_MATERIAL}.{name}', material.get(name))}; {exc}.")
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
                    secured["algorithmRef"], f"{_MATERIAL}.securedBy.algorithmRef", "platform_details"
                )
                if algorithm is not None:
                    details["securedBy.algorithm"] = algorithm_text(algorithm)
        key_format = material.get("format")
        if isinstance(key_format, str) and key_format:
            details["format"] = key_format
        return details


class CbomImporter(JsonImporter):
    format = "cbom"
    label = "CycloneDX CBOM"
    media_type = "application/vnd.cyclonedx+json"
    help = "manage.py export_keys --format cbom, or a CycloneDX 1.6 or 1.7 CBOM from a tool such as cbomkit; see README"
    # Digests, serial numbers and signatures look like keys when printed, but each is judged by its meaning in
    # scan.py (a digest is accepted only in a digest's shape), never skipped by its name alone.
    public_members: frozenset[str] = frozenset()
    noun = "keys or secrets"

    def sniff(self, data: bytes, document: Any) -> bool:
        # Any CycloneDX document (and IBM's pre-standard "CBOM"): read() says what is wrong with the version.
        return isinstance(document, dict) and document.get("bomFormat") in ("CycloneDX", "CBOM")

    def refuse(self, document: Any) -> None:
        # Before anything is read, and before the key-material scan, so the message names the component.
        read_key_values(document)

    def find_material(self, document: Any, found: DocumentFinding | None) -> DocumentFinding | None:
        if found is None:
            return None  # the generic scan is stricter than the one by meaning: nothing to look at again
        refs = frozenset(
            ref for _path, component in _components(document) if isinstance(ref := component.get("bom-ref"), str)
        )
        try:
            material = find_cbom_material(document, skip=self.public_members, refs=refs)
        except RecursionError:
            raise ImportFileError("The file is not usable JSON: it is nested too deeply.") from None
        if material is not None:
            path, reason = material
            return DocumentFinding(KEY_MATERIAL, reason, None, path)
        # The generic scan stopped at a value this scan accepts by its meaning: the rest of the file was never
        # looked at for unsafe text or nesting.
        unsafe = find_unsafe_structure(document)
        if unsafe is not None:
            path, reason = unsafe
            return DocumentFinding(UNSAFE_TEXT, reason, None, path_text(path))
        return None

    def read(self, document: Any) -> ParseResult:
        _check_version(document)
        components = _components(document)
        stated = stated_fields(document.get("metadata"))
        by_ref = _index(components)
        linked = _dependencies(document)
        result = ParseResult()
        for number, (_path, component) in enumerate(components, start=1):
            material = self._key_material(component)
            if material is None:
                continue
            reader = _ComponentReader(number, component, by_ref, linked)
            result.rows.append(reader.read(material, stated))
            result.errors.extend(reader.errors)
            result.warnings.extend(reader.warnings)
        if not result.rows and document.get("specVersion") == "1.5":
            raise ImportFileError(
                f"The file is CycloneDX 1.5 and lists no keys or secrets ({len(components)} components skipped): "
                "1.5 has no cryptographic assets (cryptoProperties came with 1.6). Export the CBOM as CycloneDX 1.6 "
                "or 1.7 and upload it again."
            )
        if not result.rows:
            raise ImportFileError(
                f"The file lists no {self.noun}: no component of type cryptographic-asset with assetType "
                f"related-crypto-material and a key or secret as its type ({len(components)} other components "
                "skipped). Check that you exported the keys, not only the algorithms."
            )
        return result

    @staticmethod
    def _key_material(component: dict[str, Any]) -> dict[str, Any] | None:
        """The relatedCryptoMaterialProperties of a key or secret component; None for every other component."""
        crypto = _crypto(component)
        if crypto.get("assetType") != "related-crypto-material":
            return None
        material = crypto.get(_MATERIAL)
        material = material if isinstance(material, dict) else {}
        return None if material.get("type") in NOT_SECRETS else material
