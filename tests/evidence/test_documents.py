"""Policy documents: what uploads are accepted (type, size, magic bytes, key material) and how they are served."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse

from evidence.documents.uploads import document_inspect
from evidence.models import PolicyVersion
from tests.conftest import login
from tests.evidence.policies import MARKDOWN, approve, docx_bytes, draft, markdown_document, pdf_bytes, upload
from tests.factories import PolicyFactory

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"


def inspect(name: str, data: bytes, content_type: str = ""):
    return document_inspect(name=name, data=data, content_type=content_type)


def refusal(name: str, data: bytes, content_type: str = "") -> str:
    with pytest.raises(ValidationError) as refused:
        inspect(name, data, content_type)
    return " ".join(refused.value.messages)


@pytest.mark.parametrize(
    ("name", "data", "content_type", "kind"),
    [
        ("policy.md", MARKDOWN.encode(), "text/markdown", "markdown"),
        ("policy.markdown", MARKDOWN.encode(), "text/plain", "markdown"),
        ("POLICY.MD", "\ufeff# Politique de gestion des clés\n".encode(), "", "markdown"),
        ("policy.pdf", pdf_bytes(), "application/pdf", "pdf"),
        ("policy.docx", docx_bytes("Each key has one purpose."), "application/octet-stream", "docx"),
        (
            "policy.docx",
            docx_bytes("Each key has one purpose."),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
    ],
)
def test_pdf_docx_and_markdown_are_accepted(name, data, content_type, kind):
    document = inspect(name, data, content_type)
    assert document.kind == kind and document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name", ["policy.exe", "policy.txt", "policy.html", "policy.docm", "policy", "policy.md.exe"])
def test_other_file_types_are_refused_by_extension(name):
    assert "is not a PDF (.pdf), Word (.docx) or Markdown (.md) file" in refusal(name, MARKDOWN.encode())


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("policy.pdf", "text/html"), ("policy.md", "application/pdf"), ("policy.docx", "image/png")],
)
def test_a_declared_content_type_that_contradicts_the_extension_is_refused(name, content_type):
    data = {"policy.pdf": pdf_bytes(), "policy.md": MARKDOWN.encode(), "policy.docx": docx_bytes("x")}[name]
    assert f"was sent as {content_type}, which does not match" in refusal(name, data, content_type)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("policy.pdf", MARKDOWN.encode(), "does not start like a PDF"),
        ("policy.pdf", b"PK\x03\x04" + b"\x00" * 40, "does not start like a PDF"),
        ("policy.docx", MARKDOWN.encode(), "a .docx file is a ZIP archive"),
        ("policy.docx", pdf_bytes(), "a .docx file is a ZIP archive"),
        ("policy.docx", b"PK\x03\x04 damaged", "damaged or encrypted"),
        ("policy.md", pdf_bytes(), "binary file, not Markdown"),
        ("policy.md", b"# Title\x00\x01\x02", "binary file, not Markdown"),
        ("policy.md", "Schlüssel".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_content_that_is_not_what_the_extension_says_is_refused(name, data, reason):
    message = refusal(name, data)
    assert reason in message and name in message


def test_a_zip_that_is_not_a_word_document_is_refused():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.sh", "echo hi")
    assert "not a Word document (no word/document.xml)" in refusal("policy.docx", buffer.getvalue())


def test_a_word_document_with_macros_is_refused():
    data = docx_bytes("Policy", extra={"word/vbaProject.bin": b"\x00macro"})
    assert "contains macros" in refusal("policy.docx", data)


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.CEK_POLICY_MAX_BYTES = 2048
    message = refusal("policy.md", b"# Policy\n" + b"a" * 2100)
    assert "'policy.md' is 2 KB; the limit is 2 KB" in message
    assert inspect("policy.md", b"# Policy\n" + b"a" * 2000).size == 2009


def test_an_empty_file_is_refused():
    assert "is empty" in refusal("policy.md", b"")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("policy.md", f"# Keys\n\nThe signing key:\n\n{PEM}\n".encode()),
        ("policy.md", b"Set AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY in the runner."),
        ("policy.docx", docx_bytes("Break-glass token:", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")),
        ("policy.pdf", pdf_bytes(PEM.replace("\n", " "))),
    ],
)
def test_key_material_in_a_document_is_refused_without_echoing_it(name, data):
    message = refusal(name, data)
    assert "looks like it contains" in message and "never the key, secret or token itself" in message
    assert "MIIEvQ" not in message and "wJalr" not in message and "ghp_" not in message


def test_an_image_embedded_in_markdown_is_not_taken_for_a_key():
    import base64 as b64
    import os

    image = b64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(600)).decode()
    text = f"# Policy\n\n![Key hierarchy](data:image/png;base64,{image})\n\nOne purpose per key.\n"
    assert inspect("policy.md", text.encode()).kind == "markdown"
    secret = b64.b64encode(os.urandom(32)).decode()
    assert "looks like it contains" in refusal("policy.md", f"# Policy\n\nThe key is {secret}\n".encode())


def test_the_client_path_is_dropped_from_the_file_name():
    assert inspect("C:\\Users\\grc\\policy.md", MARKDOWN.encode()).name == "policy.md"


# --- Through the pages --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("policy.exe", MARKDOWN, "application/octet-stream"), "is not a PDF (.pdf), Word (.docx)"),
        (upload("policy.pdf", MARKDOWN, "application/pdf"), "does not start like a PDF"),
        (upload("policy.md", "# Policy\n\n" + PEM, "text/markdown"), "looks like it contains a PEM private key"),
    ],
)
def test_the_version_form_rerenders_with_the_upload_error_and_stores_nothing(grc_client, grc_user, file, message):
    policy = PolicyFactory(owner=grc_user)
    response = grc_client.post(
        reverse("evidence:version-create", args=[policy.pk]),
        {"label": "1.0", "summary": "First issue.", "link": "", "document": file},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "MIIEvQ" not in response.content.decode()
    assert not PolicyVersion.objects.exists()
    assert not default_storage.exists("policy-documents")


@pytest.mark.django_db
def test_the_version_form_refuses_an_oversized_upload(grc_client, grc_user, settings):
    settings.CEK_POLICY_MAX_BYTES = 1024
    policy = PolicyFactory(owner=grc_user)
    response = grc_client.post(
        reverse("evidence:version-create", args=[policy.pk]),
        {"label": "1.0", "summary": "First.", "document": upload("big.md", "# Big\n" + "a" * 2000)},
    )
    assert response.status_code == 200 and "the limit is" in response.content.decode()
    assert not PolicyVersion.objects.exists()


@pytest.mark.django_db
def test_the_version_form_stores_a_markdown_upload(grc_client, grc_user):
    policy = PolicyFactory(owner=grc_user)
    response = grc_client.post(
        reverse("evidence:version-create", args=[policy.pk]),
        {"label": "1.0", "summary": "First issue.", "link": "", "document": upload()},
    )
    version = PolicyVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == version.get_absolute_url()
    assert version.document_sha256 == hashlib.sha256(MARKDOWN.encode()).hexdigest()
    detail = grc_client.get(version.policy.get_absolute_url()).content.decode()
    assert version.document_sha256 in detail and "policy.md" in detail


# --- Download ------------------------------------------------------------------------------------------


@pytest.fixture
def documents(db, grc_user):
    policy = PolicyFactory(owner=grc_user)
    approved = draft(policy, actor=grc_user, label="1.0", document=markdown_document())
    approve(approved, by=grc_user, on=approved.created_at.date())
    in_draft = draft(policy, actor=grc_user, label="2.0", document=markdown_document("# Draft 2\n", name="v2.md"))
    return {"approved": approved, "draft": in_draft}


def test_the_document_is_served_as_an_attachment_that_browsers_must_not_sniff(documents, grc_client):
    version = documents["approved"]
    response = grc_client.get(reverse("evidence:version-document", args=[version.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MARKDOWN.encode()
    assert response["Content-Disposition"] == 'attachment; filename="policy.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    digest = base64.b64encode(hashlib.sha256(MARKDOWN.encode()).digest()).decode()
    assert response["Repr-Digest"] == f"sha-256=:{digest}:"


@pytest.mark.parametrize(
    ("who", "approved", "in_draft"),
    [
        ("grc", 200, 200),
        ("auditor", 200, 200),
        ("owner", 200, 404),  # key owners read approved versions only
        ("outsider", 403, 403),
        ("expired_auditor", 302, 302),
        ("anonymous", 302, 302),
    ],
)
def test_only_users_with_a_role_download_documents(documents, request, who, approved, in_draft):
    from django.test import Client

    client = Client() if who == "anonymous" else login(request.getfixturevalue("grc_user" if who == "grc" else who))
    for version, expected in ((documents["approved"], approved), (documents["draft"], in_draft)):
        response = client.get(reverse("evidence:version-document", args=[version.pk]))
        assert response.status_code == expected, (who, version.label)
        if expected == 302:
            assert response["Location"].startswith(reverse("login"))


def test_a_document_changed_in_storage_is_not_served(documents, grc_client):
    version = documents["approved"]
    with default_storage.open(version.document.name, "wb") as handle:
        handle.write(b"# Tampered\n")
    response = grc_client.get(reverse("evidence:version-document", args=[version.pk]))
    assert response.status_code == 409
    assert "no longer matches the SHA-256" in response.content.decode()


def test_a_version_with_a_link_has_no_download(db, grc_user, grc_client):
    version = draft(PolicyFactory(owner=grc_user), actor=grc_user)
    assert grc_client.get(reverse("evidence:version-document", args=[version.pk])).status_code == 404
