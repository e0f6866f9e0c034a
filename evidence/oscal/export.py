"""The two OSCAL documents as files: read, build, guard, write. What the command and the download share."""

from __future__ import annotations

from dataclasses import dataclass

from evidence.oscal import assessment_results, component
from evidence.oscal.common import dumps, guard
from evidence.oscal.selectors import RunNotFound, run_data, run_for_export, ssrm_data

__all__ = ["OscalFile", "RunNotFound", "assessment_results_file", "component_definition_file"]


@dataclass(frozen=True)
class OscalFile:
    filename: str
    text: str


def assessment_results_file(*, run_pk: int | None = None) -> OscalFile:
    """The assessment results of check run ``run_pk`` (None: the newest succeeded run). Raises
    :class:`RunNotFound` (no such run, or no results) and ``ExportRefused`` (a value looks like key material)."""
    run = run_for_export(run_pk)
    document = assessment_results.build(run_data(run))
    guard(document, export="The OSCAL assessment results")
    return OscalFile(filename=f"cek-check-run-{run.pk}.oscal-ar.json", text=dumps(document))


def component_definition_file() -> OscalFile:
    """The SSRM responsibilities as a component definition. Raises ``ExportRefused`` like every export."""
    document = component.build(ssrm_data())
    guard(document, export="The OSCAL component definition")
    return OscalFile(filename="cek-ssrm.oscal-component.json", text=dumps(document))
