"""REST API of CEK-11.1 answers (``/api/v1/caiq-answers/``): GRC and auditors read every party's answers
(``?party=<id>``, ``?status=draft|published``); key owners and users without a role are refused. GRC generates a
draft (``POST generate/`` with the party, from the newest succeeded check run unless ``run`` names one) and publishes
it (``POST {id}/publish/``: refused with every fill rule still broken, listed in ``errors``). Editing a draft stays
in the web UI, where the fill rules are shown and explained."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from evidence.answers import selectors, services
from evidence.answers.export import column_e
from evidence.models import AnswerStatus, CaiqAnswer, CheckRun
from inventory.models import Party


class CaiqAnswerSerializer(serializers.ModelSerializer):
    party = serializers.SlugRelatedField(slug_field="name", read_only=True)
    party_id = serializers.IntegerField(read_only=True)
    ssrm_control_ownership = serializers.CharField(source="ownership", read_only=True)
    implementation_description = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = CaiqAnswer
        fields = [
            "id",
            "party",
            "party_id",
            "question_id",
            "catalog_version",
            "status",
            "answer",
            "generated_answer",
            "override_reason",
            "ssrm_control_ownership",
            "implementation_description",
            "customer_responsibilities",
            "disclosures",
            "corrective_action",
            "na_justification",
            "check_run",
            "created_at",
            "published_at",
            "sha256",
            "url",
        ]
        read_only_fields = fields

    def get_implementation_description(self, answer: CaiqAnswer) -> str:
        return column_e(answer)

    def get_url(self, answer: CaiqAnswer) -> str:
        return answer.get_absolute_url()


class CaiqAnswerDetailSerializer(CaiqAnswerSerializer):
    class Meta(CaiqAnswerSerializer.Meta):
        fields = [*CaiqAnswerSerializer.Meta.fields, "facts"]
        read_only_fields = fields


class CaiqAnswerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AnswerStatus.choices)

    class Meta:
        model = CaiqAnswer
        fields = ["party", "status"]


class AnswerGenerateSerializer(serializers.Serializer):
    party = serializers.PrimaryKeyRelatedField(queryset=Party.objects.all(), help_text="Whose answer.")
    run = serializers.PrimaryKeyRelatedField(
        queryset=CheckRun.objects.all(),
        required=False,
        allow_null=True,
        help_text="A succeeded check run; default: the newest succeeded one.",
    )


class CaiqAnswerViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = CaiqAnswerFilter
    ordering_fields = ["created_at", "published_at"]

    def get_queryset(self):
        return selectors.answers().order_by("-created_at", "-id")

    def get_serializer_class(self):
        return CaiqAnswerDetailSerializer if self.action == "retrieve" else CaiqAnswerSerializer

    def _detail(self, answer: CaiqAnswer, code=status.HTTP_200_OK, **headers) -> Response:
        fresh = self.get_queryset().get(pk=answer.pk)
        return Response(CaiqAnswerDetailSerializer(fresh).data, status=code, headers=headers)

    @extend_schema(
        summary="Generate a draft answer of a party from the evidence (GRC)",
        request=AnswerGenerateSerializer,
        responses={
            201: CaiqAnswerDetailSerializer,
            400: OpenApiResponse(description="Unknown party, or a run that did not succeed: `detail`, `errors`."),
            403: OpenApiResponse(description="Only GRC staff."),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def generate(self, request):
        form = AnswerGenerateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        answer = services.answer_generate(party=data["party"], actor=request.user, run=data.get("run"))
        location = reverse("api-caiq-answer-detail", args=[answer.pk])
        return self._detail(answer, status.HTTP_201_CREATED, Location=location)

    @extend_schema(
        summary="Publish a draft: frozen with its SHA-256 (GRC)",
        request=None,
        responses={
            200: CaiqAnswerDetailSerializer,
            400: OpenApiResponse(description="Fill rules not met (each in `errors`), or already published."),
            403: OpenApiResponse(description="Only GRC staff."),
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        answer = self.get_object()
        return self._detail(services.answer_publish(answer=answer, actor=request.user))
