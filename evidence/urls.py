from __future__ import annotations

from django.urls import include, path

from evidence import urls_answers, urls_packs

app_name = "evidence"

urlpatterns = [
    path("", include("evidence.policies.urls")),
    path("", include("evidence.reviews.urls")),
    path("", include("evidence.campaigns.urls")),
    path("", include("evidence.findings.urls")),
    path("", include("evidence.checks.urls")),
]
urlpatterns += urls_answers.urlpatterns
urlpatterns += urls_packs.urlpatterns
