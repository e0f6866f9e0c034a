from __future__ import annotations

from django.urls import include, path

from evidence import urls_packs

app_name = "evidence"

urlpatterns = [
    path("", include("evidence.policies.urls")),
    path("", include("evidence.reviews.urls")),
    path("", include("evidence.campaigns.urls")),
    path("", include("evidence.findings.urls")),
    path("", include("evidence.checks.urls")),
    path("", include("evidence.answers.urls")),
]
urlpatterns += urls_packs.urlpatterns
