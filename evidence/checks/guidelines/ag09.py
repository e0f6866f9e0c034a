"""AG-9: logging captures purpose-related usage metadata and detects misuse, evidenced by the ingested usage logs.

The subjects are the keys in use (active or suspended, as every check counts them). A key passes when

- its store's usage logs are ingested: the store's newest usage aggregate is at most ``CEK_USAGE_FRESH_DAYS`` old
  (a store whose logs stopped arriving is no longer watched), and
- no usage misuse finding is open on it (``evidence.usage.misuse``: an operation outside its purpose, calls while
  unusable, a principal without grant or binding, an encryption context of another tenant or service; an ended
  risk acceptance counts as open, one in force does not). Dormancy is not misuse and does not fail a key.

Misuse rules run on every ingestion and daily, and each new finding is alerted (``evidence.alerts``): the
"alerting or remediation triggers" half of the guideline. Keys the logs name that the inventory lacks
(``usage-unknown-key``) are not keys of the inventory: they are counted in the explanation.

Without any usage log ingested the data cannot evidence the guideline: the result is **manual**, the newest manual
evidence GRC recorded for AG-9 (or how to ingest logs), never a pass of its own. Once logs are ingested the result
is computed; manual evidence (for stores whose platform writes no logs) is still shown in the explanation, as
manual evidence, and does not change the figures. Three queries whatever the number of keys or aggregates (the
stores' newest usage day, the keys with an open misuse finding, the unknown keys' open findings), plus the keys
every check shares.
"""

from __future__ import annotations

from cek.people import person_name
from evidence.checks.base import KEYS_IN_USE, Check, CheckContext, Outcome, day, key_subject, link, plural
from evidence.checks.guidelines.manual import manual_outcome

NAMED = 5  # stores named in the explanation


class UsageLogging(Check):
    guideline_id = "AG-9"
    title = "Usage logs capture purpose and detect misuse"
    accepts_manual_evidence = True
    missing_data = (
        "No key usage log is ingested yet: upload audit logs on the usage-log page, with `manage.py ingest_usage`, "
        "or from a pipeline with POST /api/v1/usage-ingestions/."
    )

    def evaluate(self, ctx: CheckContext) -> Outcome:
        from evidence.findings.rules import rule_title
        from evidence.usage.misuse import MISUSE_RULES
        from evidence.usage.selectors import usage_coverage

        coverage = usage_coverage(now=ctx.now, misuse_rules=MISUSE_RULES)
        if not coverage.newest_by_store:
            outcome = manual_outcome(
                self.guideline_id, self.missing_data, ctx, assessed="Until logs are ingested, AG-9 is assessed manually"
            )
            outcome.evidence = [*outcome.evidence, link("Usage logs", "evidence:usage-ingestion-list")]
            return outcome
        keys = ctx.keys  # in use: active or suspended
        stale = {sid for sid, day in coverage.newest_by_store.items() if day < coverage.fresh_since}
        failing, no_logs, stale_keys, misused = [], set(), 0, 0
        for key in keys:
            reasons = []
            if key.store_id not in coverage.newest_by_store:
                no_logs.add(key.store_id)
                reasons.append(f"no usage log of its store {ctx.stores[key.store_id].name} is ingested")
            elif key.store_id in stale:
                stale_keys += 1
                newest = coverage.newest_by_store[key.store_id]
                reasons.append(
                    f"the newest usage of its store is of {day(newest)}, older than {coverage.fresh_days} days"
                )
            rules = coverage.open_misuse.get(key.id)
            if rules:
                misused += 1
                reasons.append(f"open usage finding: {', '.join(sorted(rules))}")
            if reasons:
                failing.append(key_subject(key, "; ".join(reasons)))
        days = plural(coverage.fresh_days, "day")
        watched = len(coverage.newest_by_store) - len(stale & set(coverage.newest_by_store))
        parts = [
            f"{len(keys) - len(failing):,} of {plural(len(keys), 'key')} in use are in stores whose usage logs were "
            f"ingested within the last {days} and have no open misuse finding.",
            f"Stores with usage logs: {len(coverage.newest_by_store):,} ({watched:,} fresh).",
        ]
        if no_logs:
            names = sorted(ctx.stores[sid].name for sid in no_logs)
            more = len(names) - NAMED
            parts.append(
                f"Keys in stores without usage logs: "
                f"{sum(1 for key in keys if key.store_id in no_logs):,} "
                f"({', '.join(names[:NAMED])}{f' and {more:,} more' if more > 0 else ''})."
            )
        if stale_keys:
            parts.append(f"Keys in stores whose newest usage is older than {days}: {stale_keys:,}.")
        if misused:
            parts.append(f"Keys with an open misuse finding: {misused:,}.")
        if coverage.unknown_keys:
            parts.append(
                f"The logs also name {plural(coverage.unknown_keys, 'key')} the inventory does not have (open "
                "usage-unknown-key findings; inventory completeness, CCM-2)."
            )
        parts.append(
            "Misuse rules (an operation outside the key's purpose, calls to a deactivated, compromised or destroyed "
            "key, a principal without grant or binding, an encryption context of another tenant or service) run on "
            "every ingestion and daily; each new finding is e-mailed to GRC and the key's owners and sent to the "
            "configured webhooks."
        )
        evidence_note = ctx.manual_evidence.get(self.guideline_id)
        if evidence_note is not None:
            parts.append(
                f"Manual evidence (not counted in the figures), recorded by {person_name(evidence_note.created_by)} on "
                f"{day(evidence_note.created_at)} for what the logs do not show: {evidence_note.note}"
            )
        evidence = [link("Usage logs", "evidence:usage-ingestion-list")]
        evidence += [
            link(f"Open findings: {rule_title(rule)} ({count:,})", "evidence:finding-list", status="open", rule=rule)
            for rule, count in sorted(coverage.open_rules.items())
        ]
        return self.result(
            failing=failing,
            total=len(keys),
            unit=KEYS_IN_USE,
            explanation=" ".join(parts),
            evidence=evidence,
            details={"usage": coverage.as_dict()},
        )
