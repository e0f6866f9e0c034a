"""What an evidence pack shows: everything the PDF (and ``pack.json``) needs, read once from the database.

:func:`collect` returns a :class:`PackContent`, a tree of dataclasses holding plain values (text, numbers,
dates), never model instances, so the PDF template renders it without a query and the builder can serialise it
(``dataclasses.asdict`` with ``DjangoJSONEncoder``). It only reads; the builder runs it inside one
repeatable-read transaction so every figure comes from the same snapshot.

The key population can be large (100,000 keys and more): it is summarised with aggregate queries (GROUP BY in
the database); only its ids are read, to draw the sample. Lists that can grow with the population (findings,
purpose-mapping changes) are read up to ``CEK_PACK_PDF_MAX_ROWS`` rows plus one: a longer list is not put in
the PDF, which names the data file that holds it instead (:class:`Table`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from cek.control import load_control
from evidence.models import (
    AnswerStatus,
    Attestation,
    AttestationStatus,
    CaiqAnswer,
    Campaign,
    CampaignStatus,
    ChangeEvent,
    CheckResult,
    CheckRun,
    CheckStatus,
    EffectivenessEvaluation,
    EvidencePack,
    Finding,
    FindingStatus,
    Policy,
    PolicyReview,
    PolicyVersion,
    RunStatus,
    Severity,
    VersionStatus,
)
from evidence.packs.sample import describe_method, draw_sample
from evidence.packs.scope import organisation_name, scope_label, scoped_keys, window_bounds
from evidence.policies.selectors import version_coverage
from inventory.models import (
    AccessGrant,
    Binding,
    CryptoFunction,
    Key,
    KeyState,
    Party,
    Purpose,
    SsrmAssignment,
    SsrmLayer,
    SsrmRole,
)

DEFAULT_MAX_ROWS = 300
FAILING_SHOWN = 10  # failing subjects listed per guideline in the PDF; the count is always shown
PURPOSE_CHANGES_FILE = "pack.json (content.purpose_changes)"

Progress = Callable[[int, str], None]


def max_rows() -> int:
    """Tables longer than this go to the data files only (setting ``CEK_PACK_PDF_MAX_ROWS``, default 300)."""
    return int(getattr(settings, "CEK_PACK_PDF_MAX_ROWS", DEFAULT_MAX_ROWS))


def person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


# --- The tree ----------------------------------------------------------------------------------------------


@dataclass
class Table:
    """A list that may be too long for the PDF. ``rows`` is ``None`` when the list was not read (its data file
    holds it), or the full list when the data file is written from it (``pack.json``); either way a list of
    more than ``limit`` rows is not printed: the PDF names ``data_file`` instead."""

    total: int
    rows: list | None
    data_file: str
    limit: int = DEFAULT_MAX_ROWS

    @property
    def in_data_file_only(self) -> bool:
        return self.rows is None or self.total > self.limit


@dataclass
class Cover:
    organisation: str
    perspective: str  # the party whose point of view the pack takes
    perspective_roles: list[str]
    scope: str
    window_from: dt.date
    window_to: dt.date
    generated_at: dt.datetime
    generated_by: str
    pack_id: str
    catalog: str  # "CEK-11 (AICM 1.1.0)"


@dataclass
class SsrmLayerRow:
    layer: str
    name: str
    ownership: str
    label: str
    text: str
    holders: list[dict]  # {"party": ..., "role": ..., "role_label": ..., "responsibility": ..., "is_us": bool}
    keys: int  # keys of the population at this layer


@dataclass
class ControlSection:
    id: str
    version: str
    title: str
    domain: str
    specification: str
    implementation_guidelines: list[dict]  # {"id", "text"}
    ssrm: list[SsrmLayerRow]
    parties: list[dict]  # {"name", "roles": [...], "is_us"}
    attribution: str


@dataclass
class AnswerSection:
    question_id: str
    question_text: str
    party: str
    is_draft: bool
    answer: str
    answer_label: str
    generated_answer: str
    override_reason: str
    ownership: str
    implementation: str
    customer_responsibilities: str
    disclosures: list[dict]
    corrective_action: dict
    na_justification: str
    check_run_id: int | None
    created_at: dt.datetime
    created_by: str
    published_at: dt.datetime | None
    published_by: str
    sha256: str


@dataclass
class GuidelineRow:
    id: str
    kind: str
    text: str
    status: str  # CheckStatus value, "" when the run has no result for it
    status_label: str
    metric: str
    explanation: str
    evidence: list[dict]  # {"label", "url"?, "sha256"?}
    failing_count: int
    failing: list[dict]  # the first FAILING_SHOWN: {"label", "reason"}
    manual_note: str
    manual_by: str
    manual_at: dt.datetime | None


@dataclass
class GuidelineSection:
    run_id: int | None
    run_finished_at: dt.datetime | None
    run_trigger: str
    run_triggered_by: str
    keys_evaluated: int
    counts: dict
    rows: list[GuidelineRow]


@dataclass
class PolicySection:
    policies: list[dict]
    versions: list[dict]  # in force at some point in the window, with approval and acknowledgement coverage
    reviews: list[dict]
    evaluations: list[dict]
    changes: list[dict]


@dataclass
class CampaignRow:
    id: int
    name: str
    scope: str
    status: str
    status_label: str
    launched_at: dt.datetime | None
    due_on: dt.date
    closed_at: dt.datetime | None
    statement_version: str
    statements_sha256: str
    results_sha256: str
    total: int
    confirmed: int
    discrepancies: int
    pending: int

    @property
    def answered_percent(self) -> int:
        return (self.confirmed + self.discrepancies) * 100 // self.total if self.total else 0


@dataclass
class FindingSection:
    by_severity: list[dict]  # {"severity", "label", "count"}
    by_status: list[dict]  # {"status", "label", "count"}
    table: Table  # rows: dicts, see _finding_row


@dataclass
class Bucket:
    value: str
    label: str
    count: int
    active: int = 0


@dataclass
class InventorySection:
    total: int
    active: int
    unassigned: int  # keys without a purpose
    created_in_window: int
    by_purpose: list[Bucket]
    by_function: list[Bucket]
    by_state: list[Bucket]
    by_store: list[Bucket]
    by_layer: list[Bucket]


@dataclass
class SampledKey:
    id: int
    name: str
    kind: str
    algorithm: str
    size_bits: int | None
    store: str
    external_id: str
    tenant: str
    state: str
    ssrm_layer: str
    purpose: str
    purpose_function: str
    purpose_justification: str
    purpose_approver: str
    purpose_reviewed_on: dt.date | None
    owner: str
    backup_owner: str
    custodian: str
    created_on: dt.date | None
    activated_on: dt.date | None
    last_rotated_on: dt.date | None
    expires_on: dt.date | None
    rotation_period_days: int | None
    cryptoperiod_ends_on: dt.date | None
    labels: dict
    exposed_to: list[str]
    bindings: list[dict]
    grants: list[dict]


@dataclass
class SampleSection:
    seed: str
    size: int  # as requested
    population: int
    method: str
    ids: list[int]
    keys: list[SampledKey] | None  # None when more than max_rows were drawn (pack.json holds them)


@dataclass
class PackContent:
    cover: Cover
    control: ControlSection
    answer: AnswerSection | None
    guidelines: GuidelineSection
    policies: PolicySection
    campaigns: list[CampaignRow]
    findings: FindingSection
    inventory: InventorySection
    purpose_changes: Table  # rows: dicts, see _purpose_changes
    sample: SampleSection
    max_rows: int = DEFAULT_MAX_ROWS
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain data (dates and datetimes left as objects: serialise with ``DjangoJSONEncoder``)."""
        return dataclasses.asdict(self)


