"""Policy documents: what is accepted (PDF, DOCX, Markdown), how it is checked, stored and served.

An upload is accepted when all of these agree:

1. its size is within ``CEK_POLICY_MAX_BYTES``;
2. its extension names one of the three kinds (``.pdf``, ``.docx``, ``.md`` / ``.markdown``);
3. the content type the browser declared fits that kind (``application/octet-stream`` counts as "not said");
4. its first bytes are what that kind starts with: ``%PDF-``; a ZIP holding ``[Content_Types].xml`` and
   ``word/document.xml`` (and no macros); UTF-8 text without NUL bytes for Markdown;
5. nothing a reader can see in it holds key material (the shared validator, ``cek.keymaterial``): for
   Markdown the whole text with ``data:`` URIs decoded (raster images left out: pixels cannot be scanned);
   for a DOCX every XML part (body, headers, footers, footnotes, endnotes, comments, document properties,
   link targets); for a PDF every page's text, its metadata, annotations, form fields, bookmarks and attached
   files (``evidence.documents.scan`` says exactly what is read, and the bounds that keep it cheap).

The check runs on the bytes in memory, before anything is written: a refused document is never stored.
Manual evidence (``document_scan``) accepts the same kinds plus plain text and raster images (screenshots,
accepted unscanned for the same reason as images in Markdown), and refuses what it cannot read.

Accepted documents are stored through Django's default storage under their SHA-256 and served back as
attachments only, with ``X-Content-Type-Options: nosniff``, so a browser never renders them in the app.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError

from cek.keymaterial import find_key_material, message_for
from evidence.documents import scan
from evidence.models import DocumentKind

EXTENSIONS = {
    ".pdf": DocumentKind.PDF,
    ".docx": DocumentKind.DOCX,
    ".md": DocumentKind.MARKDOWN,
    ".markdown": DocumentKind.MARKDOWN,
}
CONTENT_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.MARKDOWN: "text/markdown; charset=utf-8",
}
# What browsers and clients send for each kind. "application/octet-stream" (or nothing) means "unknown".
DECLARED_TYPES = {
    DocumentKind.PDF: {"application/pdf", "application/x-pdf"},
    DocumentKind.DOCX: {CONTENT_TYPES[DocumentKind.DOCX], "application/zip", "application/x-zip-compressed"},
    DocumentKind.MARKDOWN: {"text/markdown", "text/x-markdown", "text/plain"},
}
UNDECLARED_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
ACCEPTED = "a PDF (.pdf), Word (.docx) or Markdown (.md) file"

DOCX_TEXT_LIMIT = 20 * 1024 * 1024  # uncompressed bytes of word/document.xml read for the key-material scan
_DOCX_PARAGRAPH_END = re.compile(rb"</w:p>|<w:br\s*/>|<w:tab\s*/>")
_XML_TAG = re.compile(rb"<[^>]*>")
_PEM_PRIVATE = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY-----")


@dataclass(frozen=True)
class Document:
    name: str
    kind: DocumentKind
    size: int
    sha256: str
    data: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def megabytes(size: int) -> str:
    """A size for people: "20.0 MB", or "900 KB" below a tenth of a megabyte."""
    return f"{size / 1048576:.1f} MB" if size >= 104858 else f"{size / 1024:.0f} KB"


def _clean_name(name: str) -> str:
    """The base name only (no client path), at most 255 characters, extension kept."""
    base = PurePosixPath(name.replace("\\", "/")).name.strip() or "document"
    if len(base) > 255:
        suffix = PurePosixPath(base).suffix[:20]
        base = base[: 255 - len(suffix)] + suffix
    return base


def _sniff_pdf(data: bytes) -> str | None:
    # The PDF header may follow a little junk (the specification allows it within the first 1024 bytes).
    if b"%PDF-" not in data[:1024]:
        return "it does not start like a PDF (no %PDF- header)"
    return None


def _docx_text(data: bytes) -> tuple[str | None, str]:
    """(problem, text): the text of the paragraphs, or why the file is not a Word document."""
    if not data.startswith(b"PK\x03\x04"):
        return "it is not a Word document (a .docx file is a ZIP archive, and this is not one)", ""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or "word/document.xml" not in names:
                return "it is a ZIP archive but not a Word document (no word/document.xml)", ""
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return "it contains macros (a .docm saved as .docx); save it as a plain .docx", ""
            info = archive.getinfo("word/document.xml")
            if info.file_size > DOCX_TEXT_LIMIT:
                return f"its text part is {megabytes(info.file_size)} uncompressed, more than a policy needs", ""
            with archive.open(info) as handle:
                xml = handle.read(DOCX_TEXT_LIMIT + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return "it is a damaged or encrypted Word document", ""
    text = _XML_TAG.sub(b"", _DOCX_PARAGRAPH_END.sub(b"\n", xml))
    return None, text.decode("utf-8", errors="replace")


def _markdown_text(data: bytes) -> tuple[str | None, str]:
    if data.startswith((b"%PDF-", b"PK\x03\x04")) or b"\x00" in data:
        return "it is a binary file, not Markdown text", ""
    try:
        return None, scan.text_with_data_uris_decoded(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return "it is not UTF-8 text (save the Markdown file as UTF-8)", ""


def _scan(name: str, parts) -> None:
    """Refuse the document when a part a reader would see holds key material (the message names the part,
    never the value), or when it cannot be read within the bounds of ``evidence.documents.scan``."""
    budget = scan.TEXT_MAX_CHARS
    try:
        for where, text in parts:
            budget -= len(text)
            if budget < 0:
                raise scan.Unreadable("it holds more text than can be checked; link to it instead")
            reason = find_key_material(text) if text else None
            if reason:
                raise ValidationError(message_for(f"The text of '{name}' ({where})", reason), code="key_material")
    except scan.Unreadable as exc:
        raise ValidationError(f"'{name}' is not accepted: {exc}.", code="magic") from None


def document_scan(*, name: str, data: bytes) -> None:
    """Check a manual-evidence document for key material, whatever its extension: a PDF, an Office Open XML
    file (DOCX, XLSX, PPTX), UTF-8 text (reports, configuration exports), or a raster image (accepted
    unscanned). Anything else cannot be checked and is refused. Raises ``ValidationError``."""
    name = _clean_name(name)
    if data[:1024].find(b"%PDF-") >= 0:
        if _PEM_PRIVATE.search(data):
            raise ValidationError(message_for(f"'{name}'", "a PEM private key block"), code="key_material")
        _scan(name, scan.pdf_parts_text(data))
    elif data.startswith(b"PK\x03\x04"):
        _scan(name, scan.ooxml_parts_text(data))
    elif scan.is_raster_image(data):
        return
    elif b"\x00" not in data:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            _scan(name, iter([("the text", scan.text_with_data_uris_decoded(text))]))
            return
        raise ValidationError(
            f"'{name}' is not accepted: it is neither UTF-8 text nor a PDF, Office document or image, so it "
            "cannot be checked for key material. Save it as one of those.",
            code="magic",
        )
    else:
        raise ValidationError(
            f"'{name}' is not accepted: it is not a PDF, Office document, UTF-8 text or image (PNG, JPEG, GIF, "
            "WebP, BMP), so it cannot be checked for key material. Save it as one of those.",
            code="magic",
        )


def document_inspect(*, name: str, data: bytes, content_type: str = "") -> Document:
    """Check an uploaded policy document (see the module doc) and return what is stored; raise
    ``ValidationError`` saying what is wrong and what to do."""
    name = _clean_name(name)
    limit = settings.CEK_POLICY_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(
            f"'{name}' is {megabytes(len(data))}; the limit is {megabytes(limit)}. "
            "Compress its images or link to the document instead.",
            code="too_large",
        )
    if not data:
        raise ValidationError(f"'{name}' is empty.", code="empty")
    kind = EXTENSIONS.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        raise ValidationError(f"'{name}' is not {ACCEPTED}.", code="extension")
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared not in UNDECLARED_TYPES and declared not in DECLARED_TYPES[kind]:
        raise ValidationError(
            f"'{name}' was sent as {declared}, which does not match its .{name.rsplit('.', 1)[-1]} extension. "
            f"Upload {ACCEPTED}.",
            code="content_type",
        )
    if kind == DocumentKind.PDF:
        problem = _sniff_pdf(data)
        if problem is None and _PEM_PRIVATE.search(data):
            raise ValidationError(message_for(f"'{name}'", "a PEM private key block"), code="key_material")
        parts = scan.pdf_parts_text(data)
    elif kind == DocumentKind.DOCX:
        problem, _text = _docx_text(data)
        parts = scan.ooxml_parts_text(data)
    else:
        problem, text = _markdown_text(data)
        parts = iter([("the text", text)])
    if problem:
        raise ValidationError(f"'{name}' is not accepted: {problem}.", code="magic")
    _scan(name, parts)
    return Document(name=name, kind=kind, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, refusing early (without reading it) when it is over the limit."""
    limit = settings.CEK_POLICY_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"'{_clean_name(upload.name)}' is {megabytes(upload.size)}; the limit is {megabytes(limit)}. "
            "Compress its images or link to the document instead.",
            code="too_large",
        )
    upload.seek(0)
    return upload.read(limit + 1)


def file_sha256(field_file) -> str:
    """The SHA-256 of a stored file, read in chunks."""
    digest = hashlib.sha256()
    with field_file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
