"""A campaign's results as a file: the CSV the results export streams, and the SHA-256 of the same bytes that
closing a campaign records, so an export of a closed campaign can be checked against its recorded digest."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator

from cek.exportguard import check_row
from cek.spreadsheet import spreadsheet_safe
from evidence.models import Attestation, AttestationStatus, Campaign, CampaignStatus

COMPUTED = frozenset({"statements_sha256"})  # a digest the app computed, let through as 64 hex digits only
RESULTS_HEADER = (
    "campaign",
    "key",
    "store",
    "external_id",
    "purpose",
    "addressed_to",
    "status",
    "responded_by",
    "responded_at",
    "statement_version",
    "statements_sha256",
    "comment",
)


def campaign_results_csv(campaign: Campaign, *, guard: bool = True) -> Iterator[bytes]:
    """The campaign's results as UTF-8 CSV lines, header first, one line per key (ordered by key name). The
    CSV export streams exactly these bytes and ``campaign_close`` records their SHA-256, so the export of a
    closed campaign can be checked against the digest recorded when it closed. Pending attestations of a
    closed campaign read "not answered".

    With ``guard`` (every export), each row passes the export guard: a value that looks like key material stops
    the file with ``cek.exportguard.ExportRefused``. The digest recorded at closing reads the same bytes
    unguarded, so legacy data cannot stop a campaign from closing; it stops its export instead."""
    closed = campaign.status == CampaignStatus.CLOSED
    lines = [1]  # the row each line is in the file (the header is row 1)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> bytes:
        if guard and values is not RESULTS_HEADER:
            check_row(
                values, export="The campaign results CSV", row=lines[0], columns=RESULTS_HEADER, computed=COMPUTED
            )
        lines[0] += 1
        buffer.seek(0)
        buffer.truncate()
        # Owners' comments, key and store names come from people and imports: escaped so none runs as a formula.
        # The digest recorded at close is taken over these same escaped bytes.
        writer.writerow([spreadsheet_safe(value) if isinstance(value, str) else value for value in values])
        return buffer.getvalue().encode()

    yield line(RESULTS_HEADER)
    # Plain tuples, not model instances with four related ones each: the same values for a fraction of the work
    # (closing a campaign of a million keys reads every row to take the digest).
    rows = (
        Attestation.objects.filter(campaign=campaign)
        .order_by("key__name", "pk")
        .values_list(
            "key__name",
            "key__store__name",
            "key__external_id",
            "key__purpose__slug",
            "addressed_to__username",
            "status",
            "responded_by__username",
            "responded_at",
            "statement_version",
            "statements_sha256",
            "comment",
        )
    )
    pending = AttestationStatus.PENDING.value
    for key, store, external_id, purpose, addressed_to, status, responded_by, responded_at, *rest in rows.iterator(
        chunk_size=2000
    ):
        yield line(
            [
                campaign.name,
                key,
                store,
                external_id,
                purpose or "",
                addressed_to or "",
                "not answered" if closed and status == pending else status,
                responded_by or "",
                responded_at.isoformat() if responded_at else "",
                *rest,
            ]
        )


def campaign_results_digest(campaign: Campaign) -> tuple[str, int]:
    """(SHA-256 of the results CSV, number of data rows), computed over the bytes the export produces."""
    digest = hashlib.sha256()
    lines = 0
    for chunk in campaign_results_csv(campaign, guard=False):
        digest.update(chunk)
        lines += 1
    return digest.hexdigest(), lines - 1