# --- Collection -------------------------------------------------------------------------------------------


def collect(pack: EvidencePack, *, progress: Progress | None = None) -> PackContent:
    """Read everything the pack shows. Only reads: the caller holds the snapshot (one repeatable-read
    transaction). ``progress(percent, phase)`` is called between sections (percent 0-100 of this step)."""

    def report(percent: int, phase: str) -> None:
        if progress is not None:
            progress(percent, phase)

    limit = max_rows()
    start, end = window_bounds(pack)
    keys = scoped_keys(pack)
    scoped = pack.stores.exists() or pack.tenants.exists()
    control = load_control()

    report(0, "Reading the control and its roles")
    cover = _cover(pack, control)
    inventory = _inventory(keys, start, end)
    control_section = _control(control, inventory)
    report(10, "Reading the CEK-11.1 answer")
    answer = _answer(pack, control)
    report(20, "Reading the check results")
    guidelines = _guidelines(control, end)
    report(35, "Reading policies, reviews and evaluations")
    policies = _policies(pack, start, end)
    report(50, "Reading attestation campaigns")
    campaigns = _campaigns(start, end)
    report(60, "Reading findings")
    findings = _findings(keys, start, end, scoped=scoped, limit=limit)
    report(70, "Reading purpose-mapping changes")
    changes = _purpose_changes(keys, start, end, limit)
    report(85, "Drawing the key sample")
    sample = _sample(pack, keys, limit)
    report(100, "Content read")
    notes = [
        "Key counts, bindings, grants and owners are as recorded when the pack was generated; the guideline "
        "results are those of the check run named in section 4.",
    ]
    if scoped:
        notes.append(
            "The pack's scope narrows the key population, the inventory summary, the findings about keys, the "
            "purpose-mapping changes and the sample. Check runs, policies and campaigns cover the whole "
            "organisation."
        )
    return PackContent(
        cover=cover,
        control=control_section,
        answer=answer,
        guidelines=guidelines,
        policies=policies,
        campaigns=campaigns,
        findings=findings,
        inventory=inventory,
        purpose_changes=changes,
        sample=sample,
        max_rows=limit,
        notes=notes,
    )


