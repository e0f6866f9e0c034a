"""A one-sheet XLSX workbook written row by row straight into its ZIP file: constant memory, and about five times
faster than openpyxl's write-only mode (which, without lxml, builds an ElementTree element per cell and keeps
every distinct text in a shared-strings table until the end; see benchmarks/README.md, "packs.py").

Only what a data file needs: text and numbers, a header row, nothing else (no styles, no formulas). Text is
written as an inline string (``t="inlineStr"``), so a spreadsheet never runs it as a formula, whatever it starts
with (see :mod:`cek.spreadsheet`). Characters XML 1.0 cannot hold (control characters) and text that already looks
like the format's own escape (``_x0041_``) are written with that escape, as Excel does, so a reader gets the text
back as it was recorded. Numbers (int and float, not bool) are numeric cells; anything else is written as
``str(value)``.

A sheet holds at most 1,048,576 rows (:data:`MAX_ROWS`, the header included): :meth:`StreamingSheet.append`
raises ``OverflowError`` beyond that, and the caller decides what to do (the evidence pack stops the workbook
there and says so; its CSV holds every row).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

MAX_ROWS = 1_048_576  # Excel's (and the format's) limit per sheet, header row included
_BUFFER_ROWS = 512  # rows joined into one write to the compressor
# XML 1.0 allows tab, LF, CR and everything from U+0020 except the surrogates and U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4})_")

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" '
    'Target="docProps/app.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>{creator}</dc:creator></cp:coreProperties>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>{creator}</Application></Properties>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _escape_char(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


# The cells of short texts already written: a data file repeats most of its texts on every row (stores, states,
# owners, purposes). Bounded: cleared when full.
_TEXT_CELLS: dict[str, str] = {}
_TEXT_CELLS_MAX = 16_384


def text_cell(text: str) -> str:
    """One inline-string cell holding ``text`` exactly (see the module's docstring)."""
    known = _TEXT_CELLS.get(text)
    if known is not None:
        return known
    written = _text_cell(text)
    if len(text) <= 128 and type(text) is str:
        if len(_TEXT_CELLS) >= _TEXT_CELLS_MAX:
            _TEXT_CELLS.clear()
        _TEXT_CELLS[text] = written
    return written


def _text_cell(text: str) -> str:
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F_\1_", text)
    text = escape(text)
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub(_escape_char, text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def cell_xml(value: Any) -> str:
    kind = type(value)
    if kind is str:  # most cells: no other test needed
        return text_cell(value) if value else "<c/>"
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<c><v>{value!r}</v></c>" if isinstance(value, float) else f"<c><v>{value}</v></c>"
    return text_cell(value if isinstance(value, str) else str(value))


class StreamingSheet:
    """``with StreamingSheet(path, "keys") as sheet: sheet.append(row)``: the workbook is complete when the block
    ends without an error; on an error the partial file is removed."""

    def __init__(self, path: Path, name: str, *, creator: str = "cek", compresslevel: int = 1) -> None:
        self.path = Path(path)
        self.rows = 0
        self._buffer: list[str] = []
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        name = escape(name[:31], {'"': "&quot;"})
        creator = escape(creator)
        for member, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("docProps/core.xml", _CORE.format(creator=creator)),
            ("docProps/app.xml", _APP.format(creator=creator)),
            ("xl/workbook.xml", _WORKBOOK.format(name=name)),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ):
            self._zip.writestr(member, text)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(_SHEET_HEAD.encode())

    def append(self, values: Iterable[Any]) -> None:
        if self.rows >= MAX_ROWS:
            raise OverflowError(f"A worksheet holds at most {MAX_ROWS:,} rows.")
        self.rows += 1
        self._buffer.append("<row>" + "".join([cell_xml(value) for value in values]) + "</row>")
        if len(self._buffer) >= _BUFFER_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._sheet.write("".join(self._buffer).encode("utf-8"))
            self._buffer = []

    def close(self) -> None:
        self._flush()
        self._sheet.write(_SHEET_TAIL.encode())
        self._sheet.close()
        self._zip.close()

    def abort(self) -> None:
        try:
            self._sheet.close()
            self._zip.close()
        finally:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StreamingSheet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
