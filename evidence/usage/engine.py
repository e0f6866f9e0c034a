"""The engine: one DuckDB ``GROUP BY`` over a source's normalized rows, read back in chunks.

Why DuckDB: parsing millions of JSON events row by row in Python runs at tens of thousands of events a second and
holds what it aggregates in Python objects; DuckDB reads gzip JSON and CSV in C++ on every core, aggregates with a
memory limit (spilling to a temporary directory past it) and hands back only the aggregates
(``benchmarks/usage.py`` measures both). The connection is in memory and private to one ingestion; nothing of
the file outlives it.

:class:`FileAggregation` runs the statement (:meth:`~FileAggregation.run` returns a :class:`Scan` of counts) and
then yields :class:`Aggregate` rows in chunks (:meth:`~FileAggregation.chunks`), each checked for key material
and hostile text: a key reference, principal, operation, error code or event id that looks like a secret refuses
the whole file; a context value that does is withheld (replaced by a note saying why) and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import duckdb
from django.conf import settings

from cek.keymaterial import find_key_material
from cek.textsafety import find_unsafe_text
from evidence.usage.models import CONTEXT_KEYS, CONTEXT_VALUES, SAMPLE_EVENT_IDS
from evidence.usage.sources.base import COLUMNS, SourceFile, UsageFileError, UsageSource

CONTEXTS_SAMPLED = 3  # distinct contexts read per aggregate (the summary keeps CONTEXT_KEYS x CONTEXT_VALUES)
MAX_CONTEXT_CHARS = 4096  # a context longer than this is not read (counted as withheld)
MAX_VALUE_CHARS = 256  # a context value longer than this is withheld, not cut (cutting would change it)
GZIP_MAGIC = b"\x1f\x8b"

DIMENSIONS = (
    "account",
    "region",
    "store_name",
    "key_ref",
    "principal",
    "principal_type",
    "operation",
    "error_code",
    "day",
)
# The fields of an aggregate that are kept as they are: each is checked before anything is written.
CHECKED = {
    "key_ref": "A key reference",
    "principal": "A principal",
    "operation": "An operation name",
    "error_code": "An error code",
    "account": "An account",
    "region": "A region",
    "store_name": "A store name",
}


def gzip_damage(path: str) -> str | None:
    """Why a gzip file is damaged (cut short, corrupt), or None when every member decompresses to its end. DuckDB
    reads a gzip cut at a line boundary without a word, so the file is checked on its own, while DuckDB reads it
    (zlib releases the GIL)."""
    decompressor = zlib.decompressobj(31)
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                while block:
                    decompressor.decompress(block, 1024 * 1024)
                    while decompressor.unconsumed_tail:
                        decompressor.decompress(decompressor.unconsumed_tail, 1024 * 1024)
                    block = b""
                    if decompressor.eof and decompressor.unused_data:  # a file of several gzip members
                        block = decompressor.unused_data
                        decompressor = zlib.decompressobj(31)
    except zlib.error:
        return "damaged (it does not decompress)"
    if not decompressor.eof:
        return "cut short (it ends before its gzip stream does)"
    return None


def source_file(path: str, *, name: str) -> SourceFile:
    """``path`` as a source reads it: gzip or not by its first bytes (a ``.gz`` name is not trusted)."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    return SourceFile(path=path, gzip=magic == GZIP_MAGIC, name=name)


@dataclass
class Aggregate:
    account: str
    region: str
    store_name: str
    key_ref: str
    principal: str
    principal_type: str
    operation: str
    error_code: str
    day: dt.date
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    sample_event_ids: list[str]
    context: dict[str, list[str]]


@dataclass
class Scan:
    """What the file held: ``events`` kept (key usage), ``skipped`` (other events of the format), ``aggregates``,
    and the (account, region) places and store names its events name."""

    events: int = 0
    skipped: int = 0
    aggregates: int = 0
    places: set[tuple[str, str]] = field(default_factory=set)
    store_names: set[str] = field(default_factory=set)
    withheld_context_values: int = 0


