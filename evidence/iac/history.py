"""Reads of the recorded IaC scans for the scans pages: each repository with its last scan, a repository's scans
and one scan. (``evidence.iac.selectors`` holds the gate's own reads of the inventory.)"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from evidence.iac.models import IacScan

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
