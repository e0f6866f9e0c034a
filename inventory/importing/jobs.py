"""Starting an apply: at once for a small file, in a Celery worker for a large one; retrying a failed import;
and the watchdog that fails imports whose worker stopped without a word."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from inventory.importing.apply import ImportApplyError, check_applicable, key_import_apply
from inventory.importing.progress import progress_clear, progress_read
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
    if not runs_in_background(key_import):
        return key_import_apply(key_import=key_import, actor=actor)
    from inventory.tasks import apply_key_import  # tasks import this module

    with transaction.atomic():
        locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
        check_applicable(locked)
        locked.status = KeyImport.Status.APPLYING
        locked.started_at = timezone.now()
        locked.applied_by = actor
        locked.last_error = ""
        locked.save(update_fields=["status", "started_at", "applied_by", "last_error"])
    # Queued after the commit, so the worker finds the import "applying". If the broker is down, the import
    # goes back to "previewed" and the user is told: no import is left "applying" with no task behind it.
    try:
        result = apply_key_import.apply_async(args=[locked.pk, actor.pk], retry=False)
    except OperationalError as exc:
        logger.warning("Could not queue import %s: %s", locked.pk, exc)
        KeyImport.objects.filter(pk=locked.pk, status=KeyImport.Status.APPLYING).update(
            status=KeyImport.Status.PREVIEWED, started_at=None, applied_by=None
        )
        raise ImportApplyError(BROKER_DOWN) from None
    KeyImport.objects.filter(pk=locked.pk).update(task_id=result.id or "")
    key_import.refresh_from_db()
    return key_import


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
        locked.last_error = ""
        locked.task_id = ""
        locked.started_at = None
        locked.save(update_fields=["status", "last_error", "task_id", "started_at"])
    key_import.refresh_from_db()
    return key_import


def fail_stale_imports(*, now: dt.datetime | None = None) -> int:
    """Imports "applying" with no sign of life for ``CEK_IMPORT_STALE_MINUTES`` (the worker was killed and the
    task not redelivered, or the queue lost it) are marked failed, so they can be retried. Nothing of theirs
    was committed: apply writes in one transaction."""
    now = now or timezone.now()
    limit = dt.timedelta(minutes=settings.CEK_IMPORT_STALE_MINUTES)
    failed = 0
    for record in KeyImport.objects.filter(status=KeyImport.Status.APPLYING, started_at__lt=now - limit):
        progress = progress_read(record.pk)
        if progress and now.timestamp() - progress["at"] < limit.total_seconds():
            continue  # still reporting progress
        updated = KeyImport.objects.filter(pk=record.pk, status=KeyImport.Status.APPLYING).update(
            status=KeyImport.Status.FAILED,
            last_error=(
                f"The worker applying this import stopped reporting for over {settings.CEK_IMPORT_STALE_MINUTES} "
                "minutes. Nothing was written; retry the import."
            ),
        )
        progress_clear(record.pk)
        failed += updated
    return failed
