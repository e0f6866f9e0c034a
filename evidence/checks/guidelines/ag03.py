"""AG-3: no key is bound to, tagged for or used for more than one purpose."""

from __future__ import annotations

from evidence.checks.base import KEYS_IN_USE, Check, CheckContext, Outcome, key_subject, keys_in_use_link, link
from evidence.models import Severity


class NoPurposeReuse(Check):
    guideline_id = "AG-3"
    title = "No key is reused for several purposes"
    rule = "ag-3-single-purpose"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        purposes, stores = ctx.purposes, ctx.stores
        for key in ctx.keys:
            reasons = []
            bound = ctx.binding_other_purposes.get(key.id, ())
            if key.purpose_id is not None:
                other = sorted(purposes[pk].slug for pk in bound)
                if other:
                    reasons.append(
                        f"Bound for {', '.join(other)} while its purpose is {purposes[key.purpose_id].slug}."
                    )
            elif len(bound) > 1:
                reasons.append(
                    f"Bound for {len(bound)} purposes: {', '.join(sorted(purposes[pk].slug for pk in bound))}."
                )
            tag_key = stores[key.store_id].purpose_tag_key
            tagged = key.purpose_label if tag_key else None
            if tagged and key.purpose_id is not None and not ctx.purpose_tags.names(tagged, purposes[key.purpose_id]):
                reasons.append(
                    f"Its {tag_key} label says {tagged} while its purpose is {purposes[key.purpose_id].slug}."
                )
            if reasons:
                failing.append(key_subject(key, " ".join(reasons)))
        explanation = (
            "A key fails when a binding uses it for a purpose other than its recorded purpose (or, for a key "
            "without a purpose, when bindings use it for several purposes), or when its purpose label (the "
            "store's purpose tag key) names a different purpose (a label may give the purpose's name or its short "
            "name). Platform-managed keys are evaluated like the "
            f"others.{ctx.not_evaluated_note()}"
        )
        return self.result(
            failing=failing,
            total=len(ctx.keys),
            unit=KEYS_IN_USE,
            explanation=explanation,
            evidence=[keys_in_use_link(), link("Bindings", "inventory:binding-list")],
            na_reason=ctx.no_keys_reason(),
        )
