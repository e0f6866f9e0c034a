from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from cek import views
from cek.control_views import ControlView
from cek.jobs.views import JobStatusView

handler404 = "cek.errorpages.not_found"

urlpatterns = [
    path("", include("evidence.dashboard.urls")),  # the dashboard, "home" (by dotted path: cek imports no app)
    path("healthz", views.healthz, name="healthz"),
    path("control/", ControlView.as_view(), name="control"),
    path("jobs/<slug:kind>/<int:pk>/status/", JobStatusView.as_view(), name="job-status"),
    path("accounts/tokens/", include("cek.token_urls")),
    path("accounts/", include("cek.account_urls")),
    path("inventory/", include("inventory.urls")),
    path("evidence/", include("evidence.urls")),
    path("api/v1/", include("inventory.api_urls")),
    path("api/v1/", include("evidence.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
