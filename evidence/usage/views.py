"""The usage-log pages (GRC): the upload form with the recent ingestions, and one ingestion with its progress bar
(polling the common job status, ``static/cek/progress.js``), its counts or the reason it failed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, ListView

from cek.jobs.kinds import ACTIVE
from cek.jobs.status import live_progress
from cek.pages import LenientPages
from cek.roles import GrcRequiredMixin
from evidence.usage import selectors
from evidence.usage.forms import UsageUploadForm
from evidence.usage.models import UsageIngestion
from evidence.usage.services import IngestionRefused, usage_ingestion_upload
from evidence.usage.sources import REGISTRY
from evidence.usage.sources.base import UsageFileError
from evidence.usage.uploads import TOO_LARGE, bound_uploads, too_large_message


# The upload handlers are set before the body is read, so the CSRF check runs inside the view (csrf_protect)
# rather than in the middleware, which would read the body first with Django's default handlers.
@method_decorator(csrf_exempt, name="dispatch")
class UsageIngestionListView(LenientPages, GrcRequiredMixin, ListView):
    template_name = "evidence/usage_ingestions.html"
    context_object_name = "ingestions"
    paginate_by = settings.CEK_PAGE_SIZE

    def get_queryset(self):
        return selectors.usage_ingestions()

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", UsageUploadForm())
        context.update(
            sources=list(REGISTRY.values()),
            max_size=f"{settings.CEK_USAGE_MAX_UPLOAD_BYTES / 1048576:,.0f} MB",
        )
        return context

    def get(self, request, *args, **kwargs):
        return csrf_protect(super().get)(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        bound_uploads(request)
        return csrf_protect(self._post)(request, *args, **kwargs)

    def _post(self, request, *args, **kwargs):
        form = UsageUploadForm(request.POST, request.FILES)
        if getattr(request, "usage_upload_refused", None) == TOO_LARGE:
            form.is_valid()
            form.add_error("file", too_large_message())
        elif form.is_valid():
            data = form.cleaned_data
            try:
                ingestion = usage_ingestion_upload(
                    source=data["format"], upload=data["file"], user=request.user, store=data["store"]
                )
            except (IngestionRefused, UsageFileError) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{ingestion.file_name} is queued for ingestion.")
                return redirect("evidence:usage-ingestion-detail", ingestion.pk)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class UsageIngestionDetailView(GrcRequiredMixin, DetailView):
    template_name = "evidence/usage_ingestion_detail.html"
    context_object_name = "ingestion"

    def get_queryset(self):
        return selectors.usage_ingestions()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ingestion: UsageIngestion = self.object
        live = live_progress(ingestion)
        context.update(
            running=UsageIngestion.job.state_of(ingestion.status) in ACTIVE,
            percent=live["percent"],
            phase=live["phase"],
        )
        return context
