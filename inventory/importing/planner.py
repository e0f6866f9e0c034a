"""Planning: each row of a file checked (key material, references, choices, field validation) and compared
with the inventory, giving the plan of the file (new / changed / unchanged / error per row).

The row planner checks each row's text, required columns, choices, fields and repeats itself, and works with
one collaborator per other concern: references (:mod:`~inventory.importing.references`), the tags of platform
exports (:mod:`~inventory.importing.tags`), purpose rules and conflicts
(:mod:`~inventory.importing.purpose_rules`) and what a row changes (:mod:`~inventory.importing.diff`). The
store a file belongs to and a full import's unlisted keys: :mod:`~inventory.importing.store_scope`."""

from __future__ import annotations

import gc
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError

from cek.keymaterial import ADVICE, find_key_material, message_for, validate_labels
from cek.textsafety import find_unsafe_text, scrub
from cek.textsafety import message_for as unsafe_message
from inventory import keyfields
from inventory.importers import get_importer
from inventory.importers.base import (
    ALL_FIELDS,
    KEY_MATERIAL,
    MULTILINE_FIELDS,
    REQUIRED_FIELDS,
    UNSAFE_TEXT,
    ImportFileError,
    ImportSource,
    KeyRow,
    ParseResult,
    RefusedFileError,
    RowError,
    describe_value,
)
from inventory.importing.diff import RowDiffer
from inventory.importing.lookups import StoredKey, _Lookups
from inventory.importing.plan import Action, FieldChange, ImportPlan, RowPlan, RowWarning, WarningKind
from inventory.importing.purpose_rules import PurposeRules
from inventory.importing.references import ReferenceResolver, existing_key
from inventory.importing.store_scope import plan_missing, resolve_store
from inventory.importing.tags import TagReader
from inventory.keyfields import Kind
from inventory.models import Key, KeyStore

# Columns holding one of the model field's choices: (the choices, the default for an empty cell).
_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    field.name: (
        tuple(value for value, _ in Key._meta.get_field(field.name).choices),
        str(Key._meta.get_field(field.name).default),
    )
    for field in keyfields.IMPORTED
    if field.kind is Kind.CHOICE
}
_CHOICE_VALUES = {column: frozenset(choices) for column, (choices, _) in _CHOICES.items()}
# Columns holding text (free text and references): each is checked for key material.
_TEXT_COLUMNS = tuple(field.name for field in keyfields.IMPORTED if field.kind.textual)
# Flat tag-like mappings, checked like labels.
_MAPPINGS = tuple(field.name for field in keyfields.IMPORTED if field.kind is Kind.MAPPING)
_SCANNED = frozenset(keyfields.SCANNED)
_KEY_FIELDS = {f.name: f for f in Key._meta.concrete_fields}
_MAX_LENGTHS = {f.name: f.max_length for f in Key._meta.fields if getattr(f, "max_length", None)}
# Columns a row sets on the model as they are (not references, not many-to-many).
_SCALAR_FIELDS = tuple(f.name for f in Key._meta.concrete_fields if not f.is_relation and f.name in ALL_FIELDS)
# New rows whose fields are listed as changes (the preview shows the first 200 changed rows, the API 500).
DESCRIBED_NEW_ROWS = 1000
# Columns derived from tags (platform exports): purpose, owner, tenant; services are added bindings.
_TAGGED = ("purpose", "owner", "tenant", "services")
# What _check_fields checks: the text columns with a length limit, the other columns not scanned as text.
_LIMITED_TEXT = tuple((name, _MAX_LENGTHS[name]) for name in _TEXT_COLUMNS if _MAX_LENGTHS.get(name))
_CHECKED_SCALARS = tuple(name for name in _SCALAR_FIELDS if name not in _SCANNED)
# Rows of existing keys compared with the stored key as a whole first (RowDiffer.same); False: field by field
# only (the slow path, kept for the tests that compare both).
FAST_UNCHANGED = True


# validate_labels says "<label> looks like it contains <reason>. <advice>" for key material (other messages are
# about shapes): the reason phrase is what a refusal records.
_MATERIAL_REASON = re.compile(r"looks like it contains (.+?)\. " + re.escape(ADVICE))


