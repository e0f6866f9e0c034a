"""The application's own CSV format for keys: one row per key, the columns of :data:`COLUMNS`.

The same module writes the cells (``format_*``) that ``inventory.exporters.csv`` exports, so an export
imports back as "all unchanged".
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cek.keymaterial import find_key_material, message_for
from cek.spreadsheet import spreadsheet_safe, spreadsheet_unescape
from cek.textsafety import UnsafeTextError, find_unsafe_text, loads_json
from cek.textsafety import message_for as unsafe_message
from inventory import keyfields
from inventory.importers.base import (
    KEY_MATERIAL,
    MULTILINE_FIELDS,
    REQUIRED_FIELDS,
    UNSAFE_TEXT,
    BindingRow,
    Importer,
    ImportFileError,
    ImportSource,
    KeyRow,
    ParseResult,
    ParseStream,
    RefusedFileError,
    RowError,
    describe_value,
    row_attribute,
)
from inventory.keyfields import Kind


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    example: str = ""
    required: bool = False


# The columns, as inventory.keyfields declares them: the CSV is the KeyRow, column for field.
COLUMNS: tuple[Column, ...] = tuple(
    Column(field.name, field.csv.help, field.csv.example, field.required) for field in keyfields.csv_fields()
)
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
_KINDS: dict[str, Kind] = {column: keyfields.BY_NAME[column].kind for column in COLUMN_NAMES}
# Tab and line breaks are allowed in text areas and in labels (platform text), in no other column.
_MULTILINE = MULTILINE_FIELDS | {column for column, kind in _KINDS.items() if kind is Kind.MAPPING}

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
_PEM_GOING_ON = re.compile(r"-----BEGIN [A-Z0-9 ]*\Z")  # a PEM header the next block may complete
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"\d{1,10}")
_SLUG = r"[-a-zA-Z0-9_]+"
_SERVICE = re.compile(rf"(?P<service>{_SLUG})(?:@(?P<tenant>{_SLUG}))?(?::(?P<purpose>{_SLUG}))?")
_SERVICES_SYNTAX = "expected service-slug[@tenant-slug] entries separated by ';'"
_LABELS_SYNTAX = "expected name=value pairs separated by ';', or a JSON object"


# --- Cells: writing (exports) and reading (imports) are each other's inverse ------------------------------


# Spreadsheets run cells that start with =, +, -, @, tab or CR as formulas: exports escape them with the one
# rule of cek.spreadsheet, imports undo it.
escape_cell = spreadsheet_safe
unescape_cell = spreadsheet_unescape


def format_text(value: str) -> str:
    return value


def format_date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def format_integer(value: int | None) -> str:
    return "" if value is None else str(value)


def format_flag(value: bool) -> str:
    return "true" if value else "false"


def format_labels(labels: dict[str, Any]) -> str:
    simple = all(
        isinstance(value, str)
        and not set(";=").intersection(name)
        and ";" not in value
        and name.strip() == name
        and value.strip() == value
        and name
        for name, value in labels.items()
    )
    if simple:
        return ";".join(f"{name}={value}" for name, value in labels.items())
    return json.dumps(labels, ensure_ascii=False, sort_keys=True)


def format_names(names: list[str]) -> str:
    return ";".join(sorted(names))


def format_binding(service: str, tenant: str = "", purpose: str = "") -> str:
    return service + (f"@{tenant}" if tenant else "") + (f":{purpose}" if purpose else "")


def format_bindings(bindings: list[BindingRow]) -> str:
    return ";".join(sorted({format_binding(b.service, b.tenant, b.purpose) for b in bindings}))


def parse_text(text: str) -> str:
    return text


def parse_date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("expected a date as YYYY-MM-DD") from None


def parse_integer(text: str) -> int | None:
    if not text:
        return None
    if not _INTEGER.fullmatch(text):
        raise ValueError("expected a whole number of 0 or more (e.g. 256)")
    return int(text)


def parse_flag(text: str) -> bool:
    if text not in ("", "true", "false"):
        raise ValueError("expected true or false")
    return text == "true"


def parse_labels(text: str) -> dict[str, Any]:
    if text.startswith("{"):
        try:
            # Bounded: deep nesting or unsafe text inside the JSON is a clear row error, not a RecursionError.
            value = loads_json(text)
        except json.JSONDecodeError:
            raise ValueError(f"is not valid JSON; {_LABELS_SYNTAX}") from None
        if not isinstance(value, dict) or not all(isinstance(v, (str, int, float, bool)) for v in value.values()):
            raise ValueError("must be a JSON object of names to plain values")
        return value
    labels: dict[str, Any] = {}
    for pair in text.split(";"):
        if not pair.strip():
            continue
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise ValueError(f"has an entry without 'name='; {_LABELS_SYNTAX}")
        if name in labels:
            raise ValueError(f"names the label '{name[:60]}' twice")
        labels[name] = value
    return labels


def parse_names(text: str) -> list[str]:
    return sorted({name.strip() for name in text.split(";") if name.strip()})


def parse_services(text: str) -> list[BindingRow]:
    bindings: list[BindingRow] = []
    seen: set[tuple[str, str, str]] = set()
    for token in text.split(";"):
        token = token.strip()
        if not token:
            continue
        match = _SERVICE.fullmatch(token)
        if match is None:
            raise ValueError(_SERVICES_SYNTAX)
        triple = (match["service"], match["tenant"] or "", match["purpose"] or "")
        if triple not in seen:
            seen.add(triple)
            bindings.append(BindingRow(service=triple[0], tenant=triple[1], purpose=triple[2]))
    return bindings


# A cell of each kind of field (inventory.keyfields.Kind) written from, and read into, its KeyRow value.
FORMATTERS: dict[Kind, Callable[[Any], str]] = {
    Kind.TEXT: format_text,
    Kind.CHOICE: format_text,
    Kind.REFERENCE: format_text,
    Kind.INTEGER: format_integer,
    Kind.DATE: format_date,
    Kind.FLAG: format_flag,
    Kind.MAPPING: format_labels,
    Kind.PARTIES: format_names,
    Kind.BINDINGS: format_bindings,
}
PARSERS: dict[Kind, Callable[[str], Any]] = {
    Kind.TEXT: parse_text,
    Kind.CHOICE: parse_text,
    Kind.REFERENCE: parse_text,
    Kind.INTEGER: parse_integer,
    Kind.DATE: parse_date,
    Kind.FLAG: parse_flag,
    Kind.MAPPING: parse_labels,
    Kind.PARTIES: parse_names,
    Kind.BINDINGS: parse_services,
}


# --- The importer ---------------------------------------------------------------------------------------


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _decode(data: bytes) -> str:
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError("The file is empty. Download the template for the expected columns.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (line {line} has the byte 0x{data[exc.start]:02x}). "
            'Save it as "CSV UTF-8" and upload it again.'
        ) from None


def _check_text(source: ImportSource) -> str | None:
    """The first line of a file whose text ``parse`` would read (UTF-8, not empty, no PEM block, not JSON), read a
    block at a time; None when ``parse`` would refuse it or should say more (it reads the file whole)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    tail = ""  # the end of the text read so far that a PEM header may go on from
    start = ""  # the text from the first non-blank character, up to its first line break
    for block in [*source.blocks(), b""]:
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError:
            return None
        window = tail + text
        if _PEM.search(window):
            return None
        going_on = _PEM_GOING_ON.search(window[-4096:])
        tail = window[-16:] if going_on is None else window[len(window) - 4096 :][going_on.start() :]
        if "\n" not in start:
            start = (start + text).lstrip()
            if len(start) > 1 << 20:  # no line break in the first megabyte: parse says what is wrong
                return None
    if not start or start[:1] in ("{", "["):
        return None
    return start.split("\n", 1)[0]


