"""URLs of the notification log (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.alerts import views

urlpatterns = [
    path("alerts/", views.AlertDeliveryListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/retry/", views.AlertDeliveryRetryView.as_view(), name="alert-retry"),
]
