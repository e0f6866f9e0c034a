"""URLs of check runs, guideline results and manual evidence (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.checks import views as checks

urlpatterns = [
    path("checks/", checks.CheckRunListView.as_view(), name="checkrun-list"),
    path("checks/run/", checks.CheckRunStartView.as_view(), name="checkrun-start"),
    path("checks/runs/<int:pk>/", checks.CheckRunDetailView.as_view(), name="checkrun-detail"),
    path("checks/runs/<int:pk>/retry/", checks.CheckRunRetryView.as_view(), name="checkrun-retry"),
    path("checks/results/<int:pk>/", checks.CheckResultDetailView.as_view(), name="checkresult-detail"),
    path("checks/results/<int:pk>/evidence/", checks.CheckManualEvidenceView.as_view(), name="checkresult-evidence"),
    path(
        "checks/evidence/<int:pk>/document/",
        checks.CheckManualEvidenceDocumentView.as_view(),
        name="checkevidence-document",
    ),
]
