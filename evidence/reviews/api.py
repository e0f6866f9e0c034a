"""REST API of policy reviews (``/api/v1/policy-reviews/``), significant changes (``/api/v1/change-events/``) and
effectiveness evaluations (``/api/v1/evaluations/``), with the pages' permissions: every role reads them, GRC records
them (``POST``) through the reviews services (a review restarts the policy's 12 months and may retire it; a change
sets the review deadline of every affected policy). Correcting a change or an evaluation stays on the page."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from cek.forms import active_users
from cek.keymaterial import KeyMaterialValidator
from evidence.models import Policy
from evidence.policies.models import PolicyArea
from evidence.reviews import selectors, services
from evidence.reviews.models import (
    ChangeEvent,
    ChangeKind,
    EffectivenessEvaluation,
    EvaluationKind,
    EvaluationResult,
    PolicyReview,
    ReviewOutcome,
)

_username = {"slug_field": "username", "read_only": True}
_text = [KeyMaterialValidator()]


class PolicyReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.SlugRelatedField(**_username)
    recorded_by = serializers.SlugRelatedField(**_username)

    class Meta:
        model = PolicyReview
        fields = ("id", "policy", "reviewer", "reviewed_on", "outcome", "notes", "recorded_by", "created_at")
        read_only_fields = fields


class PolicyReviewCreateSerializer(serializers.Serializer):
    policy = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.all())
    reviewer = serializers.SlugRelatedField(slug_field="username", queryset=active_users())
    reviewed_on = serializers.DateField(help_text="Not in the future.")
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices, help_text="`retired` retires the policy.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", validators=_text)


class ChangeEventSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    recorded_by = serializers.SlugRelatedField(**_username)

    class Meta:
        model = ChangeEvent
        fields = (
            "id", "url", "kind", "title", "description", "occurred_on", "areas", "policies", "review_due_on",
            "recorded_by", "created_at",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, event: ChangeEvent) -> str:
        return event.get_absolute_url()


class ChangeEventCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    title = serializers.CharField(max_length=200, validators=_text)
    description = serializers.CharField(validators=_text)
    occurred_on = serializers.DateField()
    areas = serializers.ListField(child=serializers.ChoiceField(choices=PolicyArea.choices), required=False)
    policies = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.all(), many=True, required=False)


class EvaluationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    performed_by = serializers.SlugRelatedField(**_username)
    recorded_by = serializers.SlugRelatedField(**_username)

    class Meta:
        model = EffectivenessEvaluation
        fields = (
            "id", "url", "kind", "title", "performed_on", "scope", "result", "findings", "performed_by", "assessor",
            "policies", "recorded_by", "created_at",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, evaluation: EffectivenessEvaluation) -> str:
        return evaluation.get_absolute_url()


class EvaluationCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvaluationKind.choices)
    title = serializers.CharField(max_length=200, validators=_text)
    performed_on = serializers.DateField(help_text="Not in the future.")
    scope = serializers.CharField(validators=_text)
    result = serializers.ChoiceField(choices=EvaluationResult.choices)
    findings = serializers.CharField(
        required=False, allow_blank=True, default="", validators=_text, help_text="Required unless `effective`."
    )
    performed_by = serializers.SlugRelatedField(slug_field="username", queryset=active_users())
    assessor = serializers.CharField(required=False, allow_blank=True, default="", max_length=200, validators=_text)
    policies = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.all(), many=True, required=False)


class _RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read for every role; ``POST`` (GRC) validates ``create_serializer`` and calls ``record``."""

    key_owner_readable = True
    create_serializer: type[serializers.Serializer]
    route = ""

    def create(self, request, *args, **kwargs):
        form = self.create_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        saved = self.record(dict(form.validated_data))
        fresh = self.get_queryset().get(pk=saved.pk)
        location = reverse(f"api-{self.route}-detail", args=[saved.pk])
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED, headers={"Location": location})

    def record(self, data: dict):  # pragma: no cover - every subclass defines it
        raise NotImplementedError


def _create_schema(tag: str, summary: str, request, response):
    return extend_schema(
        tags=[tag],
        summary=summary,
        request=request,
        responses={201: response, 400: OpenApiResponse(description="Invalid fields: `detail`, `errors`.")},
    )


@extend_schema_view(
    list=extend_schema(tags=["Policies"], summary="Policy reviews, newest first"),
    retrieve=extend_schema(tags=["Policies"], summary="One policy review"),
    create=_create_schema(
        "Policies", "Record a policy review (GRC)", PolicyReviewCreateSerializer, PolicyReviewSerializer
    ),
)
class PolicyReviewViewSet(_RecordViewSet):
    serializer_class = PolicyReviewSerializer
    create_serializer = PolicyReviewCreateSerializer
    route = "policy-review"
    filterset_fields = {"policy": ["exact"], "outcome": ["exact"]}
    search_fields: list = []
    ordering_fields = ["reviewed_on"]

    def get_queryset(self):
        return PolicyReview.objects.select_related("reviewer", "recorded_by").order_by("-reviewed_on", "-pk")

    def record(self, data: dict):
        return services.policy_review_record(actor=self.request.user, **data)


@extend_schema_view(
    list=extend_schema(tags=["Policies"], summary="Significant changes and the review deadlines they set"),
    retrieve=extend_schema(tags=["Policies"], summary="One significant change"),
    create=_create_schema(
        "Policies", "Record a significant change (GRC)", ChangeEventCreateSerializer, ChangeEventSerializer
    ),
)
class ChangeEventViewSet(_RecordViewSet):
    serializer_class = ChangeEventSerializer
    create_serializer = ChangeEventCreateSerializer
    route = "change-event"
    filterset_fields = {"kind": ["exact"]}
    search_fields = ["title"]
    ordering_fields = ["occurred_on", "review_due_on"]

    def get_queryset(self):
        return selectors.change_event_list(user=self.request.user)

    def record(self, data: dict):
        policies = data.pop("policies", [])
        return services.change_event_save(event=ChangeEvent(**data), actor=self.request.user, policies=policies)


@extend_schema_view(
    list=extend_schema(tags=["Policies"], summary="Effectiveness evaluations (IG-5)"),
    retrieve=extend_schema(tags=["Policies"], summary="One effectiveness evaluation"),
    create=_create_schema(
        "Policies", "Record an effectiveness evaluation (GRC)", EvaluationCreateSerializer, EvaluationSerializer
    ),
)
class EvaluationViewSet(_RecordViewSet):
    serializer_class = EvaluationSerializer
    create_serializer = EvaluationCreateSerializer
    route = "evaluation"
    filterset_fields = {"kind": ["exact"], "result": ["exact"]}
    search_fields = ["title"]
    ordering_fields = ["performed_on"]

    def get_queryset(self):
        return selectors.evaluation_list(user=self.request.user).select_related("recorded_by")

    def record(self, data: dict):
        policies = data.pop("policies", [])
        evaluation = EffectivenessEvaluation(**data)
        return services.evaluation_save(evaluation=evaluation, actor=self.request.user, policies=policies)
