"""The AI-CAIQ fill rules for the CEK-11.1 answer, and which guideline failures are significant.

CSA's filling rules (see ``/reference/formats.md``): YES names an owner; minor gaps stay YES but are disclosed
with a remediation plan and date; guidelines failing so that the control's effectiveness is significantly
reduced give NO with a corrective-action plan (owner, milestones, due date); NA is answered with ownership ND
and a justification.

What counts as *significant* is decided here, in one table, so the generator, the publish check and the page
that explains the answer all agree:

==================  ===========================================================================================
Condition           Why it reduces CEK-11's effectiveness significantly
==================  ===========================================================================================
AG-1 fails          Keys without exactly one purpose, or whose platform usage contradicts it: the control's
                    core requirement ("provisioned for a unique purpose") does not hold.
AG-3 fails          A key is bound, tagged or used for several purposes: the reuse the control exists to
                    prevent is happening.
CCM-1 fails         No approved key-management policy in force, or its review is overdue: nothing defines how
                    the keys must be managed, so "properly managed" cannot be established.
3 or more fail      Several guidelines failing together: the control is not operating as a whole, even when
                    each failure alone would be minor.
==================  ===========================================================================================

Every other gap is *minor* and is disclosed under a YES: a failing or partial guideline not in the table, a
partial AG-1/AG-3/CCM-1, and a "manual" guideline without an assessment (the data cannot evidence it yet).
A manual guideline with recorded manual evidence counts with the author's assessment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from evidence.models import AnswerValue, CheckStatus, ControlOwnership

SIGNIFICANT_GUIDELINES: dict[str, str] = {
    "AG-1": (
        "Keys without exactly one purpose, or whose platform usage contradicts it: the control's core "
        "requirement (a unique purpose per key) does not hold."
    ),
    "AG-3": "A key is bound, tagged or used for several purposes: the reuse the control exists to prevent happens.",
    "CCM-1": (
        "No approved key-management policy in force, or its review is overdue: nothing defines how keys must be "
        "managed, so 'properly managed' cannot be established."
    ),
}
SEVERAL_FAILURES = 3
SEVERAL_FAILURES_REASON = (
    f"{SEVERAL_FAILURES} or more guidelines fail together: the control is not operating as a whole, even when "
    "each failure alone would be minor."
)

# (condition, reason) rows of the table above, for the pages that explain the answer.
SIGNIFICANCE_TABLE: tuple[tuple[str, str], ...] = (
    *((f"{guideline} fails", reason) for guideline, reason in SIGNIFICANT_GUIDELINES.items()),
    (f"{SEVERAL_FAILURES} or more guidelines fail", SEVERAL_FAILURES_REASON),
)

GAP_STATUSES = {CheckStatus.FAIL, CheckStatus.PARTIAL, CheckStatus.MANUAL}


@dataclass(frozen=True)
class Gap:
    guideline: str
    status: str  # effective status: fail, partial or manual (not evidenced)
    metric: str
    failing_count: int
    explanation: str
    why_significant: str = ""

    @property
    def significant(self) -> bool:
        return bool(self.why_significant)

    def describe(self) -> str:
        label = {"fail": "fails", "partial": "partially passes", "manual": "is not evidenced by the data yet"}
        text = f"{self.guideline} {label.get(self.status, self.status)}"
        if self.metric:
            text += f" ({self.metric})"
        return text


@dataclass(frozen=True)
class Assessment:
    significant: tuple[Gap, ...]
    minor: tuple[Gap, ...]

    @property
    def gaps(self) -> tuple[Gap, ...]:
        return self.significant + self.minor


@dataclass(frozen=True)
class Violation:
    field: str  # the answer's field the rule is about ("" for the answer as a whole)
    rule: str  # short name of the fill rule
    message: str

    def __str__(self) -> str:
        return self.message


def effective_status(result: dict) -> str:
    """A guideline's status as the answer counts it: a manual guideline takes its manual assessment."""
    status = result.get("status", "")
    if status == CheckStatus.MANUAL and result.get("manual_assessment"):
        return result["manual_assessment"]
    return status


def assess(guidelines: list[dict]) -> Assessment:
    """Split the gaps of a run's guideline results (``facts["guidelines"]``) into significant and minor."""
    gaps = []
    for result in guidelines:
        status = effective_status(result)
        if status not in GAP_STATUSES:
            continue
        gaps.append((result, status))
    failures = [result["id"] for result, status in gaps if status == CheckStatus.FAIL]
    several = len(failures) >= SEVERAL_FAILURES
    significant, minor = [], []
    for result, status in gaps:
        why = ""
        if status == CheckStatus.FAIL:
            why = SIGNIFICANT_GUIDELINES.get(result["id"], "") or (SEVERAL_FAILURES_REASON if several else "")
        gap = Gap(
            guideline=result["id"],
            status=status,
            metric=result.get("metric", ""),
            failing_count=int(result.get("failing_count") or 0),
            explanation=result.get("explanation", ""),
            why_significant=why,
        )
        (significant if why else minor).append(gap)
    return Assessment(significant=tuple(significant), minor=tuple(minor))


