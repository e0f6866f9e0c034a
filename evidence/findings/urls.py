"""URLs of the findings (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.findings import views

urlpatterns = [
    path("findings/", views.FindingListView.as_view(), name="finding-list"),
    path("findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding-detail"),
    path("findings/<int:pk>/assign/", views.FindingActionView.as_view(action="assign"), name="finding-assign"),
    path("findings/<int:pk>/resolve/", views.FindingActionView.as_view(action="resolve"), name="finding-resolve"),
    path(
        "findings/<int:pk>/accept-risk/",
        views.FindingActionView.as_view(action="accept"),
        name="finding-accept-risk",
    ),
]
