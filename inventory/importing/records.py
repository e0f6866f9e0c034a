"""The ``KeyImport`` bookkeeping: recording a preview (with its kept file), reading the kept file back,
planning a recorded import again, discarding it, and the summary shown after apply."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from inventory.importers.base import ImportFileError, RowError
from inventory.importing.plan import ImportPlan
from inventory.importing.planner import key_import_plan
from inventory.models import KeyImport

MAX_STORED_ERRORS = 1000


def _stored_errors(plan: ImportPlan) -> list[dict[str, Any]]:
    if plan.file_error:
        return [RowError(None, "", plan.file_error).as_dict()]
    return [error.as_dict() for error in plan.errors[:MAX_STORED_ERRORS]]


def key_import_preview(*, data: bytes, file_name: str, format: str, actor) -> tuple[KeyImport, ImportPlan]:
    """Plan an import and record it as a ``KeyImport`` (who, when, file name, SHA-256, counts, errors).

    The file is kept for apply, unless the file as a whole is rejected (then the record is ``failed`` with
    the reason in ``last_error`` and the file is not kept: it may hold key material)."""
    file_name = os.path.basename(file_name.replace("\\", "/"))[:255] or "upload"
    plan = key_import_plan(data=data, file_name=file_name, format=format)
    record = KeyImport(
        format=format[:30],
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created_by=actor,
        counts=plan.counts,
        errors=_stored_errors(plan),
    )
    if plan.file_error:
        record.status, record.last_error = KeyImport.Status.FAILED, plan.file_error
        record.save()
        return record, plan
    with transaction.atomic():
        record.save()  # first, so the storage path can carry its id
        record.file.save(file_name, ContentFile(data), save=False)
        record.save(update_fields=["file"])
    return record, plan


def key_import_read(key_import: KeyImport) -> bytes:
    """The kept file of a previewed import, checked against the digest recorded at upload."""
    if not key_import.file:
        raise ImportFileError("The uploaded file was not kept (the import was discarded or rejected); upload it again.")
    try:
        with key_import.file.open("rb") as handle:
            data = handle.read()
    except OSError:
        raise ImportFileError("The uploaded file is no longer available; upload it again.") from None
    if hashlib.sha256(data).hexdigest() != key_import.sha256:
        raise ImportFileError("The kept file no longer matches the upload (SHA-256 differs); upload it again.")
    return data


def key_import_plan_for(key_import: KeyImport) -> ImportPlan:
    """Plan a recorded import again from its kept file, against the inventory as it is now."""
    try:
        data = key_import_read(key_import)
    except ImportFileError as exc:
        return ImportPlan(format=key_import.format, file_name=key_import.file_name, file_error=str(exc))
    return key_import_plan(data=data, file_name=key_import.file_name, format=key_import.format)


def key_import_discard(*, key_import: KeyImport, actor) -> KeyImport:
    """Drop a previewed import: its kept file is deleted and it can no longer be applied."""
    with transaction.atomic():
        locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
        if locked.status != KeyImport.Status.PREVIEWED:
            raise ValidationError(
                f"This import is {locked.get_status_display().lower()}; only a previewed import can be discarded."
            )
        if locked.file:
            locked.file.delete(save=False)
        locked.status = KeyImport.Status.DISCARDED
        locked.save(update_fields=["status", "file"])
    key_import.refresh_from_db()
    return key_import


def import_summary(counts: dict[str, int]) -> str:
    """ "Imported 120 keys: 100 new, 20 changed" (and the unchanged ones, if any)."""
    new, changed, unchanged = counts.get("new", 0), counts.get("changed", 0), counts.get("unchanged", 0)
    total = new + changed
    text = f"Imported {total} key{'s' if total != 1 else ''}: {new} new, {changed} changed"
    return text + (f"; {unchanged} unchanged" if unchanged else "") + "."
