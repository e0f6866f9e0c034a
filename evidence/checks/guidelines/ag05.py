"""AG-5: access to purpose-bound keys is justified, approved, unexpired and granted to specific principals."""

from __future__ import annotations

from evidence.checks.base import Check, CheckContext, Outcome, Subject, day, link
from evidence.models import Severity


def is_wildcard(principal: str) -> bool:
    return "*" in principal or principal.strip() in ("", "all", "everyone", "any")


class LeastPrivilegeAccess(Check):
    guideline_id = "AG-5"
    title = "Access to keys follows least privilege"
    rule = "ag-5-access"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        keys = ctx.keys_by_id
        total = 0
        for grant in ctx.grants:
            key = keys.get(grant.key_id)
            if key is None:
                continue
            total += 1
            reasons = []
            if not grant.justification.strip():
                reasons.append("no justification")
            if grant.approver_id is None or grant.approved_on is None:
                reasons.append("not approved (approver and approval date)")
            if grant.expires_on is not None and grant.expires_on < ctx.today:
                reasons.append(f"expired on {day(grant.expires_on)}")
            if is_wildcard(grant.principal):
                reasons.append(f"the principal {grant.principal or '(empty)'} is not a specific one")
            if reasons:
                reason = "; ".join(reasons)
                failing.append(
                    Subject(
                        "inventory.accessgrant",
                        grant.id,
                        f"{grant.principal} on {key.name}",
                        reason[0].upper() + reason[1:] + ".",
                    )
                )
        explanation = (
            "Every access grant on a key in use (active or suspended) needs a justification, an approver and an approval date, must "
            "not have expired, and must name a specific principal (no wildcard such as *)."
        )
        return self.result(
            failing=failing,
            total=total,
            unit="access grants",
            explanation=explanation,
            evidence=[
                link("Access grants", "inventory:grant-list"),
                link("Expired grants", "inventory:grant-list", expired="true"),
            ],
            na_reason="No access grant on a key in use is recorded, so there is nothing to evaluate.",
        )
