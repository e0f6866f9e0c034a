"""Evidence records. Each feature keeps its models in its own ``models.py``; every model and enum is re-exported
here, so Django finds them under the app label ``evidence`` (tables and migrations unchanged) and
``evidence.models.X`` works everywhere.

- ``evidence.policies.models``: policies and procedures, their versions, approvals, communication and
  acknowledgements (CEK-11 IG-1..3, CCM-1);
- ``evidence.reviews.models``: reviews, significant changes, effectiveness evaluations and review reminders
  (IG-5, IG-6);
- ``evidence.campaigns.models``: attestation campaigns, attestations and their e-mail log;
- ``evidence.findings.models``: findings (one per rule and subject), open, risk accepted or resolved;
- ``evidence.checks.models``: check runs, their per-guideline results and manual evidence (AG-1..10, CCM-1..3);
- ``evidence.answers.models``: the CEK-11.1 AI-CAIQ answer per party, drafted from a check run and published
  frozen;
- ``evidence.iac.models``: recorded IaC gate scans and the IaC addresses their findings are about;
- ``evidence.usage.models``: usage-log ingestions (a job per file) and the usage aggregates they merge into;
- ``evidence.packs.models``: auditor evidence packs (built by workers, signed, immutable once ready) and their
  downloads;
- ``evidence.records``: the write-once base and the error of a write to a frozen record, which they share.

The policies' models are registered first, as they always were: the registry's order is the order in which a
new database gets its content types and permissions, and the order of a user's reverse relations.
"""

from __future__ import annotations

import evidence.policies.models  # noqa: F401  (registered first: see above)
from evidence.alerts.models import AlertChannel, AlertDelivery, AlertStatus
from evidence.answers.models import AnswerStatus, AnswerValue, CaiqAnswer, ControlOwnership
from evidence.campaigns.models import (
    DEFAULT_STATEMENT_VERSION,
    STATEMENT_SETS,
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignNotice,
    CampaignStatus,
    CarriedOver,
    NoticeKind,
    statements_digest,
)
from evidence.checks.models import (
    FAILING_SUBJECTS_KEPT,
    CheckResult,
    CheckRun,
    CheckStatus,
    ManualEvidence,
    RunStatus,
    RunTrigger,
)
from evidence.findings.models import Finding, FindingStatus, Severity
from evidence.iac.models import IacAddress, IacScan, IacSource
from evidence.packs.models import EvidencePack, PackDownload, PackStatus
from evidence.policies.models import (
    Acknowledgement,
    Communication,
    DocumentKind,
    Policy,
    PolicyApproval,
    PolicyArea,
    PolicyDelivery,
    PolicyKind,
    PolicyVersion,
    VersionStatus,
)
from evidence.records import FrozenRecordError
from evidence.reviews.models import (
    ChangeEvent,
    ChangeKind,
    EffectivenessEvaluation,
    EvaluationKind,
    EvaluationResult,
    PolicyReview,
    ReviewOutcome,
    ReviewReminder,
)
from evidence.usage.models import IngestionStatus, UnknownUsageKey, UsageAggregate, UsageIngestion

__all__ = [
    "DEFAULT_STATEMENT_VERSION",
    "FAILING_SUBJECTS_KEPT",
    "STATEMENT_SETS",
    "Acknowledgement",
    "AlertChannel",
    "AlertDelivery",
    "AlertStatus",
    "AnswerStatus",
    "AnswerValue",
    "Attestation",
    "AttestationStatus",
    "CaiqAnswer",
    "Campaign",
    "CampaignNotice",
    "CampaignStatus",
    "CarriedOver",
    "ChangeEvent",
    "ChangeKind",
    "CheckResult",
    "CheckRun",
    "CheckStatus",
    "Communication",
    "ControlOwnership",
    "DocumentKind",
    "EffectivenessEvaluation",
    "EvaluationKind",
    "EvaluationResult",
    "EvidencePack",
    "Finding",
    "FindingStatus",
    "FrozenRecordError",
    "IacAddress",
    "IacScan",
    "IacSource",
    "IngestionStatus",
    "ManualEvidence",
    "NoticeKind",
    "PackDownload",
    "PackStatus",
    "Policy",
    "PolicyApproval",
    "PolicyArea",
    "PolicyDelivery",
    "PolicyKind",
    "PolicyReview",
    "PolicyVersion",
    "ReviewOutcome",
    "ReviewReminder",
    "RunStatus",
    "RunTrigger",
    "Severity",
    "UnknownUsageKey",
    "UsageAggregate",
    "UsageIngestion",
    "VersionStatus",
    "statements_digest",
]
