"""Writes of the policy evidence. Views, admin, tasks and commands call these; none of them save models directly.

Each service validates (``full_clean``), saves inside ``transaction.atomic``, attributes the change to
``actor`` in the history tables, keeps the derived review due dates current and queues e-mail on commit.

- ``policies``: policies and versions (create, edit drafts, submit, withdraw, delete drafts, approve);
- ``communication``: sending the version in force to audiences, e-mailing each recipient once, acknowledging;
- ``reviews``: reviews, significant changes, effectiveness evaluations, due dates and review reminders;
- ``campaigns``: attestation campaigns (launch, answers, reminders, escalation, close);
- ``findings``: the finding upsert, GRC's assign / resolve / accept-risk, and expired acceptances reopening;
- ``answers``: the CEK-11.1 answer (generate a draft, edit, publish frozen with its digest);
- ``writes``: attribution and the guards every write shares.
"""

from __future__ import annotations

from evidence.answers.services import answer_generate, answer_publish, answer_update
from evidence.campaigns.services import (
    DISCREPANCY_RULE,
    attestation_confirm,
    attestation_confirm_all,
    attestation_reassign,
    attestation_report_discrepancy,
    campaign_close,
    campaign_create,
    campaign_keys,
    campaign_launch,
    campaign_launch_run,
    campaign_remind,
    campaign_results_csv,
    campaign_results_digest,
    campaigns_requeue_stalled,
)
from evidence.checks.services import (
    CheckRunError,
    check_run_execute,
    check_run_retry,
    check_run_start,
    checks_fail_stale,
    manual_evidence_add,
)
from evidence.findings.services import (
    finding_accept_risk,
    finding_acceptances_expire,
    finding_assign,
    finding_resolve,
    finding_upsert,
)
from evidence.policies.services import (
    MAX_EMAIL_ATTEMPTS,
    SendResult,
    acknowledgement_record,
    communication_send,
    policy_create,
    policy_emails_send,
    policy_save,
    policy_version_approve,
    policy_version_delete,
    policy_version_save,
    policy_version_submit,
    policy_version_withdraw,
)
from evidence.reviews.services import (
    change_event_save,
    evaluation_save,
    policy_review_due_refresh,
    policy_review_record,
    policy_review_reminders_send,
)

__all__ = [
    "DISCREPANCY_RULE",
    "MAX_EMAIL_ATTEMPTS",
    "CheckRunError",
    "SendResult",
    "acknowledgement_record",
    "answer_generate",
    "answer_publish",
    "answer_update",
    "attestation_confirm",
    "attestation_confirm_all",
    "attestation_reassign",
    "attestation_report_discrepancy",
    "campaign_close",
    "campaign_create",
    "campaign_keys",
    "campaign_launch",
    "campaign_launch_run",
    "campaign_remind",
    "campaign_results_csv",
    "campaign_results_digest",
    "campaigns_requeue_stalled",
    "change_event_save",
    "check_run_execute",
    "check_run_retry",
    "check_run_start",
    "checks_fail_stale",
    "communication_send",
    "evaluation_save",
    "finding_accept_risk",
    "finding_acceptances_expire",
    "finding_assign",
    "finding_resolve",
    "finding_upsert",
    "manual_evidence_add",
    "policy_create",
    "policy_emails_send",
    "policy_review_due_refresh",
    "policy_review_record",
    "policy_review_reminders_send",
    "policy_save",
    "policy_version_approve",
    "policy_version_delete",
    "policy_version_save",
    "policy_version_submit",
    "policy_version_withdraw",
]
