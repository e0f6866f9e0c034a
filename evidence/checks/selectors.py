"""Reads of check runs, their per-guideline results and manual evidence.

Every function runs a fixed number of queries whatever the number of runs or results: the summary the lists
and the trend need is kept on the ``CheckRun`` row (``counts``), and results are read per run in one query.

- ``latest_run()``: the newest succeeded run (or ``None``);
- ``run_results(run)``: that run's results in catalog order, with their manual evidence joined;
- ``latest_results()``: ``run_results(latest_run())`` (``[]`` when nothing ran yet);
- ``trend(limit)``: the newest succeeded runs, newest first, for the dashboard's trend.
"""

from __future__ import annotations

from django.db.models import QuerySet

from cek.roles import can_read_all
from evidence.models import CheckResult, CheckRun, ManualEvidence, RunStatus


def can_see_checks(user) -> bool:
    """Check runs evaluate the whole inventory, so they are GRC's and the auditors' (read) material."""
    return can_read_all(user)


def runs() -> QuerySet[CheckRun]:
    return CheckRun.objects.select_related("triggered_by").order_by("-created_at", "-id")


def latest_run() -> CheckRun | None:
    """The newest succeeded run, or ``None`` when no run succeeded yet."""
    return runs().filter(status=RunStatus.SUCCEEDED).first()


def run_results(run: CheckRun | None) -> list[CheckResult]:
    """The results of ``run`` in catalog order (one query)."""
    if run is None:
        return []
    return list(
        CheckResult.objects.filter(run=run)
        .select_related("manual_evidence", "manual_evidence__created_by")
        .order_by("position", "guideline_id")
    )


def latest_results() -> list[CheckResult]:
    """The results of the newest succeeded run (two queries; ``[]`` when nothing ran yet)."""
    return run_results(latest_run())


def trend(limit: int = 10) -> list[CheckRun]:
    """The newest ``limit`` succeeded runs, newest first (one query)."""
    return list(runs().filter(status=RunStatus.SUCCEEDED)[:limit])


def run_active() -> CheckRun | None:
    """A run still queued or running, if any (the UI does not start a second one next to it)."""
    return runs().filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()


def result_get(pk: int) -> CheckResult:
    return CheckResult.objects.select_related("run", "run__triggered_by", "manual_evidence").get(pk=pk)


def manual_evidence_for(guideline_id: str) -> QuerySet[ManualEvidence]:
    """Manual evidence recorded for a guideline, newest first (the first one counts)."""
    return ManualEvidence.objects.filter(guideline_id=guideline_id).select_related("created_by")


def latest_manual_evidence(guideline_ids) -> dict[str, ManualEvidence]:
    """The newest manual evidence per guideline among ``guideline_ids`` (one query)."""
    latest: dict[str, ManualEvidence] = {}
    for item in ManualEvidence.objects.filter(guideline_id__in=list(guideline_ids)).select_related("created_by"):
        latest.setdefault(item.guideline_id, item)
    return latest


def manual_evidence_for_any() -> QuerySet[ManualEvidence]:
    return ManualEvidence.objects.select_related("created_by")
