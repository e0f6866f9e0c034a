"""Starting an apply: at once for a small file, in a Celery worker for a large one (queued through
``cek.jobs.enqueue``); retrying a failed import; and the watchdog of imports whose worker stopped without a word
(the shared one, ``cek.jobs.watchdog``, as ``KeyImport.job`` declares it)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cek.jobs import enqueue
from cek.jobs.watchdog import sweep
from cek.people import person_name
from inventory.importing.apply import ImportApplyError, check_applicable, key_import_apply
from inventory.models import KeyImport

logger = logging.getLogger(__name__)

BROKER_DOWN = (
    "The background worker queue cannot be reached, so this large import was not started. Nothing was written; "
    "try again in a few minutes, or ask an administrator to check the broker (REDIS_URL)."
)


def runs_in_background(key_import: KeyImport) -> bool:
    return key_import.counts.get("rows", 0) > settings.CEK_IMPORT_INLINE_ROWS


def key_import_start(*, key_import: KeyImport, actor) -> KeyImport:
    """Apply a previewed import: in this process when it is small, else mark it "applying" and queue it for a
    worker (the page then shows a progress bar). Raises :class:`ImportApplyError` when it cannot start."""
    locked = _claim(key_import, actor)
    if not runs_in_background(locked):
        try:
            return key_import_apply(key_import=key_import, actor=actor)
        finally:
            # Apply leaves it applied, previewed (row errors), failed or refused; anything else that stopped it
            # (the kept file is gone, the database went away) gives it back as it was.
            _release(locked.pk)

    # Queued now (its claim is committed), so the worker finds the import "applying". If the broker is down, the
    # import goes back to "previewed" and the user is told: no import is left "applying" with no task behind it.
    def broker_down() -> ImportApplyError:
        KeyImport.objects.filter(pk=locked.pk, status=KeyImport.Status.APPLYING).update(
            status=KeyImport.Status.PREVIEWED, started_at=None, applied_by=None, attempts=F("attempts") - 1
        )
        return ImportApplyError(BROKER_DOWN)

    enqueue(locked, args=[locked.pk, actor.pk], on_broker_down=broker_down, at_once=True)
    key_import.refresh_from_db()
    return key_import


def _claim(key_import: KeyImport, actor) -> KeyImport:
    """Mark a previewed import "applying" for this request, or raise :class:`ImportApplyError` saying why
    not. One conditional UPDATE (previewed -> applying), so of two racing applies exactly one claims it, on
    PostgreSQL and on SQLite alike; the other is told it is being applied or was applied already."""
    now = timezone.now()
    claimed = KeyImport.objects.filter(pk=key_import.pk, status=KeyImport.Status.PREVIEWED).update(
        status=KeyImport.Status.APPLYING,
        started_at=now,
        applied_by=actor,
        last_error="",
        attempts=F("attempts") + 1,
        progress=0,
        phase="",
        heartbeat_at=None,
        finished_at=None,
    )
    record = KeyImport.objects.select_related("applied_by").filter(pk=key_import.pk).first()
    if record is None:
        raise ImportApplyError("This import no longer exists; upload the file again.")
    if claimed:
        try:
            check_applicable(record, statuses=(KeyImport.Status.APPLYING,))  # recorded errors
        except ImportApplyError:
            _release(record.pk)
            raise
        return record
    if record.status == KeyImport.Status.APPLYING:
        raise ImportApplyError(
            "This import is being applied right now (another request or a worker started it); only a previewed "
            "import can be applied. Its page shows the progress."
        )
    if record.status == KeyImport.Status.APPLIED:
        who = f" by {person_name(record.applied_by)}" if record.applied_by else ""
        when = f" on {timezone.localtime(record.applied_at):%Y-%m-%d %H:%M}" if record.applied_at else ""
        raise ImportApplyError(f"This import was applied already{when}{who}; only a previewed import can be applied.")
    check_applicable(record)  # discarded, failed, refused: says which
    raise ImportApplyError("This import cannot be applied now; reload its page.")  # previewed again meanwhile


def _release(import_id: int) -> None:
    KeyImport.objects.filter(pk=import_id, status=KeyImport.Status.APPLYING).update(
        status=KeyImport.Status.PREVIEWED, started_at=None, applied_by=None
    )


def key_import_retry(*, key_import: KeyImport, actor) -> KeyImport:
    """A failed import goes back to "previewed": it is planned again against the inventory as it is now and
    can be applied again. Only possible while its file is kept."""
    with transaction.atomic():
        locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
        if locked.status != KeyImport.Status.FAILED:
            raise ValidationError("Only a failed import can be retried.")
        if not locked.file:
            raise ValidationError("The file of this import was not kept (it was rejected as a whole); upload it again.")
        locked.status = KeyImport.Status.PREVIEWED
        locked.last_error = locked.task_id = locked.phase = ""
        locked.started_at = locked.heartbeat_at = locked.finished_at = None
        locked.progress = 0
        locked.save(
            update_fields=[
                "status",
                "last_error",
                "task_id",
                "phase",
                "started_at",
                "heartbeat_at",
                "finished_at",
                "progress",
            ]
        )
    key_import.refresh_from_db()
    return key_import


def fail_stale_imports(*, now: dt.datetime | None = None) -> int:
    """Imports "applying" with no sign of life for ``CEK_IMPORT_STALE_MINUTES`` (the worker was killed and the
    task not redelivered, or the queue lost it) are marked failed, so they can be retried. Nothing of theirs
    was committed: apply writes in one transaction. (The shared watchdog for this kind; beat runs it for all.)"""
    return sweep(KeyImport.job, now=now)["running_failed"]
