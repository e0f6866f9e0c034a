"""Applying a previewed import atomically: planned again inside the transaction that writes, every row or none."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connection, router, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cek.bulkcopy import copy_available, copy_create, copy_history, copy_history_in_database
from cek.tablestats import statistics_refresh
from inventory.importers import get_importer
from inventory.importers.base import ImportFileError, ImportSource, RowError
from inventory.importing.lookups import key_instances
from inventory.importing.plan import Action, ImportPlan, RowPlan
from inventory.importing.planner import key_import_plan
from inventory.importing.progress import percent_of, progress_clear, progress_percent, progress_read, progress_reporter
from inventory.importing.records import (
    _stored_errors,
    _stored_warnings,
    clean_file_name,
    key_import_open,
    key_import_record,
    refusal_message,
)
from inventory.models import Binding, Key, KeyImport, KeyStore


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


# A new key's attributes before the row's values are set: each field's default, as Key() sets them.
_KEY_DEFAULTS = {f.attname: f.get_default() for f in Key._meta.concrete_fields}
_KEY_CALLABLE_DEFAULTS = tuple(
    (f.attname, f.default) for f in Key._meta.concrete_fields if f.has_default() and callable(f.default)
)
_KEY_RELATIONS = {f.name: f for f in Key._meta.concrete_fields if f.is_relation}


def _new_key(values: dict[str, Any]) -> Key:
    """``Key(**values)`` without the model's generic constructor: the defaults and the values set as its
    attributes, a related object as its id and cached instance (as the relation's descriptor sets it). Key()
    and a descriptor call per value were a sixth of the CPU of writing 100,000 new keys. No signal is sent on
    a key's creation (``pre_init``/``post_init``: nothing listens to Key's)."""
    key = Key.__new__(Key)
    key._state = ModelState()
    attributes = key.__dict__
    attributes.update(_KEY_DEFAULTS)
    for attname, default in _KEY_CALLABLE_DEFAULTS:
        attributes[attname] = default()
    cache = key._state.fields_cache
    for name, value in values.items():
        field = _KEY_RELATIONS.get(name)
        if field is None:
            attributes[name] = value
        else:
            attributes[field.attname] = value.pk if value is not None else None
            cache[name] = value
            if value is not None and key._state.db is None:
                key._state.db = router.db_for_write(Key, instance=value)
    return key


class _BatchWriter:
    """Writes one batch of planned rows (new and changed keys) with their exposures, bindings and history."""

    def __init__(self, rows: list[RowPlan], *, actor, reason: str, now: datetime) -> None:
        self.rows, self.actor, self.reason, self.now = rows, actor, reason[:100], now
        self.keys: dict[int, Key] = {}  # row number -> the key it writes
        # The planner reads existing keys as tuples (StoredKey): the instances of those this batch writes.
        self.instances = key_instances(row.key for row in rows if row.key is not None)
        self.moved_ends = False  # whether the cryptoperiod end of a changed key moved

    def write(self) -> None:
        new, changed = self._prepare_keys()
        bindings_to_add, bindings_to_drop = self._prepare_bindings()
        # COPY (PostgreSQL) for what is new, when no new key has exposures whose history must be snapshotted.
        fast = copy_available() and not any(r.key is None and r.exposed_to for r in self.rows)
        if new:
            copy_create(Key, new, now=self.now) if fast else Key.objects.bulk_create(new, batch_size=BATCH_SIZE)
        if changed:
            self._update(changed)
        self._replace_exposures()
        history = Key.history.bulk_history_create(
            changed, batch_size=BATCH_SIZE, update=True, **self._history_defaults()
        )
        if fast:
            copy_history_in_database(
                Key, [key.pk for key in new], history_type="+", actor=self.actor, reason=self.reason, date=self.now
            )
        else:
            history += Key.history.bulk_history_create(new, batch_size=BATCH_SIZE, **self._history_defaults())
        self._record_exposures(history)
        self._drop_bindings(bindings_to_drop)
        if bindings_to_add and copy_available():
            copy_create(Binding, bindings_to_add, now=self.now)
            copy_history(
                Binding, bindings_to_add, history_type="+", actor=self.actor, reason=self.reason, date=self.now
            )
        elif bindings_to_add:
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
            if row.key is None:
                key = self.keys[row.row] = _new_key(row.values)
            else:
                key = self.keys[row.row] = self.instances.get(row.key.pk)
                if key is None:
                    raise _RowWriteError(
                        row.row, "the key was deleted while the import was written; import the file again."
                    )
                if not row.changed_columns - {"services"}:
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
            for service, tenant, purpose, principal, operations in row.added_bindings:
                to_add.append(
                    Binding(
                        key=self.keys[row.row],
                        service=service,
                        tenant=tenant,
                        purpose=purpose,
                        principal=principal,
                        operations=operations,
                    )
                )
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


class _Writer:
    """Writes a plan as it is made: each chunk's new and changed rows (unchanged rows write nothing) in batches,
    as the planner hands them over (``on_chunk``), then, for a full import, the keys the file no longer lists.
    Any failure propagates and the caller's transaction is rolled back: nothing is written; a plan that ends
    with errors is rolled back the same way. ``on_progress(done, total)`` is called after each batch (``total``:
    the rows the preview counted, when known)."""

    def __init__(self, *, actor, reason: str, on_progress=None, total: int = 0) -> None:
        self.actor, self.reason, self.on_progress, self.total = actor, reason, on_progress, total
        self.now = timezone.now()
        self.done = 0
        self.created = 0  # new keys written since the tables' statistics were last brought up to date

    def __call__(self, rows: list[RowPlan]) -> None:
        written = [row for row in rows if row.action in (Action.NEW, Action.CHANGED)]
        for batch in _chunks(written, BATCH_SIZE):
            _write_batch(batch, actor=self.actor, reason=self.reason, now=self.now)
        self.created += sum(1 for row in written if row.key is None)
        if statistics_refresh(Key, written=self.created, minimum=ANALYZE_AFTER_NEW_KEYS, also=(Binding,)):
            self.created = 0
        self.done += len(rows)
        self._report()

    def _report(self) -> None:
        if self.on_progress:
            self.on_progress(self.done, max(self.total, self.done))

    def finish(self, plan: ImportPlan) -> None:
        if not (plan.full and plan.store is not None):
            return
        missing = plan.missing_ids if plan.missing_ids is not None else [key.pk for key in plan.missing]
        self.total = max(self.total, self.done) + len(missing)
        for batch in _chunks(missing, BATCH_SIZE):
            _mark_not_seen(batch, actor=self.actor, reason=self.reason, now=self.now)
            self.done += len(batch)
            self._report()
        KeyStore.objects.filter(pk=plan.store.pk).update(last_full_import_at=self.now)


# PostgreSQL plans the next chunks' lookups (keys by external id, bindings by key) from the tables' statistics.
# Statistics taken when the table was small (or never: reltuples -1) make it scan the whole store for each chunk
# instead of using the unique (store, external_id) index: 120 ms a lookup at 100,000 keys, whose sum grew with
# the square of the keys in a first import and made up half of the re-import right after it. So once an import
# has written as many new keys as the statistics count (and at least this many), it brings them up to date, for the
# binding table too (``cek.tablestats``).
ANALYZE_AFTER_NEW_KEYS = 5000


def _write(plan: ImportPlan, *, actor, reason: str, on_progress=None) -> None:
    """Write a plan made beforehand, whole (its kept rows are all of its rows: a small file)."""
    writer = _Writer(actor=actor, reason=reason, on_progress=on_progress, total=len(plan.rows))
    writer(plan.rows)
    writer.finish(plan)


def _mark_not_seen(ids: list[int], *, actor, reason: str, now: datetime) -> None:
    """Keys a full import of their store no longer lists: marked "not seen since" today, never deleted."""
    today = timezone.localdate(now)
    Key.objects.filter(pk__in=ids).update(not_seen_since=today, updated_at=now)
    current = list(Key.objects.filter(pk__in=ids))
    Key.history.bulk_history_create(
        current,
        batch_size=BATCH_SIZE,
        update=True,
        default_user=actor,
        default_change_reason=reason[:100],
        default_date=now,
    )


def _write_batch(rows: list[RowPlan], *, actor, reason: str, now: datetime) -> None:
    try:
        _BatchWriter(rows, actor=actor, reason=reason, now=now).write()
    except DatabaseError as exc:
        raise _RowWriteError(
            None, f"{_rows_text(rows)}: the database refused the change ({exc.__class__.__name__})."
        ) from exc


def check_applicable(record: KeyImport, *, statuses: tuple[str, ...] = (KeyImport.Status.PREVIEWED,)) -> None:
    """Raise :class:`ImportApplyError` unless ``record`` (locked by the caller) may be applied: one of
    ``statuses`` and without recorded errors."""
    if record.status not in statuses:
        raise ImportApplyError(
            f"This import is {record.get_status_display().lower()}; only a previewed import can be applied."
        )
    if record.errors:
        raise ImportApplyError(
            "This import has errors, so nothing can be applied (imports are all or nothing). "
            "Fix the file and upload it again."
        )


def _refuse_kept(key_import: KeyImport, plan: ImportPlan) -> None:
    with transaction.atomic():
        locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
        if locked.file:
            locked.file.delete(save=False)
        locked.status = KeyImport.Status.REFUSED
        locked.refusal = plan.refusal[:1000]
        refusals = plan.kept_refusals if plan.tally is not None else [error for error in plan.errors if error.kind]
        locked.errors = [error.as_dict() for error in refusals][:1000]
        locked.warnings, locked.unknowns = [], {}
        locked.last_error = refusal_message(plan)
        locked.save()
    key_import.refresh_from_db()


# Any 64-bit number unique to this lock: every apply (and run from the command line) takes it.
_APPLY_LOCK = 0x6365_6B5F_696D_7074  # "cek_impt"
APPLY_LOCK_WAIT_SECONDS = 15


def _serialize_applies(import_id: int | None) -> None:
    """Make applies write one at a time, taken first in the apply's transaction and held to its end.

    Two imports that list the same new keys, applied at once, both planned them "new" and the second's write
    then broke the unique (store, external_id) constraint. Serialized, the second plans after the first has
    committed and finds the keys there. PostgreSQL: a transaction-level advisory lock. SQLite has one writer at
    a time: a write as the first statement takes its lock before the plan reads anything (a deferred
    transaction that has read cannot take it later without "database is locked")."""
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Bounded wait: a request is not held past its worker timeout behind a long apply.
                cursor.execute(f"SET LOCAL lock_timeout = '{APPLY_LOCK_WAIT_SECONDS}s'")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPLY_LOCK])
                cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        if import_id is not None:
            KeyImport.objects.filter(pk=import_id).update(status=F("status"))
    except OperationalError as exc:
        raise ImportApplyError(
            "Another import is being written right now and this one could not wait for it; nothing was written. "
            "Apply it again in a moment."
        ) from exc


class _Rejected(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan


def key_import_apply(*, key_import: KeyImport, actor) -> KeyImport:
    """Apply a previewed import in one transaction: every row or none.

    The kept file is planned again against the inventory as it is now. If any row has an error, nothing is
    written, the new errors are recorded on the import and :class:`ImportApplyError` is raised; if a write
    fails, nothing is written, the import is marked failed and :class:`ImportApplyError` is raised. History
    entries are attributed to ``actor`` with the reason "<format> import <file name>".

    Runs in the request for small files and in a Celery worker for large ones (``key_import_start``), which
    finds the import "applying" (and finds it so again if a worker died mid-way: nothing was committed)."""
    try:
        with transaction.atomic():
            _serialize_applies(key_import.pk)
            locked = KeyImport.objects.select_for_update().get(pk=key_import.pk)
            check_applicable(locked, statuses=(KeyImport.Status.PREVIEWED, KeyImport.Status.APPLYING))
            try:
                data = key_import_open(locked)
            except ImportFileError as exc:
                raise ImportApplyError(str(exc)) from None
            report = progress_reporter(locked.pk)
            report(0, "planning", done=0, total=0)
            writer = _Writer(
                actor=actor,
                reason=_change_reason(locked),
                on_progress=lambda done, total: report(percent_of(done, total), "writing", done=done, total=total),
                total=locked.counts.get("rows", 0),
            )
            with data:
                plan = key_import_plan(
                    data=data,
                    file_name=locked.file_name,
                    format=locked.format,
                    store=locked.store,
                    full=locked.full,
                    on_chunk=writer,
                )
            if plan.has_errors:
                raise _Rejected(plan)
            writer.finish(plan)
            locked.status = KeyImport.Status.APPLIED
            locked.counts = plan.counts
            locked.warnings = _stored_warnings(plan)
            locked.unknowns = plan.unknowns
            locked.applied_at = locked.finished_at = timezone.now()
            locked.applied_by = actor
            locked.last_error = ""
            locked.progress = 100
            locked.save(
                update_fields=[
                    *("status", "counts", "warnings", "unknowns", "applied_at", "applied_by", "last_error"),
                    *("finished_at", "progress"),
                ]
            )
    except _Rejected as exc:
        progress_clear(key_import.pk)
        if exc.plan.refused:
            # The kept file is refused now (the key-material rules found more since the preview): its bytes go.
            _refuse_kept(key_import, exc.plan)
            raise ImportApplyError(refusal_message(exc.plan), exc.plan.errors) from None
        KeyImport.objects.filter(pk=key_import.pk).update(
            status=KeyImport.Status.PREVIEWED, counts=exc.plan.counts, errors=_stored_errors(exc.plan)
        )
        key_import.refresh_from_db()
        count = exc.plan.counts["errors"]
        raise ImportApplyError(
            f"Nothing was imported: the inventory changed since the preview and {count} row"
            f"{'s' if count != 1 else ''} now {'have' if count != 1 else 'has'} errors. "
            "Fix the file and upload it again.",
            exc.plan.errors or [RowError(None, "", exc.plan.file_error)],
        ) from None
    except _RowWriteError as exc:
        progress_clear(key_import.pk)
        KeyImport.objects.filter(pk=key_import.pk).update(
            status=KeyImport.Status.FAILED, last_error=str(exc), finished_at=timezone.now()
        )
        key_import.refresh_from_db()
        raise ImportApplyError(f"Nothing was imported: {exc}") from exc
    progress_clear(key_import.pk)
    key_import.refresh_from_db()
    return key_import


def import_percent(record: KeyImport) -> int | None:
    """How far applying ``record`` is, for progress bars: 100 once applied, the worker's last report while
    applying, None otherwise."""
    if record.status == KeyImport.Status.APPLIED:
        return 100
    if record.status != KeyImport.Status.APPLYING:
        return None
    return progress_percent(progress_read(record.pk))


def key_import_run(
    *, data: bytes, file_name: str, format: str, actor, store: KeyStore | None = None, full: bool = False
) -> tuple[KeyImport, ImportPlan]:
    """Plan and apply a file at once (the command line): planned a single time, inside the transaction that
    writes, and recorded like an upload. A file with errors writes nothing and is recorded with its errors
    (``status`` previewed, or failed for a file rejected whole); check ``plan.has_errors``. Raises
    :class:`ImportApplyError` when a write fails (nothing is written; the import is recorded as failed)."""
    file_name = clean_file_name(file_name)
    data = ImportSource.of(data)
    try:
        with transaction.atomic():
            _serialize_applies(None)
            writer = _Writer(actor=actor, reason=f"{get_importer(format).label} import {file_name}"[:100])
            plan = key_import_plan(
                data=data, file_name=file_name, format=format, store=store, full=full, on_chunk=writer
            )
            if plan.has_errors:
                raise _Rejected(plan)
            writer.finish(plan)
            now = timezone.now()
            record = key_import_record(
                data=data,
                file_name=file_name,
                plan=plan,
                actor=actor,
                store=store,
                status=KeyImport.Status.APPLIED,
                started_at=now,
                finished_at=now,
                progress=100,
                applied_at=now,
                applied_by=actor,
            )
    except _Rejected as exc:
        return key_import_record(data=data, file_name=file_name, plan=exc.plan, actor=actor, store=store), exc.plan
    except _RowWriteError as exc:
        record = key_import_record(
            data=data,
            file_name=file_name,
            plan=ImportPlan(format=format, file_name=file_name),
            actor=actor,
            store=store,
        )
        KeyImport.objects.filter(pk=record.pk).update(status=KeyImport.Status.FAILED, last_error=str(exc))
        raise ImportApplyError(f"Nothing was imported: {exc}") from exc
    return record, plan
