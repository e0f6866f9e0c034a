"""Applying a previewed import atomically: planned again inside the transaction that writes, every row or none."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

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
    def __init__(self, row: int | None, message: str) -> None:
        super().__init__(message if row is None else f"Row {row}: {message}")


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


# --- The bulk writer ---------------------------------------------------------------------------------------------
#
# The planner has already checked every row against the inventory in this transaction (field validation, key
# material, references, purpose and kind rules, duplicates in the file and in the stores), so the writer does not
# call ``full_clean`` per key (its unique and foreign-key checks cost a query each). It writes the rows in batches:
# a handful of queries per batch for the keys, their exposures, bindings and history, whatever the batch size.
# Bindings are still checked field by field (the planner resolves their references, not their text); that check
# runs no query.

BATCH_SIZE = 1000  # rows per batch; Django splits each INSERT/UPDATE further to fit the backend's parameter limit
_IN_CHUNK = 500  # values per IN (...) lookup: below SQLite's 999 parameters
_BINDING_REFERENCES = ("key", "service", "tenant", "purpose")  # resolved by the planner in this transaction


def _chunks(values: list, size: int = _IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _rows_text(rows: list[RowPlan]) -> str:
    first, last = min(r.row for r in rows), max(r.row for r in rows)
    return f"Row {first}" if first == last else f"One of rows {first}-{last}"


def _wanted_bindings(plan: RowPlan) -> dict[tuple[int, int | None, int], tuple]:
    # Identity (service, tenant, purpose) -> the binding; a repeated identity keeps its last principal/operations.
    return {
        (s.pk, t.pk if t else None, p.pk): (s, t, p, principal, ops) for s, t, p, principal, ops in plan.bindings or ()
    }


class _BatchWriter:
    """Writes one batch of planned rows (new and changed keys) with their exposures, bindings and history."""

    def __init__(self, rows: list[RowPlan], *, actor, reason: str, now: datetime) -> None:
        self.rows, self.actor, self.reason, self.now = rows, actor, reason[:100], now
        self.keys: dict[int, Key] = {}  # row number -> the key it writes
        self.moved_ends = False  # whether the cryptoperiod end of a changed key moved

    def write(self) -> None:
        new, changed = self._prepare_keys()
        bindings_to_add, bindings_to_drop = self._prepare_bindings()
        if new:
            Key.objects.bulk_create(new, batch_size=BATCH_SIZE)
        if changed:
            self._update(changed)
        self._replace_exposures()
        history = [
            *Key.history.bulk_history_create(new, batch_size=BATCH_SIZE, **self._history_defaults()),
            *Key.history.bulk_history_create(changed, batch_size=BATCH_SIZE, update=True, **self._history_defaults()),
        ]
        self._record_exposures(history)
        self._drop_bindings(bindings_to_drop)
        if bindings_to_add:
            bulk_create_with_history(
                bindings_to_add,
                Binding,
                batch_size=BATCH_SIZE,
                default_user=self.actor,
                default_change_reason=self.reason,
                default_date=self.now,
            )

    def _history_defaults(self) -> dict[str, Any]:
        return {"default_user": self.actor, "default_change_reason": self.reason, "default_date": self.now}

    def _prepare_keys(self) -> tuple[list[Key], list[Key]]:
        """Set each row's values on its key, as ``services.key_save`` did: a new key, or the key the planner
        loaded when anything but its bindings changed (an exposure change alone is a change of the key)."""
        new: list[Key] = []
        changed: list[Key] = []
        for row in self.rows:
            key = row.key if row.key is not None else Key()
            self.keys[row.row] = key
            if row.key is not None and not row.changed_columns - {"services"}:
                continue
            for name, value in row.values.items():
                setattr(key, name, value)
            ends_on, key.cryptoperiod_ends_on = key.cryptoperiod_ends_on, key.compute_cryptoperiod_end()
            self.moved_ends = self.moved_ends or (row.key is not None and ends_on != key.cryptoperiod_ends_on)
            if row.key is None:
                new.append(key)  # bulk_create stamps created_at and updated_at
            else:
                key.updated_at = self.now
                changed.append(key)
        return new, changed

    def _update(self, changed: list[Key]) -> None:
        """Write the changed columns of the changed keys. ``bulk_update`` writes one CASE per column and key, so
        the time stamp, the same for all, is set by a plain UPDATE, and the derived cryptoperiod end only when it
        moved for some key."""
        fields = {"cryptoperiod_ends_on"} if self.moved_ends else set()
        for row in self.rows:
            if row.key is not None:
                fields |= row.changed_columns - {"services", "exposed_to"}
        if fields:
            Key.objects.bulk_update(changed, sorted(fields), batch_size=BATCH_SIZE)
        for ids in _chunks([key.pk for key in changed]):
            Key.objects.filter(pk__in=ids).update(updated_at=self.now)

    def _replace_exposures(self) -> None:
        through = Key.exposed_to.through
        replaced = [self.keys[r.row].pk for r in self.rows if r.key is not None and r.exposed_to is not None]
        for ids in _chunks(replaced):
            through.objects.filter(key_id__in=ids).delete()
        links = [
            through(key_id=self.keys[r.row].pk, party_id=party.pk)
            for r in self.rows
            if r.exposed_to is not None
            for party in {p.pk: p for p in r.exposed_to}.values()
        ]
        if links:
            through.objects.bulk_create(links, batch_size=BATCH_SIZE)

    def _record_exposures(self, history: list) -> None:
        """Each history entry of a key carries the parties it is exposed to, as simple_history records them on
        a save (``bulk_history_create`` leaves that out)."""
        if not history:
            return
        snapshot = Key.history.model.exposed_to.model  # HistoricalKey_exposed_to
        by_key = {entry.id: entry for entry in history}
        rows = []
        for ids in _chunks(list(by_key)):
            links = Key.exposed_to.through.objects.filter(key_id__in=ids).order_by("pk")
            for link_id, key_id, party_id in links.values_list("pk", "key_id", "party_id"):
                rows.append(snapshot(history=by_key[key_id], id=link_id, key_id=key_id, party_id=party_id))
        if rows:
            snapshot.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    def _prepare_bindings(self) -> tuple[list[Binding], list[Binding]]:
        """Replace the bindings of each row that lists them, as before: a binding that stays (same service,
        tenant and purpose) is left alone, the others are removed, the missing ones added."""
        to_add: list[Binding] = []
        to_drop: list[Binding] = []
        for row in self.rows:
            if row.bindings is None or not (row.key is None or "services" in row.changed_columns):
                continue
            wanted = _wanted_bindings(row)
            kept = set()
            for binding in row.current_bindings:
                identity = (binding.service_id, binding.tenant_id, binding.purpose_id)
                if identity in wanted:
                    kept.add(identity)
                else:
                    to_drop.append(binding)
            for identity, (service, tenant, purpose, principal, operations) in wanted.items():
                if identity in kept:
                    continue
                binding = Binding(
                    key=self.keys[row.row],
                    service=service,
                    tenant=tenant,
                    purpose=purpose,
                    principal=principal,
                    operations=operations,
                )
                try:
                    binding.full_clean(exclude=_BINDING_REFERENCES, validate_unique=False, validate_constraints=False)
                except ValidationError as exc:
                    raise _RowWriteError(row.row, _validation_text(exc)) from exc
                to_add.append(binding)
        return to_add, to_drop

    def _drop_bindings(self, bindings: list[Binding]) -> None:
        """Delete bindings with one "-" history entry each, attributed to the actor, in bulk. Nothing refers
        to a binding (no model has a foreign key to it), so the rows go without Django's per-object delete
        collector, which would write each history entry in a query of its own."""
        if not bindings:
            return
        model = Binding.history.model
        tracked = [field.attname for field in model.tracked_fields]
        model.objects.bulk_create(
            [
                model(
                    history_type="-",
                    history_date=self.now,
                    history_user=self.actor,
                    history_change_reason=self.reason,
                    **{name: getattr(binding, name) for name in tracked},
                )
                for binding in bindings
            ],
            batch_size=BATCH_SIZE,
        )
        # _raw_delete is Django's own fast-delete path (private): no per-row post_delete signal, whose history
        # rows were just written in bulk. Safe here because nothing refers to a Binding, so nothing cascades.
        for ids in _chunks([binding.pk for binding in bindings]):
            Binding.objects.filter(pk__in=ids)._raw_delete(Binding.objects.db)


def _write(plan: ImportPlan, *, actor, reason: str) -> None:
    """Write every new and changed row in batches; unchanged rows write nothing. Any failure propagates and
    the caller's transaction is rolled back: nothing is written."""
    rows = plan.rows_with(Action.NEW, Action.CHANGED)
    now = timezone.now()
    for batch in _chunks(rows, BATCH_SIZE):
        _write_batch(batch, actor=actor, reason=reason, now=now)


def _write_batch(rows: list[RowPlan], *, actor, reason: str, now: datetime) -> None:
    try:
        _BatchWriter(rows, actor=actor, reason=reason, now=now).write()
    except DatabaseError as exc:
        raise _RowWriteError(
            None, f"{_rows_text(rows)}: the database refused the change ({exc.__class__.__name__})."
        ) from exc


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
