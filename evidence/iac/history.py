"""Reads of the recorded IaC scans: for the scans pages each repository with its last scan, a repository's scans
and one scan; for AG-8 (the check, the dashboard) ``iac_coverage``, which repositories the gate covers.
(``evidence.iac.selectors`` holds the gate's own reads of the inventory.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from evidence.findings.selectors import effectively_open
from evidence.iac.models import IacScan
from evidence.iac.result import RULES
from evidence.models import Finding

VERDICTS = {"pass": True, "fail": False}


def _of_repository():
    return IacScan.objects.filter(repository=OuterRef("repository"))


def last_scans(*, verdict: str = "") -> QuerySet[IacScan]:
    """The last scan of each repository (by name), with ``scan_count`` (the repository's scans), in a fixed number
    of queries however many repositories there are. ``verdict`` "pass" or "fail" keeps the repositories whose last
    scan passed or failed; anything else keeps all."""
    latest = _of_repository().order_by("-recorded_at", "-id").values("pk")[:1]
    count = _of_repository().order_by().values("repository").annotate(n=Count("pk")).values("n")
    scans = (
        IacScan.objects.filter(pk=Subquery(latest))
        .annotate(scan_count=Coalesce(Subquery(count, output_field=IntegerField()), 0))
        .select_related("recorded_by")
        .order_by("repository", "-id")
    )
    if verdict in VERDICTS:
        scans = scans.filter(passed=VERDICTS[verdict])
    return scans


def repository_scans(repository: str) -> QuerySet[IacScan]:
    """The scans of ``repository``, newest first."""
    return IacScan.objects.filter(repository=repository).select_related("recorded_by").order_by("-recorded_at", "-id")


def scans() -> QuerySet[IacScan]:
    return IacScan.objects.select_related("recorded_by")


# --- AG-8: which repositories the gate covers ----------------------------------------------------------------


class RepositoryStatus(NamedTuple):
    """A repository's newest recorded scan and its open IaC findings (an acceptance that ended counts as open)."""

    scan_id: int
    repository: str
    commit: str
    recorded_at: dt.datetime
    passed: bool
    violations_count: int
    open_findings: int

    def reasons(self, *, fresh_since: dt.datetime) -> list[str]:
        """Why the repository is not covered (empty when it is)."""
        reasons = []
        day = f"{timezone.localtime(self.recorded_at):%Y-%m-%d}"
        if not self.passed:
            reasons.append(f"its newest scan ({day}) reports {self.violations_count} violation(s)")
        if self.recorded_at < fresh_since:
            reasons.append(f"its newest scan is from {day}, before the window")
        if self.open_findings:
            reasons.append(f"{self.open_findings} open IaC finding(s)")
        return reasons


@dataclass(frozen=True)
class IacCoverage:
    """The AG-8 figures: every repository with a recorded scan, and which of them the gate covers (its newest scan
    passed, within ``fresh_days`` of ``now``, and no open IaC finding of the repository)."""

    now: dt.datetime
    fresh_days: int
    repositories: tuple[RepositoryStatus, ...]

    @property
    def fresh_since(self) -> dt.datetime:
        return self.now - dt.timedelta(days=self.fresh_days)

    @property
    def scanned(self) -> int:
        return len(self.repositories)

    @property
    def covered(self) -> list[RepositoryStatus]:
        return [repo for repo in self.repositories if not repo.reasons(fresh_since=self.fresh_since)]

    @property
    def not_covered(self) -> list[tuple[RepositoryStatus, list[str]]]:
        pairs = [(repo, repo.reasons(fresh_since=self.fresh_since)) for repo in self.repositories]
        return [(repo, reasons) for repo, reasons in pairs if reasons]

    @property
    def failing(self) -> int:
        """Repositories whose newest scan reports violations."""
        return sum(1 for repo in self.repositories if not repo.passed)

    @property
    def stale(self) -> int:
        """Repositories whose newest scan is older than the window."""
        return sum(1 for repo in self.repositories if repo.recorded_at < self.fresh_since)

    @property
    def with_open_findings(self) -> int:
        return sum(1 for repo in self.repositories if repo.open_findings)

    def as_dict(self) -> dict:
        """The figures a check result keeps (``details["iac"]``) for the answer and the evidence pack."""
        return {
            "repositories": self.scanned,
            "covered": len(self.covered),
            "failing": self.failing,
            "stale": self.stale,
            "with_open_findings": self.with_open_findings,
            "fresh_days": self.fresh_days,
        }


def iac_coverage(*, now: dt.datetime, fresh_days: int) -> IacCoverage:
    """The newest scan of each repository with the count of its open IaC findings, in one query (the findings are
    counted by a subquery on their ``details.repository``, as ``iac_scan_record`` writes it)."""
    today = timezone.localdate(now)
    latest = _of_repository().order_by("-recorded_at", "-id").values("pk")[:1]
    open_findings = (
        Finding.objects.filter(effectively_open(today), rule__in=list(RULES))
        .annotate(repository=KeyTextTransform("repository", "details"))
        .filter(repository=OuterRef("repository"))
        .order_by()
        .values("repository")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        IacScan.objects.filter(pk=Subquery(latest))
        .annotate(open_findings=Coalesce(Subquery(open_findings, output_field=IntegerField()), 0))
        .order_by("repository", "-id")
        .values_list("pk", "repository", "commit", "recorded_at", "passed", "violations_count", "open_findings")
    )
    return IacCoverage(now=now, fresh_days=fresh_days, repositories=tuple(RepositoryStatus(*row) for row in rows))
