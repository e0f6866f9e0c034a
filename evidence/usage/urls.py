"""URLs of the usage-log pages (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.usage import views as usage

urlpatterns = [
    path("usage/ingestions/", usage.UsageIngestionListView.as_view(), name="usage-ingestion-list"),
    path("usage/ingestions/<int:pk>/", usage.UsageIngestionDetailView.as_view(), name="usage-ingestion-detail"),
]
