"""Writes of usage-log ingestion: creating an ingestion (refusing a file already ingested) and running it.

Running an ingestion is two phases. DuckDB reads and aggregates the whole file first (``evidence.usage.engine``):
a file that is unreadable, of another format, of another account than its store, or that carries key material is
refused there, before anything is written. Then the aggregates are merged into ``UsageAggregate`` in one
transaction, a chunk at a time (one query to read the chunk's existing rows, one upsert), adding counts and
widening first/last seen; the ingestion's success is written in the same transaction, so a file is merged
entirely or not at all, and merged once: the ingestion row holds the file's SHA-256 for its source
(``usage_ingestion_one_per_file``) from the moment it is queued.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cek.jobs import JobStopped, Progress, enqueue, job_claim
from cek.keymaterial import find_key_material
from cek.textsafety import scrub
from evidence.usage.engine import Aggregate, FileAggregation, Scan, context_merge, source_file
from evidence.usage.keyrefs import resolve_keys, stores_by_place
from evidence.usage.models import HOLDS_FILE, SAMPLE_EVENT_IDS, IngestionStatus, UsageAggregate, UsageIngestion
from evidence.usage.sources import get_source
from evidence.usage.sources.base import UsageFileError
from inventory.models import KeyStore

logger = logging.getLogger(__name__)

CHUNK = 2000
BROKER_DOWN = "The task queue cannot be reached, so the file was not queued. Nothing was kept; upload it again later."
READ_SHARE = 60  # percent of the progress bar for reading and aggregating; the merge has the rest


class IngestionRefused(Exception):
    """The file is not ingested (already ingested, wrong store); the message says why, for people."""


def file_digest(handle: IO[bytes]) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    for block in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(block)
        size += len(block)
    handle.seek(0)
    return digest.hexdigest(), size


def _check_store(source_name: str, store: KeyStore | None) -> None:
    source = get_source(source_name)
    if store is not None and source.store_kinds and store.kind not in source.store_kinds:
        raise IngestionRefused(
            f"The store {store.name} is a {store.get_kind_display()} store; {source.label} logs belong to "
            f"{', '.join(source.store_kinds)} stores. Choose another store or none."
        )


def _refuse_duplicate(source: str, sha256: str, file_name: str) -> None:
    earlier = UsageIngestion.objects.filter(source=source, sha256=sha256, status__in=HOLDS_FILE).first()
    if earlier is None:
        return
    when = f"{earlier.created_at:%Y-%m-%d %H:%M} UTC"
    if earlier.status == IngestionStatus.SUCCEEDED:
        raise IngestionRefused(
            f"{file_name}: this file (SHA-256 {sha256[:12]}...) was already ingested as {source} on {when} "
            f"(ingestion {earlier.pk}). Nothing changed: its events are counted once."
        )
    raise IngestionRefused(
        f"{file_name}: this file (SHA-256 {sha256[:12]}...) is being ingested already (ingestion {earlier.pk}, "
        f"queued {when}). Nothing changed."
    )


def safe_file_name(name: str) -> str:
    """The name a file is shown and recorded under: unsafe characters replaced, at most 255 characters, and
    withheld when it looks like a secret (a file name is text about the input, so it is cleaned, not refused)."""
    name = " ".join(scrub(os.path.basename(name or "")).split())[:255] or "upload.log"
    return "(name withheld: it looked like a secret)" if find_key_material(name) else name


def _create(*, source: str, file_name: str, sha256: str, size: int, user, store, status: str, file=None):
    file_name = safe_file_name(file_name)
    _check_store(source, store)
    _refuse_duplicate(source, sha256, file_name)
    ingestion = UsageIngestion(
        source=source, store=store, file_name=file_name, sha256=sha256, size=size, created_by=user, status=status
    )
    try:
        with transaction.atomic():
            if file is not None:
                ingestion.file.save(f"{sha256[:16]}.log", file, save=False)
            ingestion.save()
    except IntegrityError:  # the same file, queued by someone else meanwhile
        if ingestion.file:
            ingestion.file.delete(save=False)
        _refuse_duplicate(source, sha256, file_name)
        raise
    return ingestion


def usage_ingestion_upload(*, source: str, upload: File, user, store: KeyStore | None = None) -> UsageIngestion:
    """Queue the ingestion of an uploaded file (API, upload page): the file goes to storage until its worker has
    read it (deleted when the ingestion ends, whatever the outcome), the task is queued on commit. Raises
    :class:`IngestionRefused` for a file already ingested or queued, or a store of another platform."""
    get_source(source)  # UsageFileError for an unknown format
    sha256, size = file_digest(upload)
    name = os.path.basename(getattr(upload, "name", "") or "upload.log")
    with transaction.atomic():
        ingestion = _create(
            source=source,
            file_name=name,
            sha256=sha256,
            size=size,
            user=user,
            store=store,
            status=IngestionStatus.QUEUED,
            file=upload,
        )

        def broker_down() -> IngestionRefused:
            _finish_failed(ingestion.pk, BROKER_DOWN, statuses=(IngestionStatus.QUEUED,))
            _discard_file(ingestion.pk)
            return IngestionRefused(BROKER_DOWN)

        enqueue(ingestion, on_broker_down=broker_down)
    return ingestion


def usage_ingest_path(*, source: str, path: str, user, store: KeyStore | None = None, name: str = "") -> UsageIngestion:
    """Ingest a local file now, in this process (``manage.py ingest_usage``): the same job row and the same run as
    a worker's, without copying the file anywhere. Returns the finished ingestion (succeeded or failed); raises
    :class:`IngestionRefused` for a file already ingested."""
    get_source(source)
    with open(path, "rb") as handle:
        sha256, size = file_digest(handle)
    ingestion = _create(
        source=source,
        file_name=name or os.path.basename(path),
        sha256=sha256,
        size=size,
        user=user,
        store=store,
        status=IngestionStatus.QUEUED,
    )
    _run(ingestion.pk, path=path)
    ingestion.refresh_from_db()
    _evaluate_misuse(ingestion)
    return ingestion


def usage_ingestion_run(*, ingestion_id: int, task_id: str = "") -> UsageIngestion | None:
    """The worker's part (task ``evidence.tasks.usage_ingest``): claim the queued ingestion, read its stored file
    and merge it; the stored file is deleted at the end whatever happened. None when the row is gone."""
    ingestion = UsageIngestion.objects.filter(pk=ingestion_id).first()
    if ingestion is None:
        return None
    if not ingestion.file:
        _finish_failed(ingestion.pk, "The uploaded file is no longer there. Upload it again.")
        return ingestion
    try:
        with _local_copy(ingestion) as path:
            _run(ingestion.pk, path=path, task_id=task_id)
    finally:
        _discard_file(ingestion.pk)
    ingestion.refresh_from_db()
    _evaluate_misuse(ingestion)
    return ingestion


class _local_copy:
    """The stored upload as a local path DuckDB can read: the storage's own path when it has one, else a copy."""

    def __init__(self, ingestion: UsageIngestion):
        self.ingestion = ingestion
        self.temp: str | None = None

    def __enter__(self) -> str:
        try:
            return self.ingestion.file.path
        except NotImplementedError:
            handle, self.temp = tempfile.mkstemp(prefix="cek-usage-", suffix=".log")
            with os.fdopen(handle, "wb") as out, self.ingestion.file.open("rb") as stored:
                shutil.copyfileobj(stored, out, 1024 * 1024)
            return self.temp

    def __exit__(self, *exc: object) -> None:
        if self.temp:
            os.unlink(self.temp)


