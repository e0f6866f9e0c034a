"""REST API of the inventory (``/api/v1/``): the same objects, filters and rules as the web UI.

Permissions (``cek.roles.ApiRolePermission``): GRC reads and writes everything, auditors read everything,
key owners read keys, bindings and grants of the keys they own or back up (the querysets come from
``inventory.selectors``, so another owner's key is a 404) and the purpose catalog. Writes go through
``inventory.services`` (in the serializers); deletes through ``key_delete`` / ``object_delete``, which
answer 400 with the reason when a row cannot go.

Every list runs a fixed number of queries whatever the page size: joins are decided in ``get_queryset``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from cek.filtering import FilterBackend
from inventory import serializers as s
from inventory.filters import BindingFilter, GrantFilter, KeyFilter
from inventory.keyrows import key_list_rows
from inventory.models import KeyStore, Party, Service, SsrmAssignment, Tenant
from inventory.selectors import PagedRows, binding_list, grant_list, key_list, key_list_keys, purpose_list
from inventory.services import key_delete, object_delete

_ERRORS = {
    400: OpenApiResponse(description='Invalid input: `{"detail": "...", "errors": {field: [messages]}}`.'),
    401: OpenApiResponse(description="Not authenticated (no, invalid, expired or revoked token or session)."),
    403: OpenApiResponse(description="Your role does not allow this request."),
    404: OpenApiResponse(description="Not found, or not visible to you."),
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``cek.apitokens.ApiTokenAuthentication`` as HTTP bearer authentication."""

    target_class = "cek.apitokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (create one at /accounts/tokens/ or with "
            "`manage.py create_api_token`), sent as `Authorization: Bearer cek_...`.",
        }


def _slug(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description)


# Filters that take a slug or username (``to_field_name``) would otherwise be documented as integers.
KEY_PARAMETERS = [
    _slug("purpose", "Purpose slug."),
    _slug("tenant", "Tenant slug."),
    _slug("service", "Service slug: keys that service is bound to."),
    _slug("owner", "Username: keys the user owns or backs up."),
]
BINDING_PARAMETERS = [
    _slug("service", "Service slug."),
    _slug("tenant", "Tenant slug."),
    _slug("purpose", "Purpose slug."),
]


def _documented(noun: str, serializer, *, delete_note: str = "", list_parameters: list | None = None):
    """Summaries and the JSON error responses for the actions of a viewset."""
    read = {k: _ERRORS[k] for k in (401, 403)}
    one = {**read, 404: _ERRORS[404]}
    invalid = {400: _ERRORS[400]}
    tags = [noun[:1].upper() + noun[1:]]
    return extend_schema_view(
        list=extend_schema(
            tags=tags,
            summary=f"List {noun}",
            parameters=list_parameters,
            responses={200: serializer(many=True), **invalid, **read},
        ),
        retrieve=extend_schema(tags=tags, summary=f"Get one of the {noun}", responses={200: serializer, **one}),
        create=extend_schema(
            tags=tags, summary=f"Create one of the {noun} (GRC)", responses={201: serializer, **invalid, **read}
        ),
        update=extend_schema(
            tags=tags, summary=f"Replace one of the {noun} (GRC)", responses={200: serializer, **invalid, **one}
        ),
        partial_update=extend_schema(
            tags=tags,
            summary=f"Change some fields of one of the {noun} (GRC)",
            responses={200: serializer, **invalid, **one},
        ),
        destroy=extend_schema(
            tags=tags,
            summary=f"Delete one of the {noun} (GRC)",
            description=delete_note
            or "Refused with 400 and the reason while other records still refer to it. Reassign or remove them first.",
            responses={204: None, **invalid, **one},
        ),
    )


class InventoryViewSet(viewsets.ModelViewSet):
    """Common behaviour: write through the serializer (which calls a service), answer with the row as the
    list shows it (re-read through ``get_queryset``), delete through ``object_delete``."""

    filter_backends = [FilterBackend, SearchFilter, OrderingFilter]

    def _reload(self, serializer) -> None:
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer) -> None:
        serializer.save()
        self._reload(serializer)

    def perform_update(self, serializer) -> None:
        serializer.save()
        self._reload(serializer)

    def perform_destroy(self, instance) -> None:
        object_delete(instance=instance, actor=self.request.user)


