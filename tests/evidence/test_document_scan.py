"""Everything a reader of a policy or manual-evidence document sees is scanned for key material: DOCX headers,
footers, notes, comments, properties and links; PDF pages, metadata, annotations, bookmarks and attached files;
Markdown data URIs. Each document is generated here (DOCX from XML strings, PDF with WeasyPrint and pypdf)
with a token in exactly one place; the same document without it is accepted."""

from __future__ import annotations

import base64
import io
import os
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText, Text
from weasyprint import HTML

from evidence.checks import services
from evidence.documents.uploads import document_inspect, document_scan
from evidence.models import ManualEvidence

SECRET = "ghp_" + "T5rE2wQ9yU4iO7pA1sD6fG3hJ8kL0zX2cV5n"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def _wordml(root: str, inner: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:{root} xmlns:w="{W}">{inner}</w:{root}>'


def _paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def docx(**places: str) -> bytes:
    """A Word document with text in each part; ``places`` overrides one part's text (a secret there)."""
    text = {
        "body": "Keys have exactly one purpose.",
        "header": "Internal",
        "footer": "Page 1",
        "footnotes": "See NIST SP 800-57.",
        "endnotes": "Reviewed yearly.",
        "comments": "Approved by the committee.",
        "title": "Key management policy",
        "company": "Example AI Ltd",
        "custom": "GRC-42",
        "link": "https://intranet.example.com/policies",
        **places,
    }
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "word/document.xml": _wordml("document", f"<w:body>{_paragraph(text['body'])}</w:body>"),
        "word/header1.xml": _wordml("hdr", _paragraph(text["header"])),
        "word/footer1.xml": _wordml("ftr", _paragraph(text["footer"])),
        "word/footnotes.xml": _wordml("footnotes", f"<w:footnote>{_paragraph(text['footnotes'])}</w:footnote>"),
        "word/endnotes.xml": _wordml("endnotes", f"<w:endnote>{_paragraph(text['endnotes'])}</w:endnote>"),
        "word/comments.xml": _wordml("comments", f"<w:comment>{_paragraph(text['comments'])}</w:comment>"),
        # Document protection keeps a salt and a hash in attributes: key-shaped, never shown, not scanned.
        "word/settings.xml": _wordml(
            "settings",
            f'<w:documentProtection w:hashValue="{base64.b64encode(os.urandom(64)).decode()}" '
            f'w:saltValue="{base64.b64encode(os.urandom(16)).decode()}"/>',
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{text["title"]}</dc:title>'
            "<dc:creator>GRC</dc:creator></cp:coreProperties>"
        ),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Properties '
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Company>{text['company']}</Company></Properties>"
        ),
        "docProps/custom.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Properties '
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            f'<property name="Ticket"><vt:lpwstr>{text["custom"]}</vt:lpwstr></property></Properties>'
        ),
        "word/_rels/document.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="hyperlink" Target="{text["link"]}" TargetMode="External"/>'
            "</Relationships>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(ValidationError) as raised:
        document_inspect(name=name, data=data)
    message = " ".join(raised.value.messages)
    assert SECRET not in message and SECRET[4:14] not in message
    return message


def test_a_clean_word_document_with_every_part_is_accepted():
    assert document_inspect(name="policy.docx", data=docx()).kind == "docx"


@pytest.mark.parametrize(
    ("place", "value", "named"),
    [
        ("body", f"Break-glass token {SECRET}", "the body"),
        ("header", SECRET, "a header"),
        ("footer", f"token: {SECRET}", "a footer"),
        ("footnotes", SECRET, "the footnotes"),
        ("endnotes", SECRET, "the endnotes"),
        ("comments", f"use {SECRET} for now", "the comments"),
        ("title", SECRET, "the document properties"),
        ("company", SECRET, "the document properties"),
        ("custom", SECRET, "the document properties"),
        ("link", f"https://ci:{SECRET}@intranet.example.com/", "the links"),
    ],
)
def test_a_token_anywhere_in_a_word_document_refuses_it(place, value, named):
    message = refusal("policy.docx", docx(**{place: value}))
    assert "looks like it contains" in message and named in message


def test_a_token_split_over_several_runs_is_still_found():
    half = len(SECRET) // 2
    body = f"</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>{SECRET[:half]}</w:t></w:r><w:r><w:t>{SECRET[half:]}"
    assert "GitHub token" in refusal("policy.docx", docx(body=body))


def test_a_word_document_declaring_a_dtd_is_refused():
    data = docx()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "word/header1.xml":
                content = content.replace(
                    b"?>", b'?><!DOCTYPE w:hdr [<!ENTITY s "' + SECRET.encode() + b'">]>', 1
                ).replace(b"Internal", b"&s;")
            target.writestr(item, content)
    assert "DTD" in refusal("policy.docx", buffer.getvalue())


