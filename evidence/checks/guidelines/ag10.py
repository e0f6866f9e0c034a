"""AG-10: keys exposed to other parties are purpose-scoped and contractually restricted."""

from __future__ import annotations

from evidence.checks.base import Check, CheckContext, Outcome, key_subject, keys_in_use_link
from evidence.models import Severity


class ExposureScoped(Check):
    guideline_id = "AG-10"
    title = "Keys exposed to other parties are scoped and contracted"
    rule = "ag-10-exposure"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        total = 0
        for key in ctx.keys:
            if key.id not in ctx.exposed_to:
                continue
            total += 1
            missing = []
            if not key.exposure_scope.strip():
                missing.append("an exposure scope")
            if not key.exposure_contract.strip():
                missing.append("a contract reference")
            if missing:
                failing.append(
                    key_subject(
                        key,
                        f"Exposed to {len(ctx.exposed_to[key.id])} part{'y' if len(ctx.exposed_to[key.id]) == 1 else 'ies'} without {' or '.join(missing)}.",
                    )
                )
        explanation = (
            "Every key in use (active or suspended) exposed to another party (an application provider, an AI customer, ...) needs a "
            "written exposure scope (what the party may use it for) and the reference of the contract that "
            f"restricts it.{ctx.not_evaluated_note()}"
        )
        return self.result(
            failing=failing,
            total=total,
            unit="exposed keys",
            explanation=explanation,
            evidence=[keys_in_use_link()],
            na_reason=ctx.no_keys_reason() if not ctx.keys else "No key in use is exposed to another party.",
        )
