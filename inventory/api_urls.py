"""``/api/v1/``: one router over the inventory viewsets. URL names are ``api-<basename>-list/-detail``."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from inventory import api, import_api

router = DefaultRouter()
router.register("keys", api.KeyViewSet, basename="api-key")
router.register("purposes", api.PurposeViewSet, basename="api-purpose")
router.register("services", api.ServiceViewSet, basename="api-service")
router.register("tenants", api.TenantViewSet, basename="api-tenant")
router.register("parties", api.PartyViewSet, basename="api-party")
router.register("key-stores", api.KeyStoreViewSet, basename="api-key-store")
router.register("bindings", api.BindingViewSet, basename="api-binding")
router.register("grants", api.AccessGrantViewSet, basename="api-grant")
router.register("ssrm-assignments", api.SsrmAssignmentViewSet, basename="api-ssrm-assignment")
router.register("imports", import_api.KeyImportViewSet, basename="api-import")

urlpatterns = router.urls
