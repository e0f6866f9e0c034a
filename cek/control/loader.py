"""Loading the catalog: ``cek/control/cek-11.yaml`` parsed with ``yaml.safe_load``, its shape checked (a
:class:`ControlCatalogError` names the file, the place and the missing or malformed key) and the result cached."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from cek.control.catalog import (
    SSRM_LAYERS,
    SSRM_ROLES,
    Attribution,
    Control,
    Domain,
    GapLevel,
    Guideline,
    GuidelineKind,
    LifecyclePhase,
    Lineage,
    Question,
    SsrmOwnership,
    StandardMapping,
    StandardReference,
    Term,
)

CATALOG_PATH = Path(__file__).resolve().parent / "cek-11.yaml"
SCHEMA_VERSION = 1

T = TypeVar("T")


class ControlCatalogError(ValueError):
    """The catalog file is missing, is not YAML, or does not have the expected shape."""


class _Node:
    """A mapping read from the YAML, with its location for error messages ("control.ssrm[2]")."""

    def __init__(self, data: Any, path: str, source: str) -> None:
        self.path = path  # "" for the document itself
        self.where = path or "the document"
        self.source = source
        if not isinstance(data, Mapping):
            raise ControlCatalogError(f"{source}: {self.where} must be a mapping, got {_type_name(data)}")
        self.data = data

    def child(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str) -> ControlCatalogError:
        return ControlCatalogError(f"{self.source}: {message}")

    def _get(self, key: str, expected: type | tuple[type, ...], expected_name: str, *, optional: bool = False) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise self.fail(f"missing key '{key}' in {self.where}")
        value = self.data[key]
        # bool is an int subclass and YAML turns "yes" into True: be strict about both.
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise self.fail(f"{self.child(key)} must be {expected_name}, got {_type_name(value)}")
        return value

    def text(self, key: str, *, optional: bool = False) -> str:
        value = self._get(key, str, "a text", optional=optional)
        if value is None:
            return ""
        value = value.strip()
        if not value and not optional:
            raise self.fail(f"{self.child(key)} must not be empty")
        return value

    def flag(self, key: str) -> bool:
        return self._get(key, bool, "true or false")

    def integer(self, key: str) -> int:
        return self._get(key, int, "a whole number")

    def node(self, key: str) -> _Node:
        return _Node(self._get(key, Mapping, "a mapping"), self.child(key), self.source)

    def texts(self, key: str) -> tuple[str, ...]:
        items = self._get(key, list, "a list")
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{self.child(key)}[{index}] must be a non-empty text, got {_type_name(item)}")
        return tuple(item.strip() for item in items)

    def nodes(self, key: str, *, allow_empty: bool = False) -> list[_Node]:
        items = self._get(key, list, "a list")
        if not items and not allow_empty:
            raise self.fail(f"{self.child(key)} must not be empty")
        return [_Node(item, f"{self.child(key)}[{index}]", self.source) for index, item in enumerate(items)]

    def choice(self, key: str, choices: Callable[[str], T], allowed: tuple[str, ...] | list[str]) -> T:
        value = self.text(key)
        if value not in allowed:
            raise self.fail(f"{self.child(key)} is {value!r}; expected one of: {', '.join(allowed)}")
        return choices(value)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "a text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _unique(source: str, where: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ControlCatalogError(f"{source}: {where} lists {value!r} twice")
        seen.add(value)


def _terms(node: _Node, key: str) -> tuple[Term, ...]:
    terms = tuple(Term(code=item.text("code"), name=item.text("name")) for item in node.nodes(key))
    _unique(node.source, node.child(key), [term.code for term in terms])
    return terms


def _lifecycle(node: _Node) -> tuple[LifecyclePhase, ...]:
    phases = []
    for item in node.nodes("lifecycle"):
        phase = LifecyclePhase(
            phase=item.text("phase"),
            name=item.text("name"),
            applicable=item.flag("applicable"),
            applicability=item.text("applicability"),
        )
        if not phase.applicable and phase.applicability != "Not applicable":
            raise item.fail(f"{item.child('applicability')} must be 'Not applicable' when applicable is false")
        phases.append(phase)
    _unique(node.source, node.child("lifecycle"), [phase.phase for phase in phases])
    return tuple(phases)


def _ssrm(node: _Node) -> tuple[SsrmOwnership, ...]:
    rows = []
    for item in node.nodes("ssrm"):
        owners = item.texts("owners")
        for owner in owners:
            if owner not in SSRM_ROLES:
                raise item.fail(
                    f"{item.child('owners')} names {owner!r}; expected SSRM role codes: {', '.join(SSRM_ROLES)}"
                )
        if not owners:
            raise item.fail(f"{item.child('owners')} must name at least one SSRM role")
        rows.append(
            SsrmOwnership(
                layer=item.choice("layer", str, SSRM_LAYERS),
                short=item.text("short"),
                name=item.text("name"),
                former_name=item.text("former_name", optional=True),
                ownership=item.text("ownership"),
                label=item.text("label"),
                owners=owners,
                text=item.text("text"),
            )
        )
    layers = [row.layer for row in rows]
    _unique(node.source, node.child("ssrm"), layers)
    missing = [layer for layer in SSRM_LAYERS if layer not in layers]
    if missing:
        raise node.fail(f"{node.child('ssrm')} has no entry for SSRM layer(s): {', '.join(missing)}")
    order = {layer: index for index, layer in enumerate(SSRM_LAYERS)}
    return tuple(sorted(rows, key=lambda row: order[row.layer]))


def _guidelines(node: _Node, key: str, kind: GuidelineKind, version: str) -> tuple[str, str, tuple[Guideline, ...]]:
    section = node.node(key)
    applies_to = section.text("applies_to")
    note = section.text("note", optional=True)
    guidelines = []
    for number, item in enumerate(section.nodes("items"), start=1):
        guideline_id = item.text("id")
        expected = f"{kind.prefix}-{number}"
        if guideline_id != expected:
            raise item.fail(f"{item.child('id')} is {guideline_id!r}; expected {expected!r} (numbered in order from 1)")
        guidelines.append(
            Guideline(id=guideline_id, kind=kind, text=item.text("text"), version=version, applies_to=applies_to)
        )
    return applies_to, note, tuple(guidelines)


def _questions(node: _Node, key: str, default_version: str) -> tuple[Question, ...]:
    questions = tuple(
        Question(
            id=item.text("id"),
            version=item.text("version", optional=True) or default_version,
            text=item.text("text"),
        )
        for item in node.nodes(key)
    )
    _unique(node.source, node.child(key), [q.id for q in questions])
    return questions


def _standards(node: _Node) -> tuple[StandardMapping, ...]:
    mappings = tuple(
        StandardMapping(
            standard=item.text("standard"),
            gap=item.choice("gap", GapLevel, [level.value for level in GapLevel]),
            mapping=item.text("mapping"),
            references=tuple(
                StandardReference(standard=ref.text("standard"), clause=ref.text("clause"))
                for ref in item.nodes("references", allow_empty=True)
            ),
            addendum=item.text("addendum"),
        )
        for item in node.nodes("standards_mappings")
    )
    _unique(node.source, node.child("standards_mappings"), [m.standard for m in mappings])
    return mappings


def parse_control(data: Any, *, source: str = "cek-11.yaml") -> Control:
    """Build the :class:`Control` from already-parsed YAML data; raise :class:`ControlCatalogError`
    naming the file, the place and the missing or malformed key."""
    root = _Node(data, "", source)
    schema = root.integer("schema")
    if schema != SCHEMA_VERSION:
        raise root.fail(f"schema is {schema}; this version of the application reads schema {SCHEMA_VERSION}")
    attribution = root.node("attribution")
    control = root.node("control")
    version = control.text("version")
    domain = control.node("domain")
    ig_scope, ig_note, implementation = _guidelines(
        control, "implementation_guidelines", GuidelineKind.IMPLEMENTATION, version
    )
    _, _, auditing = _guidelines(control, "auditing_guidelines", GuidelineKind.AUDITING, version)
    _, _, ccm = _guidelines(control, "ccm_auditing_guidelines", GuidelineKind.CCM, version)
    return Control(
        id=control.text("id"),
        version=version,
        unchanged_in=control.texts("unchanged_in"),
        title=control.text("title"),
        category=control.text("category"),
        domain=Domain(id=domain.text("id"), title=domain.text("title")),
        specification=control.text("specification"),
        threat_categories=_terms(control, "threat_categories"),
        architectural_relevance=_terms(control, "architectural_relevance"),
        lifecycle=_lifecycle(control),
        ssrm=_ssrm(control),
        implementation_scope=ig_scope,
        implementation_note=ig_note,
        implementation_guidelines=implementation,
        aicm_auditing_guidelines=auditing,
        ccm_auditing_guidelines=ccm,
        standards_mappings=_standards(control),
        questions=_questions(control, "questions", version),
        lineage=tuple(
            Lineage(
                framework=item.text("framework"),
                version=item.text("version"),
                id=item.text("id"),
                title=item.text("title"),
                relation=item.text("relation"),
                note=item.text("note", optional=True),
                questions=_questions(item, "questions", item.text("version")),
            )
            for item in control.nodes("lineage", allow_empty=True)
        ),
        attribution=Attribution(
            publisher=attribution.text("publisher"),
            work=attribution.text("work"),
            text=attribution.text("text"),
            licence_note=attribution.text("licence_note"),
        ),
    )


@functools.cache
def load_control(path: Path | str | None = None) -> Control:
    """The CEK-11 control from ``cek/control/cek-11.yaml`` (or ``path``), parsed once per process."""
    path = Path(path) if path is not None else CATALOG_PATH
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ControlCatalogError(f"{path}: cannot read the control catalog ({exc.strerror or exc})") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ControlCatalogError(f"{path.name}: not valid YAML: {exc}") from exc
    return parse_control(data, source=path.name)
