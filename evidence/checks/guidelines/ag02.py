"""AG-2: each key's purpose mapping is documented (a justification) and reviewed periodically."""

from __future__ import annotations

import datetime as dt

from evidence.checks.base import KEYS_IN_USE, Check, CheckContext, Outcome, day, key_subject, keys_in_use_link
from evidence.models import Severity


class PurposeMappingReviewed(Check):
    guideline_id = "AG-2"
    title = "Purpose mappings are documented and reviewed"
    rule = "ag-2-mapping"
    severity = Severity.MEDIUM

    def evaluate(self, ctx: CheckContext) -> Outcome:
        oldest = ctx.today - dt.timedelta(days=ctx.purpose_review_days)
        failing = []
        for key in ctx.keys:
            if key.purpose_id is None:
                failing.append(key_subject(key, "No purpose mapping to document or review."))
                continue
            if key.platform_managed:
                continue
            reasons = []
            if not key.purpose_justification.strip():
                reasons.append("The purpose mapping has no justification.")
            if key.purpose_reviewed_on is None:
                reasons.append("The purpose mapping was never reviewed.")
            elif key.purpose_reviewed_on < oldest:
                reasons.append(f"The purpose mapping was last reviewed on {day(key.purpose_reviewed_on)}.")
            if reasons:
                failing.append(key_subject(key, " ".join(reasons)))
        explanation = (
            f"Every key in use (active or suspended) needs a written justification of its purpose mapping and a review within the "
            f"last {ctx.purpose_review_days:,} days (reviewed on or after {day(oldest)}). "
            f"Platform-managed keys ({ctx.platform_managed_count:,} here) are counted but exempt from the "
            f"justification and review: the platform fixes their use.{ctx.not_evaluated_note()}"
        )
        return self.result(
            failing=failing,
            total=len(ctx.keys),
            unit=KEYS_IN_USE,
            explanation=explanation,
            evidence=[keys_in_use_link()],
            na_reason=ctx.no_keys_reason(),
        )
