"""Personal API tokens: ``/accounts/tokens/`` (included from ``cek.urls``)."""

from __future__ import annotations

from django.urls import path

from cek import token_views

urlpatterns = [
    path("", token_views.TokenListView.as_view(), name="api-tokens"),
    path("<int:pk>/revoke/", token_views.token_revoke, name="api-token-revoke"),
]
