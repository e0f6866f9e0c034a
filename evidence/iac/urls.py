"""URLs of the IaC scans pages (included by ``evidence.urls``). A repository's name may contain "/": the
repository page takes the rest of the path."""

from __future__ import annotations

from django.urls import path

from evidence.iac import views as iac

urlpatterns = [
    path("iac/", iac.IacRepositoryListView.as_view(), name="iacscan-list"),
    path("iac/scans/<int:pk>/", iac.IacScanDetailView.as_view(), name="iacscan-detail"),
    path("iac/repositories/<path:repository>/", iac.IacRepositoryDetailView.as_view(), name="iacscan-repository"),
]
