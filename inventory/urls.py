from __future__ import annotations

from django.urls import path

from inventory import views
from inventory.views import RESOURCES

app_name = "inventory"

PREFIXES = {
    "party": "parties", "ssrmassignment": "ssrm/assignments", "tenant": "tenants", "service": "services",
    "keystore": "key-stores", "purpose": "purposes", "binding": "bindings", "grant": "grants",
}

urlpatterns = [
    path("keys/", views.KeyListView.as_view(), name="key-list"),
    path("my-keys/", views.MyKeysView.as_view(), name="my-keys"),
    path("keys/new/", views.ObjectFormView.as_view(resource=RESOURCES["key"]), name="key-create"),
    path("keys/<int:pk>/", views.KeyDetailView.as_view(), name="key-detail"),
    path("keys/<int:pk>/edit/", views.ObjectFormView.as_view(resource=RESOURCES["key"]), name="key-update"),
    path("keys/<int:pk>/delete/", views.ObjectDeleteView.as_view(resource=RESOURCES["key"]), name="key-delete"),
    path("ssrm/", views.SsrmView.as_view(), name="ssrm"),
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