def _cover(pack: EvidencePack, control) -> Cover:
    return Cover(
        organisation=organisation_name(pack),
        perspective=pack.party.name,
        perspective_roles=pack.party.role_labels,
        scope=scope_label(pack),
        window_from=pack.window_from,
        window_to=pack.window_to,
        generated_at=timezone.now(),
        generated_by=person(pack.requested_by),
        pack_id=str(pack.uid),
        catalog=control.qualified_id,
    )


def _control(control, inventory: InventorySection) -> ControlSection:
    holders: dict[str, list[dict]] = {layer: [] for layer in SsrmLayer.values}
    for assignment in SsrmAssignment.objects.select_related("party").order_by("layer", "party__name", "role"):
        holders.setdefault(assignment.layer, []).append(
            {
                "party": assignment.party.name,
                "role": assignment.role,
                "role_label": SsrmRole(assignment.role).label if assignment.role in SsrmRole.values else "",
                "responsibility": assignment.responsibility,
                "is_us": assignment.party.is_us,
            }
        )
    keys_per_layer = {bucket.value: bucket.count for bucket in inventory.by_layer}
    return ControlSection(
        id=control.id,
        version=control.version,
        title=control.title,
        domain=f"{control.domain.id}: {control.domain.title}",
        specification=control.specification,
        implementation_guidelines=[{"id": g.id, "text": g.text} for g in control.implementation_guidelines],
        ssrm=[
            SsrmLayerRow(
                layer=row.layer,
                name=row.name,
                ownership=row.ownership,
                label=row.label,
                text=row.text,
                holders=holders.get(row.layer, []),
                keys=keys_per_layer.get(row.layer, 0),
            )
            for row in control.ssrm
        ],
        parties=[
            {"name": p.name, "roles": p.role_labels, "is_us": p.is_us} for p in Party.objects.order_by("-is_us", "name")
        ],
        attribution=control.attribution.text,
    )


def _answer(pack: EvidencePack, control) -> AnswerSection | None:
    answers = CaiqAnswer.objects.filter(party=pack.party).select_related("created_by", "published_by")
    answer = (
        answers.filter(status=AnswerStatus.PUBLISHED).order_by("-published_at", "-id").first()
        or answers.filter(status=AnswerStatus.DRAFT).order_by("-created_at", "-id").first()
    )
    if answer is None:
        return None
    try:
        question_text = control.question(answer.question_id).text
    except KeyError:
        question_text = ""
    return AnswerSection(
        question_id=answer.question_id,
        question_text=question_text,
        party=pack.party.name,
        is_draft=answer.status != AnswerStatus.PUBLISHED,
        answer=answer.answer,
        answer_label=answer.get_answer_display(),
        generated_answer=answer.generated_answer,
        override_reason=answer.override_reason,
        ownership=answer.ownership,
        implementation=answer.implementation,
        customer_responsibilities=answer.customer_responsibilities,
        disclosures=list(answer.disclosures or []),
        corrective_action=dict(answer.corrective_action or {}),
        na_justification=answer.na_justification,
        check_run_id=answer.check_run_id,
        created_at=answer.created_at,
        created_by=person(answer.created_by),
        published_at=answer.published_at,
        published_by=person(answer.published_by),
        sha256=answer.sha256,
    )


