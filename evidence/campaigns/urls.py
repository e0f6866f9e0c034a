"""URLs of the attestation campaigns and the key owner's attestation inbox (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.campaigns import views

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/launch/", views.CampaignActionView.as_view(action="launch"), name="campaign-launch"),
    path("campaigns/<int:pk>/close/", views.CampaignActionView.as_view(action="close"), name="campaign-close"),
    path(
        "campaigns/<int:pk>/attestations/",
        views.CampaignAttestationListView.as_view(),
        name="campaign-attestations",
    ),
    path("campaigns/<int:pk>/status/", views.CampaignStatusView.as_view(), name="campaign-status"),
    path("campaigns/<int:pk>/results.csv", views.CampaignExportView.as_view(), name="campaign-export"),
    path("attestations/", views.InboxView.as_view(), name="attestation-inbox"),
    path("attestations/confirm/", views.InboxConfirmView.as_view(), name="attestation-confirm"),
    path("attestations/<int:pk>/discrepancy/", views.InboxDiscrepancyView.as_view(), name="attestation-discrepancy"),
    path("attestations/<int:pk>/reassign/", views.AttestationReassignView.as_view(), name="attestation-reassign"),
]
