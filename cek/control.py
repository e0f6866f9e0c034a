"""The control catalog: AICM control CEK-11 "Key Purpose" as frozen dataclasses.

The text lives in ``cek/control/cek-11.yaml``; :func:`load_control` parses it with ``yaml.safe_load``,
checks its shape and caches the result, so every page, check and export reads the same object::

    control = load_control()
    control.guideline("AG-3").text
    control.ssrm_for("pi").ownership          # "Shared CSP-MP"
    [g.id for g in control.auditing_guidelines]  # AG-1 .. AG-10, CCM-1 .. CCM-3

IDs are only meaningful with the catalog version (``control.version``, e.g. "AICM 1.1.0"): AICM renumbers
IDs between versions, so anything that stores a guideline or question ID also stores the version.

This module must not import ``inventory`` or ``evidence``: they depend on the catalog, never the reverse.
The codes that other apps store are therefore repeated here (``SSRM_LAYERS``, ``SSRM_ROLES``) and a test
checks they agree with ``inventory.models``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml

CATALOG_PATH = Path(__file__).resolve().parent / "control" / "cek-11.yaml"
SCHEMA_VERSION = 1

SSRM_LAYERS = ("pi", "model", "orchestrated", "application")
SSRM_ROLES = ("CSP", "MP", "OSP", "AP", "AIC")

T = TypeVar("T")


class ControlCatalogError(ValueError):
    """The catalog file is missing, is not YAML, or does not have the expected shape."""


class GuidelineKind(StrEnum):
    IMPLEMENTATION = "implementation"
    AUDITING = "auditing"
    CCM = "ccm"

    @property
    def label(self) -> str:
        return {
            "implementation": "Implementation guideline",
            "auditing": "Auditing guideline",
            "ccm": "CCM auditing guideline",
        }[self.value]

    @property
    def prefix(self) -> str:
        return {"implementation": "IG", "auditing": "AG", "ccm": "CCM"}[self.value]


class GapLevel(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"

    @property
    def label(self) -> str:
        return {"none": "No Gap", "partial": "Partial Gap", "full": "Full Gap"}[self.value]

    @property
    def css_class(self) -> str:
        return f"gap-{self.value}"


# --- Data -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    id: str
    title: str


@dataclass(frozen=True)
class Term:
    """A threat category or an architectural layer: a stable code and the catalog's name for it."""

    code: str
    name: str


@dataclass(frozen=True)
class LifecyclePhase:
    phase: str
    name: str
    applicable: bool
    applicability: str  # the catalog text, "Not applicable" when the phase does not apply

    @property
    def activities(self) -> tuple[str, ...]:
        if not self.applicable:
            return ()
        return tuple(part.strip() for part in self.applicability.split(",") if part.strip())


@dataclass(frozen=True)
class SsrmOwnership:
    layer: str  # inventory.models.SsrmLayer value
    short: str  # the catalog's column label ("PI")
    name: str
    former_name: str  # the layer's name in AICM v1.0.x, "" when unchanged
    ownership: str  # AI-CAIQ ownership vocabulary: "Shared CSP-MP", "MP-Owned"
    label: str  # "Shared Cloud Service Provider-Model Provider (Shared CSP-MP)"
    owners: tuple[str, ...]  # SSRM role codes: ("CSP", "MP")
    text: str

    @property
    def is_shared(self) -> bool:
        return len(self.owners) > 1


@dataclass(frozen=True)
class Guideline:
    id: str  # "AG-3"; meaningful together with `version`
    kind: GuidelineKind
    text: str
    version: str  # catalog version, "AICM 1.1.0"
    applies_to: str  # "All Actors" or an SSRM role code

    @property
    def number(self) -> int:
        return int(self.id.rsplit("-", 1)[1])

    @property
    def anchor(self) -> str:
        return self.id

    @property
    def qualified_id(self) -> str:
        return f"CEK-11 {self.id} ({self.version})"


@dataclass(frozen=True)
class StandardReference:
    standard: str
    clause: str

    def __str__(self) -> str:
        return f"{self.standard}: {self.clause}"


@dataclass(frozen=True)
class StandardMapping:
    standard: str
    gap: GapLevel
    mapping: str  # the mapping line as given: "No Mapping", "CRY-04"
    references: tuple[StandardReference, ...]
    addendum: str


@dataclass(frozen=True)
class Question:
    id: str  # "CEK-11.1"
    version: str  # "AICM 1.1.0" (AI-CAIQ) or "CAIQ v4"
    text: str

    @property
    def qualified_id(self) -> str:
        return f"{self.id} ({self.version})"


@dataclass(frozen=True)
class Lineage:
    """An earlier framework the control descends from (CCM v4 CEK-11)."""

    framework: str
    version: str
    id: str
    title: str
    relation: str
    note: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Attribution:
    publisher: str
    work: str
    text: str
    licence_note: str


@dataclass(frozen=True)
class Control:
    id: str
    version: str
    unchanged_in: tuple[str, ...]
    title: str
    category: str
    domain: Domain
    specification: str
    threat_categories: tuple[Term, ...]
    architectural_relevance: tuple[Term, ...]
    lifecycle: tuple[LifecyclePhase, ...]
    ssrm: tuple[SsrmOwnership, ...]
    implementation_scope: str
    implementation_note: str
    implementation_guidelines: tuple[Guideline, ...]
    aicm_auditing_guidelines: tuple[Guideline, ...]
    ccm_auditing_guidelines: tuple[Guideline, ...]
    standards_mappings: tuple[StandardMapping, ...]
    questions: tuple[Question, ...]
    lineage: tuple[Lineage, ...]
    attribution: Attribution

    @property
    def qualified_id(self) -> str:
        return f"{self.id} ({self.version})"

    @property
    def auditing_guidelines(self) -> tuple[Guideline, ...]:
        """AG-1 .. AG-10, then CCM-1 .. CCM-3: everything an auditor verifies."""
        return self.aicm_auditing_guidelines + self.ccm_auditing_guidelines

    @property
    def guidelines(self) -> tuple[Guideline, ...]:
        return self.implementation_guidelines + self.auditing_guidelines

    def guideline(self, guideline_id: str) -> Guideline:
        for guideline in self.guidelines:
            if guideline.id == guideline_id:
                return guideline
        known = ", ".join(g.id for g in self.guidelines)
        raise KeyError(f"{self.id} ({self.version}) has no guideline {guideline_id!r}; expected one of: {known}")

    def has_guideline(self, guideline_id: str) -> bool:
        return any(g.id == guideline_id for g in self.guidelines)

    def ssrm_for(self, layer: str) -> SsrmOwnership:
        for ownership in self.ssrm:
            if ownership.layer == layer:
                return ownership
        raise KeyError(f"{self.id} has no SSRM layer {layer!r}; expected one of: {', '.join(SSRM_LAYERS)}")

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise KeyError(f"{self.id} ({self.version}) has no question {question_id!r}; expected one of: {known}")

    @property
    def lifecycle_applicable(self) -> tuple[LifecyclePhase, ...]:
        return tuple(phase for phase in self.lifecycle if phase.applicable)


# --- Loading --------------------------------------------------------------------------------------


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
