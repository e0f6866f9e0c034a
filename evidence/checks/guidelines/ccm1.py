"""CCM-1: an approved key-management policy exists and its review is not overdue."""

from __future__ import annotations

from evidence.checks.base import (
    STATUS_RULE,
    Check,
    CheckContext,
    Outcome,
    Subject,
    day,
    findings_link,
    link,
    status_for,
)
from evidence.models import Policy, PolicyArea, Severity
from evidence.reviews import schedule as review_schedule
from evidence.reviews.selectors import policy_review_inputs


class KeyManagementPolicy(Check):
    guideline_id = "CCM-1"
    title = "An approved key-management policy is in force and reviewed"
    rule = "ccm-1-policy"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        policies = [
            policy
            for policy in Policy.objects.filter(retired_on__isnull=True, current_version__isnull=False)
            .select_related("current_version")
            .order_by("title", "pk")
            if PolicyArea.KEY_MANAGEMENT in (policy.areas or [])
        ]
        evidence = [link("Policies and procedures", "evidence:policy-list")]
        if not policies:
            # The guideline requires a policy to exist: the missing one is its one failing subject (0 of 1),
            # so the status rule gives "fail", not "not applicable".
            return Outcome(
                status=status_for(0, 1),
                metric="No approved key-management policy",
                numerator=0,
                denominator=1,
                explanation=(
                    "No policy or procedure covering key management (area “Key management”) has an approved "
                    f"version in force. Approve one to meet this guideline. {STATUS_RULE}"
                ),
                evidence=evidence,
            )
        inputs = policy_review_inputs(policy_ids=[p.pk for p in policies])
        failing = []
        for policy in policies:
            due = inputs[policy.pk].next_review_due
            version = policy.current_version
            evidence.append(
                {
                    "label": f"{policy.title} v{version.label}",
                    "url": policy.get_absolute_url(),
                    **({"sha256": version.document_sha256} if version.document_sha256 else {}),
                }
            )
            if review_schedule.is_overdue(due, ctx.today):
                failing.append(Subject("evidence.policy", policy.pk, policy.title, f"Review overdue since {day(due)}."))
        passing = len(policies) - len(failing)
        status = status_for(passing, len(policies))
        if failing:
            evidence.append(findings_link(self.rule))
        return Outcome(
            status=status,
            metric=f"{passing} of {len(policies)} key-management policies in force and reviewed",
            numerator=passing,
            denominator=len(policies),
            explanation=(
                "Policies and procedures covering key management with an approved version in force; each must "
                f"be reviewed at least every 12 months and after significant changes (IG-6). {STATUS_RULE}"
            ),
            failing=failing,
            evidence=evidence,
        )
