"""The OSCAL assessment results download of a check run: for those who read check runs (GRC and auditors), like
the run page it is on."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views import View

from cek.exportguard import ExportRefused
from cek.roles import ReadAllMixin
from evidence.oscal.common import MEDIA_TYPE
from evidence.oscal.export import RunNotFound, assessment_results_file


class CheckRunOscalView(ReadAllMixin, View):
    def get(self, request, pk: int) -> HttpResponse:
        try:
            exported = assessment_results_file(run_pk=pk)
        except RunNotFound as exc:
            raise Http404(str(exc)) from None
        except ExportRefused as exc:
            return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
        response = HttpResponse(exported.text.encode("utf-8"), content_type=MEDIA_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        response["Cache-Control"] = "no-store"
        return response
