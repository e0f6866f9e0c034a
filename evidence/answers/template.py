"""“Fill my template”: write the CEK-11.1 answer into the user's own copy of the official AI-CAIQ workbook.

CSA's licence forbids bundling its workbook, and STAR Level 1 accepts it only in CSA's original layout, so
the user uploads the blank workbook and gets the same file back with columns C-F of the CEK-11.1 row filled.
Everything else is kept byte for byte: the package is edited as a ZIP, not re-saved through a spreadsheet
library (which would rewrite styles, drop unknown parts and renumber shared strings).

- The sheet ``AI-CAIQv1.1.0`` is found through ``xl/workbook.xml`` and its relationships;
- the row is the one whose column A reads ``CEK-11.1`` (shared strings, inline strings or plain values);
- C, D, E and F of that row are written as inline strings (``t="inlineStr"``) on the row's existing cells,
  keeping each cell's style (``s``); a missing cell is inserted in column order;
- only that sheet's XML changes, and only inside that row; every other member of the ZIP is copied unchanged
  (same bytes, same order, same member metadata).
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import shutil
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from xml.etree import ElementTree
from xml.parsers import expat
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from cek.zipguard import ZipLimits, ZipRefused, zip_check

SHEET = "AI-CAIQv1.1.0"
TARGET_COLUMNS = ("C", "D", "E", "F")
# Refusing hostile workbooks before parsing a byte of them: a blank AI-CAIQ workbook is well under 5 MB unpacked,
# its parts compress under 20:1 (a deflate bomb ~1000:1), its sheet and shared strings are well under 2 MB each.
# The parts read as XML are capped in size and in tags before they are parsed, and the sheet and shared strings
# are parsed as streams (expat callbacks, no tree), so a part of millions of empty cells costs neither memory
# nor much time; the other parts are copied as streams.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
LIMITS = ZipLimits(max_members=1000, max_total_bytes=MAX_UNCOMPRESSED, max_member_bytes=MAX_UNCOMPRESSED, max_ratio=100)
MAX_PARSED_PART_BYTES = 8 * 1024 * 1024  # the sheet and the shared strings
MAX_SMALL_PART_BYTES = 2 * 1024 * 1024  # the workbook part and relationships (parsed as a tree)
# Tags ("<") in a parsed part, counted before parsing: the AI-CAIQ sheet and its shared strings hold a few tens of
# thousands; this cap keeps parsing a hostile part well under a second.
MAX_TAGS = 150_000
MAX_CELL_CHARS = 32767  # Excel's limit per cell

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ROW = re.compile(
    r"<(?P<p>[A-Za-z_][\w.-]*:)?row\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?:[A-Za-z_][\w.-]*:)?row>)", re.S
)
_CELL = re.compile(
    r"<(?P<p>[A-Za-z_][\w.-]*:)?c\b(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?:[A-Za-z_][\w.-]*:)?c>)", re.S
)
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_TEXT = re.compile(r"<(?:[\w.-]+:)?t\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?t>)", re.S)
_VALUE = re.compile(r"<(?:[\w.-]+:)?v\b[^>]*>(.*?)</(?:[\w.-]+:)?v>", re.S)
_PHONETIC = re.compile(r"<(?:[\w.-]+:)?rPh\b.*?</(?:[\w.-]+:)?rPh>", re.S)
# What reading a member of a damaged or unsupported ZIP raises: a bad CRC or a member longer than its header
# says (zipfile stops at the declared size, so a lying header cannot inflate past MAX_UNCOMPRESSED), an
# encrypted member, an unknown compression method, a truncated or corrupt deflate stream.
_UNREADABLE = (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError, OSError)
_SHEET_DATA = re.compile(r"<(?:[\w.-]+:)?sheetData\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?sheetData>)", re.S)


class TemplateError(ValueError):
    """The upload cannot be filled: not an xlsx, no AI-CAIQ sheet, or no CEK-11.1 row."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unescape(text: str) -> str:
    return html.unescape(text or "")


def _attrs(text: str) -> dict[str, str]:
    return {name: value[1:-1] for name, value in _ATTR.findall(text)}


def column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (ord(char.upper()) - 64)
    return index


def column_letters(index: int) -> str:
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _split_ref(ref: str) -> tuple[str, int] | None:
    match = re.fullmatch(r"([A-Za-z]{1,3})(\d+)", ref or "")
    return (match.group(1).upper(), int(match.group(2))) if match else None


def _unreadable(name: str) -> TemplateError:
    return TemplateError(
        f"The workbook's part {name} cannot be read (damaged, encrypted or unsupported compression): "
        "save the workbook again in Excel, without a password."
    )


