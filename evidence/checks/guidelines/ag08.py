"""AG-8: infrastructure-as-code enforces purpose separation, evidenced by the recorded scans of the IaC gate.

The unit is the repository: a recorded scan names its repository, not the stores of the keys it matched (a scan
keeps how many keys it matched to the inventory, not which), so a store cannot be said to be covered. Every
repository with a recorded scan is a subject; it passes when

- its newest recorded scan passed (no violation of the gate's ``iac-*`` rules),
- that scan is at most ``CEK_IAC_FRESH_DAYS`` old, and
- no IaC finding of the repository is open (an acceptance that has ended counts as open; a risk acceptance still
  in force does not fail the repository by itself, but cannot make a failing newest scan pass).

The status follows the one status rule (``evidence.checks.base``). Without any recorded scan the data cannot
evidence the guideline: the result is **manual**, showing the newest manual evidence GRC recorded for AG-8 (as the
manual guidelines do) or saying how to record a scan; it never claims a pass. Once a scan is recorded the manual
evidence no longer counts. The ``iac-*`` findings belong to the gate (``check_iac --record`` opens and resolves
them): this check owns no rule, so check runs leave them alone.
"""

from __future__ import annotations

from evidence.checks.base import Check, CheckContext, Outcome, Subject, link, plural
from evidence.checks.guidelines.manual import manual_outcome

NAMED = 5  # repositories named in the explanation; the rest are counted


class IacEnforcement(Check):
    guideline_id = "AG-8"
    title = "IaC and deployment templates enforce purpose separation"
    accepts_manual_evidence = True
    missing_data = (
        "No infrastructure-as-code scan is recorded yet: record one with `manage.py check_iac PLAN_OR_DIR --record "
        "--user USERNAME --repository NAME --commit SHA`, or from CI with POST /api/v1/iac-scans/."
    )

    def evaluate(self, ctx: CheckContext) -> Outcome:
        coverage = ctx.iac_coverage
        if not coverage.scanned:
            # The manual guidelines' result: the newest manual evidence, or none recorded. Never a pass of its own.
            outcome = manual_outcome(
                self.guideline_id, self.missing_data, ctx, assessed="Until one is, AG-8 is assessed manually"
            )
            outcome.evidence = [*outcome.evidence, link("IaC scans", "evidence:iacscan-list")]
            outcome.details = {**outcome.details, "iac": coverage.as_dict()}
            return outcome
        failing = [
            Subject("evidence.iacscan", repo.scan_id, repo.repository, _sentence("; ".join(reasons)))
            for repo, reasons in coverage.not_covered
        ]
        days = plural(coverage.fresh_days, "day")
        parts = [
            f"{len(coverage.covered):,} of {plural(coverage.scanned, 'repository', 'repositories')} with a recorded "
            f"IaC scan passed the purpose-separation gate within the last {days} and have no open IaC finding."
        ]
        if coverage.failing:
            parts.append(f"Newest scan reports violations: {plural(coverage.failing, 'repository', 'repositories')}.")
        if coverage.stale:
            parts.append(f"Newest scan older than {days}: {plural(coverage.stale, 'repository', 'repositories')}.")
        if coverage.with_open_findings:
            parts.append(f"Open IaC findings: {plural(coverage.with_open_findings, 'repository', 'repositories')}.")
        if failing:
            names = [subject.label for subject in failing[:NAMED]]
            more = len(failing) - len(names)
            parts.append(f"Not covered: {', '.join(names)}{f' and {more:,} more' if more else ''}.")
        parts.append(
            "A repository counts when its newest recorded scan passed, is at most "
            f"{days} old and none of its IaC findings is open (an ended risk acceptance counts "
            "as open; one in force does not fail the repository, but a failing newest scan always does). The unit "
            "is the repository: a scan records how many keys it matched to the inventory, not which, so key "
            "stores are not counted. Manual evidence for AG-8 no longer counts once a scan is recorded."
        )
        evidence = [link("IaC scans: each repository's last scan", "evidence:iacscan-list")]
        if coverage.failing:
            evidence.append(link("Repositories whose newest scan failed", "evidence:iacscan-list", verdict="fail"))
        evidence += [
            link(f"Scans of {subject.label}", "evidence:iacscan-repository", subject.label)
            for subject in failing[:NAMED]
        ]
        return self.result(
            failing=failing,
            total=coverage.scanned,
            unit="repositories",
            explanation=" ".join(parts),
            evidence=evidence,
            details={"iac": coverage.as_dict()},
        )


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."