def _sniff_delimiter(header_line: str) -> str:
    # Spreadsheets in many locales save CSV with ';' (or tabs); the header line tells which.
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


class CsvImporter(Importer):
    format = "csv"
    label = "CSV"
    order = 10
    extensions = (".csv", ".txt")
    media_type = "text/csv"

    def parse(self, data: bytes, *, file_name: str) -> ParseResult:
        text = _decode(data)
        pem = _PEM.search(text)
        if pem:
            line = text.count("\n", 0, pem.start()) + 1
            raise RefusedFileError(
                f"The file contains a PEM block (line {line}). Keys and certificates are never stored here, so the "
                "whole file was rejected and not kept. Export metadata only (names, ids, purposes) and upload again.",
                kind=KEY_MATERIAL,
                reason="a PEM block",
                column=f"line {line}",
            )
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            raise ImportFileError(
                "This looks like a JSON file, not CSV; choose the format that matches the file, or save the data "
                "as CSV with the template's columns."
            )
        header_line = stripped.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(header_line))
        try:
            columns, first_row = self._read_header(reader)
            return self._read_rows(reader, columns, first_row=first_row)
        except csv.Error as exc:
            raise ImportFileError(f"The CSV could not be read near line {reader.line_num}: {exc}.") from None

    def _check_header(self, header: list[str]) -> list[str]:
        # The messages below name unknown columns: a header cell holding key material or unsafe text refuses the
        # file first (its bytes are not kept, and no message may quote it).
        for index, name in enumerate(header, start=1):
            unsafe = find_unsafe_text(name)
            reason = unsafe or find_key_material(name)
            if reason:
                what = "holds" if unsafe else "looks like it holds"
                raise RefusedFileError(
                    f"Header cell {index} {what} {reason}, so the whole file was rejected and not kept. "
                    "The first row must name the columns; download the template for them.",
                    kind=UNSAFE_TEXT if unsafe else KEY_MATERIAL,
                    reason=reason,
                    row=1,
                    column=f"header cell {index}",
                )
        columns = [_normalise_header(name) for name in header]
        while columns and not columns[-1]:
            columns.pop()  # trailing empty header cells (spreadsheets add them)
        expected = ", ".join(COLUMN_NAMES)
        if not columns:
            raise ImportFileError(f"The first row must name the columns. Expected: {expected}.")
        unknown = [name or "(empty)" for name in columns if name not in COLUMN_NAMES]
        if unknown:
            raise ImportFileError(
                f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(n[:40] for n in unknown[:10])}. "
                f"Expected columns: {expected}."
            )
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        if repeated:
            raise ImportFileError(f"Repeated column{'s' if len(repeated) > 1 else ''}: {', '.join(repeated)}.")
        missing = [name for name in REQUIRED_FIELDS if name not in columns]
        if missing:
            raise ImportFileError(
                f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                f"Required: {', '.join(REQUIRED_FIELDS)}; all columns: {expected}."
            )
        return columns

    def _read_rows(self, reader, columns: list[str], *, first_row: int) -> ParseResult:
        result = ParseResult()
        for row, errors in self._iter_rows(reader, columns, first_row=first_row):
            result.errors.extend(errors)
            if row is not None:
                result.rows.append(row)
        return result

    def _iter_rows(
        self, reader, columns: list[str], *, first_row: int
    ) -> Iterator[tuple[KeyRow | None, list[RowError]]]:
        present = frozenset(columns)
        width = len(columns)
        # Row numbers as a spreadsheet shows them: the header is row 1 (after any blank rows above it).
        for number, cells in enumerate(reader, start=first_row):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                yield (
                    None,
                    [
                        RowError(
                            number,
                            "",
                            f"has {len(cells)} cells but the header names {width} columns; "
                            "quote cells that contain the delimiter.",
                        )
                    ],
                )
                continue
            values = {
                column: unescape_cell(cells[index].strip()) if index < len(cells) else ""
                for index, column in enumerate(columns)
            }
            yield self._row(number, values, present)

    def stream(self, source: ImportSource, *, file_name: str, chunk_rows: int) -> ParseStream:
        """A CSV file is read a line at a time, twice, and never held whole: a first pass checks what ``parse``
        checks of the file as a whole (UTF-8, no PEM block, not JSON) and finds the header line; the second reads
        the rows, a chunk at a time. A file the first pass finds anything wrong with is read whole by ``parse``,
        which says what."""
        header_line = _check_text(source)
        if header_line is None:
            return super().stream(source, file_name=file_name, chunk_rows=chunk_rows)
        return ParseStream(chunks=self._read_chunks(source, header_line, chunk_rows))

    def _read_header(self, reader) -> tuple[list, int]:
        """The checked columns of the first non-blank record, and the record number of the first data row."""
        header: list[str] = []
        records = 0
        for header in reader:
            records += 1
            if any(cell.strip() for cell in header):
                break
        return self._check_header(header), records + 1

    def _read_chunks(self, source: ImportSource, header_line: str, chunk_rows: int) -> Iterator[ParseResult]:
        text = io.TextIOWrapper(source.open(), encoding="utf-8-sig", newline="")
        try:
            reader = csv.reader(text, delimiter=_sniff_delimiter(header_line))
            try:
                columns, first_row = self._read_header(reader)
                chunk = ParseResult()
                for row, errors in self._iter_rows(reader, columns, first_row=first_row):
                    chunk.errors.extend(errors)
                    if row is not None:
                        chunk.rows.append(row)
                    if len(chunk.rows) >= chunk_rows:
                        yield chunk
                        chunk = ParseResult()
                if chunk.rows or chunk.errors:
                    yield chunk
            except csv.Error as exc:
                raise ImportFileError(f"The CSV could not be read near line {reader.line_num}: {exc}.") from None
        finally:
            # The source stays open: its owner closes it (and may have already, when planning stopped early).
            with contextlib.suppress(ValueError, OSError):
                text.detach()

    def _row(self, number: int, values: dict[str, str], present: frozenset[str]) -> tuple[KeyRow, list[RowError]]:
        row = KeyRow(row=number, fields=present)
        errors: list[RowError] = []
        for column, text in values.items():
            # Unsafe text is refused before the cell is read: it must reach no lookup (PostgreSQL refuses a
            # NUL in a query too), no message and no other check. It refuses the whole upload.
            unsafe = find_unsafe_text(text, multiline=column in _MULTILINE)
            if unsafe:
                message = unsafe_message(f"column '{column}'", unsafe)
                errors.append(RowError(number, column, message, kind=UNSAFE_TEXT, reason=unsafe))
                continue
            try:
                setattr(row, row_attribute(column), PARSERS[_KINDS[column]](text))
            except UnsafeTextError as exc:  # from the JSON of a labels cell; the cell is not shown
                message = unsafe_message(f"column '{column}'", exc.reason)
                errors.append(RowError(number, column, message, kind=UNSAFE_TEXT, reason=exc.reason))
            except ValueError as exc:
                # A cell that cannot be read is never scanned later (the planner scans what was read): scan it
                # here, so key material in it refuses the upload like anywhere else.
                reason = find_key_material(text)
                if reason:
                    message = message_for(f"column '{column}'", reason)
                    errors.append(RowError(number, column, message, kind=KEY_MATERIAL, reason=reason))
                else:
                    errors.append(RowError(number, column, f"{describe_value(column, text)}; {exc}"))
        if errors:
            # The row is still planned, so the preview lists all of its problems at once, without the unreadable cells.
            row.fields = present - {error.column for error in errors}
        return row, errors