def test_a_zip_bomb_posing_as_a_word_document_is_refused_quickly_in_little_memory():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", _wordml("document", "<w:body>" + " " * 15_000_000 + "</w:body>"))
    data = buffer.getvalue()
    assert len(data) < 100_000
    tracemalloc.start()
    started = time.monotonic()
    message = refusal("policy.docx", data)
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "ZIP bomb" in message
    assert seconds < 2 and peak < 50 * 1024 * 1024


# --- PDF ------------------------------------------------------------------------------------------------------


def pdf(*, page_two: str = "Reviewed yearly by the committee.", metadata=None, annotation=None, attachment=None,
        bookmark=None, free_text=None) -> bytes:  # fmt: skip
    html = f"<h1>Key management policy</h1><p>One purpose per key.</p><p style='break-before: page'>{page_two}</p>"
    writer = PdfWriter(clone_from=io.BytesIO(HTML(string=html).write_pdf()))
    writer.add_metadata({"/Title": "Key management policy", "/Author": "GRC", **(metadata or {})})
    if annotation:
        writer.add_annotation(0, Text(text=annotation, rect=(50, 550, 200, 650)))
    if free_text:
        writer.add_annotation(1, FreeText(text=free_text, rect=(50, 550, 200, 650)))
    if attachment:
        writer.add_attachment("notes.txt", attachment.encode())
    if bookmark:
        writer.add_outline_item(bookmark, 0)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_clean_generated_pdf_is_accepted():
    data = pdf(annotation="Checked.", bookmark="Scope", attachment="Nothing secret.")
    assert len(PdfReader(io.BytesIO(data)).pages) == 2
    assert document_inspect(name="policy.pdf", data=data).kind == "pdf"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"page_two": f"Deploy token {SECRET}"}, "page 2"),
        ({"metadata": {"/Keywords": SECRET}}, "the document properties"),
        ({"metadata": {"/Ticket": f"api_key={SECRET}"}}, "the document properties"),
        ({"annotation": f"temporary: {SECRET}"}, "the annotations of page 1"),
        ({"free_text": SECRET}, "the annotations of page 2"),
        ({"attachment": f"token={SECRET}\n"}, "attached file 1"),
        ({"bookmark": SECRET}, "the bookmarks"),
    ],
)
def test_a_token_anywhere_a_pdf_reader_sees_refuses_it(kwargs, named):
    message = refusal("policy.pdf", pdf(**kwargs))
    assert "looks like it contains" in message and named in message


def test_an_encrypted_pdf_cannot_be_checked_and_is_refused():
    writer = PdfWriter(clone_from=io.BytesIO(pdf()))
    writer.encrypt(user_password="s3cret-user", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "encrypted" in refusal("policy.pdf", buffer.getvalue())


# --- Markdown data URIs -----------------------------------------------------------------------------------------


def _uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


@pytest.mark.parametrize(
    "uri",
    [
        _uri("image/png", f"-----BEGIN PRIVATE KEY-----\n{base64.b64encode(os.urandom(48)).decode()}\n".encode()),
        _uri("text/plain", f"token={SECRET}".encode()),
        _uri("image/svg+xml", f"<svg><text>{SECRET}</text></svg>".encode()),
        f"data:text/plain,api%5Fkey%3D{SECRET}",
    ],
)
def test_a_data_uri_is_decoded_and_scanned_unless_it_is_really_an_image(uri):
    assert "looks like it contains" in refusal("policy.md", f"# Policy\n\n![diagram]({uri})\n".encode())


def test_a_real_image_in_a_data_uri_is_accepted_unscanned():
    image = _uri("image/jpeg", b"\xff\xd8\xff\xe0" + os.urandom(2000))
    assert document_inspect(name="policy.md", data=f"# Policy\n\n![photo]({image})\n".encode()).kind == "markdown"


# --- Manual evidence ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("scan-report.txt", f"checkov: 0 failed\nGITHUB_TOKEN={SECRET}\n".encode()),
        ("export.pdf", pdf(annotation=SECRET)),
        ("settings.docx", docx(footer=SECRET)),
    ],
)
@pytest.mark.django_db
def test_manual_evidence_holding_a_token_is_refused_and_never_stored(grc_user, name, data):
    with pytest.raises(ValidationError) as raised:
        services.manual_evidence_add(
            guideline_id="AG-8", note="IaC scan", document=SimpleUploadedFile(name, data), actor=grc_user
        )
    assert "document" in raised.value.message_dict
    assert SECRET not in str(raised.value.message_dict)
    assert not ManualEvidence.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


@pytest.mark.django_db
def test_manual_evidence_accepts_a_screenshot_and_a_clean_report(grc_user):
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(4000)
    for name, data in (("screen.png", png), ("report.pdf", pdf()), ("scan.txt", b"0 failed")):
        record = services.manual_evidence_add(
            guideline_id="AG-8", note="checked", document=SimpleUploadedFile(name, data), actor=grc_user
        )
        assert record.size == len(data)


def test_manual_evidence_refuses_a_file_it_cannot_read():
    with pytest.raises(ValidationError, match="cannot be checked"):
        document_scan(name="blob.bin", data=b"\x00\x01\x02" + os.urandom(100))
