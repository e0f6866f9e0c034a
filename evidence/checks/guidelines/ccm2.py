"""CCM-2: the key inventory is complete: every store imported or confirmed recently, every key in use owned."""

from __future__ import annotations

import datetime as dt

from evidence.checks.base import (
    KEYS_IN_USE,
    Check,
    CheckContext,
    Outcome,
    Subject,
    day,
    key_subject,
    keys_in_use_link,
    link,
)
from evidence.models import Severity


class InventoryComplete(Check):
    guideline_id = "CCM-2"
    title = "The inventory identifies every key and its owner"
    rule = "ccm-2-inventory"
    severity = Severity.HIGH

    def evaluate(self, ctx: CheckContext) -> Outcome:
        oldest = ctx.now - dt.timedelta(days=ctx.inventory_fresh_days)
        failing = []
        for store in ctx.stores.values():
            moments = [m for m in (store.last_full_import_at, store.inventory_confirmed_at) if m is not None]
            if not moments:
                failing.append(
                    Subject("inventory.keystore", store.id, store.name, "Never fully imported nor confirmed complete.")
                )
            elif max(moments) < oldest:
                failing.append(
                    Subject(
                        "inventory.keystore",
                        store.id,
                        store.name,
                        f"Last fully imported or confirmed complete on {day(max(moments))}.",
                    )
                )
        for key in ctx.keys:
            reasons = []
            if key.owner_id is None and not key.platform_managed:
                reasons.append("No owner.")
            if key.not_seen_since is not None:
                reasons.append(f"No longer listed by its store since {day(key.not_seen_since)} but still {key.state}.")
            if reasons:
                failing.append(key_subject(key, " ".join(reasons)))
        stores_failing = sum(1 for s in failing if s.type == "inventory.keystore")
        explanation = (
            f"Every key store must have been fully imported or confirmed complete by GRC within the last "
            f"{ctx.inventory_fresh_days:,} days ({len(ctx.stores) - stores_failing:,} of "
            f"{len(ctx.stores):,} are), and every key in use (active or suspended) needs an owner and must still be listed by its store. "
            f"Platform-managed keys ({ctx.platform_managed_count:,} here) are counted but need no owner."
            f"{ctx.not_evaluated_note()}"
        )
        return self.result(
            failing=failing,
            total=len(ctx.stores) + len(ctx.keys),
            unit=f"key stores and {KEYS_IN_USE}",
            explanation=explanation,
            evidence=[
                link("Key stores", "inventory:keystore-list"),
                keys_in_use_link("Keys in use no longer listed by their store", not_seen="true"),
                link("Imports", "inventory:import-list"),
            ],
            na_reason="No key store and no key is recorded, so there is nothing to evaluate.",
        )
