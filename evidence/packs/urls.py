"""URLs of the evidence packs (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.packs import views

urlpatterns = [
    path("packs/", views.PackListView.as_view(), name="pack-list"),
    path("packs/new/", views.PackRequestView.as_view(), name="pack-request"),
    path("packs/verify/", views.PackVerifyView.as_view(), name="pack-verify"),
    path("packs/<int:pk>/", views.PackDetailView.as_view(), name="pack-detail"),
    path("packs/<int:pk>/status/", views.PackStatusView.as_view(), name="pack-status"),
    path("packs/<int:pk>/download/", views.PackDownloadView.as_view(), name="pack-download"),
    path("packs/<int:pk>/cancel/", views.PackActionView.as_view(action="cancel"), name="pack-cancel"),
    path("packs/<int:pk>/retry/", views.PackActionView.as_view(action="retry"), name="pack-retry"),
]
