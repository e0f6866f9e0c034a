"""The dashboard's figures, read from stored results and indexed aggregates in a fixed number of queries.

``dashboard(user=..., today=...)`` returns one ``Dashboard``. Nothing is evaluated per request: guideline
statuses come from the latest stored check run, findings and keys from grouped counts (one query each), policies
and campaigns from their own selectors. The key figures are ``inventory.selectors.key_breakdowns`` and the
campaign's progress ``evidence.campaigns.selectors.current_campaign``, the same the inventory overview, the
evidence pack and the CEK-11.1 answer read. What a user sees depends on their role:

- GRC and auditors get the organisation view: the CEK-11.1 answer, the guideline results and trend, every
  finding, key, policy, the current campaign and the IaC gate's coverage (AG-8's figures, computed now as the
  next check run will: ``evidence.iac.history.iac_coverage``) and the key usage from audit logs (AG-9: stores with
  fresh usage, keys in use with recorded use, unknown key references, failed calls: ``evidence.usage.figures``).
- A key owner gets the figures of the keys they own or back up, the findings on those keys and their pending
  attestations; the organisation-wide parts stay ``None`` (not merely hidden by the template).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Min, Q, Value, When
from django.utils import timezone

from cek import snapshot
from cek.control import load_control
from cek.roles import can_read_all
from evidence.campaigns.selectors import CampaignSummary, attestation_inbox, current_campaign
from evidence.checks import selectors as check_selectors
from evidence.findings.rules import rule_title
from evidence.findings.selectors import (
    SEVERITY_RANK,
    acceptance_current,
    acceptance_lapsed,
    effectively_open,
    findings_for,
)
from evidence.iac.history import IacCoverage, iac_coverage
from evidence.models import (
    AnswerStatus,
    CaiqAnswer,
    CheckResult,
    CheckRun,
    CheckStatus,
    Finding,
    Policy,
    Severity,
)
from evidence.policies import selectors as policy_selectors
from evidence.usage.figures import UsageFigures, usage_figures
from inventory.selectors import Bucket as InventoryBucket
from inventory.selectors import KeyFigures, key_breakdowns, keys_for

TREND_RUNS = 10
TOP_RULES = 8
TOP_PURPOSES = 8
OVERDUE_POLICIES_SHOWN = 5
FAILING_PREVIEW = 3
MY_FINDINGS_SHOWN = 6


@dataclass
class Bucket:
    """One bar or slice: ``value`` is what the URL filters on (a state, a purpose slug, a rule...)."""

    value: str
    label: str
    count: int
    ai: bool = False


@dataclass
class GuidelineStatus:
    guideline_id: str
    text: str
    status: str
    status_label: str
    metric: str
    failing_count: int
    failing: list[dict]  # the first few failing subjects (type, id, label, reason)
    result_id: int | None
    url: str = ""  # the result page, set by the view when that page is installed


@dataclass
class TrendPoint:
    run_id: int
    when: dt.datetime
    passing: int
    evaluated: int  # guidelines with a verdict (pass, partial or fail)
    total: int


@dataclass
class FindingFigures:
    open: int = 0  # including acceptances that have ended
    acceptance_expired: int = 0
    risk_accepted: int = 0
    remediation_late: int = 0
    by_severity: list[Bucket] = field(default_factory=list)  # every severity, critical first
    by_rule: list[Bucket] = field(default_factory=list)  # the rules with most open findings


@dataclass
class PendingAttestations:
    count: int
    next_due: dt.date | None


@dataclass
class Dashboard:
    today: dt.date
    organisation: bool  # True for the GRC / auditor view, False for a key owner's own view
    keys: KeyFigures
    keys_by_state: list[InventoryBucket]  # every key
    keys_by_function: list[InventoryBucket]  # the functions of keys in use (``in_use``), most first
    keys_by_purpose: list[InventoryBucket]  # the largest purposes of keys in use (``in_use``), then the others
    findings: FindingFigures
    pending: PendingAttestations
    # Organisation view only (None / empty for a key owner):
    answer: CaiqAnswer | None = None
    run: CheckRun | None = None
    guidelines: list[GuidelineStatus] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    policies: dict[str, int] | None = None
    policies_overdue: list[Policy] = field(default_factory=list)
    campaign: CampaignSummary | None = None
    iac: IacCoverage | None = None  # AG-8's figures, live: repositories scanned, covered, failing, stale
    usage: UsageFigures | None = None  # AG-9's usage coverage; its keys in use are ``keys.in_use``
    # Key owner view only: their findings needing attention, most severe first.
    my_findings: list[Finding] = field(default_factory=list)
    as_of: dt.datetime | None = None  # when these figures were computed (a snapshot: ``snapshot``)
    charts: dict = field(default_factory=dict)  # what the view drew from them, stored with the snapshot

    @property
    def guideline_counts(self) -> dict[str, int]:
        counts = {status: 0 for status in CheckStatus.values}
        for guideline in self.guidelines:
            counts[guideline.status] = counts.get(guideline.status, 0) + 1
        return counts


# --- Parts ----------------------------------------------------------------------------------------------------


def current_answer() -> CaiqAnswer | None:
    """The CEK-11.1 answer of the party that is us: the newest published one, else the newest draft (one query)."""
    return (
        CaiqAnswer.objects.filter(party__is_us=True, question_id="CEK-11.1")
        .select_related("party", "check_run", "published_by")
        .order_by(
            Case(When(status=AnswerStatus.PUBLISHED, then=Value(0)), default=Value(1), output_field=IntegerField()),
            F("published_at").desc(nulls_last=True),
            "-created_at",
            "-pk",
        )
        .first()
    )


def guideline_statuses(results: list[CheckResult]) -> list[GuidelineStatus]:
    control = load_control()
    texts = {g.id: g.text for g in control.auditing_guidelines}
    return [
        GuidelineStatus(
            guideline_id=r.guideline_id,
            text=texts.get(r.guideline_id, ""),
            status=r.status,
            status_label=r.get_status_display(),
            metric=r.metric,
            failing_count=r.failing_count,
            failing=[s for s in (r.failing or []) if isinstance(s, dict)][:FAILING_PREVIEW],
            result_id=r.pk,
        )
        for r in results
    ]


def check_trend(limit: int = TREND_RUNS) -> list[TrendPoint]:
    """Passing guidelines over the newest ``limit`` succeeded runs, oldest first (one query)."""
    points = []
    for run in reversed(check_selectors.trend(limit=limit)):
        counts = run.counts or {}
        evaluated = sum(int(counts.get(s, 0)) for s in (CheckStatus.PASS, CheckStatus.PARTIAL, CheckStatus.FAIL))
        total = sum(int(v) for v in counts.values() if isinstance(v, int))
        points.append(
            TrendPoint(run_id=run.pk, when=run.created_at, passing=run.passing, evaluated=evaluated, total=total)
        )
    return points


def in_use_ranked(buckets: list[InventoryBucket], *, top: int | None = None) -> list[InventoryBucket]:
    """The buckets that hold keys in use, most first; past ``top``, the rest summed into one "other" bucket
    (value "*") so the chart still adds up to every key in use."""
    ranked = sorted((b for b in buckets if b.in_use), key=lambda b: (-b.in_use, b.label))
    if top is None or len(ranked) <= top:
        return ranked
    rest = ranked[top:]
    other = InventoryBucket(
        "*", f"{len(rest)} other purposes", sum(b.count for b in rest), in_use=sum(b.in_use for b in rest)
    )
    return [*ranked[:top], other]


def finding_figures(findings, *, today: dt.date) -> FindingFigures:
    """Open findings by severity and by rule, acceptances current and ended, late remediations: one grouped
    query over (rule, severity, bucket)."""
    is_open = effectively_open(today)
    rows = (
        findings.filter(~Q(status="resolved"))
        .values("rule", "severity")
        .annotate(
            open=Count("pk", filter=is_open),
            lapsed=Count("pk", filter=acceptance_lapsed(today)),
            accepted=Count("pk", filter=acceptance_current(today)),
            late=Count("pk", filter=is_open & Q(remediation_due__lt=today)),
        )
        .order_by()
    )
    figures = FindingFigures()
    severities = {s: 0 for s in Severity.values}
    rules: dict[str, int] = {}
    for row in rows:
        figures.open += row["open"]
        figures.acceptance_expired += row["lapsed"]
        figures.risk_accepted += row["accepted"]
        figures.remediation_late += row["late"]
        severities[row["severity"]] = severities.get(row["severity"], 0) + row["open"]
        if row["open"]:
            rules[row["rule"]] = rules.get(row["rule"], 0) + row["open"]
    order = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    figures.by_severity = [Bucket(s.value, s.label, severities.get(s.value, 0)) for s in order]
    figures.by_rule = [
        Bucket(rule, rule_title(rule), n)
        for rule, n in sorted(rules.items(), key=lambda item: (-item[1], item[0]))[:TOP_RULES]
    ]
    return figures


def pending_attestations(user) -> PendingAttestations:
    """The attestations waiting for ``user``'s answer and the earliest due date among them (one query)."""
    figures = attestation_inbox(user=user).order_by().aggregate(count=Count("pk"), next_due=Min("campaign__due_on"))
    return PendingAttestations(count=figures["count"], next_due=figures["next_due"])


