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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

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


def _due_problem(value, *, what: str, today: dt.date) -> str | None:
    """What is wrong with a due date of a plan (``None`` when nothing is)."""
    day = parse_day(value)
    if day is None:
        return f"{what} needs a due date (YYYY-MM-DD)."
    if day < today:
        return f"{what} is due {day:%Y-%m-%d}, which has passed: set a new date."
    return None


# --- The fill rules: each a small named check yielding the message of every way an answer breaks it ----------


@dataclass
class _Answer:
    """The answer being checked, with what several rules read computed once."""

    answer: Any  # a CaiqAnswer
    today: dt.date

    @property
    def value(self) -> str:
        return self.answer.answer

    @property
    def ownership(self) -> str:
        return self.answer.ownership

    @cached_property
    def assessment(self) -> Assessment:
        return assess((self.answer.facts or {}).get("guidelines", []))

    @cached_property
    def plan(self) -> dict:
        return self.answer.corrective_action or {}


def _unknown_answer(a: _Answer) -> Iterator[str]:
    if a.value not in AnswerValue.values:
        yield "Choose the answer: YES, NO or NA."


def _no_description(a: _Answer) -> Iterator[str]:
    if not (a.answer.implementation or "").strip():
        yield "The implementation description (column E) is empty."


def _unexplained_override(a: _Answer) -> Iterator[str]:
    if a.value != a.answer.generated_answer and not (a.answer.override_reason or "").strip():
        yield f"The evidence gives {a.answer.generated_answer}; answering {a.value} instead needs a recorded reason."


def _na_not_nd(a: _Answer) -> Iterator[str]:
    if a.ownership != ControlOwnership.ND:
        yield f"NA is answered with ownership ND, not “{a.ownership}”."


def _na_unjustified(a: _Answer) -> Iterator[str]:
    if not (a.answer.na_justification or "").strip():
        yield "NA needs a justification of why CEK-11 does not apply."


def _no_owner(a: _Answer) -> Iterator[str]:
    if a.ownership == ControlOwnership.ND:
        who = "the owner of the control" if a.value == AnswerValue.YES else "who owns the remediation"
        yield f"{a.value} needs an SSRM Control Ownership naming {who}, not ND."


def _no_check_run(a: _Answer) -> Iterator[str]:
    if a.answer.check_run_id is None or not (a.answer.facts or {}).get("check_run"):
        yield (
            "No check run evaluated the auditing guidelines for this answer: run the checks, then generate a new "
            "draft from that run."
        )


def _significant_gaps(a: _Answer) -> Iterator[str]:
    significant = a.assessment.significant
    if significant:
        listed = ", ".join(gap.guideline for gap in significant)
        yield (
            f"{listed} fail{'s' if len(significant) == 1 else ''} so that the control's "
            "effectiveness is significantly reduced: answer NO with a corrective-action plan, or fix the "
            "failures and re-run the checks."
        )


def _undisclosed_gaps(a: _Answer) -> Iterator[str]:
    disclosed = {str(item.get("guideline", "")).strip() for item in a.answer.disclosures or []}
    for gap in a.assessment.minor:
        if gap.guideline not in disclosed:
            yield f"{gap.describe()}: a YES must disclose this gap with a remediation plan and date."


def _incomplete_disclosures(a: _Answer) -> Iterator[str]:
    for index, item in enumerate(a.answer.disclosures or [], start=1):
        name = f"Disclosure {index} ({item.get('guideline') or 'no guideline'})"
        if not str(item.get("gap", "")).strip():
            yield f"{name} does not describe the gap."
        if not str(item.get("remediation", "")).strip():
            yield f"{name} has no remediation plan."
        problem = _due_problem(item.get("due"), what=name, today=a.today)
        if problem:
            yield problem


def _plan_without_owner(a: _Answer) -> Iterator[str]:
    if not str(a.plan.get("owner", "")).strip():
        yield "The corrective-action plan needs an owner."


def _plan_due(a: _Answer) -> Iterator[str]:
    problem = _due_problem(a.plan.get("due"), what="The corrective-action plan", today=a.today)
    if problem:
        yield problem


def _plan_without_milestones(a: _Answer) -> Iterator[str]:
    if not (a.plan.get("milestones") or []):
        yield "The corrective-action plan needs at least one milestone."


def _incomplete_milestones(a: _Answer) -> Iterator[str]:
    plan_due = parse_day(a.plan.get("due"))
    for index, milestone in enumerate(a.plan.get("milestones") or [], start=1):
        what = f"Milestone {index}"
        if not str(milestone.get("text", "")).strip():
            yield f"{what} has no description."
        problem = _due_problem(milestone.get("due"), what=what, today=a.today)
        if problem:
            yield problem
        day = parse_day(milestone.get("due"))
        if day and plan_due and day > plan_due:
            yield f"{what} is due {day:%Y-%m-%d}, after the plan's due date {plan_due:%Y-%m-%d}."


@dataclass(frozen=True)
class FillRule:
    """A row of :data:`FILL_RULES`: for an answer whose value is in ``answers`` (any value when ``None``),
    ``check`` yields the message of each way it breaks the rule, recorded against ``field``."""

    field: str  # the answer's field the rule is about ("" for the answer as a whole)
    rule: str  # short name of the fill rule
    answers: frozenset[str] | None
    check: Callable[[_Answer], Iterable[str]]


_ANY = frozenset(AnswerValue.values)
_NA = frozenset({AnswerValue.NA})
_YES = frozenset({AnswerValue.YES})
_NO = frozenset({AnswerValue.NO})
_YES_OR_NO = _YES | _NO

# In the order the violations are listed. Only the first row applies to a value that is not an answer.
FILL_RULES: tuple[FillRule, ...] = (
    FillRule("answer", "answer", None, _unknown_answer),
    FillRule("implementation", "description", _ANY, _no_description),
    FillRule("override_reason", "override", _ANY, _unexplained_override),
    FillRule("ownership", "na-ownership", _NA, _na_not_nd),
    FillRule("na_justification", "na-justification", _NA, _na_unjustified),
    FillRule("ownership", "owner", _YES_OR_NO, _no_owner),
    FillRule("check_run", "evidence", _YES_OR_NO, _no_check_run),
    FillRule("answer", "significant", _YES, _significant_gaps),
    FillRule("disclosures", "disclosure", _YES, _undisclosed_gaps),
    FillRule("disclosures", "disclosure", _YES_OR_NO, _incomplete_disclosures),
    FillRule("corrective_action", "corrective-action", _NO, _plan_without_owner),
    FillRule("corrective_action", "corrective-action", _NO, _plan_due),
    FillRule("corrective_action", "corrective-action", _NO, _plan_without_milestones),
    FillRule("corrective_action", "corrective-action", _NO, _incomplete_milestones),
)


def validate(answer, *, today: dt.date) -> list[Violation]:
    """Every fill rule ``answer`` (a ``CaiqAnswer``) breaks; empty when it may be published."""
    checked = _Answer(answer=answer, today=today)
    return [
        Violation(rule.field, rule.rule, message)
        for rule in FILL_RULES
        if rule.answers is None or checked.value in rule.answers
        for message in rule.check(checked)
    ]
