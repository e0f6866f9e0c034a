"""Helpers of the evidence tests: documents of each kind and policies in a given state, made through the
services as the app makes them."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.documents.uploads import document_inspect
from evidence.models import Policy, PolicyVersion
from evidence.policies import services
from tests.factories import PolicyFactory

MARKDOWN = "# Key management policy\n\nEvery cryptographic key is provisioned for exactly one purpose.\n"

DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def docx_bytes(*paragraphs: str, extra: dict[str, bytes] | None = None) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><w:document '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        f"{body}</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        archive.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pdf_bytes(text: str = "Key management policy") -> bytes:
    """A real (readable) one-page PDF whose title is ``text``: uploads are read with pypdf and scanned."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(name: str = "policy.md", data: bytes | str = MARKDOWN, content_type: str = "text/markdown"):
    return SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data, content_type=content_type)


def markdown_document(text: str = MARKDOWN, name: str = "policy.md"):
    return document_inspect(name=name, data=text.encode(), content_type="text/markdown")


def draft(policy: Policy, *, actor, label: str = "1.0", document=None, link: str = "") -> PolicyVersion:
    if document is None and not link:
        link = f"https://intranet.example.com/policies/{policy.pk}/{label}"
    version = PolicyVersion(policy=policy, label=label, summary=f"Version {label}.", link=link)
    return services.policy_version_save(version=version, actor=actor, document=document)


def approve(version: PolicyVersion, *, by, on: dt.date, body: str = "Security committee"):
    if version.status == "draft":
        services.policy_version_submit(version=version, actor=by)
    approval = services.policy_version_approve(
        version=version, actor=by, governance_body=body, approver=by, approved_on=on
    )
    version.refresh_from_db()
    return approval


def policy_in_force(*, grc, approved_on: dt.date, label: str = "1.0", **fields) -> Policy:
    fields.setdefault("owner", grc)
    policy = PolicyFactory(**fields)
    approve(draft(policy, actor=grc, label=label), by=grc, on=approved_on)
    policy.refresh_from_db()
    return policy
