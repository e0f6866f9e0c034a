"""REST API of policies (``/api/v1/policies/``, read-only) and their versions (``/api/v1/policy-versions/``), with
the policy pages' visibility: every role reads the policies; GRC and auditors see every version, key owners the
approved and superseded ones (drafts are GRC's working material). GRC creates a draft version (``POST``, with the
``link`` where the document is published; uploading the file stays on the page), submits it for approval
(``POST {id}/submit/``) and records the governance body's approval (``POST {id}/approve/``), through the policy
services. A step the version's status does not allow is a 409. Reviews, change events and effectiveness
evaluations are on the policy's page only, for now.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cek.forms import active_users
from cek.keymaterial import KeyMaterialValidator
from evidence.models import Policy, PolicyKind, PolicyVersion
from evidence.policies import selectors, services

POLICY_STATUS_CHOICES = list(selectors.POLICY_STATUSES.items())
_CONFLICT = OpenApiResponse(description="The version's status does not allow it: `detail`.")


class ApprovalSerializer(serializers.Serializer):
    governance_body = serializers.CharField(max_length=200, validators=[KeyMaterialValidator()])
    approver = serializers.SlugRelatedField(slug_field="username", queryset=active_users())
    approved_on = serializers.DateField(help_text="Not in the future.")
    reference = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", validators=[KeyMaterialValidator()]
    )


class PolicyVersionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The version's page in the app.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    approval = serializers.SerializerMethodField()

    class Meta:
        model = PolicyVersion
        fields = (
            "id", "url", "policy", "label", "status", "summary", "link", "document_name", "document_kind",
            "document_size", "document_sha256", "created_by", "created_at", "submitted_at", "submitted_by",
            "superseded_at", "superseded_by", "approval",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, version: PolicyVersion) -> str:
        return version.get_absolute_url()

    @extend_schema_field(
        inline_serializer(
            "PolicyVersionApproval",
            {
                "governance_body": serializers.CharField(),
                "approver": serializers.CharField(),
                "approved_on": serializers.DateField(),
                "reference": serializers.CharField(),
                "recorded_by": serializers.CharField(),
                "recorded_at": serializers.DateTimeField(),
            },
            allow_null=True,
        )
    )
    def get_approval(self, version: PolicyVersion) -> dict | None:
        approval = getattr(version, "approval", None)
        if approval is None:
            return None
        return {
            "governance_body": approval.governance_body,
            "approver": approval.approver.get_username(),
            "approved_on": approval.approved_on,
            "reference": approval.reference,
            "recorded_by": approval.recorded_by.get_username(),
            "recorded_at": approval.recorded_at,
        }


VERSION_JOINS = ("policy", "created_by", "submitted_by", "approval__approver", "approval__recorded_by")


class PolicyVersionCreateSerializer(serializers.Serializer):
    policy = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.all())
    label = serializers.CharField(max_length=40, validators=[KeyMaterialValidator()], help_text="E.g. 2.0.")
    summary = serializers.CharField(validators=[KeyMaterialValidator()], help_text="Summary of changes.")
    link = serializers.URLField(max_length=500, help_text="The https:// address where the document is published.")


class PolicySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The policy's page in the app.")
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(source="status_code", choices=POLICY_STATUS_CHOICES, read_only=True)
    current_version = serializers.CharField(source="current_version.label", read_only=True, allow_null=True)
    current_version_id = serializers.IntegerField(read_only=True, allow_null=True)
    pending_version = serializers.CharField(source="pending_label", read_only=True, allow_null=True)
    last_reviewed_on = serializers.DateField(read_only=True, allow_null=True)
    recipients = serializers.IntegerField(read_only=True, help_text="Recipients of the version in force.")
    acknowledged = serializers.IntegerField(read_only=True, help_text="Of them, those who acknowledged it.")

    class Meta:
        model = Policy
        fields = (
            "id", "url", "title", "kind", "owner", "description", "scope", "areas", "status", "current_version",
            "current_version_id", "pending_version", "next_review_due_on", "last_reviewed_on", "retired_on",
            "recipients", "acknowledged",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, policy: Policy) -> str:
        return policy.get_absolute_url()


class PolicyQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=200, help_text="Words in the title, description or scope.")
    status = serializers.ChoiceField(choices=POLICY_STATUS_CHOICES, required=False)
    kind = serializers.ChoiceField(choices=PolicyKind.choices, required=False)
    overdue = serializers.BooleanField(required=False, default=False, help_text="Only policies past their review.")
    ordering = serializers.ChoiceField(choices=list(selectors.POLICY_ORDERINGS), required=False, default="title")


@extend_schema_view(
    list=extend_schema(
        tags=["Policies"], summary="Policies with their status and review dates", parameters=[PolicyQuerySerializer]
    ),
    retrieve=extend_schema(tags=["Policies"], summary="One policy"),
)
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    key_owner_readable = True
    serializer_class = PolicySerializer
    filter_backends: list = []

    def get_queryset(self):
        query = PolicyQuerySerializer(data=self.request.query_params if self.action == "list" else {})
        if not query.is_valid():
            raise exceptions.ValidationError(query.errors)
        return selectors.policy_list(user=self.request.user, today=timezone.localdate(), **query.validated_data)


@extend_schema_view(
    list=extend_schema(tags=["Policies"], summary="Policy versions you may see (key owners: approved, superseded)"),
    retrieve=extend_schema(tags=["Policies"], summary="One policy version with its approval"),
    create=extend_schema(
        tags=["Policies"],
        summary="Create a draft version of a policy, published at a link (GRC)",
        request=PolicyVersionCreateSerializer,
        responses={201: PolicyVersionSerializer, 400: OpenApiResponse(description="Invalid fields.")},
    ),
)
class PolicyVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    key_owner_readable = True
    serializer_class = PolicyVersionSerializer
    filterset_fields = {"policy": ["exact"], "status": ["exact"]}
    search_fields: list = []
    ordering_fields = ["created_at"]

    def get_queryset(self):
        versions = selectors.versions_for(self.request.user).select_related(*VERSION_JOINS)
        return versions.order_by("policy_id", "-created_at", "-pk")

    def _answer(self, version: PolicyVersion, code=status.HTTP_200_OK, **headers) -> Response:
        fresh = self.get_queryset().get(pk=version.pk)
        return Response(PolicyVersionSerializer(fresh).data, status=code, headers=headers)

    def create(self, request, *args, **kwargs):
        form = PolicyVersionCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        version = PolicyVersion(policy=data["policy"], label=data["label"], summary=data["summary"], link=data["link"])
        version = services.policy_version_save(version=version, actor=request.user)
        location = reverse("api-policy-version-detail", args=[version.pk])
        return self._answer(version, status.HTTP_201_CREATED, Location=location)

    def _change(self, perform) -> Response:
        version = self.get_object()
        try:
            result = perform(version)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise  # a field's error: 400 with `errors`
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return self._answer(getattr(result, "version", result))

    @extend_schema(
        tags=["Policies"],
        summary="Submit a draft for approval: its content is fixed from now on (GRC)",
        request=None,
        responses={200: PolicyVersionSerializer, 409: _CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._change(lambda version: services.policy_version_submit(version=version, actor=request.user))

    @extend_schema(
        tags=["Policies"],
        summary="Record the governance body's approval: the version comes into force (GRC)",
        request=ApprovalSerializer,
        responses={200: PolicyVersionSerializer, 400: OpenApiResponse(description="Invalid fields."), 409: _CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        form = ApprovalSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return self._change(
            lambda version: services.policy_version_approve(version=version, actor=request.user, **form.validated_data)
        )