def _read(archive: zipfile.ZipFile, name: str, limit: int = MAX_PARSED_PART_BYTES) -> bytes:
    """A member's bytes (at most ``limit``, checked before inflating); a member that cannot be read is the
    upload's fault, said as a ``TemplateError``."""
    size = archive.getinfo(name).file_size
    if size > limit:
        raise TemplateError(
            f"The workbook's part {name} unpacks to {size:,} bytes; the AI-CAIQ workbook's are far smaller "
            f"(at most {limit:,} bytes are read)."
        )
    try:
        return archive.read(name)
    except _UNREADABLE as exc:
        raise _unreadable(name) from exc


def _count_tags(data: bytes, what: str) -> None:
    tags = data.count(b"<")
    if tags > MAX_TAGS:
        raise TemplateError(
            f"The workbook's {what} holds {tags:,} XML tags; the AI-CAIQ workbook's hold far fewer (at most "
            f"{MAX_TAGS:,} are read). Upload the blank official workbook."
        )


def _refuse_dtd(*_args) -> None:
    raise TemplateError("The workbook holds a DOCTYPE or entity declarations; save the workbook again in Excel.")


def _stream(data: bytes, what: str, start, end, text=None) -> None:
    """Parse ``data`` with expat callbacks (no tree is built); a DOCTYPE is refused before any entity in it is
    declared (no entity expansion, as defusedxml does), and a part over ``MAX_TAGS`` tags before parsing."""
    _count_tags(data, what)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise TemplateError(f"The workbook's {what} is not valid XML: {exc}.") from exc


def _parse_xml(archive: zipfile.ZipFile, name: str, what: str) -> ElementTree.Element:
    """A small part (workbook, relationships) as a tree, refused past ``MAX_SMALL_PART_BYTES`` or ``MAX_TAGS``."""
    try:
        data = _read(archive, name, MAX_SMALL_PART_BYTES)
        _count_tags(data, what)
        return safe_fromstring(data)
    except KeyError as exc:
        raise TemplateError(f"The workbook has no {what} ({name}); is it an Excel .xlsx file?") from exc
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise TemplateError(f"The workbook's {what} ({name}) is not valid XML: {exc}.") from exc


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, resolved target path) of ``part``'s relationships."""
    directory, base = posixpath.split(part)
    rels_name = posixpath.join(directory, "_rels", f"{base}.rels")
    if rels_name not in archive.namelist():
        return []
    root = _parse_xml(archive, rels_name, "relationships")
    found = []
    for rel in root:
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(directory, target))
        found.append((rel.get("Id", ""), rel.get("Type", ""), path))
    return found


def _workbook_part(archive: zipfile.ZipFile) -> str:
    for _id, rel_type, target in _relationships(archive, ""):
        if rel_type.endswith("/officeDocument"):
            return target
    if "xl/workbook.xml" in archive.namelist():
        return "xl/workbook.xml"
    raise TemplateError("This ZIP file is not an Excel workbook: it has no workbook part (xl/workbook.xml).")


def _matching_strings(data: bytes, what: str, wanted: str) -> dict[int, str]:
    """{index: text} of the ``<si>`` items of a shared-strings part whose text, stripped, is ``wanted``."""
    found: dict[int, str] = {}
    path: list[str] = []
    parts: list[str] = []
    state = {"index": 0, "collect": False}

    def begin(name: str, _attrs) -> None:
        local = name.rpartition("}")[2]
        path.append(local)
        if len(path) == 2 and local == "si":
            parts.clear()
        # The text of <si><t> and of rich-text runs <si><r><t>; not phonetic hints (<si><rPh><t>).
        state["collect"] = local == "t" and (len(path) == 3 or (len(path) == 4 and path[2] == "r"))

    def finish(name: str) -> None:
        path.pop()
        state["collect"] = False
        if len(path) == 1 and name.rpartition("}")[2] == "si":
            text = "".join(parts)
            if text.strip() == wanted:
                found[state["index"]] = text
            state["index"] += 1

    def characters(data: str) -> None:
        if state["collect"]:
            parts.append(data)

    _stream(data, what, begin, finish, characters)
    return found


def _shared_strings(archive: zipfile.ZipFile, workbook: str, rels, wanted: str) -> dict[int, str]:
    """The shared strings whose text, stripped, is ``wanted`` (by index): the only ones a cell of column A is
    compared with. Parsed as a stream, so memory does not grow with the part."""
    for _id, rel_type, target in rels:
        if not rel_type.endswith("/sharedStrings"):
            continue
        try:
            data = _read(archive, target)
        except KeyError as exc:
            raise TemplateError(f"The workbook has no shared strings ({target}); is it an Excel .xlsx file?") from exc
        return _matching_strings(data, f"shared strings ({target})", wanted)
    return {}