def _material_reason(messages: list[str]) -> str:
    for message in messages:
        match = _MATERIAL_REASON.search(message)
        if match:
            return match.group(1)
    return ""


def _unsafe_columns(row: KeyRow, present: frozenset[str]) -> list[tuple[str, str]]:
    """``(column, reason)`` for each provided text column holding unsafe text: one-line columns may hold no
    tab or line break either. Labels and platform facts are the platform's own text (a Vault metadata value
    may span lines): tab and line breaks pass there, as in the API's labels."""
    found = []
    for column in _TEXT_COLUMNS:
        if column in present:
            reason = find_unsafe_text(getattr(row, column), multiline=column in MULTILINE_FIELDS)
            if reason:
                found.append((column, reason))
    for column in _MAPPINGS:
        if column in present and isinstance(getattr(row, column), dict):
            for name, value in getattr(row, column).items():
                reason = find_unsafe_text(name, multiline=True) or find_unsafe_text(value, multiline=True)
                if reason:
                    found.append((column, reason))
                    break
    if "exposed_to" in present:
        for name in row.exposed_to:
            reason = find_unsafe_text(name)
            if reason:
                found.append(("exposed_to", reason))
                break
    return found


class _RowPlanner:
    def __init__(
        self,
        lookups: _Lookups,
        *,
        reads_tags: bool = False,
        store: KeyStore | None = None,
        material_checked: bool = False,
    ) -> None:
        self.lk = lookups
        self.reads_tags = reads_tags
        self.material_checked = material_checked
        self.store = store  # the store chosen for the import: every row must belong to it
        # Every (store, external id) of the file so far, as a number (see _identity), with its row number.
        self.seen: dict[int, int] = {}
        self.references = ReferenceResolver(lookups)
        self.tags = TagReader(lookups)
        self.unknowns = self.tags.unknowns  # names a tag gave that match nothing, by column
        self.purpose_rules = PurposeRules(lookups, reads_tags=reads_tags)
        self.differ = RowDiffer(lookups)
        self.described = 0
        self.valid: set[tuple[str, Any]] = set()  # (field, value) pairs found valid

    def plan(self, row: KeyRow) -> RowPlan:
        plan = RowPlan(row=row.row, store=row.store, external_id=row.external_id, name=row.name, action=Action.ERROR)
        flagged: set[str] = set()

        def error(column: str, message: str, *, kind: str = "", reason: str = "") -> None:
            flagged.add(column)
            plan.errors.append(RowError(row.row, column, message, kind=kind, reason=reason))

        def warn(column: str, kind: WarningKind, message: str) -> None:
            plan.warnings.append(RowWarning(row.row, column, kind, message))

        if self.store is not None and row.store and row.store != self.store.name:
            error(
                "store",
                f"{describe_value('store', row.store)}, but this import is for the store '{self.store.name}'. "
                "A file imported into one store may only list that store's keys: split the file by store.",
            )
        if row.create_only and self._exists(row):
            row.fields = row.fields - row.create_only
        derived = self.tags.derive(row, warn) if self.reads_tags else None
        present = row.fields

        # Unsafe text, then key material, first, so no later message quotes a value that holds either (key
        # material: unless the importer checked every string of the file already). Both refuse the upload.
        for column, reason in _unsafe_columns(row, present):
            error(column, unsafe_message(f"column '{column}'", reason), kind=UNSAFE_TEXT, reason=reason)
        scan = not self.material_checked
        if scan:
            for column in _TEXT_COLUMNS:
                if column in present and column not in flagged:
                    reason = find_key_material(getattr(row, column))
                    if reason:
                        error(column, message_for(f"column '{column}'", reason), kind=KEY_MATERIAL, reason=reason)
        for column in _MAPPINGS:
            if column in present and column not in flagged:
                try:
                    validate_labels(getattr(row, column), scan=scan)
                except ValidationError as exc:
                    reason = _material_reason(exc.messages) if scan else ""
                    error(
                        column,
                        f"column '{column}': {' '.join(exc.messages)}",
                        kind=KEY_MATERIAL if reason else "",
                        reason=reason,
                    )
        if scan and "exposed_to" in present and "exposed_to" not in flagged:
            for name in row.exposed_to:
                reason = find_key_material(name)
                if reason:
                    error("exposed_to", message_for("column 'exposed_to'", reason), kind=KEY_MATERIAL, reason=reason)
                    break

        for column in REQUIRED_FIELDS:
            if column == "purpose" and column not in present:
                continue  # a format that does not carry purposes: new keys are "purpose unassigned"
            if column == "purpose" and not row.purpose and self._is_unassigned(row):
                # An export of an unassigned key has an empty purpose cell: importing it back changes nothing.
                present = row.fields = row.fields - {"purpose"}
                continue
            if column == "store" and not row.store:
                if column not in flagged:
                    error(
                        "store",
                        "column 'store' is empty; name the key store in the file, or choose the store the file "
                        "belongs to when you upload it.",
                    )
                continue
            if column not in flagged and not getattr(row, column):
                error(column, f"column '{column}' is empty; every key needs a {column.replace('_', ' ')}.")

        values: dict[str, Any] = {}
        self.references.resolve(row, values, error, flagged)
        for column, (choices, default) in _CHOICES.items():
            if column in present and column not in flagged:
                text = getattr(row, column).lower()
                if not text:
                    values[column] = str(default)
                elif text in _CHOICE_VALUES[column]:
                    values[column] = text
                else:
                    error(
                        column,
                        f"{describe_value(column, getattr(row, column))}; expected one of: {', '.join(choices)}.",
                    )
        for column in _SCALAR_FIELDS:
            if column in present and column not in values and column not in flagged:
                values[column] = getattr(row, column)

        store = values.get("store")
        if store is not None and row.external_id and "external_id" not in flagged:
            identity = _identity(store.pk, row.external_id)
            if identity in self.seen:
                error(
                    "external_id",
                    f"column 'external_id' repeats row {self.seen[identity]} (same store and external_id); "
                    "each key may appear once in a file.",
                )
            else:
                self.seen[identity] = row.row
        if plan.errors:
            return plan

        existing = self.lk.keys.get((store.pk, row.external_id))
        plan.key, plan.values = existing, {k: v for k, v in values.items() if k not in ("exposed_to", "services")}
        if existing is None and "purpose" not in plan.values:
            plan.values["purpose"] = None
        exposed = values.get("exposed_to")
        purpose = plan.values["purpose"] if "purpose" in plan.values else existing.purpose
        self.purpose_rules.check(row, plan, existing, purpose, error, warn)
        self._check_fields(row, plan, existing, error, flagged)
        if row.bindings is not None:
            plan.bindings = self.references.bindings(row, purpose, error)
        if derived is not None and derived.services:
            self.tags.add_bindings(plan, derived.services, purpose, existing, warn)
        if plan.errors:
            return plan
        if existing is None:
            plan.action = Action.NEW
            plan.exposed_to = exposed
            if self.described < DESCRIBED_NEW_ROWS:  # only shown: the first rows of the preview and the API answer
                self.described += 1
                plan.changes = self.differ.describe_new(row, plan)
            if purpose is None:
                warn(
                    "purpose",
                    WarningKind.UNASSIGNED,
                    "no purpose could be derived"
                    + (f" (no '{store.purpose_tag_key}' tag)" if self.reads_tags else "")
                    + ': the key is imported as "purpose unassigned" for GRC to map, and counts against CEK-11 '
                    "until it is.",
                )
        else:
            # A row whose every column equals the stored key's (most of a re-import) changes nothing: the
            # field-by-field comparison that lists the changes is for the others.
            same = FAST_UNCHANGED and self.differ.same(row, plan, existing)
            plan.changes = [] if same else self.differ.changes(row, plan, existing, exposed)
            plan.exposed_to = exposed if "exposed_to" in plan.changed_columns else None
            if existing.not_seen_since is not None:
                plan.values["not_seen_since"] = None
                plan.changes.append(FieldChange("not_seen_since", existing.not_seen_since.isoformat(), ""))
            plan.action = Action.CHANGED if plan.changes or plan.added_bindings else Action.UNCHANGED
        return plan

    def _exists(self, row: KeyRow) -> bool:
        return existing_key(self.lk, row) is not None

    def _is_unassigned(self, row: KeyRow) -> bool:
        key = existing_key(self.lk, row)
        return key is not None and key.purpose_id is None

    def _check_fields(self, row: KeyRow, plan: RowPlan, existing: StoredKey | None, error, flagged: set[str]) -> None:
        """Field validation (lengths, choices, validators) of the fields the row sets, field by field, without
        the queries of foreign-key and uniqueness checks (references were resolved above). ``key_save``
        validates the whole key again when a key is edited. A value already found valid for a field is not
        checked again (states, kinds, dates and sizes repeat across thousands of rows)."""
        # Text and labels were checked for key material above; here only their length, not a second scan.
        values = plan.values
        for name, limit in _LIMITED_TEXT:
            value = values.get(name)
            if isinstance(value, str) and name not in flagged and len(value) > limit:
                error(name, f"column '{name}' has {len(value)} characters; at most {limit} fit.")
        valid = self.valid
        for name in _CHECKED_SCALARS:
            if name not in values or name in flagged:
                continue
            value = values[name]
            try:
                cache_key = (name, value)
                if cache_key in valid:
                    continue
            except TypeError:  # an unhashable value: checked every time
                cache_key = None
            try:
                _KEY_FIELDS[name].clean(value, None)
            except ValidationError as exc:
                error(name, f"column '{name}': {' '.join(exc.messages)}")
            else:
                if cache_key is not None:
                    valid.add(cache_key)


