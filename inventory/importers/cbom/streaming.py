"""A CBOM read without holding it whole: the document's members one at a time, its ``components`` and
``dependencies`` item by item (:func:`~inventory.importers.base.streaming.json_object_members`).

A first pass checks what ``CbomImporter.parse`` checks of the document as a whole and keeps what reading a key
needs of the other components: every string scanned for unsafe text and key material (a second pass judges by
meaning, as ``find_material`` does, when the plain scan found something), no component with a key value, the
version and ``cek:fields``, each bom-ref used once; it keeps the algorithm components whole, of every other
component its bom-ref and asset type only, and of the dependencies the algorithms each bom-ref may depend on.
The last pass reads the key components into rows, a chunk at a time. Anything the first passes doubt makes
:class:`NotStreamable`: the caller reads the file whole, so the messages stay ``parse``'s.

What is held grows with the file by one bom-ref per component (to find repeated bom-refs and to resolve
references); never a component other than an algorithm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cek.textsafety import MAX_DEPTH, find_unsafe_structure
from inventory.importers.base import (
    KEY_MATERIAL,
    ImportFileError,
    ImportSource,
    KeyRow,
    NotStreamable,
    RowError,
)
from inventory.importers.base.scanning import first_finding
from inventory.importers.base.streaming import json_object_members
from inventory.importers.cbom.component import ComponentReader
from inventory.importers.cbom.document import check_version, crypto_of, read_key_values, walk_components
from inventory.importers.cbom.properties import stated_fields
from inventory.importers.cbom.scan import _Scanner

if TYPE_CHECKING:
    from inventory.importers.cbom import CbomImporter

_STREAMED = frozenset({"components", "dependencies"})
_KEPT = ("bomFormat", "specVersion", "metadata")  # the document's members that reading needs
_JUDGED_LIMIT = 50_000  # strings judged once each, but the caches stay small


def _parts(source: ImportSource) -> Iterator[tuple[str, Any, bool]]:
    """Each top-level member as a document of its own, with the same paths (and so the same depths): ``{name:
    value}``, or ``{name: [item]}`` for each item of ``components`` and ``dependencies``."""
    for name, value, is_item in json_object_members(source.open(), arrays=_STREAMED):
        yield name, ({name: [value]} if is_item else {name: value}), is_item


def _components(part: dict[str, Any]) -> list[dict[str, Any]]:
    """The components of one part (an item of ``components`` and those nested in it), public key values read
    as ``read_key_values`` reads them; NotStreamable where the document would be refused."""
    try:
        found = walk_components(part)
        read_key_values(part)
    except ImportFileError:
        raise NotStreamable from None
    return [component for _path, component in found]


class Survey:
    """What the first passes learn of a CBOM: whether the whole-file ``parse`` would read it without a message
    about the file, and what reading its keys needs."""

    def __init__(self, importer: CbomImporter) -> None:
        self.importer = importer
        self.kept: dict[str, Any] = {}
        self.refs: set[str] = set()
        self.by_ref: dict[str, dict[str, Any]] = {}
        self.linked: dict[str, list[str]] = {}
        self.keys = 0
        self.stated: frozenset[str] = frozenset()
        self._stubs: dict[tuple[type, Any], dict[str, Any]] = {}

    def run(self, source: ImportSource) -> None:
        judged: dict[str, Any] = {}
        doubtful = False  # the plain scan found what may be key material: judged by meaning below
        for name, part, is_item in _parts(source):
            found = first_finding(part, self.importer.public_members, judged)
            if found is not None:
                if found[0] != KEY_MATERIAL:
                    raise NotStreamable
                doubtful = True
            if len(judged) > _JUDGED_LIMIT:
                judged.clear()
            if name in _KEPT:
                self.kept[name] = part[name]
            if name == "components":
                if not is_item and part[name] is not None:
                    raise NotStreamable  # not an array: parse says so
                if is_item:
                    for component in _components(part):
                        self._index(component)
            elif name == "dependencies" and is_item:
                self._link(part[name][0])
        if self.kept.get("bomFormat") not in ("CycloneDX", "CBOM") or not self.keys:
            raise NotStreamable  # another format, or no keys: parse says which
        try:
            check_version(self.kept)
            self.stated = stated_fields(self.kept.get("metadata"))
        except ImportFileError:
            raise NotStreamable from None
        # Of each key's links the first algorithm is what reading it takes.
        self.linked = {ref: found[:1] for ref, links in self.linked.items() if (found := self._algorithms(links))}
        if doubtful:
            self._judge_by_meaning(source)

    def _index(self, component: dict[str, Any]) -> None:
        if self.importer._key_material(component) is not None:
            self.keys += 1
        ref = component.get("bom-ref")
        if not isinstance(ref, str):
            return
        if ref and ref in self.refs:
            raise NotStreamable  # a repeated bom-ref: parse names both components
        self.refs.add(ref)
        if not ref:
            return
        asset = crypto_of(component).get("assetType")
        # Reading a key looks into the algorithm components it refers to; of any other it needs the asset type.
        self.by_ref[ref] = component if asset == "algorithm" else self._stub(asset)

    def _stub(self, asset: Any) -> dict[str, Any]:
        stub = {"type": "cryptographic-asset", "cryptoProperties": {"assetType": asset}}
        if isinstance(asset, (list, dict)):
            return stub
        return self._stubs.setdefault((type(asset), asset), stub)

    def _link(self, entry: Any) -> None:
        """``dependency_links`` for one entry of ``dependencies``, keeping only the targets that are (or may yet
        be) algorithm components: reading a key takes the first algorithm it is linked to."""
        if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
            return
        for member in ("dependsOn", "provides"):
            refs = entry.get(member)
            if isinstance(refs, list):
                kept = [ref for ref in refs if isinstance(ref, str) and self._may_be_algorithm(ref)]
                if kept:
                    self.linked.setdefault(entry["ref"], []).extend(kept)

    def _may_be_algorithm(self, ref: str) -> bool:
        target = self.by_ref.get(ref)
        if target is None:
            return ref not in self.refs  # a component further on may have it
        return crypto_of(target).get("assetType") == "algorithm"

    def _algorithms(self, targets: list[str]) -> list[str]:
        return [ref for ref in targets if crypto_of(self.by_ref.get(ref, {})).get("assetType") == "algorithm"]

    def _judge_by_meaning(self, source: ImportSource) -> None:
        """What ``CbomImporter.find_material`` does once the plain scan found something: every part scanned
        again by meaning (the file's bom-refs known), and for unsafe text and nesting."""
        refs = frozenset(self.refs)
        scanner = _Scanner(self.importer.public_members, refs)
        for name, part, is_item in _parts(source):
            if name == "components" and is_item:
                _components(part)  # public key values read as they were when the file was read whole
            if scanner.holds(part):
                raise NotStreamable
            # One level short of the limit: a structure that deep is read whole, which says whether it is refused.
            if find_unsafe_structure(part, max_depth=MAX_DEPTH - 1) is not None:
                raise NotStreamable
            if len(scanner.judged) > _JUDGED_LIMIT:
                scanner = _Scanner(self.importer.public_members, refs)

    def rows(self, source: ImportSource) -> Iterator[tuple[KeyRow, list[RowError], list[RowError]]]:
        """The key components' rows, numbered as ``read`` numbers them (every component, depth-first)."""
        number = 0
        for name, part, is_item in _parts(source):
            if name != "components" or not is_item:
                continue
            for component in _components(part):
                number += 1
                material = self.importer._key_material(component)
                if material is None:
                    continue
                reader = ComponentReader(number, component, self.by_ref, self.linked)
                row = reader.read(material, self.stated)
                yield row, reader.errors, reader.warnings
