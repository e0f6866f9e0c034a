"""The auditing guidelines section (``templates/pdf/_guidelines.html``, statuses drawn by ``_status.html``): each
guideline's result in the newest check run that finished before the end of the window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from evidence.models import CheckResult, CheckRun, CheckStatus, RunStatus
from evidence.packs.content.table import person

FAILING_SHOWN = 10  # failing subjects listed per guideline in the PDF; the count is always shown


@dataclass
class GuidelineRow:
    id: str
    kind: str
    text: str
    status: str  # CheckStatus value, "" when the run has no result for it
    status_label: str
    metric: str
    explanation: str
    evidence: list[dict]  # {"label", "url"?, "sha256"?}
    failing_count: int
    failing: list[dict]  # the first FAILING_SHOWN: {"label", "reason"}
    manual_note: str
    manual_by: str
    manual_at: dt.datetime | None


@dataclass
class GuidelineSection:
    run_id: int | None
    run_finished_at: dt.datetime | None
    run_trigger: str
    run_triggered_by: str
    keys_evaluated: int
    counts: dict
    rows: list[GuidelineRow]


def guideline_section(control, end: dt.datetime) -> GuidelineSection:
    """The newest succeeded check run that finished before the end of the window."""
    run = (
        CheckRun.objects.filter(status=RunStatus.SUCCEEDED, finished_at__lt=end)
        .select_related("triggered_by")
        .order_by("-finished_at", "-id")
        .first()
    )
    results = {}
    if run is not None:
        results = {
            r.guideline_id: r
            for r in CheckResult.objects.filter(run=run).select_related(
                "manual_evidence", "manual_evidence__created_by"
            )
        }
    rows = []
    for guideline in control.auditing_guidelines:
        result = results.get(guideline.id)
        manual = result.manual_evidence if result is not None else None
        rows.append(
            GuidelineRow(
                id=guideline.id,
                kind=guideline.kind.label,
                text=guideline.text,
                status=result.status if result else "",
                status_label=result.get_status_display() if result else "Not evaluated",
                metric=result.metric if result else "",
                explanation=result.explanation if result else "",
                evidence=[_evidence_ref(item) for item in (result.evidence if result else [])],
                failing_count=result.failing_count if result else 0,
                failing=[
                    {"label": str(item.get("label", "")), "reason": str(item.get("reason", ""))}
                    for item in (result.failing if result else [])[:FAILING_SHOWN]
                    if isinstance(item, dict)
                ],
                manual_note=manual.note if manual else "",
                manual_by=person(manual.created_by) if manual else "",
                manual_at=manual.created_at if manual else None,
            )
        )
    return GuidelineSection(
        run_id=run.pk if run else None,
        run_finished_at=run.finished_at if run else None,
        run_trigger=run.get_trigger_display() if run else "",
        run_triggered_by=person(run.triggered_by) if run else "",
        keys_evaluated=run.keys_evaluated if run else 0,
        counts={status.label: int((run.counts or {}).get(status.value, 0)) for status in CheckStatus} if run else {},
        rows=rows,
    )


def _evidence_ref(item) -> dict:
    if not isinstance(item, dict):
        return {"label": str(item), "url": "", "sha256": ""}
    return {
        "label": str(item.get("label", "")),
        "url": str(item.get("url", "")),
        "sha256": str(item.get("sha256", "")),
    }