def _identity(store_id: int, external_id: str) -> int:
    """A key's (store, external id) as a 64-bit number: what a plan remembers of every row it has seen (for the
    repeats within the file and a full import's unlisted keys), a few bytes instead of the id's text. Two ids
    sharing a number by chance is a one-in-10^9 event for a million keys."""
    digest = hashlib.blake2b(f"{store_id}:{external_id}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def chunk_rows() -> int:
    """Rows planned (and, when applying, written) at a time: what a plan holds in memory at once."""
    return max(1, int(getattr(settings, "CEK_IMPORT_CHUNK_ROWS", 1000)))


# The cyclic garbage collector during the plan of a large file (see _collecting_less).
GC_RELAXED_BYTES = 1 << 20  # files at least this large
GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)
_gc_lock = threading.Lock()
_gc_depth = 0  # plans in progress that relaxed the collector (threads of one process share it)
_gc_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def _collecting_less(size: int) -> Iterator[None]:
    """While a large file is planned (and written), the garbage collector runs less: a plan allocates millions of
    short-lived objects (items, rows, row plans, model instances) that form no cycles, and with Python's default
    thresholds a full collection ran every few thousand rows, each walking every object of the process (Django,
    the app and their modules): 15 % of the CPU of a 100,000-key import. So the objects alive before the plan are
    frozen (never walked meanwhile; ``gc.unfreeze`` hands them back, garbage among them included) and young
    collections run every :data:`GC_YOUNG_THRESHOLD` allocations. Restored when the last such plan ends."""
    global _gc_depth, _gc_saved
    if size < GC_RELAXED_BYTES:
        yield
        return
    with _gc_lock:
        if _gc_depth == 0:
            _gc_saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(GC_YOUNG_THRESHOLD, *_gc_saved[1:])
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0:
                gc.set_threshold(*_gc_saved)
                gc.unfreeze()


