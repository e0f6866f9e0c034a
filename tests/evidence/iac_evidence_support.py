"""Recorded IaC scans for the AG-8 evidence tests: a scan row as ``check_iac --record`` stores it, at a chosen time."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from evidence.iac.models import IacScan
from tests.factories import UserFactory


def recorded_scan(
    repository: str = "acme/infra",
    *,
    violations: int = 0,
    days_ago: float = 1,
    by=None,
    commit: str = "abc123def4567890",
    now: dt.datetime | None = None,
) -> IacScan:
    """A scan of ``repository`` recorded ``days_ago`` days before ``now`` (``recorded_at`` is set on creation, so
    recorded with the clock moved back: scans are write-once)."""
    when = (now or timezone.now()) - dt.timedelta(days=days_ago)
    with time_machine.travel(when, tick=False):
        return IacScan.objects.create(
            repository=repository,
            commit=commit,
            source="plan",
            input_sha256="e" * 64,
            resources=12,
            keys=3,
            consumers=5,
            matched_keys=2,
            violations_count=violations,
            passed=not violations,
            violations=[
                {"rule": "iac-multi-purpose", "key_address": f"aws_kms_key.shared{i}", "key_ref": "", "consumers": []}
                for i in range(violations)
            ],
            recorded_by=by or UserFactory(),
            software_version="cek test",
        )
