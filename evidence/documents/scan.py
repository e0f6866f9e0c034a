"""What a reader of an uploaded document would see, as text, for the key-material scan.

A policy document or a manual-evidence document is refused when anything a reader can see in it holds key
material (``cek.keymaterial``). "Anything" means, per kind:

- **Markdown and other text**: the whole text, with every ``data:`` URI decoded and its content scanned in
  its place. A data URI whose bytes really are a raster image (PNG, JPEG, GIF, WebP, BMP: checked by their
  first bytes, whatever the URI claims) is left out: pixels cannot be scanned, and an image is what the
  reader sees, not text. An SVG is text and is scanned; a "PNG" that decodes to a PEM block is scanned as the
  text it is.
- **Word (.docx) and other Office Open XML files**: every XML part, not only the body: headers, footers,
  footnotes, endnotes, comments, text boxes, the document properties (``docProps/core.xml``, ``app.xml``,
  ``custom.xml``) and the targets of links (``.rels``). Text is taken from the elements, runs of a paragraph
  joined (Word splits a word over several runs), so a secret split by formatting is still one value.
  Attribute values other than link targets are not read: Word stores salts and hashes there (document
  protection) that look like keys and are not shown to anyone.
- **PDF** (read with pypdf): the text of every page, the document information (title, author, subject,
  keywords, creator, producer and any custom entry), the XMP metadata, the annotations (comments, their
  authors, link URIs), form field values, the outline (bookmarks) and the names and text of embedded files.

Bounds, so a hostile file costs little: member sizes are read from the ZIP directory before anything is
decompressed (total, per part, number of parts, compression ratio), XML is parsed with defusedxml (no DTDs,
no entities) and incrementally, a PDF's pages are capped and its scan stops at a time budget, and the
extracted text is capped. A document past a bound is refused with the bound it passed: a policy that large
is better linked than uploaded.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
import zipfile
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes
from zlib import error as zlib_error

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from cek.keymaterial import find_key_material

# --- Bounds -------------------------------------------------------------------------------------------------
OOXML_MAX_PARTS = 2000  # members of the ZIP
OOXML_MAX_PART_BYTES = 20 * 1024 * 1024  # one XML part, uncompressed
OOXML_MAX_TOTAL_BYTES = 60 * 1024 * 1024  # every XML part together, uncompressed
OOXML_MAX_RATIO = 200  # uncompressed / compressed of one part; text compresses ~10x, a bomb 1000x
PDF_MAX_PAGES = 1000
PDF_MAX_SECONDS = 15.0
TEXT_MAX_CHARS = 30 * 1024 * 1024  # extracted text kept for the scan

_RASTER_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_DATA_URI = re.compile(
    r"data:(?P<type>[A-Za-z0-9.+-]{0,40}/?[A-Za-z0-9.+-]{0,60})(?P<params>(?:;[A-Za-z0-9=.+-]{1,60}){0,6}),"
    r"(?P<payload>[A-Za-z0-9+/=%._~!$&*:@?-]*(?:[ \t]*\r?\n[ \t]*[A-Za-z0-9+/=]+)*)"
)


class Unreadable(Exception):
    """The document cannot be checked (damaged, encrypted, or past a bound); the message says why."""


# --- Text and Markdown -----------------------------------------------------------------------------------------


def is_raster_image(data: bytes) -> bool:
    return data.startswith(_RASTER_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _data_uri_text(match: re.Match[str]) -> str:
    payload = match.group("payload")
    if ";base64" in match.group("params").lower():
        try:
            raw = base64.b64decode(re.sub(r"\s+", "", payload) + "==="[: (-len(payload)) % 4], validate=False)
        except (binascii.Error, ValueError):
            return payload  # not base64 after all: the characters themselves are what a reader sees
    else:
        raw = unquote_to_bytes(payload)
    if is_raster_image(raw):
        return " "  # an image: its pixels cannot be scanned (see the module docstring)
    return " " + raw.decode("utf-8", errors="replace") + " "


def text_with_data_uris_decoded(text: str) -> str:
    """``text`` with each data URI replaced by what it holds (raster images by a space)."""
    if "data:" not in text:
        return text
    return _DATA_URI.sub(_data_uri_text, text)


# --- Office Open XML (DOCX, XLSX, PPTX) ------------------------------------------------------------------------

_PARAGRAPH_ENDS = frozenset({"p", "si", "tc", "tr", "br", "cr", "tab", "row", "c", "txbxContent"})
_RUN_TEXT = frozenset({"t", "delText", "instrText"})


def _part_label(name: str) -> str:
    lowered = name.lower()
    for needle, label in (
        ("header", "a header"),
        ("footer", "a footer"),
        ("footnotes", "the footnotes"),
        ("endnotes", "the endnotes"),
        ("comments", "the comments"),
        ("docprops/", "the document properties"),
        (".rels", "the links"),
        ("word/document.xml", "the body"),
    ):
        if needle in lowered:
            return label
    return _shown(name)


def _shown(name: str) -> str:
    """A part's name for a message, unless the name itself may be what is refused."""
    return "one of its parts" if find_key_material(name) else f"its part {name[:80]}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_lines(handle, *, links: bool) -> Iterator[str]:
    """The text of one XML part, a line per paragraph (or per value), parsed incrementally without DTDs."""
    run: list[str] = []
    for _event, element in iterparse(handle, events=("end",), forbid_dtd=True):
        name = _local(element.tag)
        if links:
            target = element.get("Target")
            if target:
                yield target
        if element.text and element.text.strip():
            if name in _RUN_TEXT:
                run.append(element.text)
            else:
                if run:
                    yield "".join(run)
                    run = []
                yield element.text
        if name in _PARAGRAPH_ENDS and run:
            yield "".join(run)
            run = []
        element.clear()
    if run:
        yield "".join(run)


