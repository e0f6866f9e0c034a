"""The one status view of every job kind: JSON polled by the pages' progress bars (static/cek/progress.js).

``/jobs/<kind>/<pk>/status/`` answers :func:`cek.jobs.status.job_status`. The status URLs the kinds had before
(``inventory:import-status``, ``evidence:pack-status``, ``evidence:campaign-status``) are this view too, declared
by a subclass that names its kind and the fields that URL answered then (:meth:`JobStatusView.legacy`); they
answer the common fields with ``?shape=job``, which is what the pages poll. Who may see a job's status is its
kind's ``may_view``; a refusal is a 403 as on every page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views import View

from cek.jobs.kinds import kind_named
from cek.jobs.status import SHAPE, job_status
from cek.jobs.watchdog import watchdog_soon


class JobStatusView(AccessMixin, View):
    kind_name = ""  # set by a subclass; else the URL's ``kind``
    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int, kind: str = "") -> HttpResponse:
        job_kind = kind_named(self.kind_name or kind)
        if job_kind is None:
            raise Http404("No such kind of job.")
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not job_kind.may_view(request.user):
            raise PermissionDenied("Your role does not give access to this page.")
        if job_kind.sweep_on_status:
            watchdog_soon(job_kind)  # stalled or lost jobs are settled even without beat
        job = get_object_or_404(job_kind.model, pk=pk)
        status = job_status(job, user=request.user)
        legacy = None if request.GET.get("shape") == SHAPE else self.legacy(status, job)
        return JsonResponse(legacy if legacy is not None else status, headers={"Cache-Control": "no-store"})

    def legacy(self, status: dict[str, Any], job) -> dict[str, Any] | None:
        """The fields this kind's own status URL answered before the common view (None: the common ones)."""
        return None
