"""The infrastructure-as-code gate section (``templates/pdf/_iac.html``): AG-8's figures as the pack's check run
computed them, and each repository scanned during the window with its last scan of the window, verdict and
violations over the window. The scans themselves are in ``iac-scans.csv`` (``evidence.packs.data``).

A commit is shown by its first ``SHORT_COMMIT`` hex digits (git's short form): a full 40-digit SHA has the shape of
a 160-bit secret, which the export guard stops; the repository page of the app shows the full commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum

from evidence.iac.models import IacScan
from evidence.iac.result import short_commit
from evidence.models import CheckResult
from evidence.packs.content.table import Table

IAC_GUIDELINE = "AG-8"
IAC_SCANS_FILE = "iac-scans.csv"


@dataclass
class IacSection:
    figures: dict | None  # AG-8's ``details["iac"]`` in the pack's check run (None: no run, or no figures)
    status: str  # AG-8's status in that run ("" without a run)
    status_label: str
    metric: str
    scans: int  # scans recorded in the window
    repositories: Table  # rows: dicts, see _repository_row


def scans_in_window(start: dt.datetime, end: dt.datetime):
    return IacScan.objects.filter(recorded_at__gte=start, recorded_at__lt=end)


def iac_section(run_id: int | None, start: dt.datetime, end: dt.datetime, limit: int) -> IacSection:
    """A fixed number of queries: AG-8's result in the pack's run, and the window's scans grouped per repository
    with the last one's verdict (plus a count when there are more repositories than the PDF lists)."""
    result = CheckResult.objects.filter(run_id=run_id, guideline_id=IAC_GUIDELINE).first() if run_id else None
    figures = (result.details or {}).get("iac") if result is not None else None
    scans = scans_in_window(start, end)
    last = scans.filter(repository=OuterRef("repository")).order_by("-recorded_at", "-id")
    per_repository = (
        scans.order_by()
        .values("repository")
        .annotate(
            scan_count=Count("pk"),
            failed=Count("pk", filter=Q(passed=False)),
            violations=Sum("violations_count"),
            last_at=Max("recorded_at"),
            last_id=Subquery(last.values("pk")[:1]),
            last_passed=Subquery(last.values("passed")[:1]),
            last_violations=Subquery(last.values("violations_count")[:1]),
            last_commit=Subquery(last.values("commit")[:1]),
        )
        .order_by("repository")
    )
    rows = [_repository_row(row) for row in per_repository[: limit + 1]]
    total = len(rows) if len(rows) <= limit else per_repository.count()
    return IacSection(
        figures=figures if isinstance(figures, dict) else None,
        status=result.status if result else "",
        status_label=result.get_status_display() if result else "",
        metric=result.metric if result else "",
        scans=sum(row["scans"] for row in rows) if total <= limit else scans.count(),
        repositories=Table(total=total, rows=rows if total <= limit else None, data_file=IAC_SCANS_FILE, limit=limit),
    )


def _repository_row(row: dict) -> dict:
    return {
        "repository": row["repository"],
        "scans": row["scan_count"],
        "failed_scans": row["failed"],
        "violations": row["violations"] or 0,
        "last_scan_id": row["last_id"],
        "last_recorded_at": row["last_at"],
        "last_commit": short_commit(row["last_commit"]),
        "last_passed": bool(row["last_passed"]),
        "last_violations": row["last_violations"] or 0,
    }
