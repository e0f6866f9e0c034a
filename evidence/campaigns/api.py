"""REST API of attestation campaigns (``/api/v1/campaigns/``) and attestations (``/api/v1/attestations/``), with
the campaign pages' permissions and the same services.

Campaigns: GRC drafts (``POST``), launches (``POST {id}/launch/``: 200 when launched in the request, 202 while a
worker launches a large scope, with the job status URL) and closes (``POST {id}/close/``); GRC and auditors read
them with their progress, and a campaign's attestations (``GET {id}/attestations/``). Key owners are refused, as on
the pages. A launch or close the campaign's status does not allow is a 409.

Attestations: GRC and auditors read every attestation, anyone else with a role the ones they may answer (addressed
to them, or on keys they own or back up). ``GET inbox/`` is the inbox page: the pending attestations of launched
campaigns the user may answer. ``POST confirm/`` confirms the listed ones (or ``all``) and requires
``"reviewed": true``, the statement the inbox requires ("I have reviewed these keys"); ``POST {id}/discrepancy/``
reports a discrepancy with a comment (it opens the key's finding); ``POST {id}/reassign/`` (GRC) addresses a
pending attestation to another active user.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from cek.forms import active_users
from cek.jobs.status import job_status_url
from cek.keymaterial import KeyMaterialValidator
from cek.roles import can_read_all, is_grc, user_roles
from evidence.campaigns import schedule, selectors, services
from evidence.models import STATEMENT_SETS, Attestation, AttestationStatus, Campaign, CampaignStatus
from inventory.models import KeyStore, Purpose, Service, Tenant

_CONFLICT = OpenApiResponse(description="The campaign's status does not allow it: `detail`.")


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    discrepancies = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Not answered (yet, or ever once the campaign is closed).")
    answered = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="Answered, in whole percent rounded down.")


class OwnerProgressSerializer(ProgressSerializer):
    addressed_to = serializers.CharField(allow_null=True, help_text="Username; null for unaddressed attestations.")
    overdue = serializers.BooleanField()


class CampaignSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The campaign's page in the app.")
    scope = serializers.CharField(source="scope_label", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    launched_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField(help_text="The launch job's status (JSON).")

    class Meta:
        model = Campaign
        fields = (
            "id", "url", "name", "status", "scope", "scope_store", "scope_purpose", "scope_tenant", "scope_service",
            "statement_version", "statements_sha256", "due_on", "reminder_days", "created_by", "created_at",
            "launched_at", "launched_by", "closed_at", "closed_by", "keys_total", "keys_done", "launch_percent",
            "only_changed", "keys_carried_over",
            "progress", "results_sha256", "results_rows", "last_error", "status_url",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, campaign: Campaign) -> str:
        return campaign.get_absolute_url()

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, campaign: Campaign) -> dict:
        counts = selectors.Progress(**selectors.progress_counts(campaign))
        return ProgressSerializer({**vars(counts), "answered": counts.answered, "percent": counts.percent}).data

    def get_status_url(self, campaign: Campaign) -> str:
        return job_status_url(campaign)


class CampaignDetailSerializer(CampaignSerializer):
    statements = serializers.ListField(child=serializers.CharField(), read_only=True)
    owners = serializers.SerializerMethodField(help_text="Progress per addressee, most pending first.")

    class Meta(CampaignSerializer.Meta):
        fields = (*CampaignSerializer.Meta.fields, "statements", "owners")
        read_only_fields = fields

    @extend_schema_field(OwnerProgressSerializer(many=True))
    def get_owners(self, campaign: Campaign) -> list[dict]:
        progress = selectors.campaign_progress(campaign=campaign, today=timezone.localdate())
        return [
            {
                **{name: getattr(owner, name) for name in selectors.PROGRESS_FIELDS},
                "answered": owner.answered,
                "percent": owner.percent,
                "addressed_to": owner.user.get_username() if owner.user else None,
                "overdue": owner.overdue,
            }
            for owner in progress.owners
        ]


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, validators=[KeyMaterialValidator()])
    due_on = serializers.DateField(help_text="Today or later.")
    reminder_days = serializers.IntegerField(
        min_value=schedule.MIN_REMINDER_DAYS,
        max_value=schedule.MAX_REMINDER_DAYS,
        default=schedule.DEFAULT_REMINDER_DAYS,
    )
    statement_version = serializers.ChoiceField(choices=list(STATEMENT_SETS), required=False)
    store = serializers.PrimaryKeyRelatedField(queryset=KeyStore.objects.all(), required=False, allow_null=True)
    purpose = serializers.SlugRelatedField(
        slug_field="slug", queryset=Purpose.objects.all(), required=False, allow_null=True
    )
    tenant = serializers.PrimaryKeyRelatedField(queryset=Tenant.objects.all(), required=False, allow_null=True)
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.all(), required=False, allow_null=True
    )
    only_changed = serializers.BooleanField(
        default=False, help_text="Carry over keys unchanged since their last confirmed attestation."
    )


class AttestationSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    campaign_due_on = serializers.DateField(source="campaign.due_on", read_only=True)
    key_name = serializers.CharField(source="key.name", read_only=True)
    key_purpose = serializers.CharField(source="key.purpose.slug", read_only=True, allow_null=True)
    key_owner = serializers.CharField(source="key.owner.username", read_only=True, allow_null=True)
    addressed_to = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    responded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Attestation
        fields = (
            "id", "campaign", "campaign_name", "campaign_due_on", "key", "key_name", "key_purpose", "key_owner",
            "addressed_to", "status", "responded_by", "responded_at", "comment", "statement_version",
            "statements_sha256", "reassigned_at",
        )  # fmt: skip
        read_only_fields = fields


ATTESTATION_JOINS = ("campaign", "key", "key__purpose", "key__owner", "addressed_to", "responded_by")


class ConfirmSerializer(serializers.Serializer):
    reviewed = serializers.BooleanField(
        help_text="Must be true: “I have reviewed these keys” (each key's purpose, bindings and access)."
    )
    attestations = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=10_000,
        help_text="The attestation ids to confirm (or `all`).",
    )
    all = serializers.BooleanField(default=False, help_text="Confirm every pending attestation you may answer.")
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True, help_text="With `all`: this campaign only."
    )

    def validate_reviewed(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                "Nothing was confirmed: state that you have reviewed these keys (each key's purpose, bindings and "
                "access) with `reviewed: true`."
            )
        return value

    def validate(self, data):
        if bool(data.get("attestations")) == bool(data.get("all")):
            raise serializers.ValidationError("Give either `attestations` (a list of ids) or `all: true`.")
        return data


class DiscrepancySerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, help_text="What is wrong with this key's record.")


class ReassignSerializer(serializers.Serializer):
    to = serializers.SlugRelatedField(slug_field="username", queryset=active_users(), help_text="An active user.")


# --- Campaigns ------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(tags=["Campaigns"], summary="Attestation campaigns with their progress (GRC, auditors)"),
    retrieve=extend_schema(tags=["Campaigns"], summary="A campaign: statements, progress per addressee"),
    create=extend_schema(
        tags=["Campaigns"],
        summary="Draft a campaign (GRC)",
        request=CampaignCreateSerializer,
        responses={201: CampaignDetailSerializer, 400: OpenApiResponse(description="Invalid fields.")},
    ),
)
class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_fields = {"status": ["exact"]}
    search_fields = ["name"]
    ordering_fields = ["created_at", "due_on", "launched_at"]

    def get_queryset(self):
        scope = ("scope_store", "scope_purpose", "scope_tenant", "scope_service")
        return selectors.campaign_list().select_related(*scope)

    def get_serializer_class(self):
        return CampaignSerializer if self.action == "list" else CampaignDetailSerializer

    def _answer(self, campaign: Campaign, code=status.HTTP_200_OK, **headers) -> Response:
        fresh = self.get_queryset().get(pk=campaign.pk)
        return Response(CampaignDetailSerializer(fresh, context={"request": self.request}).data, code, headers=headers)

    def create(self, request, *args, **kwargs):
        form = CampaignCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        campaign = services.campaign_create(actor=request.user, **form.validated_data)
        return self._answer(
            campaign, status.HTTP_201_CREATED, Location=reverse("api-campaign-detail", args=[campaign.pk])
        )

    def _change(self, perform) -> Response:
        campaign = self.get_object()
        try:
            campaign = perform(campaign)
        except ValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        if campaign.status == CampaignStatus.LAUNCHING:
            return self._answer(campaign, status.HTTP_202_ACCEPTED, Location=job_status_url(campaign))
        return self._answer(campaign)

    @extend_schema(
        tags=["Campaigns"],
        summary="Launch a draft: one attestation per active key in scope, owners e-mailed (GRC)",
        request=None,
        responses={
            200: CampaignDetailSerializer,
            202: OpenApiResponse(CampaignDetailSerializer, description="Launching on a worker; poll `status_url`."),
            403: OpenApiResponse(description="Only GRC staff."),
            409: _CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        return self._change(lambda campaign: services.campaign_launch(campaign=campaign, actor=request.user))

    @extend_schema(
        tags=["Campaigns"],
        summary="Close a launched campaign: answers frozen, the results' SHA-256 recorded (GRC)",
        request=None,
        responses={200: CampaignDetailSerializer, 403: OpenApiResponse(description="Only GRC staff."), 409: _CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._change(lambda campaign: services.campaign_close(campaign=campaign, actor=request.user))

    @extend_schema(
        tags=["Campaigns"],
        summary="A campaign's attestations by key name (GRC, auditors)",
        parameters=[
            inline_serializer(
                "CampaignAttestationQuery",
                {
                    "status": serializers.ChoiceField(choices=AttestationStatus.choices, required=False),
                    "addressed_to": serializers.CharField(required=False, help_text="A username."),
                    "key_name": serializers.CharField(required=False, max_length=200),
                },
            )
        ],
        responses={200: AttestationSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def attestations(self, request, pk=None):
        campaign = self.get_object()
        query = _AttestationQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = selectors.campaign_attestations(
            campaign=campaign, status=data.get("status") or None, key_name=data.get("key_name", "")
        ).select_related("key__purpose")
        if data.get("addressed_to"):
            rows = rows.filter(addressed_to__username=data["addressed_to"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AttestationSerializer(page, many=True).data)


class _AttestationQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=AttestationStatus.choices, required=False)
    addressed_to = serializers.CharField(required=False, max_length=150)
    key_name = serializers.CharField(required=False, max_length=200)


# --- Attestations ---------------------------------------------------------------------------------------------


class ApiAttestationPermission(BasePermission):
    """Any role reads (narrowed by the queryset) and answers (the services check who may answer which);
    reassigning is GRC's."""

    message = "Your role does not allow this request."

    def has_permission(self, request, view) -> bool:
        if not user_roles(request.user):
            return False
        if request.method in SAFE_METHODS or view.action in ("confirm", "discrepancy"):
            return True
        return is_grc(request.user)


