"""Check runs of the auditing guidelines: the run list (GRC starts a run), a run's results, one guideline's
result (failing subjects, evidence, manual evidence), retrying a failed run and the manual evidence documents.
GRC and auditors read; GRC runs and retries and records manual evidence (auditors change nothing)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.views import View
from django.views.generic import DetailView, ListView

from cek.control import load_control
from cek.jobs.status import live_progress
from cek.pages import LenientPages, errors_to_form
from cek.roles import GrcRequiredMixin, ReadAllMixin, is_grc
from evidence.checks import registry, selectors, services
from evidence.checks.forms import ManualEvidenceForm
from evidence.models import CheckResult, CheckRun, CheckStatus, RunStatus, RunTrigger

SUBJECT_URLS = {
    "inventory.key": "inventory:key-detail",
    "inventory.binding": "inventory:binding-detail",
    "inventory.accessgrant": "inventory:grant-detail",
    "inventory.keystore": "inventory:keystore-detail",
    "evidence.policy": "evidence:policy-detail",
    "evidence.iacscan": "evidence:iacscan-detail",
}


def guideline_texts() -> dict[str, str]:
    return {g.id: g.text for g in load_control().auditing_guidelines}


def run_summary(run: CheckRun) -> list[tuple[str, str, int]]:
    """(status, label, count) in a fixed order, for the badges of a run."""
    return [
        (status, label, run.counts.get(status, 0)) for status, label in CheckStatus.choices if run.counts.get(status)
    ]


class CheckRunListView(LenientPages, ReadAllMixin, ListView):
    template_name = "evidence/checkrun_list.html"
    context_object_name = "runs"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        return selectors.runs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for run in context["runs"]:
            run.summary = run_summary(run)
        context.update(can_run=is_grc(self.request.user), active_run=selectors.run_active())
        return context


class CheckRunStartView(GrcRequiredMixin, View):
    def post(self, request):
        try:
            run = services.check_run_start(trigger=RunTrigger.UI, actor=request.user)
        except services.CheckRunError as exc:
            messages.error(request, str(exc))
            busy = getattr(exc, "run", None)  # another run in progress: show it
            return HttpResponseRedirect(busy.get_absolute_url() if busy else reverse("evidence:checkrun-list"))
        _announce(request, run)
        return HttpResponseRedirect(run.get_absolute_url())


def _announce(request, run: CheckRun) -> None:
    if run.status == RunStatus.SUCCEEDED:
        summary = ", ".join(f"{count} {label.lower()}" for _, label, count in run_summary(run))
        messages.success(request, f"{run.title} finished: {summary}.")
    elif run.status == RunStatus.FAILED:
        messages.error(request, f"{run.title} failed: {run.last_error}")
    else:
        messages.info(request, f"{run.title} is queued on a worker; this page refreshes until it is done.")


class CheckRunDetailView(ReadAllMixin, DetailView):
    template_name = "evidence/checkrun_detail.html"
    context_object_name = "run"

    def get_queryset(self):
        return selectors.runs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        texts = guideline_texts()
        results = selectors.run_results(run)
        for result in results:
            result.guideline_text = texts.get(result.guideline_id, "")
            result.title = result.details.get("title", "")
        live = live_progress(run)
        context.update(
            results=results,
            summary=run_summary(run),
            in_progress=run.status in CheckRun.job.active,
            percent=live["percent"],
            phase=live["phase"],
            can_run=is_grc(self.request.user),
        )
        return context


class CheckRunRetryView(GrcRequiredMixin, View):
    def post(self, request, pk: int):
        run = get_object_or_404(CheckRun, pk=pk)
        try:
            new_run = services.check_run_retry(run=run, actor=request.user)
        except (ValidationError, services.CheckRunError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return HttpResponseRedirect(run.get_absolute_url())
        _announce(request, new_run)
        return HttpResponseRedirect(new_run.get_absolute_url())


class CheckResultDetailView(ReadAllMixin, DetailView):
    template_name = "evidence/checkresult_detail.html"
    context_object_name = "result"
    form: ManualEvidenceForm | None = None

    def get_queryset(self):
        return CheckResult.objects.select_related("run", "run__triggered_by", "manual_evidence__created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        result = self.object
        check = registry.BY_GUIDELINE.get(result.guideline_id)
        page = Paginator(result.failing, settings.CEK_PAGE_SIZE).get_page(self.request.GET.get("page"))
        for subject in page.object_list:
            subject["url"] = _subject_url(subject)
        manual = check is not None and check.accepts_manual_evidence
        can_record = manual and is_grc(self.request.user)
        context.update(
            guideline_text=guideline_texts().get(result.guideline_id, ""),
            title=result.details.get("title", ""),
            rule=result.details.get("rule", ""),
            severity=result.details.get("severity", ""),
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.paginator.num_pages > 1,
            failing_kept=len(result.failing),
            manual=manual,
            manual_evidence=list(selectors.manual_evidence_for(result.guideline_id)[:20]) if manual else [],
            can_record=can_record,
            form=self.form or (ManualEvidenceForm() if can_record else None),
            is_latest=selectors.latest_run() == result.run,
        )
        return context


def _subject_url(subject: dict) -> str:
    name = SUBJECT_URLS.get(subject.get("type", ""))
    if not name:
        return ""
    try:
        return reverse(name, args=[subject["id"]])
    except (NoReverseMatch, KeyError):
        return ""


class CheckManualEvidenceView(GrcRequiredMixin, View):
    """GRC records manual evidence from a manual guideline's result page."""

    def post(self, request, pk: int):
        result = get_object_or_404(CheckResult.objects.select_related("run"), pk=pk)
        if result.guideline_id not in registry.MANUAL_GUIDELINES:
            messages.error(request, f"{result.guideline_id} is evaluated from the data; it takes no manual evidence.")
            return HttpResponseRedirect(reverse("evidence:checkresult-detail", args=[result.pk]))
        form = ManualEvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.manual_evidence_add(
                    guideline_id=result.guideline_id,
                    note=form.cleaned_data["note"],
                    assessment=form.cleaned_data["assessment"],
                    document=form.cleaned_data["document"],
                    actor=request.user,
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    f"Evidence for {result.guideline_id} recorded; the next check run shows it with the result.",
                )
                return HttpResponseRedirect(reverse("evidence:checkresult-detail", args=[result.pk]))
        view = CheckResultDetailView(request=request, kwargs={"pk": pk}, args=())
        view.form = form
        view.object = result
        response = view.render_to_response(view.get_context_data(object=result))
        response.status_code = 200
        return response


class CheckManualEvidenceDocumentView(ReadAllMixin, View):
    def get(self, request, pk: int):
        evidence = get_object_or_404(selectors.manual_evidence_for_any(), pk=pk)
        if not evidence.document:
            raise Http404("This evidence has no document.")
        try:
            handle = evidence.document.open("rb")
        except FileNotFoundError:
            raise Http404("The document file is missing from storage; tell an administrator.") from None
        return FileResponse(handle, as_attachment=True, filename=evidence.document_name or "evidence")
