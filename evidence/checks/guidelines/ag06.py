"""AG-6: keys of AI services are provisioned for a distinct function and not shared across services or tenants."""

from __future__ import annotations

from evidence.checks.base import Check, CheckContext, Outcome, key_subject, keys_in_use_link, link
from evidence.models import Severity


class AiKeysNotShared(Check):
    guideline_id = "AG-6"
    title = "AI keys are not shared across services or tenants"
    rule = "ag-6-ai-isolation"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        failing = []
        total = 0
        purposes, services = ctx.purposes, ctx.services
        ai_bound, shared = ctx.ai_bound_key_ids, ctx.shared_keys
        for key in ctx.keys:
            ai_purpose = key.purpose_id is not None and purposes[key.purpose_id].is_ai_specific
            if not ai_purpose and key.id not in ai_bound:
                continue
            total += 1
            if key.id not in shared:
                continue
            service_ids, binding_tenants = shared[key.id]
            tenant_ids = set(binding_tenants)
            if key.tenant_id is not None:
                tenant_ids.add(key.tenant_id)
            reasons = []
            if len(service_ids) > 1:
                names = sorted(services[pk].slug for pk in service_ids)
                reasons.append(
                    f"Shared by {len(names)} services ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})."
                )
            if len(tenant_ids) > 1:
                reasons.append(f"Shared by {len(tenant_ids)} tenants.")
            if reasons:
                failing.append(key_subject(key, " ".join(reasons)))
        explanation = (
            "AI keys are keys in use (active or suspended) with an AI-specific purpose or bound to a service in the AI lifecycle (a "
            "lifecycle phase set, or the SSRM model layer). Each must be used by one service and one tenant at "
            f"most (bindings' tenants and the key's own tenant).{ctx.not_evaluated_note()}"
        )
        return self.result(
            failing=failing,
            total=total,
            unit="AI keys",
            explanation=explanation,
            evidence=[
                keys_in_use_link("Keys in use with an AI-specific purpose", ai="true"),
                link("Services", "inventory:service-list"),
            ],
            na_reason=(
                ctx.no_keys_reason()
                if not ctx.keys
                else "No key in use has an AI-specific purpose or is bound to an AI service."
            ),
        )
