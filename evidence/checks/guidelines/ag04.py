"""AG-4: grants and bindings restrict a key's operations to what its purpose allows."""

from __future__ import annotations

from evidence.checks.base import Check, CheckContext, Outcome, Subject, link
from evidence.models import Severity


class OperationsRestricted(Check):
    guideline_id = "AG-4"
    title = "Usage is restricted to the purpose's operations"
    rule = "ag-4-operations"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        keys, purposes, services = ctx.keys_by_id, ctx.purposes, ctx.services
        allowed_cache = {pk: frozenset(p.allowed_operations) for pk, p in purposes.items()}
        for binding in ctx.bindings_outside_purpose:  # those listing operations, some outside the purpose
            key = keys[binding.key_id]
            purpose_id = key.purpose_id or binding.purpose_id
            extra = binding.operations - allowed_cache[purpose_id]
            if extra:
                label = f"{services[binding.service_id].name} uses {key.name}"
                reason = f"Operations {', '.join(sorted(extra))} are not allowed for the purpose {purposes[purpose_id].slug}."
                failing.append(Subject("inventory.binding", binding.id, label, reason))
        grants = 0  # on keys in use
        for grant in ctx.grants:
            key = keys.get(grant.key_id)
            if key is None:
                continue
            grants += 1
            label = f"{grant.principal} on {key.name}"
            if key.purpose_id is None:
                failing.append(
                    Subject("inventory.accessgrant", grant.id, label, "The key has no purpose to restrict it to.")
                )
                continue
            extra = sorted(set(grant.operations) - allowed_cache[key.purpose_id])
            if extra:
                reason = f"Grants {', '.join(extra)}, not allowed for the purpose {purposes[key.purpose_id].slug}."
                failing.append(Subject("inventory.accessgrant", grant.id, label, reason))
        total = ctx.binding_count + grants
        explanation = (
            "Every access grant and every binding that lists operations may only list operations the purpose of "
            "the key allows (the binding's purpose for a key without one); a grant on a key without a purpose "
            "fails. Bindings that list no operations restrict nothing further and pass."
        )
        return self.result(
            failing=failing,
            total=total,
            unit="grants and bindings",
            explanation=explanation,
            evidence=[link("Access grants", "inventory:grant-list"), link("Bindings", "inventory:binding-list")],
            na_reason="No grant or binding of a key in use is recorded, so there is nothing to evaluate.",
        )
