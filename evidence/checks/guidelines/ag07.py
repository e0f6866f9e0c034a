"""AG-7: key metadata carries the purpose: the store's purpose tag names the recorded purpose (name or short name)."""

from __future__ import annotations

from evidence.checks.base import KEYS_IN_USE, Check, CheckContext, Outcome, key_subject, keys_in_use_link, link, plural
from evidence.models import Severity
from inventory.purposetags import expected_tag_values


class PurposeTagged(Check):
    guideline_id = "AG-7"
    title = "Key labels carry the purpose"
    rule = "ag-7-purpose-tag"
    severity = Severity.MEDIUM

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        untaggable = 0
        stores, purposes = ctx.stores, ctx.purposes
        for key in ctx.keys:
            if key.platform_managed:
                continue
            tag_key = stores[key.store_id].purpose_tag_key.strip()
            if not tag_key:
                untaggable += 1
                continue
            if key.purpose_id is None:
                failing.append(key_subject(key, "No recorded purpose for a tag to carry."))
                continue
            purpose = purposes[key.purpose_id]
            value = key.purpose_label
            if not value:
                failing.append(key_subject(key, f"No {tag_key} label (expected {tag_key}={purpose.slug})."))
            elif not ctx.purpose_tags.names(value, purpose):
                failing.append(
                    key_subject(key, f"Its {tag_key} label is {value}, expected {expected_tag_values(purpose)}.")
                )
        explanation = (
            "Every key in use (active or suspended) must carry its purpose in its labels: the label named by its store's purpose tag "
            f"key names the recorded purpose, by its name or its short name (either case; '-', '_' and spaces alike). Platform-managed keys ({ctx.platform_managed_count:,} here) "
            "are counted as passing (the platform does not let them be tagged)."
        )
        if untaggable:
            explanation += (
                f" {plural(untaggable, 'key is', 'keys are')} in stores without a purpose tag key and could not be "
                "verified, so this guideline is at best partial until those stores name one."
            )
        explanation += ctx.not_evaluated_note()
        return self.result(
            failing=failing,
            total=len(ctx.keys),
            unit=KEYS_IN_USE,
            explanation=explanation,
            evidence=[keys_in_use_link(), link("Key stores and their tag keys", "inventory:keystore-list")],
            unverified=bool(untaggable),
            na_reason=ctx.no_keys_reason(),
            details={"unverified": untaggable},
        )
