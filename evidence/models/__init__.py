"""Evidence records. One module per family; everything is re-exported here so ``evidence.models.X`` works.

- ``policies``: policies and procedures, their versions, approvals, communication and acknowledgements
  (CEK-11 IG-1..3, CCM-1);
- ``reviews``: reviews, significant changes, effectiveness evaluations and review reminders (IG-5, IG-6).
"""

from __future__ import annotations

from evidence.models.policies import (
    Acknowledgement,
    Communication,
    DocumentKind,
    FrozenRecordError,
    Policy,
    PolicyApproval,
    PolicyArea,
    PolicyDelivery,
    PolicyKind,
    PolicyVersion,
    VersionStatus,
)
from evidence.models.reviews import (
    ChangeEvent,
    ChangeKind,
    EffectivenessEvaluation,
    EvaluationKind,
    EvaluationResult,
    PolicyReview,
    ReviewOutcome,
    ReviewReminder,
)

__all__ = [
    "Acknowledgement",
    "ChangeEvent",
    "ChangeKind",
    "Communication",
    "DocumentKind",
    "EffectivenessEvaluation",
    "EvaluationKind",
    "EvaluationResult",
    "FrozenRecordError",
    "Policy",
    "PolicyApproval",
    "PolicyArea",
    "PolicyDelivery",
    "PolicyKind",
    "PolicyReview",
    "PolicyVersion",
    "ReviewOutcome",
    "ReviewReminder",
    "VersionStatus",
]
