"""``/api/v1/iac-scans/``: the IaC gate for CI pipelines, and the record of the scans.

- ``POST`` (multipart, GRC): ``plan`` (what ``terraform show -json PLANFILE`` writes) or ``archive`` (a
  ``.tar.gz``/``.tar``/``.zip`` of the ``.tf`` files, ``path`` naming the root module's folder inside it),
  ``repository``, ``commit``; ``record=false`` runs the gate without keeping anything (a pre-commit hook checks
  work that is not committed yet); ``report_format`` adds the report as text, JSON, SARIF or JUnit XML. The answer
  carries the verdict and ``exit_status``, the status the pipeline should exit with: 0 clean, 1 violations, 2 the
  input could not be read (then the status is 400 and nothing is recorded).
- ``GET`` list and detail: the recorded scans (GRC and auditors), filtered by repository, verdict and commit.

A token with the ``iac-scans`` scope (``cek.models.TokenScope``) can call ``POST`` and nothing else, here or
anywhere in the API: the token a CI pipeline holds cannot read the inventory if it leaks.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from cek.models import TokenScope
from cek.people import person_name
from evidence.iac import selectors
from evidence.iac.formats import FORMATS, render
from evidence.iac.gate import scan
from evidence.iac.model import UnreadableInput
from evidence.iac.models import IacScan
from evidence.iac.result import RULES, ScanResult
from evidence.iac.services import iac_scan_record
from evidence.iac.uploads import read_archive_upload, read_plan_upload


class IacScanSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The scan's page in the app.")
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = IacScan
        fields = (
            "id", "url", "repository", "commit", "source", "input_sha256", "resources", "keys", "consumers",
            "matched_keys", "violations_count", "passed", "violations", "recorded_by", "recorded_at",
            "software_version",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, iac_scan: IacScan) -> str:
        return _absolute(self.context.get("request"), reverse("evidence:iacscan-detail", args=[iac_scan.pk]))

    def get_recorded_by(self, iac_scan: IacScan) -> str:
        return person_name(iac_scan.recorded_by)


class IacScanRequestSerializer(serializers.Serializer):
    plan = serializers.FileField(required=False, help_text="A plan as `terraform show -json PLANFILE` writes it.")
    archive = serializers.FileField(
        required=False, help_text="A .tar.gz, .tar or .zip of the repository's .tf files (when there is no plan)."
    )
    path = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="With `archive`: the root module's folder in it."
    )
    repository = serializers.CharField(max_length=200, help_text="The repository scanned, e.g. `acme/infra`.")
    commit = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="The git SHA scanned.")
    record = serializers.BooleanField(
        default=True, help_text="Keep the scan as evidence (default). False: run the gate only (pre-commit hooks)."
    )
    report_format = serializers.ChoiceField(
        choices=FORMATS, required=False, help_text="Also answer with the report in this format (`report`)."
    )

    def validate(self, data):
        if bool(data.get("plan")) == bool(data.get("archive")):
            raise serializers.ValidationError("Send exactly one of `plan` (a JSON plan) and `archive` (the .tf files).")
        return data


_VERDICT = inline_serializer(
    "IacGateVerdict",
    {
        "recorded": serializers.BooleanField(),
        "scan": IacScanSerializer(allow_null=True),
        "passed": serializers.BooleanField(),
        "exit_status": serializers.IntegerField(help_text="0 clean, 1 violations."),
        "summary": serializers.CharField(),
        "counts": serializers.DictField(),
        "violations": serializers.ListField(child=serializers.DictField()),
        "report": serializers.CharField(required=False),
    },
)


@extend_schema_view(
    list=extend_schema(tags=["IaC scans"], summary="List recorded IaC scans (GRC, auditors)"),
    retrieve=extend_schema(tags=["IaC scans"], summary="Get one recorded IaC scan (GRC, auditors)"),
    create=extend_schema(
        tags=["IaC scans"],
        summary="Run the IaC gate on a plan or .tf files, and record the scan (GRC or an iac-scans token)",
        request={"multipart/form-data": IacScanRequestSerializer},
        responses={
            201: _VERDICT,
            200: OpenApiResponse(_VERDICT, description="The verdict of a scan run with record=false."),
            400: OpenApiResponse(description="Unreadable input or invalid fields: `detail`, `errors`, exit_status 2."),
        },
    ),
)
class IacScanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = IacScanSerializer
    parser_classes = [MultiPartParser, FormParser]
    queryset = IacScan.objects.select_related("recorded_by").order_by("-recorded_at", "-pk")
    filterset_fields = {"repository": ["exact"], "passed": ["exact"], "commit": ["exact"]}
    search_fields: list = []
    ordering_fields = ["recorded_at", "repository", "violations_count"]
    token_scopes = {TokenScope.IAC_SCANS: ("create",)}

    def get_serializer_class(self):
        return IacScanRequestSerializer if self.action == "create" else IacScanSerializer

    def create(self, request, *args, **kwargs):
        form = IacScanRequestSerializer(data=request.data)
        if not form.is_valid():
            return _refused("The request has invalid fields.", errors=form.errors)
        data = form.validated_data
        try:
            result = _gate(data)
        except UnreadableInput as exc:
            return _refused(str(exc))
        body = {"recorded": False, "scan": None}
        created = status.HTTP_200_OK
        if data["record"]:
            try:
                iac_scan = iac_scan_record(
                    result=result, repository=data["repository"], commit=data.get("commit", ""), actor=request.user
                )
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
                return _refused("The scan could not be recorded.", errors=errors)
            except PermissionDenied as exc:
                return Response({"detail": str(exc), "exit_status": 2}, status=status.HTTP_403_FORBIDDEN)
            body = {"recorded": True, "scan": IacScanSerializer(iac_scan, context={"request": request}).data}
            created = status.HTTP_201_CREATED
        commit = (data.get("commit") or "").strip().lower()
        body.update(_verdict(result, repository=data["repository"].strip(), commit=commit))
        if data.get("report_format"):
            upload = data.get("plan") or data.get("archive")
            body["report"] = render(result, data["report_format"], artifact=upload.name)
        return Response(body, status=created)


def _gate(data) -> ScanResult:
    limit = settings.CEK_IAC_MAX_BYTES
    if data.get("plan"):
        upload = data["plan"]
        infrastructure = read_plan_upload(upload, name=upload.name, size=upload.size, max_bytes=limit)
    else:
        upload = data["archive"]
        infrastructure = read_archive_upload(
            upload, name=upload.name, size=upload.size, max_bytes=limit, subdirectory=data.get("path", "")
        )
    return scan(infrastructure, lookup=selectors.find_keys, tag_keys=selectors.tag_keys())


def _verdict(result: ScanResult, *, repository: str, commit: str) -> dict:
    where = repository + (f" at {commit[:12]}" if commit else "")
    if result.passed:
        summary = f"PASS: {where}: {result.keys} key(s) and {result.consumers} consumer attribute(s), no violation."
    else:
        rules = " ".join(f"{RULES[rule][0].rstrip('.')}: {count}." for rule, count in sorted(result.counts.items()))
        summary = f"FAIL: {where}: {len(result.violations)} violation(s). {rules}"
    document = result.as_dict()
    return {
        "passed": result.passed,
        "exit_status": 0 if result.passed else 1,
        "summary": summary,
        "counts": document["counts"],
        "violations": document["violations"],
    }


def _refused(detail: str, *, errors=None) -> Response:
    body = {"detail": detail, "exit_status": 2}
    if errors:
        body["errors"] = errors
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else settings.CEK_BASE_URL + path
