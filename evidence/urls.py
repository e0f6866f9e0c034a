from __future__ import annotations

from django.urls import include, path

app_name = "evidence"

urlpatterns = [
    path("", include("evidence.policies.urls")),
    path("", include("evidence.reviews.urls")),
    path("", include("evidence.campaigns.urls")),
    path("", include("evidence.findings.urls")),
    path("", include("evidence.checks.urls")),
    path("", include("evidence.answers.urls")),
    path("", include("evidence.packs.urls")),
    path("", include("evidence.iac.urls")),
    path("", include("evidence.usage.urls")),
    path("", include("evidence.alerts.urls")),
]
