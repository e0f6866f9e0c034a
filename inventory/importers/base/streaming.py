"""Reading a file without holding it whole: the upload as a source that can be read from the start again
(:class:`ImportSource`), what an importer hands the planner chunk by chunk (:class:`ParseStream`), and the items
of a top-level JSON array one at a time (:func:`json_array_items`).

An importer that reads its format item by item overrides ``Importer.stream``; the others are read whole by
``Importer.parse`` and handed on in chunks (:func:`chunked`), as before."""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from inventory.importers.base.errors import RowError
from inventory.importers.base.rows import ParseResult, StoreScope

READ_BYTES = 1 << 20  # bytes read at a time


class ImportSource:
    """The bytes of an upload: in memory (``bytes``) or a seekable binary file (a kept upload, a file named on the
    command line). :meth:`open` gives it from its start each time, so it can be read twice (a check, then the
    rows) without being held in memory."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        handle.seek(0, io.SEEK_END)
        self.size = handle.tell()
        handle.seek(0)

    @classmethod
    def of(cls, data: Any) -> ImportSource:
        if isinstance(data, ImportSource):
            return data
        if isinstance(data, (bytes, bytearray, memoryview)):
            return cls(io.BytesIO(bytes(data)))
        return cls(data)

    def __enter__(self) -> ImportSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._handle.close()

    def open(self) -> IO[bytes]:
        self._handle.seek(0)
        return self._handle

    def blocks(self, size: int = READ_BYTES) -> Iterator[bytes]:
        handle = self.open()
        while block := handle.read(size):
            yield block

    def read_all(self) -> bytes:
        return self.open().read()

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.blocks():
            digest.update(block)
        return digest.hexdigest()


@dataclass
class ParseStream:
    """A file being read: where its keys live (``scope``, platform exports), whether every string of it was
    checked for key material already, and its rows in chunks (:class:`ParseResult` each: consecutive rows with
    their errors and warnings). The chunks are read when iterated; an ``ImportFileError`` may still come from
    them (a file broken past its start)."""

    chunks: Iterator[ParseResult]
    scope: StoreScope | None = None
    material_checked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def chunked(parsed: ParseResult, size: int) -> Iterator[ParseResult]:
    """A whole :class:`ParseResult` handed on in chunks of ``size`` rows, each with the errors and warnings of
    its rows (errors without a row go with the first chunk; rows are in file order)."""

    def by_row(items: list[RowError]) -> list[RowError]:
        return sorted(items, key=lambda item: item.row or 0)

    errors, warnings = by_row(parsed.errors), by_row(parsed.warnings)
    rows = parsed.rows
    at_error = at_warning = 0
    starts = range(0, len(rows), size) if rows else range(1)
    for start in starts:
        part = rows[start : start + size]
        last = start + size >= len(rows)
        bound = part[-1].row if part and not last else None
        chunk = ParseResult(rows=part, scope=parsed.scope, material_checked=parsed.material_checked)
        while at_error < len(errors) and (bound is None or (errors[at_error].row or 0) <= bound):
            chunk.errors.append(errors[at_error])
            at_error += 1
        while at_warning < len(warnings) and (bound is None or (warnings[at_warning].row or 0) <= bound):
            chunk.warnings.append(warnings[at_warning])
            at_warning += 1
        yield chunk


class NotStreamable(Exception):
    """The file is not a plain JSON array of values, or is broken: it is read whole instead, which says why."""


_WHITESPACE = " \t\n\r"
_AFTER_ITEM = _WHITESPACE + ",]"


def json_array_items(handle: IO[bytes], *, read_bytes: int = READ_BYTES) -> Iterator[Any]:
    """The items of a file holding one JSON array, one at a time, parsed by the standard library's decoder (the
    same values ``json.loads`` gives). Raises :class:`NotStreamable` for anything else (not UTF-8, not an array,
    broken JSON, text after the array): the caller reads the file whole to say what is wrong."""
    decoder = json.JSONDecoder()
    decode = codecs.getincrementaldecoder("utf-8-sig")("strict")
    buffer, at, ended = "", 0, False

    def more(minimum: int = 0) -> bool:
        nonlocal buffer, at, ended
        if ended:
            return False
        wanted = max(read_bytes, minimum)
        block = handle.read(wanted)
        try:
            text = decode.decode(block, final=not block)
        except UnicodeDecodeError:
            raise NotStreamable from None
        ended = not block
        buffer, at = buffer[at:] + text, 0
        return True

    def skip_space() -> str:
        nonlocal at
        while True:
            while at < len(buffer) and buffer[at] in _WHITESPACE:
                at += 1
            if at < len(buffer):
                return buffer[at]
            if not more():
                return ""

    if skip_space() != "[":
        raise NotStreamable
    at += 1
    if skip_space() == "]":
        at += 1
    else:
        while True:
            if not skip_space():
                raise NotStreamable
            while True:
                try:
                    item, end = decoder.raw_decode(buffer, at)
                except json.JSONDecodeError:
                    end = -1
                except RecursionError:
                    raise NotStreamable from None
                if ended or (end != -1 and end < len(buffer) and buffer[end] in _AFTER_ITEM):
                    break
                # The item may go on past what was read ("1" of "1.5"): read more (at least as much again) and
                # decode it again.
                if not more(len(buffer) - at):
                    break
            if end == -1:
                raise NotStreamable
            at = end
            yield item
            separator = skip_space()
            at += 1
            if separator == "]":
                break
            if separator != ",":
                raise NotStreamable
    if skip_space():
        raise NotStreamable