def parse_day(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _check_due(value, *, field: str, what: str, today: dt.date, rule: str) -> list[Violation]:
    day = parse_day(value)
    if day is None:
        return [Violation(field, rule, f"{what} needs a due date (YYYY-MM-DD).")]
    if day < today:
        return [Violation(field, rule, f"{what} is due {day:%Y-%m-%d}, which has passed: set a new date.")]
    return []


def validate(answer, *, today: dt.date) -> list[Violation]:
    """Every fill rule ``answer`` (a ``CaiqAnswer``) breaks; empty when it may be published."""
    violations: list[Violation] = []
    value, ownership = answer.answer, answer.ownership
    facts = answer.facts or {}
    if value not in AnswerValue.values:
        return [Violation("answer", "answer", "Choose the answer: YES, NO or NA.")]
    if not (answer.implementation or "").strip():
        violations.append(
            Violation("implementation", "description", "The implementation description (column E) is empty.")
        )
    if value != answer.generated_answer and not (answer.override_reason or "").strip():
        violations.append(
            Violation(
                "override_reason",
                "override",
                f"The evidence gives {answer.generated_answer}; answering {value} instead needs a recorded reason.",
            )
        )
    if value == AnswerValue.NA:
        if ownership != ControlOwnership.ND:
            violations.append(
                Violation("ownership", "na-ownership", f"NA is answered with ownership ND, not “{ownership}”.")
            )
        if not (answer.na_justification or "").strip():
            violations.append(
                Violation(
                    "na_justification", "na-justification", "NA needs a justification of why CEK-11 does not apply."
                )
            )
        return violations

    if ownership == ControlOwnership.ND:
        who = "the owner of the control" if value == AnswerValue.YES else "who owns the remediation"
        violations.append(
            Violation("ownership", "owner", f"{value} needs an SSRM Control Ownership naming {who}, not ND.")
        )
    if answer.check_run_id is None or not facts.get("check_run"):
        violations.append(
            Violation(
                "check_run",
                "evidence",
                "No check run evaluated the auditing guidelines for this answer: run the checks, then generate a new "
                "draft from that run.",
            )
        )
    assessment = assess(facts.get("guidelines", []))
    if value == AnswerValue.YES:
        if assessment.significant:
            listed = ", ".join(gap.guideline for gap in assessment.significant)
            violations.append(
                Violation(
                    "answer",
                    "significant",
                    f"{listed} fail{'s' if len(assessment.significant) == 1 else ''} so that the control's "
                    "effectiveness is significantly reduced: answer NO with a corrective-action plan, or fix the "
                    "failures and re-run the checks.",
                )
            )
        disclosed = {str(item.get("guideline", "")).strip() for item in answer.disclosures or []}
        for gap in assessment.minor:
            if gap.guideline not in disclosed:
                violations.append(
                    Violation(
                        "disclosures",
                        "disclosure",
                        f"{gap.describe()}: a YES must disclose this gap with a remediation plan and date.",
                    )
                )
    for index, item in enumerate(answer.disclosures or [], start=1):
        name = f"Disclosure {index} ({item.get('guideline') or 'no guideline'})"
        if not str(item.get("gap", "")).strip():
            violations.append(Violation("disclosures", "disclosure", f"{name} does not describe the gap."))
        if not str(item.get("remediation", "")).strip():
            violations.append(Violation("disclosures", "disclosure", f"{name} has no remediation plan."))
        violations += _check_due(item.get("due"), field="disclosures", what=name, today=today, rule="disclosure")
    if value == AnswerValue.NO:
        plan = answer.corrective_action or {}
        if not str(plan.get("owner", "")).strip():
            violations.append(
                Violation("corrective_action", "corrective-action", "The corrective-action plan needs an owner.")
            )
        plan_due = parse_day(plan.get("due"))
        violations += _check_due(
            plan.get("due"),
            field="corrective_action",
            what="The corrective-action plan",
            today=today,
            rule="corrective-action",
        )
        milestones = plan.get("milestones") or []
        if not milestones:
            violations.append(
                Violation(
                    "corrective_action", "corrective-action", "The corrective-action plan needs at least one milestone."
                )
            )
        for index, milestone in enumerate(milestones, start=1):
            what = f"Milestone {index}"
            if not str(milestone.get("text", "")).strip():
                violations.append(Violation("corrective_action", "corrective-action", f"{what} has no description."))
            violations += _check_due(
                milestone.get("due"), field="corrective_action", what=what, today=today, rule="corrective-action"
            )
            day = parse_day(milestone.get("due"))
            if day and plan_due and day > plan_due:
                violations.append(
                    Violation(
                        "corrective_action",
                        "corrective-action",
                        f"{what} is due {day:%Y-%m-%d}, after the plan's due date {plan_due:%Y-%m-%d}.",
                    )
                )
    return violations
