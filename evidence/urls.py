from __future__ import annotations

from django.urls import include, path

from evidence import urls_answers, urls_checks, urls_packs
from evidence.views import campaigns

app_name = "evidence"

urlpatterns = [
    path("", include("evidence.policies.urls")),
    path("", include("evidence.reviews.urls")),
    path("campaigns/", campaigns.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/new/", campaigns.CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/launch/", campaigns.CampaignActionView.as_view(action="launch"), name="campaign-launch"),
    path("campaigns/<int:pk>/close/", campaigns.CampaignActionView.as_view(action="close"), name="campaign-close"),
    path(
        "campaigns/<int:pk>/attestations/",
        campaigns.CampaignAttestationListView.as_view(),
        name="campaign-attestations",
    ),
    path("campaigns/<int:pk>/status/", campaigns.CampaignStatusView.as_view(), name="campaign-status"),
    path("campaigns/<int:pk>/results.csv", campaigns.CampaignExportView.as_view(), name="campaign-export"),
    path("attestations/", campaigns.InboxView.as_view(), name="attestation-inbox"),
    path("attestations/confirm/", campaigns.InboxConfirmView.as_view(), name="attestation-confirm"),
    path(
        "attestations/<int:pk>/discrepancy/", campaigns.InboxDiscrepancyView.as_view(), name="attestation-discrepancy"
    ),
    path("attestations/<int:pk>/reassign/", campaigns.AttestationReassignView.as_view(), name="attestation-reassign"),
    path("", include("evidence.findings.urls")),
]
urlpatterns += urls_checks.urlpatterns + urls_answers.urlpatterns
urlpatterns += urls_packs.urlpatterns
