"""REST API of CEK-11.1 answers (``/api/v1/caiq-answers/``), read-only: GRC and auditors read every party's
answers (``?party=<id>``, ``?status=draft|published``); key owners and users without a role are refused.
Generating, editing and publishing stay in the web UI, where the fill rules are shown and explained."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from evidence.answers import selectors
from evidence.answers.export import column_e
from evidence.models import AnswerStatus, CaiqAnswer


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


class CaiqAnswerViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = CaiqAnswerFilter
    ordering_fields = ["created_at", "published_at"]

    def get_queryset(self):
        return selectors.answers().order_by("-created_at", "-id")

    def get_serializer_class(self):
        return CaiqAnswerDetailSerializer if self.action == "retrieve" else CaiqAnswerSerializer
