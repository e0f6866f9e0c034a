"""URL of the OSCAL download (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.oscal import views

urlpatterns = [
    path("checks/runs/<int:pk>/oscal.json", views.CheckRunOscalView.as_view(), name="checkrun-oscal"),
]
