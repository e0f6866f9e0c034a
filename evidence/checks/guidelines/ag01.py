"""AG-1: every key in use has exactly one purpose, compatible with its kind and with its platform usage."""

from __future__ import annotations

from functools import lru_cache

from evidence.checks.base import KEYS_IN_USE, Check, CheckContext, Outcome, key_subject, keys_in_use_link
from evidence.models import Severity
from inventory.models import KeyKind
from inventory.usage import usage_conflict


@lru_cache(maxsize=4096)
def _conflict(platform_usage: str, function: str) -> str | None:
    return usage_conflict(platform_usage, function)


class PurposeAssigned(Check):
    guideline_id = "AG-1"
    title = "Each key has one purpose, compatible with its platform usage"
    rule = "ag-1-purpose"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        for key in ctx.keys:
            if key.purpose_id is None:
                failing.append(key_subject(key, "No purpose assigned (found by an import, not mapped yet)."))
                continue
            purpose = ctx.purposes[key.purpose_id]
            reasons = []
            if key.platform_usage:
                conflict = _conflict(key.platform_usage, purpose.function)
                if conflict:
                    reasons.append(conflict[0].upper() + conflict[1:] + ".")
            if purpose.allowed_kinds and key.kind not in purpose.allowed_kinds:
                reasons.append(
                    f"A {KeyKind(key.kind).label.lower()} is not a kind the purpose “{purpose.name}” allows."
                )
            if reasons:
                failing.append(key_subject(key, " ".join(reasons)))
        explanation = (
            f"Every key in use (active or suspended) must carry exactly one purpose (the inventory allows one per key) whose "
            f"cryptographic function the key's platform usage allows (e.g. AWS KeyUsage SIGN_VERIFY cannot serve "
            f"an encryption purpose) and whose allowed key kinds include the key's kind. "
            f"Platform-managed keys ({ctx.platform_managed_count:,} here) are evaluated like the others."
            f"{ctx.not_evaluated_note()}"
        )
        return self.result(
            failing=failing,
            total=len(ctx.keys),
            unit=KEYS_IN_USE,
            explanation=explanation,
            evidence=[
                keys_in_use_link(),
                keys_in_use_link("Keys in use without a purpose", unassigned="true"),
            ],
            na_reason=ctx.no_keys_reason(),
        )
