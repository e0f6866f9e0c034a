"""The IaC scans pages: the repositories with their last scan (filter ``?verdict=pass|fail``), one repository's
scans newest first with its violations over time, and one scan with its violations. GRC and auditors read; scans
are recorded by ``manage.py check_iac --record`` only."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views.generic import DetailView, ListView

from cek.pages import LenientPages
from cek.roles import ReadAllMixin
from evidence.iac import history
from evidence.iac.result import RULES


class IacRepositoryListView(LenientPages, ReadAllMixin, ListView):
    template_name = "evidence/iacscan_list.html"
    context_object_name = "scans"
    paginate_by = settings.CEK_PAGE_SIZE

    def verdict(self) -> str:
        return self.choice_param("verdict", "Last verdict", history.VERDICTS)

    def get_queryset(self):
        return history.last_scans(verdict=self.verdict())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(verdict=self.verdict(), any_scan=history.scans().exists())
        return context


class IacRepositoryDetailView(LenientPages, ReadAllMixin, ListView):
    template_name = "evidence/iacscan_repository.html"
    context_object_name = "scans"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        self.repository = self.kwargs["repository"]
        scans = history.repository_scans(self.repository)
        if not scans.exists():
            raise Http404("No IaC scan of this repository.")
        return scans

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = list(context["scans"])
        most = max((scan.violations_count for scan in page), default=0)
        context.update(repository=self.repository, max_violations=max(most, 1), last_scan=page[0] if page else None)
        return context


class IacScanDetailView(ReadAllMixin, DetailView):
    template_name = "evidence/iacscan_detail.html"
    context_object_name = "scan"

    def get_queryset(self):
        return history.scans()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        violations = [v for v in self.object.violations if isinstance(v, dict)]
        for violation in violations:
            consumers = violation.get("consumers")
            violation["consumer_list"] = (
                [c for c in consumers if isinstance(c, dict)] if isinstance(consumers, list) else []
            )
            violation["description"] = RULES.get(violation.get("rule", ""), ("", ""))[0]
        rules = sorted({str(v.get("rule", "")) for v in violations if v.get("rule")})
        context.update(violation_list=violations, rules=rules)
        return context
