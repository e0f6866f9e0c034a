"""Data builders shared by the evidence-pack content and PDF tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cek.control import load_control
from evidence.models import CheckResult, CheckRun, EvidencePack, RunStatus, RunTrigger
from inventory.models import Party
from tests.factories import PartyFactory, UserFactory

WINDOW_DAYS = 90


def make_pack(*, requested_by=None, party=None, sample_size: int = 5, seed: str = "seed-1", **fields) -> EvidencePack:
    today = timezone.localdate()
    party = (
        party
        or Party.objects.filter(is_us=True).first()
        or PartyFactory(name="Northwind AI Ltd", is_us=True, roles=["AP", "OSP"])
    )
    return EvidencePack.objects.create(
        window_from=fields.pop("window_from", today - dt.timedelta(days=WINDOW_DAYS)),
        window_to=fields.pop("window_to", today),
        party=party,
        sample_size=sample_size,
        sample_seed=seed,
        requested_by=requested_by or UserFactory(username="grace", first_name="Grace", last_name="Okafor"),
        **fields,
    )


def make_run(*, finished_at=None, statuses: dict[str, str] | None = None) -> CheckRun:
    """A succeeded check run with one result per auditing guideline (pass unless ``statuses`` says otherwise)."""
    finished_at = finished_at or timezone.now()
    statuses = statuses or {}
    run = CheckRun.objects.create(
        trigger=RunTrigger.COMMAND,
        status=RunStatus.SUCCEEDED,
        catalog_version="AICM 1.1.0",
        started_at=finished_at,
        finished_at=finished_at,
        keys_evaluated=3,
    )
    counts: dict[str, int] = {}
    for position, guideline in enumerate(load_control().auditing_guidelines):
        status = statuses.get(guideline.id, "pass")
        counts[status] = counts.get(status, 0) + 1
        CheckResult.objects.create(
            run=run,
            guideline_id=guideline.id,
            position=position,
            status=status,
            metric=f"metric of {guideline.id}",
            explanation=f"Explanation of {guideline.id}.",
            evidence=[{"label": f"Evidence for {guideline.id}", "url": "/inventory/keys/"}],
            failing=[{"type": "inventory.key", "id": 1, "label": "bad-key", "reason": "two purposes"}]
            if status == "fail"
            else [],
            failing_count=1 if status == "fail" else 0,
        )
    run.counts = counts
    run.save(update_fields=["counts"])
    return run
