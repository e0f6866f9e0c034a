"""The landing page: where the organisation stands on CEK-11 (GRC and auditors) or where a key owner's own keys
stand. The figures come from ``evidence.dashboard.selectors``; this view only turns them into links and charts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.generic import TemplateView

from cek import snapshot
from cek.roles import AnyRoleMixin, can_read_all, is_grc
from cek.templatetags.dates import words_datetime
from evidence.dashboard import charts
from evidence.dashboard.selectors import Dashboard, dashboard
from inventory.models import IN_USE_LABEL, IN_USE_STATES
from inventory.selectors import Bucket

SEVERITY_TONES = {"critical": "critical", "high": "bad", "medium": "warn", "low": "info"}
STATE_TONES = {
    "active": "ok",
    "pre-activation": "info",
    "suspended": "warn",
    "deactivated": "muted",
    "compromised": "bad",
    "destroyed": "muted",
}
COMPACT_BARS = {"width": 380, "label_width": 150}  # the narrower cards of the keys row
GUIDELINE_TONES = {"pass": "ok", "partial": "warn", "fail": "bad", "manual": "info", "na": "muted"}


def optional_reverse(name: str, *args) -> str:
    """The URL of a page that may not be installed (the answer and check-result pages); "" when it is not."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _url(name: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)}, doseq=True)
    return f"{reverse(name)}?{query}" if query else reverse(name)


def _keys_url(**params) -> str:
    return _url("inventory:key-list", **params)


def _findings_url(**params) -> str:
    return _url("evidence:finding-list", **params)


def _in_use_keys_url(**params) -> str:
    """The key list of the keys in use (active or suspended), as counted by ``KeyFigures.in_use``."""
    return _keys_url(state=IN_USE_STATES, **params)


def _purpose_link(bucket: Bucket) -> str:
    if bucket.value == "*":
        return _in_use_keys_url()
    if not bucket.value:
        return _in_use_keys_url(unassigned="true")
    return _in_use_keys_url(purpose=bucket.value)


def build_charts(board: Dashboard) -> dict:
    """The dashboard's SVG charts, each bar or slice linking to the list it counts."""
    severity = [
        charts.Datum(b.label, b.count, _findings_url(status="open", severity=b.value), SEVERITY_TONES[b.value])
        for b in board.findings.by_severity
    ]
    rules = [charts.Datum(b.label, b.count, _findings_url(status="open", rule=b.value)) for b in board.findings.by_rule]
    states = [
        charts.Datum(b.label, b.count, _keys_url(state=b.value), STATE_TONES.get(b.value, ""))
        for b in board.keys_by_state
    ]
    functions = [
        charts.Datum(
            b.label, b.in_use, _in_use_keys_url(function=b.value) if b.value else _in_use_keys_url(unassigned="true")
        )
        for b in board.keys_by_function
    ]
    purposes = [
        charts.Datum(b.label, b.in_use, _purpose_link(b), "ai" if b.ai else "accent") for b in board.keys_by_purpose
    ]
    built = {
        "severity": charts.donut_chart(severity, title="Open findings by severity", centre=str(board.findings.open)),
        "severity_legend": charts.legend(severity),
        "rules": charts.bar_chart(rules, title="Open findings by rule"),
        "states": charts.donut_chart(states, title="Keys by state", centre=str(board.keys.total)),
        "states_legend": charts.legend(states),
        "functions": charts.bar_chart(functions, title="Keys in use by cryptographic function", **COMPACT_BARS),
        "purposes": charts.bar_chart(purposes, title="Keys in use by purpose", **COMPACT_BARS),
    }
    if board.organisation:
        counts = board.guideline_counts
        guideline_data = [
            charts.Datum(label, counts.get(value, 0), "", GUIDELINE_TONES[value])
            for value, label in (
                ("pass", "Pass"),
                ("partial", "Partial"),
                ("fail", "Fail"),
                ("manual", "Manual"),
                ("na", "Not applicable"),
            )
        ]
        built["guidelines"] = charts.donut_chart(
            guideline_data,
            title="Guideline results of the latest run",
            centre=f"{counts.get('pass', 0)}/{len(board.guidelines)}",
        )
        built["guidelines_legend"] = charts.legend(guideline_data)
        top = max((p.total for p in board.trend), default=0) or None
        built["trend"] = charts.sparkline(
            [
                charts.Datum(
                    f"Check run of {words_datetime(p.when)}: passing guidelines",
                    p.passing,
                    optional_reverse("evidence:checkrun-detail", p.run_id),
                )
                for p in board.trend
            ],
            title="Passing guidelines over the last runs",
            maximum=top,
        )
        if board.campaign:
            built["campaign"] = charts.meter(
                board.campaign.answered, board.campaign.total, title="Attestations answered"
            )
    return built


CONTENT_TEMPLATE = "evidence/_dashboard_content.html"

# The pages of the failing subjects the guideline cards link to.
SUBJECT_PAGES = {"inventory.key": "inventory:key-detail", "evidence.iacscan": "evidence:iacscan-detail"}


class DashboardView(AnyRoleMixin, TemplateView):
    """GRC and auditors: the organisation's posture. Key owners: their keys, findings and attestations."""

    template_name = "evidence/dashboard.html"

    @staticmethod
    def prepare(board: Dashboard) -> None:
        """The links of the failing subjects and guideline results, and the charts: stored with the snapshot."""
        for g in board.guidelines:
            for subject in g.failing:
                subject_id = subject.get("id")
                url_name = SUBJECT_PAGES.get(subject.get("type"))
                subject["url"] = (
                    reverse(url_name, args=[subject_id]) if url_name and isinstance(subject_id, int) else ""
                )
            g.url = optional_reverse("evidence:checkresult-detail", g.result_id) or (
                optional_reverse("evidence:checkrun-detail", board.run.pk) if board.run else ""
            )
        board.charts = build_charts(board)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        can_edit = is_grc(user)
        scope = "organisation" if can_read_all(user) else "owner"

        def render() -> str:
            return render_to_string(CONTENT_TEMPLATE, self.content_context(user, today, can_edit), self.request)

        # The page's content is rendered once per user for each snapshot of the figures (the same generation: any
        # write to what they count renders it again), keyed by what the user may see and do.
        if snapshot.enabled():
            context["content"] = snapshot.cached(f"page:{user.pk}:{scope}:{int(can_edit)}", today, render)
        else:
            context["content"] = render()
        return context

    def content_context(self, user, today, can_edit: bool) -> dict:
        board = dashboard(user=user, today=today, prepare=self.prepare)
        return dict(
            board=board,
            charts=board.charts,
            can_edit=can_edit,
            answer_url=optional_reverse("evidence:answer-detail", board.answer.pk) if board.answer else "",
            answers_url=optional_reverse("evidence:answer-list"),
            run_url=optional_reverse("evidence:checkrun-detail", board.run.pk) if board.run else "",
            runs_url=optional_reverse("evidence:checkrun-list"),
            findings_open_url=_findings_url(status="open"),
            findings_expired_url=_findings_url(status="acceptance-expired"),
            findings_accepted_url=_findings_url(status="risk-accepted"),
            findings_late_url=_findings_url(status="open", sort="due"),
            expiring_url=_keys_url(state="active", ordering="cryptoperiod_ends_on"),
            in_use_url=_in_use_keys_url(),
            in_use_label=IN_USE_LABEL,
            iac_url=optional_reverse("evidence:iacscan-list"),
            usage_url=optional_reverse("evidence:usage-ingestion-list"),
        )
