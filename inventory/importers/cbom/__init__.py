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

The document as a whole (version, components, references, key values): :mod:`.document`; one key component to a
row: :mod:`.component`; the CycloneDX terms: :mod:`.vocabulary`; the ``cek:`` properties: :mod:`.properties`;
the key-material scan by meaning: :mod:`.scan`; public key values: :mod:`.publickeys`; reading a large file
without holding it: :mod:`.streaming`.
"""

from __future__ import annotations

from typing import Any

from cek.textsafety import find_unsafe_structure, path_text
from inventory.importers.base import (
    KEY_MATERIAL,
    UNSAFE_TEXT,
    DocumentFinding,
    ImportFileError,
    ImportSource,
    JsonImporter,
    NotStreamable,
    ParseResult,
    ParseStream,
)
from inventory.importers.base.streaming import rows_in_chunks
from inventory.importers.cbom.component import ComponentReader, algorithm_text
from inventory.importers.cbom.document import (
    check_version,
    crypto_of,
    dependency_links,
    index_by_ref,
    read_key_values,
    walk_components,
)
from inventory.importers.cbom.properties import stated_fields
from inventory.importers.cbom.scan import find_cbom_material
from inventory.importers.cbom.streaming import Survey
from inventory.importers.cbom.vocabulary import (
    DATES,
    KEY_LENGTH_PRIMITIVES,
    KIND_MATERIAL_TYPES,
    MATERIAL,
    MATERIAL_KINDS,
    MATERIAL_TYPES,
    NOT_SECRETS,
    PUBLIC_VALUE_TYPES,
    SPEC_VERSIONS,
    SYMMETRIC_PRIMITIVES,
)

__all__ = [
    "DATES",
    "KEY_LENGTH_PRIMITIVES",
    "KIND_MATERIAL_TYPES",
    "MATERIAL_KINDS",
    "MATERIAL_TYPES",
    "NOT_SECRETS",
    "PUBLIC_VALUE_TYPES",
    "SPEC_VERSIONS",
    "SYMMETRIC_PRIMITIVES",
    "CbomImporter",
    "ComponentReader",
    "algorithm_text",
    "read_key_values",
]


class CbomImporter(JsonImporter):
    format = "cbom"
    label = "CycloneDX CBOM"
    order = 70
    media_type = "application/vnd.cyclonedx+json"
    help = "manage.py export_keys --format cbom, or a CycloneDX 1.6 or 1.7 CBOM from a tool such as cbomkit"
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
            ref for _path, component in walk_components(document) if isinstance(ref := component.get("bom-ref"), str)
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

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """A CBOM is read a member at a time, its components one by one, and never held whole: first passes
        check what ``parse`` checks of the document and keep what reading a key needs of the others
        (:class:`~.streaming.Survey`); the last reads the keys, a chunk at a time. A file the first passes find
        anything wrong with is read whole by ``parse``, which says what."""
        survey = Survey(self)
        try:
            survey.run(source)
        except NotStreamable:
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        return ParseStream(
            chunks=rows_in_chunks(survey.rows(source), size=chunk_rows, scope=None), material_checked=True
        )

    def read(self, document: Any) -> ParseResult:
        check_version(document)
        components = walk_components(document)
        stated = stated_fields(document.get("metadata"))
        by_ref = index_by_ref(components)
        linked = dependency_links(document)
        result = ParseResult()
        for number, (_path, component) in enumerate(components, start=1):
            material = self._key_material(component)
            if material is None:
                continue
            reader = ComponentReader(number, component, by_ref, linked)
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
        crypto = crypto_of(component)
        if crypto.get("assetType") != "related-crypto-material":
            return None
        material = crypto.get(MATERIAL)
        material = material if isinstance(material, dict) else {}
        return None if material.get("type") in NOT_SECRETS else material
