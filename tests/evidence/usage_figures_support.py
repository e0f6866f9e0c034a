"""Usage aggregates and ingestions written directly (as an ingestion's merge leaves them), for the tests of where
usage is shown: the evidence pack, the dashboard, the attestation inbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from django.utils import timezone

from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
from tests.factories import UserFactory

_serial = itertools.count()

AZURE_REF = "https://kv-prod.vault.azure.net/keys/orders-kek/0f3b5c7d9e1a4b6c8d0e2f4a6b8c0d1e"
HMAC_PRINCIPAL = "hmac-sha256:6a0c5f2d6e3b1a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


def aggregate(
    *,
    key=None,
    store=None,
    key_ref: str = "",
    principal: str = "arn:aws:iam::111122223333:role/app",
    operation: str = "Decrypt",
    error_code: str = "",
    days_ago: int = 1,
    count: int = 10,
    source: str = "cloudtrail",
    principal_type: str = "role",
) -> UsageAggregate:
    day = timezone.now().date() - dt.timedelta(days=days_ago)
    seen = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    store = store if store is not None else (key.store if key is not None else None)
    return UsageAggregate.objects.create(
        dimensions=hashlib.sha256(f"agg-{next(_serial)}".encode()).hexdigest(),
        source=source,
        key=key,
        store=store,
        key_ref=key_ref or (key.external_id if key is not None else "unknown"),
        principal=principal,
        principal_type=principal_type,
        operation=operation,
        error_code=error_code,
        day=day,
        count=count,
        first_seen=seen,
        last_seen=seen + dt.timedelta(hours=1),
        sample_event_ids=["d7b2f1a4-0000-4000-8000-000000000001"],
        context={"tenant": ["acme"]},
    )


def ingestion(*, store=None, status: str = IngestionStatus.SUCCEEDED, events: int = 100, days_ago: int = 1, user=None):
    when = timezone.now() - dt.timedelta(days=days_ago)
    return UsageIngestion.objects.create(
        source="cloudtrail",
        store=store,
        file_name=f"trail-{next(_serial)}.json.gz",
        sha256=hashlib.sha256(f"file-{next(_serial)}".encode()).hexdigest(),
        size=1000,
        status=status,
        counts={"events": events, "aggregates": 3} if status == IngestionStatus.SUCCEEDED else {},
        created_by=user or UserFactory(),
        created_at=when,
        finished_at=when,
    )
