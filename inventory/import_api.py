"""``/api/v1/imports/``: the import flow for scripts (GRC only): upload a file to get its preview, then apply it.

- ``POST /imports/`` (multipart: ``file``, ``format``, optional ``store`` name and ``full``) plans the file and
  records it. A file with errors is answered 400 with every error (and the recorded import's id); nothing is
  written to the inventory either way.
- ``POST /imports/{id}/apply/`` applies it: 200 with the result for a small file, 202 while a worker applies a
  large one (poll ``GET /imports/{id}/``, whose ``progress`` says how far it is).
- ``GET /imports/`` and ``GET /imports/{id}/``: the record of every import. An upload rejected before its preview
  (unreadable, another format, no matching store) has the status ``rejected``, as the imports page lists it apart
  ("Rejected at upload"); ``failed`` is an apply that failed, which may be retried. ``?rejected=false`` lists what
  the page lists as imports, ``?rejected=true`` what it lists under "Show them"; ``?status=`` narrows to one status.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from cek.roles import ApiGrcPermission
from inventory import importing
from inventory.importers import format_choices
from inventory.models import KeyImport, KeyStore
from inventory.serializers import ListedSlugRelatedField

PREVIEW_ROWS = 500


class KeyImportSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-import-detail")
    store = serializers.SlugRelatedField(slug_field="name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    applied_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent written, while a worker applies the import.")
    status = serializers.ChoiceField(
        source="shown_status",
        choices=KeyImport.shown_status_choices(),
        read_only=True,
        help_text="`rejected`: the upload was rejected before its preview (unreadable, another format, no matching "
        "store): nothing was planned or kept, nothing to retry; upload the fixed file again. `failed`: applying it "
        "failed; nothing was written and it may be retried. `refused`: it held key material or unsafe text.",
    )

    class Meta:
        model = KeyImport
        fields = (
            "id", "url", "format", "file_name", "sha256", "size", "store", "full", "status", "counts", "errors",
            "warnings", "unknowns", "refusal", "last_error", "progress", "created_by", "created_at", "applied_by",
            "started_at", "applied_at",
        )  # fmt: skip
        read_only_fields = fields

    def get_progress(self, record: KeyImport) -> int | None:
        return importing.import_percent(record)


class KeyImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=format_choices())
    store = ListedSlugRelatedField(
        slug_field="name",
        queryset=KeyStore.objects.all(),
        noun="key store",
        required=False,
        allow_null=True,
        help_text="Name of the key store the file belongs to; platform exports are matched by kind, account and "
        "region when it is left out.",
    )
    full = serializers.BooleanField(
        default=False, help_text="The file lists every key of the store: keys it does not list are marked not seen."
    )

    def validate_file(self, upload):
        if upload.size > settings.CEK_IMPORT_MAX_BYTES:
            raise serializers.ValidationError(
                f"The file is {upload.size / 1048576:.1f} MB; the limit is "
                f"{settings.CEK_IMPORT_MAX_BYTES / 1048576:.1f} MB. Split it into several files."
            )
        return upload


class KeyImportQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=KeyImport.shown_status_choices(), required=False)
    rejected = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="`true`: only the uploads rejected before a preview, which the imports page lists apart; `false`: "
        "only the imports, as the imports page lists them.",
    )


def _changes(plan) -> list[dict]:
    rows = plan.rows_with(importing.Action.NEW, importing.Action.CHANGED)[:PREVIEW_ROWS]
    return [
        {
            "row": row.row,
            "action": str(row.action),
            "store": row.store,
            "external_id": row.external_id,
            "name": row.name,
            "changes": [{"column": c.column, "old": c.old, "new": c.new} for c in row.changes],
        }
        for row in rows
    ]


_PREVIEW = inline_serializer(
    "KeyImportPreview",
    {
        "import": KeyImportSerializer(),
        "can_apply": serializers.BooleanField(),
        "changes": serializers.ListField(child=serializers.DictField(), help_text="The first 500 new/changed rows."),
    },
)


@extend_schema_view(
    list=extend_schema(
        tags=["Imports"],
        summary="List imports and uploads rejected before a preview (GRC)",
        parameters=[KeyImportQuerySerializer],
    ),
    retrieve=extend_schema(tags=["Imports"], summary="Get one import, with its progress while applying (GRC)"),
    create=extend_schema(
        tags=["Imports"],
        summary="Upload a file and preview its import (GRC)",
        request={"multipart/form-data": KeyImportUploadSerializer},
        responses={
            201: _PREVIEW,
            400: OpenApiResponse(description="The file cannot be imported: `detail`, `errors` and the `import` id."),
        },
    ),
)
class KeyImportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    permission_classes = [ApiGrcPermission]
    serializer_class = KeyImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    queryset = KeyImport.objects.select_related("store", "created_by", "applied_by").order_by("-created_at", "-pk")
    filter_backends: list = []

    def get_queryset(self):
        imports = super().get_queryset()
        if self.action != "list":
            return imports
        query = KeyImportQuerySerializer(data=self.request.query_params)
        if not query.is_valid():
            raise exceptions.ValidationError(query.errors)
        data = query.validated_data
        if data.get("status"):
            imports = imports.filter(KeyImport.shown_status_q(data["status"]))
        if data["rejected"] is True:
            imports = imports.filter(KeyImport.rejected_at_upload_q())
        elif data["rejected"] is False:
            imports = imports.exclude(KeyImport.rejected_at_upload_q())
        return imports

    def get_serializer_class(self):
        return KeyImportUploadSerializer if self.action == "create" else KeyImportSerializer

    def create(self, request, *args, **kwargs):
        upload = KeyImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        record, plan = importing.key_import_preview(
            data=data["file"],  # read a block at a time, never whole
            file_name=data["file"].name,
            format=data["format"],
            actor=request.user,
            store=data.get("store"),
            full=data["full"],
        )
        body = KeyImportSerializer(record, context=self.get_serializer_context()).data
        if plan.has_errors:
            problem = (record.last_error if plan.refused else plan.file_error) or (
                f"{plan.counts['errors']} row(s) have errors; nothing can be applied."
            )
            return Response(
                {"detail": problem, "errors": body["errors"], "import": body}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"import": body, "can_apply": True, "changes": _changes(plan)}, status=status.HTTP_201_CREATED)

    # ``format``: the router also routes ``apply.json`` (format suffixes); without it that URL answered 500.
    @extend_schema(
        tags=["Imports"],
        summary="Apply a previewed import (GRC)",
        request=None,
        responses={
            200: KeyImportSerializer,
            202: KeyImportSerializer,
            409: OpenApiResponse(description="The import cannot be applied (errors, or not previewed)."),
            503: OpenApiResponse(description="A large import could not be queued: the broker is unreachable."),
        },
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None, format=None):
        record = self.get_object()
        try:
            record = importing.key_import_start(key_import=record, actor=request.user)
        except importing.ImportApplyError as exc:
            code = (
                status.HTTP_503_SERVICE_UNAVAILABLE if str(exc) == importing.BROKER_DOWN else status.HTTP_409_CONFLICT
            )
            return Response(
                {"detail": str(exc), "errors": [e.as_dict() for e in exc.errors[:1000]]},
                status=code,
            )
        body = KeyImportSerializer(record, context=self.get_serializer_context()).data
        queued = record.status == KeyImport.Status.APPLYING
        return Response(body, status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK)

    @extend_schema(tags=["Imports"], summary="Discard a previewed import (GRC)", request=None)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None, format=None):
        record = self.get_object()
        try:
            record = importing.key_import_discard(key_import=record, actor=request.user)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(KeyImportSerializer(record, context=self.get_serializer_context()).data)

    @extend_schema(tags=["Imports"], summary="Retry a failed import: plan it again (GRC)", request=None)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None, format=None):
        record = self.get_object()
        try:
            record = importing.key_import_retry(key_import=record, actor=request.user)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(KeyImportSerializer(record, context=self.get_serializer_context()).data)