@lru_cache(maxsize=20000)
def _refusal(value: str) -> str | None:
    unsafe = find_unsafe_text(value)
    if unsafe:
        return unsafe
    return find_key_material(value)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class FileAggregation:
    """One file's aggregation. Use as a context manager: the DuckDB connection and its spill directory go with it."""

    def __init__(self, source: UsageSource, file: SourceFile):
        self.source = source
        self.file = file
        self.scan = Scan()
        self._spill = tempfile.TemporaryDirectory(prefix="cek-usage-")
        self.con = duckdb.connect(
            ":memory:",
            config={
                "memory_limit": f"{settings.CEK_USAGE_DUCKDB_MEMORY_MB}MB",
                "threads": settings.CEK_USAGE_DUCKDB_THREADS,
                "temp_directory": self._spill.name,
                "preserve_insertion_order": False,
                # Only the file it is given: no extensions fetched, no other files or URLs.
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            },
        )

    def __enter__(self) -> FileAggregation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()
        self._spill.cleanup()

    def statement(self) -> str:
        relation = self.source.relation(self.con, self.file)
        dims = ",\n    ".join(f"CASE WHEN relevant THEN {name} END AS {name}" for name in DIMENSIONS)
        columns = ", ".join(COLUMNS)
        return f"""
CREATE TEMP TABLE agg AS
SELECT
    recognised,
    relevant,
    {dims},
    count(*) AS events,
    sum(calls) AS calls,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    min_by(event_id, first_seen, {SAMPLE_EVENT_IDS}) FILTER (WHERE relevant AND event_id IS NOT NULL) AS samples,
    min(context, {CONTEXTS_SAMPLED}) FILTER (WHERE relevant AND context IS NOT NULL) AS contexts
FROM (SELECT {columns} FROM ({relation}))
GROUP BY ALL
"""  # noqa: S608 (the source's statement; no file content is interpolated)

    def run(self, heartbeat: Callable[[float], None] | None = None) -> Scan:
        """Read and aggregate the whole file. ``heartbeat(seconds)`` is called about every second meanwhile (the
        job's sign of life). Raises :class:`UsageFileError` for a file that is unreadable or of another format."""
        statement = self.statement()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                self.con.execute(statement)
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

        damage: list[str | None] = []
        started = time.monotonic()
        thread = threading.Thread(target=work, name="usage-aggregate", daemon=True)
        thread.start()
        checker = None
        if self.file.gzip:
            checker = threading.Thread(target=lambda: damage.append(gzip_damage(self.file.path)), daemon=True)
            checker.start()
        while thread.is_alive():
            if checker is not None and not checker.is_alive() and damage and damage[0]:
                self.con.interrupt()  # no use reading the rest
                thread.join()
                break
            thread.join(1.0)
            if thread.is_alive() and heartbeat is not None:
                try:
                    heartbeat(time.monotonic() - started)
                except BaseException:
                    self.con.interrupt()  # cancelled or failed meanwhile: stop DuckDB, then say so
                    thread.join()
                    raise
        if checker is not None:
            checker.join()
            if damage[0]:
                raise UsageFileError(
                    f"{self.file.name}: the gzip file is {damage[0]}. Nothing was written; upload the whole file."
                )
        if failure:
            error = failure[0]
            if isinstance(error, duckdb.Error):
                raise UsageFileError(self.source.read_error(self.file, error)) from None
            raise error
        self._summarise()
        return self.scan

    def _summarise(self) -> None:
        # Kept: the calls (a usage CSV row stands for many); skipped and unrecognised: the records read.
        totals = self.con.execute(
            "SELECT recognised, relevant, sum(events), count(*), sum(calls) FROM agg GROUP BY ALL"
        ).fetchall()
        unrecognised = sum(events for recognised, _, events, _, _ in totals if not recognised)
        read = sum(events for _, _, events, _, _ in totals)
        for recognised, relevant, events, groups, calls in totals:
            if recognised and relevant:
                self.scan.events += int(calls)
                self.scan.aggregates += int(groups)
            elif recognised:
                self.scan.skipped += int(events)
        if unrecognised or not totals:
            raise UsageFileError(
                f"{self.file.name}: {unrecognised} of {read} records are not {self.source.label} events"
                f"{' (the file is empty)' if not read else ''}. Choose the format the file is in: "
                f"{self.source.label} is {self.source.help}."
            )
        places = self.con.execute("SELECT DISTINCT account, region, store_name FROM agg WHERE relevant").fetchall()
        for account, region, store_name in places:
            self.scan.places.add((account or "", region or ""))
            if store_name:
                self.scan.store_names.add(store_name)
        for name, value in [("store_name", name) for name in self.scan.store_names] + [
            (what, value)
            for account, region in self.scan.places
            for what, value in (("account", account), ("region", region))
        ]:
            self.check(name, value)

    def check(self, name: str, value: str) -> None:
        reason = _refusal(value) if value else None
        if reason:
            raise UsageFileError(
                f"{self.file.name}: {CHECKED[name].lower()} in the file looks like it contains {reason}. The file "
                "was refused and nothing was written; usage logs must not carry secrets."
            )

    def chunks(self, size: int = 2000) -> Iterator[list[Aggregate]]:
        """The aggregates of the key usage the file holds, ``size`` at a time (bounded memory), checked."""
        cursor = self.con.execute(
            f"SELECT {', '.join(DIMENSIONS)}, calls, first_seen, last_seen, samples, contexts "  # noqa: S608
            "FROM agg WHERE relevant"
        )
        while True:
            rows = cursor.fetchmany(size)
            if not rows:
                return
            yield [self._aggregate(row) for row in rows]

    def _aggregate(self, row: tuple[Any, ...]) -> Aggregate:
        (account, region, store_name, key_ref, principal, principal_type, operation, error_code, day) = row[:9]
        calls, first_seen, last_seen, samples, contexts = row[9:]
        values = {
            "key_ref": key_ref or "",
            "principal": principal or "",
            "operation": operation or "",
            "error_code": error_code or "",
        }
        for name, value in values.items():
            self.check(name, value)
        samples = [str(sample) for sample in (samples or []) if sample]
        for sample in samples:
            if _refusal(sample):
                raise UsageFileError(
                    f"{self.file.name}: an event id in the file looks like it contains {_refusal(sample)}. The file "
                    "was refused and nothing was written."
                )
        return Aggregate(
            account=account or "",
            region=region or "",
            store_name=store_name or "",
            principal_type=principal_type or "other",
            day=day,
            count=int(calls),
            first_seen=_utc(first_seen),
            last_seen=_utc(last_seen),
            sample_event_ids=samples[:SAMPLE_EVENT_IDS],
            context=self._context(contexts or []),
            **values,
        )

    def _context(self, contexts: list[str]) -> dict[str, list[str]]:
        summary: dict[str, list[str]] = {}
        for text in dict.fromkeys(contexts):  # distinct, in order
            if len(text) > MAX_CONTEXT_CHARS:
                self.scan.withheld_context_values += 1
                continue
            try:
                document = json.loads(text)
            except ValueError:
                continue
            if not isinstance(document, dict):
                continue
            for key, value in document.items():
                value = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                context_add(summary, str(key), value, on_withheld=self._withheld)
        return summary

    def _withheld(self) -> None:
        self.scan.withheld_context_values += 1


def context_add(summary: dict[str, list[str]], key: str, value: str, *, on_withheld: Callable[[], None]) -> None:
    """Add one context pair to a bounded summary ``{key: [values]}``: a key or value that looks like a secret, or
    hostile text, is withheld (a key dropped, a value replaced by a note saying why); at most ``CONTEXT_KEYS`` keys
    and ``CONTEXT_VALUES`` values each."""
    if len(key) > MAX_VALUE_CHARS or _refusal(key):
        on_withheld()
        return
    if len(value) > MAX_VALUE_CHARS:
        on_withheld()
        value = "(withheld: longer than 256 characters)"
    else:
        reason = _refusal(value)
        if reason:
            on_withheld()
            value = f"(withheld: looks like {reason})"
    if key not in summary and len(summary) >= CONTEXT_KEYS:
        return
    values = summary.setdefault(key, [])
    if value not in values and len(values) < CONTEXT_VALUES:
        values.append(value)


def context_merge(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, list[str]]:
    """Two summaries into one, within the same bounds (both were checked when they were made)."""
    merged = {key: list(values) for key, values in (old or {}).items()}
    for key, values in new.items():
        for value in values:
            context_add(merged, key, value, on_withheld=lambda: None)
    return merged
