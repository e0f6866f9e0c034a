"""Guidelines the data cannot decide yet: their result is "manual" and shows the newest manual evidence."""

from __future__ import annotations

from cek.people import person_name
from evidence.checks.base import Check, CheckContext, Outcome, day
from evidence.models import CheckStatus


class ManualCheck(Check):
    """A guideline assessed by people: the newest ``ManualEvidence`` of the guideline is shown with it."""

    manual = True
    accepts_manual_evidence = True
    missing_data: str = ""

    def evaluate(self, ctx: CheckContext) -> Outcome:
        return manual_outcome(self.guideline_id, self.missing_data, ctx)


def manual_outcome(
    guideline_id: str, missing_data: str, ctx: CheckContext, *, assessed: str = "This guideline is assessed manually"
) -> Outcome:
    """The "manual" result of a guideline the data cannot decide: its newest manual evidence, or none recorded
    (``missing_data`` says what data is missing). AG-8 returns it too while no IaC scan is recorded."""
    evidence = ctx.manual_evidence.get(guideline_id)
    if evidence is None:
        metric = "No manual evidence recorded"
        explanation = (
            f"{missing_data} {assessed}: GRC records what it verified (a note, "
            "optionally a document) and its assessment on this result's page; auditors read it there."
        )
        refs = []
    else:
        verdict = evidence.get_assessment_display().lower() if evidence.assessment else "no assessment"
        by = person_name(evidence.created_by)  # stored in the result: people read it, in the app and in packs
        metric = f"Assessed {verdict} by {by} on {day(evidence.created_at)}"
        explanation = (
            f"{missing_data} The newest manual evidence, recorded by {by} on "
            f"{day(evidence.created_at)}, counts: {evidence.note}"
        )
        refs = []
        if evidence.document:
            refs.append({"label": evidence.document_name or "Attached document", "sha256": evidence.sha256})
    return Outcome(
        status=CheckStatus.MANUAL,
        metric=metric,
        explanation=explanation,
        evidence=refs,
        manual_evidence=evidence,
        details={"assessment": evidence.assessment if evidence else ""},
    )
