"""Evidence pages. Reads go through ``evidence.selectors``; writes through ``evidence.services``."""

from __future__ import annotations

from evidence.views.acknowledgements import AcknowledgementListView, AcknowledgeView
from evidence.views.policies import PolicyDetailView, PolicyFormView, PolicyListView, ReviewCreateView
from evidence.views.records import (
    ChangeEventDetailView,
    ChangeEventFormView,
    ChangeEventListView,
    EvaluationDetailView,
    EvaluationFormView,
    EvaluationListView,
)
from evidence.views.versions import (
    VersionApproveView,
    VersionDeleteView,
    VersionDocumentView,
    VersionFormView,
    VersionSendView,
    VersionSubmitView,
    VersionWithdrawView,
)

__all__ = [
    "AcknowledgeView",
    "AcknowledgementListView",
    "ChangeEventDetailView",
    "ChangeEventFormView",
    "ChangeEventListView",
    "EvaluationDetailView",
    "EvaluationFormView",
    "EvaluationListView",
    "PolicyDetailView",
    "PolicyFormView",
    "PolicyListView",
    "ReviewCreateView",
    "VersionApproveView",
    "VersionDeleteView",
    "VersionDocumentView",
    "VersionFormView",
    "VersionSendView",
    "VersionSubmitView",
    "VersionWithdrawView",
]
