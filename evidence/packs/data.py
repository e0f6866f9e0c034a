"""The data files of an evidence pack: the full population and the records behind every figure of the PDF.

Written from inside the builder's snapshot transaction (so they agree with the PDF), streamed in batches so a
population of 100k keys never sits in memory as model instances. CSV is UTF-8 with a header row, ISO dates,
lists joined with ";" and labels as JSON; in CSV, text a spreadsheet would run as a formula (starting with =, +,
-, @) is prefixed with "'" as in the inventory export. ``keys.xlsx`` holds the same rows as ``keys.csv`` (its
text cells are inline strings, so never formulas) up to the 1,048,575 keys one worksheet holds; beyond that it
holds the first ones by id, and pack.json's ``keys_xlsx_note`` and the PDF (from the rows written: see
``evidence.packs.pdf.keys_files``) say that keys.csv is the complete population. ``pack.json`` has the pack's
facts machine-readable: the metadata, the row count of each file, the sample (seed, method, ids) and the content
the PDF shows.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import enum
import json
import platform
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Model, Q, QuerySet

from cek import xlsxstream
from cek.exportguard import check_row, check_tree
from cek.spreadsheet import spreadsheet_safe
from evidence.models import (
    Attestation,
    CheckResult,
    CheckRun,
    EffectivenessEvaluation,
    EvidencePack,
    Finding,
    PolicyReview,
    PolicyVersion,
    RunStatus,
)
from evidence.packs import manifest as mf
from evidence.packs import sample as sampling
from evidence.packs.content.iac import scans_in_window, short_commit
from evidence.packs.content.usage import USAGE_FILE, USAGE_HEADER, usage_rows
from evidence.packs.scope import organisation_name, scope_label, scoped_keys, window_bounds
from inventory import keyfields
from inventory.models import AccessGrant, Binding, Key

BATCH = 2000
Progress = Callable[[int, str], None]

# The key fields' columns as inventory.keyfields declares them for the pack, between the record's id and timestamps.
KEY_COLUMNS = (("id", "pk"), *keyfields.pack_columns(), ("created_at", "created_at"), ("updated_at", "updated_at"))
# Digests the app computed (64 hex digits, the shape of a 256-bit key): the export guard lets them through in
# these columns and members only, and only with exactly that shape.
COMPUTED = frozenset({"statements_sha256", "document_sha256", "sha256", "data_digest", "digest"})
KEY_HEADER = [name for name, _ in KEY_COLUMNS] + [field.name for field in keyfields.pack_lists()]  # exposed_to

DATA_FILES = (
    "keys.csv",
    "keys.xlsx",
    "bindings.csv",
    "grants.csv",
    "findings.csv",
    "attestations.csv",
    "policies.csv",
    "policy-reviews.csv",
    "evaluations.csv",
    "check-results.csv",
    "iac-scans.csv",
    "usage.csv",
    "pack.json",
)


def cell(value) -> str:
    """One CSV cell: ISO dates, lists joined with ";", mappings as JSON, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    return str(value)


def csv_cell(value) -> str:
    """A CSV cell: :func:`cell`, with text a spreadsheet would run as a formula (starting with =, +, -, @, a tab
    or a carriage return) prefixed with "'", as the inventory's own CSV export does. Numbers stay as they are."""
    text = cell(value)
    return spreadsheet_safe(text) if isinstance(value, str | list | tuple) else text


