"""REST API of usage logs.

- ``POST /api/v1/usage-ingestions/`` (GRC; multipart: ``file``, ``format``, optional ``store`` name): the file is
  streamed to a temporary file (bounded by ``CEK_USAGE_MAX_UPLOAD_BYTES``), queued for a worker and answered 202
  with the ingestion and its status URL (``Location``; ``status_url`` is the job status the pages poll). The same
  file again is answered 409 (nothing changes). ``GET`` lists and reads ingestions (GRC).
- ``GET /api/v1/usage/``: the aggregates, read-only, filtered by ``key`` (id), ``key_ref``, ``principal``,
  ``operation``, ``store`` (name), ``failed``, ``unknown`` (keys the inventory does not know) and ``day_from`` /
  ``day_to``; GRC and auditors see all, key owners the aggregates of their keys. One query per page plus the count.
"""

from __future__ import annotations

from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from cek.filtering import FilterBackend, TextFilter, YesNoFilter
from cek.jobs.status import job_status_url, live_progress
from cek.roles import ApiGrcPermission
from evidence.usage import selectors
from evidence.usage.models import UsageAggregate, UsageIngestion
from evidence.usage.services import IngestionRefused, usage_ingestion_upload
from evidence.usage.sources import format_choices
from evidence.usage.sources.base import UsageFileError
from evidence.usage.uploads import TOO_LARGE, bound_uploads, too_large_message
from inventory.models import KeyStore


class UsageIngestionSerializer(serializers.ModelSerializer):
    format = serializers.CharField(source="source", read_only=True)
    store = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = UsageIngestion
        fields = [
            "id",
            "format",
            "store",
            "file_name",
            "sha256",
            "size",
            "status",
            "progress",
            "phase",
            "counts",
            "last_error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "status_url",
        ]
        read_only_fields = fields

    def get_progress(self, ingestion: UsageIngestion) -> int:
        return live_progress(ingestion)["percent"]

    def get_status_url(self, ingestion: UsageIngestion) -> str:
        return job_status_url(ingestion)


class UsageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    format = serializers.ChoiceField(choices=format_choices())
    store = serializers.SlugRelatedField(
        slug_field="name", queryset=KeyStore.objects.all(), required=False, allow_null=True
    )


@extend_schema_view(
    list=extend_schema(tags=["Usage"], summary="Usage-log ingestions, newest first (GRC)"),
    retrieve=extend_schema(tags=["Usage"], summary="One ingestion: status, progress, counts (GRC)"),
    create=extend_schema(
        tags=["Usage"],
        summary="Upload a usage-log file to ingest (GRC)",
        request={"multipart/form-data": UsageUploadSerializer},
        responses={
            202: UsageIngestionSerializer,
            400: OpenApiResponse(description="No file, an unknown format or store."),
            409: OpenApiResponse(description="This file was already ingested (or is being ingested): nothing changed."),
            413: OpenApiResponse(description="The file is larger than CEK_USAGE_MAX_UPLOAD_BYTES."),
            503: OpenApiResponse(description="The worker queue cannot be reached; nothing was kept."),
        },
    ),
)
class UsageIngestionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [ApiGrcPermission]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = UsageIngestionSerializer
    filter_backends: list = []

    def initialize_request(self, request, *args, **kwargs):
        bound_uploads(request)  # before anything reads the body
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.usage_ingestions()

    def get_serializer_class(self):
        return UsageUploadSerializer if self.action == "create" else UsageIngestionSerializer

    def create(self, request, *args, **kwargs):
        upload = UsageUploadSerializer(data=request.data)
        if getattr(request._request, "usage_upload_refused", None) == TOO_LARGE:
            return Response({"detail": too_large_message()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            ingestion = usage_ingestion_upload(
                source=data["format"], upload=data["file"], user=request.user, store=data.get("store")
            )
        except IngestionRefused as exc:
            code = status.HTTP_409_CONFLICT if "ingested" in str(exc) else status.HTTP_400_BAD_REQUEST
            if "task queue" in str(exc):
                code = status.HTTP_503_SERVICE_UNAVAILABLE
            return Response({"detail": str(exc)}, status=code)
        except UsageFileError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        ingestion.refresh_from_db()
        body = UsageIngestionSerializer(ingestion).data
        location = reverse("api-usage-ingestion-detail", args=[ingestion.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class UsageFilter(filters.FilterSet):
    key = filters.NumberFilter(field_name="key")
    key_ref = TextFilter()
    principal = TextFilter()
    operation = TextFilter()
    store = TextFilter(field_name="store__name")
    failed = YesNoFilter(method="filter_failed")
    unknown = YesNoFilter(field_name="key", lookup_expr="isnull")
    day_from = filters.DateFilter(field_name="day", lookup_expr="gte")
    day_to = filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = UsageAggregate
        fields: list[str] = []

    def filter_failed(self, queryset, name, value):
        return queryset.exclude(error_code="") if value else queryset.filter(error_code="")


class UsageAggregateSerializer(serializers.ModelSerializer):
    format = serializers.CharField(source="source", read_only=True)
    key_name = serializers.SerializerMethodField()
    store = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = UsageAggregate
        fields = [
            "id",
            "format",
            "key",
            "key_name",
            "key_ref",
            "store",
            "account",
            "region",
            "principal",
            "principal_type",
            "operation",
            "error_code",
            "day",
            "count",
            "first_seen",
            "last_seen",
            "sample_event_ids",
            "context",
        ]
        read_only_fields = fields

    def get_key_name(self, row: UsageAggregate) -> str | None:
        return row.key.name if row.key_id else None


@extend_schema_view(
    list=extend_schema(tags=["Usage"], summary="Key usage aggregates (per key, principal, operation, outcome, day)"),
    retrieve=extend_schema(tags=["Usage"], summary="One usage aggregate"),
)
class UsageAggregateViewSet(viewsets.ReadOnlyModelViewSet):
    key_owner_readable = True
    serializer_class = UsageAggregateSerializer
    filterset_class = UsageFilter
    filter_backends = [FilterBackend]

    def get_queryset(self):
        return selectors.usage_aggregates(user=self.request.user)