@_documented(
    "keys",
    s.KeySerializer,
    list_parameters=KEY_PARAMETERS,
    delete_note="Only keys in pre-activation (entered in error) can be deleted; any other key stays in the "
    "inventory for the audit trail and the answer is 400 with the reason: set its state instead.",
)
class KeyViewSet(InventoryViewSet):
    """Keys and secrets, described by metadata only. Filters and ordering are those of the web key list
    (``q``, ``store``, ``purpose``, ``function``, ``owner``, ``state``, ``kind``, ``tenant``, ``service``,
    ``ssrm_layer``, ``custodian``, ``overdue``, ``ai``, ``ordering``)."""

    key_owner_readable = True
    serializer_class = s.KeySerializer
    filterset_class = KeyFilter
    # KeyFilter carries its own ``q`` search and ``ordering`` (the web list's), so DRF's would clash.
    filter_backends = [FilterBackend]

    def get_queryset(self) -> QuerySet:
        if self.action == "list":  # the rows are read by KeyListRows, with the joins their columns need
            return key_list_keys(user=self.request.user)
        return key_list(user=self.request.user).select_related("purpose_approver").prefetch_related("exposed_to")

    def list(self, request, *args, **kwargs):
        """As DRF's ``list``, with ``KeySerializer(many=True)`` replaced by :class:`inventory.keyrows.KeyListRows`
        (same JSON) and the count taken without the rows' joins (:class:`PagedRows`): a page of 50 keys is the count,
        one row query and the parties the keys are exposed to."""
        keys = self.filter_queryset(self.get_queryset())
        rows = key_list_rows()

        def read(page):
            return rows.data(page, request=request, format=self.format_kwarg)

        page = self.paginate_queryset(PagedRows(keys, read))
        if page is None:
            return Response(read(keys))
        return self.get_paginated_response(page)

    def retrieve(self, request, *args, **kwargs):
        """As DRF's ``retrieve``, with the JSON built by :class:`inventory.keyrows.KeyListRows` as on the list (the
        same as ``KeySerializer``'s): the key's row in one query, its people by scalar subqueries rather than three
        joins of the user table, and its parties; no serializer fields built per request, and no list filter applied
        to one key. A key the user may not see, or an id that is not a number, is a 404."""
        try:
            pk = int(kwargs[self.lookup_url_kwarg or self.lookup_field])
        except (TypeError, ValueError):
            raise Http404 from None
        rows = key_list_rows().data(
            key_list_keys(user=request.user).filter(pk=pk).order_by(), request=request, format=self.format_kwarg
        )
        if not rows:
            raise Http404
        return Response(rows[0])

    def perform_destroy(self, instance) -> None:
        key_delete(key=instance, actor=self.request.user)


@_documented("purposes", s.PurposeSerializer)
class PurposeViewSet(InventoryViewSet):
    """The catalog of allowed key purposes (readable by every role)."""

    key_owner_readable = True
    serializer_class = s.PurposeSerializer
    filterset_fields = ["function", "key_type", "is_ai_specific", "is_active"]
    search_fields = ["slug", "name", "description"]
    ordering_fields = ["name", "slug", "function", "max_cryptoperiod_days", "key_count", "updated_at"]

    def get_queryset(self) -> QuerySet:
        # Aggregation drops Meta.ordering, and pages need a stable order.
        return purpose_list(user=self.request.user).order_by("name", "id")


@_documented("services", s.ServiceSerializer)
class ServiceViewSet(InventoryViewSet):
    serializer_class = s.ServiceSerializer
    filterset_fields = [
        "environment", "architectural_layer", "ssrm_layer", "lifecycle_phase", "operating_party", "is_active",
    ]  # fmt: skip
    search_fields = ["slug", "name", "description"]
    ordering_fields = ["name", "slug", "environment", "ssrm_layer", "lifecycle_phase", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return Service.objects.select_related("owner")


@_documented("tenants", s.TenantSerializer)
class TenantViewSet(InventoryViewSet):
    serializer_class = s.TenantSerializer
    filterset_fields = ["party", "is_active"]
    search_fields = ["slug", "name", "description"]
    ordering_fields = ["name", "slug", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return Tenant.objects.all()


@_documented("parties", s.PartySerializer)
class PartyViewSet(InventoryViewSet):
    """Organisations in the AI supply chain with their SSRM roles; saving one with ``is_us`` moves the mark."""

    serializer_class = s.PartySerializer
    filterset_fields = ["is_us"]
    search_fields = ["name", "description", "contact"]
    ordering_fields = ["name", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return Party.objects.all()


@_documented("SSRM assignments", s.SsrmAssignmentSerializer)
class SsrmAssignmentViewSet(InventoryViewSet):
    """Who carries CEK-11 at each SSRM layer, in which role."""

    serializer_class = s.SsrmAssignmentSerializer
    filterset_fields = ["layer", "party", "role"]
    search_fields = ["responsibility", "party__name"]
    ordering_fields = ["layer", "role", "party__name", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return SsrmAssignment.objects.select_related("party")


@_documented("key stores", s.KeyStoreSerializer)
class KeyStoreViewSet(InventoryViewSet):
    serializer_class = s.KeyStoreSerializer
    filterset_fields = ["kind", "operating_party"]
    search_fields = ["name", "account", "region", "description"]
    ordering_fields = ["name", "kind", "region", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return KeyStore.objects.all()


@_documented("bindings", s.BindingSerializer, list_parameters=BINDING_PARAMETERS)
class BindingViewSet(InventoryViewSet):
    """Which service (and tenant) uses a key, for which purpose, as which principal."""

    key_owner_readable = True
    serializer_class = s.BindingSerializer
    filterset_class = BindingFilter
    search_fields = ["principal", "notes", "key__name", "service__name"]
    ordering_fields = ["key__name", "service__name", "purpose__name", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return binding_list(user=self.request.user)


@_documented("access grants", s.AccessGrantSerializer)
class AccessGrantViewSet(InventoryViewSet):
    """Who may use a key, for which operations, approved by whom, until when."""

    key_owner_readable = True
    serializer_class = s.AccessGrantSerializer
    filterset_class = GrantFilter
    search_fields = ["principal", "justification", "key__name"]
    ordering_fields = ["key__name", "principal", "expires_on", "approved_on", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return grant_list(user=self.request.user)
