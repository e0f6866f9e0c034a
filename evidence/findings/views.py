"""The findings pages: the list (filtered and ordered through the URL, paginated, a fixed number of queries) and a
finding's page (subject, evidence, history) with GRC's judgements: assign with a remediation date, resolve, or
accept the risk until a date. Auditors read everything; key owners read the findings on their keys."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.views import View
from django.views.generic import DetailView, ListView

from cek.history import LabelledEntry, history_entries
from cek.pages import LenientPages, errors_to_form
from cek.people import person_name
from cek.roles import AnyRoleMixin, GrcRequiredMixin, can_read_all, is_grc
from cek.templatetags.dates import words_date, words_datetime
from evidence.findings import selectors, services
from evidence.findings.forms import AcceptRiskForm, AssignForm, ResolveForm
from evidence.findings.selectors import subject_url
from evidence.models import Finding, FindingStatus, Severity

# --- Evidence: the details JSON, readable ------------------------------------------------------------------


@dataclass
class DetailRow:
    label: str
    value: str
    depth: int


def _label(name) -> str:
    text = str(name).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text else "—"


def _scalar(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _readable_moment(value)
    return str(value)


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _readable_moment(text: str) -> str:
    """An ISO date or timestamp the observer stored (``2026-12-05T23:49:03.903755+00:00``) as a person reads it, in
    local time (``5 Dec 2026 23:49``); any other text as it is."""
    if ISO_DATE.fullmatch(text):
        day = parse_date(text)
        return date_format(day, "j M Y") if day else text
    if ISO_DATETIME.fullmatch(text):
        moment = parse_datetime(text)
        if moment is None:
            return text
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return words_datetime(moment)
    return text


def readable_details(value, *, depth: int = 0, label: str = "") -> list[DetailRow]:
    """The finding's ``details`` as indented rows: a dict gives one row per entry, a list of plain values one
    comma-separated row, a list of objects one numbered group per object."""
    rows: list[DetailRow] = []
    if isinstance(value, dict):
        if label:
            rows.append(DetailRow(label, "", depth))
            depth += 1
        for name, item in value.items():
            rows += readable_details(item, depth=depth, label=_label(name))
        return rows
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return [DetailRow(label or "Values", ", ".join(_scalar(v) for v in value) or "—", depth)]
        rows.append(DetailRow(label or "Items", f"{len(value)} item{'s' if len(value) != 1 else ''}", depth))
        for index, item in enumerate(value, start=1):
            rows += readable_details(item, depth=depth + 1, label=f"#{index}")
        return rows
    return [DetailRow(label or "Value", _scalar(value), depth)]


# --- List ------------------------------------------------------------------------------------------------------


class FindingListView(LenientPages, AnyRoleMixin, ListView):
    template_name = "evidence/finding_list.html"
    context_object_name = "findings"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        self.today = timezone.localdate()
        self.filters = selectors.FindingFilters.from_query(self.request.GET)
        for name, label in (("severity", "Severity"), ("status", "Status"), ("key", "Key"), ("sort", "Sort")):
            given = (self.request.GET.get(name) or "").strip()
            if given and getattr(self.filters, name) in ("", None):
                self.refuse_filter(name, label, given)
        return selectors.finding_list(user=self.request.user, filters=self.filters, today=self.today)

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(
            filters=self.filters,
            filtered=self.filters.active,
            choices=selectors.finding_filter_choices(user=user, filters=self.filters),
            severities=Severity.choices,
            statuses=[(value, label) for value, (label, _q) in selectors.STATUS_FILTERS.items()],
            orderings=[(value, label) for value, (label, _o) in selectors.ORDERINGS.items()],
            today=self.today,
            can_edit=is_grc(user),
            organisation=can_read_all(user),
            **kwargs,
        )
        for finding in context["findings"]:
            finding.subject_url = subject_url(finding)
        return context


# --- A finding's page ----------------------------------------------------------------------------------------


class FindingPageMixin:
    """What a finding's page shows, for the detail view and for the actions that re-render it with errors."""

    template_name = "evidence/finding_detail.html"

    def finding_context(self, finding: Finding, **forms_) -> dict:
        user = self.request.user
        today = timezone.localdate()
        can_edit = is_grc(user)
        context = {
            "finding": finding,
            "today": today,
            "can_edit": can_edit,
            "key": selectors.finding_subject_key(finding),
            "subject_url": subject_url(finding),
            "detail_rows": readable_details(finding.details or {}),
            # Each run refreshes the sighting and its details: the history shows the judgements, not that churn.
            "history": [
                LabelledEntry("Finding", entry)
                for entry in history_entries(finding, exclude=("details", "last_seen", "subject_label"))
            ],
            "resolved": finding.status == FindingStatus.RESOLVED,
        }
        if can_edit:
            context["assign_form"] = forms_.get("assign_form") or AssignForm(
                initial={"assigned_to": finding.assigned_to_id, "remediation_due": finding.remediation_due}
            )
            context["accept_form"] = forms_.get("accept_form") or AcceptRiskForm(
                initial={"until": today + dt.timedelta(days=90)}
            )
            context["resolve_form"] = forms_.get("resolve_form") or ResolveForm()
        return context


class FindingDetailView(AnyRoleMixin, FindingPageMixin, DetailView):
    context_object_name = "finding"

    def get_queryset(self):
        return selectors.finding_detail(user=self.request.user, today=timezone.localdate())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.finding_context(self.object))
        return context


class FindingActionView(GrcRequiredMixin, FindingPageMixin, View):
    """POST only (GRC): assign, resolve or accept the risk; a refused input re-renders the page with the form's
    errors (nothing saved), a success redirects to the finding."""

    action = ""
    forms_by_action = {
        "assign": ("assign_form", AssignForm),
        "resolve": ("resolve_form", ResolveForm),
        "accept": ("accept_form", AcceptRiskForm),
    }

    def post(self, request, pk):
        finding = get_object_or_404(selectors.finding_detail(user=request.user, today=timezone.localdate()), pk=pk)
        name, form_class = self.forms_by_action[self.action]
        form = form_class(request.POST)
        if form.is_valid():
            try:
                message = self.perform(finding, form.cleaned_data)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(finding.get_absolute_url())
        problems = " ".join(form.non_field_errors()) or "correct the fields marked below."
        messages.error(request, f"Nothing was changed: {problems}")
        return TemplateResponse(request, self.template_name, self.finding_context(finding, **{name: form}), status=400)

    def perform(self, finding: Finding, data: dict) -> str:
        actor = self.request.user
        if self.action == "assign":
            services.finding_assign(
                finding=finding, actor=actor, assignee=data["assigned_to"], remediation_due=data["remediation_due"]
            )
            return f"Assigned to {person_name(data['assigned_to'])}, remediation due {words_date(data['remediation_due'])}."
        if self.action == "resolve":
            services.finding_resolve(finding=finding, actor=actor, note=data["note"])
            return "Finding resolved; it reopens if its rule sees the subject again."
        services.finding_accept_risk(finding=finding, actor=actor, until=data["until"], reason=data["reason"])
        return f"Risk accepted until {words_date(data['until'])}, approved by you."
