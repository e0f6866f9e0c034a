"""Celery tasks of the inventory: thin wrappers around ``inventory.importing``."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory.importing.apply import ImportApplyError, key_import_apply
from inventory.importing.jobs import fail_stale_imports as _fail_stale_imports
from inventory.models import KeyImport

logger = logging.getLogger(__name__)


@shared_task(name="inventory.tasks.apply_key_import", acks_late=True, reject_on_worker_lost=True)
def apply_key_import(import_id: int, actor_id: int) -> dict:
    """Apply a large import queued by ``key_import_start``. Safe to run twice: a second run finds the import
    applied (or failed) and does nothing."""
    record = KeyImport.objects.filter(pk=import_id).first()
    if record is None or record.status != KeyImport.Status.APPLYING:
        return {"import": import_id, "skipped": record.status if record else "missing"}
    actor = get_user_model().objects.get(pk=actor_id)
    try:
        record = key_import_apply(key_import=record, actor=actor)
    except ImportApplyError as exc:
        # Row errors leave the import "previewed" with its errors; a failed write marks it failed. Either way
        # the page shows why. Anything else (the database went away) is marked failed here and re-raised.
        logger.info("Import %s not applied: %s", import_id, exc)
        KeyImport.objects.filter(pk=import_id, status=KeyImport.Status.APPLYING).update(
            status=KeyImport.Status.FAILED, last_error=str(exc)[:2000], finished_at=timezone.now()
        )
        return {"import": import_id, "error": str(exc)}
    except Exception as exc:
        KeyImport.objects.filter(pk=import_id, status=KeyImport.Status.APPLYING).update(
            status=KeyImport.Status.FAILED,
            finished_at=timezone.now(),
            last_error=f"The import stopped with an unexpected error ({exc.__class__.__name__}). Nothing was written; "
            "retry it, and tell an administrator if it fails again.",
        )
        raise
    return {"import": import_id, "counts": record.counts}


@shared_task(name="inventory.tasks.fail_stale_imports")
def fail_stale_imports() -> int:
    """Kept for messages already queued under this name: the imports' part of ``cek.jobs.watchdog``."""
    return _fail_stale_imports()