def key_import_plan(
    *,
    data: bytes | ImportSource | IO[bytes],
    file_name: str,
    format: str,
    store: KeyStore | None = None,
    full: bool = False,
    on_chunk: Callable[[list[RowPlan]], None] | None = None,
) -> ImportPlan:
    """Read ``data`` (bytes, or a seekable binary file) with the importer for ``format`` and plan every row
    against the current inventory, a chunk of rows at a time (:func:`chunk_rows`): the file is never held whole
    (by the formats that read item by item) and the plan keeps its counts and its first rows, errors and
    warnings only (:class:`~inventory.importing.plan.ImportPlan`).

    ``store``: the key store the file belongs to (required to be consistent with the file; platform exports
    find it from the file when it is not given). ``full``: the file lists every key of its store, so the
    store's other keys are to be marked "not seen since" (needs a single store). ``on_chunk(rows)`` is called
    with each chunk's row plans as long as no row so far has an error (apply writes them then, inside its
    transaction, which it rolls back when the plan ends with errors).

    Reads only: a fixed number of queries per chunk. A problem with the file as a whole is reported in
    ``plan.file_error``; problems with rows in ``plan.errors`` (sorted by row)."""
    source = ImportSource.of(data)
    plan = ImportPlan(format=format, file_name=file_name, full=full)
    limit = settings.CEK_IMPORT_MAX_BYTES
    if source.size > limit:
        plan.file_error = (
            f"The file is {source.size / 1048576:.1f} MB; the limit is {limit / 1048576:.1f} MB "
            "(CEK_IMPORT_MAX_BYTES). Split it into several files."
        )
        return plan
    with _collecting_less(source.size):
        return _plan_file(plan, source, file_name=file_name, format=format, store=store, full=full, on_chunk=on_chunk)


