"""REST API of findings (``/api/v1/findings/``), with the findings pages' visibility: GRC and auditors read every
finding, a key owner the findings on the keys they own or back up (another owner's are 404), users without a role
nothing. The list takes the pages' filters (``status``, ``severity``, ``rule``, ``owner``, ``key``, ``assigned_to``,
``ordering``) plus ``subject_type`` and ``open_at`` (open on a day), each validated (an unknown value is a 400).

GRC's judgements are POST actions on a finding, through the same services as the page: ``assign`` (an active
user and the remediation date), ``accept-risk`` (until a future date, with a reason), ``resolve`` (with the note
that is the evidence of the fix). Each answers the finding as it now stands.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cek.forms import active_users
from cek.keymaterial import KeyMaterialValidator
from evidence.findings import selectors, services
from evidence.models import Finding, Severity

STATUS_CHOICES = [(value, label) for value, (label, _q) in selectors.STATUS_FILTERS.items()]
ORDERING_CHOICES = [(value or "last_seen", label) for value, (label, _o) in selectors.ORDERINGS.items()]


class FindingSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The finding's page in the app.")
    subject_url = serializers.SerializerMethodField(help_text="The subject's page, empty when it has none.")
    key_owner = serializers.CharField(
        read_only=True, allow_null=True, help_text="Username of the subject key's owner, if any."
    )
    acceptance_lapsed = serializers.BooleanField(
        read_only=True, help_text="Risk accepted until a day now past: counted as open."
    )
    remediation_late = serializers.BooleanField(read_only=True, help_text="Unresolved past its remediation date.")
    assigned_to = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = (
            "id", "url", "rule", "subject_type", "subject_id", "subject_label", "subject_url", "key_owner",
            "severity", "status", "acceptance_lapsed", "first_seen", "last_seen", "assigned_to", "remediation_due",
            "remediation_late", "accepted_until", "accepted_by", "accepted_reason", "resolved_at", "resolved_by",
        )  # fmt: skip
        read_only_fields = fields

    def get_url(self, finding: Finding) -> str:
        return finding.get_absolute_url()

    def get_subject_url(self, finding: Finding) -> str:
        return selectors.subject_url(finding)


class FindingDetailSerializer(FindingSerializer):
    class Meta(FindingSerializer.Meta):
        fields = (*FindingSerializer.Meta.fields, "details")
        read_only_fields = fields


class FindingQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES, required=False, help_text="`open` counts ended acceptances."
    )
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    rule = serializers.SlugField(max_length=80, required=False, help_text="The rule, e.g. `ag-3-single-purpose`.")
    subject_type = serializers.CharField(max_length=80, required=False, help_text="e.g. `inventory.key`.")
    key = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, help_text="The subject key's id.")
    owner = serializers.CharField(max_length=150, required=False, help_text="Username of the subject key's owner.")
    assigned_to = serializers.CharField(
        max_length=150, required=False, help_text="Username of the assignee, or `none` for unassigned findings."
    )
    open_at = serializers.DateField(
        required=False, help_text="Open on this day: first seen by then and not resolved by then."
    )
    ordering = serializers.ChoiceField(choices=ORDERING_CHOICES, required=False, default="last_seen")


class AssignSerializer(serializers.Serializer):
    assigned_to = serializers.SlugRelatedField(
        slug_field="username", queryset=active_users(), help_text="Username of the active user remediating it."
    )
    remediation_due = serializers.DateField(help_text="When the remediation is due (today or later).")


class AcceptRiskSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="The last day of the acceptance (after today); the finding reopens after.")
    reason = serializers.CharField(max_length=2000, validators=[KeyMaterialValidator()])


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=100,
        validators=[KeyMaterialValidator()],
        help_text="What was done about it: kept in the finding's history for auditors.",
    )


_ACTION_ERRORS = {
    400: OpenApiResponse(description="Invalid fields, or the finding is resolved: `detail`, `errors`."),
    403: OpenApiResponse(description="Only GRC staff judge findings."),
    404: OpenApiResponse(description="No such finding visible to you."),
}


@extend_schema_view(
    list=extend_schema(
        tags=["Findings"],
        summary="Findings you may see, filtered (key owners: those on their keys)",
        parameters=[FindingQuerySerializer],
    ),
    retrieve=extend_schema(tags=["Findings"], summary="One finding with its evidence (`details`)"),
)
class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    key_owner_readable = True
    filter_backends: list = []  # the query is validated by FindingQuerySerializer and applied by the selectors

    def get_queryset(self):
        today = timezone.localdate()
        if self.action != "list":
            return selectors.finding_detail(user=self.request.user, today=today).order_by("-last_seen", "-pk")
        query = FindingQuerySerializer(data=self.request.query_params)
        if not query.is_valid():
            raise exceptions.ValidationError(query.errors)
        data = query.validated_data
        filters = selectors.FindingFilters(
            rule=data.get("rule", ""),
            severity=data.get("severity", ""),
            status=data.get("status", ""),
            owner=data.get("owner", ""),
            key=data.get("key"),
            assigned=data.get("assigned_to", ""),
            sort="" if data["ordering"] == "last_seen" else data["ordering"],
        )
        findings = selectors.finding_list(user=self.request.user, filters=filters, today=today)
        if data.get("subject_type"):
            findings = findings.filter(subject_type=data["subject_type"])
        if data.get("open_at"):
            findings = findings.filter(selectors.open_on(data["open_at"]))
        return findings

    def get_serializer_class(self):
        return FindingSerializer if self.action == "list" else FindingDetailSerializer

    def _judged(self, request, form_class, perform) -> Response:
        finding = self.get_object()
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        perform(finding, form.validated_data)
        fresh = self.get_queryset().get(pk=finding.pk)
        return Response(FindingDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        tags=["Findings"],
        summary="Assign the remediation to a user with a due date (GRC)",
        request=AssignSerializer,
        responses={200: FindingDetailSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._judged(
            request,
            AssignSerializer,
            lambda finding, data: services.finding_assign(
                finding=finding,
                actor=request.user,
                assignee=data["assigned_to"],
                remediation_due=data["remediation_due"],
            ),
        )

    @extend_schema(
        tags=["Findings"],
        summary="Accept the risk until a date, with a reason (GRC; you are the approver)",
        request=AcceptRiskSerializer,
        responses={200: FindingDetailSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="accept-risk")
    def accept_risk(self, request, pk=None):
        return self._judged(
            request,
            AcceptRiskSerializer,
            lambda finding, data: services.finding_accept_risk(
                finding=finding, actor=request.user, until=data["until"], reason=data["reason"]
            ),
        )

    @extend_schema(
        tags=["Findings"],
        summary="Resolve, saying what was done (GRC; it reopens if its rule sees the subject again)",
        request=ResolveSerializer,
        responses={200: FindingDetailSerializer, **_ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._judged(
            request,
            ResolveSerializer,
            lambda finding, data: services.finding_resolve(finding=finding, actor=request.user, note=data["note"]),
        )
