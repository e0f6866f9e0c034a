"""REST API of evidence packs (``/api/v1/packs/``), with the pack pages' permissions: GRC and auditors request,
read, download and verify packs; GRC, or the auditor who requested a pack, cancels or retries it; key owners and
users without a role are refused.

- ``POST`` requests a pack (window, perspective, scope, sample): 202 with the pack, ``Location`` (the pack here)
  and ``status_url`` (the common job status the pages poll); the build runs on a worker. 503 when the worker queue
  cannot be reached (nothing is recorded).
- ``GET`` list and detail: status, progress and phase (the worker's latest report while it builds).
- ``POST {id}/cancel/`` and ``POST {id}/retry/``: 409 when the pack is not in a state that allows it.
- ``GET {id}/download/``: the signed zip, streamed; the download is logged as on the page. 409 unless it is ready.
- ``POST verify/`` (multipart ``file``): the verify page's checks of an uploaded pack, bounded by
  ``CEK_PACK_VERIFY_MAX_BYTES`` (413 past it); the upload is read and discarded.
"""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from cek.jobs.status import job_status_url, live_progress
from cek.keymaterial import KeyMaterialValidator
from cek.roles import can_read_all
from evidence.models import EvidencePack, PackStatus
from evidence.packs import jobs
from evidence.packs import selectors as pack_selectors
from evidence.packs.models import may_manage
from evidence.packs.verify import verify_pack_file
from inventory.models import KeyStore, Party, Tenant

ENVELOPE_BYTES = 64 * 1024  # the multipart framing around the file, as on the verify page


class ApiPackPermission(BasePermission):
    """GRC and auditors, reads and writes alike (as on the pack pages); the services decide who may cancel or
    retry a given pack."""

    message = "Only GRC staff and auditors may use evidence packs."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and can_read_all(request.user))


class ZipRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/zip`` on the download (the zip itself is a FileResponse)."""

    media_type = "application/zip"
    format = "zip"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PackSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The pack's page in the app.")
    party = serializers.SlugRelatedField(slug_field="name", read_only=True)
    stores = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    tenants = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField(help_text="Percent done (0-100), live while it builds.")
    phase = serializers.SerializerMethodField()
    download_count = serializers.IntegerField(read_only=True)
    status_url = serializers.SerializerMethodField(help_text="The job status the pages poll (JSON).")
    download_url = serializers.SerializerMethodField(help_text="The zip, once the pack is ready; else null.")
    may_manage = serializers.SerializerMethodField(help_text="Whether you may cancel or retry this pack.")

    class Meta:
        model = EvidencePack
        fields = (
            "id", "uid", "url", "status", "progress", "phase", "last_error", "window_from", "window_to", "party",
            "party_id", "stores", "tenants", "sample_size", "sample_seed", "requested_by", "requested_at",
            "started_at", "finished_at", "attempts", "size", "sha256", "manifest_sha256", "signing_public_key",
            "software_version", "pages", "expires_at", "download_count", "status_url", "download_url", "may_manage",
        )  # fmt: skip
        read_only_fields = fields

    def _live(self, pack: EvidencePack) -> dict:
        if not hasattr(pack, "_api_live"):
            pack._api_live = live_progress(pack)
        return pack._api_live

    def get_url(self, pack: EvidencePack) -> str:
        return pack.get_absolute_url()

    def get_progress(self, pack: EvidencePack) -> int:
        return self._live(pack)["percent"]

    def get_phase(self, pack: EvidencePack) -> str:
        return self._live(pack)["phase"]

    def get_status_url(self, pack: EvidencePack) -> str:
        return job_status_url(pack)

    def get_download_url(self, pack: EvidencePack) -> str | None:
        ready = pack.status == PackStatus.READY and pack.file
        return reverse("api-pack-download", args=[pack.pk]) if ready else None

    def get_may_manage(self, pack: EvidencePack) -> bool:
        request = self.context.get("request")
        return bool(request and may_manage(request.user, pack))


class PackRequestSerializer(serializers.Serializer):
    window_from = serializers.DateField(help_text="First day observed.")
    window_to = serializers.DateField(help_text="Last day observed (today at the latest).")
    party = serializers.PrimaryKeyRelatedField(
        queryset=Party.objects.all(), required=False, allow_null=True, help_text="Perspective; default: us."
    )
    stores = serializers.PrimaryKeyRelatedField(
        queryset=KeyStore.objects.all(), many=True, required=False, help_text="Key store ids; none = every store."
    )
    tenants = serializers.PrimaryKeyRelatedField(
        queryset=Tenant.objects.all(), many=True, required=False, help_text="Tenant ids; none = every tenant."
    )
    sample_size = serializers.IntegerField(min_value=1, max_value=jobs.MAX_SAMPLE, default=25)
    sample_seed = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        validators=[
            RegexValidator(r"^[A-Za-z0-9._-]+$", "Use letters, digits, dots, dashes and underscores only."),
            KeyMaterialValidator(),  # printed in the signed PDF and pack.json
        ],
        help_text="Seed of the key sample; empty for a random one.",
    )


class PackVerifySerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The .zip exactly as downloaded.")


_VERIFY_REPORT = inline_serializer(
    "PackVerifyReport",
    {
        "verified": serializers.BooleanField(help_text="Every file matches the signed manifest."),
        "file_name": serializers.CharField(),
        "archive_sha256": serializers.CharField(),
        "manifest_sha256": serializers.CharField(),
        "pack": serializers.DictField(help_text="What pack.json says of the pack."),
        "known_pack": serializers.IntegerField(allow_null=True, help_text="The pack of this app it is, if any."),
        "files": serializers.ListField(child=serializers.DictField()),
        "unlisted": serializers.ListField(child=serializers.CharField()),
        "problems": serializers.ListField(child=serializers.CharField()),
        "data_digest": serializers.CharField(),
        "data_digest_ok": serializers.BooleanField(allow_null=True),
        "signature_valid_app_key": serializers.BooleanField(allow_null=True),
        "signature_valid_manifest_key": serializers.BooleanField(allow_null=True),
        "is_app_key": serializers.BooleanField(allow_null=True),
        "lines": serializers.ListField(child=serializers.CharField(), help_text="The report as text."),
    },
)
_STATE_ERRORS = {
    403: OpenApiResponse(description="Only GRC or the auditor who requested the pack."),
    404: OpenApiResponse(description="No such pack."),
    409: OpenApiResponse(description="The pack's status does not allow it."),
    503: OpenApiResponse(description="The worker queue cannot be reached; nothing changed."),
}


@extend_schema_view(
    list=extend_schema(tags=["Evidence packs"], summary="Evidence packs, newest first (GRC, auditors)"),
    retrieve=extend_schema(tags=["Evidence packs"], summary="One pack: status, progress, digests (GRC, auditors)"),
    create=extend_schema(
        tags=["Evidence packs"],
        summary="Request a pack; a worker builds it (GRC, auditors)",
        request=PackRequestSerializer,
        responses={
            202: PackSerializer,
            400: OpenApiResponse(description="Invalid fields: `detail`, `errors`."),
            503: OpenApiResponse(description="The worker queue cannot be reached; nothing was recorded."),
        },
    ),
)
class PackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ApiPackPermission]
    serializer_class = PackSerializer
    filterset_fields = {"status": ["exact"], "requested_by": ["exact"]}
    search_fields: list = []
    ordering_fields = ["requested_at", "finished_at"]

    def get_queryset(self):
        if self.action in ("list", "retrieve") and not getattr(self, "swagger_fake_view", False):
            jobs.packs_watchdog_soon()  # stalled or lost builds are settled even without beat, as on the pages
        return pack_selectors.packs()

    def get_serializer_class(self):
        return {"create": PackRequestSerializer, "verify": PackVerifySerializer}.get(self.action, PackSerializer)

    def _answer(self, pack: EvidencePack, code: int = status.HTTP_200_OK, **headers) -> Response:
        fresh = self.get_queryset().get(pk=pack.pk)
        return Response(PackSerializer(fresh, context=self.get_serializer_context()).data, status=code, headers=headers)

    def create(self, request, *args, **kwargs):
        form = PackRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            pack = jobs.pack_request(
                actor=request.user,
                window_from=data["window_from"],
                window_to=data["window_to"],
                party=data.get("party"),
                stores=data.get("stores", []),
                tenants=data.get("tenants", []),
                sample_size=data["sample_size"],
                sample_seed=data.get("sample_seed", ""),
            )
        except jobs.PackError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        location = reverse("api-pack-detail", args=[pack.pk])
        return self._answer(pack, status.HTTP_202_ACCEPTED, Location=location)

    def _change(self, perform) -> Response:
        pack = self.get_object()
        try:
            pack = perform(pack)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        except jobs.PackError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return self._answer(pack)

    @extend_schema(
        tags=["Evidence packs"],
        summary="Cancel a queued or building pack (GRC, or the auditor who requested it)",
        request=None,
        responses={200: PackSerializer, **_STATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._change(lambda pack: jobs.pack_cancel(pack=pack, actor=request.user))

    @extend_schema(
        tags=["Evidence packs"],
        summary="Queue a failed pack again (GRC, or the auditor who requested it)",
        request=None,
        responses={200: PackSerializer, **_STATE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._change(lambda pack: jobs.pack_retry(pack=pack, actor=request.user))

    @extend_schema(
        tags=["Evidence packs"],
        summary="Download the signed zip of a ready pack (logged; GRC, auditors)",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The pack's .zip."),
            404: OpenApiResponse(description="No such pack, or its file is missing from storage."),
            409: OpenApiResponse(description="The pack is not ready (queued, building, failed, expired...)."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, ZipRenderer])
    def download(self, request, pk=None):
        pack = self.get_object()
        if pack.status != PackStatus.READY or not pack.file:
            label = pack.get_status_display().lower()
            return Response({"detail": f"This pack is {label}; only a ready pack can be downloaded."}, status=409)
        try:
            handle = pack.file.open("rb")
        except FileNotFoundError:
            return Response({"detail": "The pack's file is missing from storage; tell an administrator."}, status=404)
        jobs.pack_download_log(
            pack=pack,
            actor=request.user,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        name = f"evidence-pack-{pack.window_from:%Y%m%d}-{pack.window_to:%Y%m%d}-{pack.uid.hex[:8]}.zip"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")

    @extend_schema(
        tags=["Evidence packs"],
        summary="Verify an uploaded pack: every file against the manifest, and the signature (GRC, auditors)",
        request={"multipart/form-data": PackVerifySerializer},
        responses={
            200: OpenApiResponse(_VERIFY_REPORT, description="The report; `verified` says whether it holds."),
            400: OpenApiResponse(description="No file: `detail`, `errors`."),
            413: OpenApiResponse(description="The upload is larger than CEK_PACK_VERIFY_MAX_BYTES."),
        },
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser], filter_backends=[])
    def verify(self, request):
        limit = settings.CEK_PACK_VERIFY_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + ENVELOPE_BYTES:  # refused from its declared length, before the body is read
            return _too_large(declared, limit)
        form = PackVerifySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        if upload.size > limit:
            return _too_large(upload.size, limit)
        report = verify_pack_file(upload.file)
        known = None
        if report.manifest_sha256:
            known = EvidencePack.objects.filter(manifest_sha256=report.manifest_sha256).values_list("pk", flat=True)
            known = known.first()
        body = {
            "verified": report.ok,
            "file_name": upload.name,
            "archive_sha256": report.archive_sha256,
            "manifest_sha256": report.manifest_sha256,
            "pack": report.pack,
            "known_pack": known,
            "files": [dataclasses.asdict(check) for check in report.files],
            "unlisted": report.unlisted,
            "problems": report.problems,
            "data_digest": report.data_digest,
            "data_digest_ok": report.data_digest_ok,
            "signature_valid_app_key": report.signature_valid_app_key,
            "signature_valid_manifest_key": report.signature_valid_manifest_key,
            "is_app_key": report.is_app_key,
            "lines": report.lines(),
        }
        return Response(body)


def _too_large(size: int, limit: int) -> Response:
    return Response(
        {"detail": f"The pack was not verified: the upload is {size:,} bytes; the limit is {limit:,} bytes."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
