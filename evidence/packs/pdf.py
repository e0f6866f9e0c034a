"""The evidence pack's PDF: HTML from ``templates/pdf/`` rendered by WeasyPrint with ``static/cek/pdf.css``.

Every value in the HTML comes from :class:`~evidence.packs.content.PackContent` through Django's autoescaping
(no ``|safe`` in the templates), and WeasyPrint may load nothing but the app's own static files
(:func:`~evidence.packs.fetcher.static_only_fetcher`). Building the HTML is cheap by design (the content is
read beforehand, tables are capped at ``CEK_PACK_PDF_MAX_ROWS`` rows): the render time is WeasyPrint's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.template.loader import render_to_string
from weasyprint import HTML, Attachment

from evidence.models import EvidencePack
from evidence.packs.content import PackContent
from evidence.packs.fetcher import static_file_url, static_only_fetcher

STYLESHEET = "cek/pdf.css"
PDF_FILE_NAME = "evidence-pack.pdf"
# The data files the builder writes beside the PDF (named in the PDF's "About this pack" annex).
DATA_FILES = (
    ("keys.csv", "The full key population of the scope, one row per key."),
    ("keys.xlsx", "The same population as a spreadsheet."),
    ("bindings.csv", "Which service and tenant uses which key, for which purpose."),
    ("grants.csv", "Who may use which key, for which operations, approved by whom, until when."),
    ("findings.csv", "The findings open at some point in the window, with their handling."),
    ("attestations.csv", "Every attestation of the campaigns in the window."),
    ("policies.csv", "Policy versions, approvals, reviews and effectiveness evaluations."),
    ("check-results.csv", "The guideline results of the check run this pack reports."),
    ("iac-scans.csv", "Every infrastructure-as-code scan recorded in the window, with its counts and verdict."),
    ("usage.csv", "Key usage from the audit logs in the window: calls per key, principal, operation, outcome and day."),
    ("pack.json", "The facts of this PDF, machine-readable, including the sample's seed, method and ids."),
    ("manifest.json", "Every file of the pack with its SHA-256 and size, and the pack's metadata."),
    ("manifest.sig", "The Ed25519 signature of manifest.json, made with the evidence-signing key."),
)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int
    seconds: float
    html: str


@dataclass(frozen=True)
class KeysFiles:
    """How many keys keys.csv and keys.xlsx hold, as the PDF states it: keys.xlsx stops at one worksheet's rows
    (``evidence.packs.data.XLSX_MAX_KEYS``), keys.csv never does."""

    csv_rows: int
    xlsx_rows: int

    @property
    def xlsx_complete(self) -> bool:
        return self.xlsx_rows >= self.csv_rows


def keys_files(content: PackContent, data_rows: Mapping[str, int] | None = None) -> KeysFiles:
    """The key files' row counts: as written (``data_rows``, the build's ``DataResult.counts``), or, for a PDF
    rendered on its own, what :func:`evidence.packs.data.write_keys` writes for the population it shows."""
    from evidence.packs.data import XLSX_MAX_KEYS

    if data_rows is not None and "keys.csv" in data_rows and "keys.xlsx" in data_rows:
        return KeysFiles(csv_rows=data_rows["keys.csv"], xlsx_rows=data_rows["keys.xlsx"])
    total = content.inventory.total
    return KeysFiles(csv_rows=total, xlsx_rows=min(total, XLSX_MAX_KEYS))


def data_file_descriptions(keys: KeysFiles) -> tuple[tuple[str, str], ...]:
    """:data:`DATA_FILES`, keys.xlsx described as it was written (whole, or the first keys by id)."""
    if keys.xlsx_complete:
        return DATA_FILES
    partial = (
        f"The first {keys.xlsx_rows} of the {keys.csv_rows} keys by id as a spreadsheet (one worksheet's limit); "
        "keys.csv holds them all."
    )
    return tuple((name, partial if name == "keys.xlsx" else text) for name, text in DATA_FILES)


def render_pack_html(
    pack: EvidencePack, content: PackContent, *, data_digest: str, data_rows: Mapping[str, int] | None = None
) -> str:
    """The pack's HTML (autoescaped), with the print stylesheet linked as a static ``file://`` URL. ``data_rows``
    are the rows of each data file as written (the build passes them): what the PDF says of keys.xlsx follows them."""
    keys = keys_files(content, data_rows)
    return render_to_string(
        "pdf/pack.html",
        {
            "pack": pack,
            "c": content,
            "data_digest": data_digest,
            "signing_public_key": pack.signing_public_key,
            "stylesheet_url": static_file_url(STYLESHEET),
            "data_files": data_file_descriptions(keys),
            "keys_files": keys,
            "pdf_file_name": PDF_FILE_NAME,
        },
    )


# Evidence is kept for years: the PDF is PDF/A-3b (archival: fonts embedded, an sRGB output intent, XMP metadata
# declaring the part and conformance) and tagged (a structure tree in reading order, the document's language and
# title), so screen readers and archives read it. The data files stay beside it in the signed zip, not embedded.
PDF_VARIANT = "pdf/a-3b"


DATA_MANIFEST_NAME = "data-files.json"


def html_to_pdf(html: str, *, data_manifest: bytes | None = None) -> tuple[bytes, int]:
    """WeasyPrint alone: the PDF bytes and the number of pages (the static-only fetcher, no base URL). With
    ``data_manifest`` (``manifest.data_manifest_bytes``), the PDF carries it as an associated file (PDF/A-3's
    ``AFRelationship /Data``): the list of the data files it reports on, whose SHA-256 is the data digest it prints."""
    document = HTML(string=html, url_fetcher=static_only_fetcher, media_type="print").render(pdf_tags=True)
    attachments = []
    if data_manifest is not None:
        attachments.append(
            Attachment(
                string=data_manifest.decode("utf-8"),
                name=DATA_MANIFEST_NAME,
                description="The data files of this evidence pack (name, SHA-256, size): their SHA-256 is the data digest.",
                relationship="Data",
            )
        )
    data = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=attachments)
    return data, len(document.pages)


def render_pack_pdf(
    pack: EvidencePack,
    content: PackContent,
    *,
    data_digest: str,
    data_manifest: bytes | None = None,
    data_rows: Mapping[str, int] | None = None,
) -> RenderedPdf:
    """Render the pack's PDF. ``data_digest`` is the SHA-256 of the data files' manifest (the final
    ``manifest.json`` lists the PDF itself, so the PDF can only name the digest of the data files)."""
    started = time.perf_counter()
    html = render_pack_html(pack, content, data_digest=data_digest, data_rows=data_rows)
    data, pages = html_to_pdf(html, data_manifest=data_manifest)
    return RenderedPdf(data=data, pages=pages, seconds=time.perf_counter() - started, html=html)