def ooxml_parts_text(data: bytes) -> Iterator[tuple[str, str]]:
    """(where, text) for each XML part of an Office Open XML file. Raises :class:`Unreadable`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise Unreadable("it is a damaged ZIP archive") from exc
    with archive:
        members = archive.infolist()
        if len(members) > OOXML_MAX_PARTS:
            raise Unreadable(f"it has {len(members):,} parts; at most {OOXML_MAX_PARTS:,} can be checked")
        xml_parts = [m for m in members if m.filename.lower().endswith((".xml", ".rels")) and not m.is_dir()]
        total = sum(m.file_size for m in xml_parts)
        if total > OOXML_MAX_TOTAL_BYTES:
            raise Unreadable(f"its text parts are {total / 1048576:.0f} MB uncompressed, more than can be checked")
        for member in xml_parts:
            if member.flag_bits & 0x1:
                raise Unreadable("it is encrypted")
            if member.file_size > OOXML_MAX_PART_BYTES or (
                member.file_size > 1024 * 1024 and member.file_size > OOXML_MAX_RATIO * max(member.compress_size, 1)
            ):
                raise Unreadable(f"{_shown(member.filename)} is too large once decompressed (a ZIP bomb?)")
        for member in xml_parts:
            try:
                with archive.open(member) as handle:
                    # The directory's sizes were checked; a member that lies about its size stops at the bound.
                    raw = handle.read(member.file_size + 1)
                if len(raw) > member.file_size:
                    raise Unreadable(f"{_shown(member.filename)} is larger than its directory says")
                lines = list(_xml_lines(io.BytesIO(raw), links=member.filename.lower().endswith(".rels")))
            except (DefusedXmlException, SyntaxError) as exc:
                raise Unreadable(f"{_shown(member.filename)} is not well-formed XML (or declares a DTD)") from exc
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, zlib_error) as exc:
                raise Unreadable("it is a damaged or encrypted archive") from exc
            if lines:
                yield _part_label(member.filename), "\n".join(lines)


# --- PDF ------------------------------------------------------------------------------------------------------


def _pdf_strings(value, depth: int = 0) -> Iterator[str]:
    """The text of a PDF object (strings, names' values in dictionaries and arrays), depth-bounded."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, TextStringObject

    if depth > 8:
        return
    if isinstance(value, IndirectObject):
        value = value.get_object()
    if isinstance(value, (TextStringObject, str)):
        yield str(value)
    elif isinstance(value, bytes):
        yield value.decode("latin-1")
    elif isinstance(value, DictionaryObject):
        for key, member in value.items():
            if key in ("/Parent", "/P", "/Popup", "/Dest", "/Next", "/First", "/Last", "/Prev", "/AP"):
                continue  # links back into the page tree, or appearance streams already drawn on the page
            yield from _pdf_strings(member, depth + 1)
    elif isinstance(value, ArrayObject):
        for member in value:
            yield from _pdf_strings(member, depth + 1)


def _outline_titles(items, depth: int = 0) -> Iterator[str]:
    """The titles of a PDF's bookmarks (pypdf's outline: destinations and nested lists), depth-bounded."""
    if depth > 16:
        return
    for item in items:
        if isinstance(item, list):
            yield from _outline_titles(item, depth + 1)
        else:
            title = getattr(item, "title", None)
            if title:
                yield str(title)


def pdf_parts_text(data: bytes) -> Iterator[tuple[str, str]]:
    """(where, text) for a PDF: each page's text and annotations, its metadata, fields, outline and attached
    files. Raises :class:`Unreadable`."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PdfStreamError

    started = time.monotonic()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("it is encrypted (remove the password, or link to the document instead)")
        pages = len(reader.pages)
        if pages > PDF_MAX_PAGES:
            raise Unreadable(f"it has {pages:,} pages; at most {PDF_MAX_PAGES:,} can be checked")
        info = reader.metadata
        if info:
            yield "the document properties", "\n".join(str(value) for value in info.values() if value)
        xmp = reader.root_object.get("/Metadata")
        if xmp is not None:
            raw = xmp.get_object().get_data()[:TEXT_MAX_CHARS]
            yield "the XMP metadata", re.sub(rb"<[^>]*>", b"\n", raw).decode("utf-8", errors="replace")
        for number, page in enumerate(reader.pages, start=1):
            if time.monotonic() - started > PDF_MAX_SECONDS:
                raise Unreadable(f"checking it took longer than {PDF_MAX_SECONDS:.0f} seconds (page {number})")
            yield f"page {number}", page.extract_text() or ""
            annotations = page.get("/Annots")
            if annotations is not None:
                yield f"the annotations of page {number}", "\n".join(_pdf_strings(annotations))
        fields = reader.get_fields() or {}
        if fields:
            yield "the form fields", "\n".join(str(f.get("/V") or "") for f in fields.values())
        titles = list(_outline_titles(reader.outline))
        if titles:
            yield "the bookmarks", "\n".join(titles)
        for number, (name, contents) in enumerate(reader.attachments.items(), start=1):
            # Named by position: the file name itself may be what is refused.
            yield f"the name of attached file {number}", name
            for content in contents:
                yield f"attached file {number}", content[:TEXT_MAX_CHARS].decode("utf-8", errors="replace")
    except Unreadable:
        raise
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise Unreadable("it is a damaged PDF that cannot be read") from exc