def _guidelines(control, end: dt.datetime) -> GuidelineSection:
    """The newest succeeded check run that finished before the end of the window."""
    run = (
        CheckRun.objects.filter(status=RunStatus.SUCCEEDED, finished_at__lt=end)
        .select_related("triggered_by")
        .order_by("-finished_at", "-id")
        .first()
    )
    results = {}
    if run is not None:
        results = {
            r.guideline_id: r
            for r in CheckResult.objects.filter(run=run).select_related(
                "manual_evidence", "manual_evidence__created_by"
            )
        }
    rows = []
    for guideline in control.auditing_guidelines:
        result = results.get(guideline.id)
        manual = result.manual_evidence if result is not None else None
        rows.append(
            GuidelineRow(
                id=guideline.id,
                kind=guideline.kind.label,
                text=guideline.text,
                status=result.status if result else "",
                status_label=result.get_status_display() if result else "Not evaluated",
                metric=result.metric if result else "",
                explanation=result.explanation if result else "",
                evidence=[_evidence_ref(item) for item in (result.evidence if result else [])],
                failing_count=result.failing_count if result else 0,
                failing=[
                    {"label": str(item.get("label", "")), "reason": str(item.get("reason", ""))}
                    for item in (result.failing if result else [])[:FAILING_SHOWN]
                    if isinstance(item, dict)
                ],
                manual_note=manual.note if manual else "",
                manual_by=person(manual.created_by) if manual else "",
                manual_at=manual.created_at if manual else None,
            )
        )
    return GuidelineSection(
        run_id=run.pk if run else None,
        run_finished_at=run.finished_at if run else None,
        run_trigger=run.get_trigger_display() if run else "",
        run_triggered_by=person(run.triggered_by) if run else "",
        keys_evaluated=run.keys_evaluated if run else 0,
        counts={status.label: int((run.counts or {}).get(status.value, 0)) for status in CheckStatus} if run else {},
        rows=rows,
    )


def _evidence_ref(item) -> dict:
    if not isinstance(item, dict):
        return {"label": str(item), "url": "", "sha256": ""}
    return {
        "label": str(item.get("label", "")),
        "url": str(item.get("url", "")),
        "sha256": str(item.get("sha256", "")),
    }


def _policies(pack: EvidencePack, start: dt.datetime, end: dt.datetime) -> PolicySection:
    first_day, last_day = pack.window_from, pack.window_to
    policies = [
        {
            "title": p.title,
            "kind": p.get_kind_display(),
            "owner": person(p.owner),
            "current_version": p.current_version.label if p.current_version else "",
            "next_review_due_on": p.next_review_due_on,
            "retired_on": p.retired_on,
            "areas": p.areas,
        }
        for p in Policy.objects.select_related("owner", "current_version").order_by("title")
    ]
    # In force at some point in the window: approved by its last day and not superseded before its first.
    versions = list(
        PolicyVersion.objects.filter(
            status__in=[VersionStatus.APPROVED, VersionStatus.SUPERSEDED], approval__approved_on__lte=last_day
        )
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gte=start))
        .select_related("policy", "approval", "approval__approver")
        .order_by("policy__title", "approval__approved_on", "id")
    )
    coverage = version_coverage(versions=versions)
    version_rows = []
    for version in versions:
        approval = version.approval
        cov = coverage.get(version.pk)
        version_rows.append(
            {
                "policy": version.policy.title,
                "label": version.label,
                "status": version.get_status_display(),
                "approved_on": approval.approved_on,
                "approved_in_window": first_day <= approval.approved_on <= last_day,
                "governance_body": approval.governance_body,
                "approver": person(approval.approver),
                "reference": approval.reference,
                "superseded_at": version.superseded_at,
                "document": version.document_name or version.link,
                "sha256": version.document_sha256,
                "recipients": cov.recipients if cov else 0,
                "acknowledged": cov.acknowledged if cov else 0,
                "coverage_percent": cov.percent if cov else None,
            }
        )
    reviews = [
        {
            "policy": r.policy.title,
            "reviewed_on": r.reviewed_on,
            "reviewer": person(r.reviewer),
            "outcome": r.get_outcome_display(),
            "notes": r.notes,
        }
        for r in PolicyReview.objects.filter(reviewed_on__range=(first_day, last_day))
        .select_related("policy", "reviewer")
        .order_by("reviewed_on", "id")
    ]
    evaluations = [
        {
            "title": e.title,
            "kind": e.get_kind_display(),
            "performed_on": e.performed_on,
            "performed_by": person(e.performed_by),
            "assessor": e.assessor,
            "result": e.get_result_display(),
            "result_value": e.result,
            "scope": e.scope,
            "findings": e.findings,
        }
        for e in EffectivenessEvaluation.objects.filter(performed_on__range=(first_day, last_day))
        .select_related("performed_by")
        .order_by("performed_on", "id")
    ]
    changes = [
        {
            "title": c.title,
            "kind": c.get_kind_display(),
            "occurred_on": c.occurred_on,
            "review_due_on": c.review_due_on,
        }
        for c in ChangeEvent.objects.filter(occurred_on__range=(first_day, last_day)).order_by("occurred_on", "id")
    ]
    return PolicySection(
        policies=policies, versions=version_rows, reviews=reviews, evaluations=evaluations, changes=changes
    )