def _cell_text(attrs: dict[str, str], body: str | None, shared: Sequence[str] | Mapping[int, str]) -> str:
    body = body or ""
    kind = attrs.get("t", "")
    if kind == "inlineStr":
        return "".join(_unescape(text or "") for text in _TEXT.findall(_PHONETIC.sub("", body)))
    match = _VALUE.search(body)
    if match is None:
        return ""
    value = _unescape(match.group(1))
    if kind == "s":
        try:
            return shared[int(value)]
        except (ValueError, IndexError, KeyError):
            return ""
    return value


def _new_cell(prefix: str, ref: str, style: str | None, text: str) -> str:
    style_attr = f' s="{style}"' if style is not None else ""
    if not text:
        return f'<{prefix}c r="{ref}"{style_attr}/>'
    return (
        f'<{prefix}c r="{ref}"{style_attr} t="inlineStr"><{prefix}is><{prefix}t xml:space="preserve">'
        f"{escape(text)}</{prefix}t></{prefix}is></{prefix}c>"
    )


def _clean(text: str, column: str) -> str:
    text = _ILLEGAL_XML.sub("", (text or "").replace("\r\n", "\n"))
    if len(text) > MAX_CELL_CHARS:
        raise TemplateError(
            f"Column {column} holds {len(text)} characters; an Excel cell holds at most {MAX_CELL_CHARS}."
        )
    return text


def _fill_row(row: re.Match, number: int, values: dict[str, str]) -> str:
    prefix = row.group("p") or ""
    body = row.group("body") or ""
    pieces: list[str] = []
    position = 0
    column = 0
    pending = {column_index(letter): letter for letter in TARGET_COLUMNS}

    def flush(before: int) -> None:
        for index in sorted(list(pending)):
            if index < before:
                letter = pending.pop(index)
                pieces.append(_new_cell(prefix, f"{letter}{number}", None, values[letter]))

    for cell in _CELL.finditer(body):
        attrs = _attrs(cell.group("attrs"))
        split = _split_ref(attrs.get("r", ""))
        column = column_index(split[0]) if split else column + 1
        pieces.append(body[position : cell.start()])
        position = cell.end()
        flush(column)
        if column in pending:
            letter = pending.pop(column)
            if re.search(r"<(?:[\w.-]+:)?f\b", cell.group("body") or ""):
                raise TemplateError(
                    f"Cell {letter}{number} holds a formula; the blank AI-CAIQ template has none there."
                )
            pieces.append(_new_cell(prefix, f"{letter}{number}", attrs.get("s"), values[letter]))
        else:
            pieces.append(cell.group(0))
    tail = body[position:]
    flush(10**6)
    pieces.append(tail)
    attrs_text = row.group("attrs")
    spans = re.search(r'\bspans\s*=\s*"(\d+):(\d+)"', attrs_text)
    if spans:
        low = min(int(spans.group(1)), column_index(TARGET_COLUMNS[0]))
        high = max(int(spans.group(2)), column_index(TARGET_COLUMNS[-1]))
        attrs_text = attrs_text[: spans.start()] + f'spans="{low}:{high}"' + attrs_text[spans.end() :]
    return f"<{prefix}row{attrs_text}>{''.join(pieces)}</{prefix}row>"


# The elements the patterns below look for; a lazy ``.*?</row>`` finds an element's own end tag in one forward
# scan only when no element of the same name is nested in it and no markup hides inside comments, CDATA,
# processing instructions or a DOCTYPE. Otherwise a small hostile sheet makes the scan quadratic or worse.
_SCANNED = ("sheetData", "row", "c", "is", "t", "v", "f", "rPh")
_SCANNED_PREFIX = re.compile(r"(?:sheetData|row|c|is|t|v|f|rPh)\b")
_DECLARATION = re.compile(r"\A\ufeff?\s*<\?xml\b[^>]*\?>")


def _check_markup(xml: str) -> None:
    """Refuse sheet XML that the row and cell patterns could not scan in linear time: not well-formed, with
    comments, CDATA, processing instructions or a DOCTYPE (Excel writes none of them in a sheet), or with a
    scanned element nested in one of the same name, or named like one (``<c-x>``, ``<row.y>``)."""
    declaration = _DECLARATION.match(xml)
    rest = xml[declaration.end() :] if declaration else xml
    if "<!" in rest or "<?" in rest:
        raise TemplateError(f"Sheet “{SHEET}” holds comments, CDATA or a DOCTYPE; save the workbook again in Excel.")
    open_elements = dict.fromkeys(_SCANNED, 0)

    def tag(name: str, opening: bool) -> None:
        local = name.rpartition("}")[2]
        if _SCANNED_PREFIX.match(local):
            if local not in open_elements or (opening and open_elements[local]):
                raise TemplateError(f"Sheet “{SHEET}” is not laid out as an Excel sheet (<{local}> misplaced).")
            open_elements[local] += 1 if opening else -1

    _stream(
        xml.encode("utf-8"),
        f"sheet “{SHEET}”",
        lambda name, _attrs: tag(name, True),
        lambda name: tag(name, False),
    )


