"""REST API of check runs (``/api/v1/check-runs/``): GRC starts a run (``POST`` → 202, evaluated on a worker
for a large inventory, at once for a small one) and reads; auditors read; key owners and users without a role
are refused (a run evaluates the whole inventory). Lists run a fixed number of queries whatever the page."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from evidence.checks import selectors, services
from evidence.checks.services import BROKER_DOWN
from evidence.models import CheckResult, CheckRun, RunTrigger


class CheckResultSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = CheckResult
        fields = [
            "id",
            "guideline_id",
            "title",
            "status",
            "metric",
            "numerator",
            "denominator",
            "explanation",
            "failing_count",
            "failing",
            "evidence",
            "duration_ms",
            "manual_evidence",
            "url",
        ]

    def get_title(self, result: CheckResult) -> str:
        return result.details.get("title", "")

    def get_url(self, result: CheckResult) -> str:
        from django.urls import reverse

        return reverse("evidence:checkresult-detail", args=[result.pk])


class CheckRunSerializer(serializers.ModelSerializer):
    triggered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CheckRun
        fields = [
            "id",
            "trigger",
            "triggered_by",
            "status",
            "catalog_version",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "counts",
            "keys_evaluated",
            "findings_opened",
            "findings_resolved",
            "last_error",
        ]
        read_only_fields = fields


class CheckRunDetailSerializer(CheckRunSerializer):
    results = serializers.SerializerMethodField()

    class Meta(CheckRunSerializer.Meta):
        fields = [*CheckRunSerializer.Meta.fields, "results"]
        read_only_fields = fields

    def get_results(self, run: CheckRun) -> list[dict]:
        return CheckResultSerializer(selectors.run_results(run), many=True).data


@extend_schema_view(
    list=extend_schema(summary="Check runs, newest first"),
    retrieve=extend_schema(summary="A check run with its per-guideline results"),
    create=extend_schema(
        summary="Start a check run (GRC)",
        request=None,
        responses={
            202: CheckRunSerializer,
            403: OpenApiResponse(description="Only GRC staff can run the checks."),
            409: OpenApiResponse(description="Another run is in progress."),
            503: OpenApiResponse(description="The worker queue cannot be reached; no run was recorded."),
        },
    ),
)
class CheckRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    filter_backends: list = []

    def get_queryset(self):
        return selectors.runs()

    def get_serializer_class(self):
        return CheckRunDetailSerializer if self.action == "retrieve" else CheckRunSerializer

    def create(self, request, *args, **kwargs):
        try:
            run = services.check_run_start(trigger=RunTrigger.API, actor=request.user)
        except services.CheckRunError as exc:
            code = status.HTTP_503_SERVICE_UNAVAILABLE if str(exc) == BROKER_DOWN else status.HTTP_409_CONFLICT
            body = {"detail": str(exc)}
            if getattr(exc, "run", None) is not None:
                body["run"] = request.build_absolute_uri(f"{request.path}{exc.run.pk}/")
            return Response(body, status=code)
        data = CheckRunSerializer(run).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": f"{request.path}{run.pk}/"})