def _discard_file(pk: int) -> None:
    ingestion = UsageIngestion.objects.filter(pk=pk).first()
    if ingestion is not None and ingestion.file:
        ingestion.file.delete(save=False)
        UsageIngestion.objects.filter(pk=pk).update(file="")


def _finish_failed(pk: int, reason: str, *, counts: dict | None = None, statuses=HOLDS_FILE[:2]) -> None:
    fields: dict[str, Any] = {
        "status": IngestionStatus.FAILED,
        "last_error": reason[:2000],
        "finished_at": timezone.now(),
        "phase": "failed",
    }
    if counts is not None:
        fields["counts"] = counts
    UsageIngestion.objects.filter(pk=pk, status__in=statuses).update(**fields)


def _run(pk: int, *, path: str, task_id: str = "") -> None:
    kind = UsageIngestion.job
    if not job_claim(kind, pk, task_id=task_id):
        return  # taken by another worker, or no longer queued
    ingestion = UsageIngestion.objects.select_related("store").get(pk=pk)
    progress = Progress(kind, pk, attempt=ingestion.attempts)
    try:
        counts = _ingest(ingestion, path=path, progress=progress)
    except UsageFileError as exc:
        _finish_failed(pk, str(exc), counts={})
    except JobStopped:
        logger.info("Usage ingestion %s stopped: no longer running", pk)
    except Exception:
        logger.exception("Usage ingestion %s failed", pk)
        _finish_failed(pk, "The ingestion failed unexpectedly (the error is in the worker's log). Nothing was written.")
    else:
        logger.info("Usage ingestion %s: %s", pk, counts)


