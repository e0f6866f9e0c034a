"""The CBOM document as a whole: its version, its components (nested ones too) and their bom-refs, the
dependency graph, and the refusal of key values, all before any key is read."""

from __future__ import annotations

import re
from typing import Any

from cek.keymaterial import find_key_material
from inventory.importers.base import ImportFileError
from inventory.importers.cbom.publickeys import PrivateValue, UnreadableValue, is_public_placeholder, read_public_key
from inventory.importers.cbom.vocabulary import MATERIAL, PUBLIC_VALUE_TYPES, SPEC_VERSIONS


def walk_components(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
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


def crypto_of(component: dict[str, Any]) -> dict[str, Any]:
    crypto = component.get("cryptoProperties") if component.get("type") == "cryptographic-asset" else None
    return crypto if isinstance(crypto, dict) else {}


def shown(text: Any) -> str:
    """A name or bom-ref for a message about a file that has not been scanned for key material yet."""
    text = str(text)
    if find_key_material(text):
        return "(not shown)"
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


def _refusal(component: dict[str, Any], path: str, what: str) -> ImportFileError:
    return ImportFileError(
        f"The component {shown(component.get('name', ''))} (bom-ref {shown(component.get('bom-ref', ''))}, "
        f"at {path}) {what}. Key material is never stored here, so the whole file was rejected and not kept. Export "
        "the CBOM without key values (metadata only) and upload again."
    )


def read_key_values(document: dict[str, Any]) -> None:
    """Refuse the file when a component carries key material (relatedCryptoMaterialProperties.value); replace
    each public key value by what is kept of it (:class:`PublicKey`, or :class:`UnreadableValue`), so the scan
    that follows and the reading see no value."""
    for path, component in walk_components(document):
        material = component.get("cryptoProperties", {})
        material = material.get(MATERIAL) if isinstance(material, dict) else None
        if not isinstance(material, dict) or material.get("value") in (None, ""):
            continue
        value, material_type = material["value"], material.get("type")
        if not isinstance(value, str) or material_type not in PUBLIC_VALUE_TYPES:
            raise _refusal(component, path, f"has {MATERIAL}.value set: that field holds the key material itself")
        try:
            public = read_public_key(value)
        except PrivateValue as exc:
            raise _refusal(component, path, f"has a {material_type} {MATERIAL}.value that holds {exc}") from None
        placeholder = material_type == "public-key" and is_public_placeholder(value)
        if public is None and not placeholder and (material_type != "public-key" or find_key_material(value)):
            raise _refusal(
                component,
                path,
                f"has {MATERIAL}.value set to something that is no readable public key (PEM, base64 DER or "
                "OpenSSH) and may be key material",
            )
        material["value"] = public or UnreadableValue()


def check_version(document: dict[str, Any]) -> None:
    version = document.get("specVersion")
    if document.get("bomFormat") == "CBOM":
        raise ImportFileError(
            f"This is a pre-standard IBM CBOM (specVersion {shown(version)}). This app reads CycloneDX 1.6 and 1.7, "
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
    raise ImportFileError(f"The file is CycloneDX {shown(version)}; this app reads CycloneDX 1.6 and 1.7.")


def index_by_ref(components: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    by_ref: dict[str, dict[str, Any]] = {}
    paths: dict[str, str] = {}
    for path, component in components:
        ref = component.get("bom-ref")
        if isinstance(ref, str) and ref:
            if ref in by_ref:
                raise ImportFileError(
                    f"The bom-ref {shown(ref)} is used by {paths[ref]} and {path}; each component needs its own. "
                    "Correct the file and upload it again."
                )
            by_ref[ref], paths[ref] = component, path
    return by_ref


def dependency_links(document: dict[str, Any]) -> dict[str, list[str]]:
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
