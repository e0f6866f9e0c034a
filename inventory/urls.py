from __future__ import annotations

from django.urls import path

from inventory import import_views, views
from inventory.views import RESOURCES
from inventory.views.stores import KeyStoreConfirmInventoryView

app_name = "inventory"

PREFIXES = {
    "party": "parties",
    "ssrmassignment": "ssrm/assignments",
    "tenant": "tenants",
    "service": "services",
    "keystore": "key-stores",
    "purpose": "purposes",
    "binding": "bindings",
    "grant": "grants",
}

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("keys/", views.KeyListView.as_view(), name="key-list"),
    path("my-keys/", views.MyKeysView.as_view(), name="my-keys"),
    path("keys/new/", views.ObjectFormView.as_view(resource=RESOURCES["key"]), name="key-create"),
    path("keys/<int:pk>/", views.KeyDetailView.as_view(), name="key-detail"),
    path("keys/<int:pk>/edit/", views.ObjectFormView.as_view(resource=RESOURCES["key"]), name="key-update"),
    path("keys/<int:pk>/delete/", views.ObjectDeleteView.as_view(resource=RESOURCES["key"]), name="key-delete"),
    path("ssrm/", views.SsrmView.as_view(), name="ssrm"),
    path(
        "key-stores/<int:pk>/confirm-inventory/",
        KeyStoreConfirmInventoryView.as_view(),
        name="keystore-confirm-inventory",
    ),
    path("import/", import_views.ImportUploadView.as_view(), name="import"),
    path("import/template.csv", import_views.ImportTemplateView.as_view(), name="import-template"),
    path("import/<int:pk>/", import_views.ImportPreviewView.as_view(), name="import-preview"),
    path("import/<int:pk>/apply/", import_views.ImportApplyView.as_view(), name="import-apply"),
    path("import/<int:pk>/discard/", import_views.ImportDiscardView.as_view(), name="import-discard"),
    path("import/<int:pk>/retry/", import_views.ImportRetryView.as_view(), name="import-retry"),
    path("import/<int:pk>/status/", import_views.ImportStatusView.as_view(), name="import-status"),
    path("imports/", import_views.ImportListView.as_view(), name="import-list"),
    path("export/keys.csv", import_views.KeyExportView.as_view(), name="export-keys"),
    path("export/keys.cdx.json", import_views.KeyCbomExportView.as_view(), name="export-keys-cbom"),
    path("export/services.csv", import_views.ServiceExportView.as_view(), name="export-services"),
    path("export/bindings.csv", import_views.BindingExportView.as_view(), name="export-bindings"),
]

for name, prefix in PREFIXES.items():
    resource = RESOURCES[name]
    urlpatterns += [
        path(f"{prefix}/", views.ObjectListView.as_view(resource=resource), name=f"{name}-list"),
        path(f"{prefix}/new/", views.ObjectFormView.as_view(resource=resource), name=f"{name}-create"),
        path(f"{prefix}/<int:pk>/", views.ObjectDetailView.as_view(resource=resource), name=f"{name}-detail"),
        path(f"{prefix}/<int:pk>/edit/", views.ObjectFormView.as_view(resource=resource), name=f"{name}-update"),
        path(f"{prefix}/<int:pk>/delete/", views.ObjectDeleteView.as_view(resource=resource), name=f"{name}-delete"),
    ]
