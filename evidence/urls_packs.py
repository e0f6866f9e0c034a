"""URLs of the evidence packs (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.views import packs

urlpatterns = [
    path("packs/", packs.PackListView.as_view(), name="pack-list"),
    path("packs/new/", packs.PackRequestView.as_view(), name="pack-request"),
    path("packs/verify/", packs.PackVerifyView.as_view(), name="pack-verify"),
    path("packs/<int:pk>/", packs.PackDetailView.as_view(), name="pack-detail"),
    path("packs/<int:pk>/status/", packs.PackStatusView.as_view(), name="pack-status"),
    path("packs/<int:pk>/download/", packs.PackDownloadView.as_view(), name="pack-download"),
    path("packs/<int:pk>/cancel/", packs.PackActionView.as_view(action="cancel"), name="pack-cancel"),
    path("packs/<int:pk>/retry/", packs.PackActionView.as_view(action="retry"), name="pack-retry"),
]
