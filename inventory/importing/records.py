"""The ``KeyImport`` bookkeeping: recording a preview (with its kept file), reading the kept file back,
planning a recorded import again, discarding it, and the summary shown after apply."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from cek.keymaterial import find_key_material
from cek.textsafety import scrub
from inventory.importers.base import KEY_MATERIAL, UNSAFE_TEXT, ImportFileError, ImportSource, RowError
from inventory.importing.plan import ImportPlan
from inventory.importing.planner import key_import_plan
from inventory.models import KeyImport, KeyStore

MAX_STORED_ERRORS = 1000


def _scrubbed(item: dict[str, Any]) -> dict[str, Any]:
    # Messages never quote unsafe text, but a message that did would fail the whole write (PostgreSQL stores
    # no NUL, no unpaired surrogate): what is stored about an upload is scrubbed as a last line.
    return {name: scrub(value) if isinstance(value, str) else value for name, value in item.items()}


def _stored_errors(plan: ImportPlan) -> list[dict[str, Any]]:
    if plan.file_error:
        return [_scrubbed(RowError(None, "", plan.file_error).as_dict())]
    return [_scrubbed(error.as_dict()) for error in plan.errors[:MAX_STORED_ERRORS]]


def _stored_warnings(plan: ImportPlan) -> list[dict[str, Any]]:
    return [_scrubbed(warning.as_dict()) for warning in plan.warnings[:MAX_STORED_ERRORS]]


def key_import_preview(
    *, data: bytes | ImportSource, file_name: str, format: str, actor, store: KeyStore | None = None, full: bool = False
) -> tuple[KeyImport, ImportPlan]:
    """Plan an import and record it as a ``KeyImport`` (who, when, file name, SHA-256, store, counts, errors,
    warnings and the unknown names tags referred to).

    The file is kept for apply, unless the file as a whole is rejected (then the record is ``failed`` with
    the reason in ``last_error`` and the file is not kept: it may hold key material)."""
    file_name = clean_file_name(file_name)
    plan = key_import_plan(data=data, file_name=file_name, format=format, store=store, full=full)
    return key_import_record(data=data, file_name=file_name, plan=plan, actor=actor, store=store), plan


def clean_file_name(file_name: str) -> str:
    """The base name of an upload, as recorded and shown. Cleaned, not refused (it is the app's label for the
    upload, not data): unsafe characters become U+FFFD, and a name that looks like key material is withheld."""
    name = scrub(os.path.basename(file_name.replace("\\", "/")))[:255] or "upload"
    return "(name withheld: it looked like key material)" if find_key_material(name) else name


def key_import_record(
    *, data: bytes | ImportSource, file_name: str, plan: ImportPlan, actor, store: KeyStore | None = None, **fields
) -> KeyImport:
    """Record a planned file: a ``KeyImport`` with its counts, errors and warnings; the file is kept unless the
    file as a whole was rejected (then the record is ``failed`` with the reason and the file, which may hold
    key material, is not kept). ``fields`` set more of the record (status, applied_at...)."""
    source = ImportSource.of(data)
    record = KeyImport(
        format=plan.format[:30],
        file_name=file_name,
        sha256=source.sha256(),
        size=source.size,
        created_by=actor,
        store=plan.store or store,
        full=plan.full,
        counts=plan.counts,
        errors=_stored_errors(plan),
        warnings=_stored_warnings(plan),
        unknowns=plan.unknowns,
        **fields,
    )
    if plan.refused:
        # Refused for key material or unsafe text: none of the file's bytes are kept, not even in the messages
        # of its other errors (they may quote cells), its warnings or the unknown names: only what refused it.
        record.status = KeyImport.Status.REFUSED
        record.refusal = plan.refusal[:MAX_STORED_ERRORS]
        record.errors = _refusal_errors(plan)
        record.warnings, record.unknowns = [], {}
        record.last_error = refusal_message(plan)
        record.save()
        return record
    if plan.file_error:
        record.status, record.last_error = KeyImport.Status.FAILED, scrub(plan.file_error)
        record.save()
        return record
    with transaction.atomic():
        record.save()  # first, so the storage path can carry its id
        record.file.save(file_name, File(source.open(), name=file_name), save=False)
        record.save(update_fields=["file"])
    return record


def _refusal_errors(plan: ImportPlan) -> list[dict[str, Any]]:
    if plan.file_refusal is not None:
        return [RowError(None, "", scrub(plan.file_error)).as_dict()]
    refusals = plan.kept_refusals if plan.tally is not None else [error for error in plan.errors if error.kind]
    return [error.as_dict() for error in refusals][:MAX_STORED_ERRORS]


def refusal_message(plan: ImportPlan) -> str:
    """One sentence for a refused upload (the API's ``detail``, the record's ``last_error``)."""
    if plan.file_refusal is not None:
        return scrub(plan.file_error)
    kinds = {item["kind"] for item in plan.refusal}
    what = " and ".join(
        text for kind, text in ((KEY_MATERIAL, "key material"), (UNSAFE_TEXT, "unsafe text")) if kind in kinds
    )
    rows = plan.tally["refused_rows"] if plan.tally else len({item["row"] for item in plan.refusal})
    return (
        f"The file was refused: {rows} row{'s' if rows != 1 else ''} hold{'s' if rows == 1 else ''} {what}. "
        "Nothing was written and the file was not kept; fix it and upload it again."
    )


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


def key_import_open(key_import: KeyImport) -> ImportSource:
    """The kept file of a previewed import, open (close it: ``with``), checked against the digest recorded at
    upload; read a block at a time, never whole."""
    if not key_import.file:
        raise ImportFileError("The uploaded file was not kept (the import was discarded or rejected); upload it again.")
    try:
        source = ImportSource(key_import.file.open("rb"))
        digest = source.sha256()
    except OSError:
        raise ImportFileError("The uploaded file is no longer available; upload it again.") from None
    if digest != key_import.sha256:
        source.close()
        raise ImportFileError("The kept file no longer matches the upload (SHA-256 differs); upload it again.")
    return source


def key_import_plan_for(key_import: KeyImport) -> ImportPlan:
    """Plan a recorded import again from its kept file, against the inventory as it is now."""
    try:
        source = key_import_open(key_import)
    except ImportFileError as exc:
        return ImportPlan(format=key_import.format, file_name=key_import.file_name, file_error=str(exc))
    with source:
        return key_import_plan(
            data=source,
            file_name=key_import.file_name,
            format=key_import.format,
            store=key_import.store,
            full=key_import.full,
        )


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
    """ "Imported 120 keys: 100 new, 20 changed" (and the unchanged, unassigned and not seen ones, if any)."""
    new, changed = counts.get("new", 0), counts.get("changed", 0)
    total = new + changed
    text = f"Imported {total} key{'s' if total != 1 else ''}: {new} new, {changed} changed"
    extras = [
        f"{counts[name]} {label}"
        for name, label in (
            ("unchanged", "unchanged"),
            ("conflicts", "with conflicts"),
            ("unassigned", "without a purpose"),
            ("not_seen", "no longer listed (marked not seen)"),
        )
        if counts.get(name)
    ]
    return text + (f"; {', '.join(extras)}" if extras else "") + "."
