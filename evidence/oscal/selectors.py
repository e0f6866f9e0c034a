"""The reads of the OSCAL exports, each a fixed number of queries whatever the size of the inventory.

A check run keeps at most ``FAILING_SUBJECTS_KEPT`` (200) failing subjects per guideline and the full count
(``failing_count``), so the assessment results read at most 13 x 200 subjects and their findings, never the whole
inventory: with 100,000 keys the document lists the failing subjects the run kept, and says how many there were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q

from evidence.models import AnswerStatus, CaiqAnswer, CheckResult, CheckRun, Finding, FindingStatus, RunStatus
from inventory.models import Party, SsrmAssignment


class RunNotFound(LookupError):
    """No check run to export: the message says which and what to do."""


@dataclass(frozen=True)
class RunData:
    run: CheckRun
    results: list[CheckResult]
    # The findings of the results' rules on their failing subjects, as they stood when the run ended (rows of the
    # findings' history), open or risk-accepted then.
    findings: list[Finding]
    answers: list[CaiqAnswer]  # the published CEK-11.1 answers generated from this run, one per party


def run_for_export(pk: int | None) -> CheckRun:
    """The run ``pk`` (or the newest succeeded one); :class:`RunNotFound` when there is none or it has no
    results yet (queued, running or failed)."""
    runs = CheckRun.objects.select_related("triggered_by")
    if pk is None:
        run = runs.filter(status=RunStatus.SUCCEEDED).order_by("-created_at", "-id").first()
        if run is None:
            raise RunNotFound("No check run has succeeded yet: run the checks first (manage.py run_checks).")
        return run
    run = runs.filter(pk=pk).first()
    if run is None:
        raise RunNotFound(f"There is no check run #{pk}. The runs are listed at /evidence/checks/.")
    if run.status != RunStatus.SUCCEEDED:
        raise RunNotFound(
            f"Check run #{pk} is {run.get_status_display().lower()}: only a succeeded run has results to export."
        )
    return run


def run_data(run: CheckRun) -> RunData:
    """Everything the assessment results of ``run`` say: three queries."""
    results = list(
        CheckResult.objects.filter(run=run)
        .select_related("manual_evidence", "manual_evidence__created_by")
        .order_by("position", "guideline_id")
    )
    ended = run.finished_at or run.started_at or run.created_at
    return RunData(run=run, results=results, findings=_findings(results, ended), answers=_answers(run))


def _findings(results: list[CheckResult], ended: dt.datetime) -> list[Finding]:
    """The findings behind the failing subjects each result kept, as of ``ended`` (one query over their history,
    at most 200 subjects per result).

    As of the run's end, not as they are now: the document of a run then never changes (a later run resolves
    findings, GRC assigns or accepts them), like every other point-in-time record of the app. A remediation
    date or risk acceptance recorded after the run shows in the next run's document."""
    conditions = []
    for result in results:
        rule = result.details.get("rule")
        by_type: dict[str, list[int]] = {}
        for subject in result.failing:
            by_type.setdefault(subject["type"], []).append(subject["id"])
        conditions += [Q(rule=rule, subject_type=kind, subject_id__in=ids) for kind, ids in by_type.items() if rule]
    if not conditions:
        return []
    rows = (
        Finding.history.filter(reduce(or_, conditions), history_date__lte=ended)
        .select_related("assigned_to", "accepted_by")
        .order_by("id", "-history_date", "-history_id")
    )
    latest: dict[int, Finding] = {}
    for row in rows:
        latest.setdefault(row.id, row)
    live = (FindingStatus.OPEN, FindingStatus.RISK_ACCEPTED)
    found = [row for row in latest.values() if row.status in live]
    return sorted(found, key=lambda row: (row.rule, row.subject_type, row.subject_id))


def _answers(run: CheckRun) -> list[CaiqAnswer]:
    """Per party, the newest published answer generated from ``run``. Published answers are frozen; a draft is
    not an answer yet (and would change the document each time it is edited)."""
    chosen: dict[int, CaiqAnswer] = {}
    answers = CaiqAnswer.objects.filter(check_run=run, status=AnswerStatus.PUBLISHED).select_related("party")
    for answer in answers.order_by("party__name", "-published_at", "-id"):
        chosen.setdefault(answer.party_id, answer)
    return list(chosen.values())


@dataclass(frozen=True)
class SsrmData:
    parties: list[Party]
    assignments: list[SsrmAssignment]


def ssrm_data() -> SsrmData:
    """Every party and every SSRM assignment (two queries)."""
    return SsrmData(
        parties=list(Party.objects.order_by("name")),
        assignments=list(SsrmAssignment.objects.select_related("party").order_by("layer", "role", "party__name")),
    )