def _plan_file(
    plan: ImportPlan,
    source: ImportSource,
    *,
    file_name: str,
    format: str,
    store: KeyStore | None,
    full: bool,
    on_chunk: Callable[[list[RowPlan]], None] | None,
) -> ImportPlan:
    try:
        importer = get_importer(format)
        stream = importer.stream(source, file_name=file_name, chunk_rows=chunk_rows())
        plan.store = resolve_store(importer, stream, store)
        planner = _RowPlanner(
            _Lookups(reads_tags=importer.reads_tags),
            reads_tags=importer.reads_tags,
            store=store,
            material_checked=stream.material_checked,
        )
        store_names: set[str] = set()
        read_any = False
        for chunk in stream.chunks:
            read_any = read_any or bool(chunk.rows or chunk.errors)
            _plan_chunk(plan, planner, chunk, store_names, full=full, on_chunk=on_chunk)
        if not read_any:
            raise ImportFileError(importer.no_rows_message())
    except RefusedFileError as exc:
        plan.discard_rows()
        plan.file_error, plan.file_refusal = scrub(str(exc)), exc.refusal()
        return plan
    except ImportFileError as exc:
        plan.discard_rows()
        plan.file_error = scrub(str(exc))  # a message may name a header cell: it is shown and stored
        plan.store_to_create = getattr(exc, "store_to_create", None)
        return plan
    if plan.store is None and full and len(store_names) != 1:
        plan.discard_rows()
        plan.file_error = (
            f"A full import marks the keys of one store that the file does not list, but this file names "
            f'{len(store_names)} stores. Choose the store, or import without "full import".'
        )
        return plan
    if plan.store is None and full:
        plan.store = plan.full_store
    plan.unknowns = {column: sorted(names) for column, names in sorted(planner.unknowns.items())}
    if full and plan.store is not None and not plan.errors:
        plan_missing(plan, plan.store, lambda external_id: _identity(plan.store.pk, external_id) in planner.seen)
    return plan


def _plan_chunk(
    plan: ImportPlan,
    planner: _RowPlanner,
    parsed: ParseResult,
    store_names: set[str],
    *,
    full: bool,
    on_chunk: Callable[[list[RowPlan]], None] | None,
) -> None:
    if plan.store is not None:
        for row in parsed.rows:
            if not row.store:
                row.store = plan.store.name
                row.fields = row.fields | {"store"}
    elif full:
        store_names.update(row.store for row in parsed.rows if row.store)
        if len(store_names) > 1:
            return  # refused at the end: no row of it is planned or written
    planner.lk.load(parsed.rows)
    if plan.store is None and full and plan.full_store is None and parsed.rows:
        plan.full_store = planner.lk.stores.get(parsed.rows[0].store)
    rows = [planner.plan(row) for row in parsed.rows]
    by_row = {row.row: row for row in rows}
    for warning in parsed.warnings:  # the importer's own: a reference that names nothing in the file
        if warning.row in by_row:
            by_row[warning.row].warnings.append(
                RowWarning(warning.row, warning.column, WarningKind.UNKNOWN, warning.message)
            )
    unreadable = {error.row for error in parsed.errors}
    for row in rows:
        if row.row in unreadable:
            row.action, row.changes = Action.ERROR, []
    errors = sorted([*parsed.errors, *(error for row in rows for error in row.errors)], key=lambda e: (e.row or 0))
    plan.add(rows, errors)
    if on_chunk is not None and not plan.has_errors:
        on_chunk(rows)
