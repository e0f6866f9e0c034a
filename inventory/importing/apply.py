"""Applying a previewed import atomically: planned again inside the transaction that writes, every row or none."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from inventory import services
from inventory.importers import get_importer
from inventory.importers.base import ImportFileError, RowError
from inventory.importing.plan import Action, ImportPlan, RowPlan
from inventory.importing.planner import key_import_plan
from inventory.importing.records import _stored_errors, key_import_read
from inventory.models import Binding, Key, KeyImport


class ImportApplyError(Exception):
    """Apply refused or failed; nothing was written. ``errors`` are the row errors, when there are any."""

    def __init__(self, message: str, errors: Iterable[RowError] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


class _RowWriteError(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"Row {row}: {message}")


def _change_reason(key_import: KeyImport) -> str:
    try:
        label = get_importer(key_import.format).label
    except ImportFileError:
        label = key_import.format
    return f"{label} import {key_import.file_name}"


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"column '{name}': {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def _sync_bindings(key: Key, plan: RowPlan, *, actor, reason: str) -> None:
    wanted = {
        (s.pk, t.pk if t else None, p.pk): (s, t, p, principal, ops) for s, t, p, principal, ops in plan.bindings or ()
    }
    have = set()
    for binding in plan.current_bindings:
        identity = (binding.service_id, binding.tenant_id, binding.purpose_id)
        if identity in wanted:
            have.add(identity)
        else:
            services.object_delete(instance=binding, actor=actor)
    for identity, (service, tenant, purpose, principal, operations) in wanted.items():
        if identity not in have:
            binding = Binding(
                key=key, service=service, tenant=tenant, purpose=purpose, principal=principal, operations=operations
            )
            services.object_save(instance=binding, actor=actor, reason=reason)


def _write(plan: ImportPlan, *, actor, reason: str) -> None:
    for row in plan.rows_with(Action.NEW, Action.CHANGED):
        try:
            key = row.key if row.key is not None else Key()
            key_columns = row.changed_columns - {"services"}
            if row.key is None or key_columns:
                for name, value in row.values.items():
                    setattr(key, name, value)
                services.key_save(key=key, actor=actor, exposed_to=row.exposed_to, reason=reason)
            if row.bindings is not None and (row.key is None or "services" in row.changed_columns):
                _sync_bindings(key, row, actor=actor, reason=reason)
        except ValidationError as exc:
            raise _RowWriteError(row.row, _validation_text(exc)) from exc
        except DatabaseError as exc:
            raise _RowWriteError(row.row, f"the database refused the change ({exc.__class__.__name__}).") from exc


class _Rejected(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan


def key_import_apply(*, key_import: KeyImport, actor) -> KeyImport:
    """Apply a previewed import in one transaction: every row or none.

    The kept file is planned again against the inventory as it is now. If any row has an error, nothing is
    written, the new errors are recorded on the import and :class:`ImportApplyError` is raised; if a write
    fails, nothing is written, the import is marked failed and :class:`ImportApplyError` is raised. History
    entries are attributed to ``actor`` with the reason "<format> import <file name>"."""
    try:
        with transaction.atomic():
            locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
            if locked.status != KeyImport.Status.PREVIEWED:
                raise ImportApplyError(
                    f"This import is {locked.get_status_display().lower()}; only a previewed import can be applied."
                )
            if locked.errors:
                raise ImportApplyError(
                    "This import has errors, so nothing can be applied (imports are all or nothing). "
                    "Fix the file and upload it again."
                )
            try:
                data = key_import_read(locked)
            except ImportFileError as exc:
                raise ImportApplyError(str(exc)) from None
            plan = key_import_plan(data=data, file_name=locked.file_name, format=locked.format)
            if plan.has_errors:
                raise _Rejected(plan)
            _write(plan, actor=actor, reason=_change_reason(locked))
            locked.status = KeyImport.Status.APPLIED
            locked.counts = plan.counts
            locked.applied_at = timezone.now()
            locked.last_error = ""
            locked.save(update_fields=["status", "counts", "applied_at", "last_error"])
    except _Rejected as exc:
        KeyImport.objects.filter(pk=key_import.pk).update(counts=exc.plan.counts, errors=_stored_errors(exc.plan))
        key_import.refresh_from_db()
        count = exc.plan.counts["errors"]
        raise ImportApplyError(
            f"Nothing was imported: the inventory changed since the preview and {count} row"
            f"{'s' if count != 1 else ''} now {'have' if count != 1 else 'has'} errors. "
            "Fix the file and upload it again.",
            exc.plan.errors or [RowError(None, "", exc.plan.file_error)],
        ) from None
    except _RowWriteError as exc:
        KeyImport.objects.filter(pk=key_import.pk).update(status=KeyImport.Status.FAILED, last_error=str(exc))
        key_import.refresh_from_db()
        raise ImportApplyError(f"Nothing was imported: {exc}") from exc
    key_import.refresh_from_db()
    return key_import
