"""The control as frozen dataclasses: :class:`Control` and its parts (domain, threat categories, lifecycle, SSRM
ownership per layer, guidelines, standards mappings, questions, lineage, attribution), and the SSRM codes
other apps store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SSRM_LAYERS = ("pi", "model", "orchestrated", "application")
SSRM_ROLES = ("CSP", "MP", "OSP", "AP", "AIC")


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