def _campaigns(start: dt.datetime, end: dt.datetime) -> list[CampaignRow]:
    """Campaigns running at some point in the window (launched before its end, not closed before its start)."""
    campaigns = (
        Campaign.objects.exclude(status=CampaignStatus.DRAFT)
        .filter(launched_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .select_related("scope_store", "scope_purpose", "scope_tenant", "scope_service")
        .order_by("launched_at", "id")
    )
    counts = {
        row["campaign"]: row
        for row in Attestation.objects.filter(campaign__in=campaigns.values("pk"))
        .values("campaign")
        .annotate(
            total=Count("pk"),
            confirmed=Count("pk", filter=Q(status=AttestationStatus.CONFIRMED)),
            discrepancies=Count("pk", filter=Q(status=AttestationStatus.DISCREPANCY)),
            pending=Count("pk", filter=Q(status=AttestationStatus.PENDING)),
        )
        .order_by()
    }
    rows = []
    for campaign in campaigns:
        figures = counts.get(campaign.pk, {})
        rows.append(
            CampaignRow(
                id=campaign.pk,
                name=campaign.name,
                scope=campaign.scope_label(),
                status=campaign.status,
                status_label=campaign.get_status_display(),
                launched_at=campaign.launched_at,
                due_on=campaign.due_on,
                closed_at=campaign.closed_at,
                statement_version=campaign.statement_version,
                statements_sha256=campaign.statements_sha256,
                results_sha256=campaign.results_sha256,
                total=figures.get("total", 0),
                confirmed=figures.get("confirmed", 0),
                discrepancies=figures.get("discrepancies", 0),
                pending=figures.get("pending", 0),
            )
        )
    return rows


SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def _findings(keys, start: dt.datetime, end: dt.datetime, *, scoped: bool, limit: int) -> FindingSection:
    """Findings open at some point in the window: first seen before its end, not resolved before its start."""
    findings = Finding.objects.filter(first_seen__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if scoped:  # a finding about a key counts when the key is in scope; other findings always do
        findings = findings.filter(~Q(subject_type="inventory.key") | Q(subject_id__in=keys.values("pk")))
    by_severity = dict(findings.values_list("severity").annotate(n=Count("pk")).order_by())
    by_status = dict(findings.values_list("status").annotate(n=Count("pk")).order_by())
    total = sum(by_severity.values())
    rows = None
    if total <= limit:
        rows = [
            _finding_row(f)
            for f in findings.select_related("resolved_by", "accepted_by", "assigned_to").order_by("first_seen", "id")
        ]
    return FindingSection(
        by_severity=[
            {"severity": s.value, "label": s.label, "count": by_severity.get(s.value, 0)} for s in SEVERITY_ORDER
        ],
        by_status=[{"status": s.value, "label": s.label, "count": by_status.get(s.value, 0)} for s in FindingStatus],
        table=Table(total=total, rows=rows, data_file="findings.csv", limit=limit),
    )


def _finding_row(finding: Finding) -> dict:
    return {
        "id": finding.pk,
        "rule": finding.rule,
        "subject_type": finding.subject_type,
        "subject": finding.subject_label,
        "severity": finding.severity,
        "severity_label": finding.get_severity_display(),
        "status": finding.status,
        "status_label": finding.get_status_display(),
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "resolved_at": finding.resolved_at,
        "resolved_by": person(finding.resolved_by),
        "accepted_until": finding.accepted_until,
        "accepted_by": person(finding.accepted_by),
        "accepted_reason": finding.accepted_reason,
        "assigned_to": person(finding.assigned_to),
        "remediation_due": finding.remediation_due,
    }


def _buckets(rows, labels: dict, *, order: list | None = None) -> list[Bucket]:
    buckets = [
        Bucket(value=value or "", label=labels.get(value, value or "—"), count=count, active=active)
        for value, count, active in rows
    ]
    if order is not None:
        rank = {value: index for index, value in enumerate(order)}
        buckets.sort(key=lambda b: (rank.get(b.value, len(rank)), b.label))
    else:
        buckets.sort(key=lambda b: (-b.count, b.label))
    return buckets


def _grouped(keys, field_name: str) -> list[tuple]:
    return list(
        keys.order_by()
        .values_list(field_name)
        .annotate(n=Count("pk"), active=Count("pk", filter=Q(state=KeyState.ACTIVE)))
        .values_list(field_name, "n", "active")
    )


def _inventory(keys, start: dt.datetime, end: dt.datetime) -> InventorySection:
    """The population summarised by GROUP BY queries: nothing iterates over the keys in Python."""
    by_purpose_rows = list(
        keys.order_by()
        .values_list("purpose__slug", "purpose__name")
        .annotate(n=Count("pk"), active=Count("pk", filter=Q(state=KeyState.ACTIVE)))
        .values_list("purpose__slug", "purpose__name", "n", "active")
    )
    by_purpose = sorted(
        (
            Bucket(value=slug or "", label=name or "Purpose unassigned", count=n, active=active)
            for slug, name, n, active in by_purpose_rows
        ),
        key=lambda b: (-b.count, b.label),
    )
    function_labels = dict(CryptoFunction.choices) | {None: "Purpose unassigned"}
    by_function = _buckets(_grouped(keys, "purpose__function"), function_labels)
    by_state = _buckets(_grouped(keys, "state"), dict(KeyState.choices), order=KeyState.values)
    by_store = sorted(
        (
            Bucket(value=str(kind), label=name, count=n, active=active)
            for name, kind, n, active in keys.order_by()
            .values_list("store__name", "store__kind")
            .annotate(n=Count("pk"), active=Count("pk", filter=Q(state=KeyState.ACTIVE)))
            .values_list("store__name", "store__kind", "n", "active")
        ),
        key=lambda b: (-b.count, b.label),
    )
    by_layer = _buckets(_grouped(keys, "ssrm_layer"), dict(SsrmLayer.choices), order=SsrmLayer.values)
    totals = keys.order_by().aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(state=KeyState.ACTIVE)),
        unassigned=Count("pk", filter=Q(purpose__isnull=True)),
        created=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
    )
    return InventorySection(
        total=totals["total"],
        active=totals["active"],
        unassigned=totals["unassigned"],
        created_in_window=totals["created"],
        by_purpose=by_purpose,
        by_function=by_function,
        by_state=by_state,
        by_store=by_store,
        by_layer=by_layer,
    )


