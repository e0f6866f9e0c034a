"""Evidence packs: the list, requesting one (built by a worker), its page with a live progress bar, its JSON
status, cancel and retry, the logged download, and the page where an auditor uploads a pack to verify it.

GRC and auditors use every page (an auditor cancels or retries only the packs they requested); key owners and
anyone else get 403.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from cek.jobs.status import live_progress as job_live_progress
from cek.jobs.views import JobStatusView
from cek.pages import LenientPages, errors_to_form
from cek.roles import ReadAllMixin
from evidence.models import EvidencePack, PackStatus
from evidence.packs import jobs, signing
from evidence.packs import selectors as pack_selectors
from evidence.packs.forms import PackRequestForm, PackVerifyForm
from evidence.packs.models import may_manage
from evidence.packs.scope import scope_label
from evidence.packs.verify import verify_pack_file

DOWNLOADS_SHOWN = 50


def live_progress(pack: EvidencePack) -> tuple[int, str]:
    """(percent, phase) of a pack: while it builds, the worker's latest report when it is newer than the row's."""
    live = job_live_progress(pack)
    return live["percent"], live["phase"]


class PackListView(LenientPages, ReadAllMixin, ListView):
    template_name = "evidence/pack_list.html"
    context_object_name = "packs"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        jobs.packs_watchdog_soon()  # stalled or lost jobs are settled even without beat
        return pack_selectors.packs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for pack in context["packs"]:
            pack.scope = scope_label(pack)
        context["signing_key"] = signing.app_public_key_or_none()
        return context


class PackRequestView(ReadAllMixin, FormView):
    template_name = "evidence/pack_form.html"
    form_class = PackRequestForm

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            pack = jobs.pack_request(
                actor=self.request.user,
                window_from=data["window_from"],
                window_to=data["window_to"],
                party=data["party"],
                stores=list(data["stores"]),
                tenants=list(data["tenants"]),
                sample_size=data["sample_size"],
                sample_seed=data["sample_seed"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.form_invalid(form)
        except jobs.PackError as exc:
            messages.error(self.request, str(exc))
            return self.form_invalid(form)
        messages.success(
            self.request, "Evidence pack requested: a worker is building it; this page shows its progress."
        )
        return HttpResponseRedirect(pack.get_absolute_url())

    def form_invalid(self, form):
        if form.errors:
            messages.error(self.request, "The pack was not requested: correct the fields marked below.")
        return super().form_invalid(form)


class PackDetailView(ReadAllMixin, DetailView):
    template_name = "evidence/pack_detail.html"
    context_object_name = "pack"

    def get_queryset(self):
        jobs.packs_watchdog_soon()
        return pack_selectors.packs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pack = self.object
        downloads = pack_selectors.downloads(pack)
        percent, phase = live_progress(pack)
        context.update(
            scope=scope_label(pack),
            running=pack.status in EvidencePack.job.active,
            percent=percent,
            phase=phase,
            downloads=list(downloads[:DOWNLOADS_SHOWN]),
            downloads_shown=DOWNLOADS_SHOWN,
            can_manage=may_manage(self.request.user, pack),
            signing_key=signing.app_public_key_or_none(),
            rows=sorted((pack.stats.get("rows") or {}).items()),
        )
        return context


class PackStatusView(JobStatusView):
    """JSON for the progress bar (static/cek/progress.js): the common job status view (``cek.jobs.views``), which
    also runs the packs' watchdog at most once a minute; without ``?shape=job`` it answers the fields this URL
    always answered."""

    kind_name = "pack"

    def legacy(self, status: dict, pack: EvidencePack) -> dict:
        return {
            "status": pack.status,
            "percent": status["progress"],
            "phase": status["phase"],
            "message": status["phase"],
            "error": pack.last_error,
        }


class PackActionView(ReadAllMixin, View):
    """POST only: cancel or retry, then back to the pack's page."""

    action = ""

    def post(self, request, pk: int):
        pack = get_object_or_404(EvidencePack, pk=pk)
        try:
            if self.action == "cancel":
                jobs.pack_cancel(pack=pack, actor=request.user)
                messages.success(request, "The pack was cancelled; a build in progress stops at its next step.")
            else:
                jobs.pack_retry(pack=pack, actor=request.user)
                messages.success(request, "The pack is queued again; this page shows its progress.")
        except PermissionDenied:
            raise
        except (ValidationError, jobs.PackError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return HttpResponseRedirect(pack.get_absolute_url())


class PackDownloadView(ReadAllMixin, View):
    def get(self, request, pk: int):
        pack = get_object_or_404(EvidencePack, pk=pk)
        if pack.status != PackStatus.READY or not pack.file:
            raise Http404(f"This pack is {pack.get_status_display().lower()}; only a ready pack can be downloaded.")
        try:
            handle = pack.file.open("rb")
        except FileNotFoundError:
            raise Http404("The pack's file is missing from storage; tell an administrator.") from None
        jobs.pack_download_log(
            pack=pack,
            actor=request.user,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        name = f"evidence-pack-{pack.window_from:%Y%m%d}-{pack.window_to:%Y%m%d}-{pack.uid.hex[:8]}.zip"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")


class PackVerifyView(ReadAllMixin, FormView):
    """An auditor uploads a pack; the page says whether every digest and the signature hold, and what differs.
    The upload is read and discarded, never stored."""

    template_name = "evidence/pack_verify.html"
    form_class = PackVerifyForm

    # Multipart framing around the file (boundaries, headers, the CSRF token).
    ENVELOPE_BYTES = 64 * 1024

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["signing_key"] = signing.app_public_key_or_none()
        return context

    def post(self, request, *args, **kwargs):
        # Refuse an oversized upload from its declared length, before Django reads (and spools) the body; the
        # form checks the size of what was actually received.
        limit = settings.CEK_PACK_VERIFY_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + self.ENVELOPE_BYTES:
            messages.error(
                request, f"The pack was not verified: the upload is {declared:,} bytes; the limit is {limit:,} bytes."
            )
            return self.render_to_response(self.get_context_data(form=PackVerifyForm()), status=413)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        report = verify_pack_file(upload.file)
        known = None
        if report.manifest_sha256:
            known = EvidencePack.objects.filter(manifest_sha256=report.manifest_sha256).first()
        return self.render_to_response(
            self.get_context_data(form=PackVerifyForm(), report=report, file_name=upload.name, known_pack=known)
        )
