"""Reading a file without holding it whole: the upload as a source that can be read from the start again
(:class:`ImportSource`), what an importer hands the planner chunk by chunk (:class:`ParseStream`), the items
of a top-level JSON array one at a time (:func:`json_array_items`), the members of a top-level JSON object one
at a time, an array member item by item (:func:`json_object_members`), the first pass over a platform export
(:func:`checked_array_items`) and rows read one at a time handed on in chunks (:func:`rows_in_chunks`).

An importer that reads its format item by item overrides ``Importer.stream``; the others are read whole by
``Importer.parse`` and handed on in chunks (:func:`chunked`), as before."""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from inventory.importers.base.errors import ImportFileError, RowError
from inventory.importers.base.rows import KeyRow, ParseResult, StoreScope
from inventory.importers.base.scanning import first_finding

if TYPE_CHECKING:
    from inventory.importers.base import JsonImporter

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


class _JsonText:
    """The text of a JSON file read a block at a time, with a position in what is held (``buffer[at:]``): the
    reading of :func:`json_object_members`, which holds one member or item at a time."""

    def __init__(self, handle: IO[bytes], read_bytes: int) -> None:
        self.handle, self.read_bytes = handle, read_bytes
        self.decoder = json.JSONDecoder()
        self.decode = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.buffer, self.at, self.ended = "", 0, False

    def more(self, minimum: int = 0) -> bool:
        if self.ended:
            return False
        block = self.handle.read(max(self.read_bytes, minimum))
        try:
            text = self.decode.decode(block, final=not block)
        except UnicodeDecodeError:
            raise NotStreamable from None
        self.ended = not block
        self.buffer, self.at = self.buffer[self.at :] + text, 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file), left unread."""
        while True:
            buffer, at = self.buffer, self.at
            while at < len(buffer) and buffer[at] in _WHITESPACE:
                at += 1
            self.at = at
            if at < len(buffer):
                return buffer[at]
            if not self.more():
                return ""

    def take(self) -> str:
        """The next character that is not white space, read."""
        char = self.peek()
        self.at += 1
        return char

    def value(self, followers: str) -> Any:
        """The JSON value at the position, decoded by the standard library's decoder; ``followers`` are the
        characters that may follow it (a value cut at a block's end is read on until one does)."""
        if not self.peek():
            raise NotStreamable
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.at)
            except json.JSONDecodeError:
                end = -1
            except RecursionError:
                raise NotStreamable from None
            if self.ended or (end != -1 and end < len(self.buffer) and self.buffer[end] in followers):
                break
            if not self.more(len(self.buffer) - self.at):
                break
        if end == -1:
            raise NotStreamable
        self.at = end
        return value


_AFTER_NAME = _WHITESPACE + ":"
_AFTER_MEMBER = _WHITESPACE + ",}"


def json_object_members(
    handle: IO[bytes], *, arrays: frozenset[str] = frozenset(), read_bytes: int = READ_BYTES
) -> Iterator[tuple[str, Any, bool]]:
    """The members of a file holding one JSON object, one at a time, as ``(name, value, False)``; a member named
    in ``arrays`` whose value is an array comes item by item instead, as ``(name, item, True)`` (an empty array
    gives nothing). The values are those ``json.loads`` gives. Raises :class:`NotStreamable` for anything else
    (not UTF-8, not an object, broken JSON, text after the object) and for a member named twice (``json.loads``
    keeps the last, which a reader going forward cannot know): the caller reads the file whole."""
    text = _JsonText(handle, read_bytes)
    if text.take() != "{":
        raise NotStreamable
    names: set[str] = set()
    if text.peek() == "}":
        text.take()
    else:
        while True:
            name = text.value(_AFTER_NAME)
            if not isinstance(name, str) or name in names or text.take() != ":":
                raise NotStreamable
            names.add(name)
            if name in arrays and text.peek() == "[":
                text.take()
                if text.peek() == "]":
                    text.take()
                else:
                    while True:
                        yield name, text.value(_AFTER_ITEM), True
                        separator = text.take()
                        if separator == "]":
                            break
                        if separator != ",":
                            raise NotStreamable
            else:
                yield name, text.value(_AFTER_MEMBER), False
            separator = text.take()
            if separator == "}":
                break
            if separator != ",":
                raise NotStreamable
    if text.peek():
        raise NotStreamable


def checked_array_items(importer: JsonImporter, source: ImportSource) -> Iterator[tuple[int, dict[str, Any]]]:
    """The first pass over a platform export (a JSON array of vendor objects): its items, numbered from 1, each
    checked as :meth:`JsonImporter.parse` checks the file as a whole: an object, every string scanned for unsafe
    text and key material (``importer.public_members`` skipped as ``scan_document`` skips them), none refused
    by ``importer.refuse``, and the first ten recognised by ``importer.sniff``. Raises :class:`NotStreamable`
    where ``parse`` would refuse the file or say something about it (no items either): the caller reads the
    file whole, so the messages stay ``parse``'s. The caller checks what its format needs of each item."""
    judged: dict[str, Any] = {}
    head: list[dict[str, Any]] = []
    number = 0
    for number, entry in enumerate(json_array_items(source.open()), start=1):
        if not isinstance(entry, dict):
            raise NotStreamable
        if first_finding(entry, importer.public_members, judged) is not None:
            raise NotStreamable
        if len(judged) > 50_000:  # repeated values are judged once, but the cache stays small
            judged.clear()
        try:
            importer.refuse([entry])
        except ImportFileError:
            raise NotStreamable from None
        if len(head) < 10:
            head.append(entry)
            if len(head) == 10 and not importer.sniff(b"", head):
                raise NotStreamable
        yield number, entry
    if not number or (len(head) < 10 and not importer.sniff(b"", head)):
        raise NotStreamable


def rows_in_chunks(
    rows: Iterator[tuple[KeyRow, list[RowError], list[RowError]]], *, size: int, scope: StoreScope | None
) -> Iterator[ParseResult]:
    """Rows read one at a time (each with its errors and warnings) handed on in chunks of ``size`` rows, every
    string of which was checked for key material already (the first pass did)."""
    chunk = ParseResult(scope=scope, material_checked=True)
    for row, errors, warnings in rows:
        chunk.rows.append(row)
        chunk.errors.extend(errors)
        chunk.warnings.extend(warnings)
        if len(chunk.rows) >= size:
            yield chunk
            chunk = ParseResult(scope=scope, material_checked=True)
    if chunk.rows or chunk.errors:
        yield chunk