def _purpose_changes(keys, start: dt.datetime, end: dt.datetime, limit: int) -> Table:
    """History rows of keys whose purpose differs from the key's previous history row, dated in the window.

    Only updates ("~" rows) can change a mapping. Two plain queries: the update rows in the window, then the
    history of just those keys up to the window end (to find each row's predecessor). A single query with
    correlated subqueries is costed so high on a large history table that PostgreSQL JIT-compiles it, which
    alone took seconds; these two stay cheap, and they read change events, never the population."""
    history = Key.history.model
    updates = history.objects.filter(
        history_type="~", history_date__gte=start, history_date__lt=end, id__in=keys.values("pk")
    )
    candidates = list(
        updates.order_by("history_date", "history_id").values(
            "history_id",
            "id",
            "name",
            "history_date",
            "history_user__username",
            "history_user__first_name",
            "history_user__last_name",
            "history_change_reason",
            "purpose_id",
            "purpose_justification",
        )
    )
    previous: dict[int, tuple[bool, int | None]] = {}  # history_id -> (has a predecessor, its purpose)
    if candidates:
        last: dict[int, int | None] = {}
        wanted = {row["history_id"] for row in candidates}
        for key_id, history_id, purpose_id in (
            history.objects.filter(id__in=updates.values("id"), history_date__lt=end)
            .order_by("id", "history_date", "history_id")
            .values_list("id", "history_id", "purpose_id")
            .iterator(chunk_size=5000)
        ):
            if history_id in wanted:
                previous[history_id] = (key_id in last, last.get(key_id))
            last[key_id] = purpose_id
    # Every change is kept (pack.json carries the full list); the PDF prints it up to the limit.
    names = dict(Purpose.objects.values_list("pk", "name"))
    result = []
    for row in candidates:
        has_previous, previous_purpose = previous.get(row["history_id"], (False, None))
        if not has_previous or previous_purpose == row["purpose_id"]:
            continue
        full_name = f"{row['history_user__first_name'] or ''} {row['history_user__last_name'] or ''}".strip()
        result.append(
            {
                "key_id": row["id"],
                "key": row["name"],
                "at": row["history_date"],
                "by": full_name or row["history_user__username"] or "",
                "from": names.get(previous_purpose, "Purpose unassigned"),
                "to": names.get(row["purpose_id"], "Purpose unassigned"),
                "reason": row["history_change_reason"] or "",
                "justification": row["purpose_justification"],
            }
        )
    return Table(total=len(result), rows=result, data_file=PURPOSE_CHANGES_FILE, limit=limit)


