"""URLs of the policies, their versions and acknowledgements (included by ``evidence.urls``)."""

from __future__ import annotations

from django.urls import path

from evidence.policies.views import acknowledgements, policies, versions

urlpatterns = [
    path("policies/", policies.PolicyListView.as_view(), name="policy-list"),
    path("policies/new/", policies.PolicyFormView.as_view(), name="policy-create"),
    path("policies/<int:pk>/", policies.PolicyDetailView.as_view(), name="policy-detail"),
    path("policies/<int:pk>/edit/", policies.PolicyFormView.as_view(), name="policy-update"),
    path("policies/<int:policy_pk>/versions/new/", versions.VersionFormView.as_view(), name="version-create"),
    path("versions/<int:pk>/edit/", versions.VersionFormView.as_view(), name="version-update"),
    path("versions/<int:pk>/submit/", versions.VersionSubmitView.as_view(), name="version-submit"),
    path("versions/<int:pk>/withdraw/", versions.VersionWithdrawView.as_view(), name="version-withdraw"),
    path("versions/<int:pk>/delete/", versions.VersionDeleteView.as_view(), name="version-delete"),
    path("versions/<int:pk>/approve/", versions.VersionApproveView.as_view(), name="version-approve"),
    path("versions/<int:pk>/send/", versions.VersionSendView.as_view(), name="version-send"),
    path("versions/<int:pk>/document/", versions.VersionDocumentView.as_view(), name="version-document"),
    path("versions/<int:pk>/acknowledge/", acknowledgements.AcknowledgeView.as_view(), name="version-acknowledge"),
    path("acknowledgements/", acknowledgements.AcknowledgementListView.as_view(), name="acknowledgement-list"),
]