def _evaluate_misuse(ingestion: UsageIngestion) -> None:
    """After an ingestion that succeeded (its file already discarded), the misuse rules over the aggregates as it
    left them: their own transaction, so an evaluation that fails leaves the ingestion succeeded, and the daily
    evaluation tries again."""
    from evidence.usage.findings import usage_misuse_evaluate

    if ingestion.status != IngestionStatus.SUCCEEDED:
        return
    source = f"usage ingestion #{ingestion.pk} ({ingestion.file_name})"
    try:
        usage_misuse_evaluate(source=source)
    except Exception:
        logger.exception("Usage misuse evaluation after %s failed; the daily evaluation will run it again", source)


def _ingest(ingestion: UsageIngestion, *, path: str, progress: Progress) -> dict[str, int]:
    source = get_source(ingestion.source)
    file = source_file(path, name=ingestion.file_name)
    progress.checkpoint(1, "reading the file")
    with FileAggregation(source, file) as aggregation:
        scan = aggregation.run(
            heartbeat=lambda seconds: progress.report(min(READ_SHARE - 1, 1 + int(seconds)), "reading the file")
        )
        stores = _stores(ingestion, scan, source.store_kinds)
        progress.checkpoint(READ_SHARE, "merging aggregates")
        progress.row = False  # inside the merge's transaction: reports reach the cache only
        merger = _Merger(ingestion, stores)
        with transaction.atomic():
            _lock_merges()
            for chunk in aggregation.chunks(CHUNK):
                merger.merge(chunk)
                done = merger.counts["aggregates"]
                share = READ_SHARE + (100 - READ_SHARE) * done // max(scan.aggregates, 1)
                progress.report(share, "merging aggregates", done=done, total=scan.aggregates)
            counts = {
                "events": scan.events,
                "skipped": scan.skipped,
                **merger.counts,
                "keys": len(merger.keys_seen),
                "unknown_keys": len(merger.unknown_seen),
                "withheld_context_values": scan.withheld_context_values,
            }
            finished = UsageIngestion.objects.filter(
                pk=ingestion.pk, status=IngestionStatus.RUNNING, attempts=ingestion.attempts
            ).update(
                status=IngestionStatus.SUCCEEDED,
                counts=counts,
                progress=100,
                phase="done",
                finished_at=timezone.now(),
                last_error="",
            )
            if not finished:
                raise JobStopped("no longer running")  # rolls the merge back
    return counts


def _stores(ingestion: UsageIngestion, scan: Scan, kinds: tuple[str, ...]) -> dict[Any, KeyStore | None]:
    """The store of each (account, region) the file's events name, and of each store name it names: the chosen
    store for all (refusing events of another account or region), else matched. Raises UsageFileError."""
    store = ingestion.store
    if store is not None:
        foreign = sorted(
            (account, region)
            for account, region in scan.places
            if (store.account and account and account != store.account)
            or (store.region and region and region != store.region)
        )
        if foreign:
            account, region = foreign[0]
            where = f"account {store.account}" + (f", region {store.region}" if store.region else "")
            raise UsageFileError(
                f"{ingestion.file_name}: events of account {account or '?'}{', region ' + region if region else ''} "
                f"are in the file, but the store {store.name} is {where}"
                f"{f' ({len(foreign)} other places)' if len(foreign) > 1 else ''}. Nothing was written: choose "
                "the store the file belongs to, or none to match stores by account and region."
            )
        stores: dict[Any, KeyStore | None] = dict.fromkeys(scan.places, store)
    else:
        stores = dict(stores_by_place(scan.places, kinds=kinds))
    if scan.store_names:
        named = {item.name: item for item in KeyStore.objects.filter(name__in=scan.store_names)}
        missing = sorted(scan.store_names - set(named))
        if missing:
            raise UsageFileError(
                f"{ingestion.file_name}: the file names {len(missing)} store(s) that are not key stores here, "
                f"the first '{missing[0][:100]}'. Nothing was written: add the store, or correct the file's store "
                "column."
            )
        if store is not None and any(item != store for item in named.values()):
            raise UsageFileError(
                f"{ingestion.file_name}: the file names other stores than {store.name}, the store chosen for it. "
                "Nothing was written: choose no store, or only this store's rows."
            )
        stores.update({("name", name): item for name, item in named.items()})
    return stores


