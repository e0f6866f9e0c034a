"""CCM-1: an approved key-management policy exists and its review is not overdue."""

from __future__ import annotations

from evidence import review_schedule
from evidence.checks.base import Check, CheckContext, Outcome, Subject, findings_link, link
from evidence.models import CheckStatus, Policy, PolicyArea, Severity
from evidence.selectors import policy_review_inputs


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
            return Outcome(
                status=CheckStatus.FAIL,
                metric="No approved key-management policy",
                numerator=0,
                denominator=0,
                explanation=(
                    "No policy or procedure covering key management (area “Key management”) has an approved "
                    "version in force. Approve one to meet this guideline."
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
                failing.append(
                    Subject("evidence.policy", policy.pk, policy.title, f"Review overdue since {due:%Y-%m-%d}.")
                )
        passing = len(policies) - len(failing)
        if not failing:
            status = CheckStatus.PASS
        else:
            status = CheckStatus.PARTIAL if passing else CheckStatus.FAIL
            evidence.append(findings_link(self.rule))
        return Outcome(
            status=status,
            metric=f"{passing} of {len(policies)} key-management policies in force and reviewed",
            numerator=passing,
            denominator=len(policies),
            explanation=(
                "Policies and procedures covering key management with an approved version in force; each must "
                "be reviewed at least every 12 months and after significant changes (IG-6). Pass when all are "
                "current; partial when at least one is current and another overdue; fail when none is."
            ),
            failing=failing,
            evidence=evidence,
        )
