"""The one escaping rule of every spreadsheet-bound export (CSV and XLSX), so no exported value can run as a
formula in the reader's spreadsheet (formula or DDE injection, e.g. ``=HYPERLINK(...)`` in an owner's comment).

CSV
    A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel,
    LibreOffice and Google Sheets: it is written with a leading ``'`` (shown as text, the ``'`` hidden). A cell
    that already starts with ``'`` gets one more, so :func:`spreadsheet_unescape` (the CSV importer reads
    exports back) is the exact inverse and a value's own leading ``'`` survives the round trip. This is OWASP's
    "CSV injection" rule; every other character is left alone.

XLSX
    A cell typed as text is never evaluated, whatever it starts with: only openpyxl's own guess turns a value
    starting with ``=`` into a formula. :func:`xlsx_text` keeps such text typed as text (the value itself is
    unchanged, so the workbook shows exactly what was recorded).
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_START = (*FORMULA_START, "'")


def spreadsheet_safe(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text, never runs."""
    return "'" + value if value.startswith(_ESCAPED_START) else value


def spreadsheet_unescape(text: str) -> str:
    """The inverse of :func:`spreadsheet_safe` (for imports of exported CSV)."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in "".join(_ESCAPED_START) else text


def xlsx_text(sheet, value: Any) -> Any:
    """``value`` for an openpyxl sheet (append or assignment): text openpyxl would store as a formula becomes a
    cell typed as text; everything else is returned as it is. In a write-only sheet the result is appended; in a
    normal sheet use :func:`xlsx_set`."""
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def xlsx_set(cell, value: Any) -> None:
    """Write ``value`` into the cell of a normal (not write-only) sheet, text always typed as text."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