@extend_schema_view(
    list=extend_schema(
        tags=["Attestations"],
        summary="Attestations: all (GRC, auditors), else those you may answer",
    ),
    retrieve=extend_schema(tags=["Attestations"], summary="One attestation"),
)
class AttestationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ApiAttestationPermission]
    serializer_class = AttestationSerializer
    filterset_fields = {"campaign": ["exact"], "status": ["exact"], "key": ["exact"]}
    search_fields: list = []
    ordering_fields = ["responded_at", "id"]

    def get_queryset(self):
        rows = Attestation.objects.select_related(*ATTESTATION_JOINS).order_by("campaign_id", "key__name", "pk")
        user = self.request.user
        if getattr(self, "swagger_fake_view", False) or can_read_all(user):
            return rows
        return rows.filter(services.may_answer(user))

    @extend_schema(
        tags=["Attestations"],
        summary="Your inbox: pending attestations of launched campaigns you may answer, oldest due first",
        responses={200: AttestationSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def inbox(self, request):
        rows = selectors.attestation_inbox(user=request.user).select_related("key__purpose", "responded_by")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AttestationSerializer(page, many=True).data)

    @extend_schema(
        tags=["Attestations"],
        summary="Confirm attestations you may answer, stating you reviewed the keys",
        request=ConfirmSerializer,
        responses={
            200: inline_serializer("AttestationsConfirmed", {"confirmed": serializers.IntegerField()}),
            400: OpenApiResponse(description="`reviewed` not true, no selection, or already answered / closed."),
            403: OpenApiResponse(description="Some of them are not yours to answer: nothing was confirmed."),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def confirm(self, request):
        form = ConfirmSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            if data.get("all"):
                count = services.attestation_confirm_all(actor=request.user, campaign=data.get("campaign"))
            else:
                count = services.attestation_confirm(attestations=data["attestations"], actor=request.user)
        except PermissionDenied as exc:  # the service's reason, not a generic refusal
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        return Response({"confirmed": count})

    @extend_schema(
        tags=["Attestations"],
        summary="Report a discrepancy on a key, with a comment (opens the key's finding for GRC)",
        request=DiscrepancySerializer,
        responses={
            200: inline_serializer(
                "DiscrepancyReported", {"attestation": AttestationSerializer(), "finding": serializers.IntegerField()}
            ),
            400: OpenApiResponse(description="No comment, key material, or already answered / closed."),
            403: OpenApiResponse(description="Not yours to answer."),
        },
    )
    @action(detail=True, methods=["post"])
    def discrepancy(self, request, pk=None):
        attestation = self.get_object()
        form = DiscrepancySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            answered, finding = services.attestation_report_discrepancy(
                attestation=attestation, actor=request.user, comment=form.validated_data["comment"]
            )
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        fresh = self.get_queryset().get(pk=answered.pk)
        return Response({"attestation": AttestationSerializer(fresh).data, "finding": finding.pk})

    @extend_schema(
        tags=["Attestations"],
        summary="Address a pending attestation to another active user (GRC)",
        request=ReassignSerializer,
        responses={
            200: AttestationSerializer,
            400: OpenApiResponse(description="Not an active user, or not pending in a launched campaign."),
        },
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        attestation = self.get_object()
        form = ReassignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.attestation_reassign(attestation=attestation, actor=request.user, to=form.validated_data["to"])
        return Response(AttestationSerializer(self.get_queryset().get(pk=attestation.pk)).data)