def _sample(pack: EvidencePack, keys, limit: int) -> SampleSection:
    population = list(keys.order_by("pk").values_list("pk", flat=True))
    ids = draw_sample(population, pack.sample_size, pack.sample_seed)
    records = None
    if len(ids) <= limit:
        records = sampled_keys(ids)
    return SampleSection(
        seed=pack.sample_seed,
        size=pack.sample_size,
        population=len(population),
        method=describe_method(pack.sample_seed, pack.sample_size),
        ids=ids,
        keys=records,
    )


def sampled_keys(ids: list[int]) -> list[SampledKey]:
    """The full record of each key in ``ids`` (in that order), in a fixed number of queries."""
    keys = {
        key.pk: key
        for key in Key.objects.filter(pk__in=ids)
        .select_related("store", "tenant", "purpose", "purpose_approver", "owner", "backup_owner", "custodian")
        .prefetch_related("exposed_to")
    }
    bindings: dict[int, list[dict]] = {pk: [] for pk in ids}
    for b in (
        Binding.objects.filter(key_id__in=ids)
        .select_related("service", "tenant", "purpose")
        .order_by("service__name", "id")
    ):
        bindings[b.key_id].append(
            {
                "service": b.service.name,
                "tenant": b.tenant.name if b.tenant else "",
                "purpose": b.purpose.name,
                "principal": b.principal,
                "operations": ", ".join(b.operations or []),
            }
        )
    grants: dict[int, list[dict]] = {pk: [] for pk in ids}
    for g in AccessGrant.objects.filter(key_id__in=ids).select_related("approver").order_by("principal", "id"):
        grants[g.key_id].append(
            {
                "principal_type": g.get_principal_type_display(),
                "principal": g.principal,
                "operations": ", ".join(g.operations or []),
                "justification": g.justification,
                "approver": person(g.approver),
                "approved_on": g.approved_on,
                "expires_on": g.expires_on,
            }
        )
    records = []
    for pk in ids:
        key = keys.get(pk)
        if key is None:
            continue
        records.append(
            SampledKey(
                id=key.pk,
                name=key.name,
                kind=key.get_kind_display(),
                algorithm=key.algorithm,
                size_bits=key.size_bits,
                store=key.store.name,
                external_id=key.external_id,
                tenant=key.tenant.name if key.tenant else "",
                state=key.get_state_display(),
                ssrm_layer=key.get_ssrm_layer_display(),
                purpose=key.purpose.name if key.purpose else "Purpose unassigned",
                purpose_function=key.purpose.get_function_display() if key.purpose else "",
                purpose_justification=key.purpose_justification,
                purpose_approver=person(key.purpose_approver),
                purpose_reviewed_on=key.purpose_reviewed_on,
                owner=person(key.owner),
                backup_owner=person(key.backup_owner),
                custodian=key.custodian.name if key.custodian else "",
                created_on=key.created_on,
                activated_on=key.activated_on,
                last_rotated_on=key.last_rotated_on,
                expires_on=key.expires_on,
                rotation_period_days=key.rotation_period_days,
                cryptoperiod_ends_on=key.cryptoperiod_ends_on,
                labels=dict(key.labels or {}),
                exposed_to=[party.name for party in key.exposed_to.all()],
                bindings=bindings.get(pk, []),
                grants=grants.get(pk, []),
            )
        )
    return records