def jsonable(value):
    """A JSON-ready copy of ``value``: dataclasses, models (as their id and text), dates, decimals, enums."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Model):
        return {"id": value.pk, "text": str(value)}
    if isinstance(value, QuerySet):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass
class DataResult:
    entries: list[mf.FileEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    population: int = 0
    sample_ids: list[int] = field(default_factory=list)


def _csv_writer(path: Path):
    handle = path.open("w", newline="", encoding="utf-8")
    return handle, csv.writer(handle)


def _write_csv(
    path: Path, header: Iterable[str], rows: Iterable[Iterable], json_columns: frozenset[str] = frozenset()
) -> int:
    """Write one CSV data file; each row passes the export guard first (``ExportRefused`` stops the build)."""
    header = list(header)
    handle, writer = _csv_writer(path)
    count = 0
    with handle:
        writer.writerow(header)
        for row in rows:
            row = list(row)
            check_row(
                row, export=path.name, row=count + 2, columns=header, computed=COMPUTED, json_columns=json_columns
            )
            writer.writerow([csv_cell(value) for value in row])
            count += 1
    return count


def _batches(queryset: QuerySet, fields: list[str]) -> Iterator[list[dict]]:
    """Rows of ``queryset`` as lists of dicts, by primary-key ranges (no OFFSET, no server-side cursor needed)."""
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk").values(*fields)[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1]["pk"]


def _batched(queryset: QuerySet, fields: list[str]) -> Iterator[dict]:
    """Rows of ``queryset`` as dicts, by primary-key ranges (see :func:`_batches`)."""
    for batch in _batches(queryset, fields):
        yield from batch


def _xlsx_value(value):
    """A value for keys.xlsx: numbers as numbers, everything else as the CSV's text (ISO dates, lists joined with
    ";", labels as JSON), always a text cell, never a formula (:mod:`cek.xlsxstream`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return cell(value)


# keys.xlsx holds at most what one worksheet can: 1,048,576 rows, the header included. A larger population is
# complete in keys.csv only; keys.xlsx then stops at this many keys (the lowest ids) and pack.json says so.
XLSX_MAX_KEYS = xlsxstream.MAX_ROWS - 1
XLSX_NOTE = (
    "keys.xlsx holds the first {shown:,} keys by id, as many as one worksheet can hold; keys.csv holds all "
    "{population:,} keys of the population."
)


def _key_cells(values: list) -> tuple[list, list]:
    """One key's cells for keys.csv (:func:`csv_cell`) and keys.xlsx (:func:`_xlsx_value`), each value converted
    once: plain text, empty values and numbers directly (most of a million-key file), the rest as those do."""
    csv_row: list = []
    xlsx_row: list = []
    for value in values:
        kind = type(value)
        if kind is str:
            csv_row.append(spreadsheet_safe(value))
            xlsx_row.append(value)
        elif value is None:
            csv_row.append("")
            xlsx_row.append("")
        elif kind is int or kind is float:
            csv_row.append(str(value))
            xlsx_row.append(value)
        else:
            text = cell(value)
            csv_row.append(spreadsheet_safe(text) if isinstance(value, str | list | tuple) else text)
            xlsx_row.append(value if isinstance(value, int | float) and not isinstance(value, bool) else text)
    return csv_row, xlsx_row


@dataclass
class KeysWritten:
    population: int
    ids: list[int]
    xlsx_rows: int


def write_keys(pack: EvidencePack, directory: Path, progress: Progress | None = None) -> KeysWritten:
    """keys.csv and keys.xlsx: every key of the scope, whatever its state, ordered by id (keys.xlsx: the first
    :data:`XLSX_MAX_KEYS` of them; all of them up to that size).

    Both are written as the rows are read, in batches, each batch with the parties its keys are exposed to (one
    query of the batch's id range): memory does not grow with the population but for the list of ids (the
    sample is drawn from it). keys.xlsx is written by :mod:`cek.xlsxstream` (openpyxl's write-only mode took 85-90 %
    of a 100,000-key pack's time)."""
    keys = scoped_keys(pack)
    total = keys.count()
    through = Key.exposed_to.through.objects.order_by("key_id", "party__name")
    handle, writer = _csv_writer(directory / "keys.csv")
    ids: list[int] = []
    fields = [source for _, source in KEY_COLUMNS]
    with handle, xlsxstream.StreamingSheet(directory / "keys.xlsx", "keys", creator="cek evidence pack") as sheet:
        writer.writerow(KEY_HEADER)
        sheet.append(KEY_HEADER)
        for batch in _batches(keys, fields):
            exposed: dict[int, list[str]] = defaultdict(list)
            in_range = through.filter(key_id__gte=batch[0]["pk"], key_id__lte=batch[-1]["pk"])
            for key_id, party in in_range.values_list("key_id", "party__name"):
                exposed[key_id].append(party)
            for row in batch:
                values = [row[source] for source in fields]
                values.append(exposed.get(row["pk"], []))
                check_row(values, export="keys.csv", row=len(ids) + 2, columns=KEY_HEADER, computed=COMPUTED)
                csv_row, xlsx_row = _key_cells(values)
                writer.writerow(csv_row)
                if len(ids) < XLSX_MAX_KEYS:
                    sheet.append(xlsx_row)
                ids.append(row["pk"])
                if progress and len(ids) % (BATCH * 5) == 0:
                    progress(len(ids), total)
    # A build stopped mid-file (the export guard, a cancel) leaves no half workbook: StreamingSheet removes it.
    return KeysWritten(population=len(ids), ids=ids, xlsx_rows=min(len(ids), XLSX_MAX_KEYS))


def write_bindings(pack: EvidencePack, directory: Path) -> int:
    rows = Binding.objects.filter(key__in=scoped_keys(pack))
    fields = ["pk", "key_id", "key__name", "service__slug", "tenant__slug", "purpose__slug", "principal"]
    fields += ["operations", "notes", "created_at", "updated_at"]
    header = ["id", "key_id", "key", "service", "tenant", "purpose", "principal", "operations", "notes"]
    return _write_csv(
        directory / "bindings.csv",
        [*header, "created_at", "updated_at"],
        ([row[f] for f in fields] for row in _batched(rows, fields)),
    )


def write_grants(pack: EvidencePack, directory: Path) -> int:
    rows = AccessGrant.objects.filter(key__in=scoped_keys(pack))
    fields = ["pk", "key_id", "key__name", "principal_type", "principal", "operations", "justification"]
    fields += ["approver__username", "approved_on", "expires_on", "created_at", "updated_at"]
    header = ["id", "key_id", "key", "principal_type", "principal", "operations", "justification", "approver"]
    return _write_csv(
        directory / "grants.csv",
        [*header, "approved_on", "expires_on", "created_at", "updated_at"],
        ([row[f] for f in fields] for row in _batched(rows, fields)),
    )


def findings_in_window(pack: EvidencePack) -> QuerySet[Finding]:
    """Findings open at any point of the window: first seen before its end, not resolved before its start. A
    finding on a key counts when the key is in the pack's scope."""
    start, end = window_bounds(pack)
    findings = Finding.objects.filter(first_seen__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if pack.stores.exists() or pack.tenants.exists():
        findings = findings.exclude(Q(subject_type="inventory.key") & ~Q(subject_id__in=scoped_keys(pack).values("pk")))
    return findings


def write_findings(pack: EvidencePack, directory: Path) -> int:
    fields = ["pk", "rule", "subject_type", "subject_id", "subject_label", "severity", "status", "first_seen"]
    fields += ["last_seen", "resolved_at", "resolved_by__username", "accepted_until", "accepted_by__username"]
    fields += ["accepted_reason", "assigned_to__username", "remediation_due", "details"]
    header = ["id", *fields[1:10], "resolved_by", "accepted_until", "accepted_by", "accepted_reason"]
    header += ["assigned_to", "remediation_due", "details"]
    return _write_csv(
        directory / "findings.csv",
        header,
        ([row[f] for f in fields] for row in _batched(findings_in_window(pack), fields)),
    )


def write_attestations(pack: EvidencePack, directory: Path) -> int:
    """Attestations of the campaigns running during the window, on keys of the scope."""
    start, end = window_bounds(pack)
    rows = Attestation.objects.filter(key__in=scoped_keys(pack), campaign__launched_at__lt=end).filter(
        Q(campaign__closed_at__isnull=True) | Q(campaign__closed_at__gte=start)
    )
    fields = ["pk", "campaign_id", "campaign__name", "campaign__status", "key_id", "key__name"]
    fields += ["addressed_to__username", "status", "responded_by__username", "responded_at", "comment"]
    fields += ["statement_version", "statements_sha256"]
    header = ["id", "campaign_id", "campaign", "campaign_status", "key_id", "key", "addressed_to", "status"]
    header += ["responded_by", "responded_at", "comment", "statement_version", "statements_sha256"]
    return _write_csv(
        directory / "attestations.csv", header, ([row[f] for f in fields] for row in _batched(rows, fields))
    )


def write_policies(pack: EvidencePack, directory: Path) -> dict[str, int]:
    """Every policy version with its approval; the reviews and effectiveness evaluations of the window."""
    versions = PolicyVersion.objects.all()
    fields = ["pk", "policy_id", "policy__title", "policy__kind", "policy__owner__username", "label", "status"]
    fields += ["document_name", "document_sha256", "link", "approval__governance_body", "approval__approver__username"]
    fields += ["approval__approved_on", "approval__reference", "submitted_at", "superseded_at", "policy__retired_on"]
    fields += ["policy__next_review_due_on"]
    header = ["version_id", "policy_id", "policy", "kind", "owner", "version", "status", "document_name"]
    header += ["document_sha256", "link", "approved_by_body", "approver", "approved_on", "approval_reference"]
    header += ["submitted_at", "superseded_at", "policy_retired_on", "policy_next_review_due_on"]
    counts = {
        "policies.csv": _write_csv(
            directory / "policies.csv", header, ([row[f] for f in fields] for row in _batched(versions, fields))
        )
    }
    reviews = PolicyReview.objects.filter(reviewed_on__gte=pack.window_from, reviewed_on__lte=pack.window_to)
    fields = ["pk", "policy_id", "policy__title", "reviewed_on", "outcome", "reviewer__username", "notes"]
    counts["policy-reviews.csv"] = _write_csv(
        directory / "policy-reviews.csv",
        ["id", "policy_id", "policy", "reviewed_on", "outcome", "reviewer", "notes"],
        ([row[f] for f in fields] for row in _batched(reviews, fields)),
    )
    evaluations = EffectivenessEvaluation.objects.filter(
        performed_on__gte=pack.window_from, performed_on__lte=pack.window_to
    )
    policies_of: dict[int, list[str]] = defaultdict(list)
    through = EffectivenessEvaluation.policies.through.objects.filter(effectivenessevaluation__in=evaluations)
    for evaluation_id, title in through.values_list("effectivenessevaluation_id", "policy__title"):
        policies_of[evaluation_id].append(title)
    fields = ["pk", "kind", "title", "performed_on", "scope", "result", "findings", "performed_by__username"]
    fields += ["assessor"]
    counts["evaluations.csv"] = _write_csv(
        directory / "evaluations.csv",
        ["id", "kind", "title", "performed_on", "scope", "result", "findings", "performed_by", "assessor", "policies"],
        ([row[f] for f in fields] + [sorted(policies_of.get(row["pk"], []))] for row in _batched(evaluations, fields)),
    )
    return counts


def check_run_for(pack: EvidencePack) -> CheckRun | None:
    """The newest check run that finished by the end of the window."""
    _, end = window_bounds(pack)
    return (
        CheckRun.objects.filter(status=RunStatus.SUCCEEDED, finished_at__lt=end).order_by("-finished_at", "-pk").first()
    )


def write_check_results(pack: EvidencePack, directory: Path) -> tuple[int, CheckRun | None]:
    run = check_run_for(pack)
    rows = CheckResult.objects.filter(run=run).order_by("position", "pk") if run else CheckResult.objects.none()
    header = ["run_id", "run_finished_at", "guideline", "title", "status", "metric", "numerator", "denominator"]
    header += ["failing_count", "explanation", "evidence"]
    count = _write_csv(
        directory / "check-results.csv",
        header,
        (
            [
                run.pk,
                run.finished_at,
                r.guideline_id,
                r.details.get("title", ""),
                r.status,
                r.metric,
                r.numerator,
                r.denominator,
                r.failing_count,
                r.explanation,
                json.dumps(r.evidence, ensure_ascii=False),
            ]
            for r in rows
        ),
        json_columns=frozenset({"evidence"}),
    )
    return count, run


IAC_SCANS_HEADER = [
    "id",
    "recorded_at",
    "repository",
    "commit",
    "source",
    "input_sha256",
    "resources",
    "keys",
    "consumers",
    "matched_keys",
    "violations",
    "rules",
    "passed",
    "recorded_by",
    "software_version",
]


def write_iac_scans(pack: EvidencePack, directory: Path) -> int:
    """iac-scans.csv: every IaC scan recorded in the window (the whole organisation, as check runs are), in the
    order recorded, with the rules its violations break; the recorder by user name. The commit is git's short form (see
    ``evidence.packs.content.iac``); the violations' details stay in the app (the scan's page) and the findings."""
    start, end = window_bounds(pack)
    fields = ["pk", "recorded_at", "repository", "commit", "source", "input_sha256", "resources", "keys"]
    fields += ["consumers", "matched_keys", "violations_count", "violations", "passed", "recorded_by__username"]
    fields += ["software_version"]

    def rows():
        for row in _batched(scans_in_window(start, end), fields):
            violations = row["violations"] if isinstance(row["violations"], list) else []
            rules = sorted({str(item.get("rule", "")) for item in violations if isinstance(item, dict)} - {""})
            yield [
                row["pk"],
                row["recorded_at"],
                row["repository"],
                short_commit(row["commit"]),
                row["source"],
                row["input_sha256"],
                row["resources"],
                row["keys"],
                row["consumers"],
                row["matched_keys"],
                row["violations_count"],
                rules,
                row["passed"],
                row["recorded_by__username"],
                row["software_version"],
            ]

    return _write_csv(directory / "iac-scans.csv", IAC_SCANS_HEADER, rows())


def write_usage(pack: EvidencePack, directory: Path) -> int:
    """usage.csv: the key usage aggregates of the window and scope (``evidence.packs.content.usage``)."""
    return _write_csv(directory / USAGE_FILE, USAGE_HEADER, usage_rows(pack, _batched))


def pack_metadata(pack: EvidencePack) -> dict:
    return {
        "uid": str(pack.uid),
        "id": pack.pk,
        "organisation": organisation_name(pack),
        "window_from": pack.window_from.isoformat(),
        "window_to": pack.window_to.isoformat(),
        "party": pack.party.name,
        "scope": scope_label(pack),
        "stores": sorted(store.name for store in pack.stores.all()),
        "tenants": sorted(tenant.slug for tenant in pack.tenants.all()),
        "sample_size": pack.sample_size,
        "sample_seed": pack.sample_seed,
        "requested_by": pack.requested_by.get_username(),
        "requested_at": pack.requested_at.isoformat(),
    }


def write_data_files(
    pack: EvidencePack, content, directory: Path, *, generated_at: dt.datetime, progress: Progress | None = None
) -> DataResult:
    """Write every data file into ``directory`` (run inside the snapshot transaction). ``content`` is what the
    PDF shows (``evidence.packs.content.collect``); it goes into pack.json as it is."""
    result = DataResult()

    def keys_progress(done: int, total: int) -> None:
        if progress and total:
            progress(int(100 * done / total), f"writing keys.csv ({done:,} of {total:,} keys)")

    keys = write_keys(pack, directory, keys_progress)
    result.population, ids = keys.population, keys.ids
    result.counts["keys.csv"] = result.population
    result.counts["keys.xlsx"] = keys.xlsx_rows
    if progress:
        progress(100, "writing bindings, grants, findings and attestations")
    result.counts["bindings.csv"] = write_bindings(pack, directory)
    result.counts["grants.csv"] = write_grants(pack, directory)
    result.counts["findings.csv"] = write_findings(pack, directory)
    result.counts["attestations.csv"] = write_attestations(pack, directory)
    result.counts.update(write_policies(pack, directory))
    result.counts["check-results.csv"], run = write_check_results(pack, directory)
    result.counts["iac-scans.csv"] = write_iac_scans(pack, directory)
    result.counts[USAGE_FILE] = write_usage(pack, directory)
    result.sample_ids = sampling.draw_sample(ids, pack.sample_size, pack.sample_seed)
    document = {
        "format": mf.FORMAT,
        "pack": pack_metadata(pack),
        "generated_at": generated_at.isoformat(),
        "population": result.population,
        "files": {name: {"rows": count} for name, count in sorted(result.counts.items())},
        **(
            {"keys_xlsx_note": XLSX_NOTE.format(shown=keys.xlsx_rows, population=result.population)}
            if keys.xlsx_rows < result.population
            else {}
        ),
        "check_run": {"id": run.pk, "finished_at": run.finished_at.isoformat()} if run else None,
        "sample": {
            "seed": pack.sample_seed,
            "size": pack.sample_size,
            "drawn": len(result.sample_ids),
            "method": sampling.describe_method(pack.sample_seed, pack.sample_size),
            "method_name": sampling.METHOD_NAME,
            "python": platform.python_version(),
            "ids": result.sample_ids,
        },
        "content": jsonable(content),
    }
    check_tree(document, export="pack.json", computed=COMPUTED)  # what the PDF shows is in here too
    (directory / "pack.json").write_text(
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    result.entries = [mf.file_entry(directory / name) for name in DATA_FILES]
    return result