def fill_sheet_xml(
    xml: str, *, shared: Sequence[str] | Mapping[int, str], question_id: str, values: dict[str, str]
) -> str:
    """``xml`` with C-F of the row whose column A is ``question_id`` replaced (nothing else changes)."""
    _check_markup(xml)
    data = _SHEET_DATA.search(xml)
    if data is None or data.group(1) is None:
        raise TemplateError(f"Sheet “{SHEET}” has no rows, so it has no {question_id} row.")
    start = data.start(1)
    number = 0
    for row in _ROW.finditer(data.group(1)):
        attrs = _attrs(row.group("attrs"))
        row_ref = attrs.get("r", "")
        number = int(row_ref) if row_ref.isascii() and row_ref.isdigit() else number + 1
        first = _CELL.search(row.group("body") or "")
        if first is None:
            continue
        cell_attrs = _attrs(first.group("attrs"))
        split = _split_ref(cell_attrs.get("r", ""))
        if split and split[0] != "A":
            continue
        if _cell_text(cell_attrs, first.group("body"), shared).strip() == question_id:
            new_row = _fill_row(row, number, values)
            return xml[: start + row.start()] + new_row + xml[start + row.end() :]
    raise TemplateError(
        f"Sheet “{SHEET}” has no row whose column A is {question_id}: upload the blank official AI-CAIQ workbook."
    )


def fill_template(data: bytes, *, question_id: str, values: dict[str, str]) -> bytes:
    """The uploaded workbook ``data`` with ``values`` ({"C": ..., "D": ..., "E": ..., "F": ...}) written into
    the ``question_id`` row of sheet ``AI-CAIQv1.1.0``. Raises ``TemplateError`` saying what is wrong."""
    values = {letter: _clean(values.get(letter, ""), letter) for letter in TARGET_COLUMNS}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.LargeZipFile, ValueError, *_UNREADABLE) as exc:
        raise TemplateError("This file is not an Excel workbook (.xlsx): it is not a ZIP package.") from exc
    with archive:
        infos = archive.infolist()
        try:
            zip_check(infos, LIMITS, what="This workbook")
        except ZipRefused as exc:
            raise TemplateError(f"{exc} Upload the blank official AI-CAIQ workbook.") from exc
        workbook = _workbook_part(archive)
        root = _parse_xml(archive, workbook, "workbook part")
        rels = _relationships(archive, workbook)
        sheet_rel = None
        names = []
        for element in root.iter():
            if _local(element.tag) == "sheet":
                names.append(element.get("name", ""))
                if element.get("name") == SHEET:
                    sheet_rel = element.get(f"{{{REL_NS}}}id") or element.get("id")
        if sheet_rel is None:
            listed = ", ".join(f"“{name}”" for name in names) or "none"
            raise TemplateError(
                f"The workbook has no sheet “{SHEET}” (its sheets: {listed}). Upload the AI-CAIQ v1.1.0 workbook."
            )
        target = next((path for rel_id, _type, path in rels if rel_id == sheet_rel), None)
        if target is None or target not in archive.namelist():
            raise TemplateError(f"The workbook names sheet “{SHEET}” but its part is missing; the file is damaged.")
        try:
            xml = _read(archive, target).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateError(f"Sheet “{SHEET}” is not UTF-8 XML; save the workbook again in Excel.") from exc
        filled = fill_sheet_xml(
            xml, shared=_shared_strings(archive, workbook, rels, question_id), question_id=question_id, values=values
        )
        del xml
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w") as result:
            result.comment = archive.comment
            for info in infos:
                if info.filename == target:
                    result.writestr(info, filled.encode("utf-8"))
                else:
                    _copy(archive, result, info)
    return output.getvalue()


def _copy(archive: zipfile.ZipFile, result: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Copy one member as a stream (memory does not grow with its size), with its name and metadata."""
    try:
        with archive.open(info) as source, result.open(info, "w") as sink:
            shutil.copyfileobj(source, sink, 1024 * 1024)
    except _UNREADABLE as exc:
        raise _unreadable(info.filename) from exc