# --- The dashboard ----------------------------------------------------------------------------------------------


def dashboard(*, user, today: dt.date, prepare: Callable[[Dashboard], None] | None = None) -> Dashboard:
    """Everything the landing page shows for ``user``, from the stored snapshot of their view (organisation, or
    their own keys) when there is a current one (``cek.snapshot``): then no query at all. Computing
    a snapshot takes 13 queries for the organisation view, 4 for a key owner (plus one to read the user's roles if
    not read yet), whatever the number of keys, findings, runs or policies. ``prepare`` (the view's links and
    charts) runs on a new snapshot before it is stored."""

    def compute(own: bool = True) -> Dashboard:
        board = compute_dashboard(user=user, today=today, own=own)
        if prepare is not None:
            prepare(board)
        return board

    if not snapshot.enabled():
        return compute()
    if can_read_all(user):
        board = snapshot.cached("organisation", today, lambda: compute(own=False))
        # The organisation's figures are shared; the attestations waiting for this user are theirs.
        board.pending = snapshot.cached(f"pending:{user.pk}", today, lambda: pending_attestations(user))
        return board
    return snapshot.cached(f"owner:{user.pk}", today, compute)


def compute_dashboard(*, user, today: dt.date, own: bool = True) -> Dashboard:
    """The dashboard's figures computed now (``own=False``: without the user's pending attestations, which the
    organisation's shared snapshot leaves out)."""
    organisation = can_read_all(user)
    keys = keys_for(user)
    findings = findings_for(user)
    inventory = key_breakdowns(keys, today=today)
    board = Dashboard(
        today=today,
        organisation=organisation,
        keys=inventory.figures,
        keys_by_state=inventory.by_state,
        keys_by_function=in_use_ranked(inventory.by_function),
        keys_by_purpose=in_use_ranked(inventory.by_purpose, top=TOP_PURPOSES),
        findings=finding_figures(findings, today=today),
        pending=pending_attestations(user) if own else PendingAttestations(count=0, next_due=None),
        as_of=timezone.now(),
    )
    if organisation:
        run = check_selectors.latest_run()
        board.answer = current_answer()
        board.run = run
        board.guidelines = guideline_statuses(check_selectors.run_results(run)) if run else []
        board.trend = check_trend()
        board.policies = policy_selectors.policy_review_status_counts(today=today)
        board.policies_overdue = list(policy_selectors.policy_reviews_overdue(today=today)[:OVERDUE_POLICIES_SHOWN])
        board.campaign = current_campaign()
        board.iac = iac_coverage(now=timezone.now(), fresh_days=settings.CEK_IAC_FRESH_DAYS)
        board.usage = usage_figures(today=today)
    else:
        board.my_findings = list(
            findings.filter(effectively_open(today))
            .select_related("assigned_to")
            .annotate(severity_rank=SEVERITY_RANK)
            .order_by("severity_rank", "-last_seen", "-pk")[:MY_FINDINGS_SHOWN]
        )
    return board