def _lock_merges() -> None:
    """One merge at a time (two files adding to the same aggregate must not both read it before either writes).
    SQLite serialises writers anyway; PostgreSQL takes a transaction-level advisory lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('cek.usage.merge'))")


def dimensions_of(source: str, aggregate: Aggregate, key_id: int | None, store_id: int | None) -> str:
    where = [f"key:{key_id}"] if key_id else [store_id, aggregate.account, aggregate.region, aggregate.key_ref]
    parts = [source, *where, aggregate.principal, aggregate.operation, aggregate.error_code, aggregate.day.isoformat()]
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


class _Merger:
    """Merges chunks of a file's aggregates into UsageAggregate: resolves keys (one query per chunk, cached),
    reads the chunk's existing rows (one query), upserts (one statement)."""

    FIELDS = (
        "count",
        "first_seen",
        "last_seen",
        "sample_event_ids",
        "context",
        "key",
        "store",
        "key_ref",
        "principal_type",
        "updated_at",
    )

    def __init__(self, ingestion: UsageIngestion, stores: dict[Any, KeyStore | None]):
        self.source = ingestion.source
        self.stores = stores
        self.resolved: dict[tuple, Any] = {}
        self.counts = {"aggregates": 0, "created": 0, "merged": 0}
        self.keys_seen: set[int] = set()
        self.unknown_seen: set[tuple] = set()

    def store_for(self, aggregate: Aggregate) -> KeyStore | None:
        if aggregate.store_name:
            return self.stores.get(("name", aggregate.store_name))
        return self.stores.get((aggregate.account, aggregate.region))

    def _resolve(self, chunk: Iterable[tuple[Aggregate, KeyStore | None]]) -> None:
        wanted = {
            (a.key_ref, a.account, a.region, store)
            for a, store in chunk
            if (a.key_ref, a.account, a.region, store.pk if store else None) not in self.resolved
        }
        found = resolve_keys(wanted)
        for ref, account, region, store in wanted:
            marker = (ref, account, region, store.pk if store else None)
            self.resolved[marker] = found.get(marker)

    def merge(self, chunk: list[Aggregate]) -> None:
        placed = [(aggregate, self.store_for(aggregate)) for aggregate in chunk]
        self._resolve(placed)
        now = timezone.now()
        rows: dict[str, UsageAggregate] = {}
        for aggregate, store in placed:
            key = self.resolved.get(
                (aggregate.key_ref, aggregate.account, aggregate.region, store.pk if store else None)
            )
            if key is not None:
                self.keys_seen.add(key.pk)
                store = key.store
            else:
                self.unknown_seen.add((store.pk if store else None, aggregate.account, aggregate.key_ref))
            dims = dimensions_of(self.source, aggregate, key.pk if key else None, store.pk if store else None)
            row = UsageAggregate(
                dimensions=dims,
                source=self.source,
                key=key,
                store=store,
                account=aggregate.account,
                region=aggregate.region,
                key_ref=(key.external_id if key else aggregate.key_ref)[:500],
                principal=aggregate.principal[:500],
                principal_type=aggregate.principal_type,
                operation=aggregate.operation[:100],
                error_code=aggregate.error_code[:100],
                day=aggregate.day,
                count=aggregate.count,
                first_seen=aggregate.first_seen,
                last_seen=aggregate.last_seen,
                sample_event_ids=aggregate.sample_event_ids,
                context=aggregate.context,
                updated_at=now,
            )
            if dims in rows:
                _add(rows[dims], row)
            else:
                rows[dims] = row
        existing = UsageAggregate.objects.filter(dimensions__in=list(rows)).only(
            "dimensions", "count", "first_seen", "last_seen", "sample_event_ids", "context"
        )
        merged = 0
        for old in existing:
            row = rows[old.dimensions]
            _add(row, old, earlier_first=True)
            merged += 1
        UsageAggregate.objects.bulk_create(
            list(rows.values()), update_conflicts=True, unique_fields=["dimensions"], update_fields=list(self.FIELDS)
        )
        self.counts["aggregates"] += len(chunk)
        self.counts["merged"] += merged
        self.counts["created"] += len(rows) - merged


def _add(row: UsageAggregate, other: UsageAggregate, *, earlier_first: bool = False) -> None:
    """Add ``other``'s calls to ``row``: counts summed, first/last seen widened, samples and context bounded
    (``other``'s first when it is the stored row: what was kept stays)."""
    row.count += other.count
    row.first_seen = min(row.first_seen, other.first_seen)
    row.last_seen = max(row.last_seen, other.last_seen)
    first, second = (other, row) if earlier_first else (row, other)
    row.sample_event_ids = list(dict.fromkeys([*first.sample_event_ids, *second.sample_event_ids]))[:SAMPLE_EVENT_IDS]
    row.context = context_merge(first.context, second.context)
